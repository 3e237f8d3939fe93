"""Shared analysis of `tf.GradientTape` code for the GradientTape rules (TFX401, TFX402, TFX403).

A rule asks, for each block of statements (the module, a function body, a loop body...), which tapes it opens
and where each tape's gradients are taken:

    class MyRule(Rule):
        def visit_IndentedBlock(self, node):
            for tape in tapes_in(self, node):
                for gradient in tape.gradients:
                    ...

and asks a `Flow` which names each statement reads and writes, so it can follow a target back to the
statements that compute it. Names are dotted chains (`loss`, `self.model`): two chains touch when they are
equal or one is an attribute path of the other. A statement writes what it assigns (`=`, `+=`, `for`, `with as`,
`def`, `import`) and the receiver of a method call made as a statement or through a known mutator
(`x.assign_add(...)`, `losses.append(...)`, `metric.update_state(...)`), except imported modules (`tf.print`).

Everything is syntactic plus LibCST scope metadata: no TensorFlow is imported.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m
from libcst.metadata import Assignment

from tffix.rule import Rule, argument

GRADIENT_METHODS = frozenset({"gradient", "jacobian", "batch_jacobian"})
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


# --- tapes and their gradient calls -------------------------------------------------------------------------
@dataclass(frozen=True)
class Gradient:
    call: cst.Call  # tape.gradient(target, sources)
    target: cst.BaseExpression
    sources: cst.BaseExpression | None
    index: int | None  # index in the tape's owning block of the statement holding the call; None: inside the block


@dataclass(frozen=True)
class Tape:
    name: str  # the `as` name
    call: cst.Call  # tf.GradientTape(...)
    with_node: cst.With
    block: Sequence[cst.BaseStatement]  # the statements the `with` is one of
    index: int  # the `with`'s index in `block`
    gradients: tuple[Gradient, ...] = field(default=())

    @property
    def body(self) -> Sequence[cst.BaseStatement]:
        """The statements inside the `with` (empty for a one-line `with ...: stmt` suite)."""
        body = self.with_node.body
        return body.body if isinstance(body, cst.IndentedBlock) else ()

    @property
    def persistent(self) -> bool:
        arg = argument(self.call, "persistent", 0)
        return arg is not None and m.matches(arg.value, m.Name("True"))

    def watched(self) -> set[str]:
        """Chains passed to `tape.watch(...)` anywhere inside the block."""
        found: set[str] = set()
        for call in method_calls(self.with_node.body, self.name, {"watch"}):
            arg = argument(call, "tensor", 0)
            if arg is not None:
                found.update(c for e in elements(arg.value) if (c := chain(e)) is not None)
        return found


class TapeRule(Rule):
    """A rule that looks at each `with tf.GradientTape() as tape:` of every block, once."""

    module: cst.Module | None = None

    def visit_Module(self, node: cst.Module) -> None:
        self.module = node
        for tape in tapes_in(self, node):
            self.check_tape(tape)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        for tape in tapes_in(self, node):
            self.check_tape(tape)

    def check_tape(self, tape: Tape) -> None:
        raise NotImplementedError


def block_statements(owner: cst.CSTNode) -> Sequence[cst.BaseStatement]:
    if isinstance(owner, (cst.Module, cst.IndentedBlock)):
        return owner.body
    return ()


def tapes_in(rule: Rule, owner: cst.CSTNode) -> list[Tape]:
    """The tapes opened by `with tf.GradientTape() as name:` statements of one block, with their gradients."""
    block = block_statements(owner)
    tapes = []
    for index, statement in enumerate(block):
        if not isinstance(statement, cst.With) or statement.asynchronous is not None:
            continue
        for item in statement.items:
            if not (rule.is_call_to(item.item, "tf.GradientTape") and m.matches(item.asname, m.AsName(m.Name()))):
                continue
            name = item.asname.name.value  # type: ignore[union-attr]
            tape = Tape(name, item.item, statement, block, index)  # type: ignore[arg-type]
            tapes.append(Tape(name, item.item, statement, block, index, tuple(_gradients(tape))))  # type: ignore[arg-type]
    return tapes


def _gradients(tape: Tape) -> Iterator[Gradient]:
    for call in method_calls(tape.with_node.body, tape.name, GRADIENT_METHODS):
        yield _gradient(call, None)
    for index in range(tape.index + 1, len(tape.block)):
        statement = tape.block[index]
        if any(touches(tape.name, w) for w in _WriteCollector.of(statement)):
            return  # the name now holds another tape (whose gradients these are)
        for call in method_calls(statement, tape.name, GRADIENT_METHODS):
            yield _gradient(call, index)


def _gradient(call: cst.Call, index: int | None) -> Gradient:
    target = argument(call, "target", 0)
    sources = argument(call, "sources", 1)
    return Gradient(
        call,
        target.value if target is not None else cst.Name("None"),
        sources.value if sources is not None else None,
        index,
    )


def method_calls(node: cst.CSTNode, receiver: str, methods: Iterable[str]) -> list[cst.Call]:
    """Calls `receiver.method(...)` in `node`, not looking into nested functions and classes."""
    wanted = frozenset(methods)
    found: list[cst.Call] = []

    class _Finder(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return False

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value in wanted and chain(func.value) == receiver:
                found.append(node)

    node.visit(_Finder())
    return found


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


class _ReadCollector(cst.CSTVisitor):
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


class _WriteCollector(cst.CSTVisitor):
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
            self._writes[key] = _WriteCollector.of(node, self.is_module)
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


def line_of(rule: Rule, node: cst.CSTNode) -> int:
    return rule.position(node).start.line


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


# --- what depends on the variables ------------------------------------------------------------------------
# Calls whose result, stored on `self`, holds trainable variables: a Keras layer or model, a Variable, a weight.
_VARIABLE_MAKERS = frozenset({"tf.Variable", "tf.get_variable", "tf.compat.v1.get_variable"})
_WEIGHT_METHODS = frozenset({"add_weight", "add_variable"})


def enclosing_class(rule: Rule, node: cst.CSTNode) -> cst.ClassDef | None:
    """The class whose method (directly) holds `node`."""
    function = None
    for ancestor in rule.ancestors(node):
        if isinstance(ancestor, cst.FunctionDef) and function is None:
            function = ancestor
        elif isinstance(ancestor, cst.ClassDef):
            return ancestor if function is not None else None
        elif isinstance(ancestor, (cst.FunctionDef, cst.Lambda)):
            return None
    return None


def makes_variables(rule: Rule, value: cst.CSTNode) -> bool:
    """`value` makes trainable state: it calls a Keras API (a layer, a model), `tf.Variable`, or
    `self.add_weight(...)` (also inside a list of them)."""
    for call in m.findall(value, m.Call()):
        func = call.func  # type: ignore[attr-defined]
        if isinstance(func, cst.Attribute) and func.attr.value in _WEIGHT_METHODS:
            return True
        names = rule.api_names(func)
        if any(n.startswith("keras.") for n in names) or not names.isdisjoint(_VARIABLE_MAKERS):
            return True
    return False


def trainable_attributes(rule: Rule, cls: cst.ClassDef) -> set[str]:
    """`self.X` chains a class's methods assign from something that makes variables (`self.dense = Dense(4)`,
    `self.w = self.add_weight(...)`)."""
    found: set[str] = set()
    for assign in m.findall(cls, m.Assign()):
        value = assign.value  # type: ignore[attr-defined]
        if not makes_variables(rule, value):
            continue
        for target in assign.targets:  # type: ignore[attr-defined]
            dotted = chain(target.target)
            if dotted is not None and dotted.startswith("self.") and dotted.count(".") == 1:
                found.add(dotted)
    return found


class Dependence:
    """Which statements compute from the variables a gradient is taken with respect to.

    `values` are chains holding variables or tensors computed from them (`w`, `logits`): reading one, or an
    attribute of one, depends on them. `owners` are chains whose variables are the sources (`model` of
    `model.trainable_variables`): reading the owner itself (`model(x)`, `self(x)`) depends on them, and so does
    reading an attribute of it that is a sub-layer or a variable (`self.dense(x)`, `self.kernel`: assigned from
    a Keras layer or a variable in the class, or called on another owner); a plain attribute (`self.rewards`, a
    Python list) or a method of the class (`self.discounted()`) does not."""

    def __init__(self, rule: Rule, flow: Flow, values: set[str], owners: set[str], anchor: cst.CSTNode) -> None:
        self.rule = rule
        self.flow = flow
        self.values = set(values)
        self.owners = set(owners)
        cls = enclosing_class(rule, anchor)
        self._class_attributes = trainable_attributes(rule, cls) if cls is not None else set()
        self._methods = (
            {f"self.{s.name.value}" for s in cls.body.body if isinstance(s, cst.FunctionDef)}  # type: ignore[union-attr]
            if cls is not None else set()
        )

    def depends(self, node: cst.CSTNode, tainted: set[str] | None = None) -> bool:
        if any_touch(self.flow.reads(node), self.values if tainted is None else tainted):
            return True
        return bool(self.owners) and any(self._owner_read(n) for n in m.findall(node, m.Name() | m.Attribute()))

    def _owner_read(self, node: cst.CSTNode) -> bool:
        dotted = chain(node)
        if dotted is None:
            return False
        for owner in self.owners:
            if dotted == owner:
                parent = self.rule.parent(node)
                # `model(x)`, `f(model)`: the owner itself; not the receiver of an attribute read (`model.x`)
                if not (isinstance(parent, cst.Attribute) and parent.value is node):
                    return True
            elif dotted.startswith(owner + ".") and dotted.count(".") == owner.count(".") + 1:
                if owner == "self":
                    if dotted in self._class_attributes or (dotted == "self.call" and self._called(node)):
                        return True
                elif self._called(node) or self._called_below(node):
                    return True
        return False

    def _called(self, node: cst.CSTNode) -> bool:
        parent = self.rule.parent(node)
        return isinstance(parent, cst.Call) and parent.func is node

    def _called_below(self, node: cst.CSTNode) -> bool:
        """`model.encoder.layer(x)`: a longer chain under `node` is called."""
        parent = self.rule.parent(node)
        while isinstance(parent, cst.Attribute):
            grand = self.rule.parent(parent)
            if isinstance(grand, cst.Call) and grand.func is parent:
                return True
            parent = grand
        return False

    def taint(self, statements: Sequence[cst.BaseStatement]) -> set[str]:
        """The value chains computed from the sources through `statements` (in order, loops once)."""
        tainted = set(self.values)
        for statement in statements:
            if self.depends(statement, tainted):
                tainted |= self.flow.writes(statement)
        return tainted


def tape_dependence(rule: Rule, flow: Flow, tape: Tape) -> Dependence:
    """What the tape's gradients are taken with respect to: the sources (named, listed in a name, a model's
    variables) and what the tape watches."""
    values: set[str] = set(tape.watched())
    owners: set[str] = set()
    for gradient in tape.gradients:
        for more_values, more_owners in (split_sources(gradient.sources), listed_sources(rule, gradient.sources)):
            values |= more_values
            owners |= more_owners
    return Dependence(rule, flow, values, owners, tape.with_node)


# TensorFlow functions whose result is an integer or boolean tensor: casting it to an integer cuts nothing.
_NOT_FLOAT_RESULTS = frozenset(
    f"tf.{name}"
    for name in (
        "argmax", "argmin", "math.argmax", "math.argmin", "shape", "size", "rank", "range", "equal", "not_equal",
        "greater", "greater_equal", "less", "less_equal", "math.equal", "math.not_equal", "math.greater",
        "math.greater_equal", "math.less", "math.less_equal", "logical_and", "logical_or", "logical_not",
        "math.logical_and", "math.logical_or", "math.logical_not", "where", "random.categorical",
        "random.uniform_candidate_sampler", "strings.to_hash_bucket_fast", "math.top_k",
    )
)


def known_not_float(rule: Rule, values, expr: cst.CSTNode) -> bool:
    """`expr` is known to be an integer or boolean value (its static dtype, or an integer-valued TF function
    such as `tf.argmax`): it carries no gradient before any cast."""
    dtype = values.dtype_of(expr)
    if dtype is not None and not (dtype.startswith("float") or dtype.startswith("bfloat")):
        return True
    return isinstance(expr, cst.Call) and len(expr.args) > 0 and rule.is_api(expr.func, *_NOT_FLOAT_RESULTS)


def computes(statement: cst.CSTNode) -> bool:
    """The statement computes a value (a call or an operator in what it assigns or evaluates), not counting
    the tests of `if`/`while` (`if isinstance(out, tuple) and len(out) == 1: out = out[0]` only renames a value)."""
    if isinstance(statement, cst.SimpleStatementLine):
        return any(_small_computes(small) for small in statement.body)
    if isinstance(statement, (cst.If, cst.While)):
        orelse = statement.orelse
        return _suite_computes(statement.body) or (orelse is not None and computes(orelse))
    if isinstance(statement, cst.Else):
        return _suite_computes(statement.body)
    return has_operation(statement)


def _suite_computes(suite: cst.BaseSuite) -> bool:
    if isinstance(suite, cst.IndentedBlock):
        return any(computes(s) for s in suite.body)
    return any(_small_computes(s) for s in suite.body)  # type: ignore[attr-defined]


def _small_computes(small: cst.CSTNode) -> bool:
    if isinstance(small, (cst.Assign, cst.AnnAssign)):
        return small.value is not None and has_operation(small.value)
    return has_operation(small)


def source_owners(sources: cst.BaseExpression | None) -> set[str]:
    """Chains whose computations feed the sources: `w` for `w`, `model` for `model.trainable_variables`."""
    owners: set[str] = set()
    if sources is None:
        return owners
    for element in elements(sources):
        if isinstance(element, cst.Attribute) and element.attr.value in VARIABLE_ATTRIBUTES:
            dotted = chain(element.value)
        else:
            dotted = chain(element)
        if dotted is not None:
            owners.add(dotted)
    return owners


# --- building the fixed block -------------------------------------------------------------------------------
def without_blank_lines(statement: cst.BaseStatement) -> cst.BaseStatement:
    """The statement without the empty lines above it (comments above it stay)."""
    lines = [line for line in statement.leading_lines if line.comment is not None]
    return statement.with_changes(leading_lines=lines)


def blank_lines_above(statement: cst.BaseStatement) -> list[cst.EmptyLine]:
    return [line for line in statement.leading_lines if line.comment is None]


def appended_to_body(with_node: cst.With, statements: Sequence[cst.BaseStatement]) -> cst.With:
    body = with_node.body
    assert isinstance(body, cst.IndentedBlock)
    return with_node.with_changes(body=body.with_changes(body=[*body.body, *statements]))


def inserted_in_body(with_node: cst.With, at: int, statements: Sequence[cst.BaseStatement]) -> cst.With:
    body = with_node.body
    assert isinstance(body, cst.IndentedBlock)
    return with_node.with_changes(body=body.with_changes(body=[*body.body[:at], *statements, *body.body[at:]]))


# --- names the fixes write ----------------------------------------------------------------------------------
def tensorflow_alias(module: cst.Module | None) -> str | None:
    """The name a module binds to TensorFlow (`tf` for `import tensorflow as tf`), or None."""
    if module is None:
        return None
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not isinstance(small, cst.Import):
                continue
            for alias in small.names:
                name = chain(alias.name)
                if name in ("tensorflow", "tensorflow.compat.v1", "tensorflow.compat.v2"):
                    if alias.asname is not None:
                        return chain(alias.asname.name)
                    if name == "tensorflow":
                        return name
    return None


def free_name(module: cst.Module, preferred: Sequence[str]) -> str:
    """The first of `preferred` that no name in the module uses, else `<last preferred>_<n>`."""
    used = {node.value for node in m.findall(module, m.Name())}  # type: ignore[union-attr]
    candidates = [*preferred, *(f"{preferred[-1]}_{i}" for i in range(1, len(used) + 2))]
    return next(name for name in candidates if name not in used)


def numpy_name(rule: Rule, func: cst.CSTNode) -> str | None:
    """`square` for `np.square` (whatever NumPy was imported as), else None."""
    for name in rule.qualified_names(func):
        if name.startswith("numpy."):
            return name[len("numpy."):]
    return None
