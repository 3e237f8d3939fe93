"""TFX608: NumPy names removed in NumPy 2.0 (`np.float_`, `np.NaN`, `np.Inf`, `np.product`, `np.string_`, ...).

## What it does

Reports the names NumPy 2.0 removed, reached through any alias of `numpy`, and writes the name NumPy 2 keeps
for the same object, through the same module alias (`np.float_` -> `np.float64`, `numpy.Inf` -> `numpy.inf`,
`np.NINF` -> `-np.inf`, parenthesised where an operator would bind tighter). Names without a same-object
replacement (`np.in1d`, `np.asfarray`, `np.msort`, `np.cast`, `np.find_common_type`, `np.issubclass_`,
`np.safe_eval`, `np.sctypes`) are reported without a fix, with what to use.

## Why is this bad?

NumPy 1.x kept many aliases (`np.float_` for `np.float64`, `np.NaN`/`np.Inf` for `np.nan`/`np.inf`,
`np.product` for `np.prod`, `np.string_` for `np.bytes_`, `np.bool8` for `np.bool_`, `np.trapz` for what is
now `np.trapezoid`) and a few helpers; NumPy 2.0 removed them (NEP 52), so legacy code stops at the first use.

## Measured TensorFlow behaviour

Measured with NumPy 2.4 (docs/tensorflow-behaviour.md, Keras 3 and NumPy 2 section; probe
numpy2_removed_names.py numpy2, replacements): each raises `AttributeError` (`np.float_ was removed in the
NumPy 2.0 release. Use np.float64 instead.`), and each replacement exists. `np.isin` keeps the shape of its
input where `np.in1d` flattened it.

## Fix safety

The old name was an alias of exactly the object written instead, so the fix is safe. The names without a
same-object replacement get no fix.
"""

from __future__ import annotations

import libcst as cst

from tffix.ast_detection import AstReport, NamesOnAst
from tffix.ast_facts import Facts
from tffix.model import Applicability
from tffix.rule import FailureKind, Fix, Invalid, Rewrite, Rule, Severity, Valid

from ._numpy2 import attribute_pattern, numpy_attribute, numpy_attributes_on_ast

RENAMED = {
    "float_": "float64", "complex_": "complex128", "cfloat": "complex128", "singlecomplex": "complex64",
    "longfloat": "longdouble", "longcomplex": "clongdouble", "clongfloat": "clongdouble",
    "string_": "bytes_", "unicode_": "str_", "bool8": "bool_", "int0": "intp", "uint0": "uintp",
    "NaN": "nan", "Inf": "inf", "Infinity": "inf", "infty": "inf", "PINF": "inf",
    "product": "prod", "cumproduct": "cumprod", "alltrue": "all", "sometrue": "any", "round_": "round",
    "trapz": "trapezoid", "mat": "asmatrix",
}
NEGATED = {"NINF": "inf"}
ADVICE = {
    "in1d": "`np.isin(a, b).ravel()` (isin keeps the shape of `a`; in1d flattened it)",
    "asfarray": "`np.asarray(a, dtype=np.float64)` (asfarray kept other float dtypes)",
    "msort": "`np.sort(a, axis=0)`",
    "cast": "`np.asarray(a, dtype=...)`",
    "find_common_type": "`np.result_type` or `np.promote_types`",
    "issubclass_": "the builtin `issubclass` (which raises where issubclass_ returned False)",
    "safe_eval": "`ast.literal_eval`",
    "sctypes": "the dtypes by name",
}
REMOVED = frozenset((*RENAMED, *NEGATED, *ADVICE))
# Where `-np.inf` needs parentheses to keep meaning `(-inf)`: an operand of `**`, an attribute's object, ...
_TIGHT = (cst.Attribute, cst.Subscript, cst.UnaryOperation, cst.Await)


# The failure this rule explains (`tffix explain` maps the message to it).
NUMPY2_REMOVED_NAME = FailureKind(
    "numpy2-removed-name", "A NumPy name removed in NumPy 2.0",
    """NumPy 2.0 removed many aliases (`np.float_`, `np.NaN`, `np.Inf`, `np.product`, `np.string_`, ...):
    the same objects are there under their kept names (`np.float64`, `np.nan`, `np.inf`, `np.prod`, `np.bytes_`).""",
    r"was removed in the NumPy 2\.0 release|module 'numpy' has no attribute '(?:product|cumproduct|bool8|int0|uint0|trapz|in1d|msort)'", exception="AttributeError",
)

