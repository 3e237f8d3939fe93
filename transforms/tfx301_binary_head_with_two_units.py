"""TFX301: a binary classifier whose head has 2 units, trained with a binary loss on one target per example.

## What it does

The rule fires only when both sides are known: the predictions come from a `Dense(2)` head that this file
builds (directly, through a Sequential list or `.add`, a functional or subclassed model, or a function that
returns the model) without a softmax, and the targets are statically (N, 1) or (N,). Two-column targets
(one-hot for two classes, or `tf.ones_like(output)`) are a valid multi-label use and are left alone, as is a
softmax head with a categorical loss. A softmax head with a binary loss is reported without a fix: one
softmax unit would always output 1.0.

## Why is this bad?

A binary cross-entropy compares each output with a target of the same shape. A `Dense(2)` head gives
(N, 2); the targets of a binary task are (N, 1) or (N,): the loss raises.

## Measured TensorFlow behaviour

Measured with tensorflow-cpu 2.21 / Keras 3 (docs/tensorflow-behaviour.md, probes losses_shapes.py
dense2_bce and raw_sce2):

- `keras.losses.BinaryCrossentropy(from_logits=True)(zeros((32, 1)), Dense(2) output)`, the function
  `keras.losses.binary_crossentropy`, and `model.compile(loss="binary_crossentropy")` then `fit` with (N, 1)
  targets raise `ValueError: Arguments target and output must have the same shape` (targets (N,): "same
  rank"); tf-keras 2 raises `logits and labels must have the same shape ((32, 2) vs (32, 1))`;
- `tf.nn.sigmoid_cross_entropy_with_logits(labels=(32, 1), logits=(32, 2))` raises
  `ValueError: logits and labels must have the same shape`.

## Fix safety

The fix gives the head the one unit a sigmoid/logit output of a binary task has: `Dense(2)` becomes
`Dense(1)` (`units=2` becomes `units=1`). With one unit the loss computes exactly the binary cross-entropy
the code asks for (a head with a sigmoid keeps it; with no activation, `from_logits=True` or the raw
`sigmoid_cross_entropy_with_logits` treat the output as a logit). The fix is unsafe all the same: the loss
fails, but other code may read the head's two columns and run before it or beside it (`model.predict(x)`
then `argmax(pred, axis=1)`, a two-column metric); with one column that code silently computes something
else (argmax is always 0), and nothing in the file can show there is no such reader.
"""

from __future__ import annotations

import ast

import libcst as cst
import libcst.matchers as m

from tffix.ast_facts import Facts, argument as ast_argument
from tffix.names import leaves
from tffix.rule import FailureKind, Fix, Invalid, Rewrite, Rule, Severity, Valid, argument

from ._ast_values import opaque_call
from ._shapes import StaticValues
from ._values import Static

# The failures this rule is the main cause of, as `tffix explain` recognises them (other rules that can cause
# them list these objects too).
TARGET_OUTPUT_SHAPE = FailureKind(
    "target-output-shape", "The loss got targets and model outputs of different shapes",
    """A Keras loss compares each model output with a target of the same shape. Most often a binary
    classifier's last layer has 2 units (`Dense(2)`) while its labels have one column: a binary head
    trained with a binary cross-entropy has 1 unit; or one-hot targets were made with a `tf.one_hot` depth
    other than the number of classes the model outputs.""",
    r"Arguments `?target`? and `?output`? must have the same (?:shape|rank)",
)

# Failures other rules are the main cause of, imported after this module's own (those modules import them).
from .tfx302_target_rank_mismatch import DIMENSIONS_MUST_BE_EQUAL, LOGITS_LABELS_SHAPE  # noqa: E402
from .tfx307_one_hot_depth_too_small import LOGITS_LABELS_BROADCASTABLE  # noqa: E402

BINARY_LOSS_CLASSES = ("keras.losses.BinaryCrossentropy",)
BINARY_LOSS_FUNCTIONS = (
    "keras.losses.binary_crossentropy",
    "keras.metrics.binary_crossentropy",
    "keras.backend.binary_crossentropy",
)
BINARY_LOSS_STRINGS = ("binary_crossentropy",)
SIGMOID_CE = ("tf.nn.sigmoid_cross_entropy_with_logits",)


