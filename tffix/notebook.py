"""Jupyter notebooks (`.ipynb`, nbformat 3 and 4): their code cells read as IPython reads them, checked as
one Python module, and fixed cell by cell.

Each code cell is translated as IPython translates it before running it (`IPython.core.inputtransformer2`,
matched here step by step, and `InteractiveShell.transform_cell`'s automagic for one-line cells), but line for
line: a line of the cell is line N of its translation, so positions carry over.

- leading blank lines are kept; the first line's indentation is taken off every line that starts with it
  (IPython's `leading_indent`); `>>> ` / `... ` and `In [1]: ` / `...: ` prompts are taken off as IPython
  takes them off. What was taken off a line is its prefix, put back when the line is written.
- a cell magic (`%%bash`, `%%writefile f.py`, `%%html`, any unknown one) whose body is not Python: the whole
  cell is masked. `%%time`, `%%timeit`, `%%prun`, `%%debug` and `%%capture` keep their body, which is
  translated as a cell of its own (as those magics do).
- `%magic`, `!shell`, `!!shell`, `?obj`, `obj?`, `obj??`, `,f a`, `;f a`, `/f a` at the start of a logical
  line, with their backslash-continued lines, and `x = !cmd`, `x = %magic`: found with Python's tokenizer, one
  at a time, earliest first, exactly where IPython finds them; the line becomes `pass` (or `x = ...`) and a
  marker comment, its continuation lines marker comments.
- automagic: a cell that is one line once translated and starts with a line-magic name that is no builtin,
  keyword or assignment target (`pip install x`, `cd dir`, `ls -la`) runs as that magic (IPython does it for
  one-line cells only, when no variable of that name exists): masked as well.

A cell whose translation does not compile (Python 2 `print x`, a stray indent) cannot run under IPython
either: it is reported once, `path[cell N]:line:col`, and left out; every other cell is checked and fixed.
The code cells that compile are joined, in order, each after a boundary comment line, into one module, so an
import in the first cell resolves names in the last.

Writing back: the changed module is split at the boundaries; a cell's new source is its old lines where the
translation did not change, and the new lines with the cell's prefix; it must translate back to exactly the
fixed text, or the fix is refused (`refusal`), so a fix never moves a cell boundary nor touches an IPython
line. Only the `source` value of a changed cell is rewritten, spliced into the notebook's own JSON text in its
own layout; outputs, metadata, key order and the rest stay byte for byte. `Finding.cell` is the cell's
1-based position among all the notebook's cells (markdown included: the count Jupyter, JupyterLab and VS Code
show), lines and columns are within that cell's own source.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import functools
import json
import keyword
import re
import sys
import tokenize
import warnings
from bisect import bisect_right
from dataclasses import dataclass, replace
from json.decoder import scanstring  # type: ignore[attr-defined]

from .edits import diff_edits
from .model import Finding, Fix, Position, Problem, ProblemKind, TextEdit

MAX_NOTEBOOK_BYTES = 100 * 1024 * 1024  # outputs (images) make notebooks large; their code is what counts

BOUNDARY = "# tffix: notebook cell boundary"
_MARK = "# tffix: masked IPython line {}"
_MARKED = re.compile(r"# tffix: masked IPython line \d+$")

# Cell magics that run their body as Python in the kernel's namespace (IPython's own `time`, `timeit`, `prun`,
# `debug`, `capture`); the body of every other cell magic is not Python, or not run in the notebook's namespace.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})
# Line magics (and the POSIX aliases) of a Jupyter kernel: the names IPython's automagic runs without a `%`.
LINE_MAGICS = frozenset(
    "alias alias_magic autoawait autocall automagic autosave bookmark cat cd clear colors conda config "
    "connect_info cp debug dhist dirs doctest_mode ed edit env gui hist history killbgscripts ldir less lf lk "
    "ll load load_ext loadpy logoff logon logstart logstate logstop ls lsmagic lx macro magic man matplotlib "
    "mkdir more mv notebook page pastebin pdb pdef pdoc pfile pinfo pinfo2 pip popd pprint precision prun "
    "psearch psource pushd pwd pycat pylab qtconsole quickref recall rehashx reload_ext rep rerun reset "
    "reset_selective rm rmdir run save sc set_env sx system tb time timeit unalias unload_ext who who_ls "
    "whos xdel xmode".split()
)
_SHADOWING = frozenset(dir(builtins)) | frozenset(keyword.kwlist)


class NotebookError(Exception):
    """A notebook tffix cannot read (or cannot write back faithfully). The message is one line."""


# --- translating a cell as IPython does, line for line -----------------------------------------------------
_INDENT = re.compile(r"^[ \t]+")
_CLASSIC_PROMPT = (re.compile(r"^>>>( |$)", re.MULTILINE), re.compile(r"^(>>>|\.\.\.)( |$)", re.MULTILINE))
_IPYTHON_PROMPT_RE = re.compile(r"^(((\[nav\]|\[ins\])?\ )?In\ \[\d+\]:\ |\s*\.{3,}:\ ?)")
_IPYTHON_PROMPT = (_IPYTHON_PROMPT_RE, _IPYTHON_PROMPT_RE)
_HELP_END = re.compile(r"(%{0,2}(?!\d)[\w*]+(\.(?!\d)[\w*]+|\[-?[0-9]+\])*)(\?\??)$")
_LINE_SPLIT = re.compile(r"^(\s*)([,;/%]|!!?|\?\??)?\s*(%{0,2}[\w\.\*]*)(.*?$|$)")
_ESCAPES = {"!", "?", "%", ",", ";", "/"}
_TRANSFORM_LIMIT = 500  # IPython's TRANSFORM_LOOP_LIMIT


class Untranslatable(SyntaxError):
    """IPython's own translation of the cell fails (its tokenizer raises, or it never settles)."""


