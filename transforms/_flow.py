"""Which names each statement reads and writes, for following a value back to the statements that
compute it (the GradientTape rules TFX401-TFX403, and the TPU rules' set-up analysis).

Names are dotted chains (`loss`, `self.model`): two chains touch when they are equal or one is an attribute
path of the other. A statement writes what it assigns (`=`, `+=`, `for`, `with as`, `def`, `import`) and the
receiver of a method call made as a statement or through a known mutator (`x.assign_add(...)`,
`losses.append(...)`, `metric.update_state(...)`), except imported modules (`tf.print`).

Everything is syntactic plus LibCST scope metadata: no TensorFlow is imported.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import libcst as cst
import libcst.matchers as m
from libcst.metadata import Assignment

from tffix.fastvisit import CopyFreeVisitor
from tffix.rule import Rule


# Methods that change their receiver even when their result is used (`z = x.assign_add(1)`).
MUTATORS = frozenset(
    {
        "assign", "assign_add", "assign_sub", "scatter_add", "scatter_sub", "scatter_update", "scatter_nd_update",
        "append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault",
        "update_state", "reset_state", "reset_states", "apply_gradients", "minimize", "set_weights",
    }
)


# Attributes that name a model's variables: `model.trainable_variables` is owned by `model`.
VARIABLE_ATTRIBUTES = frozenset(
    {"trainable_variables", "trainable_weights", "variables", "weights", "non_trainable_variables"}
)


# --- dotted chains ------------------------------------------------------------------------------------------
def chain(node: cst.CSTNode | None) -> str | None:
    """`a.b.c` for a Name/Attribute chain, None for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = chain(node.value)
        return f"{base}.{node.attr.value}" if base is not None else None
    return None


def touches(a: str, b: str) -> bool:
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def any_touch(xs: Iterable[str], ys: Iterable[str]) -> bool:
    ys = tuple(ys)
    return any(touches(x, y) for x in xs for y in ys)


