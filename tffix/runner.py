"""Running the engine over paths: discovery, reading, checking or fixing, writing, in worker processes.

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
`file_timeout` seconds is reported and left as it was.

The CLI and the bulk runner report what this returns; nothing here prints.
"""

from __future__ import annotations

import enum
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from multiprocessing.connection import wait as wait_for
from pathlib import Path

from .cache import Cache, content_hash
from .config import DEFAULT_FILE_TIMEOUT, Settings
from .diff import byte_diff
from .discovery import discover, display_path
from .engine import Engine
from .model import Applicability, Finding, Fix, Problem, ProblemKind
from .notebook import Notebook, NotebookError, read_notebook
from .source import SourceError, WriteRefused, decode_source, too_large, write_file

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


@dataclass(frozen=True)
class RunReport:
    outcomes: tuple[FileOutcome, ...]
    problems: tuple[Problem, ...] = field(default=())  # problems not tied to one readable file (missing paths)
    interrupted: str | None = None  # the signal that stopped the run ("SIGINT", "SIGTERM"), if one did
    total: int = 0  # files found; more than len(outcomes) when interrupted

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


def _failed(shown: str, kind: ProblemKind, message: str) -> FileOutcome:
    return FileOutcome(shown, problems=(Problem(kind, shown, message),))


def _process(path: Path, shown: str, job: Job) -> FileOutcome:
    limit = job.engine.settings.max_file_size
    try:
        size = path.stat().st_size
        if size > limit and path.suffix != ".ipynb":  # a notebook's outputs do not count: its code does, below
            return _failed(shown, ProblemKind.SKIPPED, too_large(size, limit))
        data = path.read_bytes()
    except OSError as exc:
        return _failed(shown, ProblemKind.UNREADABLE, f"cannot read: {exc.strerror or exc}")
    notebook: Notebook | None = None
    try:
        if path.suffix == ".ipynb":
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
    if not engine.could_match(text, shown):
        return FileOutcome(shown, skipped=True)

    key = None
    if job.cache is not None:
        key = job.cache.key(content_hash(data), tuple(r.code for r in engine.rules_for(shown)), job.with_edits)
        entry = job.cache.get(key, shown)
        if entry is not None and (job.mode is Mode.CHECK or not _any_fix_to_make(entry.findings, job.unsafe)):
            return FileOutcome(shown, findings=entry.findings, problems=entry.problems, cached=True)

    if job.mode is Mode.CHECK:
        result = engine.check(text, shown)
        while notebook is not None and (fewer := _without_unparsable_cell(notebook, result.problems)):
            notebook = fewer
            result = engine.check(notebook.python, shown)
        findings, problems = _portable(result.findings, job.with_edits, notebook), _located(result.problems, notebook, shown)
        _remember(job, key, shown, findings, problems)
        return FileOutcome(shown, findings=findings, problems=problems, analysed=True)

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
        return FileOutcome(shown, findings=remaining, problems=problems, analysed=True)
    try:
        if notebook is not None:
            new_data = notebook.with_python(fixed.fixed_source).encode("utf-8")
            notebook = notebook.reread(new_data)  # what is left is found in the new cells
        else:
            new_data = source.encode(fixed.fixed_source)  # type: ignore[union-attr]
    except (NotebookError, UnicodeEncodeError) as exc:
        problem = Problem(ProblemKind.INTERNAL, shown, f"the fixed file cannot be written faithfully: {exc}")
        return FileOutcome(shown, findings=_portable(fixed.remaining, job.with_edits, None),
                           problems=(*problems, problem), analysed=True)
    remaining = _portable(fixed.remaining, job.with_edits, notebook)
    if job.mode is Mode.DIFF:
        return FileOutcome(shown, findings=remaining, fixed=applied, problems=problems,
                           diff=byte_diff(data, new_data, shown), analysed=True)
    _WRITING[0] = True  # from here until the outcome is sent, a SIGTERM waits (the run counts this file)
    try:
        write_file(path, new_data, expected=data)
    except WriteRefused as exc:
        problem = Problem(ProblemKind.UNWRITABLE, shown, str(exc))
        return FileOutcome(shown, findings=remaining, problems=(*problems, problem), analysed=True)
    except OSError as exc:
        problem = Problem(ProblemKind.UNWRITABLE, shown, f"cannot write the fixed file: {exc.strerror or exc}; "
                          "not written")
        return FileOutcome(shown, findings=remaining, problems=(*problems, problem), analysed=True)
    if job.cache is not None and not problems:  # the next check of the new bytes is a cache hit
        new_key = job.cache.key(content_hash(new_data), tuple(r.code for r in engine.rules_for(shown)), False)
        job.cache.put(new_key, shown, _portable(remaining, False, None), ())
    return FileOutcome(shown, findings=remaining, fixed=applied, problems=problems, written=True, analysed=True)


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
    # A crash or a timeout is tffix's problem, not the file's: never cache it.
    if key is not None and job.cache is not None and all(p.kind is not ProblemKind.INTERNAL for p in problems):
        job.cache.put(key, shown, findings, problems)


