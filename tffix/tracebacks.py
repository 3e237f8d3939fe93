"""Reading Python tracebacks out of logs: what was raised, with what message, from which frames.

Handles what users paste or what a failed run leaves on stderr:

* plain Python tracebacks, with chained exceptions ("During handling of the above exception ..." and
  "The above exception was the direct cause ...") read as one failure;
* the frames TensorFlow puts inside its messages: "Detected at node 'x' defined at (most recent call last):"
  (TF2 graph execution errors), "Original stack trace for 'x':" (TF1 sessions) and autograph's
  "in user code:" block. These say where the failing op was *built*, which is where the bug is;
* IPython/Jupyter/Colab tracebacks: IPython 8 (`File /path/x.py:7, in f()`, `Cell In[3], line 5`) and
  IPython 7 as Colab prints them (`/path/x.py in f(a, b)` followed by `----> 7 code` arrow lines);
* ANSI colour codes and TensorFlow's C++ log lines mixed into the text.

Nothing here runs or imports TensorFlow; it reads text only. `user_file` decides whether a frame's file is the
user's own code (on disk, not a library, not the standard library, not generated).
"""

from __future__ import annotations

import os
import re
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_TRACEBACK = re.compile(r"^\s*Traceback \(most recent call last\):\s*$")
_IPYTHON_HEADER = re.compile(r"^(?P<name>[A-Za-z_][\w.]*)\s{2,}Traceback \(most recent call last\)\s*$")
_CHAINED = re.compile(
    r"^\s*(During handling of the above exception, another exception occurred:"
    r"|The above exception was the direct cause of the following exception:)\s*$"
)
_DASHES = re.compile(r"^-{20,}\s*$")
# `File "x.py", line 3, in f` (also in TensorFlow's node traces, where autograph appends "  *").
_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.*?))?\s*\*?\s*$')
# IPython 8: `File /x/y.py:12, in f(a)` or `File /x/y.py:12` (a %run script's top frame).
_IPY8_FILE = re.compile(r"^File (?P<path>.+?):(?P<line>\d+)(?:, in (?P<func>.*))?\s*$")
_IPY8_CELL = re.compile(r"^(?P<path>Cell In\s*\[\d+\]|Input In\s*\[\d+\]), (?:line (?P<line>\d+)|in (?P<func>.*))\s*$")
# IPython 7 (Colab): `/x/y.py in f(a)` or `<ipython-input-3-abc> in <module>`; the line is on an arrow line.
_IPY7_FRAME = re.compile(r"^(?P<path><ipython-input-[^>]*>|\S.*?\.pyw?) in (?P<func>\S.*?)\s*$")
_ARROW = re.compile(r"^\s*-*>\s*(?P<line>\d+)\b")
_EXCEPTION = re.compile(r"^(?P<name>[A-Za-z_][\w.]*)(?::(?:\s(?P<message>.*)|$)|$)")
# `{{function_node __wrapped__X_device_/job:...}} ` before, ` [Op:X] name: ` after an eager op's message.
_TF_DECORATION = re.compile(r"^\{\{function_node [^}]*\}\}\s*|\s*\[Op:[\w.]+\](?: name:.*)?$")
# TensorFlow's C++ logging (glog/absl) interleaved with Python's output: noise, never part of a message.
_NOISE = re.compile(
    r"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$)"
)


@dataclass(frozen=True)
class Frame:
    path: str  # as printed: a file path, or "<frozen os>", "Cell In[3]", "<ipython-input-3-...>"
    line: int | None
    function: str | None = None
    origin: str = "traceback"  # "traceback", or "graph": where a failing graph op was defined

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where} in {self.function}" if self.function else where


