"""TFX610: `self.w = tf.Variable(...)` in a Keras 3 layer or model: the weight is not tracked and never trains.

## What it does

Reports `self.NAME = tf.Variable(...)` in a method of a class whose base resolves to a Keras layer or model
(`keras.layers.Layer`, any `keras.layers.*` class, `keras.Model`, `keras.Sequential`, through any import
form), and makes it a `keras.Variable(...)` (spelled through the module the class's base comes from:
`tf.keras.Variable` for a `tf.keras.layers.Layer`), keeping the initial value, `trainable`, `name` and `dtype`.
Not where Keras 2 is pinned (`tf_keras` imported, or `TF_USE_LEGACY_KERAS` in the program); not for
`trainable=False` variables nor integer ones (`tf.Variable(0)`, a step counter): nothing is meant to train
them. A call with other `tf.Variable` arguments (`shape`, `constraint`, `synchronization`, ...) or a name containing `/` (which `keras.Variable` rejects) is
reported without a fix; `self.add_weight(...)` is the idiomatic form there.

## Why is this bad?

Keras 2 (`tf.keras` up to TF 2.15, `tf_keras`) layers were `tf.Module`s: a `tf.Variable` assigned to an
attribute was tracked, listed in `trainable_weights`, trained by `fit` and saved. A Keras 3 layer tracks only
Keras variables (`self.add_weight(...)` or `keras.Variable(...)`): the program runs, and the weight silently
never trains.

## Measured TensorFlow behaviour

Measured on tensorflow-cpu 2.21 / Keras 3.15 (docs/tensorflow-behaviour.md, Keras 3 section; probes
keras3_variable_tracked.py, keras3_layer_variable.py):

- `self.w = tf.Variable(...)` in a `keras.layers.Layer`'s `__init__` or `build`, or in a `keras.Model`
  subclass: `trainable_weights`, `trainable_variables` and `weights` are all empty; `model.fit` warns "The
  model does not have any trainable weights" and the weight is unchanged after training; a `GradientTape` loop
  over `trainable_variables` gets an empty list (`apply_gradients` raises `ValueError: not enough values to
  unpack`);
- `self.w = keras.Variable(...)` in the same place: tracked, and `fit` changes it;
- Keras 2 pinned (`tf_keras` 2.21): the `tf.Variable` is tracked and trained.

## Fix safety

The fix is unsafe: the weight now trains (the cure), but it also enters `weights`, checkpoints and saved models
(an old checkpoint's layout changes) and follows the layer's dtype policy (autocast under mixed precision).
"""

from __future__ import annotations

import ast

import libcst as cst

from tffix.ast_facts import Facts
from tffix.rule import FailureKind, Fix, Invalid, Rewrite, Rule, Severity, Valid, argument

from ._keras3 import keras_name, runs_keras3

LAYER_BASES = ("keras.layers.Layer", "keras.Layer", "keras.Model", "keras.Sequential")
VARIABLES = ("tf.Variable",)


def _layer_base(name: str) -> bool:
    """A canonical API name a Keras layer or model class derives from."""
    return name in LAYER_BASES or (name.startswith("keras.layers.") and name.rpartition(".")[2][:1].isupper())
KEPT_KEYWORDS = frozenset({"initial_value", "trainable", "name", "dtype"})
_CODE = cst.Module([])


# The failure this rule explains (`tffix explain` maps the message to it).
EMPTY_TRAINABLE_LIST = FailureKind(
    "keras3-untracked-variable", "The optimizer got no variables to train",
    """`apply_gradients` got an empty list: the model's `trainable_variables` is empty. In a Keras 3 layer or
    model, a `tf.Variable` assigned to an attribute is not tracked; make it with `self.add_weight` or
    `keras.Variable`.""",
    r"not enough values to unpack \(expected 2, got 0\)", exception="ValueError", frame_hint=r"optimizer",
)