# --- a run ---------------------------------------------------------------------------------------------------
Progress = Callable[[int, int, "FileOutcome | None"], None]  # (done, total, the outcome just finished)


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
) -> RunReport:
    """Process every file under `paths`. `jobs` worker processes (default: one per core), also for a single
    file: every file gets the same `timeout` (seconds; default: the settings' `file-timeout`), named or found.
    `cache`: read and write `.tffix_cache/` under the settings' root (or here)."""
    engine = Engine(settings)
    allow_unsafe = settings.unsafe_fixes if unsafe is None else unsafe
    store = Cache(settings.root or Path.cwd()) if cache else None
    job = Job(engine, mode, allow_unsafe, store, with_edits)
    files: list[Path] = []
    problems: list[Problem] = []
    results: dict[int, FileOutcome] = {}

    def finished(index: int, outcome: FileOutcome) -> None:
        results[index] = outcome
        if progress is not None:
            progress(len(results), len(files), outcome)

    interrupted = None
    with _SignalsInterrupt():
        try:
            files, problems = discover(paths, settings, force_exclude=force_exclude)
            if progress is not None:
                progress(0, len(files), None)
            if files:
                limit = settings.file_timeout if timeout is None else timeout
                _run_in_workers(files, job, jobs or default_jobs(), limit, finished)
        except _Interrupted as exc:
            interrupted = exc.signal_name
        except KeyboardInterrupt:
            interrupted = "SIGINT"
    outcomes = tuple(results[i] for i in sorted(results))
    return RunReport(outcomes, tuple(problems), interrupted, len(files))


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


def _worker_interrupted(signum, frame) -> None:
    if _WRITING[0]:
        _PENDING.append(signum)
        return
    raise _Interrupted(signum)


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


# --- worker processes ----------------------------------------------------------------------------------------
def _context():
    methods = multiprocessing.get_all_start_methods()
    # fork: workers start in milliseconds with the rules already imported; the parent runs no threads.
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def _worker_main(connection, job: Job) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; it stops workers with SIGTERM
    _WRITING[0] = False
    _PENDING.clear()
    signal.signal(signal.SIGTERM, _worker_interrupted)
    parent = os.getppid()
    try:
        # Nothing inherited is flushed twice, and no pipe of the caller's is held open by a worker.
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        while True:
            while not connection.poll(1.0):
                if os.getppid() != parent:
                    return  # the parent is gone (killed): stop, with the file in hand finished or untouched
            message = connection.recv()
            if message is None:
                break
            index, path = message
            outcome = process_file(path, job)
            try:
                connection.send((index, outcome))
            except Exception as exc:  # an outcome that cannot be sent is still an outcome
                connection.send((index, _failed(outcome.path, ProblemKind.INTERNAL, f"result lost: {exc}")))
            _WRITING[0] = False
            if _PENDING:
                raise _Interrupted(_PENDING[0])
    except (_Interrupted, EOFError, OSError, KeyboardInterrupt):
        pass
    finally:
        os._exit(0)


@dataclass
class _Task:
    index: int
    path: Path
    started: float
    attempt: int


