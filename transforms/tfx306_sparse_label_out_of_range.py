"""TFX306: sparse class-id labels with a literal value outside [0, number of classes).

## What it does

Reports literal sparse labels with a value outside [0, number of classes). The number of classes is the last
dimension of the logits, known statically (a `Dense(k)` head, a literal constructor, a placeholder or
variable shape); the labels are literal (`[1, 2, 3]`, `tf.constant([...])`, `np.array([...])`, or a name
bound to one). A value equal to the loss's literal `ignore_class` is allowed.

## Why is this bad?

A sparse cross-entropy takes one class index per example, in [0, number of classes): any other label makes
the loss raise.

## Measured TensorFlow behaviour

Measured with tensorflow-cpu 2.21 / Keras 3 (docs/tensorflow-behaviour.md, probes losses_shapes.py sparse_oob and
sparse_oob_nn): a label of 4 (or 3, or -1) for logits with 3 classes raises `InvalidArgumentError: Received a
label value of 4 which is outside the valid range of [0, 3)` from

- `keras.losses.SparseCategoricalCrossentropy(...)(labels, logits)` and the function
  `keras.losses.sparse_categorical_crossentropy`, with logits or with probabilities;
- `tf.nn.sparse_softmax_cross_entropy_with_logits` eagerly, and from `Session.run` in a TF1 graph;
- `model.fit` of a model compiled with `loss="sparse_categorical_crossentropy"` ("Graph execution error").

## Fix safety

Report-only: whether the labels are one-based, the model has a class too few, or the data is wrong is a
decision about the data; the message names the values, the valid range and both ways out.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from tffix.ast_facts import Facts, argument as ast_argument
from tffix.names import leaves
from tffix.rule import FailureKind, Fix, Invalid, Rule, Severity, Valid, argument, literal_int

from ._ast_values import LiteralInts as _LiteralInts, LossObjects as _LossObjects
from ._dtypes import LossFamily, describe, literal_ints, loss_object, model_output
from ._shapes import StaticValues
from ._values import Static

# The failures this rule is the main cause of, as `tffix explain` recognises them (other rules that can cause
# them list these objects too).
SPARSE_LABEL_OUT_OF_RANGE = FailureKind(
    "sparse-label-out-of-range", "A sparse label is not a valid class index",
    """Sparse categorical labels must be class indices in [0, number of classes), where the number of
    classes is the width of the model's last layer; a label at or above it (or below 0) is rejected.""",
    r"Received a label value of -?\d+ which is outside the valid range",
)

SPARSE_CE = LossFamily(
    strings=("sparse_categorical_crossentropy",),
    classes=("keras.losses.SparseCategoricalCrossentropy",),
    functions=(
        "keras.losses.sparse_categorical_crossentropy",
        "keras.metrics.sparse_categorical_crossentropy",
        "keras.backend.sparse_categorical_crossentropy",
    ),
)
RAW_OPS = ("tf.nn.sparse_softmax_cross_entropy_with_logits", "tf.losses.sparse_softmax_cross_entropy")


