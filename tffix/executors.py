"""Where a run's files are processed: a process pool on this machine (`local`), or a Dask cluster (`dask`).

Both give the same outcomes for the same files (the runner sorts them by path), and both keep the runner's
promises: one file's failure costs only that file, and every file is left wholly old or wholly new.

**local** is pebble's `ProcessPool` of forked workers (the rules are imported once, in the parent). Each
worker reads, analyses and fixes its file and writes it in place (atomically). pebble gives every file its
time limit (the task's timeout: the worker is stopped and the file reported) and replaces a worker that dies;
a file whose worker died is tried once more in a fresh worker, then reported. Interrupts: the parent sets a
shared stop flag and sends its workers SIGTERM. A worker analysing a file unwinds (an atomic write in
progress removes its temporary file) and answers "not done"; one writing a fix finishes the write and sends
its outcome first, so that the report counts every file written; the rest of the queue drains untouched.

**dask** ships work to a Dask cluster (`dask.distributed`, the `tffix[dask]` extra): the scheduler at
`scheduler`, or a `LocalCluster` of one worker process per core. Workers see no file of the client's: the
client reads each file, answers what the prefilter and the content cache can, and sends the rest as bytes
with the settings (small files batched into one task); a task returns findings and, for `apply`, the new
bytes, which the client writes exactly as the local workers do (atomically, only over the bytes that were
read, SIGINT/SIGTERM held back until the outcome is recorded). Results are taken as they complete. A worker
lost mid-task has its tasks run again by Dask; a task that keeps killing workers is split into single files,
each tried once more, and a file that still kills its worker is reported, never dropped. Dask cannot stop a
running task, so `file-timeout` is not enforced on a cluster: a file that hangs holds its worker thread.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, wait
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from . import runner
from .frame_room import with_room
from .gc_policy import tune_for_analysis
from .config import EXECUTORS
from .discovery import display_path
from .model import ProblemKind
from .runner import _INTACT, _PENDING, _WRITING, FileOutcome, Fixed, Job, Looked, Mode, _Interrupted, _failed
from .source import discard_unfinished_write

Finished = Callable[[int, FileOutcome], None]


class Executor(Protocol):
    def run(self, files: Sequence[Path], job: Job, timeout: float, finished: Finished) -> None: ...

    def close(self) -> None: ...


def make_executor(kind: str, *, jobs: int | None = None, scheduler: str | None = None) -> Executor:
    """`local` (jobs processes) or `dask` (the cluster at `scheduler`, or a LocalCluster of `jobs` workers)."""
    if kind == "local":
        return LocalExecutor(jobs or runner.default_jobs())
    if kind == "dask":
        return DaskExecutor(scheduler, workers=jobs)
    raise ValueError(f"unknown executor {kind!r} (known: {', '.join(EXECUTORS)})")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


# --- local: pebble's process pool --------------------------------------------------------------------------
WORKER_NAME = "pebble_pool_worker"  # the name pebble gives its worker processes


class LocalExecutor:
    def __init__(self, jobs: int) -> None:
        self.jobs = jobs

    def close(self) -> None:
        pass  # a pool lives for one run: its workers are forked with that run's job

    def run(self, files: Sequence[Path], job: Job, timeout: float, finished: Finished) -> None:
        from pebble import ProcessExpired, ProcessPool

        context = _fork_context()
        stop = context.RawValue("b", 0)  # shared with the workers: set when the run is interrupted
        sys.stdout.flush()
        sys.stderr.flush()
        pool = ProcessPool(max_workers=min(self.jobs, len(files)), initializer=_worker_start,
                           initargs=(job, stop), context=context)
        pending: dict = {}
        attempts: dict[int, int] = {}
        died: list[int] = []  # files whose worker died with them in hand (perhaps mid-write)
        # Futures as they finish. Waiting on the whole pending set instead (concurrent.futures.wait) registers a
        # waiter on every pending future per finished file: quadratic, 90 s of CPU over 8,000 files.
        finishing: queue.SimpleQueue = queue.SimpleQueue()

        def submit(index: int) -> None:
            attempts[index] = attempts.get(index, 0) + 1
            future = pool.schedule(_worker_task, args=(index, files[index]), timeout=timeout)
            pending[future] = index
            future.add_done_callback(finishing.put)

        def settle(future, index: int) -> None:
            shown = display_path(files[index])
            try:
                _, outcome = future.result()
            except TimeoutError:
                finished(index, _failed(shown, ProblemKind.INTERNAL,
                                        f"gave up after {timeout:g} s (is it huge, or generated?); {_INTACT}"))
            except ProcessExpired as exc:  # the worker died with the file in hand: once more, then reported
                died.append(index)
                if attempts[index] == 1:
                    submit(index)
                else:
                    finished(index, _failed(shown, ProblemKind.INTERNAL,
                                            f"the worker process died on this file twice ({_death(exc.exitcode)}); "
                                            f"{_INTACT}"))
            except CancelledError:
                pass
            except Exception as exc:  # the pool could not run it (a broken pool, a result that cannot be sent)
                finished(index, _failed(shown, ProblemKind.INTERNAL, f"the worker pool failed on this file: "
                                        f"{type(exc).__name__}: {exc}; {_INTACT}"))
            else:
                if outcome is not None:
                    finished(index, outcome)

        try:
            # Largest files first: a big file dealt out last would keep one worker busy while the others idle.
            for index in sorted(range(len(files)), key=lambda i: -_size(files[i])):
                submit(index)
            while pending:
                try:
                    future = finishing.get(timeout=0.5)  # not forever: a signal must be able to interrupt it
                except queue.Empty:
                    continue
                if future in pending:
                    settle(future, pending.pop(future))
        except BaseException:  # Ctrl-C or SIGTERM: stop the workers, keep what they wrote, then unwind
            stop.value = 1
            _drain(pending, settle)
            raise
        finally:
            pool.stop()
            pool.join()
            # Only now, with no worker left to fork: a process forked while this one held a file's lock would
            # inherit the lock and keep it for its life. A retry that wrote its file has cleared it already.
            for index in died:
                discard_unfinished_write(files[index])


def _fork_context():
    methods = multiprocessing.get_all_start_methods()
    # fork: workers start in milliseconds with the rules already imported (and the job inherited, not pickled).
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def _death(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def _drain(pending: dict, settle) -> None:
    """After an interrupt: SIGTERM every worker (see `_worker_signal`) and collect what the files in hand come
    to, so that a file a worker was writing is counted. Files not yet started are not waited for: with the
    stop flag set, a worker leaves them untouched. Further interrupts meanwhile are ignored."""
    for child in multiprocessing.active_children():
        if child.name == WORKER_NAME and child.pid is not None:
            try:
                os.kill(child.pid, signal.SIGTERM)
            except OSError:
                pass
    deadline = time.monotonic() + 10.0
    quiet_since = None  # since when no file has been in a worker's hands (a start is acknowledged in ms)
    while pending and time.monotonic() < deadline:
        try:
            done, _ = wait(list(pending), timeout=0.1, return_when=FIRST_COMPLETED)
            for future in done:
                index = pending.pop(future)
                if not future.cancelled() and future.exception() is None:
                    settle(future, index)
            if any(future.running() for future in pending):
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > 0.5:
                break
        except (_Interrupted, KeyboardInterrupt):
            continue


# In a worker process (forked by pebble): the run's job, the shared stop flag, and whether a file is in hand.
_JOB: list[Job] = []
_STOP: list = []
_IN_TASK = [False]


def _worker_start(job: Job, stop) -> None:
    tune_for_analysis()  # forked with the engine's modules imported
    _JOB[:] = [job]
    _STOP[:] = [stop]
    _WRITING[0] = _IN_TASK[0] = False
    _PENDING.clear()
    signal.signal(signal.SIGTERM, _worker_signal)  # pebble's own would leave a temporary file behind
    # Nothing inherited is flushed twice, and no pipe of the caller's is held open by a worker. New stream
    # objects too: pebble forks from one of its threads, and a lock another thread of the parent held at that
    # moment (the one of sys.stderr, say, while the progress bar drew) would stay held in the worker forever.
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - the worker's for its whole life
    sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115


def _worker_signal(signum, frame) -> None:
    """SIGTERM in a worker. From the run's parent (stop flag set): unwind the file being analysed, finish one
    being written, and answer nothing more. From pebble (a file over its time limit): unwind, then exit."""
    if _WRITING[0] or (not _IN_TASK[0] and _STOP[0].value):
        _PENDING.append(signum)  # acted on once the outcome is returned (and pebble sends it)
        return
    if _IN_TASK[0]:
        raise _Interrupted(signum)
    os._exit(0)  # between files, stopped by pebble: nothing in hand


def _worker_task(index: int, path: Path):
    if _STOP[0].value or _PENDING:
        return index, None  # the run was interrupted: this file is left untouched
    _IN_TASK[0] = True
    try:
        outcome = with_room(runner.process_file, path, _JOB[0])
    except _Interrupted:
        if not _STOP[0].value:
            os._exit(0)  # stopped by pebble (its time was up): the file is unwound, whole and unwritten
        outcome = None
    finally:
        _IN_TASK[0] = _WRITING[0] = False
    if _PENDING and not _STOP[0].value:
        os._exit(0)  # stopped by pebble (its time was up) while writing: the file is whole, the run reports it
    return index, outcome


# --- dask: a cluster -------------------------------------------------------------------------------------------
BATCH_FILES = 32  # at most this many files in one task
BATCH_BYTES = 256 * 1024  # and at most about this many bytes (a larger file is a task of its own)
# A LocalCluster's own upkeep, cut down: its statistical profiler samples every worker's stack 100 times a
# second and its event-loop watchdog ticks 50 times a second; idle, a 2-worker cluster with the defaults used
# about 0.16 of a core (measured), which on one machine is taken from the analysis itself.
QUIET = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.admin.system-monitor.gil.enabled": False,
}


class DaskExecutor:
    def __init__(self, scheduler: str | None = None, *, workers: int | None = None) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:
            raise RuntimeError(f"the dask executor needs dask.distributed: pip install 'tffix[dask]' ({exc})") from None
        import logging

        self.cluster = None
        try:
            if scheduler:
                self.client = Client(scheduler, timeout=30)
            else:
                import dask

                with dask.config.set(QUIET):
                    self.cluster = LocalCluster(n_workers=workers or runner.default_jobs(), threads_per_worker=1,
                                                processes=True, dashboard_address=":0", silence_logs=logging.ERROR)
                self.client = Client(self.cluster)
        except (OSError, TimeoutError, ValueError) as exc:
            raise RuntimeError(f"cannot reach the Dask scheduler {scheduler or '(a LocalCluster)'}: {exc}") from None
        # Import tffix and its rules on every worker now (not in the first task each one runs), and refuse a
        # cluster whose workers run another tffix: its answers would not be this one's.
        try:
            found = self.client.run(_warm_up)
        except Exception:  # a worker that cannot import tffix fails its tasks, which are reported
            found = {}
        here = _warm_up()
        other = {worker: (version, tuple(codes)) for worker, (version, codes) in found.items()
                 if (version, tuple(codes)) != here}
        if other:
            self.close()
            worker, (version, codes) = next(iter(other.items()))
            raise RuntimeError(f"the Dask worker {worker} runs tffix {version} with rules {', '.join(codes)}; this "
                               f"client runs tffix {here[0]} with {', '.join(here[1])}: install the same tffix there")

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def run(self, files: Sequence[Path], job: Job, timeout: float, finished: Finished) -> None:
        from dask.distributed import as_completed

        # What a worker needs: the settings without anything of this machine's (paths, the exclude patterns),
        # and per file the codes of the rules that apply to it (per-file-ignores resolved here).
        base = replace(job.engine.settings, root=None, source=None, exclude=(), per_file_ignores=(),
                       _exclude_spec=None, select=(), ignore=())
        workers = max(1, len(self.client.scheduler_info(n_workers=-1).get("workers", {})))
        # Largest files first: a big file dealt out last would keep one worker busy while the others idle.
        sizes = {index: _size(path) for index, path in enumerate(files)}
        order = sorted(sizes, key=lambda i: -sizes[i])
        # Tasks of about equal work (bytes), enough to keep every worker busy to the end (about 8 a worker);
        # at most `in_flight` tasks submitted at a time, so that the client holds few files' bytes at once.
        batcher = _Batcher(_budget(sum(sizes.values()), workers))
        in_flight = 4 * workers
        looked_at: dict[int, tuple[Path, Looked]] = {}
        tasks: dict = {}
        stream = as_completed([], with_results=False)

        def submit(batch: list[int], tries: int) -> None:
            items = [(i, looked_at[i][1].shown, looked_at[i][0].suffix, looked_at[i][1].data,
                      tuple(r.code for r in job.engine.rules_for(looked_at[i][1].shown))) for i in batch]
            future = self.client.submit(analyse_batch, items, base, job.mode.value, job.unsafe, job.with_edits,
                                        pure=False)
            tasks[future] = (batch, tries)
            stream.add(future)

        def settle(future) -> None:
            batch, tries = tasks.pop(future)
            try:
                results = future.result()
            except Exception as exc:  # KilledWorker: the task killed its workers; or the task failed
                if len(batch) > 1:  # each file alone, to find the one to blame
                    for index in batch:
                        submit([index], 1)
                elif tries == 1 and _lost_worker(exc):
                    submit(batch, 2)
                else:
                    index = batch[0]
                    reason = ("the Dask worker died on this file, again and again" if _lost_worker(exc)
                              else f"the Dask task failed: {type(exc).__name__}: {exc}")
                    finished(index, _failed(looked_at.pop(index)[1].shown, ProblemKind.INTERNAL,
                                            f"{reason}; {_INTACT}"))
                return
            finally:
                future.release()
            for index, result in results:
                finished(index, self._settle(looked_at.pop(index), result, job))

        try:
            for index in order:
                looked = self._look(index, files[index], job, finished)
                if looked is None:
                    continue
                looked_at[index] = (files[index], looked)
                full = batcher.add(index, len(looked.data))
                if full:
                    submit(full, 1)
                    while len(tasks) >= in_flight:
                        settle(next(stream))
            if batcher.batch:
                submit(batcher.batch, 1)
            while tasks:
                settle(next(stream))
        except BaseException:
            for future in list(tasks):
                future.cancel()
            raise

    @staticmethod
    def _look(index: int, path: Path, job: Job, finished: Finished) -> Looked | None:
        """Read a file here and answer what the prefilter and the cache can; else what to send to a worker."""
        shown = display_path(path)
        limit = job.engine.settings.max_file_size
        try:
            oversized = runner.skipped_for_size(path, shown, path.stat().st_size, limit)
            if oversized is not None:
                finished(index, oversized)
                return None
            data = path.read_bytes()
        except OSError as exc:
            finished(index, _failed(shown, ProblemKind.UNREADABLE, f"cannot read: {exc.strerror or exc}"))
            return None
        looked = runner.look(data, path.suffix, shown, job)
        if isinstance(looked, FileOutcome):
            finished(index, looked)
            return None
        return looked

    @staticmethod
    def _settle(item: tuple[Path, Looked], result, job: Job) -> FileOutcome:
        """A worker's answer for one file, on the client: cached, and for `apply` written here."""
        path, looked = item
        if isinstance(result, Fixed):
            with _SignalsHeld():  # the write and its outcome are one: an interrupt waits for both
                return runner.write_fix(path, result, job)
        if result.analysed and not result.fixed and not result.diff:
            runner._remember(job, looked.key, looked.shown, result.findings, result.problems)
        return result


