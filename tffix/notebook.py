"""Jupyter notebooks (`.ipynb`, nbformat 4): their code cells as one Python module, and back.

The code cells are joined, in order, into one module (an import in the first cell resolves names in the
last), each after a boundary comment line. IPython syntax that is not Python (`%magic`, `%%cell magic`, `!shell`,
`x = !cmd`, `obj?` help) is masked line for line with `pass` placeholders of the same indentation, so line
numbers hold and the module parses; the placeholders are put back before anything is written.

Writing back touches nothing but the `source` value of a cell whose code changed: the new value is spliced
into the notebook's own JSON text, in the notebook's layout (indentation, `\\uXXXX` escapes or not), reusing
the original text of every line that did not change. Outputs, metadata, key order and the rest stay byte for
byte. Findings are reported per cell: `Finding.cell` is the cell's 1-based position among all the notebook's
cells (as Jupyter and VS Code count them), and lines and columns are within that cell.
"""

from __future__ import annotations

import difflib
import functools
import io
import tokenize
from bisect import bisect_right
from itertools import accumulate
import json
import re
from dataclasses import dataclass, replace
from json.decoder import scanstring  # type: ignore[attr-defined]

from .model import Finding, Fix, Position, Problem, TextEdit

MAX_NOTEBOOK_BYTES = 100 * 1024 * 1024  # outputs (images) make notebooks large; their code is what counts

BOUNDARY = "# tffix: notebook cell boundary"
_PLACEHOLDER = "pass  # tffix: masked IPython line {}"
_PLACEHOLDER_LINE = re.compile(r"^[ \t]*pass  # tffix: masked IPython line (\d+)(?=[\r\n]|\Z)", re.MULTILINE)
# Cell magics whose body is Python; the body of any other (%%bash, %%writefile, %%html...) is masked whole.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})
_MAGIC_LINE = re.compile(
    r"""^[ \t]*(?:[%!?]           # %magic, !shell, ?help
        |[\w.,\[\]() \t*]+=[ \t]*[%!]   # x = !ls, x = %time f()
        )""",
    re.VERBOSE,
)
_HELP_SUFFIX = re.compile(r"^[ \t]*[\w.\[\]()]+\?{1,2}[ \t]*$")  # obj?  obj??


class NotebookError(Exception):
    """A notebook tffix cannot read (or cannot write back faithfully). The message is one line."""


@dataclass(frozen=True)
class Cell:
    number: int  # 1-based position among all cells
    source: str  # the cell's text, as in the notebook
    masked: str  # the same with IPython lines masked; ends with a newline
    magics: tuple[str, ...]  # the original lines of the placeholders, in order
    span: tuple[int, int]  # where the `source` value sits in the notebook's JSON text
    first_line: int  # the line of the masked cell's first line in the joined module (1-based)
    offset: int  # where the masked cell starts in the joined module


@dataclass(frozen=True)
class Notebook:
    text: str  # the JSON text
    cells: tuple[Cell, ...]  # code cells only
    ensure_ascii: bool  # whether the notebook escapes non-ASCII characters as \uXXXX

    @functools.cached_property
    def python(self) -> str:
        """The code cells as one module."""
        return "".join(f"{BOUNDARY}\n{cell.masked}" for cell in self.cells)

    # --- positions ----------------------------------------------------------------------------------------
    def cell_at(self, line: int) -> Cell | None:
        """The cell holding line `line` of the joined module (None for a boundary line)."""
        found = None
        for cell in self.cells:
            if cell.first_line <= line:
                found = cell
        if found is None or line >= found.first_line + len(_lines(found.masked)):
            return None
        return found

    def locate(self, line: int) -> tuple[int | None, int]:
        cell = self.cell_at(line)
        return (None, line) if cell is None else (cell.number, line - cell.first_line + 1)

    def map_finding(self, finding: Finding) -> Finding:
        number, start_line = self.locate(finding.start.line)
        if number is None:
            return finding
        cell = next(c for c in self.cells if c.number == number)
        end_line = finding.end.line - cell.first_line + 1
        fix = finding.fix
        if fix is not None:
            edits = _cell_edits(cell, fix.edits)
            fix = None if edits is None else Fix(fix.title, fix.applicability, edits)
        return replace(
            finding,
            cell=number,
            start=Position(start_line, finding.start.column),
            end=Position(end_line, finding.end.column),
            fix=fix,
        )

    def map_problem(self, problem: Problem) -> Problem:
        if problem.line is None:
            return problem
        number, line = self.locate(problem.line)
        if number is None:
            return problem
        return replace(problem, path=f"{problem.path}[cell {number}]", line=line)

    # --- writing back -------------------------------------------------------------------------------------
    def with_python(self, python: str) -> str:
        """The notebook's JSON text with the code cells taken from `python` (a changed `self.python`)."""
        parts = python.split(f"{BOUNDARY}\n")
        if parts[0] != "" or len(parts) != len(self.cells) + 1:
            raise NotebookError("a fix moved a cell boundary; the notebook was not changed")
        text = self.text
        for cell, masked in reversed(list(zip(self.cells, parts[1:]))):
            if masked == cell.masked:
                continue
            new_source = _unmask(masked, cell.magics)
            if not cell.source.endswith("\n") and new_source.endswith("\n"):
                new_source = new_source[:-1]
            start, end = cell.span
            text = text[:start] + _encode_source(text[start:end], new_source, self) + text[end:]
        return text


