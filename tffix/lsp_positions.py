"""Code-point offsets (the engine's unit) to LSP positions and back, in the position encoding negotiated with
the client: UTF-16 code units unless the client offered UTF-8 or UTF-32.

Lines end at '\\r\\n', '\\r' or '\\n' only, as in the LSP specification and in `tffix.edits.line_starts` (Python's
`str.splitlines` would also split at '\\f', '\\x1c' or '\\u2028', which are ordinary characters to an editor).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lsprotocol import types

from .edits import line_starts, offset_of, position_of
from .model import Position, TextEdit

UTF8 = types.PositionEncodingKind.Utf8
UTF16 = types.PositionEncodingKind.Utf16
UTF32 = types.PositionEncodingKind.Utf32


def code_units(text: str, encoding: str) -> int:
    """How many code units of `encoding` the text takes (lone surrogates count as one code point each)."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


@dataclass(frozen=True)
class LineIndex:
    """One version of a document's text, for converting positions in both directions."""

    text: str
    encoding: str = UTF16
    starts: Sequence[int] = field(init=False, repr=False, compare=False)
    # Columns of an all-ASCII text are the same in every encoding: the common case skips the counting.
    ascii: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "starts", line_starts(self.text))
        object.__setattr__(self, "ascii", self.text.isascii())

    @property
    def line_count(self) -> int:
        return len(self.starts)

    def content_end(self, line: int) -> int:
        """Offset just past the last character of 0-based `line`, before its line terminator."""
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        if self.text.endswith("\r\n", self.starts[line], end):
            return end - 2
        if end > self.starts[line] and self.text[end - 1] in "\r\n":
            return end - 1
        return end

    # --- engine to client --------------------------------------------------------------------------------------
    def position(self, offset: int) -> types.Position:
        offset = max(0, min(offset, len(self.text)))
        line = position_of(self.starts, offset).line - 1
        start = self.starts[line]
        # An offset between '\r' and '\n' has no LSP position; it counts as the end of the line's content.
        offset = min(offset, self.content_end(line))
        return types.Position(line=line, character=code_units(self.text[start:offset], self.encoding))

    def range(self, start: int, end: int) -> types.Range:
        return types.Range(start=self.position(start), end=self.position(end))

    def finding_offset(self, position: Position) -> int:
        """The offset of an engine position (1-based line, code-point column)."""
        return offset_of(self.starts, position)

    def text_edit(self, edit: TextEdit) -> types.TextEdit:
        """The engine's edit as an LSP edit that replaces exactly the same characters.

        An edit boundary between '\\r' and '\\n' cannot be expressed in LSP positions, so such an edit is widened
        over the whole line break (the new text carries the part of it that stays).
        """
        start, end, new_text = edit.start, edit.end, edit.text
        if self._splits_crlf(start):
            start, new_text = start - 1, "\r" + new_text
        if self._splits_crlf(end):
            end, new_text = end + 1, new_text + "\n"
        return types.TextEdit(range=self.range(start, end), new_text=new_text)

    def _splits_crlf(self, offset: int) -> bool:
        return 0 < offset < len(self.text) and self.text[offset - 1] == "\r" and self.text[offset] == "\n"

    # --- client to engine --------------------------------------------------------------------------------------
    def offset(self, position: types.Position) -> int:
        """The code-point offset of a client position. As the specification asks, a character past the end of
        the line means the end of the line; a line past the end means the end of the text; a position inside a
        character (half of a surrogate pair, or inside a UTF-8 sequence) means that character's start."""
        if position.line >= len(self.starts):
            return len(self.text)
        start = self.starts[position.line]
        end = self.content_end(position.line)
        if self.encoding == UTF32 or self.ascii:
            return min(start + position.character, end)
        remaining = position.character
        offset = start
        while offset < end:
            width = code_units(self.text[offset], self.encoding)
            if width > remaining:
                break
            remaining -= width
            offset += 1
        return offset
