"""Unified diffs (difflib) that `git apply` and `patch -p1` accept, line endings and all."""

from __future__ import annotations

import difflib

_NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(old: str, new: str, path: str, context: int = 3) -> str:
    if old == new:
        return ""
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    lines = []
    for line in difflib.unified_diff(old_lines, new_lines, f"a/{path}", f"b/{path}", n=context):
        if line.endswith(("\n", "\r")):
            lines.append(line)
        else:
            # difflib leaves a last line without its newline as is; patch tools want this marker after it.
            lines.append(line + "\n" + _NO_NEWLINE)
    return "".join(lines)
