"""TFX609: `tf.compat.v1.layers` (`tf.layers` of `import tensorflow.compat.v1 as tf`), absent with Keras 3.

## What it does

Reports every use of a name that resolves to `tensorflow.compat.v1.layers.*` (`tf.compat.v1.layers.dense`,
`tf.layers.conv2d` after `import tensorflow.compat.v1 as tf`, `layers.Dense` after `from tensorflow.compat.v1
import layers`). Not where Keras 2 is pinned (`tf_keras` imported, or `TF_USE_LEGACY_KERAS` in the program).
Only `tensorflow.compat.v1.layers.*` is matched: `tf.layers` of a plain `import tensorflow as tf` is TF1 code
on TF2 (`module 'tensorflow' has no attribute 'layers'`), another migration.

## Why is this bad?

TF1's `tf.layers.dense`, `conv2d`, `batch_normalization`, ... (and the classes `Dense`, `Conv2D`) built Keras
2 layers inside TF1's variable scopes and collections; TF 2.x keeps them as `tf.compat.v1.layers`, implemented
by Keras 2. With Keras 3 (TF 2.16 and later) they are gone, and TF1 programs that otherwise run through
`tensorflow.compat.v1` stop there.

## Measured TensorFlow behaviour

Measured on tensorflow-cpu 2.21 (docs/tensorflow-behaviour.md, Keras 3 section; probe keras3_compat_layers.py):

- `tf.compat.v1.layers.dense` (also `conv2d`, the class `Dense`) raises `AttributeError: dense is not available
  with Keras 3.`, in eager and in graph mode (`disable_v2_behavior`) alike;
- with `TF_USE_LEGACY_KERAS=1` set before TensorFlow is imported, and `tf-keras` installed, the same TF1 graph
  program runs.

## Fix safety

No fix: the port to `tf.keras.layers.Dense(...)(x)` is not exact (variable names and scopes, `reuse`, TF1
collections and regularization losses work differently, and Keras 3 layers do not build inside a TF1 graph
session), and pinning Keras 2 is a change of the environment (`pip install tf-keras`) that a source edit
cannot make. The message names both ways.
"""

from __future__ import annotations

import libcst as cst

from tffix.ast_detection import AstReport, NamesOnAst
from tffix.ast_facts import Facts
from tffix.rule import FailureKind, Fix, Invalid, Rule, Severity, Valid

from ._keras3 import pins_keras2

# The failure this rule is the main cause of, as `tffix explain` recognises it (moved here from tffix.families).
KERAS3_REMOVED_API = FailureKind(
    "keras3-removed-api", "A Keras 2 API that Keras 3 no longer has",
    """TensorFlow 2.16 and later use Keras 3, which dropped `tf.compat.v1.layers` and other Keras 2 APIs.
    Install `tf-keras` and set `TF_USE_LEGACY_KERAS=1`, or port the code to `tf.keras.layers`.""",
    r"is not available with Keras 3",
)

PREFIX = "tensorflow.compat.v1.layers."


class CompatV1Layers(Rule):
    """`tf.compat.v1.layers.X` raises `AttributeError: X is not available with Keras 3`."""

    code = "TFX609"
    name = "compat-v1-layers"
    summary = "tf.compat.v1.layers.* is not available with Keras 3: port to tf.keras.layers or pin Keras 2"
    explains = (KERAS3_REMOVED_API,)
    fix = Fix.none()
    severity = Severity.ERROR
    triggers = ("compat",)  # every spelling that reaches tensorflow.compat.v1 names it

    VALID = (
        Valid("import tensorflow as tf\nh = tf.keras.layers.Dense(4)(x)\n"),
        Valid(
            "import os\nos.environ['TF_USE_LEGACY_KERAS'] = '1'\nimport tensorflow.compat.v1 as tf\n"
            "h = tf.layers.dense(x, 4)\n"
        ),
    )
    INVALID = (
        Invalid("import tensorflow.compat.v1 as tf\nh = tf.layers.dense(x, 4)\n", None),
        Invalid("import tensorflow as tf\nh = tf.compat.v1.layers.conv2d(x, 8, 3)\n", None),
        Invalid("from tensorflow.compat.v1 import layers\nnorm = layers.BatchNormalization()\n", None),
    )

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """A finding is a name whose qualified name is `tensorflow.compat.v1.layers.NAME`."""
        return any(_is_removed(q) for q in facts.qualified)

    @classmethod
    def detect(cls, module: NamesOnAst) -> list[AstReport] | None:
        if pins_keras2(module.source):
            return []
        reports = []
        for node in (*module.attributes, *module.names):  # what the visitor visits, as `ast` has them
            qualified = module.qualified(node, _is_removed)
            if qualified is None:
                return None
            if (name := _removed(qualified)) is not None:
                reports.append(AstReport(node, _message(name)))
        # Names that LibCST visits as `Name` (or `Attribute`) nodes and `ast` keeps as strings: a parameter or a
        # function called like a removed name, a keyword argument, an import's path or `as` name. Any that could
        # be a finding leaves the file to LibCST.
        strings = (*module.other_bindings, *module.keyword_names, *(name for name, _ in module.import_as_names))
        for name in (*strings, *module.import_paths):
            qualified = module.qualified_path(name, _is_removed)
            if qualified is None or _removed(qualified) is not None:
                return None
        return reports

    def __init__(self, context) -> None:
        super().__init__(context)
        self.pinned = pins_keras2(context.source)

    def _check(self, node: cst.BaseExpression) -> None:
        if self.pinned:
            return
        name = _removed(self.qualified_names(node))
        if name is not None:
            self.report(node, _message(name))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._check(node)

    def visit_Name(self, node: cst.Name) -> None:
        parent = self.parent(node)
        if isinstance(parent, (cst.Attribute, cst.ImportAlias, cst.ImportFrom)) or not self.qualified_names(node):
            return
        self._check(node)


def _removed(qualified_names: frozenset[str]) -> str | None:
    """The NAME of a qualified name `tensorflow.compat.v1.layers.NAME` among `qualified_names`."""
    for name in qualified_names:
        if _is_removed(name):
            return name[len(PREFIX):]
    return None


def _is_removed(qualified_name: str) -> bool:
    rest = qualified_name[len(PREFIX):] if qualified_name.startswith(PREFIX) else ""
    return bool(rest) and "." not in rest


def _message(name: str) -> str:
    return (
        f"`tf.compat.v1.layers.{name}` is not available with Keras 3 (`AttributeError`): port it to "
        "`tf.keras.layers` (not exact: TF1 variable scopes, reuse and collections differ), or install "
        "`tf-keras` and set `TF_USE_LEGACY_KERAS=1` before importing TensorFlow"
    )
