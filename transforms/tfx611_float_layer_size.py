"""TFX611: a float where a Keras 3 layer needs an integer size: `Dense(n / 2)`, `Embedding(vocab * 1.0, 8)`.

## What it does

Reports a `Dense` units or `Embedding` `input_dim`/`output_dim` that is a float by its form (a float literal, a
true division `a / b`, `float(...)`, arithmetic with a float literal, or a name bound to one of these in this
file) and wraps it in `int(...)`. Not where Keras 2 is pinned (`tf_keras` imported, or `TF_USE_LEGACY_KERAS`
in the program).

## Why is this bad?

Keras 2's `Dense.__init__` did `self.units = int(units) if not isinstance(units, int) else units`, so
`Dense(2.0)` and `Dense(hidden / 2)` (Python 2 code, where `/` of ints was an integer) built a layer of
`int(units)` units. Keras 3 checks the type and stops the program.

## Measured TensorFlow behaviour

Measured on tensorflow-cpu 2.21 (docs/tensorflow-behaviour.md, Keras 3 section; probe keras3_legacy_args.py
dense_float, embedding_float, conv2d_float, dense_float_units):

- Keras 3: `keras.layers.Dense(2.0)` raises `ValueError: Received an invalid value for units, expected a
  positive integer. Received: units=2.0`; `keras.layers.Embedding(10.0, 3)` raises `ValueError: input_dim must
  be a positive integer`; `Conv2D(2.0, 3)` and `LSTM(2.0)` are accepted (not reported);
- Keras 2 pinned (`tf_keras` 2.21): `Dense(2.7).units == 2` (the `int()` above).

## Fix safety

For `Dense`, `int(...)` is exactly what Keras 2 computed: safe. For `Embedding` (which Keras 2 did not convert)
it is unsafe: `int()` truncates, and a vocabulary size computed as a float may have been meant to round up.
"""

from __future__ import annotations

import ast

import libcst as cst

from tffix.ast_facts import Facts, argument as ast_argument
from tffix.rule import FailureKind, Fix, Invalid, Rewrite, Rule, Severity, Valid, argument

from ._keras3 import pins_keras2
from ._shapes import StaticValues

SIZES = {"keras.layers.Dense": (("units", 0),), "keras.layers.Embedding": (("input_dim", 0), ("output_dim", 1))}


# The failure this rule explains (`tffix explain` maps the message to it).
FLOAT_LAYER_SIZE = FailureKind(
    "keras3-float-layer-size", "A Keras layer got a float size",
    """Keras 3's `Dense` and `Embedding` need integer sizes; Keras 2's `Dense` converted a float with
    `int(units)`. A size computed with `/` (Python 2 code) is a float in Python 3: make it `int(...)`.""",
    r"expected a positive integer\. Received: units=|`?input_dim`? must be a positive integer", exception="ValueError",
)

class FloatLayerSize(Rule):
    """`Dense(n / 2)`: Keras 3 rejects a float size (`ValueError`); Keras 2 used `int(units)`."""

    code = "TFX611"
    name = "float-layer-size"
    summary = "Keras 3 Dense/Embedding reject a float size (n / 2): Keras 2 used int(units)"
    explains = (FLOAT_LAYER_SIZE,)
    fix = Fix.always("safe", "unsafe")
    severity = Severity.ERROR
    anchors = frozenset({"Dense", "Embedding"})

    VALID = (
        Valid("import tensorflow as tf\nlayer = tf.keras.layers.Dense(n // 2)\n"),
        Valid("import tensorflow as tf\nlayer = tf.keras.layers.Dense(int(n / 2))\n"),
    )
    INVALID = (
        Invalid(
            "import tensorflow as tf\nhidden = 64\nlayer = tf.keras.layers.Dense(hidden / 2, activation='relu')\n",
            "import tensorflow as tf\nhidden = 64\nlayer = tf.keras.layers.Dense(int(hidden / 2), activation='relu')\n",
        ),
        Invalid(
            "from keras.layers import Embedding\nemb = Embedding(input_dim=vocab * 1.0, output_dim=8)\n",
            "from keras.layers import Embedding\nemb = Embedding(input_dim=int(vocab * 1.0), output_dim=8)\n",
            unsafe=True,
        ),
    )

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """A finding is a size of a `Dense`/`Embedding` call that `_is_float` shows: a float literal, a division,
        `float(...)`, arithmetic on one of those, or a name assigned one of those."""
        return any(
            _maybe_float(facts, ast_argument(call, keyword, position))
            for layer, slots in SIZES.items() for call in facts.calls_of(layer) for keyword, position in slots
        )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.values = StaticValues(self)
        self.pinned = pins_keras2(context.source)

    def _is_float(self, expr: cst.BaseExpression, depth: int = 0) -> bool:
        if depth > 3:
            return False
        if isinstance(expr, cst.Float):
            return True
        if isinstance(expr, cst.BinaryOperation):
            if isinstance(expr.operator, cst.Divide):
                return True
            if isinstance(expr.operator, (cst.Add, cst.Subtract, cst.Multiply)):
                return self._is_float(expr.left, depth + 1) or self._is_float(expr.right, depth + 1)
            return False
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "float":
            return not self.qualified_names(expr.func) - {"builtins.float", "float"}
        if isinstance(expr, cst.Name):
            value = self.values.assigned_value(expr)
            return value is not None and self._is_float(value, depth + 1)
        return False

    def visit_Call(self, node: cst.Call) -> None:
        if self.pinned:
            return
        layer = next((name for name in SIZES if self.is_call_to(node, name)), None)
        if layer is None:
            return
        for keyword, position in SIZES[layer]:
            arg = argument(node, keyword, position)
            if arg is None or arg.star or not self._is_float(arg.value):
                continue
            kind = layer.rpartition(".")[2]
            unsafe = kind != "Dense"
            self.report(
                arg.value,
                f"`{kind}({keyword}=...)` gets a float here: Keras 3 raises (`ValueError: ... expected a positive "
                f"integer`); Keras 2 {'used int(units)' if not unsafe else 'did not convert it'}",
                rewrite=Rewrite.replace(
                    "Wrap the size in `int(...)`",
                    {arg.value: lambda updated: cst.Call(cst.Name("int"), [cst.Arg(updated)])},
                    unsafe=unsafe,
                ),
            )


def _maybe_float(facts: Facts, expr: ast.expr | None, depth: int = 0) -> bool:
    """A superset of `FloatLayerSize._is_float` on Python's `ast`: a name may be any value assigned to it."""
    if expr is None or depth > 3:
        return False
    kind = type(expr)
    if kind is ast.Constant:
        return type(expr.value) is float  # type: ignore[attr-defined]
    if kind is ast.BinOp:
        if type(expr.op) is ast.Div:  # type: ignore[attr-defined]
            return True
        return type(expr.op) in (ast.Add, ast.Sub, ast.Mult) and (  # type: ignore[attr-defined]
            _maybe_float(facts, expr.left, depth + 1) or _maybe_float(facts, expr.right, depth + 1)  # type: ignore[attr-defined]
        )
    if kind is ast.Call:
        return type(expr.func) is ast.Name and expr.func.id == "float"  # type: ignore[attr-defined]
    if kind is ast.Name:
        return any(_maybe_float(facts, v, depth + 1) for v in facts.bound.get(expr.id, ()))  # type: ignore[attr-defined]
    return False
