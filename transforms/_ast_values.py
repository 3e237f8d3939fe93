"""What the rules' preconditions (`Rule.can_fire`, on Python's `ast`: `tffix.ast_facts`) share about values."""

from __future__ import annotations

import ast
from collections.abc import Callable

from tffix.ast_facts import Facts

from ._constructors import TF_CONSTRUCTORS
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


class Shaped:
    """Which expressions may have a static shape (`StaticValues.shape_of`), on Python's `ast`: a superset. What
    StaticValues gives no shape: a subscript, a number, a comparison...; a call of a TensorFlow API that is not
    one of its makers (`tf.nn.conv2d(...)`); a function parameter (no binding). Names are read in `scope`."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.scope: int | None = None
        self.names: set[tuple[str, int | None]] = set()
        self.attributes: set[str] = set()
        least_fixpoint(facts, self._in, self.names, self.attributes)
        self.scope = None

    def _in(self, expr: ast.expr, scope: int | None) -> bool:
        self.scope = scope
        return self.maybe(expr)

    def maybe(self, expr: ast.expr | None) -> bool:
        kind = type(expr)
        if kind is ast.Name:
            return (expr.id, self.scope) in self.names or (expr.id, None) in self.names  # type: ignore[union-attr]
        if kind is ast.Attribute:
            return expr.attr in self.attributes  # type: ignore[union-attr]
        if kind is ast.UnaryOp:
            return self.maybe(expr.operand)  # type: ignore[union-attr]
        if kind is ast.BinOp:
            return self.maybe(expr.left) or self.maybe(expr.right)  # type: ignore[union-attr]
        if kind is ast.List or kind is ast.Tuple:
            return True  # literal data
        if kind is not ast.Call:
            return False
        func = expr.func  # type: ignore[union-attr]
        if type(func) is ast.Attribute and func.attr in ("astype", "numpy", "predict", "predict_on_batch", "__call__"):
            return True
        names = self.facts.api_names(func)
        if not names or any(n in TF_CONSTRUCTORS or not n.startswith("tf.") for n in names):
            return True  # a maker, Keras (a layer applied, a model), NumPy, the module's own functions
        # another TensorFlow API: no shape, unless the callee name is also the module's own
        return type(func) is ast.Name and (func.id in self.facts.bound or func.id in self.facts.functions)