class _Worker:
    def __init__(self, context, job: Job) -> None:
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, job), daemon=True)
        self.process.start()
        child.close()
        self.task: _Task | None = None

    def give(self, task: _Task) -> bool:
        try:
            self.connection.send((task.index, task.path))
        except OSError:
            return False
        self.task = task
        return True

    def stop(self, grace: float, *, wait: float = 0.0) -> tuple[int, FileOutcome] | None:
        """Stop the worker: after `wait` seconds for it to leave by itself, SIGTERM, on which it unwinds
        (removing any temporary file it was writing), or, when it is writing a fix, finishes writing and sends
        the outcome first; SIGKILL after `grace` more. Returns that last outcome, if one came."""
        self.process.join(wait)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(grace)
            if self.process.is_alive():
                self.process.kill()
        self.process.join()
        last = None
        try:
            if self.task is not None and self.connection.poll():
                last = self.connection.recv()
        except Exception:  # nothing came, or half of it: the file is reported as the caller sees fit
            last = None
        self.connection.close()
        return last

    def died(self) -> str:
        self.process.join(2.0)  # its pipe may close a moment before it can be reaped
        code = self.process.exitcode
        if code is not None and code < 0:
            return f"killed by {signal.Signals(-code).name}"
        return f"exit code {code}"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _run_in_workers(
    files: Sequence[Path], job: Job, jobs: int, timeout: float, finished: Callable[[int, FileOutcome], None]
) -> None:
    context = _context()
    sys.stdout.flush()
    sys.stderr.flush()
    # Largest files first: a big file dealt out last would keep one worker busy while the others idle.
    queue: deque[_Task] = deque(sorted((_Task(i, path, 0.0, 1) for i, path in enumerate(files)),
                                       key=lambda task: -_size(task.path)))
    workers = [_Worker(context, job) for _ in range(min(jobs, len(files)))]

    def feed(worker: _Worker) -> _Worker:
        while queue:
            task = queue.popleft()
            task.started = time.monotonic()
            if worker.give(task):
                return worker
            queue.appendleft(task)  # the pipe broke before the task got there: a fresh worker takes it
            worker.stop(0)
            worker = _Worker(context, job)
        return worker

    def replace_worker(worker: _Worker) -> None:
        worker.stop(1.0)
        workers[workers.index(worker)] = feed(_Worker(context, job))

    try:
        for n, worker in enumerate(workers):
            workers[n] = feed(worker)
        while any(w.task for w in workers):
            busy = [w for w in workers if w.task is not None]
            owners = {w.connection: w for w in busy} | {w.process.sentinel: w for w in busy}
            deadline = min(w.task.started for w in busy) + timeout  # type: ignore[union-attr]
            for ready in wait_for(list(owners), timeout=max(0.0, deadline - time.monotonic())):
                worker = owners[ready]
                task = worker.task
                if task is None:
                    continue  # handled through its other handle
                if worker.connection.poll():
                    try:
                        index, outcome = worker.connection.recv()
                    except (EOFError, OSError):
                        pass
                    else:
                        worker.task = None
                        finished(index, outcome)
                        workers[workers.index(worker)] = feed(worker)
                        continue
                # The worker died with the file in hand: try it once more in a fresh worker, then report it.
                worker.task = None
                reason = worker.died()
                if task.attempt == 1:
                    queue.appendleft(_Task(task.index, task.path, 0.0, 2))
                else:
                    finished(task.index, _failed(
                        display_path(task.path), ProblemKind.INTERNAL,
                        f"the worker process died on this file twice ({reason}); {_INTACT}"))
                replace_worker(worker)
            now = time.monotonic()
            for worker in [w for w in workers if w.task is not None and now - w.task.started > timeout]:
                task = worker.task
                last = worker.stop(1.0)  # a worker caught writing its fix finishes and reports it
                worker.task = None
                if last is not None:
                    finished(*last)
                else:
                    finished(task.index, _failed(  # type: ignore[union-attr]
                        display_path(task.path), ProblemKind.INTERNAL,  # type: ignore[union-attr]
                        f"gave up after {timeout:g} s (is it huge, or generated?); {_INTACT}"))
                workers[workers.index(worker)] = feed(_Worker(context, job))
    finally:
        for worker in workers:
            if worker.task is None and worker.process.is_alive():
                try:
                    worker.connection.send(None)  # done: exit
                except OSError:
                    pass
        for worker in workers:
            last = worker.stop(5.0, wait=0.0 if worker.task is not None else 1.0)
            if last is not None:  # interrupted: the file it had written still counts
                finished(*last)
