"""TFX302: targets whose shape differs from the logits' in a raw `tf.nn` cross-entropy op, which raises.

## What it does

Reports labels whose static shape differs from the logits' in `tf.nn.sigmoid_cross_entropy_with_logits`,
`weighted_cross_entropy_with_logits`, `sparse_softmax_cross_entropy_with_logits` and
`softmax_cross_entropy_with_logits`.

The check is on static shapes only: in a TF1 graph where a rank is statically unknown (a placeholder without
a shape, fed (4, 3), through `tf.matmul(x, w)` with w (3, 1)), labels (4,) and logits (4, 1) broadcast into a
(4, 4) loss without an error (measured), so where the inference knows only the logits' last dimension the
finding says so, and it offers no fix: the logits' rank decides the layout.

Keras losses (`BinaryCrossentropy`, `MeanSquaredError`) with targets (32,) and outputs (32, 1) run: Keras
aligns the ranks, so they are not this rule's business.

## Why is this bad?

The raw ops do not align ranks as Keras losses do: labels laid out unlike the logits make the op raise.

## Measured TensorFlow behaviour

Measured with tensorflow-cpu 2.21 (docs/tensorflow-behaviour.md, probes losses_shapes.py raw_sce and
dtype_cases.py softmax_ce_shape):

- `tf.nn.sigmoid_cross_entropy_with_logits(labels=(32,), logits=(32, 1))` (and `weighted_cross_entropy_with_logits`)
  raise `ValueError: logits and labels must have the same shape, received ((32, 1) vs (32,))`; so do
  labels (32, 1) against logits (32,);
- `tf.nn.sparse_softmax_cross_entropy_with_logits(labels=(4, 1), logits=(4, 3))` raises `ValueError:
  labels.shape.rank must equal logits.shape.rank - 1`;
- `tf.nn.softmax_cross_entropy_with_logits(labels=(4, 3), logits=(4, 4))` raises `InvalidArgumentError: logits
  and labels must be broadcastable`.

## Fix safety

The fix, when the shapes hold the same values laid out differently (they differ only by dimensions of size 1),
reshapes the labels to the logits' layout: `tf.reshape(labels, [-1, 1])` (or `[-1]`, the batch dimension left
to TensorFlow so any batch size works; `tf.shape(logits)` when more than one dimension is unknown), and for
the sparse op `tf.squeeze(labels, axis=-1)`. It is safe: the same numbers reach the op in the layout it requires,
so the loss is the one the code meant. A class-count mismatch (one-hot depth 3 against 4 logits) cannot be
reshaped away: which side is wrong is a modelling decision, so it is reported without a fix.
"""

from __future__ import annotations

import ast

import libcst as cst
import libcst.matchers as m

from tffix.ast_facts import Facts, argument as ast_argument
from tffix.names import leaves
from tffix.rule import FailureKind, Fix, Invalid, Rewrite, Rule, Severity, Valid, argument

from ._ast_values import Shaped
from ._shapes import StaticValues
from ._values import Shape, Static, broadcast

# The failures this rule is the main cause of, as `tffix explain` recognises them (other rules that can cause
# them list these objects too).
LOGITS_LABELS_SHAPE = FailureKind(
    "logits-labels-shape", "Logits and labels have different shapes",
    """A sigmoid cross-entropy got logits and labels of different shapes. Unlike Keras losses, the raw
    `tf.nn` ops do not align ranks: labels of shape (batch,) against logits of shape (batch, 1) fail, as
    do (batch, 1) labels against a 2-unit head's (batch, 2) logits.""",
    r"`?logits`? and `?labels`? must have the same shape",
)

SPARSE_LABELS_RANK = FailureKind(
    "sparse-labels-rank", "Sparse labels have the logits' rank",
    """A sparse cross-entropy takes one class index per example: labels of shape (batch,) for logits of
    shape (batch, classes). Labels of shape (batch, 1) have one dimension too many for the raw `tf.nn` op.""",
    r"`?labels.shape.rank`? must equal `?logits.shape.rank - 1`?",
)

