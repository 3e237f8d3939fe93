"""Running the engine over paths: discovery, reading, checking or fixing, writing, in worker processes (of a
local pool or of a Dask cluster: `tffix.executors`). One file is `look` (decode; the prefilter and the cache),
`compute` (check or fix in memory) and `write_fix` (atomically); a local worker does all three, a Dask worker
only `compute`.

One file's failure is recorded in its outcome and never stops the others: not a file that cannot be read or
parsed, not a rule that crashes, not a worker process that dies (the file it held is tried once more in a
fresh worker, then reported) or hangs (stopped after `timeout` seconds, reported). Outcomes come back in the
order of the sorted file list, whatever order the workers finish in.

Interrupts: SIGINT and SIGTERM stop the run. Workers ignore SIGINT (a terminal sends it to the whole process
group) and are stopped by the parent with SIGTERM, which unwinds the file at hand so that an atomic write in
progress removes its temporary file: every file is left wholly old or wholly new, and running again finishes
the job. A worker caught between writing a fix and sending its outcome finishes sending first, so the report
counts every file that was written. The report then says which signal stopped it.

Limits, the same for a file named alone (it runs in a worker too) as for one found in a directory: a file
over the settings' `max_file_size` is skipped unread with a SKIPPED problem; one that takes over
`file_timeout` seconds is reported and left as it was (local pool only: Dask cannot stop a running task).

The CLI and the bulk runner report what this returns; nothing here prints.
"""

from __future__ import annotations

import enum
import os
import signal
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .cache import Cache, cacheable, content_hash
from .config import DEFAULT_FILE_TIMEOUT, Settings
from .diff import byte_diff
from .discovery import discover, display_path
from .model import Applicability, Finding, Fix, Problem, ProblemKind
from .notebook import Notebook, read_notebook
from .notebook_json import NotebookError
from .stat_index import Stat, StatIndex, stat_of
from .source import SourceError, WriteRefused, decode_source, too_large, write_file

if TYPE_CHECKING:
    from .engine import Engine
    from .executors import Executor

__all__ = ["FileOutcome", "Mode", "RunReport", "discover", "display_path", "process_file", "run"]

DEFAULT_TIMEOUT = DEFAULT_FILE_TIMEOUT  # seconds one file may take in a worker (`file-timeout` in [tool.tffix])
_INTACT = "the file is unchanged or wholly fixed, never half-written"


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
    diff: bytes = b""  # DIFF: a unified diff of the file's bytes (any encoding, BOM and line ends as they are)
    written: bool = False
    skipped: bool = False  # the prefilter showed no rule could match
    cached: bool = False  # answered from the cache, without parsing
    analysed: bool = False  # parsed and checked (or fixed) in this run
    # The content-cache key of the bytes this outcome is the check of (the stat index records it); None when
    # there is no cache, or the outcome is not such an answer (a fix was made, the file could not be read).
    cache_key: str | None = None


@dataclass(frozen=True)
class RunReport:
    outcomes: tuple[FileOutcome, ...]
    problems: tuple[Problem, ...] = field(default=())  # problems not tied to one readable file (missing paths)
    interrupted: str | None = None  # the signal that stopped the run ("SIGINT", "SIGTERM"), if one did
    total: int = 0  # files found; more than len(outcomes) when interrupted
    # A run over many repositories (tffix.repos): each repository as named, with its own report.
    repositories: tuple[tuple[str, RunReport], ...] = ()

    @property
    def findings(self) -> list[Finding]:
        return [f for o in self.outcomes for f in o.findings]

    @property
    def fixed(self) -> list[Finding]:
        return [f for o in self.outcomes for f in o.fixed]

    @property
    def all_problems(self) -> list[Problem]:
        return [*self.problems, *(p for o in self.outcomes for p in o.problems)]


