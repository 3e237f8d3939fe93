"""Many repositories in one run: `tffix check REPO1 REPO2 ...` and `--repos-from FILE`.

Each repository is a folder or a git URL (cloned shallowly, by the client, into a temporary folder removed at
the end). Each is run with its own `[tool.tffix]` settings, all on one executor (one process pool, one Dask
cluster), and the report keeps a summary per repository besides the whole run's. A repository that cannot be
cloned is reported on one line and the others go on.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .model import Problem, ProblemKind
from .runner import FileOutcome, RunReport

_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)", re.IGNORECASE)


def is_url(text: str) -> bool:
    """A git URL (scheme://..., or scp-like user@host:path), not a local path."""
    return bool(_URL.match(text))


def read_list(path: Path) -> list[str]:
    """The repositories of a --repos-from file: one path or URL a line; blank lines and # comments skipped."""
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            entries.append(line)
    return entries


@dataclass(frozen=True)
class Repository:
    name: str  # as given: a path or a URL
    folder: Path | None  # where its files are (a clone for a URL); None when it could not be cloned
    problem: Problem | None = None
    shown_as: tuple[str, str] | None = None  # (prefix of the clone's paths, the prefix shown instead)


class Checkouts:
    """The repositories named, URLs cloned shallowly into a temporary folder (removed by `close`)."""

    def __init__(self, entries: Sequence[str]) -> None:
        self._temporary: Path | None = None
        self.repositories = [self._get(entry) for entry in entries]

    def _get(self, entry: str) -> Repository:
        if not is_url(entry):
            return Repository(entry, Path(entry))
        if self._temporary is None:
            self._temporary = Path(tempfile.mkdtemp(prefix="tffix-repos-"))
        stem = re.sub(r"\.git$", "", entry.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]) or "repository"
        folder = self._temporary / f"{len(list(self._temporary.iterdir()))}-{stem}"
        try:
            result = subprocess.run(["git", "clone", "--depth", "1", "--quiet", "--", entry, str(folder)],
                                    capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Repository(entry, None, Problem(ProblemKind.UNREADABLE, entry, f"cannot clone: {exc}"))
        if result.returncode != 0:
            why = (result.stderr.strip().splitlines() or [f"git exit code {result.returncode}"])[-1]
            return Repository(entry, None, Problem(ProblemKind.UNREADABLE, entry, f"cannot clone: {why}"))
        from .discovery import display_path

        return Repository(entry, folder, shown_as=(display_path(folder.resolve()) + "/", f"{stem}/"))

    def close(self) -> None:
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)

    def __enter__(self) -> Checkouts:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def run_repositories(repositories: Sequence[Repository], run_one: Callable[[Repository], RunReport]) -> RunReport:
    """Run each repository (`run_one`), and one report of them all with a summary each. Stops at an interrupt."""
    reports: list[tuple[str, RunReport]] = []
    for repository in repositories:
        if repository.folder is None:
            report = RunReport((), (repository.problem,) if repository.problem else ())
        else:
            report = run_one(repository)
            if repository.shown_as is not None:
                report = _shown_as(report, *repository.shown_as)
        reports.append((repository.name, report))
        if report.interrupted:
            break
    return RunReport(
        tuple(o for _, r in reports for o in r.outcomes),
        tuple(p for _, r in reports for p in r.problems),
        next((r.interrupted for _, r in reports if r.interrupted), None),
        sum(r.total for _, r in reports),
        repositories=tuple(reports),
    )


def _shown_as(report: RunReport, prefix: str, shown: str) -> RunReport:
    """A clone's paths shown under the repository's name instead of the temporary folder."""

    def path(text: str) -> str:
        return shown + text[len(prefix):] if text.startswith(prefix) else text

    def outcome(o: FileOutcome) -> FileOutcome:
        return replace(o, path=path(o.path), findings=tuple(replace(f, path=path(f.path)) for f in o.findings),
                       fixed=tuple(replace(f, path=path(f.path)) for f in o.fixed),
                       problems=tuple(replace(p, path=path(p.path)) for p in o.problems))

    return replace(report, outcomes=tuple(outcome(o) for o in report.outcomes),
                   problems=tuple(replace(p, path=path(p.path)) for p in report.problems))
