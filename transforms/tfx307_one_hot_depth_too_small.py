"""TFX307: `tf.one_hot` of literal labels with a value at or above `depth`: that row is all zeros, silently.

## What it does

Reports `tf.one_hot` of literal labels with a value at or above `depth`. (Negative ids, often used on purpose
for "no class", give all-zero rows too and are not reported.) The rule stays silent when the labels are not
literal: a depth that merely disagrees with the logits is TFX302's finding for the raw op.

## Why is this bad?

That label's row is all zeros: the loss of that example is 0 and it is dropped from training without a
word. When the one-hot is compared with logits whose last dimension is known and larger (the loss is the
next statement's `CategoricalCrossentropy`, `categorical_crossentropy`, `softmax_cross_entropy_with_logits`,
or `fit` of a model compiled with a categorical cross-entropy), the shapes disagree as well and the loss
raises.

## Measured TensorFlow behaviour

Measured with tensorflow-cpu 2.21 (docs/tensorflow-behaviour.md, probes losses_shapes.py onehot): `tf.one_hot([0, 1,
3], depth=3)` gives `[[1, 0, 0], [0, 1, 0], [0, 0, 0]]` without any error, and `CategoricalCrossentropy` or
`tf.nn.softmax_cross_entropy_with_logits` of that target against 3-class logits runs and returns 0 for the
example. Against wider logits the loss raises `ValueError: Arguments target and output must have the same
shape` or `InvalidArgumentError: logits and labels must be broadcastable`.

## Fix safety

Where the logits are wider, the number of classes is known, and the unsafe fix sets `depth` to it: it
encodes every label and matches the logits. It is unsafe because the labels rather than the depth may be
what is wrong. Without logits wider than every label, the rule only reports: the depth, the model's class
count or the labels must change, and only the author knows which.
"""

from __future__ import annotations

import ast

import libcst as cst
import libcst.matchers as m

from tffix.ast_facts import Facts, argument as ast_argument
from tffix.names import leaves
from tffix.rule import FailureKind, Fix, Invalid, Rewrite, Rule, Severity, Valid, argument

from ._dtypes import LossFamily, literal_ints, loss_object, model_output, passed_as_argument
from ._shapes import StaticValues
from ._values import Static

# The failures this rule is the main cause of, as `tffix explain` recognises them (other rules that can cause
# them list these objects too).
LOGITS_LABELS_BROADCASTABLE = FailureKind(
    "logits-labels-broadcastable", "One-hot labels and logits have different numbers of classes",
    """A softmax cross-entropy got labels and logits whose class dimensions differ: the depth given to
    `tf.one_hot` must be the number of classes the model outputs.""",
    r"logits and labels must be broadcastable",
)

# Failures other rules are the main cause of, imported after this module's own (those modules import them).
from .tfx301_binary_head_with_two_units import TARGET_OUTPUT_SHAPE  # noqa: E402

CATEGORICAL_CE = LossFamily(
    strings=("categorical_crossentropy",),
    classes=("keras.losses.CategoricalCrossentropy",),
    functions=(
        "keras.losses.categorical_crossentropy",
        "keras.metrics.categorical_crossentropy",
        "keras.backend.categorical_crossentropy",
    ),
)
# raw ops: (labels keyword, its position, logits keyword, its position)
RAW_OPS = {
    "tf.nn.softmax_cross_entropy_with_logits": ("labels", 0, "logits", 1),
    "tf.nn.softmax_cross_entropy_with_logits_v2": ("labels", 0, "logits", 1),
    "tf.losses.softmax_cross_entropy": ("onehot_labels", 0, "logits", 1),
}


