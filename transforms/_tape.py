"""Shared analysis of `tf.GradientTape` code for the GradientTape rules (TFX401, TFX402, TFX403).

A rule asks, for each block of statements (the module, a function body, a loop body...), which tapes it opens
and where each tape's gradients are taken:

    class MyRule(Rule):
        def visit_IndentedBlock(self, node):
            for tape in tapes_in(self, node):
                for gradient in tape.gradients:
                    ...

and asks a `Flow` (`_flow`) which names each statement reads and writes, so it can follow a target back to
the statements that compute it; `tape_dependence` says which of them depend on the variables the tape
differentiates. Everything is syntactic plus LibCST scope metadata: no TensorFlow is imported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m

from tffix.ast_facts import Facts
from tffix.rule import Rule, argument

from ._cst_utils import calls_in
from ._flow import (
    VARIABLE_ATTRIBUTES,
    Flow,
    WriteCollector,
    any_touch,
    chain,
    elements,
    has_operation,
    listed_sources,
    split_sources,
    touches,
)


GRADIENT_METHODS = frozenset({"gradient", "jacobian", "batch_jacobian"})


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

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """A finding is about a `with tf.GradientTape() as tape:` block and a `tape.gradient(...)` (or
        `jacobian`, `batch_jacobian`) call of it (`tapes_in`: a tape without gradients is never checked)."""
        return "tf.GradientTape" in facts.with_items and any(
            isinstance(c.func.value, ast.Name) for c in facts.method_calls(*GRADIENT_METHODS)  # type: ignore[attr-defined]
        ) and bool(ast_tapes(facts))

    def check_tape(self, tape: Tape) -> None:
        raise NotImplementedError


@dataclass
class AstTape:
    """On Python's `ast` (the preconditions): a `with tf.GradientTape() as name:` statement, `block[index]`, and
    the `name.gradient(...)` calls (`GRADIENT_METHODS`) a `tapes_in` Tape may take as its gradients: those in
    the `with` body (`after` None) and those in a later statement `block[after]` of the same block, by position
    (a superset: `tapes_in` also stops at a statement that binds the name again)."""

    name: str
    block: list[ast.stmt]
    index: int
    gradients: list[tuple[ast.Call, int | None]]


_BLOCK_FIELDS = ("body", "orelse", "finalbody")


def ast_tapes(facts: Facts) -> list[AstTape]:
    """The tapes of the file that have gradients, on Python's `ast` (`facts.tree`); worked out once per file for
    all the tape rules' preconditions."""
    return facts.derived(ast_tapes, lambda: _ast_tapes(facts))


def _ast_tapes(facts: Facts) -> list[AstTape]:
    if facts.tree is None:
        return []
    calls = [c for c in facts.method_calls(*GRADIENT_METHODS) if type(c.func.value) is ast.Name]  # type: ignore[attr-defined]
    if not calls:
        return []
    found: list[AstTape] = []
    todo: list[ast.AST] = [facts.tree]
    while todo:
        node = todo.pop()
        for name in _BLOCK_FIELDS:
            block = getattr(node, name, None)
            if not block or not isinstance(block, list):
                continue
            for index, statement in enumerate(block):
                todo.append(statement)
                if type(statement) is ast.With:
                    found += _tapes_of(facts, statement, block, index, calls)
        for handler in getattr(node, "handlers", ()) or ():
            todo.append(handler)
        for case in getattr(node, "cases", ()) or ():
            todo.append(case)
    return found


def _tapes_of(facts: Facts, statement: ast.With, block: list[ast.stmt], index: int,
              calls: list[ast.Call]) -> list[AstTape]:
    tapes = []
    for item in statement.items:
        context, target = item.context_expr, item.optional_vars
        if type(context) is not ast.Call or type(target) is not ast.Name:
            continue
        if "tf.GradientTape" not in facts.api_names(context.func):
            continue
        gradients: list[tuple[ast.Call, int | None]] = []
        for call in calls:
            if call.func.value.id != target.id:  # type: ignore[attr-defined]
                continue
            where = (call.lineno, call.col_offset)
            if inside_statements(statement.body[0], statement.body[-1], where):
                gradients.append((call, None))
                continue
            for later in range(index + 1, len(block)):
                if inside_statements(block[later], block[later], where):
                    gradients.append((call, later))
                    break
        if gradients:
            tapes.append(AstTape(target.id, block, index, gradients))
    return tapes


def inside_statements(first: ast.stmt, last: ast.stmt, where: tuple[int, int]) -> bool:
    start = min([(first.lineno, first.col_offset), *((d.lineno, d.col_offset) for d in getattr(first, "decorator_list", ()))])
    return start <= where <= (last.end_lineno, last.end_col_offset)  # type: ignore[operator]


def block_statements(owner: cst.CSTNode) -> Sequence[cst.BaseStatement]:
    if isinstance(owner, (cst.Module, cst.IndentedBlock)):
        return owner.body
    return ()


def tapes_in(rule: Rule, owner: cst.CSTNode) -> list[Tape]:
    """The tapes opened by `with tf.GradientTape() as name:` statements of one block, with their gradients: worked
    out once per check for all the tape rules."""
    return rule.analysis.fact((tapes_in, owner), lambda: _tapes_in(rule, owner))


def _tapes_in(rule: Rule, owner: cst.CSTNode) -> list[Tape]:
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
        if any(touches(tape.name, w) for w in WriteCollector.of(statement)):
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
    return [
        call for call in calls_in(node)
        if isinstance(call.func, cst.Attribute) and call.func.attr.value in wanted and chain(call.func.value) == receiver
    ]


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
