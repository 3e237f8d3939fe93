"""What the rules' preconditions (`Rule.can_fire`, on Python's `ast`: `tffix.ast_facts`) share about values."""

from __future__ import annotations

import ast
from collections.abc import Callable

from tffix.ast_facts import Facts

from ._values import INT_DTYPES


def least_fixpoint(
    facts: Facts, holds: Callable[[ast.expr, int | None], bool], names: set[tuple[str, int | None]], attributes: set[str]
) -> None:
    """Grow `names` ((name, scope of the binding)) and `attributes` (attribute names) with every binding of the file
    (`Facts.bindings`, `Facts.attribute_bindings`) whose value `holds` (read in the binding's scope) may be of a
    kind of value, until nothing changes: `holds` reads a name used in scope S as held when (name, S) or
    (name, None) is in `names` (a name means a binding of its own scope or the module's)."""
    changed = True
    while changed:
        changed = False
        for name, value, scope in facts.bindings:
            if (name, scope) not in names and holds(value, scope):
                names.add((name, scope))
                changed = True
        for name, value, scope in facts.attribute_bindings:
            if name not in attributes and holds(value, scope):
                attributes.add(name)
                changed = True


def maybe_int_dtype(facts: Facts, expr: ast.expr | None, dtype_of_int: Callable[[ast.expr], bool] | None = None) -> bool:
    """`expr` may be what `StaticValues.dtype_name` reads as an integer dtype: `tf.int32`, `np.int64`, `"int32"`,
    `int`, `x.dtype` (a qualified name ending in an integer dtype; a call or subscript by its callee or value).
    `dtype_of_int`: whether `x` may have an integer dtype, for `x.dtype` (None: it may)."""
    while type(expr) is ast.Call or type(expr) is ast.Subscript:
        expr = expr.func if type(expr) is ast.Call else expr.value  # type: ignore[union-attr]
    kind = type(expr)
    if kind is ast.Constant:
        return expr.value in INT_DTYPES  # type: ignore[union-attr]
    if kind is ast.Attribute:
        if expr.attr == "dtype":  # type: ignore[union-attr]
            return dtype_of_int is None or dtype_of_int(expr.value)  # type: ignore[union-attr]
        return expr.attr in INT_DTYPES  # type: ignore[union-attr]
    if kind is ast.Name:
        return expr.id == "int" or any(q.rpartition(".")[2] in INT_DTYPES for q in facts.chains.get(id(expr), ()))  # type: ignore[union-attr]
    return False
