"""What the 6xx rules (Keras 3 and NumPy 2 removals) share: which Keras a file runs on, and which receivers are
Keras models.

**Which Keras.** TensorFlow 2.16 and later give `tf.keras` = Keras 3, and `pip install keras` installs Keras 3.
A program runs Keras 2 only when it pins it: it imports the `tf_keras` package itself, or sets
`TF_USE_LEGACY_KERAS` (then `tf.keras` is `tf_keras`, measured: docs/tensorflow-behaviour.md, Keras 3 section).
Any mention of `TF_USE_LEGACY_KERAS` in the file counts as a pin: whether the program sets it to "1", reads it
or branches on it, the Keras it runs on is chosen by the environment, which the file cannot show. A file that
imports the standalone `keras` package is taken to run Keras 3: that is what installs today, and a project that
pins `keras<3` says so in its requirements, not in the file (the rules' documentation states this choice).

**Receivers.** `model.fit_generator(...)` has no qualified name. A receiver is shown to be a Keras model when it
is bound, in this file, to `keras.Sequential(...)`, `keras.Model(...)`, `keras.models.load_model(...)` (and
the other model makers below), or an instance of a class of this file that derives from `keras.Model`; or it
is `self` inside such a class.
"""

from __future__ import annotations

import re

import libcst as cst

from tffix.rule import Rule

from ._shapes import StaticValues

_PIN = re.compile(
    r"^[ \t]*(?:import[ \t][^\n#]*\btf_keras\b|from[ \t]+tf_keras\b)|TF_USE_LEGACY_KERAS", re.MULTILINE
)
# The file uses Keras at all (any import form): an import of keras or tensorflow.keras, `from tensorflow import
# keras`, or `tf.keras` / `tensorflow.keras` spelled in code.
_USES_KERAS = re.compile(
    r"^[ \t]*(?:import|from)[ \t]+(?:tensorflow(?:\.compat\.v[12])?\.)?keras\b"
    r"|^[ \t]*from[ \t]+tensorflow(?:\.compat\.v[12])?[ \t]+import[ \t(][^\n]*\bkeras\b"
    r"|\b(?:tf|tensorflow)\.keras\b",
    re.MULTILINE,
)

_DEF = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+(\w+)", re.MULTILINE)

MODEL_MAKERS = (
    "keras.Sequential",
    "keras.Model",
    "keras.models.load_model",
    "keras.saving.load_model",
    "keras.models.model_from_json",
    "keras.models.model_from_yaml",
    "keras.models.clone_model",
)
MODEL_CLASSES = ("keras.Model", "keras.Sequential")


# A module-level binding of the name `keras` to Keras: `import keras`, `from tensorflow import keras`,
# `import tensorflow.keras as keras`.
_BINDS_KERAS = re.compile(
    r"^(?:import[ \t]+keras[ \t]*(?:$|[,#;])|from[ \t]+tensorflow(?:\.compat\.v[12])?[ \t]+import[ \t(][^\n]*\bkeras\b(?![ \t]+as)"
    r"|import[ \t]+tensorflow\.keras[ \t]+as[ \t]+keras\b)",
    re.MULTILINE,
)


def keras_name(source: str) -> tuple[str, tuple[str, ...]]:
    """How new code can name the Keras module: `keras`, with `import keras` to add unless the file already binds
    the name to Keras at module level."""
    return ("keras", ()) if _BINDS_KERAS.search(source) else ("keras", ("keras",))


def pins_keras2(source: str) -> bool:
    """The program pins Keras 2: it imports `tf_keras` or deals with `TF_USE_LEGACY_KERAS`."""
    return _PIN.search(source) is not None


def uses_keras(source: str) -> bool:
    """The file imports Keras in some form (`keras`, `tf.keras`, `tensorflow.keras`)."""
    return _USES_KERAS.search(source) is not None


def runs_keras3(source: str) -> bool:
    return uses_keras(source) and not pins_keras2(source)


def is_keras_model_class(rule: Rule, cls: cst.ClassDef) -> bool:
    return any(rule.is_api(base.value, *MODEL_CLASSES) for base in cls.bases)


def is_keras_model(rule: Rule, values: StaticValues, expr: cst.BaseExpression, depth: int = 0) -> bool:
    """`expr` is shown, in this file, to be a Keras model (see the module docstring)."""
    if depth > 4:
        return False
    if isinstance(expr, cst.Name) and expr.value == "self":
        cls = next((a for a in rule.ancestors(expr) if isinstance(a, cst.ClassDef)), None)
        return cls is not None and is_keras_model_class(rule, cls)
    if isinstance(expr, cst.Call) and isinstance(expr.func, (cst.Name, cst.Attribute)):
        if rule.is_api(expr.func, *MODEL_MAKERS):
            return True
        maker = values.assigned_value(expr.func) if isinstance(expr.func, cst.Name) else None
        return isinstance(maker, cst.ClassDef) and is_keras_model_class(rule, maker)
    if isinstance(expr, (cst.Name, cst.Attribute)):
        value = values.assigned_value(expr)
        return value is not None and is_keras_model(rule, values, value, depth + 1)
    return False


def own_method_names(source: str) -> frozenset[str]:
    """Names the file defines as functions or methods (`def fit_generator(self, ...)`): a call of such a name on a
    receiver not shown to be a Keras model may well be the program's own."""
    return frozenset(_DEF.findall(source))


def keras_receiver(rule: Rule, values: StaticValues, func: cst.Attribute, keras_file: bool, own: frozenset[str]) -> bool:
    """Whether `func`'s receiver (`receiver.method`) counts as a Keras model for a Keras-only method name: shown to
    be one, or, in a file that uses Keras, any receiver except `self` of a non-Keras class and except where the
    file defines a method of that name itself."""
    receiver = func.value
    if is_keras_model(rule, values, receiver):
        return True
    if isinstance(receiver, cst.Name) and receiver.value == "self":
        return False  # the class is not a Keras model: its method is its own
    return keras_file and func.attr.value not in own


def method_call(node: cst.Call, *names: str) -> cst.Attribute | None:
    """`node` is `receiver.NAME(...)` for one of `names`: the callee attribute, else None."""
    func = node.func
    if isinstance(func, cst.Attribute) and func.attr.value in names:
        return func
    return None


def without_arguments(call: cst.Call, keywords: frozenset[str]) -> cst.Call:
    """`call` without its keyword arguments in `keywords`, the last argument left keeping no stray comma."""
    kept = [arg for arg in call.args if arg.keyword is None or arg.keyword.value not in keywords]
    if kept and len(kept) < len(call.args) and call.args[-1] is not kept[-1]:
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return call.with_changes(args=kept)
