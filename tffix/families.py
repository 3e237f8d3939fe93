"""The TensorFlow failures tffix knows: how each is recognised in a traceback, what it means, and which rules
can cause it (the messages recorded in docs/tensorflow-behaviour.md).

Knowledge about rules kept outside them for now: each family's codes, title and explanation belong with the
rules that explain the failure, and will move there (issue 14, item 3).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .tracebacks import Failure, RaisedError


@dataclass(frozen=True)
class Family:
    """A kind of TensorFlow failure: how to recognise it, what it means, which rules can cause it."""

    key: str
    title: str
    explanation: str
    codes: tuple[str, ...]
    pattern: re.Pattern
    exception: str | None = None  # the bare exception class the failure must have, when the text alone is vague
    frame_hint: re.Pattern | None = None  # must match a frame's path or function (e.g. TPU code in the stack)

    def matches(self, error: RaisedError, failure: Failure) -> bool:
        if self.exception is not None and error.name != self.exception:
            return False
        if not self.pattern.search(error.message):
            return False
        if self.frame_hint is None:
            return True
        return any(self.frame_hint.search(f"{frame.path} {frame.function or ''}") for frame in failure.frames())


def _family(key: str, title: str, explanation: str, codes: Sequence[str], pattern: str, **extra) -> Family:
    hint = extra.pop("frame_hint", None)
    return Family(
        key, title, " ".join(explanation.split()), tuple(codes), re.compile(pattern),
        frame_hint=re.compile(hint) if hint else None, **extra,
    )


# Most specific first: the first family that matches names the failure.
FAMILIES: tuple[Family, ...] = (
    _family(
        "cannot-assign-device", "An op is pinned to a device this machine does not have",
        """The program pins operations to a device with `tf.device(...)` (a GPU or TPU) that this machine
        does not have, and soft placement is off, so TensorFlow refuses to run them on a device it does have.
        In TF1 graph mode a plain `tf.Session()` has soft placement off; a session config with
        `allow_soft_placement=True`, or `tf.config.set_soft_device_placement(True)`, lets TensorFlow fall back
        to the CPU.""",
        ("TFX101", "TFX102", "TFX203"), r"Cannot assign a device for operation",
    ),
    _family(
        "device-specification", "Soft device placement is off and the requested device does not exist",
        """An op asks for a device (a GPU or TPU) that this machine does not have, and soft device placement
        was switched off (`tf.config.set_soft_device_placement(False)`, or a session config with
        `allow_soft_placement=False`), so TensorFlow does not fall back to a device it has.""",
        ("TFX102", "TFX101", "TFX203"),
        r"Could not satisfy (?:explicit )?device specification|Unable to find any devices for spec",
    ),
    _family(
        "target-output-shape", "The loss got targets and model outputs of different shapes",
        """A Keras loss compares each model output with a target of the same shape. Most often a binary
        classifier's last layer has 2 units (`Dense(2)`) while its labels have one column: a binary head
        trained with a binary cross-entropy has 1 unit; or one-hot targets were made with a `tf.one_hot` depth
        other than the number of classes the model outputs.""",
        ("TFX301", "TFX307", "TFX302"), r"Arguments `?target`? and `?output`? must have the same (?:shape|rank)",
    ),
    _family(
        "logits-labels-shape", "Logits and labels have different shapes",
        """A sigmoid cross-entropy got logits and labels of different shapes. Unlike Keras losses, the raw
        `tf.nn` ops do not align ranks: labels of shape (batch,) against logits of shape (batch, 1) fail, as
        do (batch, 1) labels against a 2-unit head's (batch, 2) logits.""",
        ("TFX302", "TFX301"), r"`?logits`? and `?labels`? must have the same shape",
    ),
    _family(
        "sparse-labels-rank", "Sparse labels have the logits' rank",
        """A sparse cross-entropy takes one class index per example: labels of shape (batch,) for logits of
        shape (batch, classes). Labels of shape (batch, 1) have one dimension too many for the raw `tf.nn` op.""",
        ("TFX302",), r"`?labels.shape.rank`? must equal `?logits.shape.rank - 1`?",
    ),
    _family(
        "logits-labels-broadcastable", "One-hot labels and logits have different numbers of classes",
        """A softmax cross-entropy got labels and logits whose class dimensions differ: the depth given to
        `tf.one_hot` must be the number of classes the model outputs.""",
        ("TFX307", "TFX302", "TFX301"), r"logits and labels must be broadcastable",
    ),
    _family(
        "matmul-inner-dimensions", "A matrix product's inner dimensions differ",
        """`tf.matmul(a, b)` needs the last dimension of `a` to equal the first (non-batch) dimension of `b`;
        here they differ. A weight matrix built with its dimensions swapped, or an input that is not the
        width the layer expects, are the usual causes.""",
        ("TFX305",),
        r"Matrix size-incompatible|Dimensions must be equal, but are \d+ and \d+ for '[^']*= (?:Batch)?MatMul",
    ),
    _family(
        "dtype-mismatch", "An operation mixes integer and float tensors",
        """An operation got an integer tensor and a float tensor. TensorFlow never converts dtypes between
        operands: cast one of them (usually the integer one, to the float dtype) first.""",
        ("TFX303",),
        r"was expected to be a \w+ tensor but is a \w+ tensor|has type \w+ that does not match type \w+"
        r"|Tensor conversion requested dtype \w+ for Tensor with dtype \w+|must have the same dtype, got",
    ),
    _family(
        "sparse-label-out-of-range", "A sparse label is not a valid class index",
        """Sparse categorical labels must be class indices in [0, number of classes), where the number of
        classes is the width of the model's last layer; a label at or above it (or below 0) is rejected.""",
        ("TFX306",), r"Received a label value of -?\d+ which is outside the valid range",
    ),
    _family(
        "colab-tpu-addr", "The COLAB_TPU_ADDR environment variable is not set",
        """The code reads `os.environ['COLAB_TPU_ADDR']`, which only Colab's old TPU runtime set; anywhere
        else (including current Colab TPU VMs) it is missing. `TPUClusterResolver()` finds a TPU by itself
        where there is one.""",
        ("TFX202",), r"COLAB_TPU_ADDR", exception="KeyError",
    ),
    _family(
        "tpu-no-name", "No TPU was found to connect to",
        """`TPUClusterResolver()` was given no TPU name and found none: this machine has no TPU. Code that
        should also run without one falls back to the default strategy when the resolver fails.""",
        ("TFX202", "TFX201"), r"Please provide a TPU Name",
    ),
    _family(
        "tpu-strategy-before-init", "TPUStrategy was created before the TPU system was initialised",
        """`TPUStrategy` was created before `tf.config.experimental_connect_to_cluster(resolver)` and
        `tf.tpu.experimental.initialize_tpu_system(resolver)`, so it saw no TPU devices.""",
        ("TFX201",), r"index 0 is out of bounds", frame_hint=r"tpu",
    ),
    _family(
        "tpu-not-found", "There is no TPU on this machine",
        """Initialising the TPU system failed because there is no TPU here. Code that should also run
        without a TPU catches the failure and falls back to the default strategy.""",
        ("TFX201", "TFX202"), r"TPUs not found in the cluster",
    ),
    _family(
        "get-variable-without-initializer", "tf.get_variable looked up a variable that tf.Variable made",
        """`tf.get_variable(name)` looks names up in TF1's variable store, but variables made with
        `tf.Variable` never enter it. So `get_variable` tries to create a new variable of that name and has no
        shape or initializer to create it with.""",
        ("TFX502", "TFX501"), r"did not get an initializer",
    ),
    _family(
        "variable-store-reuse", "TF1's variable store refused a tf.get_variable call",
        """`tf.get_variable` serves a name from TF1's variable store only as the enclosing `variable_scope`
        allows: without `reuse` an existing name is refused ("already exists"); with `reuse=True` a missing
        one is ("does not exist"), and variables made with `tf.Variable` never enter the store at all.""",
        ("TFX502", "TFX501"),
        r"Variable \S+ already exists, disallowed|Variable \S+ does not exist, or was not created with tf.get_variable",
    ),
    _family(
        "no-gradients", "Every gradient is None",
        """The optimizer got no gradient at all: nothing connects the loss to the variables through
        operations the tape recorded. Usual causes: the loss is computed after the `with tf.GradientTape()`
        block, a constant was never `tape.watch`ed, or the value went through NumPy or an integer cast,
        which cut the gradient.""",
        ("TFX401", "TFX402", "TFX403", "TFX304"), r"No gradients provided for any variable",
    ),
    _family(
        "gradient-of-numpy-value", "The gradient's target is a NumPy value, not a tensor",
        """`tape.gradient(target, ...)` got a NumPy value: the computation left TensorFlow (`.numpy()`,
        NumPy functions or Python floats) inside the tape, so the tape has no record of how the target
        depends on the variables. Keep the whole computation in TensorFlow ops.""",
        ("TFX403", "TFX401", "TFX402"), r"'numpy\.\w+' object has no attribute '_id'",
        frame_hint=r"backprop|imperative_grad|gradient",
    ),
    _family(
        "none-gradient-used", "A None value (a missing gradient?) was used as a tensor",
        """A value that should be a tensor is None. When it comes from `tape.gradient(...)`, the gradient is None
        because nothing connects the target to the source through operations the tape recorded: the target
        was computed after the `with tf.GradientTape()` block, the source is a constant that was never
        `tape.watch`ed, or the value went through NumPy or an integer cast.""",
        ("TFX401", "TFX402", "TFX403", "TFX304"),
        r"Attempt to convert a value \(None\) with an unsupported type|unsupported operand type\(s\) for .*'NoneType'",
    ),
    _family(
        "keras3-removed-api", "A Keras 2 API that Keras 3 no longer has",
        """TensorFlow 2.16 and later use Keras 3, which dropped `tf.compat.v1.layers` and other Keras 2 APIs.
        Install `tf-keras` and set `TF_USE_LEGACY_KERAS=1`, or port the code to `tf.keras.layers`.""",
        (), r"is not available with Keras 3",
    ),
    _family(
        "dimensions-must-be-equal", "Two tensors' dimensions do not match",
        """An operation needs two tensors whose dimensions match (or broadcast), and they do not: a label or
        target of the wrong rank or width, or a layer of the wrong size.""",
        ("TFX302", "TFX301", "TFX305"),
        r"Dimensions must be equal, but are \d+ and \d+|Incompatible shapes: \[|Shapes \([^)]*\) and \([^)]*\) are incompatible",
    ),
)


def recognise(failures: Sequence[Failure]) -> tuple[Failure, RaisedError, Family] | None:
    """The latest failure tffix knows, with the exception in its chain that names it."""
    for failure in reversed(failures):
        for error in reversed(failure.errors):
            for family in FAMILIES:
                if family.matches(error, failure):
                    return failure, error, family
    return None
