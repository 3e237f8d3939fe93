"""Jupyter notebooks (`.ipynb`): their code cells read as IPython reads them, checked as one Python module, and
fixed cell by cell.

Each code cell is translated line for line as IPython translates it (`tffix.notebook_ipython`); the notebook's
JSON text is read and written by `tffix.notebook_json`. This module joins the cells and maps positions and
edits in the joined module back to the cells.

A cell whose translation does not compile (Python 2 `print x`, a stray indent) cannot run under IPython
either: it is reported once, `path[cell N]:line:col`, and left out; every other cell is checked and fixed.
The code cells that compile are joined, in order, each after a boundary comment line, into one module, so an
import in the first cell resolves names in the last.

Writing back: the changed module is split at the boundaries; a cell's new source is its old lines where the
translation did not change, and the new lines with the cell's prefix; it must translate back to exactly the
fixed text, or the fix is refused (`refusal`), so a fix never moves a cell boundary nor touches an IPython
line. Only the `source` value of a changed cell is rewritten, in the notebook's own JSON layout.
`Finding.cell` is the cell's 1-based position among all the notebook's cells (markdown included: the count
Jupyter, JupyterLab and VS Code show), lines and columns are within that cell's own source.
"""

from __future__ import annotations

import ast
import functools
import warnings
from bisect import bisect_right
from dataclasses import dataclass, replace

from .edits import diff_edits
from .model import Finding, Fix, Position, Problem, ProblemKind, TextEdit
from .notebook_ipython import Translation, python_lines, translate, untranslate
from .notebook_json import NotebookError, encode_source, escapes_non_ascii, read_code_cells

BOUNDARY = "# tffix: notebook cell boundary"


@dataclass(frozen=True)
class Cell:
    number: int  # 1-based position among all cells (markdown included)
    source: str  # the cell's text, as in the notebook
    translation: Translation | None  # None when IPython's own translation fails
    problem: tuple[str, int, int] | None  # why the cell cannot run (message, line, column): then it is left out
    span: tuple[int, int]  # where the source value sits in the notebook's JSON text
    first_line: int = 0  # the line of the cell's first line in the joined module (1-based)

    @property
    def python(self) -> str:
        return "" if self.problem is not None or self.translation is None else self.translation.text

    def column(self, line: int, column: int) -> int:
        """A column of the translated line `line` (1-based) as a column of the cell's own line."""
        prefixes = self.translation.prefixes if self.translation is not None else ()
        return column + (len(prefixes[line - 1]) if 1 <= line <= len(prefixes) else 0)


