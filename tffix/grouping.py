"""Keeping Python's grouping intact when one expression node is put in place of another.

Rules replace nodes without caring where they sit: `tf.cast(tf.cast(a + b, tf.int32), tf.float32) * 2`
with the inner `a + b` must become `(a + b) * 2`, not `a + b * 2`. The engine calls `keep_grouping` for
every expression replacement, so no rule can get this wrong.
"""

from __future__ import annotations

import libcst as cst

ATOM = 100
_BINARY = {
    cst.BitOr: 6, cst.BitXor: 7, cst.BitAnd: 8, cst.LeftShift: 9, cst.RightShift: 9, cst.Add: 10,
    cst.Subtract: 10, cst.Multiply: 11, cst.Divide: 11, cst.FloorDivide: 11, cst.Modulo: 11,
    cst.MatrixMultiply: 11, cst.Power: 13,
}


def precedence(node: cst.BaseExpression) -> int:
    if node.lpar:
        return ATOM
    if isinstance(node, (cst.Lambda, cst.NamedExpr, cst.Yield)):
        return 0
    if isinstance(node, cst.IfExp):
        return 1
    if isinstance(node, cst.BooleanOperation):
        return 2 if isinstance(node.operator, cst.Or) else 3
    if isinstance(node, cst.UnaryOperation):
        return 4 if isinstance(node.operator, cst.Not) else 12
    if isinstance(node, cst.Comparison):
        return 5
    if isinstance(node, cst.BinaryOperation):
        return _BINARY.get(type(node.operator), 10)
    if isinstance(node, cst.Await):
        return 14
    if isinstance(node, cst.Tuple):
        return 0  # a bare tuple binds loosest of all
    return ATOM


def _needed(parent: cst.CSTNode | None, original: cst.BaseExpression) -> int:
    """The least precedence an expression needs to stand where `original` stands inside `parent`."""
    if isinstance(parent, (cst.Attribute, cst.Subscript)) and parent.value is original:
        return ATOM
    if isinstance(parent, cst.Call) and parent.func is original:
        return ATOM
    if isinstance(parent, (cst.BinaryOperation, cst.BooleanOperation, cst.UnaryOperation, cst.IfExp, cst.Comparison)):
        return precedence(parent.with_changes(lpar=(), rpar=())) + 1  # strictly tighter: always unambiguous
    if isinstance(parent, (cst.ComparisonTarget,)):
        return 6
    if isinstance(parent, cst.Await):
        return ATOM
    return 1  # argument, assignment value, element, return value: anything but a bare tuple/lambda


def keep_grouping(original: cst.BaseExpression, replacement: cst.BaseExpression, parent: cst.CSTNode | None):
    if original.lpar and not replacement.lpar:
        # The place was parenthesised in the source: keep exactly those parentheses.
        return replacement.with_changes(lpar=original.lpar, rpar=original.rpar)
    if precedence(replacement) < _needed(parent, original):
        return replacement.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return replacement