@dataclass(frozen=True)
class Job:
    """What every file of a run is processed with (sent once to each worker)."""

    engine: Engine
    mode: Mode
    unsafe: bool = False
    cache: Cache | None = None
    with_edits: bool = False  # compute the fix edits of findings (JSON/SARIF output shows them)


# --- one file ------------------------------------------------------------------------------------------------
def process_file(
    path: Path, engine: Engine | Job, mode: Mode | None = None, *, unsafe: bool = False
) -> FileOutcome:
    """Check or fix one file. Never raises for a problem with the file: the outcome carries it."""
    job = engine if isinstance(engine, Job) else Job(engine, mode or Mode.CHECK, unsafe)
    shown = display_path(path)
    try:
        return _process(path, shown, job)
    except RecursionError:
        return _failed(shown, ProblemKind.SYNTAX, "too deeply nested to analyse")
    except Exception as exc:  # a crash in one file never stops a batch
        return _failed(shown, ProblemKind.INTERNAL, f"{type(exc).__name__}: {exc}")


def skipped_for_size(path: Path, shown: str, size: int, limit: int) -> FileOutcome | None:
    """The outcome of a file over the `max-file-size` limit, skipped unread; None for one within it. A notebook
    is read whatever its size: its outputs do not count, its code does (`look` measures that)."""
    if size > limit and path.suffix != ".ipynb":
        return _failed(shown, ProblemKind.SKIPPED, too_large(size, limit))
    return None


def _failed(shown: str, kind: ProblemKind, message: str) -> FileOutcome:
    return FileOutcome(shown, problems=(Problem(kind, shown, message),))


def _process(path: Path, shown: str, job: Job) -> FileOutcome:
    limit = job.engine.settings.max_file_size
    try:
        oversized = skipped_for_size(path, shown, path.stat().st_size, limit)
        if oversized is not None:
            return oversized
        data = path.read_bytes()
    except OSError as exc:
        return _failed(shown, ProblemKind.UNREADABLE, f"cannot read: {exc.strerror or exc}")
    looked = look(data, path.suffix, shown, job)
    if isinstance(looked, FileOutcome):
        return looked
    result = compute(looked, job)
    return write_fix(path, result, job) if isinstance(result, Fixed) else result


@dataclass(frozen=True)
class Looked:
    """A file read and decoded, that the prefilter and the cache could not answer: it needs analysing."""

    data: bytes
    shown: str
    source: object  # SourceText, or None for a notebook
    notebook: Notebook | None
    text: str
    key: str | None  # its cache key, when there is a cache
    screened: tuple = ()  # the rules the engine's text gates let run on `text` (Engine.screen): asked once


@dataclass(frozen=True)
class Fixed:
    """The fixes of a file, made in memory: the outcome once written, and the bytes to write."""

    outcome: FileOutcome
    old: bytes
    new: bytes


def look(data: bytes, suffix: str, shown: str, job: Job) -> FileOutcome | Looked:
    """Decode a file's bytes and answer what can be answered without analysing them (the prefilter, the
    cache); otherwise what `compute` needs. Touches no file but the cache's."""
    limit = job.engine.settings.max_file_size
    notebook: Notebook | None = None
    try:
        if suffix == ".ipynb":
            notebook = read_notebook(data)
            source, text = None, notebook.python
        else:
            source = decode_source(data)
            text = source.text
    except (SourceError, NotebookError) as exc:
        return _failed(shown, ProblemKind.UNREADABLE, str(exc))
    if notebook is not None and len(text.encode("utf-8")) > limit:
        return _failed(shown, ProblemKind.SKIPPED, too_large(len(text.encode("utf-8")), limit))
    engine = job.engine
    key = None
    if job.cache is not None:
        key = job.cache.key(content_hash(data), tuple(r.code for r in engine.rules_for(shown)), job.with_edits,
                            gates=engine.settings.gates)
    screened = engine.screen(text, shown)
    if not screened:
        return FileOutcome(shown, skipped=True, cache_key=key)
    if key is not None and job.cache is not None:
        entry = job.cache.get(key, shown)
        if entry is not None and (job.mode is Mode.CHECK or not _any_fix_to_make(entry.findings, job.unsafe)):
            return FileOutcome(shown, findings=entry.findings, problems=entry.problems, cached=True, cache_key=key)
    return Looked(data, shown, source, notebook, text, key, screened)


