"""The walks over LibCST trees that the shape inference repeats, kept once per check.

`node.children` rebuilds a node's children on every read, and the inference walks the same function bodies
again and again; `walk_kind` keeps each node's descendants in a dict that lives in the file's analysis
(`walk_cache`), as does the numbering of statements (`number_statements`).
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from tffix.parents import children as _libcst_children
from tffix.rule import FileAnalysis, Rule


def unwrap(node: cst.CSTNode | None) -> cst.CSTNode | None:
    """An argument's value (rules may pass `argument(...)` results as they come)."""
    return node.value if isinstance(node, cst.Arg) else node


def ends_in_return(body: cst.BaseSuite) -> bool:
    """Every way through `body` ends in a `return` or `raise` (so the function never returns None unseen)."""
    if isinstance(body, cst.SimpleStatementSuite):
        return bool(body.body) and isinstance(body.body[-1], (cst.Return, cst.Raise))
    return bool(body.body) and _exits(body.body[-1])


def _exits(statement: cst.BaseStatement) -> bool:
    if isinstance(statement, cst.SimpleStatementLine):
        return isinstance(statement.body[-1], (cst.Return, cst.Raise))
    if isinstance(statement, cst.With):
        return ends_in_return(statement.body)
    if isinstance(statement, cst.If) and statement.orelse is not None and ends_in_return(statement.body):
        rest = statement.orelse
        return _exits(rest) if isinstance(rest, cst.If) else ends_in_return(rest.body)
    return False


def decorator_name(decorator: cst.Decorator) -> cst.BaseExpression:
    """What a decorator names: `tf.function` for both `@tf.function` and `@tf.function(jit_compile=True)`."""
    expr = decorator.decorator
    return expr.func if isinstance(expr, cst.Call) else expr


def methods(cls: cst.ClassDef) -> Iterator[cst.FunctionDef]:
    for statement in cls.body.body:
        if isinstance(statement, cst.FunctionDef):
            yield statement


def walk_kind(node: cst.CSTNode, kind: type, skip_nested: bool = False, cache: dict | None = None) -> Iterator:
    """Nodes of `kind` under `node` (preorder, lexical order), optionally not entering nested functions and
    classes. `cache` (one dict per module being checked, see `StaticValues`) keeps each node's descendants:
    `node.children` rebuilds the node on every read, and the same bodies are walked again and again."""
    return (n for n in _descendants(node, skip_nested, {} if cache is None else cache) if isinstance(n, kind))


_NESTED = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


def walk_cache(rule: Rule | FileAnalysis) -> dict:
    """The structural facts `walk_kind` and `_self_assignment_index` keep for the file being checked: one dict per
    check, shared by its rules. They are pure functions of the (immutable) nodes, so sharing them cannot change
    a result."""
    return rule.analysis.fact(walk_cache, dict)


STATEMENTS = (cst.SimpleStatementLine, cst.BaseCompoundStatement)


# What holds statements, below a statement: suites, and the clauses of compound statements.
_STATEMENT_HOLDERS = (*STATEMENTS, cst.BaseSuite, cst.Else, cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally,
                      cst.MatchCase)


STATEMENT_NUMBERS = "statement numbers"  # the key of `number_statements`' result in the shared walk cache


def number_statements(module: cst.Module) -> dict[cst.CSTNode, int]:
    """Every statement of `module`, numbered in source order (a compound statement before its body)."""
    numbers: dict[cst.CSTNode, int] = {}
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        if isinstance(node, STATEMENTS):
            numbers[node] = len(numbers)
            if isinstance(node, cst.SimpleStatementLine):
                continue
        stack.extend(reversed([c for c in _libcst_children(node) if isinstance(c, _STATEMENT_HOLDERS)]))
    return numbers


def self_attribute(node: cst.CSTNode, self_name: str) -> str | None:
    """`attr` when `node` is `<self_name>.attr`."""
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == self_name:
        return node.attr.value
    return None


def _descendants(node: cst.CSTNode, skip_nested: bool, cache: dict) -> tuple[cst.CSTNode, ...]:
    # Cached for the node walked from only (keyed by id, with the node kept in the entry so that its id cannot be
    # reused while cached): caching every node's descendants on the way made the cache as large as the file
    # times its depth.
    key = (id(node), skip_nested)
    entry = cache.get(key)
    if entry is not None:
        return entry[1]
    found: list[cst.CSTNode] = []
    stack = list(reversed(_libcst_children(node)))
    while stack:
        child = stack.pop()
        found.append(child)
        if skip_nested and isinstance(child, _NESTED):
            continue
        stack.extend(reversed(_libcst_children(child)))
    result = tuple(found)
    cache[key] = (node, result)
    return result
