"""The threads of `tffix lsp` that run the engine, so that its event loop answers requests while a file is checked.

A `Worker` runs jobs one at a time on its own thread, the most urgent first (then the oldest). Work whose result
nobody wants any more (the check of a version the user has typed past) is dropped from the queue, and abandoned
when it is running: the worker thread gets a `Stale` exception raised into it (CPython's
`PyThreadState_SetAsyncExc`), at its next bytecode. `Stale` is a `BaseException`, so the engine's `except
Exception` (one crashing rule must not stop a file) does not swallow it; every `finally` and `with` on the way
out still runs, and the engine keeps no state between checks that an interrupted check could leave half made.

The exception is raised at most once per job and only while the job runs: `abandon` raises it under the lock
under which the worker marks a job running and finished, and the worker clears one still pending when the job
ends; wherever it lands in the worker's own code, the worker finishes the job as abandoned and goes on.
"""

from __future__ import annotations

import asyncio
import ctypes
import itertools
import logging
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from .frame_room import with_room

logger = logging.getLogger("tffix.lsp")


class Stale(BaseException):
    """Raised into a worker thread: the running job's result is no longer wanted."""


class Abandoned(Exception):
    """The result of a job that was dropped or abandoned before it finished."""


# Urgency: lower runs first.
REQUEST = 0  # a client request waits for it
CHECK = 1  # diagnostics wait for it
AHEAD = 2  # computed ahead of a request that may come (code action edits, fix-all)


@dataclass(eq=False)
class Job:
    function: Callable[[], Any]
    urgency: int
    tags: frozenset[Hashable]  # what `abandon` matches: the document, the kind of work
    future: asyncio.Future[Any]
    order: int = field(default_factory=itertools.count().__next__)
    stale: bool = False  # `Stale` was raised for it: never twice, so that its handler cannot be interrupted


class Worker:
    def __init__(self, name: str) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: list[Job] = []
        self._running: Job | None = None
        # The checks run with room on the frame stack (`tffix.frame_room`): the loop never returns, so its chunk stays.
        self._thread = threading.Thread(target=with_room, args=(self._serve,), name=name, daemon=True)
        self._thread.start()

    def submit(
        self, function: Callable[[], Any], urgency: int, tags: frozenset[Hashable] = frozenset()
    ) -> asyncio.Future[Any]:
        """Queue `function`; its result (or exception, or `Abandoned`) arrives in the returned future. Call from the
        event loop's thread."""
        job = Job(function, urgency, tags, asyncio.get_running_loop().create_future())
        with self._lock:
            self._queue.append(job)
            self._wake.notify()
        return job.future

    def abandon(self, tag: Hashable, below: int = REQUEST, *, interrupt: bool = True) -> None:
        """Drop the queued jobs tagged `tag` whose urgency is `below` or less urgent, and abandon the running one
        if it is such a job (unless not `interrupt`: then it finishes)."""
        with self._lock:
            dropped = [j for j in self._queue if tag in j.tags and j.urgency >= below]
            self._queue = [j for j in self._queue if j not in dropped]
            running = self._running
            if running is not None and tag in running.tags and running.urgency >= below and not running.stale and interrupt:
                running.stale = True
                ident = self._thread.ident
                assert ident is not None
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(Stale))
        for job in dropped:
            _deliver(job, None, Abandoned())

    def running(self, future: asyncio.Future[Any]) -> bool:
        """Whether the job of `future` is running now (rather than waiting in the queue, or done)."""
        with self._lock:
            return self._running is not None and self._running.future is future

    def _next(self) -> Job:
        with self._lock:
            while not self._queue:
                self._wake.wait()
            job = min(self._queue, key=lambda j: (j.urgency, j.order))
            self._queue.remove(job)
            self._running = job
            return job

    def _serve(self) -> None:
        while True:
            try:
                job = self._next()
                try:
                    outcome: tuple[Any, BaseException | None] = (job.function(), None)
                except Exception as exc:  # delivered to whoever awaits the job
                    outcome = (None, exc)
                self._complete(outcome)
            except Stale:  # raised once per job at most, so none can come while this runs
                self._complete((None, Abandoned()))

    def _complete(self, outcome: tuple[Any, BaseException | None]) -> None:
        """Clear a `Stale` still pending (set before the job ended), then mark the job finished and deliver its
        outcome. A `Stale` raised before the pending one is cleared leaves the job running, for `_serve`'s
        handler to finish as abandoned."""
        with self._lock:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._thread.ident), None)
            job, self._running = self._running, None
        if job is not None:
            _deliver(job, *outcome)


def _deliver(job: Job, result: Any, error: BaseException | None) -> None:
    def settle() -> None:
        if job.future.done():
            return
        if error is None:
            job.future.set_result(result)
        else:
            job.future.set_exception(error)
            if isinstance(error, Abandoned):
                job.future.exception()  # nobody may be waiting for it: that is no error to log


    try:
        job.future.get_loop().call_soon_threadsafe(settle)
    except RuntimeError:  # the loop is closed: the server is shutting down
        pass