@dataclass(frozen=True)
class Translation:
    source: str  # the cell's text
    text: str  # the cell as Python, line for line; every line ends with a newline
    prefixes: tuple[str, ...]  # per line: what IPython takes off its start (indentation, prompts)
    masked: frozenset[int]  # 0-based lines replaced by placeholders
    whole: bool  # a cell magic whose body is not Python: nothing in the cell is Python

    @functools.cached_property
    def lines(self) -> list[str]:
        return _lines(self.text)

    def new_line_prefix(self, line: int) -> str:
        """The prefix for a line a fix inserts before 0-based line `line`: that of the nearest line above it
        with text (below it when there is none above)."""
        order = [*range(min(line, len(self.prefixes)) - 1, -1, -1), *range(line, len(self.prefixes))]
        for k in order:
            if self.lines[k].strip():
                return self.prefixes[k]
        return ""


class _Work:
    def __init__(self, source: str) -> None:
        lines = _lines(source)
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += "\n"
        self.lines = lines
        self.prefixes = [""] * len(lines)
        self.masked: set[int] = set()
        self.joined: set[int] = set()  # lines IPython removes or joins into the line above
        self.whole = False

    def cut(self, row: int, n: int) -> None:
        self.prefixes[row] += self.lines[row][:n]
        self.lines[row] = self.lines[row][n:]

    def mask(self, row: int, keep: int, stub: str, last: int | None = None) -> None:
        """Line `row` becomes its first `keep` characters, `stub` and a marker; lines after it up to `last`
        (continuation lines) become marker comments."""
        for k in range(row, (row if last is None else last) + 1):
            line = self.lines[k]
            ending = line[len(line.rstrip("\r\n")):] or "\n"
            text = f"{line[:keep]}{stub}  {_MARK.format(len(self.masked))}" if k == row else _MARK.format(len(self.masked))
            self.lines[k] = text + ending
            self.masked.add(k)
            if k != row:
                self.joined.add(k)


