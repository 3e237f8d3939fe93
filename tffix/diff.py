"""Unified diffs (difflib) that `git apply` and `patch -p1` take as they are, line endings and all.

Lines end at '\\r\\n', '\\r' or '\\n' only: `str.splitlines` would also split at form feeds and other
characters that patch tools read as part of a line.
"""

from __future__ import annotations

import difflib
import re

_BYTE_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_NO_NEWLINE = b"\\ No newline at end of file\n"


def byte_diff(old: bytes, new: bytes, path: str) -> bytes:
    """A unified diff of two versions of a file's bytes, headed `a/PATH` and `b/PATH`."""
    if old == new:
        return b""
    name = path.encode("utf-8", "surrogateescape")
    lines = []
    for line in difflib.diff_bytes(
        difflib.unified_diff, _BYTE_LINE.findall(old), _BYTE_LINE.findall(new), b"a/" + name, b"b/" + name
    ):
        # a last line without its newline needs the marker that patch tools expect after it
        lines.append(line if line.endswith((b"\n", b"\r")) else line + b"\n" + _NO_NEWLINE)
    return b"".join(lines)


def unified_diff(old: str, new: str, path: str) -> str:
    """`byte_diff` for text (shown to people: explanations, rule examples)."""
    as_bytes = byte_diff(old.encode("utf-8", "surrogateescape"), new.encode("utf-8", "surrogateescape"), path)
    return as_bytes.decode("utf-8", "surrogateescape")