class SparseLabelOutOfRange(Rule):
    """Literal class ids at or above the logits' number of classes (or negative) given to a sparse
    cross-entropy: TensorFlow raises 'Received a label value of N which is outside the valid range'.
    Reported without a fix: the labels or the model's class count must change, and only the author knows which.
    """

    code = "TFX306"
    name = "sparse-label-out-of-range"
    summary = "Sparse labels outside [0, classes) make the sparse cross-entropy raise"
    explains = (SPARSE_LABEL_OUT_OF_RANGE,)
    fix = Fix.none()
    severity = Severity.ERROR
    # The loss: called, or compiled in (`compile(loss="sparse_categorical_crossentropy")` references it).
    anchors = leaves(*RAW_OPS, *SPARSE_CE.strings, *SPARSE_CE.classes, *SPARSE_CE.functions)
    local = True  # its findings are the union of its parts' (see Rule.local)

    VALID = (
        Valid(
            "import tensorflow as tf\n"
            "loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)(tf.constant([0, 2]), tf.zeros((2, 3)))\n"
        ),
        Valid(  # the padding id is ignored by the loss
            "import tensorflow as tf\n"
            "loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)\n"
            "loss = loss_fn([0, -1, 2], tf.zeros((3, 3)))\n"
        ),
        Valid(  # the number of classes is not known here
            "import tensorflow as tf\n"
            "def step(logits):\n"
            "    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0, 5], logits=logits)\n"
        ),
    )
    INVALID = (
        Invalid(
            "import numpy as np\n"
            "import tensorflow as tf\n"
            "labels = np.array([1, 2, 3])\n"
            "logits = tf.random.normal((3, 3))\n"
            "loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)\n",
            None,
        ),
        Invalid(
            "import tensorflow as tf\n"
            "logits = tf.keras.layers.Dense(3)(tf.zeros((2, 4)))\n"
            "loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant([0, 4]), logits=logits)\n",
            None,
        ),
        Invalid(
            "import numpy as np\n"
            "from tensorflow import keras\n"
            "model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation='softmax')])\n"
            "model.compile(optimizer='sgd', loss='sparse_categorical_crossentropy')\n"
            "model.fit(np.zeros((4, 4)), np.array([0, 1, 2, 3]))\n",
            None,
        ),
    )

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """A finding needs labels written as literal integer data (`literal_ints`: a list of int literals, such
        a list in `tf.constant`/`np.array`, or a name or attribute bound to one) given to a sparse loss: the
        raw ops, the loss functions, a call of a loss object (a constructor called, or a name or attribute that
        may hold one) or `fit`/`train_on_batch`."""
        labels = [ast_argument(c, "labels", 0) for c in facts.calls_of(*RAW_OPS)]
        labels += [ast_argument(c, "y_true", 0) for c in facts.calls_of(*SPARSE_CE.functions)]
        labels += [ast_argument(c, "y", 1) for c in facts.method_calls("fit", "train_on_batch")]
        objects = _LossObjects(facts, SPARSE_CE.classes)
        labels += [ast_argument(c, "y_true", 0) for c in objects.calls()]
        literal = _LiteralInts(facts)
        return any(label is not None and literal.maybe(label) for label in labels)

    def __init__(self, context) -> None:
        super().__init__(context)
        self.values = StaticValues(self)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        named = isinstance(func, (cst.Name, cst.Attribute))
        if named and self.is_api(func, *RAW_OPS):
            self._check(node, argument(node, "labels", 0), self.values.of(_value(argument(node, "logits", 1))), None)
        elif SPARSE_CE.is_function(self.values, func):
            self._check(node, argument(node, "y_true", 0), self.values.of(_value(argument(node, "y_pred", 1))),
                        _ignored(argument(node, "ignore_class")))
        elif (constructor := loss_object(self.values, func, SPARSE_CE.classes)) is not None:
            self._check(node, argument(node, "y_true", 0), self.values.of(_value(argument(node, "y_pred", 1))),
                        _ignored(argument(constructor, "ignore_class")))
        elif m.matches(func, m.Attribute(attr=m.Name("fit") | m.Name("train_on_batch"))):
            self._fit(node, func.value)  # type: ignore[union-attr]

    def _fit(self, node: cst.Call, model: cst.BaseExpression) -> None:
        compiled, constructor = SPARSE_CE.compiled(self.values, model)
        if compiled:
            ignored = _ignored(argument(constructor, "ignore_class")) if constructor is not None else None
            self._check(node, argument(node, "y", 1), model_output(self.values, model), ignored, compiled=True)

    def _check(
        self, node: cst.Call, labels: cst.Arg | None, logits: Static | None, ignored: int | None,
        compiled: bool = False,
    ) -> None:
        if labels is None or logits is None or logits.shape is None:
            return
        classes = logits.shape.last_dim
        values = literal_ints(self.values, labels.value)
        if classes is None or not values:
            return
        outside = sorted({v for v in values if not 0 <= v < classes and v != ignored})
        if not outside:
            return
        first = next(v for v in values if v in outside)  # the one TensorFlow names: the first in the data
        shown = ", ".join(map(str, outside[:5])) + (", ..." if len(outside) > 5 else "")
        source = "the compiled model's output has" if compiled else "the logits have"
        if min(values) >= 1 and max(values) == classes:
            advice = f"the ids look one-based: subtract 1 to make them 0..{classes - 1}"
        elif outside[0] < 0:
            advice = "drop the negative ids (a Keras sparse loss skips one id given as `ignore_class=`)"
        else:
            advice = f"make the labels class ids below {classes}, or give the model {max(outside) + 1} outputs"
        self.report(
            node,
            f"label value{'s' if len(outside) > 1 else ''} {shown} in `{describe(labels.value)}` "
            f"{'are' if len(outside) > 1 else 'is'} outside [0, {classes}): {source} {classes} classes, so "
            f"TensorFlow raises 'Received a label value of {first} which is outside the valid range of "
            f"[0, {classes})'; {advice}",
        )


def _value(arg: cst.Arg | None) -> cst.BaseExpression | None:
    return arg.value if arg is not None else None


def _ignored(arg: cst.Arg | None) -> int | None:
    return literal_int(arg.value) if arg is not None else None