def translate(source: str) -> Translation:
    """The cell as the Python IPython runs, line for line. Raises Untranslatable where IPython's translation
    itself fails."""
    work = _Work(source)
    _translate(work, 0, automagic=True)
    return Translation(source, "".join(work.lines), tuple(work.prefixes), frozenset(work.masked), work.whole)


def _translate(work: _Work, low: int, *, automagic: bool) -> None:
    lines, n = work.lines, len(work.lines)
    first = next((i for i in range(low, n) if not lines[i].isspace()), None)  # leading_empty_lines
    if first is None:
        return
    work.joined.update(range(low, first))
    indent = _INDENT.match(lines[first])  # leading_indent
    if indent:
        for row in range(first, n):
            if lines[row].startswith(indent.group()):
                work.cut(row, len(indent.group()))
    for initial, prompt in (_CLASSIC_PROMPT, _IPYTHON_PROMPT):  # classic_prompt, ipython_prompt
        if initial.match(lines[first]) or (first + 1 < n and prompt.match(lines[first + 1])):
            for row in range(first, n):
                found = prompt.match(lines[row])
                if found:
                    work.cut(row, found.end())
    if lines[first].startswith("%%") and not re.match(r"%%\w+\?", lines[first]):  # cell_magic
        name = lines[first][2:].rstrip().partition(" ")[0]
        if name in PYTHON_CELL_MAGICS:
            work.mask(first, 0, "pass")
            _translate(work, first + 1, automagic=name == "capture")  # %%capture runs its body as a cell
        else:
            work.mask(first, 0, "pass", n - 1)
            work.whole = True
        return
    _token_transforms(work, first)
    rows = [row for row in range(first, n) if row not in work.joined]
    if automagic and len(rows) == 1 and rows[0] not in work.masked:
        _automagic(work, rows[0])


def _automagic(work: _Work, row: int) -> None:
    line = work.lines[row].rstrip("\r\n")
    if not line.strip():
        return
    pre, esc, ifun, rest = _LINE_SPLIT.match(line).groups()  # type: ignore[union-attr]
    ifun, rest = ifun.strip(), rest.lstrip()
    if rest and rest[0] in "=,":  # AssignmentChecker: `ls = 1` is Python
        return
    if ifun in LINE_MAGICS and ifun.split(".", 1)[0] not in _SHADOWING:
        work.mask(row, len(pre), "pass")


def _tokens_by_line(lines: list[str], first: int = 0) -> list[list[tokenize.TokenInfo]]:
    """IPython's make_tokens_by_line: tokens grouped into logical lines (`lines` start at line `first`)."""
    groups: list[list[tokenize.TokenInfo]] = [[]]
    depth = 0
    try:
        for token in tokenize.generate_tokens(iter(lines).__next__):
            groups[-1].append(token)
            if token.type == tokenize.NEWLINE or (token.type == tokenize.NL and depth <= 0):
                groups.append([])
            elif token.string in {"(", "[", "{"}:
                depth += 1
            elif token.string in {")", "]", "}"} and depth > 0:
                depth -= 1
    except tokenize.TokenError:  # ends inside a string or brackets: IPython goes on with what it has
        pass
    except SyntaxError as exc:  # IndentationError from the tokenizer: IPython's translation raises too
        raise Untranslatable(exc.msg, (None, (exc.lineno or 1) + first, exc.offset, exc.text)) from None
    if not groups[-1]:
        groups.pop()
    return groups


def _assign_index(group: list[tokenize.TokenInfo]) -> int | None:
    depth = 0
    for index, token in enumerate(group):
        if token.string == "=" and depth == 0:
            return index
        if token.string in {"(", "[", "{"}:
            depth += 1
        elif token.string in {")", "]", "}"} and depth > 0:
            depth -= 1
    return None


def _first_code(group: list[tokenize.TokenInfo]) -> int:
    index = 0
    while index < len(group) and group[index].type in (tokenize.INDENT, tokenize.DEDENT):
        index += 1
    return index


