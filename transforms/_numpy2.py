"""What the NumPy removal rules (TFX607, TFX608) share: `numpy.NAME` attributes reached through any alias."""

from __future__ import annotations

import libcst as cst

from tffix.rule import Rule


def numpy_attribute(rule: Rule, node: cst.Attribute, names: frozenset[str]) -> str | None:
    """The removed name `node` is (`np.float` -> "float") when it resolves to `numpy.NAME` for one of `names`
    through the file's imports (`import numpy as np`, `import numpy`), else None."""
    name = node.attr.value
    if name not in names:
        return None
    return name if f"numpy.{name}" in rule.qualified_names(node) else None


def shadowed(rule: Rule, node: cst.CSTNode, name: str) -> bool:
    """A builtin `name` is rebound where `node` is (a variable called `float`, say): writing it there would
    not mean the builtin."""
    scope = rule.analysis.scope(node)
    if scope is None:
        return True
    return any(getattr(a, "node", None) is not None for a in scope[name])