def compute(looked: Looked, job: Job) -> FileOutcome | Fixed:
    """Check or fix a looked-at file in memory. FIX mode returns what to write when there is a change
    (`write_fix` writes it); nothing here writes the file."""
    engine, shown, notebook, text, key = job.engine, looked.shown, looked.notebook, looked.text, looked.key
    if job.mode is Mode.CHECK:
        result = engine.check(text, shown, screened=looked.screened)
        while notebook is not None and (fewer := _without_unparsable_cell(notebook, result.problems)):
            notebook = fewer
            result = engine.check(notebook.python, shown)
        findings, problems = _portable(result.findings, job.with_edits, notebook), _located(result.problems, notebook, shown)
        _remember(job, key, shown, findings, problems)
        return FileOutcome(shown, findings=findings, problems=problems, analysed=True, cache_key=key)

    refusal = None if notebook is None else notebook.refusal
    fixed = engine.fix(text, shown, unsafe=job.unsafe, refusal=refusal)
    while notebook is not None and (fewer := _without_unparsable_cell(notebook, fixed.problems)):
        notebook = fewer
        fixed = engine.fix(notebook.python, shown, unsafe=job.unsafe, refusal=notebook.refusal)
    applied = _portable(fixed.applied, job.with_edits, notebook)
    problems = _located(fixed.problems, notebook, shown)
    if not fixed.changed:
        remaining = _portable(fixed.remaining, job.with_edits, notebook)
        _remember(job, key, shown, remaining, problems)
        return FileOutcome(shown, findings=remaining, problems=problems, analysed=True, cache_key=key)
    try:
        if notebook is not None:
            new_data = notebook.with_python(fixed.fixed_source).encode("utf-8")
            notebook = notebook.reread(new_data)  # what is left is found in the new cells
        else:
            new_data = looked.source.encode(fixed.fixed_source)  # type: ignore[union-attr]
    except (NotebookError, UnicodeEncodeError) as exc:
        problem = Problem(ProblemKind.INTERNAL, shown, f"the fixed file cannot be written faithfully: {exc}")
        return FileOutcome(shown, findings=_portable(fixed.remaining, job.with_edits, None),
                           problems=(*problems, problem), analysed=True)
    remaining = _portable(fixed.remaining, job.with_edits, notebook)
    if job.mode is Mode.DIFF:
        return FileOutcome(shown, findings=remaining, fixed=applied, problems=problems,
                           diff=byte_diff(looked.data, new_data, shown), analysed=True)
    return Fixed(FileOutcome(shown, findings=remaining, fixed=applied, problems=problems, analysed=True),
                 looked.data, new_data)


def write_fix(path: Path, fixed: Fixed, job: Job) -> FileOutcome:
    """Write a file's fixes (atomically, and only over the bytes they were made from); cache the new bytes."""
    outcome, shown = fixed.outcome, fixed.outcome.path
    _WRITING[0] = True  # in a worker, from here until the outcome is sent, a SIGTERM waits (the run counts it)
    try:
        write_file(path, fixed.new, expected=fixed.old)
    except WriteRefused as exc:
        problem = Problem(ProblemKind.UNWRITABLE, shown, str(exc))
        return replace(outcome, fixed=(), problems=(*outcome.problems, problem))
    except OSError as exc:
        problem = Problem(ProblemKind.UNWRITABLE, shown, f"cannot write the fixed file: {exc.strerror or exc}; "
                          "not written")
        return replace(outcome, fixed=(), problems=(*outcome.problems, problem))
    if job.cache is not None and not outcome.problems:  # the next check of the new bytes is a cache hit
        new_key = job.cache.key(content_hash(fixed.new), tuple(r.code for r in job.engine.rules_for(shown)), False,
                                gates=job.engine.settings.gates)
        job.cache.put(new_key, shown, _portable(outcome.findings, False, None), ())
    return replace(outcome, written=True)


