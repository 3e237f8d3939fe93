"""Loading fixture cases from tests/fixtures and judging executed outcomes against their expectations.

Layout (see tests/fixtures/README.md):

    tests/fixtures/<CODE>/<case>/before.py   the program as users write it; the rule fires here
    tests/fixtures/<CODE>/<case>/after.py    exactly what `tffix apply` makes of before.py
    tests/fixtures/<CODE>/<case>/valid.py    (instead of before/after) a correct program: no finding, no diff
    tests/fixtures/<CODE>/<case>/expect.toml what executing each program shows
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from tffix.execution import RunOutcome

FIXTURES = Path(__file__).parent / "fixtures"
OUTCOMES = {"ok", "raises"}


@dataclass(frozen=True)
class Case:
    code: str
    name: str
    folder: Path
    expect: dict = field(hash=False, compare=False)

    @property
    def id(self) -> str:
        return f"{self.code}/{self.name}"

    @property
    def negative(self) -> bool:
        return (self.folder / "valid.py").exists()

    @property
    def report_only(self) -> bool:
        """The rule reports without a fix: after.py is the program corrected by hand as the message advises."""
        return bool(self.expect.get("report_only", False))

    @property
    def unsafe(self) -> bool:
        return bool(self.expect.get("unsafe", False))

    def program(self, which: str) -> Path:
        return self.folder / f"{which}.py"

    def run_options(self) -> dict:
        run = self.expect.get("run", {})
        prelude = run.get("prelude", "")
        if run.get("emulate_gpus"):
            prelude = _emulate_gpus_prelude(int(run["emulate_gpus"])) + prelude
        return {
            "args": tuple(run.get("args", ())),
            "env": run.get("env", {}),
            "timeout": float(run.get("timeout", 120)),
            "prelude": prelude or None,
        }


def _emulate_gpus_prelude(count: int) -> str:
    # tests/device_emulation.py is not importable from the child (its sys.path is the case folder).
    return f"import runpy as _r; _r.run_path({str(Path(__file__).parent / 'device_emulation.py')!r})['emulate_gpus']({count})\n"


def load_cases() -> list[Case]:
    cases = []
    for code_dir in sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.name.startswith("TFX")):
        for case_dir in sorted(p for p in code_dir.iterdir() if p.is_dir()):
            expect_path = case_dir / "expect.toml"
            expect = tomllib.loads(expect_path.read_text(encoding="utf-8")) if expect_path.exists() else {}
            cases.append(Case(code_dir.name, case_dir.name, case_dir, expect))
    return cases


def validate_case(case: Case) -> list[str]:
    """Structural problems with a case folder (missing files, unknown keys): a broken fixture must fail."""
    errors = []
    if not (case.folder / "expect.toml").exists():
        errors.append("expect.toml is missing")
    if case.negative:
        if (case.folder / "before.py").exists() or (case.folder / "after.py").exists():
            errors.append("a negative case has valid.py only")
        if "valid" not in case.expect:
            errors.append("a negative case declares [valid] in expect.toml")
    else:
        for name in ("before.py", "after.py"):
            if not (case.folder / name).exists():
                errors.append(f"{name} is missing")
        for section in ("before", "after"):
            if section not in case.expect:
                errors.append(f"expect.toml has no [{section}]")
    for key in case.expect:
        if key not in {"before", "after", "valid", "same_stdout", "unsafe", "report_only", "run", "description", "codes"}:
            errors.append(f"unknown key {key!r} in expect.toml")
    for key in case.expect.get("run", {}):
        if key not in {"args", "env", "timeout", "prelude", "emulate_gpus"}:
            errors.append(f"unknown key {key!r} in [run]")
    for section in ("before", "after", "valid"):
        spec = case.expect.get(section)
        if spec is not None and spec.get("outcome") not in OUTCOMES:
            errors.append(f"[{section}] outcome must be one of {sorted(OUTCOMES)}")
    return errors


def judge(outcome: RunOutcome, spec: dict) -> list[str]:
    """Every way `outcome` differs from `spec`; empty when it matches."""
    problems = []
    detail = f"\n--- stdout ---\n{outcome.stdout[-2000:]}\n--- stderr ---\n{outcome.stderr[-3000:]}"
    if outcome.timed_out:
        return [f"timed out{detail}"]
    if spec["outcome"] == "ok":
        if not outcome.ok:
            problems.append(f"expected a clean exit, got: {outcome.summary()}")
    else:
        wanted = spec.get("exception")
        if outcome.exception is None:
            problems.append(f"expected {wanted or 'an exception'}, got: {outcome.summary()}")
        elif wanted and not outcome.raised(wanted):
            problems.append(f"expected {wanted}, got: {outcome.summary()}")
        if spec.get("match") and not re.search(spec["match"], outcome.exception_message or ""):
            problems.append(f"exception message does not match {spec['match']!r}: {outcome.exception_message!r}")
    for stream in ("stdout", "stderr"):
        text = getattr(outcome, stream)
        for pattern in _as_list(spec.get(stream)):
            if not re.search(pattern, text, re.MULTILINE):
                problems.append(f"{stream} does not match {pattern!r}")
        for pattern in _as_list(spec.get(f"{stream}_not")):
            if re.search(pattern, text, re.MULTILINE):
                problems.append(f"{stream} matches {pattern!r}, which it must not")
    return [p + detail for p in problems]


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)  # type: ignore[arg-type]
