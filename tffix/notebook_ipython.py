"""A Jupyter code cell as the Python IPython runs, line for line, and a changed translation back to the cell.

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

`untranslate` writes a changed translation back: a cell's new source is its old lines where the translation
did not change, and the new lines with the cell's prefix; it must translate back to exactly the changed text,
or there is no new source, so a fix never touches an IPython line.
"""

from __future__ import annotations

import builtins
import difflib
import functools
import keyword
import re
import sys
import tokenize
from dataclasses import dataclass

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
        return python_lines(self.text)

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
        lines = python_lines(source)
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
            else:
                depth = _nesting(token, depth)
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
        depth = _nesting(token, depth)
    return None


def _nesting(token: tokenize.TokenInfo, depth: int) -> int:
    """The bracket depth after `token`, counted as IPython counts it (a closing bracket never takes it below 0)."""
    if token.string in {"(", "[", "{"}:
        return depth + 1
    if token.string in {")", "]", "}"} and depth > 0:
        return depth - 1
    return depth


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
    old, new = translation.lines, python_lines(text)
    sources = python_lines(translation.source)
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


def python_lines(text: str) -> list[str]:
    """Lines with their endings, split where Python splits them (not at form feeds and the like)."""
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)
