"""Which rules can fire on a file, and which parts of it they need, found with Python's own parser.

LibCST's parse, its scope metadata and the rules' visits cost ten times and more a bare LibCST parse, and
Python's `ast` parses about eight times faster than LibCST. So before LibCST runs, the engine asks this
module two questions (both are skipped for rules that declare no `anchors`):

1. Which rules can fire at all? A rule declares `anchors`: the leaf names (`GradientTape`, `matmul`) of the
   TensorFlow/Keras user-API names without one of which it never reports. A file references a leaf when a
   name or attribute chain in it resolves, through the file's imports (in any scope) or the bare words
   `tensorflow`/`keras`/`tf_keras`, to a canonical user-API name (`tffix.names`) ending in that leaf; a loss
   that `model.compile(loss="binary_crossentropy")` names by a string references it too (Keras looks it up).
   Rules whose anchors the file never references are not run; when none is left, nothing is parsed. The same
   walk records the facts of the preconditions gate (`tffix.ast_facts`, `Rule.can_fire`). A chain through a
   call or a subscript (`tf.zeros(3).shape`) is named as LibCST names it (`tf.zeros.shape`).

2. Which parts of the file can matter? The file is cut into units: each top-level statement, and each method
   of a top-level class whose header references no anchor. A unit is kept when it references an anchor, and
   so is everything connected to a kept unit by name: the module-level definitions a kept unit uses (a class
   used by name is kept whole), the units that use a name a kept unit binds at module level (or the class of a
   kept method binds: its instances carry what the method makes) or a module-level variable it may change
   (`model.compile(...)` in one function, `model.fit(...)` in another), and in a class
   the methods that define or use a `self.` attribute (or method) that a kept method uses or defines.
   The slice is the file with every unit that is not kept and is a definition (a def, a class, a method)
   replaced by empty lines. Lines are kept line for line, so a position in the slice is the same position
   in the file. Statements that are not definitions (imports, constants, `if __name__ == ...`) always stay.

The slice is made only when asked for, for the anchors of the rules the preconditions kept (`Focus.for_anchors`),
or starting from the units where a rule's precondition found the only places its findings can be
(`Focus.seeded`, `Rule.candidates`). The engine analyses the slice, and analyses the whole file only when the
slice yields a finding or a problem, so every result it returns comes from the whole file. What makes the
shortcut sound: rules see TensorFlow only through API names, a rule reports only where its anchors are used (or
its candidates are), and whatever kept code can reach by name is kept.

The editor cuts a file further, into parts (`Focus.parts`, `Part`): one per anchored unit, with what that unit
alone keeps and the statements that are not definitions, each analysed on its own by the rules declared `local`
(`tffix.parts`). The test suite checks it against the whole-file analysis on every fixture and rule example, and
`bench/bench_check.py --verify-slices` on every file of the installed TensorFlow and Keras.
"""

from __future__ import annotations

import ast
import bisect
import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from .ast_facts import BARE_WORDS, RECORDED, Facts, FactsBuilder
from .edits import NEWLINE
from .names import canonical
from .prefilter import is_internal_name

# A slice keeping more than this share of the lines is not worth analysing before the whole file (measured on
# the real-code corpus: 0.9 costs the cold run more CPU than 0.6, in interleaved runs).
MAX_KEPT_SHARE = 0.6

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


