"""What a file's Python `ast` shows about the API it uses: the facts of the preconditions gate (`tffix.gates`).

The anchor gate (`tffix.slicing`) already parses each file with Python's `ast` and resolves every name and
attribute chain through the file's imports. The same walk records the facts here, and each rule's
`can_fire(facts)` (`tffix.rule`) tests a necessary condition of its findings on them, so that a file on which
no rule can fire is never given to LibCST. The facts are a superset of what LibCST can show: a name resolves to
everything an import of it anywhere in the file may bind (and the bare words `tensorflow`, `keras`, `tf_keras`,
`numpy` to themselves, as LibCST resolves them when bound by an assignment), whatever scope uses it.

- `qualified`: the dotted names that chains resolve to (`numpy.float`, `tensorflow.compat.v1.layers.dense`);
  `api`: those that are TensorFlow/Keras user-API names, canonical (`tffix.names`: `tf.cast`, `keras.layers.Dense`).
- `calls`: for each canonical API name, its calls whose callee is that name or attribute chain (as LibCST's
  `Rule.is_call_to` sees them); `methods`: the calls `x.NAME(...)` of any receiver, by NAME.
- `with_items`: the API names called as `with` items (`with tf.GradientTape() as tape`).
- `operators`: the binary operators used (`ast.MatMult`, `ast.Div`...), and `binary` the operations; `floats`: a
  float literal occurs; `strings`: the string constants; `functions`: the names of the functions the file
  defines, and `function_defs` the definitions of each with the scope of their body's code; `self_assigned`:
  the calls stored as `self.x = call(...)` (by id); `class_bases`: the API names the file's classes derive from
  (`keras.layers.Layer`).
- `bound`: for each name, every value an assignment (`x = v`, `x: T = v`, `a, x = u, v`) gives it, in any scope;
  `attributes_bound`: the same for attribute names (`self.x = v`, `obj.x = v`). A superset of the one binding
  `_shapes.StaticValues` follows. `bindings` and `attribute_bindings` give each the scope of the code that
  binds it, `scopes` the scope of each call and binary operation: a scope is a top-level function, class or
  method (nested functions are part of it) or None for module-level code, so a name used in scope S can only
  mean a binding of S or of None.
- `parameters`: the names of every function parameter of the file; `classes`: the names of its classes.
- `name_calls`: the calls `NAME(...)` by NAME, whatever it resolves to; `applied`: the calls `f(...)(...)`.

A precondition reads only these, with the helpers below (`keyword`, `argument`), which mirror `tffix.rule`'s.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Callable, Iterable, KeysView
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

# Names LibCST resolves to themselves where an assignment binds them: a chain on them resolves like an import.
BARE_WORDS = ("tensorflow", "keras", "tf_keras", "numpy")
_MAX_STRING = 64  # longer string constants (docstrings) are not facts any rule asks about


@dataclass
class Facts:
    qualified: set[str] = field(default_factory=set)
    api: set[str] = field(default_factory=set)
    calls: dict[str, list[ast.Call]] = field(default_factory=lambda: defaultdict(list))
    methods: dict[str, list[ast.Call]] = field(default_factory=lambda: defaultdict(list))
    with_items: set[str] = field(default_factory=set)
    operators: set[type] = field(default_factory=set)
    floats: bool = False
    strings: set[str] = field(default_factory=set)
    function_defs: dict[str, list[tuple[ast.AST, int | None]]] = field(default_factory=lambda: defaultdict(list))
    self_assigned: set[int] = field(default_factory=set)
    class_bases: set[str] = field(default_factory=set)  # the API names classes of the file derive from
    names: dict[int, list[str]] = field(default_factory=dict)  # id(Name or Attribute) -> canonical API names
    chains: dict[int, list[str]] = field(default_factory=dict)  # id(Name or Attribute) -> its qualified names
    binary: list[ast.BinOp] = field(default_factory=list)
    bound: dict[str, list[ast.expr]] = field(default_factory=lambda: defaultdict(list))  # name -> values assigned
    attributes_bound: dict[str, list[ast.expr]] = field(default_factory=lambda: defaultdict(list))  # `x.NAME = v`
    # The same with scopes: (name, value, scope) where the scope is the top-level function, class or method whose
    # code binds it (None: module-level code, or a `global` name); and the scope of each call and operation.
    bindings: list[tuple[str, ast.expr, int | None]] = field(default_factory=list)
    attribute_bindings: list[tuple[str, ast.expr, int | None]] = field(default_factory=list)
    scopes: dict[int, int | None] = field(default_factory=dict)
    tree: ast.AST | None = None  # kept alive with the facts: `names` and `self_assigned` are by id
    parameters: set[str] = field(default_factory=set)  # the names of every parameter of the file's functions
    classes: set[str] = field(default_factory=set)  # the names of the file's classes (any depth)
    name_calls: dict[str, list[ast.Call]] = field(default_factory=lambda: defaultdict(list))  # `NAME(...)`, by NAME
    applied: list[ast.Call] = field(default_factory=list)  # the calls of a call's value: `Loss()(y, p)`
    scope_nodes: dict[int, ast.AST] = field(default_factory=dict)  # scope -> its function, class or method node
    _unbound: dict[int, tuple[frozenset[str], tuple[int, int], tuple[int, int]]] = field(default_factory=dict)
    _rebound: dict[int, frozenset[str]] = field(default_factory=dict)
    _derived: dict[object, object] = field(default_factory=dict)

    @property
    def functions(self) -> KeysView[str]:
        """The names of the functions the file defines."""
        return self.function_defs.keys()

    def derived(self, key: object, compute: Callable[[], T]) -> T:
        """`compute()`, once per file for `key`: what several rules' preconditions work out from the same facts
        (the tapes of a file, `transforms._tape.ast_tapes`)."""
        if key not in self._derived:
            self._derived[key] = compute()
        return self._derived[key]  # type: ignore[return-value]

    # --- questions a precondition asks -------------------------------------------------------------------------
    def defines(self, name: str) -> bool:
        """`name` is bound by a `def`, a `class` or as a parameter somewhere in the file: what it holds is not
        (only) what assignments give it."""
        return name in self.function_defs or name in self.classes or name in self.parameters

    def only_a_function(self, name: str) -> bool:
        """`name` is bound by `def` alone: never assigned, never a class or a parameter."""
        return name in self.function_defs and name not in self.bound and name not in self.classes \
            and name not in self.parameters

    def references(self, *names: str) -> bool:
        """One of the canonical API `names` is referenced (called or not)."""
        return any(name in self.api for name in names)

    def calls_of(self, *names: str) -> list[ast.Call]:
        """The calls of the canonical API `names` (callee a name or an attribute chain)."""
        return [call for name in names for call in self.calls.get(name, ())]

    def called(self, *names: str) -> bool:
        return any(self.calls.get(name) for name in names)

    def method_calls(self, *names: str) -> list[ast.Call]:
        """The calls `x.NAME(...)` for NAME in `names`, whatever `x` is."""
        return [call for name in names for call in self.methods.get(name, ())]

    def api_names(self, node: ast.AST | None) -> frozenset[str]:
        """The canonical API names `node` resolves to (as `Rule.api_names`: a call or subscript by its callee or
        value, as LibCST's `get_full_name_for_node`)."""
        while type(node) is ast.Call or type(node) is ast.Subscript:
            node = node.func if type(node) is ast.Call else node.value  # type: ignore[union-attr]
        return frozenset(self.names.get(id(node), ()))

    def reads_parameter(self, scope: int | None, name: ast.Name) -> bool:
        """`name`, read in the code of `scope` (a top-level function or a method), is one LibCST resolves to a
        binding list holding a parameter of that function, so that `StaticValues` (outside a call it follows into
        the function) knows no value for it: a parameter of the function read in its body, unless a nested
        function or class binds that name itself or a `global`/`nonlocal` statement names it."""
        if scope is None:
            return False
        found = self._unbound.get(scope)
        if found is None:
            found = self._unbound[scope] = _parameters(self.scope_nodes.get(scope))
        names, start, end = found
        if name.id not in names or not start <= (name.lineno, name.col_offset) <= end:
            return False
        rebound = self._rebound.get(scope)
        if rebound is None:
            rebound = self._rebound[scope] = _rebound(self.scope_nodes[scope])
        return name.id not in rebound

    def resolves_to(self, *qualified: str) -> bool:
        """A chain resolves to one of the dotted `qualified` names (LibCST's qualified names, not canonical)."""
        return any(name in self.qualified for name in qualified)


_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def _parameters(function: ast.AST | None) -> tuple[frozenset[str], tuple[int, int], tuple[int, int]]:
    """The parameters of `function` and the span of its body (its defaults, annotations and decorators are read
    in the enclosing scope)."""
    if type(function) not in (ast.FunctionDef, ast.AsyncFunctionDef):
        return frozenset(), (0, 0), (-1, -1)
    args = function.args  # type: ignore[union-attr]
    names = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg) if a is not None}
    body = function.body  # type: ignore[union-attr]
    return frozenset(names), (body[0].lineno, body[0].col_offset), (body[-1].end_lineno, body[-1].end_col_offset)  # type: ignore[return-value]