def elements(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The items of a list/tuple literal, or the expression itself."""
    if isinstance(expr, (cst.List, cst.Tuple)):
        return [e.value for e in expr.elements]
    return [expr]


# --- reads and writes ---------------------------------------------------------------------------------------
def split_target(target: cst.CSTNode) -> tuple[set[str], list[cst.CSTNode]]:
    """What an assignment target writes (chains) and the expressions it reads (`a[i] = v` reads `a` and `i`)."""
    if isinstance(target, (cst.Tuple, cst.List)):
        parts = [split_target(element.value) for element in target.elements]
        return set().union(*(w for w, _ in parts)), [r for _, reads in parts for r in reads]
    if isinstance(target, cst.StarredElement):
        return split_target(target.value)
    if isinstance(target, cst.Subscript):
        writes, _ = split_target(target.value)
        return writes, [target.value, *target.slice]
    dotted = chain(target)
    if dotted is not None:
        return {dotted}, []
    return set(), [target.value] if isinstance(target, cst.Attribute) else []


class _ReadCollector(CopyFreeVisitor):
    """Chains an expression or statement loads (assignment targets are writes, not reads)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: set[str] = set()

    @classmethod
    def of(cls, node: cst.CSTNode) -> set[str]:
        collector = cls()
        node.visit(collector)
        return collector.reads

    def _target(self, target: cst.CSTNode) -> None:
        for node in split_target(target)[1]:
            node.visit(self)

    def visit_Name(self, node: cst.Name) -> None:
        self.reads.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        dotted = chain(node)
        if dotted is not None:
            self.reads.add(dotted)
        else:
            node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> bool:
        self._target(node.target)
        return False

    def visit_AnnAssign(self, node: cst.AnnAssign) -> bool:
        self._target(node.target)
        if node.value is not None:
            node.value.visit(self)
        return False

    def visit_For(self, node: cst.For) -> bool:
        self._target(node.target)
        for part in (node.iter, node.body, node.orelse):
            if part is not None:
                part.visit(self)
        return False

    def visit_CompFor(self, node: cst.CompFor) -> bool:
        self._target(node.target)
        node.iter.visit(self)
        for condition in node.ifs:
            condition.visit(self)
        if node.inner_for_in is not None:
            node.inner_for_in.visit(self)
        return False

    def visit_WithItem(self, node: cst.WithItem) -> bool:
        node.item.visit(self)
        return False

    def visit_NamedExpr(self, node: cst.NamedExpr) -> bool:
        node.value.visit(self)
        return False

    def visit_Param(self, node: cst.Param) -> bool:
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False


class WriteCollector(CopyFreeVisitor):
    """Chains a statement assigns, and receivers of method calls that change them."""

    def __init__(self, is_module=None) -> None:
        super().__init__()
        self.writes: set[str] = set()
        self._is_module = is_module or (lambda name: False)

    @classmethod
    def of(cls, node: cst.CSTNode, is_module=None) -> set[str]:
        collector = cls(is_module)
        node.visit(collector)
        return collector.writes

    def _target(self, target: cst.CSTNode) -> None:
        self.writes.update(split_target(target)[0])

    def _receiver(self, call: cst.Call) -> None:
        func = call.func
        if isinstance(func, cst.Attribute):
            dotted = chain(func.value)
            root = func.value
            while isinstance(root, cst.Attribute):
                root = root.value
            if dotted is not None and not (isinstance(root, cst.Name) and self._is_module(root)):
                self.writes.add(dotted)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._target(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._target(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._target(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._target(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._target(node.asname.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._target(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self._target(node.target)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.writes.add(node.name.value)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.writes.add(node.name.value)
        return False

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        if node.asname is not None:
            self._target(node.asname.name)
        else:
            dotted = chain(node.name)
            if dotted is not None:
                self.writes.add(dotted.split(".")[0])

    def visit_Expr(self, node: cst.Expr) -> None:
        if isinstance(node.value, cst.Call):
            self._receiver(node.value)  # `metric.update_state(...)`, `x.assign_add(...)` as a statement

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in MUTATORS:
            self._receiver(node)


class Flow:
    """Reads and writes of statements, cached; imported modules are not written by calls on them."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self._reads: dict[int, set[str]] = {}
        self._writes: dict[int, set[str]] = {}

    def reads(self, node: cst.CSTNode) -> set[str]:
        key = id(node)
        if key not in self._reads:
            self._reads[key] = _ReadCollector.of(node)
        return self._reads[key]

    def writes(self, node: cst.CSTNode) -> set[str]:
        key = id(node)
        if key not in self._writes:
            self._writes[key] = WriteCollector.of(node, self.is_module)
        return self._writes[key]

    def is_module(self, name: cst.Name) -> bool:
        """True when `name` is bound only by imports (`tf`, `np`, `os`)."""
        return bool(assignments_of(self.rule, name)) and all(
            isinstance(a.node, (cst.Import, cst.ImportFrom)) for a in assignments_of(self.rule, name)
        )

    def backward_slice(self, statements: Sequence[cst.BaseStatement], needed: set[str]) -> tuple[list[int], set[str]]:
        """Indices (ascending) of the statements that `needed` depends on, transitively; and the chains read."""
        needed = set(needed)
        chosen = []
        for index in range(len(statements) - 1, -1, -1):
            statement = statements[index]
            if any_touch(self.writes(statement), needed):
                chosen.append(index)
                needed |= self.reads(statement)
        chosen.reverse()
        return chosen, needed

    def forward_taint(self, statements: Sequence[cst.BaseStatement], seeds: set[str]) -> set[str]:
        """The chains whose values flow from `seeds` through `statements` (in order, loops once)."""
        tainted = set(seeds)
        for statement in statements:
            if any_touch(self.reads(statement), tainted):
                tainted |= self.writes(statement)
        return tainted


def assignments_of(rule: Rule, name: cst.Name) -> list[Assignment]:
    """The assignments (not builtins) that `name` may refer to, via scope metadata; [] when unknown."""
    scope = rule.analysis.scope(name)
    if scope is None:
        return []
    try:
        found = scope[name.value]
    except Exception:
        return []
    return [a for a in found if isinstance(a, Assignment)]


def assigned_value(rule: Rule, target: cst.CSTNode) -> cst.BaseExpression | None:
    """The value of `name = value` when `target` is that plain name target (also in `a = name = value`)."""
    assign_target = rule.parent(target)
    statement = rule.parent(assign_target) if isinstance(assign_target, cst.AssignTarget) else None
    if isinstance(statement, cst.Assign) and assign_target.target is target:  # type: ignore[union-attr]
        return statement.value
    return None


def has_operation(node: cst.CSTNode) -> bool:
    """True when `node` computes something (a call or an operator), not just names, attributes or indexing."""
    return bool(m.findall(node, m.Call() | m.BinaryOperation() | m.UnaryOperation()))


def split_sources(sources: cst.BaseExpression | None) -> tuple[set[str], set[str]]:
    """The sources as (values, owners): `w` is a value, `model` of `model.trainable_variables` an owner."""
    values: set[str] = set()
    owners: set[str] = set()
    if sources is None:
        return values, owners
    for element in elements(sources):
        if isinstance(element, cst.Attribute) and element.attr.value in VARIABLE_ATTRIBUTES:
            dotted = chain(element.value)
            if dotted is not None:
                owners.add(dotted)
        elif (dotted := chain(element)) is not None:
            values.add(dotted)
    return values, owners


def listed_sources(rule: Rule, sources: cst.BaseExpression | None) -> tuple[set[str], set[str]]:
    """The elements, as (values, owners), of a list bound to a name used as sources: `w` and `b` for
    `params = [w, b]`."""
    values: set[str] = set()
    owners: set[str] = set()
    if isinstance(sources, cst.Name):
        for assignment in assignments_of(rule, sources):
            value = assigned_value(rule, assignment.node)
            if isinstance(value, (cst.List, cst.Tuple)):
                more_values, more_owners = split_sources(value)
                values |= more_values
                owners |= more_owners
    return values, owners
