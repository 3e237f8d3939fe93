"""What the editor keeps between versions of a document: the analyses of its parts, by their text.

A part (`tffix.slicing.Part`) is an anchored unit of a file with the code connected to it by name and the
module's statements that are not definitions, as a text of its own. For the rules declared `local`, the findings
of a file are the union of those of its parts (`Rule.local`), and a part's findings are a function of its text: an
edit inside one function changes the text of the parts that hold that function and no other, and an edit between
statements (a comment line, a blank line) changes none. So `Engine.check(source, path, memo=PartsMemo())`, given
the same memo for each version of a document, analyses only the parts it has not seen, and maps the findings of the
others from their earlier analysis to where their lines are now (`PartMap`).
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from .edits import NEWLINE
from .model import Position, TextEdit
from .slicing import Part

# Analyses kept per document: the parts of a few versions of a large file. A part not seen for this many newer
# analyses of other parts is analysed again if it comes back.
MEMO_CAPACITY = 512


class PartsMemo:
    """The analyses of the parts of one document's recent versions, by the part's text and the rules (and engine)
    that analysed it. Safe to share between threads; an analysis is made outside the lock."""

    def __init__(self, capacity: int = MEMO_CAPACITY) -> None:
        self._capacity = capacity
        self._analyses: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._engine: object | None = None

    def bind(self, engine: object) -> None:
        """Keep only analyses made by `engine`: another engine (a new configuration) may select other rules, with
        other settings."""
        with self._lock:
            if self._engine is not engine:
                self._engine = engine
                self._analyses.clear()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            found = self._analyses.get(key)
            if found is not None:
                self._analyses.move_to_end(key)
            return found

    def put(self, key: Hashable, analysis: Any) -> None:
        with self._lock:
            self._analyses[key] = analysis
            self._analyses.move_to_end(key)
            while len(self._analyses) > self._capacity:
                self._analyses.popitem(last=False)

    def __len__(self) -> int:
        return len(self._analyses)


class FileLines:
    """A file's text with the offset at which each of its lines starts."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.starts = _line_starts(source)


class PartMap:
    """Positions and offsets in a part's text, as positions and offsets in the file it was cut from."""

    def __init__(self, part: Part, file: FileLines) -> None:
        self.part = part
        self.file = file
        self._part_starts = _line_starts(part.text)

    def position(self, at: Position) -> Position:
        return Position(self.part.lines[at.line - 1], at.column)

    def edit(self, edit: TextEdit) -> TextEdit | None:
        """`edit` of the part's text as an edit of the file, or None when it has no single place there: it spans
        lines the part leaves out, or it inserts at the start of a line whose predecessor in the part is not its
        predecessor in the file (the insertion could belong after either). An edit that replaces text is placed by
        its first and last characters."""
        if edit.start == edit.end:
            start = end = self._insertion(edit.start)
        else:
            start, last = self._character(edit.start), self._character(edit.end - 1)
            end = last + 1
        if start is None or end is None or self.file.source[start:end] != self.part.text[edit.start:edit.end]:
            return None
        return TextEdit(start, end, edit.text)

    def _character(self, offset: int) -> int:
        """The file's offset of the part's character at `offset`."""
        index = bisect.bisect_right(self._part_starts, offset) - 1  # the part's line (0-based) holding it
        return self.file.starts[self.part.lines[index] - 1] + offset - self._part_starts[index]

    def _insertion(self, offset: int) -> int | None:
        """The file's offset of an insertion at the part's `offset`, None when it could be either of two."""
        lines = self.part.lines
        index = bisect.bisect_right(self._part_starts, offset) - 1
        if index >= len(lines):  # the end of a part whose last line ends with a newline: the next line's start
            starts = self.file.starts
            return starts[lines[-1]] if lines[-1] < len(starts) else None
        if offset == self._part_starts[index] and (lines[index - 1] + 1 if index else 1) != lines[index]:
            return None
        return self._character(offset)


def _line_starts(text: str) -> list[int]:
    """The offset at which each line of `text` starts (the lines LibCST counts, as `NEWLINE` splits them)."""
    return [0, *(match.end() for match in NEWLINE.finditer(text))]