DIMENSIONS_MUST_BE_EQUAL = FailureKind(
    "dimensions-must-be-equal", "Two tensors' dimensions do not match",
    """An operation needs two tensors whose dimensions match (or broadcast), and they do not: a label or
    target of the wrong rank or width, or a layer of the wrong size.""",
    r"Dimensions must be equal, but are \d+ and \d+|Incompatible shapes: \[|Shapes \([^)]*\) and \([^)]*\) are incompatible",
    fallback=True,
)

# Failures other rules are the main cause of, imported after this module's own (those modules import them).
from .tfx301_binary_head_with_two_units import TARGET_OUTPUT_SHAPE  # noqa: E402
from .tfx307_one_hot_depth_too_small import LOGITS_LABELS_BROADCASTABLE  # noqa: E402

SAME_SHAPE_OPS = ("tf.nn.sigmoid_cross_entropy_with_logits", "tf.nn.weighted_cross_entropy_with_logits")
SPARSE_OPS = ("tf.nn.sparse_softmax_cross_entropy_with_logits",)
SOFTMAX_OPS = ("tf.nn.softmax_cross_entropy_with_logits", "tf.nn.softmax_cross_entropy_with_logits_v2")


class TargetRankMismatch(Rule):
    """Labels and logits of a raw `tf.nn` cross-entropy op have shapes the op rejects.

    The sigmoid ops need equal shapes, the sparse softmax op labels of one rank less than the logits, and the
    softmax op broadcastable shapes. When only size-1 dimensions differ, the fix reshapes the labels.
    """

    code = "TFX302"
    name = "target-rank-mismatch"
    summary = "Labels shaped unlike the logits make a raw tf.nn cross-entropy op raise"
    explains = (TARGET_OUTPUT_SHAPE, LOGITS_LABELS_SHAPE, SPARSE_LABELS_RANK, LOGITS_LABELS_BROADCASTABLE, DIMENSIONS_MUST_BE_EQUAL)
    fix = Fix.sometimes("safe")
    severity = Severity.ERROR
    triggers = ("cross_entropy_with_logits",)
    # It reports at the op.
    anchors = leaves(*SAME_SHAPE_OPS, *SPARSE_OPS, *SOFTMAX_OPS)
    local = True  # its findings are the union of its parts' (see Rule.local)

    VALID = (
        Valid(  # Keras aligns (32,) targets with (32, 1) outputs
            "import tensorflow as tf\n"
            "out = tf.keras.layers.Dense(1)(tf.zeros((32, 4)))\n"
            "loss = tf.keras.losses.BinaryCrossentropy(from_logits=True)(tf.ones((32,)), out)\n"
        ),
        Valid(
            "import tensorflow as tf\n"
            "logits = tf.keras.layers.Dense(1)(tf.zeros((32, 4)))\n"
            "loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones((32, 1)), logits=logits)\n"
        ),
        Valid(  # shapes not known statically: no claim
            "import tensorflow as tf\n"
            "def loss(y, logits):\n"
            "    return tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits)\n"
        ),
    )
    INVALID = (
        Invalid(
            "import tensorflow as tf\n"
            "logits = tf.keras.layers.Dense(1)(tf.zeros((32, 4)))\n"
            "loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones((32,)), logits=logits)\n",
            "import tensorflow as tf\n"
            "logits = tf.keras.layers.Dense(1)(tf.zeros((32, 4)))\n"
            "loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.reshape(tf.ones((32,)), [-1, 1]), logits=logits)\n",
        ),
        Invalid(
            "import numpy as np\n"
            "import tensorflow as tf\n"
            "y = np.random.randint(0, 3, size=(8, 1))\n"
            "loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=tf.zeros((8, 3)))\n",
            "import numpy as np\n"
            "import tensorflow as tf\n"
            "y = np.random.randint(0, 3, size=(8, 1))\n"
            "loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.squeeze(y, axis=-1), logits=tf.zeros((8, 3)))\n",
        ),
        Invalid(
            "import tensorflow as tf\n"
            "loss = tf.nn.softmax_cross_entropy_with_logits(labels=tf.one_hot([0, 1, 2, 1], 3), logits=tf.zeros((4, 4)))\n",
            None,
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.values = StaticValues(self)

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """A finding is a call of one of the ops whose labels and logits (`_operands`) may both have a static shape."""
        shaped = Shaped(facts)
        for call in facts.calls_of(*SAME_SHAPE_OPS, *SPARSE_OPS, *SOFTMAX_OPS):
            shaped.scope = facts.scopes.get(id(call))
            labels, logits = ast_argument(call, "labels"), ast_argument(call, "logits")
            if labels is None or logits is None:
                if labels is not None or logits is not None or len(call.args) < 2:
                    continue
                labels, logits = call.args[0], call.args[1]
            if shaped.maybe(_unstarred(labels)) and shaped.maybe(_unstarred(logits)):
                return True
        return False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return
        if self.is_api(func, *SAME_SHAPE_OPS):
            self._same_shape(node)
        elif self.is_api(func, *SPARSE_OPS):
            self._sparse(node)
        elif self.is_api(func, *SOFTMAX_OPS):
            self._softmax(node)

    def _operands(self, node: cst.Call) -> tuple[cst.Arg, Static, Shape, Static, Shape] | None:
        labels, logits = argument(node, "labels"), argument(node, "logits")
        if labels is None or logits is None:  # positional use: TF1's signature starts with `_sentinel`
            positional = [a for a in node.args if a.keyword is None]
            if labels is not None or logits is not None or len(positional) < 2:
                return None
            labels, logits = positional[0], positional[1]
        label_value, logit_value = self.values.of(labels.value), self.values.of(logits.value)
        if label_value is None or logit_value is None or label_value.kind != "tensor" or logit_value.kind != "tensor":
            return None
        if label_value.shape is None or logit_value.shape is None:
            return None
        return labels, label_value, label_value.shape, logit_value, logit_value.shape

    # --- sigmoid ops: equal shapes ------------------------------------------------------------------------------
    def _same_shape(self, node: cst.Call) -> None:
        operands = self._operands(node)
        if operands is None:
            return
        labels, _, label_shape, logit_value, logit_shape = operands
        if not label_shape.definitely_differs(logit_shape):
            return
        if logit_value.head is not None and logit_shape.last_dim == 2 and label_shape.single_column():
            return  # a Dense(2) head against one target per example: TFX301's finding and fix
        message = (
            f"labels {label_shape} and logits {logit_shape} differ in shape; the op raises "
            "'logits and labels must have the same shape'"
        )
        if label_shape.rank is None or logit_shape.rank is None:  # a graph may not know the rank either
            message += " (or, in a graph whose static shapes are unknown, broadcasts them into a wrong loss)"
        target = self._reshape_target(label_shape, logit_shape, node)
        if target is None:
            self.report(node, message)
            return
        reshaped = self._tf_call(node, "reshape", [labels.value, target])
        self.report(
            node,
            message + ": reshape the labels to the logits' layout",
            rewrite=self._replace_labels("Reshape the labels to the logits' shape", labels, reshaped),
        )

    def _reshape_target(self, labels: Shape, logits: Shape, node: cst.Call) -> cst.BaseExpression | None:
        """The shape argument that lays the labels out as the logits, when only size-1 dimensions differ."""
        a, b = labels.squeezed(), logits.squeezed()
        if a is None or b is None or len(a) != len(b):
            return None
        if any(x is not None and y is not None and x != y for x, y in zip(a, b)):
            return None
        if labels.size is not None and logits.size is not None and labels.size != logits.size:
            return None
        dims = logits.dims
        assert dims is not None
        if dims and all(d is not None for d in dims[1:]):  # the batch dimension is left to TensorFlow
            return cst.List([cst.Element(cst.Integer(str(d)) if i else _minus_one()) for i, d in enumerate(dims)])
        logits_arg = argument(node, "logits", 1)
        if logits_arg is not None and isinstance(logits_arg.value, cst.Name):
            return self._tf_call(node, "shape", [logits_arg.value])
        return None

    # --- sparse softmax: labels of one rank less ----------------------------------------------------------------
    def _sparse(self, node: cst.Call) -> None:
        operands = self._operands(node)
        if operands is None:
            return
        labels, _, label_shape, _, logit_shape = operands
        if label_shape.rank is None or logit_shape.rank is None or label_shape.rank == logit_shape.rank - 1:
            return
        if label_shape.rank != logit_shape.rank or label_shape.last_dim != 1:
            return  # one-hot labels in a sparse op and other layouts: not a reshape away
        assert label_shape.dims is not None and logit_shape.dims is not None
        if any(x is not None and y is not None and x != y for x, y in zip(label_shape.dims[:-1], logit_shape.dims[:-1])):
            return
        squeezed = self._tf_call(node, "squeeze", [labels.value, ("axis", _minus_one())])
        self.report(
            node,
            f"sparse labels {label_shape} must have one rank less than the logits {logit_shape}; the op raises "
            "'labels.shape.rank must equal logits.shape.rank - 1': drop the labels' last dimension",
            rewrite=self._replace_labels("Squeeze the labels' last dimension", labels, squeezed),
        )

    # --- softmax: broadcastable shapes --------------------------------------------------------------------------
    def _softmax(self, node: cst.Call) -> None:
        operands = self._operands(node)
        if operands is None:
            return
        labels, _, label_shape, _, logit_shape = operands
        if label_shape.rank is None or logit_shape.rank is None or broadcast(label_shape, logit_shape) is not None:
            return
        if any(d is None for d in (label_shape.dims or ())) or any(d is None for d in (logit_shape.dims or ())):
            return  # an unknown dimension might make them broadcast
        if label_shape.rank == logit_shape.rank:
            advice = (
                f"the labels have {label_shape.last_dim} classes and the logits {logit_shape.last_dim}: make the "
                "one-hot depth and the number of output units agree"
            )
        else:
            advice = "labels of class ids need sparse_softmax_cross_entropy_with_logits or tf.one_hot first"
        self.report(
            node,
            f"labels {label_shape} and logits {logit_shape} do not broadcast; the op raises 'logits and labels "
            f"must be broadcastable': {advice}",
        )

    # --- building the fix ---------------------------------------------------------------------------------------
    def _tf_call(self, node: cst.Call, name: str, args: list) -> cst.Call:
        """`tf.<name>(...)` spelled with the module alias the op was called through."""
        root = _root(node.func)
        module = root if root is not None and self.is_api(root, "tf") else cst.Name("tensorflow")
        built = []
        for arg in args:
            if isinstance(arg, tuple):
                keyword, value = arg
                built.append(
                    cst.Arg(value, keyword=cst.Name(keyword),
                            equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                                  whitespace_after=cst.SimpleWhitespace("")))
                )
            else:
                built.append(cst.Arg(arg))
        return cst.Call(cst.Attribute(module, cst.Name(name)), built)

    def _replace_labels(self, title: str, labels: cst.Arg, new_value: cst.Call) -> Rewrite:
        """Wrap the labels (as the fix finds them, so nested edits survive) in `new_value`'s call."""
        needs_import = m.matches(new_value.func, m.Attribute(value=m.Name("tensorflow")))

        def wrap(updated: cst.CSTNode) -> cst.Call:
            return new_value.with_changes(args=(new_value.args[0].with_changes(value=updated), *new_value.args[1:]))

        return Rewrite.replace(title, {labels.value: wrap}, imports=("tensorflow",) if needs_import else ())


def _root(expr: cst.BaseExpression) -> cst.Name | None:
    while isinstance(expr, cst.Attribute):
        expr = expr.value
    return expr if isinstance(expr, cst.Name) else None


def _minus_one() -> cst.UnaryOperation:
    return cst.UnaryOperation(cst.Minus(), cst.Integer("1"))


def _unstarred(expr: ast.expr) -> ast.expr:
    """`*x` as LibCST's `Arg(star="*")` gives it: `x`."""
    return expr.value if type(expr) is ast.Starred else expr  # type: ignore[attr-defined]