class Numpy2RemovedName(Rule):
    """A NumPy name removed in 2.0 raises `AttributeError`; the fix writes the name NumPy 2 keeps."""

    code = "TFX608"
    name = "numpy2-removed-name"
    summary = "np.float_ / np.NaN / np.Inf / np.product / np.string_ ... were removed in NumPy 2.0"
    explains = (NUMPY2_REMOVED_NAME,)
    fix = Fix.sometimes("safe")
    severity = Severity.ERROR
    # Its names resolve to `numpy.X`, which needs an import naming numpy: the one word every finding needs
    # (the removed names themselves, `int`, `float`, `product`, are in nearly every file).
    triggers = ("numpy",)
    trigger_pattern = attribute_pattern(REMOVED)  # a finding is a `numpy.NAME` attribute: `.NAME` is in the text
    import_gate = False  # NumPy names: a file that imports no TensorFlow still has them

    VALID = (
        Valid("import numpy as np\nimport tensorflow as tf\nx = np.full(3, np.nan, dtype=np.float64)\n"),
        Valid("import tensorflow as tf\nimport pandas as pd\nm = pd.NaT\nx = tf.constant(1.0)\n"),
    )
    INVALID = (
        Invalid(
            "import numpy as np\nimport tensorflow as tf\nbest = np.Inf\nx = np.zeros(2, np.float_)\n",
            "import numpy as np\nimport tensorflow as tf\nbest = np.inf\nx = np.zeros(2, np.float64)\n",
        ),
        Invalid(
            "import numpy as onp\nimport tensorflow as tf\nlow = onp.NINF ** 2\n",
            "import numpy as onp\nimport tensorflow as tf\nlow = (-onp.inf) ** 2\n",
        ),
        Invalid("import numpy as np\nimport tensorflow as tf\nm = np.in1d(a, b)\n", None),
    )

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """A finding is an attribute whose qualified name is `numpy.NAME` for a removed NAME."""
        return facts.resolves_to(*(f"numpy.{name}" for name in REMOVED))

    @classmethod
    def detect(cls, module: NamesOnAst) -> list[AstReport] | None:
        found = numpy_attributes_on_ast(module, REMOVED)
        if found is None:
            return None
        return [
            AstReport(node, _message(name), None if name in ADVICE else (_fix_title(name), Applicability.SAFE))
            for node, name in found
        ]

    def visit_Attribute(self, node: cst.Attribute) -> None:
        name = numpy_attribute(self, node, REMOVED)
        if name is None:
            return
        if name in ADVICE:
            self.report(node, _message(name))
            return
        new = RENAMED.get(name) or NEGATED[name]
        replacement: cst.BaseExpression = node.with_changes(attr=cst.Name(new))
        if name in NEGATED:
            parent = self.parent(node)
            tight = isinstance(parent, _TIGHT) or (
                isinstance(parent, cst.BinaryOperation) and isinstance(parent.operator, cst.Power)
            ) or (isinstance(parent, cst.Call) and parent.func is node)
            replacement = cst.UnaryOperation(
                cst.Minus(), replacement,
                lpar=[cst.LeftParen()] if tight else [], rpar=[cst.RightParen()] if tight else [],
            )
        self.report(node, _message(name), rewrite=Rewrite.replace(_fix_title(name), {node: replacement}))


def _spelled(name: str) -> str:
    """What replaces `np.NAME` (a renamed or negated name)."""
    return f"-np.{NEGATED[name]}" if name in NEGATED else f"np.{RENAMED[name]}"


def _message(name: str) -> str:
    message = f"`np.{name}` was removed in NumPy 2.0 (`AttributeError`)"
    return f"{message}: use {ADVICE[name]}" if name in ADVICE else f"{message}: it was `{_spelled(name)}`"


def _fix_title(name: str) -> str:
    return f"Write `{_spelled(name)}`"