class Focus:
    """What the anchor gate found for one file: the API leaves it references, the facts of its walk
    (`tffix.ast_facts`), and its slice for the anchors, made only when asked for."""

    def __init__(self, source: str, tree: ast.Module, index: _Index, facts: Facts | None = None) -> None:
        self._source = source
        self._tree = tree
        self._index = index
        self.leaves: frozenset[str] = index.leaves  # every API leaf name the file references
        self.facts: Facts = facts or index.facts  # type: ignore[assignment]

    def for_anchors(self, anchors: Iterable[str]) -> Focus:
        """The slice of the same file for other `anchors` (fewer: the rules the preconditions kept), from the same
        parse; the leaves and facts are this one's."""
        return Focus(self._source, self._tree, self._index.for_anchors(frozenset(anchors)), self.facts)

    def seeded(self, anchors: Iterable[str], lines: Iterable[int]) -> Focus:
        """The slice for `anchors` and for the units holding `lines`: where the preconditions of rules that can
        tell (`Rule.candidates`) found the only places their findings can be."""
        return Focus(self._source, self._tree, self._index.seeded(frozenset(anchors), lines), self.facts)

    @property
    def text(self) -> str:
        """The slice: the file with the units no rule needs blanked (the file itself when all are needed)."""
        return self._slice[0]

    @property
    def kept_share(self) -> float:
        """The share of the file's lines the slice keeps."""
        return self._slice[1]

    def parts(self) -> list[Part]:
        """The file cut into its parts for the anchors (see `Part`), none when no unit references one. Each kept
        definition brings its lines (a split class its own, less those of the methods not kept)."""
        index = self._index
        if not index.anchored:
            return []
        lines, separators = _lines_and_separators(self._source)
        always = {n for unit in index.units if not unit.definition for n in unit.lines}
        parts = []
        for kept in index.parts():
            numbers = set(always)
            ids = {id(unit) for unit in kept}
            for unit in kept:
                if unit.owner is None:
                    numbers.update(unit.lines)
                    numbers.difference_update(n for m in unit.members if id(m) not in ids for n in m.lines)
            ordered = tuple(sorted(numbers))
            parts.append(Part("".join(lines[n - 1] + separators[n - 1] for n in ordered), ordered))
        return parts

    @cached_property
    def _slice(self) -> tuple[str, float]:
        source, index = self._source, self._index
        if not index.anchored:
            return source, 1.0
        index.keep_connected()
        blank = index.blanked_lines()
        if not blank:
            return source, 1.0
        lines, separators = _lines_and_separators(source)
        text = "".join(("" if number in blank else line) + sep for number, (line, sep) in
                       enumerate(zip(lines, separators), start=1))
        return text, 1 - len(blank) / len(lines)


@dataclass(frozen=True)
class Part:
    """A part of a file: the code connected by name to one unit that references an anchor (what `keep_connected`
    keeps for it alone), with every top-level statement that is not a definition. `text` is those lines of the
    file in order, without the others (blank lines and comments between statements too), so that the same code
    gives the same text wherever it sits in the file; `lines` holds the file's line number of each."""

    text: str
    lines: tuple[int, ...]


def _lines_and_separators(source: str) -> tuple[list[str], list[str]]:
    """The lines LibCST counts (`NEWLINE`), and the line break that ends each ("" for the last)."""
    return NEWLINE.split(source), [m.group() for m in NEWLINE.finditer(source)] + [""]


