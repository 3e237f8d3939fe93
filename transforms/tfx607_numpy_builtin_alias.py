"""TFX607: `np.float`, `np.int`, `np.object`, `np.str`, `np.complex`, `np.unicode`: aliases of Python's builtins
that NumPy removed.

## What it does

Reports `np.float` and the five others, reached through any alias of `numpy` (`import numpy as np`, `import
numpy`, `import numpy as onp`), and writes the builtin: `np.float` -> `float`, `np.int` -> `int`, `np.object`
-> `object`, `np.str` -> `str`, `np.complex` -> `complex`, `np.unicode` -> `str` (Python 3's unicode type).
Where the builtin's name is rebound in that scope (a variable called `int`), it is reported without a fix. Not
reported: `np.bool` and `np.long`, which NumPy 2 brought back. Like every rule, it runs on files that use
TensorFlow or Keras.

## Why is this bad?

NumPy up to 1.19 exported the builtins under these names (`np.float is float` was True), deprecated them in
1.20 and removed them in 1.24: legacy code stops at the first use.

## Measured TensorFlow behaviour

Measured with NumPy 2.4 (docs/tensorflow-behaviour.md, Keras 3 and NumPy 2 section; probe
numpy2_removed_names.py aliases): `np.float` raises `AttributeError: module 'numpy' has no attribute 'float'.
np.float was a deprecated alias for the builtin float ...`, the same for the five others; `np.bool` is
`numpy.bool` (NumPy's boolean scalar type) and `np.long` is `numpy.int64`, so code using them runs.

## Fix safety

The old name was the builtin object itself, so writing the builtin is exact: the fix is safe.
"""

from __future__ import annotations

import libcst as cst

from tffix.ast_detection import AstReport, NamesOnAst
from tffix.ast_facts import Facts
from tffix.model import Applicability
from tffix.rule import FailureKind, Fix, Invalid, Rewrite, Rule, Severity, Valid

from ._numpy2 import attribute_pattern, numpy_attribute, numpy_attributes_on_ast, shadowed, shadowed_on_ast

BUILTIN_OF = {"float": "float", "int": "int", "object": "object", "str": "str", "complex": "complex", "unicode": "str"}


# The failure this rule explains (`tffix explain` maps the message to it).
NUMPY_BUILTIN_ALIAS = FailureKind(
    "numpy-builtin-alias", "NumPy no longer has `np.float`, `np.int`, ...",
    """NumPy 1.24 removed `np.float`, `np.int`, `np.object`, `np.str`, `np.complex` (and `np.unicode`),
    which were Python's builtins under another name: write the builtin (`float`, `int`, ...).""",
    r"module 'numpy' has no attribute '(?:float|int|object|str|complex|unicode)'", exception="AttributeError",
)

class NumpyBuiltinAlias(Rule):
    """`np.float` and the other removed aliases of Python builtins raise `AttributeError` on NumPy 1.24+."""

    code = "TFX607"
    name = "numpy-builtin-alias"
    summary = "np.float / np.int / np.object / np.str / np.complex are gone (NumPy 1.24+): use the builtin"
    explains = (NUMPY_BUILTIN_ALIAS,)
    fix = Fix.sometimes("safe")
    severity = Severity.ERROR
    # Its names resolve to `numpy.X`, which needs an import naming numpy: the one word every finding needs
    # (the removed names themselves, `int`, `float`, `product`, are in nearly every file).
    triggers = ("numpy",)
    trigger_pattern = attribute_pattern(BUILTIN_OF)  # a finding is a `numpy.NAME` attribute: `.NAME` is in the text
    import_gate = False  # NumPy names: a file that imports no TensorFlow still has them

    VALID = (
        Valid("import numpy as np\nimport tensorflow as tf\nx = np.zeros(3, dtype=np.float32)\nb = np.bool\n"),
        Valid("import tensorflow as tf\nclass C:\n    float = 1\nc = C().float\n"),
    )
    INVALID = (
        Invalid(
            "import numpy as np\nimport tensorflow as tf\nx = np.zeros(3).astype(np.float)\n",
            "import numpy as np\nimport tensorflow as tf\nx = np.zeros(3).astype(float)\n",
        ),
        Invalid(
            "import numpy\nimport tensorflow as tf\nn = numpy.int(tf.size(x))\n",
            "import numpy\nimport tensorflow as tf\nn = int(tf.size(x))\n",
        ),
        Invalid(
            "import numpy as np\nimport tensorflow as tf\ndef f(int):\n    return np.int(int)\n",
            None,
        ),
    )

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """A finding is an attribute whose qualified name is `numpy.NAME` for a removed NAME."""
        return facts.resolves_to(*(f"numpy.{name}" for name in BUILTIN_OF))

    @classmethod
    def detect(cls, module: NamesOnAst) -> list[AstReport] | None:
        found = numpy_attributes_on_ast(module, frozenset(BUILTIN_OF))
        if found is None or any(shadowed_on_ast(module, BUILTIN_OF[name]) is not False for _, name in found):
            return None
        return [
            AstReport(node, _message(name), (_fix_title(name), Applicability.SAFE)) for node, name in found
        ]

    def visit_Attribute(self, node: cst.Attribute) -> None:
        name = numpy_attribute(self, node, frozenset(BUILTIN_OF))
        if name is None:
            return
        builtin = BUILTIN_OF[name]
        if shadowed(self, node, builtin):
            self.report(node, _message(name) + f" (`{builtin}` is rebound here: write `builtins.{builtin}`)")
            return
        self.report(node, _message(name), rewrite=Rewrite.replace(_fix_title(name), {node: cst.Name(builtin)}))


def _message(name: str) -> str:
    return f"`np.{name}` was removed in NumPy 1.24 (`AttributeError`); it was the builtin `{BUILTIN_OF[name]}`"


def _fix_title(name: str) -> str:
    return f"Use the builtin `{BUILTIN_OF[name]}`"