def _cell_edits(cell: Cell, edits: tuple[TextEdit, ...]) -> tuple[TextEdit, ...] | None:
    """`edits` (offsets into the joined module) as offsets into the cell's own source, or None when one of
    them reaches outside the cell or into a masked line. Masking keeps lines, so line and column carry over."""
    masked_lines = _lines(cell.masked)
    masked_starts = list(accumulate(map(len, masked_lines), initial=0))
    source_starts = list(accumulate(map(len, _lines(cell.source)), initial=0))

    def convert(offset: int) -> int | None:
        relative = offset - cell.offset
        if not 0 <= relative <= len(cell.masked):
            return None
        line = bisect_right(masked_starts, relative) - 1
        if line < len(masked_lines) and _PLACEHOLDER_LINE.match(masked_lines[line].rstrip("\r\n")):
            return None
        if line >= len(source_starts):
            return len(cell.source)
        return min(source_starts[line] + relative - masked_starts[line], len(cell.source))

    result = []
    for edit in edits:
        start, end = convert(edit.start), convert(edit.end)
        if start is None or end is None:
            return None
        result.append(TextEdit(start, end, edit.text))
    return tuple(result)


def _lines(text: str) -> list[str]:
    """Lines with their endings, split where Python splits them (not at form feeds and the like)."""
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)