def focus(source: str, anchors: Iterable[str]) -> Focus | None:
    """The API leaves `source` references, its facts and its slice for `anchors`; None when Python cannot parse
    it (the engine then analyses the whole file, and LibCST reports what is wrong)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return Focus(source, tree, _Index(tree, frozenset(anchors)))


def referenced_leaves(source: str) -> frozenset[str] | None:
    """The leaf names of the TensorFlow/Keras user-API names `source` references; None when it does not parse."""
    result = focus(source, ())
    return None if result is None else result.leaves


@dataclass(eq=False)
class _Unit:
    node: ast.AST
    definition: bool  # blanked when not kept
    owner: _Unit | None = None  # the class of a method
    anchored: bool = False
    kept: bool = False
    names: set[str] = field(default_factory=set)  # every plain name it uses or binds
    binds: set[str] = field(default_factory=set)  # names it binds at module level
    attribute_uses: set[str] = field(default_factory=set)  # `self.x` read, in a method
    attribute_defs: set[str] = field(default_factory=set)  # `self.x` stored, or the method's own name
    members: list[_Unit] = field(default_factory=list)  # of a split class
    leaves: set[str] = field(default_factory=set)  # the API leaves it references (a split class: header and body)
    stores: set[str] = field(default_factory=set)  # plain names it assigns or deletes (in a function: its locals)
    nested: set[str] = field(default_factory=set)  # the names of the functions and classes it defines (itself too)
    mutates: set[str] = field(default_factory=set)  # `x` of `x.m(...)`, `x.a = v`, `x[k] = v`: what it may change
    whole_class: bool = False  # a class not split: its header references an anchor

    @property
    def lines(self) -> range:
        decorators = getattr(self.node, "decorator_list", ())
        start = min([self.node.lineno, *(d.lineno for d in decorators)])
        return range(start, self.node.end_lineno + 1)  # type: ignore[attr-defined, operator]


class _Index:
    def __init__(self, tree: ast.Module, anchors: frozenset[str], record: bool = True) -> None:
        """`record`: also record the file's facts (`tffix.ast_facts`)."""
        self.anchors = anchors
        self._tree = tree
        self.roots = _import_roots(tree)
        self.leaves: set[str] = set()
        self._canonical: dict[str, str | None] = {}
        self._builder = FactsBuilder() if record else None
        self.units: list[_Unit] = []
        for statement in tree.body:
            self._add(statement)
        self.anchored = any(u.anchored for u in self._all_units())
        self.leaves = frozenset(self.leaves)  # type: ignore[assignment]
        self.facts = self._builder.build(tree) if self._builder is not None else None

    def for_anchors(self, anchors: frozenset[str]) -> _Index:
        """The index of the same file for other anchors, without scanning it again when its units stay the same:
        the anchors are fewer, so no class whose header references none of the old ones would be kept whole."""
        return self if anchors == self.anchors else self._derived(anchors)

    def seeded(self, anchors: frozenset[str], lines: Iterable[int]) -> _Index:
        """The index for `anchors` in which the units holding `lines` count as anchored too (the innermost: a
        method of a split class rather than the class)."""
        index = self._derived(anchors)
        starts = sorted((unit.lines.start, i) for i, unit in enumerate(index.units))
        for line in set(lines):
            at = bisect.bisect_right(starts, (line, len(starts))) - 1
            if at < 0:
                continue
            unit = index.units[starts[at][1]]
            if line not in unit.lines:
                continue
            member = next((m for m in unit.members if line in m.lines), None)
            (member or unit).anchored = True
        index.anchored = any(u.anchored for u in index._all_units())
        return index

    def _derived(self, anchors: frozenset[str]) -> _Index:
        """A new index for `anchors` (see `for_anchors`)."""
        if not anchors <= self.anchors or any(unit.whole_class for unit in self.units):
            return _Index(self._tree, anchors, record=False)
        index = object.__new__(_Index)
        index.anchors, index.roots, index.leaves, index.facts = anchors, self.roots, self.leaves, None
        index._tree, index._builder = self._tree, None
        index.units = []
        for unit in self.units:
            copy = dataclasses.replace(unit, anchored=not anchors.isdisjoint(unit.leaves), kept=False, members=[])
            copy.members = [
                dataclasses.replace(m, anchored=not anchors.isdisjoint(m.leaves), kept=False, owner=copy)
                for m in unit.members
            ]
            index.units.append(copy)
        index.anchored = any(u.anchored for u in index._all_units())
        return index

    # --- units -----------------------------------------------------------------------------------------------
    def _add(self, statement: ast.stmt) -> None:
        if isinstance(statement, ast.ClassDef):
            if self._builder is not None:
                self._builder.node(statement, ast.ClassDef)  # a split class's own node is not walked
            header = [*statement.bases, *(k.value for k in statement.keywords), *statement.decorator_list]
            if not any(self._scan(part, _Unit(part, False), record=False) for part in header):
                self._add_split_class(statement, header)
                return
        unit = _Unit(statement, isinstance(statement, _DEFINITIONS), whole_class=isinstance(statement, ast.ClassDef))
        unit.anchored = self._scan(statement, unit)
        # What it binds at module level: `_module_bindings`, from what the scan recorded (one walk less).
        unit.binds |= {statement.name} if unit.definition else unit.stores | unit.nested  # type: ignore[union-attr]
        self.units.append(unit)

    def _add_split_class(self, cls: ast.ClassDef, header: list[ast.expr]) -> None:
        shell = _Unit(cls, True, binds={cls.name})
        for part in header:
            self._scan(part, shell)
        for statement in cls.body:
            if isinstance(statement, _FUNCTIONS):
                member = _Unit(statement, True, owner=shell)
                member.anchored = self._scan(statement, member, _self_name(statement))
                member.attribute_defs.add(statement.name)
                shell.members.append(member)
            else:
                shell.anchored |= self._scan(statement, shell)
                shell.attribute_defs |= _module_bindings(statement)
        self.units.append(shell)

    def _all_units(self) -> Iterable[_Unit]:
        for unit in self.units:
            yield unit
            yield from unit.members

    def _scan(self, node: ast.AST, unit: _Unit, self_name: str | None = None, record: bool = True) -> bool:
        """Record the names `node` uses into `unit`, and (`record`) its facts; whether it references an anchor."""
        anchored = False
        builder = self._builder if record else None
        if builder is not None:
            builder.scope = id(unit) if unit.definition else None
            if unit.definition:
                builder.facts.scope_nodes[id(unit)] = unit.node
        for child in _walk(node):
            kind = type(child)
            if kind is ast.Name:
                unit.names.add(child.id)  # type: ignore[attr-defined]
                if type(child.ctx) is not ast.Load:  # type: ignore[attr-defined]
                    unit.stores.add(child.id)  # type: ignore[attr-defined]
                if child.id in self.roots:  # type: ignore[attr-defined]
                    anchored |= self._resolve(child, child.id, (), builder, unit)  # type: ignore[attr-defined]
            elif kind is ast.Attribute:
                parts = [child.attr]  # type: ignore[attr-defined]
                base = child.value  # type: ignore[attr-defined]
                while True:  # LibCST names `f(x).y` and `f[x].y` as `f.y` (`get_full_name_for_node`): so here
                    step = type(base)
                    if step is ast.Attribute:
                        parts.append(base.attr)
                        base = base.value
                    elif step is ast.Call:
                        base = base.func
                    elif step is ast.Subscript:
                        base = base.value
                    else:
                        break
                if type(base) is not ast.Name:
                    continue
                if base.id in self.roots:
                    anchored |= self._resolve(child, base.id, tuple(reversed(parts)), builder, unit)
                if child.value is base and type(child.ctx) is ast.Store:  # type: ignore[attr-defined]
                    unit.mutates.add(base.id)
                if base.id == self_name and child.value is base:  # type: ignore[attr-defined]
                    stored = type(child.ctx) is ast.Store  # type: ignore[attr-defined]
                    (unit.attribute_defs if stored else unit.attribute_uses).add(child.attr)  # type: ignore[attr-defined]
            elif kind is ast.Subscript:
                if type(child.ctx) is ast.Store and type(child.value) is ast.Name:  # type: ignore[attr-defined]
                    unit.mutates.add(child.value.id)  # type: ignore[attr-defined]
            elif kind is ast.Global:
                unit.binds.update(child.names)  # type: ignore[attr-defined]
            if kind in RECORDED:
                if kind in _DEFINITIONS:
                    unit.nested.add(child.name)  # type: ignore[attr-defined]
                if kind is ast.Call:
                    called = child.func  # type: ignore[attr-defined]
                    if type(called) is ast.Attribute and type(called.value) is ast.Name:
                        unit.mutates.add(called.value.id)
                    loss = _compiled_loss_name(child)  # type: ignore[arg-type]
                    if loss is not None:
                        self.leaves.add(loss)  # type: ignore[attr-defined]
                        unit.leaves.add(loss)
                        anchored |= loss in self.anchors
                if builder is not None:
                    builder.node(child, kind)
        return anchored

    def _resolve(
        self, node: ast.expr, root: str, attributes: tuple[str, ...], builder: FactsBuilder | None, unit: _Unit
    ) -> bool:
        anchored = False
        for module in self.roots[root]:
            qualified = ".".join((module, *attributes))
            if qualified not in self._canonical:
                name = canonical(qualified)
                self._canonical[qualified] = None if name is None or is_internal_name(name) else name
            name = self._canonical[qualified]
            if builder is not None:
                builder.chain(node, qualified, name)
            if name is not None:
                leaf = name.rpartition(".")[2]
                self.leaves.add(leaf)  # type: ignore[attr-defined]
                unit.leaves.add(leaf)
                anchored |= leaf in self.anchors
        return anchored

    # --- what is kept ----------------------------------------------------------------------------------------
    def keep_connected(self) -> None:
        """Keep the units that carry anchored values (evidence) and everything they need.

        Evidence flows from a unit to the units that use a module-level name it binds or may change (a method
        call, an attribute or item store on a module-level variable it does not assign itself: `model.compile(...)`
        in one function, `model.fit(...)` in another), and within a class from a method to the methods that use
        an attribute it defines; every unit with evidence is kept. A kept
        unit needs the definitions it uses (a class used by name whole, and in a class the methods defining
        what it uses): those are kept too, but carry no evidence on, so a helper that kept code calls does
        not pull in every other caller of the helper."""
        for unit in self.closure([u for u in self._all_units() if u.anchored]):
            unit.kept = True

    def closure(self, evidence: list[_Unit]) -> list[_Unit]:
        """The units `keep_connected` keeps when `evidence` are the units with anchored values (consumed)."""
        binders, users, variables = self._binders_and_users
        needed: list[_Unit] = []
        seen: set[int] = set()
        kept: dict[int, _Unit] = {}
        while evidence or needed:
            if evidence:
                unit = evidence.pop()
                if id(unit) in seen:
                    continue
                seen.add(id(unit))
                for name in unit.binds:
                    evidence.extend(users.get(name, ()))
                for name in unit.mutates:
                    if name in variables and name not in unit.stores:
                        evidence.extend(users.get(name, ()))
                if unit.members:  # a class with evidence in its header or body: all of it
                    evidence.extend(unit.members)
                owner = unit.owner
                if owner is not None:
                    evidence.extend(m for m in owner.members if m.attribute_uses & unit.attribute_defs)
                    for name in owner.binds:  # the class's instances carry what its method makes
                        evidence.extend(users.get(name, ()))
            else:
                unit = needed.pop()
            if id(unit) in kept:
                continue
            kept[id(unit)] = unit
            for name in unit.names:
                for binder in binders.get(name, ()):
                    needed.append(binder)
                    needed.extend(binder.members)  # a class used by name is kept whole
            if unit.owner is not None:
                needed.append(unit.owner)
                needed.extend(m for m in unit.owner.members if m.attribute_defs & unit.attribute_uses)
        return list(kept.values())

    @cached_property
    def _binders_and_users(self) -> tuple[dict[str, list[_Unit]], dict[str, list[_Unit]], set[str]]:
        """The units binding each module-level name, the units using each name, and the module's variables (the
        names statements that are not definitions bind)."""
        binders: dict[str, list[_Unit]] = defaultdict(list)
        users: dict[str, list[_Unit]] = defaultdict(list)
        variables: set[str] = set()
        for unit in self._all_units():
            for name in unit.binds:
                binders[name].append(unit)
            if not unit.definition:
                variables |= unit.binds
            for name in unit.names:
                users[name].append(unit)
        return binders, users, variables

    def parts(self) -> list[list[_Unit]]:
        """For each anchored unit, the units its closure keeps; the same set once."""
        found: dict[frozenset[int], list[_Unit]] = {}
        for seed in self._all_units():
            if seed.anchored:
                kept = self.closure([seed])
                found.setdefault(frozenset(map(id, kept)), kept)
        return list(found.values())

    def blanked_lines(self) -> set[int]:
        blank: set[int] = set()
        for unit in self.units:
            if not unit.kept:
                if unit.definition:
                    blank.update(unit.lines)
                continue
            for member in unit.members:
                if not member.kept:
                    blank.update(member.lines)
        return blank


