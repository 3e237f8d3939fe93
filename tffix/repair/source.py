"""The user's file as the repair patterns see it: LibCST nodes with their positions and canonical API names,
and text edits made at those positions (every other byte stays as it was)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider, QualifiedNameProvider

from ..edits import line_starts, offset_of
from ..model import Position
from ..names import canonical


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    text: str


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    for a, b in zip(ordered, ordered[1:]):
        if b.start < a.end:
            raise ValueError("overlapping edits")
    for edit in reversed(ordered):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text


def shifted_line(text: str, edits: Sequence[Edit], line: int) -> int:
    """Where `line` of `text` is once `edits` are made (edits add or remove lines before it)."""
    starts = line_starts(text)
    offset = starts[line - 1] if line - 1 < len(starts) else len(text)
    delta = 0
    for edit in edits:
        if edit.start < offset:
            delta += edit.text.count("\n") - text[edit.start : edit.end].count("\n")
    return line + delta


class _Collect(cst.CSTVisitor):
    def __init__(self) -> None:
        self.calls: list[cst.Call] = []
        self.binops: list[cst.BinaryOperation] = []
        self.dicts: list[cst.Dict] = []
        self.assigns: list[cst.Assign] = []
        self.imports: list[cst.CSTNode] = []
        self.statements: list[cst.SimpleStatementLine] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        self.binops.append(node)

    def visit_Dict(self, node: cst.Dict) -> None:
        self.dicts.append(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        self.assigns.append(node)

    def visit_Import(self, node: cst.Import) -> None:
        self.imports.append(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.imports.append(node)

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.statements.append(node)


class Source:
    """A parsed user file: nodes, positions, canonical names (`keras.layers.Dense`, `tf.matmul`, `numpy.eye`)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.module = cst.parse_module(text)
        wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
        self.positions = wrapper.resolve(PositionProvider)
        self.qualified = wrapper.resolve(QualifiedNameProvider)
        self.starts = line_starts(text)
        collected = _Collect()
        self.module.visit(collected)
        self.calls = collected.calls
        self.binops = collected.binops
        self.dicts = collected.dicts
        self.assigns = collected.assigns
        self.imports = collected.imports
        self.statements = collected.statements

    # --- positions and text ---
    def span(self, node: cst.CSTNode) -> tuple[int, int]:
        where = self.positions[node]
        return (offset_of(self.starts, Position(where.start.line, where.start.column)),
                offset_of(self.starts, Position(where.end.line, where.end.column)))

    def code(self, node: cst.CSTNode) -> str:
        start, end = self.span(node)
        return self.text[start:end]

    def lines(self, node: cst.CSTNode) -> tuple[int, int]:
        where = self.positions[node]
        return where.start.line, where.end.line

    def on_line(self, node: cst.CSTNode, line: int) -> bool:
        first, last = self.lines(node)
        return first <= line <= last

    def replace(self, node: cst.CSTNode, text: str) -> Edit:
        start, end = self.span(node)
        if getattr(node, "lpar", None) and text.startswith("(") and text.endswith(")"):
            text = text[1:-1]  # the node's own parentheses stay (its position is inside them)
        return Edit(start, end, text)

    def insert_before(self, node: cst.CSTNode, text: str) -> Edit:
        start, _ = self.span(node)
        return Edit(start, start, text)

    def indent_of(self, node: cst.CSTNode) -> str:
        start, _ = self.span(node)
        line_start = self.text.rfind("\n", 0, start) + 1
        prefix = self.text[line_start:start]
        return prefix[: len(prefix) - len(prefix.lstrip())]

    # --- names ---
    def names(self, node: cst.CSTNode) -> set[str]:
        """Canonical API names the expression resolves to (`keras.layers.Dense`, `tf.matmul`, `numpy.eye`)."""
        found = set()
        value = self.qualified.get(node, ())
        if callable(value):  # LibCST computes qualified names lazily
            value = value()
        for qualified in value:
            name = qualified.name
            found.add(canonical(name) or name)
        return found

    def callee(self, call: cst.Call) -> set[str]:
        return self.names(call.func)

    def leaf(self, call: cst.Call) -> str:
        func = call.func
        if isinstance(func, cst.Attribute):
            return func.attr.value
        if isinstance(func, cst.Name):
            return func.value
        return ""

    def calls_named(self, *leaves: str, line: int | None = None) -> list[cst.Call]:
        """Calls whose callee resolves to an API with one of these leaf names (or, unresolved, is spelled so)."""
        found = []
        for call in self.calls:
            names = self.callee(call)
            leaf_names = {n.rpartition(".")[2] for n in names} or {self.leaf(call)}
            if leaf_names & set(leaves) and (line is None or self.on_line(call, line)):
                found.append(call)
        return found

    def is_api(self, call: cst.Call, prefix: str) -> bool:
        return any(n.startswith(prefix) for n in self.callee(call))

    def statement_of(self, node: cst.CSTNode) -> cst.SimpleStatementLine | None:
        start, end = self.span(node)
        best = None
        for statement in self.statements:
            s, e = self.span(statement)
            if s <= start and end <= e and (best is None or s >= self.span(best)[0]):
                best = statement
        return best

    # --- how this file spells modules ---
    def alias_of(self, *modules: str) -> str | None:
        """The name this file binds to one of `modules` (`np` for numpy), or None."""
        for node in self.imports:
            if isinstance(node, cst.Import):
                for alias in node.names:
                    dotted = self.code(alias.name)
                    if dotted in modules:
                        return alias.asname.name.value if alias.asname else dotted  # type: ignore[union-attr]
            elif isinstance(node, cst.ImportFrom) and node.module is not None and not isinstance(node.names, cst.ImportStar):
                base = self.code(node.module)
                for alias in node.names:
                    dotted = f"{base}.{self.code(alias.name)}"
                    if dotted in modules:
                        return alias.asname.name.value if alias.asname else self.code(alias.name)  # type: ignore[union-attr]
        return None

    def import_edit(self, line: str) -> Edit:
        """An edit that adds an import line before the file's first import (after a docstring, __future__)."""
        position = 0
        for node in self.module.body:
            if isinstance(node, cst.SimpleStatementLine) and any(
                isinstance(s, cst.ImportFrom) and s.module is not None and self.code(s.module) == "__future__"
                for s in node.body
            ):
                position = self.span(node)[1] + 1
                continue
            if isinstance(node, cst.SimpleStatementLine) and any(isinstance(s, (cst.Import, cst.ImportFrom)) for s in node.body):
                position = self.span(node)[0]
                break
        return Edit(position, position, line + "\n")

    def numpy(self) -> tuple[str, list[Edit]]:
        """How to spell numpy here, with the import to add when the file has none."""
        alias = self.alias_of("numpy")
        if alias:
            return alias, []
        return "np", [self.import_edit("import numpy as np")]

    def tensorflow(self) -> tuple[str, list[Edit]]:
        alias = self.alias_of("tensorflow", "tensorflow.compat.v1")
        if alias:
            return alias, []
        return "tf", [self.import_edit("import tensorflow as tf")]

    def keras(self) -> tuple[str, list[Edit]]:
        """How to spell the keras package here (`keras`, `tf.keras`), with an import when needed."""
        alias = self.alias_of("keras", "tensorflow.keras")
        if alias:
            return alias, []
        tf = self.alias_of("tensorflow")
        if tf:
            return f"{tf}.keras", []
        return "keras", [self.import_edit("import keras")]

    def layer_spelling(self, like: cst.Call, layer: str) -> tuple[str, list[Edit]]:
        """How to name the Keras layer class `layer` the way the file names the layer made by `like`."""
        func = like.func
        if isinstance(func, cst.Attribute):
            return self.code(func.value) + "." + layer, []
        # `from keras.layers import Dense`: add the class to that import
        for node in self.imports:
            if isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
                names = [self.code(alias.name) for alias in node.names]
                if isinstance(func, cst.Name) and func.value in names:
                    if layer in names:
                        return layer, []
                    last = node.names[-1]
                    return layer, [Edit(self.span(last)[1], self.span(last)[1], f", {layer}")]
        keras, edits = self.keras()
        return f"{keras}.layers.{layer}", edits


def literal(node: cst.BaseExpression):
    """The Python value of a literal expression (ints, tuples, lists, strings, None), else raises ValueError."""
    if isinstance(node, cst.Integer):
        return int(node.value, 0)
    if isinstance(node, cst.Float):
        return float(node.value)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return -literal(node.expression)
    if isinstance(node, cst.Name) and node.value == "None":
        return None
    if isinstance(node, cst.SimpleString):
        return node.evaluated_value
    if isinstance(node, (cst.Tuple, cst.List)):
        return tuple(literal(e.value) for e in node.elements)  # type: ignore[union-attr]
    raise ValueError("not a literal")


def argument(call: cst.Call, index: int | None, *keywords: str) -> cst.Arg | None:
    """The argument passed by one of `keywords`, else positionally at `index` (tffix.rule.argument, with
    several spellings of the keyword)."""
    from ..rule import argument as by_keyword

    for keyword in keywords:
        found = by_keyword(call, keyword)
        if found is not None:
            return found
    return by_keyword(call, "", index) if index is not None else None


def shape_text(shape: Sequence[int | None]) -> str:
    items = ["None" if d is None else str(d) for d in shape]
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