def _any_fix_to_make(findings: Iterable[Finding], unsafe: bool) -> bool:
    return any(
        f.fix is not None and (unsafe or f.fix.applicability is Applicability.SAFE) for f in findings
    )


def _portable(findings: Iterable[Finding], with_edits: bool, notebook: Notebook | None) -> tuple[Finding, ...]:
    """Findings as plain values (they cross process boundaries and go into the cache): fix edits computed
    when wanted, else left out; notebook findings placed in their cell."""
    result = []
    for finding in findings:
        if finding.fix is not None:
            edits = finding.fix.edits if with_edits else ()
            finding = replace(finding, fix=Fix(finding.fix.title, finding.fix.applicability, edits))
        result.append(finding if notebook is None else notebook.map_finding(finding))
    return tuple(result)


def _located(problems: Iterable[Problem], notebook: Notebook | None, shown: str) -> tuple[Problem, ...]:
    """Problems placed in their notebook cell; a notebook's cells that cannot run come first, once each."""
    if notebook is None:
        return tuple(problems)
    return (*notebook.problems(shown), *(notebook.map_problem(p) for p in problems))


def _without_unparsable_cell(notebook: Notebook, problems: Iterable[Problem]) -> Notebook | None:
    """The notebook with the cell left out that a syntax problem of its joined module points into (one that
    CPython compiles and LibCST cannot parse), when there is one."""
    return next((fewer for p in problems if (fewer := notebook.excluding(p)) is not None), None)


def _remember(job: Job, key: str | None, shown: str, findings, problems) -> None:
    if key is not None and job.cache is not None and cacheable(problems):
        job.cache.put(key, shown, findings, problems)


# --- a run ---------------------------------------------------------------------------------------------------
Progress = Callable[[int, int, "FileOutcome | None"], None]  # (done, total, the outcome just finished)


def make_engine(settings: Settings) -> Engine:
    # Imported only here: a run the stat index answers wholly never imports the engine, its rules or LibCST.
    from .engine import Engine

    return Engine(settings)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def run(
    paths: Sequence[Path],
    settings: Settings,
    mode: Mode,
    *,
    unsafe: bool | None = None,
    jobs: int | None = None,
    cache: bool = False,
    with_edits: bool = False,
    progress: Progress | None = None,
    timeout: float | None = None,
    force_exclude: bool = False,
    executor: "str | Executor | None" = None,
    scheduler: str | None = None,
) -> RunReport:
    """Process every file under `paths`. `jobs` worker processes (default: one per core), also for a single
    file: every file gets the same `timeout` (seconds; default: the settings' `file-timeout`), named or found.
    `cache`: read and write `.tffix_cache/` under the settings' root (or here). `executor`: "local" (a process
    pool on this machine), "dask" (a Dask cluster: `scheduler`'s address, or a LocalCluster when there is
    none), or an executor made by `tffix.executors.make_executor`, which the caller closes (runs over many
    repositories share one); default: the settings' `executor`."""
    allow_unsafe = settings.unsafe_fixes if unsafe is None else unsafe
    store = Cache(settings.root or Path.cwd()) if cache else None
    files: list[Path] = []
    problems: list[Problem] = []
    results: dict[int, FileOutcome] = {}

    def finished(index: int, outcome: FileOutcome) -> None:
        results[index] = outcome
        if progress is not None:
            progress(len(results), len(files), outcome)

    interrupted = None
    owned = warm = None
    walked = False
    with _SignalsInterrupt():
        try:
            files, problems = discover(paths, settings, force_exclude=force_exclude)
            walked = True
            if progress is not None:
                progress(0, len(files), None)
            warm = _Warm(store, settings, mode, allow_unsafe, with_edits) if store is not None else None
            todo = list(range(len(files))) if warm is None else warm.answer(files, finished)
            if todo:
                from .executors import make_executor

                job = Job(make_engine(settings), mode, allow_unsafe, store, with_edits)
                if executor is None or isinstance(executor, str):
                    owned = make_executor(executor or settings.executor, jobs=jobs,
                                          scheduler=scheduler or settings.scheduler)
                limit = settings.file_timeout if timeout is None else timeout
                (owned or executor).run([files[i] for i in todo], job, limit,
                                        lambda done, outcome: finished(todo[done], outcome))
        except _Interrupted as exc:
            interrupted = exc.signal_name
        except KeyboardInterrupt:
            interrupted = "SIGINT"
        finally:
            if owned is not None:
                owned.close()
            if warm is not None:  # the folders walked, once the walk is whole: the index forgets what it missed
                warm.save(files, results, [p for p in paths if p.is_dir()] if walked else [])
    outcomes = tuple(results[i] for i in sorted(results))
    return RunReport(outcomes, tuple(problems), interrupted, len(files))