@dataclass(frozen=True)
class Notebook:
    text: str  # the JSON text
    cells: tuple[Cell, ...]  # code cells only
    ensure_ascii: bool  # whether the notebook escapes non-ASCII characters as \uXXXX

    @functools.cached_property
    def python(self) -> str:
        """The code cells that can run, as one module; a cell that cannot is an empty stretch."""
        return "".join(f"{BOUNDARY}\n{cell.python}" for cell in self.cells)

    @functools.cached_property
    def _first_lines(self) -> list[int]:
        return [cell.first_line for cell in self.cells]

    def problems(self, path: str) -> tuple[Problem, ...]:
        """One problem for each code cell that cannot run as Python."""
        return tuple(
            Problem(ProblemKind.SYNTAX, path, message, line, column, cell=cell.number)
            for cell in self.cells if cell.problem is not None
            for message, line, column in [cell.problem]
        )

    # --- positions ----------------------------------------------------------------------------------------
    def cell_at(self, line: int) -> Cell | None:
        """The cell holding line `line` of the joined module (None for a boundary line)."""
        index = bisect_right(self._first_lines, line) - 1
        if index < 0:
            return None
        cell = self.cells[index]
        return cell if line < cell.first_line + len(python_lines(cell.python)) else None

    def locate(self, line: int) -> tuple[int | None, int]:
        cell = self.cell_at(line)
        return (None, line) if cell is None else (cell.number, line - cell.first_line + 1)

    def map_finding(self, finding: Finding) -> Finding:
        cell = self.cell_at(finding.start.line)
        if cell is None:
            return finding
        start_line = finding.start.line - cell.first_line + 1
        end_line = finding.end.line - cell.first_line + 1
        fix = finding.fix
        if fix is not None and fix.edits:
            fix = Fix(fix.title, fix.applicability, self._cell_edits(cell, fix.edits))
        return replace(
            finding,
            cell=cell.number,
            start=Position(start_line, cell.column(start_line, finding.start.column)),
            end=Position(end_line, cell.column(end_line, finding.end.column)),
            fix=fix,
        )

    def map_problem(self, problem: Problem) -> Problem:
        if problem.line is None or problem.cell is not None:
            return problem
        cell = self.cell_at(problem.line)
        if cell is None:
            return problem
        line = problem.line - cell.first_line + 1
        column = None if problem.column is None else cell.column(line, problem.column)
        return replace(problem, line=line, column=column, cell=cell.number)

    def excluding(self, problem: Problem) -> Notebook | None:
        """This notebook with the cell that `problem` (a syntax problem in the joined module) points into left
        out, when it points into one: a cell CPython compiles but tffix's parser (LibCST) cannot read."""
        if problem.kind is not ProblemKind.SYNTAX or problem.line is None or problem.cell is not None:
            return None
        cell = self.cell_at(problem.line)
        if cell is None:
            return None
        line = problem.line - cell.first_line + 1
        column = cell.column(line, problem.column or 0)
        message = f"{problem.message} (tffix's parser, LibCST, cannot read this cell; Python can)"
        cells = list(self.cells)
        cells[self.cells.index(cell)] = replace(cell, problem=(message, line, column))
        return _assemble(self.text, cells, self.ensure_ascii)

    def reread(self, data: bytes) -> Notebook:
        """The notebook `data` (this one after a fix) with the same cells left out: a fix never changes a
        cell that is left out, so one LibCST could not read still cannot."""
        new = read_notebook(data)
        cells = [
            replace(cell, problem=old.problem) if old.problem is not None and cell.problem is None else cell
            for old, cell in zip(self.cells, new.cells)
        ]
        return _assemble(new.text, cells, new.ensure_ascii) if len(cells) == len(new.cells) else new

    # --- writing back -------------------------------------------------------------------------------------
    def _parts(self, python: str) -> list[str] | None:
        parts = python.split(f"{BOUNDARY}\n")
        if parts[0] != "" or len(parts) != len(self.cells) + 1:
            return None
        return parts[1:]

    def _new_sources(self, python: str) -> dict[int, str] | str:
        """cell index -> new source for each cell `python` (a changed `self.python`) changes; or why it
        cannot be written back."""
        parts = self._parts(python)
        if parts is None:
            return "it would move a notebook cell boundary"
        sources: dict[int, str] = {}
        for index, (cell, part) in enumerate(zip(self.cells, parts)):
            if part == cell.python:
                continue
            source = None if cell.python == "" or cell.translation is None else untranslate(cell.translation, part)
            if source is None:
                return (f"it cannot be made within cell {cell.number} without changing an IPython line, "
                        "a cell magic, the cell's indentation or prompts, or a cell left out")
            sources[index] = source
        return sources

    def refusal(self, python: str) -> str | None:
        """Why `python`, a changed `self.python`, cannot be written back into the cells; None when it can."""
        sources = self._new_sources(python)
        return sources if isinstance(sources, str) else None

    def with_python(self, python: str) -> str:
        """The notebook's JSON text with the code cells taken from `python` (a changed `self.python`)."""
        sources = self._new_sources(python)
        if isinstance(sources, str):
            raise NotebookError(f"a fix cannot be written back: {sources}; the notebook was not changed")
        text = self.text
        for index in sorted(sources, reverse=True):
            start, end = self.cells[index].span
            samples = (self.text[slice(*cell.span)] for cell in self.cells)  # the sources as read, for their layout
            new = encode_source(text[start:end], sources[index], self.ensure_ascii, samples)
            text = text[:start] + new + text[end:]
        return text

    def _cell_edits(self, cell: Cell, edits: tuple[TextEdit, ...]) -> tuple[TextEdit, ...]:
        """`edits` (offsets into the joined module) as edits of `cell`'s own source; none when they change
        another cell too or cannot be written into this one."""
        python = self.python
        for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
            python = python[: edit.start] + edit.text + python[edit.end :]
        sources = self._new_sources(python)
        if isinstance(sources, str) or set(sources) != {self.cells.index(cell)}:
            return ()
        return diff_edits(cell.source, sources[self.cells.index(cell)])


def _assemble(text: str, cells: list[Cell], ensure_ascii: bool) -> Notebook:
    placed, line = [], 1
    for cell in cells:
        placed.append(replace(cell, first_line=line + 1))
        line += 1 + len(python_lines(cell.python))
    return Notebook(text, tuple(placed), ensure_ascii)


# --- reading ---------------------------------------------------------------------------------------------------
def read_cell(number: int, source: str, span: tuple[int, int] = (0, 0)) -> Cell:
    try:
        translation: Translation | None = translate(source)
    except SyntaxError as exc:  # IPython's own translation fails: the cell cannot run
        return Cell(number, source, None, (f"does not parse: {exc.msg}", max(1, exc.lineno or 1), 0), span)
    assert translation is not None
    problem = None if translation.whole else _compile_problem(translation.text, translation)
    return Cell(number, source, translation, problem, span)


def _compile_problem(text: str, translation: Translation) -> tuple[str, int, int] | None:
    """(message, 1-based line, 0-based column in the cell's source) when the translated cell does not compile
    (as IPython compiles it: top-level `await` allowed); None when it does."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    except SyntaxError as exc:
        return _syntax_message(exc, translation)
    except (ValueError, OverflowError) as exc:  # null bytes, huge literals
        return f"does not parse: {exc}", 1, 0
    except (RecursionError, MemoryError):
        return "too deeply nested to parse", 1, 0
    return None


def _syntax_message(exc: SyntaxError, translation: Translation) -> tuple[str, int, int]:
    from .engine import _looks_like_python2

    count = max(1, len(translation.prefixes))
    line = min(max(1, exc.lineno or 1), count)
    column = max(0, (exc.offset or 1) - 1)
    if exc.lineno is not None and exc.lineno <= count and translation.prefixes:
        column += len(translation.prefixes[line - 1])
    hint = " (Python 2 code? tffix reads Python 3 only)" if _looks_like_python2(translation.text) else ""
    return f"does not parse: {exc.msg}{hint}", line, column


def read_notebook(data: bytes) -> Notebook:
    text, sources = read_code_cells(data)
    cells = [read_cell(number, source, span) for number, source, span in sources]
    return _assemble(text, cells, escapes_non_ascii(text))