class BinaryHeadWithTwoUnits(Rule):
    """A `Dense(2)` head trained with a binary cross-entropy on single-column targets: a binary head has 1 unit.

    Keras' `BinaryCrossentropy` and `tf.nn.sigmoid_cross_entropy_with_logits` need targets of the output's
    shape and raise on (N, 1) targets against (N, 2) outputs. The fix turns the head into `Dense(1)`.
    """

    code = "TFX301"
    name = "binary-head-with-two-units"
    summary = "A binary loss on single-column targets needs a 1-unit head, not Dense(2)"
    explains = (TARGET_OUTPUT_SHAPE, LOGITS_LABELS_SHAPE, LOGITS_LABELS_BROADCASTABLE, DIMENSIONS_MUST_BE_EQUAL)
    fix = Fix.sometimes("unsafe")
    severity = Severity.ERROR
    # A binary loss: called, or compiled in (`compile(loss="binary_crossentropy")` references it too).
    anchors = leaves(*BINARY_LOSS_CLASSES, *BINARY_LOSS_FUNCTIONS, *BINARY_LOSS_STRINGS, *SIGMOID_CE)
    local = True  # its findings are the union of its parts' (see Rule.local)

    VALID = (
        Valid(  # a two-class softmax classifier with integer labels: correct
            "import tensorflow as tf\n"
            "model = tf.keras.Sequential([tf.keras.layers.Dense(2, activation='softmax')])\n"
            "loss = tf.keras.losses.SparseCategoricalCrossentropy()(tf.zeros((8,)), model(tf.zeros((8, 4))))\n"
        ),
        Valid(  # two-column (one-hot) targets: a valid multi-label binary loss
            "import tensorflow as tf\n"
            "out = tf.keras.layers.Dense(2)(tf.zeros((8, 4)))\n"
            "loss = tf.keras.losses.BinaryCrossentropy(from_logits=True)(tf.one_hot(tf.zeros((8,), tf.int32), 2), out)\n"
        ),
        Valid(  # the targets' shape is not known here: no claim
            "import tensorflow as tf\n"
            "def step(x, y):\n"
            "    out = tf.keras.layers.Dense(2)(x)\n"
            "    return tf.keras.losses.BinaryCrossentropy()(y, out)\n"
        ),
    )
    INVALID = (
        Invalid(
            "import tensorflow as tf\n"
            "out = tf.keras.layers.Dense(2)(tf.random.normal((32, 100)))\n"
            "loss = tf.keras.losses.BinaryCrossentropy(from_logits=True)(tf.zeros((32, 1)), out)\n",
            "import tensorflow as tf\n"
            "out = tf.keras.layers.Dense(1)(tf.random.normal((32, 100)))\n"
            "loss = tf.keras.losses.BinaryCrossentropy(from_logits=True)(tf.zeros((32, 1)), out)\n",
            unsafe=True,
        ),
        Invalid(
            "from tensorflow import keras\n"
            "import numpy as np\n"
            "model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(units=2, activation='sigmoid')])\n"
            "model.compile(optimizer='adam', loss='binary_crossentropy')\n"
            "model.fit(np.zeros((16, 8)), np.zeros((16, 1)))\n",
            "from tensorflow import keras\n"
            "import numpy as np\n"
            "model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(units=1, activation='sigmoid')])\n"
            "model.compile(optimizer='adam', loss='binary_crossentropy')\n"
            "model.fit(np.zeros((16, 8)), np.zeros((16, 1)))\n",
            unsafe=True,
        ),
        Invalid(
            "import tensorflow as tf\n"
            "from tensorflow.keras.layers import Dense\n"
            "logits = Dense(2)(tf.zeros((4, 3)))\n"
            "loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones((4, 1)), logits=logits)\n",
            "import tensorflow as tf\n"
            "from tensorflow.keras.layers import Dense\n"
            "logits = Dense(1)(tf.zeros((4, 3)))\n"
            "loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones((4, 1)), logits=logits)\n",
            unsafe=True,
        ),
        Invalid(  # a softmax head: one unit would be constant, so no automatic fix
            "import tensorflow as tf\n"
            "out = tf.keras.layers.Dense(2, activation='softmax')(tf.zeros((4, 3)))\n"
            "loss = tf.keras.losses.binary_crossentropy(tf.ones((4, 1)), out)\n",
            None,
        ),
    )

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """A finding's outputs end in a `Dense` head of 2 units (`layer_of`: `StaticValues.int_of` of its units):
        a `Dense` call whose units may be the int 2."""
        two = _MaybeTwo(facts)
        return any(two.maybe(ast_argument(c, "units", 0)) for c in facts.calls_of("keras.layers.Dense"))

    def __init__(self, context) -> None:
        super().__init__(context)
        self.values = StaticValues(self)
        # id(value the model name is bound to) -> the compile call that set a binary loss
        self._compiled_binary: dict[int, cst.Call] = {}

    # --- what is a binary loss ---------------------------------------------------------------------------------
    def _is_binary_loss(self, expr: cst.BaseExpression | None, depth: int = 0) -> bool:
        """`BinaryCrossentropy(...)`, the `binary_crossentropy` function, or a name/attribute bound to either
        (a few levels of aliasing)."""
        if expr is None or depth > 3:
            return False
        if isinstance(expr, cst.Call) and isinstance(expr.func, (cst.Name, cst.Attribute)):
            return self.is_api(expr.func, *BINARY_LOSS_CLASSES)
        if isinstance(expr, (cst.Name, cst.Attribute)):
            if self.is_api(expr, *BINARY_LOSS_FUNCTIONS):
                return True
            return self._is_binary_loss(self.values.assigned_value(expr), depth + 1)
        return False

    def _is_binary_loss_spec(self, expr: cst.BaseExpression) -> bool:
        """A `loss=` argument of `compile`: the string, the function, or a loss object."""
        if isinstance(expr, cst.SimpleString):
            return expr.evaluated_value in BINARY_LOSS_STRINGS
        return self._is_binary_loss(expr)

    # --- loss sites --------------------------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, (cst.Name, cst.Attribute)) and self.is_api(func, *SIGMOID_CE):
            self._check(node, argument(node, "labels", 0), argument(node, "logits", 1), "sigmoid_cross_entropy_with_logits")
            return
        if isinstance(func, (cst.Name, cst.Attribute, cst.Call)) and self._is_binary_loss(func):
            self._check(node, argument(node, "y_true", 0), argument(node, "y_pred", 1), "the binary cross-entropy")
            return
        if m.matches(func, m.Attribute(attr=m.Name("compile"))):
            loss = argument(node, "loss", 1)
            bound = self.values.assigned_value(func.value)  # type: ignore[attr-defined]
            if loss is not None and bound is not None and self._is_binary_loss_spec(loss.value):
                self._compiled_binary[id(bound)] = node
            return
        if m.matches(func, m.Attribute(attr=m.Name("fit") | m.Name("train_on_batch"))):
            receiver = func.value  # type: ignore[attr-defined]
            bound = self.values.assigned_value(receiver)
            if bound is not None and id(bound) in self._compiled_binary:
                model = self.values.of(receiver)
                outputs = model.output if model is not None and model.kind == "model" else None
                self._judge(node, self.values.of(argument(node, "y", 1)), outputs, "the compiled binary_crossentropy")

    def _check(self, node: cst.Call, targets: cst.Arg | None, predictions: cst.Arg | None, loss: str) -> None:
        if targets is None or predictions is None:
            return
        self._judge(node, self.values.of(targets.value), self.values.of(predictions.value), loss)

    def _judge(self, node: cst.Call, targets: Static | None, outputs: Static | None, loss: str) -> None:
        if targets is None or outputs is None or outputs.head is None:
            return
        if targets.shape is None or not targets.shape.single_column():
            return
        if outputs.shape is None or outputs.shape.last_dim != 2:
            return
        head = outputs.head
        units = argument(head, "units", 0)
        described = f"{outputs.shape} from `Dense(2)`"
        message = (
            f"{loss} gets single-column targets {targets.shape} but the head's output is {described}: "
            "it raises 'target and output must have the same shape'"
        )
        if outputs.activation == "softmax":
            self.report(
                node,
                message + ". A softmax head needs a categorical loss (SparseCategoricalCrossentropy for class "
                "ids); for a binary loss give the head 1 unit with a sigmoid",
            )
            return
        if units is None or not m.matches(units.value, m.Integer("2")):
            self.report(node, message + "; a binary head has 1 unit")
            return
        self.report(
            node,
            message + "; a binary head has 1 unit",
            rewrite=Rewrite.replace("Give the binary head 1 unit", {units.value: cst.Integer("1")}, unsafe=True),
        )


class _MaybeTwo:
    """Which expressions `StaticValues.int_of` may read as the int 2 (a superset): the literal, a name or
    attribute an assignment binds to such a value, a parameter (a call of the module's function may pass 2),
    arithmetic, a call of the module's own function."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts

    def maybe(self, expr: ast.expr | None, depth: int = 0) -> bool:
        if expr is None:
            return False
        if depth > 8:
            return True  # a long chain of names: not followed, so maybe
        kind, facts = type(expr), self.facts
        if kind is ast.Constant:
            return type(expr.value) is int and expr.value == 2  # type: ignore[union-attr]
        if kind is ast.Name:
            name = expr.id  # type: ignore[union-attr]
            return name in facts.parameters or any(self.maybe(v, depth + 1) for v in facts.bound.get(name, ()))
        if kind is ast.Attribute:
            return any(self.maybe(v, depth + 1) for v in facts.attributes_bound.get(expr.attr, ()))  # type: ignore[union-attr]
        if kind is ast.BinOp:
            return True
        if kind is ast.Call:
            return not facts.api_names(expr.func) and not opaque_call(facts, expr)  # type: ignore[union-attr, arg-type]
        return False