class TfVariableInKeras3Layer(Rule):
    """A `tf.Variable` attribute of a Keras 3 layer or model is not tracked: it never trains."""

    code = "TFX610"
    name = "tf-variable-in-keras3-layer"
    summary = "A tf.Variable attribute of a Keras 3 Layer/Model is not tracked: it never trains (keras.Variable)"
    explains = (EMPTY_TRAINABLE_LIST,)
    fix = Fix.sometimes("unsafe")
    severity = Severity.WARNING
    anchors = frozenset({"Variable"})

    VALID = (
        Valid(
            "import tensorflow as tf\nclass L(tf.keras.layers.Layer):\n    def build(self, s):\n"
            "        self.w = self.add_weight(shape=(s[-1], 1))\n"
        ),
        Valid("import tensorflow as tf\nclass M(tf.Module):\n    def __init__(self):\n        self.w = tf.Variable(1.0)\n"),
        Valid(
            "import tensorflow as tf\nclass L(tf.keras.layers.Layer):\n    def __init__(self):\n"
            "        super().__init__()\n        self.step = tf.Variable(0, trainable=False)\n"
        ),
    )
    INVALID = (
        Invalid(
            "import tensorflow as tf\nclass L(tf.keras.layers.Layer):\n    def __init__(self):\n"
            "        super().__init__()\n        self.w = tf.Variable(tf.ones((3, 1)), name='w')\n",
            "import tensorflow as tf\nclass L(tf.keras.layers.Layer):\n    def __init__(self):\n"
            "        super().__init__()\n        self.w = tf.keras.Variable(tf.ones((3, 1)), name='w')\n",
            unsafe=True,
        ),
        Invalid(  # keras-cv's legacy LayerScale: `keras` is bound already, so no import is added
            "import tensorflow as tf\nfrom tensorflow import keras\nfrom tensorflow.keras import layers\n"
            "class LayerScale(layers.Layer):\n    def build(self, s):\n        self.gamma = tf.Variable(tf.ones((s[-1],)))\n",
            "import tensorflow as tf\nfrom tensorflow import keras\nfrom tensorflow.keras import layers\n"
            "class LayerScale(layers.Layer):\n    def build(self, s):\n        self.gamma = keras.Variable(tf.ones((s[-1],)))\n",
            unsafe=True,
        ),
        Invalid(
            "import tensorflow as tf\nfrom keras.layers import Layer\nclass L(Layer):\n    def build(self, s):\n"
            "        self.w = tf.Variable(tf.zeros((s[-1], 2)), shape=tf.TensorShape(None))\n",
            None,
        ),
    )

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """A finding is a `self.x = tf.Variable(...)` in a class deriving from a Keras layer or model."""
        if not any(_layer_base(n) for n in facts.class_bases):
            return False
        calls = [c for c in facts.calls_of(*VARIABLES) if id(c) in facts.self_assigned]
        if not calls or facts.tree is None:
            return False
        # ... in a method of such a class (`_keras_layer_class` of the class around the method)
        todo: list[ast.AST] = [facts.tree]
        while todo:
            node = todo.pop()
            for field in ("body", "orelse", "finalbody", "handlers"):
                todo.extend(getattr(node, field, ()) or ())
            if type(node) is not ast.ClassDef or not any(_layer_base(n) for b in node.bases for n in facts.api_names(b)):
                continue
            for method in node.body:
                if type(method) in (ast.FunctionDef, ast.AsyncFunctionDef) and any(
                    (method.lineno, method.col_offset) <= (c.lineno, c.col_offset)
                    <= (method.end_lineno, method.end_col_offset) for c in calls  # type: ignore[operator]
                ):
                    return True
        return False

    def __init__(self, context) -> None:
        super().__init__(context)
        self.keras3 = runs_keras3(context.source)

    def _keras_layer_class(self, cls: cst.ClassDef) -> cst.BaseExpression | None:
        """The base that makes `cls` a Keras layer or model (a Keras layer or model class), else None."""
        for base in cls.bases:
            if any(_layer_base(n) for n in self.api_names(base.value)):
                return base.value
        return None

    def visit_Call(self, node: cst.Call) -> None:
        if not self.keras3 or not self.is_call_to(node, *VARIABLES):
            return
        assign = self.parent(node)
        if not (isinstance(assign, cst.Assign) and assign.value is node and len(assign.targets) == 1):
            return
        target = assign.targets[0].target
        if not (isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == "self"):
            return
        function = next((a for a in self.ancestors(node) if isinstance(a, cst.FunctionDef)), None)
        cls = self.parent(self.parent(function)) if function is not None else None
        if not isinstance(cls, cst.ClassDef):
            return
        base = self._keras_layer_class(cls)
        if base is None:
            return
        if self._integer(node):
            return  # a counter (`tf.Variable(0)`): nothing trains an integer variable
        trainable = argument(node, "trainable", 1)
        if trainable is not None and not (isinstance(trainable.value, cst.Name) and trainable.value.value == "True"):
            return
        message = (
            f"`self.{target.attr.value} = tf.Variable(...)` in Keras 3 layer `{cls.name.value}` is not tracked: "
            "it is not in `trainable_weights`, so training never changes it; use `self.add_weight(...)` or "
            "`keras.Variable(...)`"
        )
        positional = [a for a in node.args if a.keyword is None]
        keywords = {a.keyword.value for a in node.args if a.keyword is not None}
        name = argument(node, "name")
        bad_name = name is not None and isinstance(name.value, cst.SimpleString) and "/" in str(name.value.evaluated_value)
        if len(positional) > 1 or any(a.star for a in positional) or not keywords <= KEPT_KEYWORDS or bad_name:
            self.report(node, message)
            return
        prefix, imports = self._keras_prefix(base)
        new_func = cst.parse_expression(f"{prefix}.Variable")

        def rewrite(updated: cst.Call) -> cst.Call:
            args = [
                a.with_changes(keyword=cst.Name("initializer")) if a.keyword is not None and a.keyword.value == "initial_value" else a
                for a in updated.args
            ]
            return updated.with_changes(func=new_func, args=args)

        self.report(node, message, rewrite=Rewrite.replace(
            "Make it a `keras.Variable` (tracked)", {node: rewrite}, unsafe=True, imports=imports,
        ))

    def _integer(self, node: cst.Call) -> bool:
        """The variable holds integers or booleans: an int literal initial value, or an integer/bool `dtype=`."""
        initial = argument(node, "initial_value", 0)
        if initial is not None and isinstance(initial.value, cst.Integer):
            return True
        dtype = argument(node, "dtype")
        if dtype is None:
            return False
        if isinstance(dtype.value, cst.SimpleString):
            text = str(dtype.value.evaluated_value)
        else:
            text = " ".join(self.api_names(dtype.value)) or cst.Module([]).code_for_node(dtype.value)
        return any(kind in text for kind in ("int", "bool"))

    def _keras_prefix(self, base: cst.BaseExpression) -> tuple[str, tuple[str, ...]]:
        """How this file spells the Keras module: the part of the base class's expression that names it."""
        current = base
        while isinstance(current, cst.Attribute):
            if "keras" in self.api_names(current):
                return _CODE.code_for_node(current), ()
            current = current.value
        if isinstance(current, cst.Name) and "keras" in self.api_names(current):
            return current.value, ()
        return keras_name(self.context.source)