def _find(groups: list[list[tokenize.TokenInfo]]) -> list[tuple]:
    """IPython's four token transformers' `find`: each one's first match, as (line, column, priority, kind,
    extra), lines 1-based within the tokenized lines."""
    found = []
    for group in groups:  # MagicAssign: x = %magic
        index = _assign_index(group)
        if index is not None and len(group) >= index + 2 and group[index + 1].string == "%" \
                and group[index + 2].type == tokenize.NAME:
            found.append((*group[index + 1].start, 10, "assign", None))
            break
    for group in groups:  # SystemAssign: x = !cmd
        index = _assign_index(group)
        if index is not None and not group[index].line.strip().startswith("=") and len(group) >= index + 2 \
                and sys.version_info >= (3, 12) and group[index + 1].exact_type == tokenize.EXCLAMATION:
            found.append((*group[index + 1].start, 10, "assign", None))  # `!` is an operator from 3.12 on
            break
        if index is not None and not group[index].line.strip().startswith("=") and len(group) >= index + 2 \
                and group[index + 1].type == tokenize.ERRORTOKEN:
            k, hit = index + 1, None
            while k < len(group) and group[k].type == tokenize.ERRORTOKEN:
                if group[k].string == "!":
                    hit = group[k].start
                    break
                if not group[k].string.isspace():
                    break
                k += 1
            if hit is not None:
                found.append((*hit, 10, "assign", None))
                break
    for group in groups:  # EscapedCommand: %magic, !cmd, ?obj, ...
        if not group:
            continue
        index = _first_code(group)
        if index < len(group) and group[index].string in _ESCAPES:
            found.append((*group[index].start, 10, "escape", None))
            break
    for group in groups:  # HelpEnd: obj?, obj??
        if len(group) > 2 and group[-2].string == "?":
            found.append((*group[_first_code(group)].start, 5, "help", group[-2].start[0]))
            break
    return found


def _continued_to(lines: list[str], row: int) -> int:
    end = row
    while lines[end].endswith("\\\n"):
        if end + 1 >= len(lines):
            break
        end += 1
    return end


def _token_transforms(work: _Work, first: int) -> None:
    for _ in range(_TRANSFORM_LIMIT):
        candidates = sorted(_find(_tokens_by_line(work.lines[first:], first)), key=lambda c: c[:3])
        for line, column, _priority, kind, question_line in candidates:
            row = first + line - 1
            if kind == "help":
                last = first + question_line - 1
                content = "".join(work.lines[row : last + 1])[column:]
                if not _HELP_END.search(content):
                    continue  # IPython's HelpEnd raises SyntaxError here: the next candidate is tried
                work.mask(row, column, "pass", last)
            else:
                work.mask(row, column, "..." if kind == "assign" else "pass", _continued_to(work.lines, row))
            break
        else:
            return
    raise Untranslatable(f"IPython's translation of the cell does not settle after {_TRANSFORM_LIMIT} steps")


def untranslate(translation: Translation, text: str) -> str | None:
    """The cell's source for `text`, a changed `translation.text`: the old source line wherever the translated
    line did not change, the new line with the cell's prefix where it did. None when that source would not
    translate back to `text` (a fix that reaches into an IPython line, a masked cell or the prefixes)."""
    if text == translation.text:
        return translation.source
    if translation.whole:
        return None
    old, new = translation.lines, _lines(text)
    sources = _lines(translation.source)
    if sources and not sources[-1].endswith(("\n", "\r")):
        sources[-1] += "\n"
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.extend(sources[i1:i2])
            continue
        if any(k in translation.masked for k in range(i1, i2)):  # an IPython line dropped or changed
            return None
        for k, line in enumerate(new[j1:j2]):
            if _MARKED.search(line.rstrip("\r\n")):
                return None
            paired = i1 + k if tag == "replace" and i2 - i1 == j2 - j1 else None
            prefix = translation.prefixes[paired] if paired is not None else translation.new_line_prefix(i1)
            out.append(prefix + line if line.strip() else line)
    source = "".join(out)
    if not translation.source.endswith(("\n", "\r")) and source.endswith("\n"):
        source = source[:-1]
    try:
        if translate(source).text != text:
            return None
    except SyntaxError:
        return None
    return source


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