def _rebound(function: ast.AST) -> frozenset[str]:
    """The names a scope nested in `function` binds (its parameters included), and those a `global`/`nonlocal`
    statement in it names."""
    rebound: set[str] = set()
    for node in ast.walk(function):
        kind = type(node)
        if kind is ast.Global or kind is ast.Nonlocal:
            rebound.update(node.names)  # type: ignore[attr-defined]
        elif node is not function and kind in _NESTED:
            for inner in ast.walk(node):
                if type(inner) is ast.Name and type(inner.ctx) is not ast.Load:  # type: ignore[attr-defined]
                    rebound.add(inner.id)  # type: ignore[attr-defined]
                elif type(inner) is ast.arg:
                    rebound.add(inner.arg)  # type: ignore[attr-defined]
    return frozenset(rebound)


def keyword(call: ast.Call, name: str) -> ast.keyword | None:
    return next((k for k in call.keywords if k.arg == name), None)


def argument(call: ast.Call, name: str, position: int | None = None) -> ast.expr | None:
    """What `call` passes as `name=` or, when `position` is given, positionally there (as `tffix.rule.argument`,
    which skips starred arguments when counting)."""
    given = keyword(call, name)
    if given is not None:
        return given.value
    if position is not None:
        positional = [a for a in call.args if not isinstance(a, ast.Starred)]
        if position < len(positional):
            return positional[position]
    return None


