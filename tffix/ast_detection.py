"""Detection on Python's `ast`, for rules whose findings are names: exact where the file makes that certain, else
left to LibCST.

Most real findings (TFX607-609, TFX601 on the real-code corpus: 457 of 460) are a name or an argument that
resolves, through the file's imports, to a removed or renamed API. Finding them needs the qualified names LibCST's
scope analysis gives, not LibCST's tree: `ast` (ten times faster to parse) shows them as well wherever a name's
meaning is certain from its bindings alone. So a rule may implement `Rule.detect(module)`: its findings on
`module` (a `NamesOnAst`), or None when it cannot be sure there; the engine then runs the rule on LibCST as
before. The fix of a finding detected here is still made with LibCST, by running the rule on the file's tree
when the fix's edits are first asked for (`tffix check` never asks; `apply`, `--diff`, JSON output and editor
actions do), so that every rewrite is LibCST's.

Certain means: the result is what LibCST's `QualifiedNameProvider` would give for the same node, which these
rules read. `qualified` answers only for a chain whose first name is bound in the file by nothing but
module-level imports of the plain forms (`import a`, `import a.b as c`, `from a.b import c [as d]`; the union of
all of them, as LibCST's flow-insensitive scopes give), or by nothing that is an import (a local variable: its
qualified names are never module paths, which is all these rules ask about). A name that an import binds and
something else binds too (`np = None` in an `except ImportError`, a parameter called `np`, an import inside a
function), or that a relative or dotted `import a.b` binds, is uncertain: the rule declines the whole file
(returns None) if a candidate of its findings hangs on it. So do a star import, a class named like a package
(LibCST's qualified names of a class attribute start with the class's name) and candidates inside f-strings
(whose `ast` positions are not reliable before Python 3.12).

A finding's span is LibCST's span of the reported node, from `ast`'s positions (UTF-8 byte columns turned into
code points). `tests/test_gates.py` checks on every fixture program and rule example that the findings, and
their fixes, are those of the LibCST path (`--no-gates` runs that path alone), and `tests/test_ast_detection.py`
that typical files are decided here and doubtful ones left to LibCST.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property

from .edits import NEWLINE
from .model import Applicability, Position
from .slicing import child_fields

# LibCST's qualified names of a class-level binding start with the class's name: a class named like one of these
# could make a local name look like a module path.
_PACKAGE_ROOTS = frozenset({"tensorflow", "keras", "tf_keras", "numpy"})


@dataclass(frozen=True)
class AstReport:
    """A finding of a rule, found on `ast`: the node whose span it has (an `ast.keyword` for an argument), its
    message, and its fix's title and applicability (None: no fix)."""

    node: ast.AST
    message: str
    fix: tuple[str, Applicability] | None = None