@dataclass(frozen=True)
class RaisedError:
    """One exception as printed: its class, its whole message, the frames it passed through."""

    exception: str  # as printed, e.g. "tensorflow.python.framework.errors_impl.InvalidArgumentError"
    message: str
    frames: tuple[Frame, ...] = ()  # outermost first, as printed
    graph_frames: tuple[Frame, ...] = ()  # the frames TensorFlow printed inside the message

    @property
    def name(self) -> str:
        return self.exception.rsplit(".", 1)[-1]

    @property
    def headline(self) -> str:
        """The line of the message that says what failed (for graph errors, not "Graph execution error:")."""
        lines = [line.strip() for line in self.message.splitlines() if line.strip()]
        for line in lines:
            if _FRAME.match(line) or line.startswith(("Detected at node", "Node:", "Original stack trace", "[[")):
                continue
            if line in ("Graph execution error:", "in user code:"):
                continue
            return _TF_DECORATION.sub("", line).strip()
        return lines[0] if lines else ""


@dataclass(frozen=True)
class Failure:
    """Exceptions that ended together: a chain, printed oldest first. `raised` is the one that escaped."""

    errors: tuple[RaisedError, ...]

    @property
    def raised(self) -> RaisedError:
        return self.errors[-1]

    def frames(self) -> Iterator[Frame]:
        for error in self.errors:
            yield from error.graph_frames
            yield from error.frames


def clean(text: str) -> str:
    """The text without ANSI colours, carriage returns and TensorFlow's C++ log lines."""
    text = _ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line for line in text.split("\n") if not _NOISE.match(line))


def parse_log(text: str) -> list[Failure]:
    """Every failure in the text, in order. A traceback chain counts once; the last failure is the latest."""
    lines = clean(text).split("\n")
    failures: list[Failure] = []
    chain: list[RaisedError] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if _TRACEBACK.match(line):
            error, i = _python_block(lines, i + 1)
        elif (header := _IPYTHON_HEADER.match(line)) and not _TRACEBACK.match(line):
            error, i = _ipython_block(lines, i + 1, header.group("name"))
        else:
            i += 1
            continue
        chain.append(error)
        # The block stopped at a chain separator, another traceback, or the end.
        j = i
        while j < len(lines) and (not lines[j].strip() or _DASHES.match(lines[j])):
            j += 1
        if j < len(lines) and _CHAINED.match(lines[j]):
            i = j + 1
            continue
        failures.append(Failure(tuple(chain)))
        chain = []
    if chain:
        failures.append(Failure(tuple(chain)))
    return failures


def _python_block(lines: list[str], i: int) -> tuple[RaisedError, int]:
    frames: list[Frame] = []
    while i < len(lines):
        line = lines[i]
        match = _FRAME.match(line)
        if match:
            frames.append(_frame(match))
        elif not (line[:1] in (" ", "\t") or not line.strip()):
            break
        i += 1
    return _exception(lines, i, frames)


def _ipython_block(lines: list[str], i: int, name: str) -> tuple[RaisedError, int]:
    frames: list[Frame] = []
    short = name.rsplit(".", 1)[-1]
    while i < len(lines):
        line = lines[i]
        if match := (_IPY8_FILE.match(line) or _IPY8_CELL.match(line)):
            groups = match.groupdict()
            frames.append(Frame(groups["path"], _int(groups.get("line")), groups.get("func")))
        elif match := _IPY7_FRAME.match(line):
            frames.append(Frame(match.group("path"), None, match.group("func")))
        elif arrow := _ARROW.match(line):
            if frames and frames[-1].line is None:
                last = frames[-1]
                frames[-1] = Frame(last.path, int(arrow.group("line")), last.function, last.origin)
        elif line.strip() and line[:1] not in (" ", "\t") and (
            line.startswith(short) or line.startswith(name) or _EXCEPTION.match(line)
        ):
            break
        i += 1
    return _exception(lines, i, frames)


def _exception(lines: list[str], i: int, frames: list[Frame]) -> tuple[RaisedError, int]:
    if i >= len(lines):
        return RaisedError("", "", tuple(frames)), i
    match = _EXCEPTION.match(lines[i])
    if match is None:
        return RaisedError("", "", tuple(frames)), i
    message_lines = [match.group("message") or ""]
    i += 1
    while i < len(lines):
        line = lines[i]
        if _CHAINED.match(line) or _TRACEBACK.match(line) or _IPYTHON_HEADER.match(line) or _DASHES.match(line):
            break
        message_lines.append(line)
        i += 1
    message = "\n".join(message_lines).rstrip()
    return RaisedError(match.group("name"), message, tuple(frames), graph_frames(message)), i


