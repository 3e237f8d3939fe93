"""What the NumPy removal rules (TFX607, TFX608) share: `numpy.NAME` attributes reached through any alias."""

from __future__ import annotations

import ast

import libcst as cst

from tffix.ast_detection import NamesOnAst
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


def numpy_attributes_on_ast(module: NamesOnAst, names: frozenset[str]) -> list[tuple[ast.Attribute, str]] | None:
    """What `numpy_attribute` finds in a file, found on `ast` (`tffix.ast_detection`): the attributes that are
    `numpy.NAME` for one of `names`, with NAME; None when that is not certain there."""
    found = []
    for node in module.attributes:
        if node.attr in names:
            wanted = f"numpy.{node.attr}"
            qualified = module.qualified(node, wanted.__eq__)
            if qualified is None:
                return None
            if wanted in qualified:
                found.append((node, node.attr))
    for path in module.import_paths:  # LibCST's `Attribute` nodes of import statements
        name = path.rpartition(".")[2]
        wanted = f"numpy.{name}"
        if name in names and ((qualified := module.qualified_path(path, wanted.__eq__)) is None or wanted in qualified):
            return None
    return found


def shadowed_on_ast(module: NamesOnAst, name: str) -> bool | None:
    """`shadowed` on `ast`, for any node of the file: False when nothing binds the builtin `name` anywhere in it,
    else None (whether the binding reaches a given node is left to LibCST's scopes)."""
    if name in module.imported or name in module.other_bindings or name in module.uncertain:
        return None
    return False
