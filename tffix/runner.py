"""Running the engine over paths: discovery, reading, checking or fixing, writing. One file's failure is
recorded in its outcome and never stops the others. The CLI and the bulk runner report what this returns."""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .config import Settings
from .diff import unified_diff
from .engine import Engine
from .model import Finding, Problem, ProblemKind
from .source import SourceError, atomic_write, read_source


class Mode(str, enum.Enum):
    CHECK = "check"  # report findings
    DIFF = "diff"  # report the fixes as a diff; write nothing
    FIX = "fix"  # apply the fixes in place


@dataclass(frozen=True)
class FileOutcome:
    path: str  # as shown to the user
    findings: tuple[Finding, ...] = ()  # CHECK: all findings; DIFF/FIX: those left after fixing
    fixed: tuple[Finding, ...] = ()  # findings whose fix was made (or would be, in DIFF mode)
    problems: tuple[Problem, ...] = ()
    diff: str = ""
    written: bool = False
    skipped: bool = False  # the prefilter showed no rule could match


@dataclass(frozen=True)
class RunReport:
    outcomes: tuple[FileOutcome, ...]
    problems: tuple[Problem, ...] = field(default=())  # problems not tied to one readable file (missing paths)

    @property
    def findings(self) -> list[Finding]:
        return [f for o in self.outcomes for f in o.findings]

    @property
    def fixed(self) -> list[Finding]:
        return [f for o in self.outcomes for f in o.fixed]

    @property
    def all_problems(self) -> list[Problem]:
        return [*self.problems, *(p for o in self.outcomes for p in o.problems)]


def display_path(path: Path) -> str:
    try:
        return Path(os.path.relpath(path)).as_posix() if path.is_absolute() else path.as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()


def discover(paths: Sequence[Path], settings: Settings) -> tuple[list[Path], list[Problem]]:
    """Python files under `paths`, sorted, minus excluded ones. A path named explicitly is never excluded."""
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            for root, dirs, names in os.walk(path):
                root_path = Path(root)
                dirs[:] = sorted(
                    d for d in dirs if not d.startswith(".") and not settings.is_excluded(root_path / d)
                )
                files.extend(
                    root_path / n for n in sorted(names)
                    if n.endswith((".py", ".pyi")) and not settings.is_excluded(root_path / n)
                )
        else:
            problems.append(Problem(ProblemKind.UNREADABLE, display_path(path), "no such file or directory"))
    return sorted(set(files), key=lambda p: p.as_posix()), problems


def process_file(path: Path, engine: Engine, mode: Mode, *, unsafe: bool = False) -> FileOutcome:
    shown = display_path(path)
    try:
        source = read_source(path)
    except SourceError as exc:
        return FileOutcome(shown, problems=(Problem(ProblemKind.UNREADABLE, shown, str(exc)),))
    if not engine.could_match(source.text, shown):
        return FileOutcome(shown, skipped=True)
    if mode is Mode.CHECK:
        result = engine.check(source.text, shown)
        return FileOutcome(shown, findings=result.findings, problems=result.problems)
    fixed = engine.fix(source.text, shown, unsafe=unsafe)
    if not fixed.changed:
        return FileOutcome(shown, findings=fixed.remaining, problems=fixed.problems)
    if mode is Mode.DIFF:
        return FileOutcome(
            shown, findings=fixed.remaining, fixed=fixed.applied, problems=fixed.problems,
            diff=unified_diff(fixed.source, fixed.fixed_source, shown),
        )
    try:
        atomic_write(path, source.encode(fixed.fixed_source))
    except (OSError, UnicodeEncodeError) as exc:
        problem = Problem(ProblemKind.UNREADABLE, shown, f"cannot write the fixed file: {exc}")
        return FileOutcome(shown, findings=fixed.remaining, problems=(*fixed.problems, problem))
    return FileOutcome(shown, findings=fixed.remaining, fixed=fixed.applied, problems=fixed.problems, written=True)


def iter_outcomes(files: Iterable[Path], engine: Engine, mode: Mode, *, unsafe: bool = False) -> Iterator[FileOutcome]:
    for path in files:
        try:
            yield process_file(path, engine, mode, unsafe=unsafe)
        except Exception as exc:  # a crash in one file never stops a batch
            shown = display_path(path)
            yield FileOutcome(shown, problems=(Problem(ProblemKind.INTERNAL, shown, f"{type(exc).__name__}: {exc}"),))


def run(paths: Sequence[Path], settings: Settings, mode: Mode, *, unsafe: bool | None = None) -> RunReport:
    engine = Engine(settings)
    files, problems = discover(paths, settings)
    allow_unsafe = settings.unsafe_fixes if unsafe is None else unsafe
    return RunReport(tuple(iter_outcomes(files, engine, mode, unsafe=allow_unsafe)), tuple(problems))