# --- walking ---------------------------------------------------------------------------------------------------
# The walks are most of the gate's own time: `ast.walk` visits every `Load`/`Store` context object too and asks
# every field by name. These visit the same nodes (order aside, which no use depends on) without the contexts, the
# operator singletons (`ast.Add()`...) and the `alias` nodes of imports (`_import_roots` reads imports), and never
# ask a field that only holds names or numbers (`Name.id`, `Constant.value`...).
_LEAF_FIELDS = frozenset({
    "ctx", "op", "ops", "type_comment", "id", "attr", "arg", "module", "level", "kind", "conversion", "is_async",
    "simple", "kwd_attrs", "rest", "name", "names",
})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {ast.Constant: ()}
STATEMENT_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")  # where statements hold statements


def child_fields(kind: type) -> tuple[str, ...]:
    """The fields of an `ast` node type that can hold nodes the walks need, in `_fields` order: not the contexts,
    operators and import aliases, nor a field that only holds names or numbers."""
    names = _CHILD_FIELDS.get(kind)
    if names is None:
        names = _CHILD_FIELDS[kind] = tuple(f for f in getattr(kind, "_fields", ()) if f not in _LEAF_FIELDS)
    return names


def _walk(node: ast.AST) -> list[ast.AST]:
    """Every node under `node` (itself included) except the expression contexts, operators and import aliases,
    depth first."""
    fields = _CHILD_FIELDS
    found: list[ast.AST] = []
    add = found.append
    todo = [node]
    pop, push, extend = todo.pop, todo.append, todo.extend
    while todo:
        node = pop()
        if node is None:  # `Dict.keys` of `**d`, `arguments.kw_defaults` without a default
            continue
        add(node)
        kind = type(node)
        names = fields.get(kind)
        if names is None:
            names = child_fields(kind)
        for name in names:
            value = getattr(node, name, None)
            if type(value) is list:
                extend(value)
            elif value is not None:
                push(value)
    return found