def has_keyword(calls: Iterable[ast.Call], *names: str) -> bool:
    """One of `calls` passes one of the keywords `names`."""
    return any(k.arg in names for call in calls for k in call.keywords)


class FactsBuilder:
    """Fed by the anchor gate's walk (`tffix.slicing`): every node once, and the API names of each chain."""

    def __init__(self) -> None:
        self.facts = Facts()
        self._names = self.facts.names
        self._calls: list[ast.Call] = []
        self._with_calls: list[ast.Call] = []
        self._bases: list[ast.expr] = []
        self._globals: set[tuple[int | None, str]] = set()
        self.scope: int | None = None  # the scope of the code being walked (set by the walk)

    def chain(self, node: ast.expr, qualified: str, canonical: str | None) -> None:
        """`node` (a name or attribute chain) resolves to `qualified`, a TensorFlow/Keras `canonical` name or None."""
        self.facts.qualified.add(qualified)
        self.facts.chains.setdefault(id(node), []).append(qualified)
        if canonical is not None:
            self.facts.api.add(canonical)
            self._names.setdefault(id(node), []).append(canonical)

    def node(self, node: ast.AST, kind: type) -> None:
        facts = self.facts
        if kind is ast.Call:
            self._calls.append(node)  # type: ignore[arg-type]
            facts.scopes[id(node)] = self.scope
            func = node.func  # type: ignore[attr-defined]
            kind = type(func)
            if kind is ast.Attribute:
                facts.methods[func.attr].append(node)  # type: ignore[index]
            elif kind is ast.Name:
                facts.name_calls[func.id].append(node)  # type: ignore[index]
            elif kind is ast.Call:
                facts.applied.append(node)  # type: ignore[arg-type]
        elif kind is ast.BinOp:
            facts.operators.add(type(node.op))  # type: ignore[attr-defined]
            facts.binary.append(node)  # type: ignore[arg-type]
            facts.scopes[id(node)] = self.scope
        elif kind is ast.Constant:
            value = node.value  # type: ignore[attr-defined]
            if type(value) is float:
                facts.floats = True
            elif type(value) is str and len(value) <= _MAX_STRING:
                facts.strings.add(value)
        elif kind is ast.With or kind is ast.AsyncWith:
            self._with_calls.extend(i.context_expr for i in node.items if type(i.context_expr) is ast.Call)  # type: ignore[attr-defined]
        elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
            facts.function_defs[node.name].append((node, self.scope))  # type: ignore[attr-defined]
            args = node.args  # type: ignore[attr-defined]
            facts.parameters.update(a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs))
            if args.vararg is not None:
                facts.parameters.add(args.vararg.arg)
            if args.kwarg is not None:
                facts.parameters.add(args.kwarg.arg)
        elif kind is ast.ClassDef:
            self._bases.extend(node.bases)  # type: ignore[attr-defined]
            facts.classes.add(node.name)  # type: ignore[attr-defined]
        elif kind is ast.Global:
            self._globals.update((self.scope, name) for name in node.names)  # type: ignore[attr-defined]
        elif kind is ast.Assign:
            value = node.value  # type: ignore[attr-defined]
            for target in node.targets:  # type: ignore[attr-defined]
                self._bind(target, value)
            if type(value) is ast.Call and len(node.targets) == 1:  # type: ignore[attr-defined]
                target = node.targets[0]  # type: ignore[attr-defined]
                if type(target) is ast.Attribute and type(target.value) is ast.Name and target.value.id == "self":
                    facts.self_assigned.add(id(value))
        elif kind is ast.AnnAssign:
            if node.value is not None:  # type: ignore[attr-defined]
                self._bind(node.target, node.value)  # type: ignore[attr-defined]

    def _bind(self, target: ast.expr, value: ast.expr) -> None:
        kind = type(target)
        if kind is ast.Name:
            self.facts.bound[target.id].append(value)  # type: ignore[attr-defined]
            self.facts.bindings.append((target.id, value, self.scope))  # type: ignore[attr-defined]
        elif kind is ast.Attribute:
            self.facts.attributes_bound[target.attr].append(value)  # type: ignore[attr-defined]
            self.facts.attribute_bindings.append((target.attr, value, self.scope))  # type: ignore[attr-defined]
        elif (kind is ast.Tuple or kind is ast.List) and type(value) in (ast.Tuple, ast.List) \
                and len(target.elts) == len(value.elts):  # type: ignore[attr-defined]
            for part, item in zip(target.elts, value.elts):  # type: ignore[attr-defined]
                if type(part) is not ast.Starred and type(item) is not ast.Starred:
                    self._bind(part, item)

    def build(self, tree: ast.AST) -> Facts:
        facts, names = self.facts, self._names
        facts.tree = tree
        for call in self._calls:
            for name in names.get(id(call.func), ()):
                facts.calls[name].append(call)
        for call in self._with_calls:
            facts.with_items.update(names.get(id(call.func), ()))
        for base in self._bases:
            facts.class_bases |= facts.api_names(base)
        facts.calls = dict(facts.calls)
        facts.methods = dict(facts.methods)
        facts.name_calls = dict(facts.name_calls)
        facts.function_defs = dict(facts.function_defs)
        if self._globals:  # `global x` in a function: its bindings of x are the module's
            facts.bindings = [(n, v, None if (s, n) in self._globals else s) for n, v, s in facts.bindings]
        facts.bound = dict(facts.bound)
        facts.attributes_bound = dict(facts.attributes_bound)
        return facts


# The node kinds `FactsBuilder.node` records (the walk passes only these).
RECORDED = frozenset({
    ast.Call, ast.BinOp, ast.Constant, ast.With, ast.AsyncWith, ast.FunctionDef, ast.AsyncFunctionDef, ast.Assign,
    ast.AnnAssign, ast.ClassDef, ast.Global,
})