class NamesOnAst:
    """One module's `ast`, with what each name means to LibCST's qualified-name resolution where that is certain.

    Built by one walk of the tree: every binding of every name (imports at module level with what they bind;
    any other binding), the attributes and names in load, store or delete position, the calls, the names that
    LibCST also visits as `Name` nodes but `ast` holds as strings (keyword argument names, `as` names of
    imports), and the dotted paths of import statements (LibCST visits them as `Attribute` nodes).
    """

    def __init__(self, tree: ast.Module, source: str) -> None:
        self.tree = tree
        self.source = source
        self.imported: dict[str, set[str]] = {}  # name -> what module-level imports bind it to
        self.other_bindings: set[str] = set()  # names bound by anything else
        self.imported_anywhere: dict[str, set[str]] = {}  # the same for imports in any scope
        self.uncertain: set[str] = set()  # bound by an import whose meaning to LibCST is not modelled here
        self.written: set[str] = set()  # roots of `import a.b`: LibCST names their chains as written
        self.star_import = False
        self.package_class = False
        self.attributes: list[ast.Attribute] = []
        self.names: list[ast.Name] = []  # not the value of an attribute
        self.calls: list[ast.Call] = []
        self.in_fstring: set[int] = set()  # ids of those inside f-strings: their positions are not LibCST's
        self.keyword_names: set[str] = set()  # `f(name=...)`: a `Name` node for LibCST
        self.import_as_names: list[tuple[str, str]] = []  # (`as` name, the path it binds): `Name` nodes for LibCST
        self.import_paths: list[str] = []  # every dotted path (2 parts or more) of the import statements
        self._walk()

    # --- the walk ----------------------------------------------------------------------------------------------
    def _walk(self) -> None:
        # (node, at module level, inside an f-string)
        stack: list[tuple[ast.AST, bool, bool]] = [(statement, True, False) for statement in reversed(self.tree.body)]
        while stack:
            node, module_level, in_fstring = stack.pop()
            if in_fstring:
                self.in_fstring.add(id(node))
            kind = type(node)
            nested = module_level
            if kind is ast.Name:
                if type(node.ctx) is not ast.Load:  # type: ignore[attr-defined]
                    self.other_bindings.add(node.id)  # type: ignore[attr-defined]
                self.names.append(node)  # type: ignore[arg-type]
                continue
            if kind is ast.Attribute:
                self.attributes.append(node)  # type: ignore[arg-type]
                value = node.value  # type: ignore[attr-defined]
                if type(value) is ast.Name:  # the value of an attribute (always loaded): not a `Name` of its own
                    continue
                stack.append((value, module_level, in_fstring))
                continue
            if kind is ast.Call:
                self.calls.append(node)  # type: ignore[arg-type]
                self.keyword_names.update(k.arg for k in node.keywords if k.arg)  # type: ignore[attr-defined]
            elif kind is ast.JoinedStr:
                in_fstring = True
            elif kind is ast.Import or kind is ast.ImportFrom:
                self._import(node, module_level)  # type: ignore[arg-type]
                continue
            elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef or kind is ast.ClassDef:
                self.other_bindings.add(node.name)  # type: ignore[attr-defined]
                if kind is ast.ClassDef and node.name in _PACKAGE_ROOTS:  # type: ignore[attr-defined]
                    self.package_class = True
                nested = False
            elif kind is ast.Lambda:
                nested = False
            elif kind is ast.arg:
                self.other_bindings.add(node.arg)  # type: ignore[attr-defined]
            elif kind is ast.ExceptHandler:
                if node.name:  # type: ignore[attr-defined]
                    self.other_bindings.add(node.name)  # type: ignore[attr-defined]
            elif kind is ast.Global or kind is ast.Nonlocal:
                self.other_bindings.update(node.names)  # type: ignore[attr-defined]
            elif kind is ast.MatchAs or kind is ast.MatchStar:
                if node.name:  # type: ignore[attr-defined]
                    self.other_bindings.add(node.name)  # type: ignore[attr-defined]
            elif kind is ast.MatchMapping:
                if node.rest:  # type: ignore[attr-defined]
                    self.other_bindings.add(node.rest)  # type: ignore[attr-defined]
            children: list[ast.AST] = []
            for name in child_fields(kind):  # `ast.iter_child_nodes`, without the fields that hold no node it needs
                value = getattr(node, name, None)
                if type(value) is list:
                    children.extend(item for item in value if isinstance(item, ast.AST))
                elif isinstance(value, ast.AST):
                    children.append(value)
            for child in reversed(children):
                stack.append((child, nested, in_fstring))

    def _import(self, node: ast.Import | ast.ImportFrom, module_level: bool) -> None:
        if type(node) is ast.ImportFrom:
            module = node.module or ""
            self.import_paths.extend(_dotted_prefixes(module))
            for alias in node.names:
                if alias.name == "*":
                    self.star_import = True
                    continue
                bound = alias.asname or alias.name
                path = f"{module}.{alias.name}"
                if alias.asname:
                    self.import_as_names.append((alias.asname, path))
                if node.level:  # relative: LibCST's names for it start with a dot, never a package's name
                    self.uncertain.add(bound)
                else:
                    self._bind(bound, path, module_level)
            return
        for alias in node.names:
            self.import_paths.extend(_dotted_prefixes(alias.name))
            if alias.asname:
                self.import_as_names.append((alias.asname, alias.name))
                self._bind(alias.asname, alias.name, module_level)
            elif "." in alias.name:  # `import a.b` binds `a`: its names are the paths as written, from `a`
                root = alias.name.partition(".")[0]
                self.uncertain.add(root)
                self.written.add(root)
            else:
                self._bind(alias.name, alias.name, module_level)

    def _bind(self, name: str, path: str, module_level: bool) -> None:
        self.imported_anywhere.setdefault(name, set()).add(path)
        if module_level:
            self.imported.setdefault(name, set()).add(path)
        else:
            self.uncertain.add(name)

    # --- what LibCST would say ---------------------------------------------------------------------------------
    @property
    def certain(self) -> bool:
        """Nothing in the file makes every name doubtful (a star import, a class named like a package)."""
        return not self.star_import and not self.package_class

    def qualified(self, node: ast.AST, relevant: Callable[[str], bool] | None = None) -> frozenset[str] | None:
        """The qualified names LibCST gives `node` (a name, an attribute chain; a call or subscript by its callee or
        value) that come from imports: module paths such as `numpy.float`. None when that is not certain here,
        unless `relevant` is given and none of the names LibCST could give passes it: then the empty set (the
        node is certainly not what the caller looks for)."""
        full = full_name(node)
        if full is None:
            return frozenset()
        return self.qualified_path(full, relevant)

    def qualified_path(self, full: str, relevant: Callable[[str], bool] | None = None) -> frozenset[str] | None:
        """`qualified` for a dotted name as written (`np.float`)."""
        root, dot, rest = full.partition(".")
        if not self.certain:
            return None
        if root not in self.uncertain and not (root in self.imported and root in self.other_bindings):
            # bound by module-level imports only, or by no import: LibCST's names for a local are never module paths
            return frozenset(f"{path}{dot}{rest}" for path in self.imported.get(root, ()))
        if relevant is None:
            return None
        # Every name LibCST could give: from any import of the root, anywhere (a scope chooses among them), or the
        # path as written after `import root.sub`; a relative import's names start with a dot.
        possible = [f"{path}{dot}{rest}" for path in self.imported_anywhere.get(root, ())]
        if root in self.written:
            possible.append(full)
        return None if any(relevant(name) for name in possible) else frozenset()

    # --- where LibCST would say it -----------------------------------------------------------------------------
    @cached_property
    def _lines(self) -> list[str]:
        return NEWLINE.split(self.source)

    def span(self, node: ast.AST) -> tuple[Position, Position] | None:
        """LibCST's span of the node `node` stands for (an attribute, a name, a keyword argument); None inside an
        f-string, where `ast`'s positions are not reliable."""
        if id(node) in self.in_fstring:
            return None
        return (
            self._position(node.lineno, node.col_offset),  # type: ignore[attr-defined]
            self._position(node.end_lineno, node.end_col_offset),  # type: ignore[attr-defined]
        )

    def _position(self, line: int, byte_column: int) -> Position:
        text = self._lines[line - 1]
        if text.isascii():
            return Position(line, byte_column)
        return Position(line, len(text.encode("utf-8")[:byte_column].decode("utf-8", errors="replace")))


def full_name(node: ast.AST) -> str | None:
    """The dotted name LibCST's `get_full_name_for_node` gives `node`: `tf.zeros(3).shape` -> `tf.zeros.shape`."""
    parts: list[str] = []
    while True:
        kind = type(node)
        if kind is ast.Attribute:
            parts.append(node.attr)  # type: ignore[attr-defined]
            node = node.value  # type: ignore[attr-defined]
        elif kind is ast.Call:
            node = node.func  # type: ignore[attr-defined]
        elif kind is ast.Subscript:
            node = node.value  # type: ignore[attr-defined]
        elif kind is ast.Name:
            parts.append(node.id)  # type: ignore[attr-defined]
            return ".".join(reversed(parts))
        else:
            return None


def _dotted_prefixes(path: str) -> Iterator[str]:
    """`a.b.c` -> `a.b`, `a.b.c`: the `Attribute` nodes LibCST makes of a dotted import path."""
    parts = path.split(".")
    for end in range(2, len(parts) + 1):
        yield ".".join(parts[:end])
