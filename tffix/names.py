"""Canonical names for TensorFlow and Keras APIs, whatever import form brought them in.

LibCST's QualifiedNameProvider resolves `tf.keras.layers.Dense` after `import tensorflow as tf` to
`tensorflow.keras.layers.Dense`, `keras.layers.Dense` after `from tensorflow import keras` to the same, and
`Dense` after `from keras.layers import Dense` to `keras.layers.Dense`. Rules want one spelling per API, so
qualified names are folded here:

- `tensorflow.X`, `tensorflow.compat.v1.X`, `tensorflow.compat.v2.X`  ->  `tf.X`
- `tensorflow.keras.X`, `keras.X`, `tf_keras.X`, `tensorflow.python.keras.X`  ->  `keras.X`
- `tf.losses.<Class>`, `tf.keras.losses.<Class>` -> `keras.losses.<Class>` (TF2 re-exports Keras' classes)
"""

from __future__ import annotations

from collections.abc import Iterable

_TF_PREFIXES = ("tensorflow.compat.v1.", "tensorflow.compat.v2.", "tensorflow.")
_KERAS_PREFIXES = ("tensorflow.keras.", "tensorflow.python.keras.", "tf_keras.", "keras.")
# Keras 3 exports the same classes from several modules; rules name the public one.
_KERAS_ALIASES = {
    "keras.models.Sequential": "keras.Sequential",
    "keras.models.Model": "keras.Model",
    "keras.engine.sequential.Sequential": "keras.Sequential",
    "keras.engine.training.Model": "keras.Model",
    "keras.layers.core.Dense": "keras.layers.Dense",
}


def canonical(qualified_name: str) -> str | None:
    """The canonical spelling of a TensorFlow/Keras API name, or None when it is neither."""
    name = qualified_name
    for prefix in _KERAS_PREFIXES:
        if name.startswith(prefix) or name == prefix[:-1]:
            rest = name[len(prefix):] if name.startswith(prefix) else ""
            result = f"keras.{rest}" if rest else "keras"
            return _KERAS_ALIASES.get(result, result)
    for prefix in _TF_PREFIXES:
        if name.startswith(prefix) or name == prefix[:-1]:
            rest = name[len(prefix):] if name.startswith(prefix) else ""
            if rest.startswith("keras.") or rest == "keras":
                return canonical("keras." + rest[len("keras."):]) if rest != "keras" else "keras"
            if rest.startswith("losses.") and rest[len("losses."):][:1].isupper():
                return "keras." + rest
            return f"tf.{rest}" if rest else "tf"
    return None


def canonical_all(qualified_names: Iterable[str]) -> frozenset[str]:
    return frozenset(c for q in qualified_names if (c := canonical(q)) is not None)


def leaves(*names: str) -> frozenset[str]:
    """The leaf names (`GradientTape` of `tf.GradientTape`) of canonical API names: what a rule's `anchors`
    are made of."""
    return frozenset(name.rpartition(".")[2] for name in names)
