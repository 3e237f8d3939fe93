"""What the NumPy removal rules (TFX607, TFX608) share: `numpy.NAME` attributes reached through any alias."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

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


def attribute_pattern(names: Iterable[str]) -> re.Pattern[str]:
    """What the text of a file with a `numpy.NAME` attribute for one of `names` contains: a dot, then the name as a
    whole word, with nothing between but what Python allows there (spaces, line breaks inside brackets, a line
    continuation, a comment). The rules report only such attributes (`numpy_attribute`), so a file without a
    match cannot give a finding (`Rule.trigger_pattern`)."""
    alternatives = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    # Possessive: each stretch between the dot and the name can be read one way only, so a line of `#####` after
    # a dot costs one pass, not one per way of cutting it into comments.
    return re.compile(rf"\.(?:\s++|\\|#[^\r\n]*+)*+(?:{alternatives})\b")


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
