"""Small LibCST utilities the rules and their helpers share: a node's source text and line, its statement
and enclosing function, loops between a node and a block, statements inserted before or after one, names a
fix may bind without clashing, and `TF`, the one builder of TensorFlow code in this module's own spelling of
`tensorflow` (`tf`, `tensorflow`, a `compat.v1` alias).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m
from libcst.metadata.scope_provider import ImportAssignment

from tffix.fastvisit import CopyFreeVisitor
from tffix.rule import FileAnalysis, Rule


def code_of(node: cst.CSTNode) -> str:
    return cst.Module(body=()).code_for_node(node)


def fresh_name(preferred: str | Sequence[str], taken: set[str]) -> str:
    """The first of `preferred` not in `taken`, else the last with `_2`, `_3`...: added to `taken`."""
    candidates = [preferred] if isinstance(preferred, str) else list(preferred)
    candidate = next((name for name in candidates if name not in taken), None)
    number = 2
    while candidate is None or candidate in taken:
        candidate, number = f"{candidates[-1]}_{number}", number + 1
    taken.add(candidate)
    return candidate


def names_in(module: cst.Module) -> set[str]:
    """Every name the module uses or binds: what a new name must not be."""
    return {node.value for node in m.findall(module, m.Name())}  # type: ignore[union-attr]


def numpy_name(owner: Rule | FileAnalysis, func: cst.CSTNode) -> str | None:
    """`square` for `np.square` (whatever NumPy was imported as), else None."""
    for name in owner.analysis.qualified_names(func):
        if name.startswith("numpy."):
            return name[len("numpy."):]
    return None


def calls_in(node: cst.CSTNode) -> list[cst.Call]:
    """Every call in `node`, in source order, not looking into nested functions and classes (code that runs
    when they are called, not here)."""
    finder = _CallFinder()
    node.visit(finder)
    return finder.found


class _CallFinder(CopyFreeVisitor):  # LibCST's own visit copies every node it passes
    def __init__(self) -> None:
        super().__init__()
        self.found: list[cst.Call] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Call(self, node: cst.Call) -> None:
        self.found.append(node)


def single_assigned_value(rule: Rule, name: cst.Name) -> cst.BaseExpression | None:
    """The value of `name` when its scope assigns it exactly once, by a plain `name = value`."""
    try:
        scope = rule.analysis.scope(name)
    except KeyError:
        return None
    if scope is None:
        return None
    assignments = list(scope.assignments[name.value])
    if len(assignments) != 1:
        return None
    node = getattr(assignments[0], "node", None)
    parent = rule.parent(node) if node is not None else None
    if isinstance(parent, cst.AssignTarget):
        statement = rule.parent(parent)
        if isinstance(statement, cst.Assign) and len(statement.targets) == 1:
            return statement.value
    return None


BARRIERS = (cst.FunctionDef, cst.Lambda, cst.ClassDef)


LOOPS = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


def enclosing_function(rule: Rule, node: cst.CSTNode) -> cst.FunctionDef | None:
    for ancestor in rule.ancestors(node):
        if isinstance(ancestor, cst.FunctionDef):
            return ancestor
        if isinstance(ancestor, (cst.Lambda, cst.ClassDef)):
            return None
    return None


def in_loop_below(rule: Rule, node: cst.CSTNode, top: cst.CSTNode) -> bool:
    """`node` sits in a loop or comprehension that is itself inside `top`."""
    for ancestor in rule.ancestors(node):
        if ancestor is top:
            return False
        if isinstance(ancestor, LOOPS):
            return True
    return False


def statement_of(rule: Rule, node: cst.CSTNode) -> cst.BaseStatement | None:
    """The statement, directly in a block, that holds `node` (where new statements can go before it)."""
    for ancestor in (node, *rule.ancestors(node)):
        if isinstance(ancestor, (cst.Lambda,)):
            return None
        if isinstance(ancestor, cst.BaseStatement) and isinstance(rule.parent(ancestor), (cst.IndentedBlock, cst.Module)):
            return ancestor
    return None


def line_of(rule: Rule, node: cst.CSTNode) -> int:
    return rule.position(node).start.line


def insert_before(statements: list[cst.BaseStatement]):
    """A replacement for a statement that puts `statements` before it; comments above it stay on top."""

    def build(updated: cst.CSTNode) -> cst.FlattenSentinel:
        leading = getattr(updated, "leading_lines", ())
        first = statements[0].with_changes(leading_lines=leading)
        return cst.FlattenSentinel([first, *statements[1:], updated.with_changes(leading_lines=())])

    return build


def insert_after(statements: list[cst.BaseStatement]):
    def build(updated: cst.CSTNode) -> cst.FlattenSentinel:
        return cst.FlattenSentinel([updated, *statements])

    return build


_TF_MODULES = ("tensorflow", "tensorflow.compat.v1", "tensorflow.compat.v2")


# --- spelling TensorFlow in new code ------------------------------------------------------------------------------
def tensorflow_alias(rule: Rule | FileAnalysis, node: cst.CSTNode) -> str | None:
    """A name bound to the TensorFlow module (or compat.v1/v2) by an import, as seen from `node`."""
    scope = rule.analysis.scope(node)
    if scope is None:
        return None
    candidates = []
    current = scope
    while True:
        candidates.extend(a.name for a in current.assignments if isinstance(a, ImportAssignment))
        if current is current.parent:
            break
        current = current.parent
    for name in sorted(set(candidates), key=lambda n: (n != "tf", n)):
        qualified = {q.name for q in scope.get_qualified_names_for(name)}
        if len(qualified) == 1 and qualified <= set(_TF_MODULES):
            return name
    return None


@dataclass(frozen=True)
class TF:
    """Builds TensorFlow expressions with the module's own spelling of `tensorflow`."""

    alias: str

    @classmethod
    def at(cls, rule: Rule | FileAnalysis, node: cst.CSTNode | None = None) -> TF:
        """The spelling seen from `node` (by default, the module's top level)."""
        return cls(tensorflow_alias(rule, node if node is not None else rule.analysis.module) or "tensorflow")

    @property
    def imports(self) -> tuple[str, ...]:
        """What the new code needs imported: nothing when the file already has an alias."""
        return ("tensorflow",) if self.alias == "tensorflow" else ()

    def attr(self, dotted: str) -> cst.BaseExpression:
        return cst.parse_expression(f"{self.alias}.{dotted}")

    def call(self, dotted: str, *args: cst.BaseExpression) -> cst.Call:
        return cst.Call(func=self.attr(dotted), args=[cst.Arg(a) for a in args])

    def cast(self, value: cst.BaseExpression, dtype: str | cst.BaseExpression) -> cst.Call:
        return self.call("cast", unparenthesized(value), self.attr(dtype) if isinstance(dtype, str) else dtype)


def unparenthesized(expr: cst.BaseExpression) -> cst.BaseExpression:
    """`expr` without its own parentheses, for use as a call argument (tuples and generators keep theirs)."""
    if isinstance(expr, (cst.Tuple, cst.GeneratorExp, cst.Yield)) or not getattr(expr, "lpar", None):
        return expr
    return expr.with_changes(lpar=[], rpar=[])