def _statements(tree: ast.Module) -> Iterable[ast.AST]:
    """Every statement (and `except` handler, `case`), at any depth: where imports can be."""
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        yield node
        for name in STATEMENT_FIELDS:
            value = getattr(node, name, None)
            if value:
                todo.extend(value)


def _import_roots(tree: ast.Module) -> dict[str, set[str]]:
    """Each name an import binds anywhere in the file, with the modules (or module members) it may stand for."""
    roots: dict[str, set[str]] = defaultdict(set)
    for word in BARE_WORDS:
        roots[word].add(word)
    for node in _statements(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    roots[alias.asname].add(alias.name)
                else:
                    first = alias.name.partition(".")[0]
                    roots[first].add(first)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                if alias.name != "*":
                    roots[alias.asname or alias.name].add(f"{node.module}.{alias.name}")
    return roots


def _module_bindings(statement: ast.stmt) -> set[str]:
    """Names a top-level statement binds in the module (a superset: names bound in nested scopes count too).
    Not imports: the names they bind are resolved as API names, and are never blanked."""
    if isinstance(statement, _DEFINITIONS):
        return {statement.name}
    bound = set()
    for node in _walk(statement):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
    return bound


def _compiled_loss_name(call: ast.Call) -> str | None:
    """The loss `model.compile(optimizer, "binary_crossentropy")` or `compile(loss="...")` names by a string:
    Keras looks the string up as the loss function of that name, so it references that API as much as
    `keras.losses.binary_crossentropy` would."""
    if type(call.func) is not ast.Attribute or call.func.attr != "compile":
        return None
    loss = next((k.value for k in call.keywords if k.arg == "loss"), call.args[1] if len(call.args) > 1 else None)
    return loss.value if isinstance(loss, ast.Constant) and isinstance(loss.value, str) else None


def _self_name(function: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The name a method calls its instance (or class) by: its first parameter."""
    parameters = [*function.args.posonlyargs, *function.args.args]
    return parameters[0].arg if parameters else None
