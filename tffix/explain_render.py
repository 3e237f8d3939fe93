"""An `Explanation` (and a `tffix run --fix` result) as text for a terminal or as JSON: values, never printing."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from .explain import Explanation, Located
from .model import Applicability
from .registry import rule_by_code
from .runner import display_path

if TYPE_CHECKING:
    from .rerun import RunResult


def render_text(explanation: Explanation, *, width: int = 100, fix_hint: bool = True) -> str:
    """The explanation for a terminal: plain text, the diff last and raw (so it can be piped to `git apply`)."""
    lines: list[str] = []
    status = explanation.status
    if status == "no-failure":
        return "tffix: no Python traceback or TensorFlow error found in the input.\n"
    error = explanation.error
    assert error is not None
    headline = error.headline
    if len(headline) > 400:
        headline = headline[:400] + " ..."
    name = error.name or "error"
    lines.append(f"error: {name}: {headline}" if headline else f"error: {name}")
    family = explanation.family
    if family is None:
        lines.append("tffix does not know this failure; no rule matches it.")
        lines.extend(_frame_lines(explanation))
        return "\n".join(lines) + "\n"
    lines.append(f"what went wrong: {family.title}.")
    lines.extend(textwrap.wrap(family.explanation, width=width, initial_indent="  ", subsequent_indent="  "))
    lines.extend(_frame_lines(explanation))
    if family.codes:
        lines.append("rules that can cause it: " + ", ".join(_code_with_name(code) for code in family.codes))
    for note in explanation.notes:
        lines.append(f"note: {note}")
    if not family.codes:
        lines.append("no tffix rule fixes this failure.")
    elif not explanation.frames:
        lines.append("no frame of the traceback is in a file of yours on this machine, so there is nothing to check"
                     " (run tffix explain where the files are, or pass --root).")
    elif not explanation.located:
        shown = ", ".join(dict.fromkeys(display_path(frame.file) for frame in explanation.frames))
        lines.append(f"no finding of these rules in {shown}.")
    else:
        lines.append("finding:" if len(explanation.located) == 1 else "findings (most relevant first):")
        for located in explanation.located:
            lines.append(f"  {_finding_line(located)}")
    if explanation.diff:
        unsafe = any(f.fix is not None and f.fix.applicability is Applicability.UNSAFE
                     for fix in explanation.fixes for f in fix.result.applied)
        flag = " --unsafe-fixes" if unsafe else ""
        hint = f" (`tffix apply{flag}` makes it; `tffix run --fix{flag} -- COMMAND` proves it)" if fix_hint else ""
        lines.append(f"the fix{hint}:")
        return "\n".join(lines) + "\n" + explanation.diff
    if any(l.finding.fix is not None for l in explanation.located):
        lines.append("its fix is unsafe (it may change what the program computes): --unsafe-fixes shows and makes it.")
    elif explanation.located:
        lines.append("no automatic fix for this finding; its message says what to change.")
    return "\n".join(lines) + "\n"


def _frame_lines(explanation: Explanation) -> list[str]:
    lines = []
    for frame in explanation.frames[:6]:
        role = "defined at" if frame.frame.origin == "graph" else "called from"
        where = display_path(frame.file) + (f":{frame.frame.line}" if frame.frame.line else "")
        moved = f" (the log says {frame.frame.path})" if frame.relocated else ""
        lines.append(f"  {role} {where}{moved}")
    return lines


def _code_with_name(code: str) -> str:
    rule = rule_by_code(code)
    return f"{code} ({rule.name})" if rule is not None else code


def _finding_line(located: Located) -> str:
    finding = located.finding
    where = f"{display_path(located.file)}:{finding.start.line}:{finding.start.column + 1}"
    if located.distance == 0:
        near = "at the traceback's line"
    elif located.frame.frame.line is None:
        near = "in the traceback's file"
    else:
        near = f"{located.distance} line{'s' * (located.distance != 1)} from line {located.frame.frame.line}"
    fix = ""
    if finding.fix is not None:
        fix = " [fix]" if finding.fix.applicability is Applicability.SAFE else " [unsafe fix]"
    return f"{where}: {finding.code} {finding.message}{fix} ({near})"


def to_json(explanation: Explanation) -> dict:
    error = explanation.error
    family = explanation.family
    return {
        "status": explanation.status,
        "error": None if error is None else {
            "exception": error.exception, "name": error.name, "headline": error.headline, "message": error.message,
        },
        "failure": None if family is None else {
            "kind": family.key, "title": family.title, "explanation": family.explanation, "codes": list(family.codes),
        },
        "frames": [
            {"path": display_path(f.file), "line": f.frame.line, "function": f.frame.function,
             "origin": f.frame.origin, "logged_path": f.frame.path}
            for f in explanation.frames
        ],
        "findings": [
            {**l.finding.to_json(), "distance": l.distance, "path": display_path(l.file)} for l in explanation.located
        ],
        "diff": explanation.diff,
        "notes": list(explanation.notes),
        "exit_code": explanation.exit_code,
    }


def why_not_cured(result: RunResult) -> str:
    """Why the fixes `tffix run --fix` tried did not make the command succeed."""
    if not result.attempts:
        return "no fix changed anything"
    last = result.attempts[-1]
    first = result.explanation
    again = last.explanation
    same = (
        first is not None and again is not None and first.error is not None and again.error is not None
        and (first.family, first.error.headline) == (again.family, again.error.headline)
    )
    if same:
        return f"it still fails the same way ({last.outcome.summary()})"
    return f"the first failure is gone, but then it fails with another ({last.outcome.summary()})"