class OneHotDepthTooSmall(Rule):
    """`tf.one_hot(labels, depth)` where a literal label is >= depth: the row is all zeros and the loss silently
    ignores the example. When the logits it meets show more classes, the unsafe fix sets `depth` to that number.
    """

    code = "TFX307"
    name = "one-hot-depth-too-small"
    summary = "tf.one_hot with a label >= depth gives an all-zero row; the example silently stops counting"
    explains = (TARGET_OUTPUT_SHAPE, LOGITS_LABELS_BROADCASTABLE)
    fix = Fix.sometimes("unsafe")
    severity = Severity.WARNING
    # It reports at the one-hot.
    anchors = leaves("tf.one_hot")
    local = True  # its findings are the union of its parts' (see Rule.local)

    VALID = (
        Valid("import tensorflow as tf\ntargets = tf.one_hot([0, 2, 1], depth=3)\n"),
        Valid("import tensorflow as tf\ntargets = tf.one_hot([0, -1, 1], depth=3)  # -1: no class, on purpose\n"),
        Valid("import tensorflow as tf\ndef encode(labels):\n    return tf.one_hot(labels, 3)\n"),
    )
    INVALID = (
        Invalid(
            "import tensorflow as tf\n"
            "targets = tf.one_hot([0, 1, 2, 3], depth=3)\n"
            "loss = tf.keras.losses.CategoricalCrossentropy(from_logits=True)(targets, tf.zeros((4, 3)))\n",
            None,
        ),
        Invalid(
            "import tensorflow as tf\n"
            "logits = tf.keras.layers.Dense(4)(tf.zeros((4, 6)))\n"
            "targets = tf.one_hot([0, 1, 2, 3], depth=3)\n"
            "loss = tf.nn.softmax_cross_entropy_with_logits(labels=targets, logits=logits)\n",
            "import tensorflow as tf\n"
            "logits = tf.keras.layers.Dense(4)(tf.zeros((4, 6)))\n"
            "targets = tf.one_hot([0, 1, 2, 3], depth=4)\n"
            "loss = tf.nn.softmax_cross_entropy_with_logits(labels=targets, logits=logits)\n",
            unsafe=True,
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.values = StaticValues(self)

    @classmethod
    def candidates(cls, facts: Facts) -> list[ast.AST]:
        """Where a finding can be, and so its precondition: a `tf.one_hot(indices, depth)` whose indices
        `literal_ints` reads, literal integers (the rule reports at that call)."""
        return [
            call for call in facts.calls_of("tf.one_hot")
            if ast_argument(call, "depth", 1) is not None and _maybe_literal_ints(facts, ast_argument(call, "indices", 0))
        ]

    def visit_Call(self, node: cst.Call) -> None:
        if not (isinstance(node.func, (cst.Name, cst.Attribute)) and self.is_api(node.func, "tf.one_hot")):
            return
        depth_arg = argument(node, "depth", 1)
        depth = self.values.int_of(depth_arg.value) if depth_arg is not None else None
        labels = literal_ints(self.values, argument(node, "indices", 0))
        if depth is None or not labels:
            return
        beyond = sorted({v for v in labels if v >= depth})
        if not beyond:
            return
        shown = ", ".join(map(str, beyond[:5])) + (", ..." if len(beyond) > 5 else "")
        plural = len(beyond) > 1
        message = (
            f"tf.one_hot(..., depth={depth}) of label{'s' if plural else ''} {shown} gives "
            f"{'all-zero rows' if plural else 'an all-zero row'}"
        )
        classes = self._classes(node)
        if classes is None or classes <= max(beyond):
            self.report(
                node,
                message + f": the loss silently ignores {'those examples' if plural else 'that example'} (no "
                f"error). The labels need depth {max(beyond) + 1} and a model with as many classes, or the labels "
                "are wrong",
            )
            return
        literal_depth = depth_arg is not None and m.matches(depth_arg.value, m.Integer())
        message += f"; the logits it meets have {classes} classes, and against them depth {depth} makes the loss raise"
        if not literal_depth:
            self.report(node, message)
            return
        self.report(
            node,
            message,
            rewrite=Rewrite.replace(
                f"Set depth to the logits' {classes} classes", {depth_arg.value: cst.Integer(str(classes))}, unsafe=True
            ),
        )

    def _classes(self, one_hot: cst.Call) -> int | None:
        """The last dimension of the logits the one-hot labels meet in a categorical loss, when known."""
        for arg in passed_as_argument(self, one_hot):
            call = self.parent(arg)
            if isinstance(call, cst.Call):
                logits = self._logits_beside(call, arg)
                if logits is not None and logits.shape is not None and logits.shape.last_dim is not None:
                    return logits.shape.last_dim
        return None

    def _logits_beside(self, call: cst.Call, labels: cst.Arg) -> Static | None:
        func = call.func
        named = isinstance(func, (cst.Name, cst.Attribute))
        for name, (labels_kw, labels_pos, logits_kw, logits_pos) in RAW_OPS.items():
            if named and self.is_api(func, name):
                return self._if_labels(call, labels, (labels_kw, labels_pos), (logits_kw, logits_pos))
        if CATEGORICAL_CE.is_function(self.values, func) or loss_object(self.values, func, CATEGORICAL_CE.classes):
            return self._if_labels(call, labels, ("y_true", 0), ("y_pred", 1))
        if m.matches(func, m.Attribute(attr=m.Name("fit") | m.Name("train_on_batch"))) and labels is argument(call, "y", 1):
            if CATEGORICAL_CE.compiled(self.values, func.value)[0]:  # type: ignore[union-attr]
                return model_output(self.values, func.value)  # type: ignore[union-attr]
        return None

    def _if_labels(self, call: cst.Call, labels: cst.Arg, label_slot: tuple[str, int],
                   logits_slot: tuple[str, int]) -> Static | None:
        if labels is not argument(call, *label_slot):
            return None
        logits = argument(call, *logits_slot)
        return self.values.of(logits.value) if logits is not None else None



_WRAPPERS = ("tf.constant", "tf.convert_to_tensor", "tf.Variable")  # `_dtypes.literal_ints`' data wrappers
_NUMPY_WRAPPERS = ("numpy.array", "numpy.asarray")


def _maybe_literal_ints(facts: Facts, expr: ast.expr | None, depth: int = 0) -> bool:
    """A superset of `_dtypes.literal_ints` on Python's `ast`: a name may be any value assigned to it."""
    if expr is None or depth > 6:
        return False
    kind = type(expr)
    if kind is ast.List or kind is ast.Tuple:
        return all(
            _maybe_literal_ints(facts, e, depth + 1) if type(e) in (ast.List, ast.Tuple) else _literal_int(e)
            for e in expr.elts  # type: ignore[attr-defined]
        )
    if kind is ast.Name:
        return any(_maybe_literal_ints(facts, v, depth + 1) for v in facts.bound.get(expr.id, ()))  # type: ignore[attr-defined]
    if kind is ast.Attribute:
        return any(_maybe_literal_ints(facts, v, depth + 1) for v in facts.attributes_bound.get(expr.attr, ()))  # type: ignore[attr-defined]
    if kind is ast.Call:
        func = expr.func  # type: ignore[attr-defined]
        wrapped = facts.api_names(func) & set(_WRAPPERS) or any(
            q in _NUMPY_WRAPPERS for q in facts.chains.get(id(func), ())
        )
        data = ast_argument(expr, "value", 0) or ast_argument(expr, "object", 0) or ast_argument(expr, "initial_value", 0)  # type: ignore[arg-type]
        return bool(wrapped) and type(data) in (ast.List, ast.Tuple, ast.Name) and _maybe_literal_ints(facts, data, depth + 1)
    return False


def _literal_int(expr: ast.expr) -> bool:
    """`rule.literal_int`: an integer literal, or one negated."""
    if type(expr) is ast.UnaryOp and type(expr.op) is ast.USub:
        expr = expr.operand
    return type(expr) is ast.Constant and type(expr.value) is int
