"""Text edits: derived from two versions of a source, and applied back to one."""

from __future__ import annotations

import difflib
import re
from bisect import bisect_right
from collections.abc import Sequence

from .model import Position, TextEdit


NEWLINE = re.compile(r"\r\n|\r|\n")


def line_starts(text: str) -> list[int]:
    """Offsets at which each line starts; '\\r\\n', '\\r' and '\\n' end lines, as for Python's tokenizer."""
    return [0, *(match.end() for match in NEWLINE.finditer(text))]


def offset_of(starts: Sequence[int], position: Position) -> int:
    return starts[position.line - 1] + position.column


def position_of(starts: Sequence[int], offset: int) -> Position:
    line = bisect_right(starts, offset) - 1
    return Position(line + 1, offset - starts[line])


def diff_edits(old: str, new: str) -> tuple[TextEdit, ...]:
    """The smallest line-anchored edits that turn `old` into `new`, each trimmed to the characters that change."""
    if old == new:
        return ()
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    starts = [0]
    for line in old_lines:
        starts.append(starts[-1] + len(line))
    edits = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        start, end = starts[i1], starts[i2]
        removed, added = old[start:end], "".join(new_lines[j1:j2])
        prefix = _common_prefix(removed, added)
        suffix = _common_prefix(removed[prefix:][::-1], added[prefix:][::-1])
        edits.append(TextEdit(start + prefix, end - suffix, added[prefix : len(added) - suffix]))
    return tuple(edits)


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i