# --- the notebook ------------------------------------------------------------------------------------------
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
        return cell if line < cell.first_line + len(_lines(cell.python)) else None

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
            text = text[:start] + _encode_source(text[start:end], sources[index], self) + text[end:]
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
        line += 1 + len(_lines(cell.python))
    return Notebook(text, tuple(placed), ensure_ascii)


def _lines(text: str) -> list[str]:
    """Lines with their endings, split where Python splits them (not at form feeds and the like)."""
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)


def read_cell(number: int, source: str, span: tuple[int, int] = (0, 0)) -> Cell:
    try:
        translation: Translation | None = translate(source)
    except SyntaxError as exc:  # IPython's own translation fails: the cell cannot run
        return Cell(number, source, None, (f"does not parse: {exc.msg}", max(1, exc.lineno or 1), 0), span)
    assert translation is not None
    problem = None if translation.whole else _compile_problem(translation.text, translation)
    return Cell(number, source, translation, problem, span)


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
    if not isinstance(document, dict):
        raise NotebookError("not a notebook in nbformat 3 or 4 (no list of cells)")
    if isinstance(document.get("cells"), list):  # nbformat 4
        all_cells, key = document["cells"], "source"
    elif ("worksheets" in document or document.get("nbformat") in (2, 3)) and isinstance(
        document.get("worksheets", []), list
    ) and all(
        isinstance(w, dict) and isinstance(w.get("cells", []), list) for w in document.get("worksheets", [])
    ):  # nbformat 3 (and 2): cells in worksheets (either left out when empty), a code cell's text in `input`
        all_cells, key = [c for w in document.get("worksheets", []) for c in w.get("cells", [])], "input"
    else:
        raise NotebookError("not a notebook in nbformat 3 or 4 (no list of cells)")
    language = _language(document)
    if language not in (None, "python"):
        raise NotebookError(f"a {language} notebook, not a Python one")
    spans = _source_spans(text, key)
    cells = []
    for index, cell in enumerate(all_cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get(key, "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str) or index not in spans:
            raise NotebookError(f"cell {index + 1} has no readable source")
        cells.append(read_cell(index + 1, source, spans[index]))
    return _assemble(text, cells, _escapes_non_ascii(text))


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


def _source_spans(text: str, key: str) -> dict[int, tuple[int, int]]:
    """cell index (across worksheets, for nbformat 3) -> (start, end) of that cell's `key` value in the JSON
    text. A repeated key counts once, the last one, as JSON readers take it."""
    spans: dict[int, tuple[int, int]] = {}
    for top_key, start, _ in _members(text, _skip(text, 0)):
        if key == "source" and top_key == "cells":
            spans = _cell_spans(text, start, key, 0)[0]
        elif key == "input" and top_key == "worksheets":
            spans, number = {}, 0
            for sheet_start, _ in _elements(text, start):
                found: tuple[dict[int, tuple[int, int]], int] = ({}, 0)
                if text[sheet_start] == "{":
                    for sheet_key, cells_start, _ in _members(text, sheet_start):
                        if sheet_key == "cells":
                            found = _cell_spans(text, cells_start, key, number)
                spans.update(found[0])
                number += found[1]
    return spans


def _cell_spans(text: str, start: int, key: str, first: int) -> tuple[dict[int, tuple[int, int]], int]:
    spans: dict[int, tuple[int, int]] = {}
    elements = _elements(text, start)
    for number, (cell_start, _) in enumerate(elements, first):
        if text[cell_start] == "{":
            for cell_key, value_start, value_end in _members(text, cell_start):
                if cell_key == key:
                    spans[number] = (value_start, value_end)
    return spans, len(elements)


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