def graph_frames(message: str) -> tuple[Frame, ...]:
    """The `File "...", line N` lines inside a message: where TensorFlow says the failing op was defined."""
    return tuple(_frame(m, origin="graph") for line in message.splitlines() if (m := _FRAME.match(line)))


def _frame(match: re.Match, origin: str = "traceback") -> Frame:
    function = match.group("func")
    return Frame(match.group("path"), _int(match.group("line")), function.strip() if function else None, origin)


def _int(value: str | None) -> int | None:
    return int(value) if value else None


def loose_failure(text: str, pattern: re.Pattern) -> Failure | None:
    """For text without a traceback (an error line pasted alone): a failure built around `pattern`'s line."""
    lines = clean(text).split("\n")
    for index, line in enumerate(lines):
        if not pattern.search(line):
            continue
        stripped = line.strip()
        match = _EXCEPTION.match(stripped)
        exception = match.group("name") if match and match.group("message") is not None else ""
        message = "\n".join([match.group("message") if exception else stripped, *lines[index + 1:]]).rstrip()
        frames = tuple(_frame(m, origin="graph") for other in lines if (m := _FRAME.match(other)))
        return Failure((RaisedError(exception, message, (), frames),))
    return None


# --- whose file is it? -----------------------------------------------------------------------------------
_LIBRARY_PARTS = frozenset({"site-packages", "dist-packages"})
# POSIX `lib/python3.10/`, Windows `Python311\Lib\` (another machine's standard library).
_STDLIB_PATTERN = re.compile(r"(^|[/\\])(lib|Lib)[/\\]python\d+(\.\d+)?[/\\]|(^|[/\\])Python\d*[/\\]Lib[/\\]")
_OWN_PACKAGE = Path(__file__).resolve().parent


def _stdlib_dirs() -> tuple[Path, ...]:
    paths = sysconfig.get_paths()
    found = []
    for key in ("stdlib", "platstdlib"):
        if paths.get(key):
            found.append(Path(paths[key]).resolve())
    return tuple(found)


_STDLIB_DIRS = _stdlib_dirs()


def library_reason(path: str) -> str | None:
    """Why a frame's path is not the user's code ("library", "stdlib", ...), or None if it may be."""
    if path.startswith("<") or path.startswith(("Cell In", "Input In")):
        return "not a file"
    parts = set(re.split(r"[/\\]", path))
    if parts & _LIBRARY_PARTS:
        return "library"
    if "__autograph_generated_file" in path:
        return "generated"
    if _STDLIB_PATTERN.search(path):
        return "stdlib"
    return None


def user_file(path: str, root: Path) -> tuple[Path, bool] | None:
    """The user's file a frame names, and whether it was found somewhere other than where the log said.

    A file from another machine (a Colab log's `/content/train.py`) is looked up under `root` by its
    trailing path components, the longest first. Libraries, the standard library, generated code, tffix's
    own runner and files that cannot be found are not the user's.
    """
    if library_reason(path) is not None or not path.endswith((".py", ".pyw")):
        return None
    given = Path(os.path.expanduser(path))
    candidate = given if given.is_absolute() else root / given
    if candidate.is_file():
        resolved = candidate.resolve()
        if _is_ours(resolved):
            return None
        return resolved, False
    # Another machine's path, POSIX or Windows (C:\Users\me\gan\train.py): try its tails under root.
    parts = [p for p in re.split(r"[/\\]", path) if p not in ("", ".", "..") and not re.fullmatch(r"[A-Za-z]:", p)]
    for start in range(len(parts)):
        tail = root.joinpath(*parts[start:])
        if tail.is_file():
            resolved = tail.resolve()
            return (None if _is_ours(resolved) else (resolved, True))
    return None


def _is_ours(path: Path) -> bool:
    if path.is_relative_to(_OWN_PACKAGE):
        return True
    return any(path.is_relative_to(directory) for directory in _STDLIB_DIRS)