class _Warm:
    """The stat index (`tffix.stat_index`) in a run: answers what it can before any worker starts, and records
    what the workers found when the run ends."""

    def __init__(self, store: Cache, settings: Settings, mode: Mode, unsafe: bool, with_edits: bool) -> None:
        from .catalogue import codes

        self.index = StatIndex(store, settings, with_edits)
        self.settings, self.mode, self.unsafe = settings, mode, unsafe
        self.all_codes = codes()
        self.stats: dict[int, Stat | None] = {}

    def codes(self, shown: str) -> tuple[str, ...]:
        """The codes of the rules that run on `shown`: `Engine.rules_for` without importing the rules."""
        return tuple(code for code in self.all_codes if self.settings.is_selected(code, shown))

    def answer(self, files: Sequence[Path], finished: Callable[[int, FileOutcome], None]) -> list[int]:
        """Give `finished` every file the index answers; the indices of the others."""
        todo = []
        for number, path in enumerate(files):
            try:
                stat = stat_of(path.stat())
            except OSError:
                stat = None
            self.stats[number] = stat
            shown = display_path(path)
            oversized = None if stat is None else skipped_for_size(path, shown, stat[0], self.settings.max_file_size)
            if oversized is not None:  # as a worker would say, unread
                finished(number, oversized)
                continue
            known = self.index.answer(path, shown, stat, self.codes)
            if known is not None and (self.mode is Mode.CHECK or not _any_fix_to_make(known.findings, self.unsafe)):
                finished(number, FileOutcome(shown, findings=known.findings, problems=known.problems,
                                             skipped=known.skipped, cached=not known.skipped))
            else:
                todo.append(number)
        return todo

    def save(self, files: Sequence[Path], results: dict[int, FileOutcome], walked: Sequence[Path]) -> None:
        self.index.forget_missing(list(walked), list(files))
        for number, outcome in results.items():
            if outcome.cache_key is not None and not outcome.written and not outcome.fixed:
                self.index.record(files[number], self.stats.get(number), outcome.cache_key, outcome.path,
                                  outcome.skipped, outcome.findings, outcome.problems)
        self.index.save()


class _Interrupted(BaseException):
    """Raised in the parent by SIGTERM (and in a worker by the parent's SIGTERM) to unwind cleanly."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signal_name = signal.Signals(signum).name


def _raise_interrupted(signum, frame) -> None:
    raise _Interrupted(signum)


# In a worker: True from the moment a fix is being written until the file's outcome is sent. A SIGTERM then
# waits (in _PENDING) until the outcome is on its way, so that an interrupted `apply` counts every file it wrote.
_WRITING = [False]
_PENDING: list[int] = []


class _SignalsInterrupt:
    """Within the block, SIGTERM unwinds like Ctrl-C does (only the main thread can take signals)."""

    def __enter__(self):
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, _raise_interrupted)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