# --- reading ---------------------------------------------------------------------------------------------------
def read_notebook(data: bytes) -> Notebook:
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"notebook is {len(data):,} bytes, over the {MAX_NOTEBOOK_BYTES:,}-byte limit")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookError(f"notebook is not valid UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"not a valid notebook: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise NotebookError("not a notebook in nbformat 4 (no list of cells)")
    language = _language(document)
    if language not in (None, "python"):
        raise NotebookError(f"a {language} notebook, not a Python one")
    spans = _source_spans(text)
    cells = []
    line, offset = 1, 0
    for index, cell in enumerate(document["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str) or index not in spans:
            raise NotebookError(f"cell {index + 1} has no readable source")
        masked, magics = mask(source)
        offset += len(BOUNDARY) + 1
        cells.append(Cell(index + 1, source, masked, magics, spans[index], line + 1, offset))
        line += 1 + len(_lines(masked))
        offset += len(masked)
    return Notebook(text, tuple(cells), _escapes_non_ascii(text))


def _language(document: dict) -> str | None:
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    for key in ("language_info", "kernelspec"):
        section = metadata.get(key)
        if isinstance(section, dict):
            name = section.get("name" if key == "language_info" else "language")
            if isinstance(name, str) and name:
                return name.lower()
    return None


def _escapes_non_ascii(text: str) -> bool:
    if not text.isascii():
        return False
    return re.search(r"(?<!\\)(?:\\\\)*\\u(?:00[89a-fA-F]|0[1-9a-fA-F]|[1-9a-fA-F])", text) is not None


# --- masking ---------------------------------------------------------------------------------------------------
def mask(source: str) -> tuple[str, tuple[str, ...]]:
    """The cell with every IPython-only line replaced by a placeholder; and the replaced lines."""
    lines = _lines(source)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n"
    magics: list[str] = []
    masked: list[str] = []
    first = lines[0].lstrip() if lines else ""
    whole = first.startswith("%%") and (first[2:].split() or [""])[0] not in PYTHON_CELL_MAGICS
    starts = None if whole else _statement_starts("".join(lines))
    continued = False
    for number, line in enumerate(lines):
        body = line.rstrip("\r\n")
        at_start = starts is None or number in starts
        if whole or continued or (number == 0 and first.startswith("%%")) or (at_start and _is_ipython(body)):
            indent = body[: len(body) - len(body.lstrip(" \t"))]
            masked.append(f"{indent}{_PLACEHOLDER.format(len(magics))}{line[len(body):]}")
            magics.append(body)
            continued = body.endswith("\\")
        else:
            masked.append(line)
    return "".join(masked), tuple(magics)


def _statement_starts(text: str) -> set[int] | None:
    """The (0-based) lines on which a logical line begins: only there can IPython syntax stand. None when the
    tokenizer gives up (then every line counts)."""
    starts: set[int] = set()
    expect_start = True
    skipped = (tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT, tokenize.ENDMARKER)
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.NEWLINE:
                expect_start = True
            elif token.type not in skipped and expect_start:
                starts.add(token.start[0] - 1)
                expect_start = False
    except (tokenize.TokenError, SyntaxError):
        return None
    return starts


def _is_ipython(line: str) -> bool:
    return _MAGIC_LINE.match(line) is not None or _HELP_SUFFIX.match(line) is not None


def _unmask(masked: str, magics: tuple[str, ...]) -> str:
    seen: list[int] = []

    def restore(match: re.Match) -> str:
        index = int(match.group(1))
        seen.append(index)
        return magics[index] if index < len(magics) else match.group()

    text = _PLACEHOLDER_LINE.sub(restore, masked)
    if sorted(seen) != list(range(len(magics))):
        raise NotebookError("a fix touched a masked IPython line; the notebook was not changed")
    return text


# --- the notebook's JSON text ----------------------------------------------------------------------------------
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _skip(text: str, index: int) -> int:
    return _WHITESPACE.match(text, index).end()  # type: ignore[union-attr]


def _members(text: str, index: int):
    """(key, value start, value end) of the JSON object starting at `index`; the last item is the end."""
    index = _skip(text, index + 1)
    while text[index] != "}":
        key, index = scanstring(text, index + 1)
        index = _skip(text, _skip(text, index) + 1)  # past the colon
        _, end = _DECODER.raw_decode(text, index)
        yield key, index, end
        index = _skip(text, end)
        if text[index] == ",":
            index = _skip(text, index + 1)


def _elements(text: str, index: int) -> list[tuple[int, int]]:
    """(start, end) of each element of the JSON array starting at `index`."""
    spans = []
    index = _skip(text, index + 1)
    while text[index] != "]":
        _, end = _DECODER.raw_decode(text, index)
        spans.append((index, end))
        index = _skip(text, end)
        if text[index] == ",":
            index = _skip(text, index + 1)
    return spans


def _source_spans(text: str) -> dict[int, tuple[int, int]]:
    """cell index -> (start, end) of that cell's `source` value in the JSON text."""
    spans: dict[int, tuple[int, int]] = {}
    for key, start, _ in _members(text, _skip(text, 0)):
        if key != "cells":
            continue
        spans.clear()  # a repeated key: JSON readers take the last one
        for number, (cell_start, _) in enumerate(_elements(text, start)):
            if text[cell_start] == "{":
                for cell_key, value_start, value_end in _members(text, cell_start):
                    if cell_key == "source":
                        spans[number] = (value_start, value_end)
    return spans


def _split_like(text: str, stored: list[str]) -> list[str]:
    """`text` split into lines the way the stored lines were split (nbformat splits with `splitlines`)."""
    by_newline = re.findall(r"[^\n]*\n|[^\n]+$", "".join(stored))
    return re.findall(r"[^\n]*\n|[^\n]+$", text) if by_newline == stored else text.splitlines(keepends=True)


def _encode_source(original_json: str, new: str, notebook: Notebook) -> str:
    """The JSON text of a cell's new `source`, laid out like `original_json`."""
    if original_json.startswith('"'):
        return json.dumps(new, ensure_ascii=notebook.ensure_ascii)
    items = _elements(original_json, 0)
    old_lines = [json.loads(original_json[start:end]) for start, end in items]
    new_lines = _split_like(new, old_lines)
    if items:
        opening = original_json[1 : items[0][0]]
        closing = original_json[items[-1][1] : -1]
        separator = original_json[items[0][1] : items[1][0]] if len(items) > 1 else "," + opening
    else:
        opening, closing, separator = _layout_of_empty(notebook)
    encoded = [json.dumps(line, ensure_ascii=notebook.ensure_ascii) for line in new_lines]
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):  # a line that did not change keeps its original text
            start, end = items[block.a + k]
            encoded[block.b + k] = original_json[start:end]
    if not encoded:
        return "[]"
    return "[" + opening + separator.join(encoded) + closing + "]"


def _layout_of_empty(notebook: Notebook) -> tuple[str, str, str]:
    """Opening, closing and separator for filling an empty `[]`: copied from another cell's source list."""
    for cell in notebook.cells:
        start, end = cell.span
        sample = notebook.text[start:end]
        items = _elements(sample, 0) if sample.startswith("[") else []
        if items:
            opening = sample[1 : items[0][0]]
            closing = sample[items[-1][1] : -1]
            return opening, closing, "," + opening
    return "", "", ", "