def _lost_worker(exc: BaseException) -> bool:
    return type(exc).__name__ == "KilledWorker"


def _budget(total_bytes: int, workers: int) -> int:
    """Bytes a task should carry: an eighth of a worker's share of the tree, within [16 KB, BATCH_BYTES]."""
    return max(16 * 1024, min(BATCH_BYTES, total_bytes // (8 * workers)))


class _Batcher:
    """Files gathered into tasks of at most BATCH_FILES files and about `budget` bytes (a larger file goes
    alone). `add` returns a batch when one is full; `batch` holds the last, unfinished one."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.batch: list[int] = []
        self._bytes = 0

    def add(self, index: int, size: int) -> list[int] | None:
        full = None
        if self.batch and (len(self.batch) >= BATCH_FILES or self._bytes + size > self.budget):
            full, self.batch, self._bytes = self.batch, [], 0
        self.batch.append(index)
        self._bytes += size
        return full


class _SignalsHeld:
    """SIGINT and SIGTERM wait until the block is done (then unwind as usual); main thread only."""

    def __enter__(self):
        self._caught: list[int] = []
        self._previous = {}
        import threading

        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, lambda s, f: self._caught.append(s))
        return self

    def __exit__(self, *exc_info) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        if self._caught:
            if self._caught[0] == signal.SIGINT:
                raise KeyboardInterrupt
            raise _Interrupted(self._caught[0])


# On a Dask worker: engines by the rule codes they run, made once per worker process.
_ENGINES: dict = {}


def _warm_up() -> tuple[str, tuple[str, ...]]:
    """Import the engine and the rules (on a worker); which tffix and which rules this is."""
    from . import __version__
    from .config import Settings
    from .engine import Engine
    from .registry import all_rules

    Engine(Settings())
    return __version__, tuple(sorted(rule.code for rule in all_rules()))


def analyse_batch(items, settings, mode: str, unsafe: bool, with_edits: bool):
    """A Dask task: check or fix files given as bytes; returns (index, FileOutcome | Fixed) for each."""
    return with_room(_analyse_items, items, settings, mode, unsafe, with_edits)


def _analyse_items(items, settings, mode: str, unsafe: bool, with_edits: bool):
    from .engine import Engine

    results = []
    for index, shown, suffix, data, codes in items:
        key = (settings, codes)
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _ENGINES[key] = Engine(replace(settings, select=codes or ("-",)))
        job = Job(engine, Mode(mode), unsafe, None, with_edits)
        try:
            looked = runner.look(data, suffix, shown, job)
            result = looked if isinstance(looked, FileOutcome) else runner.compute(looked, job)
        except RecursionError:
            result = _failed(shown, ProblemKind.SYNTAX, "too deeply nested to analyse")
        except Exception as exc:  # a crash in one file never stops a batch
            result = _failed(shown, ProblemKind.INTERNAL, f"{type(exc).__name__}: {exc}")
        results.append((index, result))
    return results


__all__ = ["DaskExecutor", "Executor", "LocalExecutor", "analyse_batch", "make_executor"]
