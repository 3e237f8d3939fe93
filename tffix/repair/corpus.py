"""The repair corpus (`tests/repair_corpus/<pattern>/<case>.py`): crashing programs in the shape of real
questions, each stating what a repair must look like in its header comments:

    # expect: repaired <pattern>     (the catalogue name the repair must come from), or: # expect: no-repair
    # diff: <text>                   (an added line of the accepted repair contains it; repeatable)
    # stdout: <regex>                (the repaired program's output matches it: what it computes; repeatable)

`check_case` runs the repair loop on a copy of a case and says whether the outcome is the expected one.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .search import RepairResult, program_executor, repair_file

CORPUS = Path(__file__).resolve().parents[2] / "tests" / "repair_corpus"


@dataclass(frozen=True)
class Case:
    path: Path
    expect: str  # "repaired" or "no-repair"
    pattern: str | None
    diff: tuple[str, ...]
    stdout: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.path.parent.name}/{self.path.stem}"


def load_cases(root: Path = CORPUS) -> list[Case]:
    cases = []
    for path in sorted(root.glob("*/*.py")):
        text = path.read_text(encoding="utf-8")
        expect = re.search(r"^# expect: (repaired (?P<pattern>[\w-]+)|no-repair)\s*$", text, re.M)
        if expect is None:
            raise ValueError(f"{path}: no '# expect:' line")
        diffs = tuple(m.group(1).strip() for m in re.finditer(r"^# diff: (.+)$", text, re.M))
        stdout = tuple(m.group(1).strip() for m in re.finditer(r"^# stdout: (.+)$", text, re.M))
        cases.append(Case(path, "no-repair" if expect.group(1) == "no-repair" else "repaired",
                          expect.group("pattern"), diffs, stdout))
    return cases


@dataclass(frozen=True)
class Checked:
    case: Case
    result: RepairResult
    ok: bool
    why: str


def check_case(case: Case, runner=None, timeout: float = 120.0) -> Checked:
    """Repair a copy of the case (the corpus itself is never written) and compare with its expectation."""
    with tempfile.TemporaryDirectory(prefix="tffix-repair-case-") as tmp:
        copy = Path(tmp) / case.path.name
        shutil.copyfile(case.path, copy)
        before = copy.read_bytes()
        result = repair_file(copy, program_executor(copy, runner=runner), timeout=timeout, write=False)
        if copy.read_bytes() != before:
            return Checked(case, result, False, "the file changed without --write")
    if case.expect == "no-repair":
        ok = result.status != "repaired"
        return Checked(case, result, ok, "no repair, as expected" if ok else f"repaired: {result.repaired.title}")
    if result.status != "repaired":
        tried = "; ".join(f"{t.candidate.title} -> {t.verdict}" for t in result.trials[:4])
        return Checked(case, result, False, f"{result.status} {result.note} {tried}".strip())
    patterns = {c.pattern for c in result.repairs}
    if case.pattern not in patterns:
        return Checked(case, result, False, f"repaired by {sorted(patterns)}, expected {case.pattern}")
    added = [line[1:] for line in result.diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    for text in case.diff:
        if not any(text in line for line in added):
            return Checked(case, result, False, f"the diff has no added line with {text!r}:\n{result.diff}")
    printed = result.trials[-1].observed.outcome.stdout
    for pattern in case.stdout:
        if not re.search(pattern, printed, re.M):
            return Checked(case, result, False, f"the repaired program's output does not match {pattern!r}: {printed[-300:]!r}")
    return Checked(case, result, True, " + ".join(c.title for c in result.repairs))
