"""Running programs to prove a fix: cold (one interpreter per run) or warm (a forking worker that imported
TensorFlow once). Both report a `RunOutcome` value; neither ever raises for what the program does."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_TIMEOUT = 300.0
# Quiet TensorFlow's C++ start-up chatter so that outcomes are about the program, not the runtime.
QUIET_TF_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}


@dataclass(frozen=True)
class RunOutcome:
    exit_code: int | None  # None when the run was killed on timeout
    stdout: str
    stderr: str
    exception: str | None = None  # qualified class name of the uncaught exception, e.g. "builtins.ValueError"
    exception_message: str | None = None
    timed_out: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    @property
    def exception_name(self) -> str | None:
        return self.exception.rsplit(".", 1)[-1] if self.exception else None

    def raised(self, name: str) -> bool:
        """True when the uncaught exception is `name` (bare class name or fully qualified)."""
        return self.exception is not None and name in (self.exception, self.exception_name)

    def summary(self) -> str:
        if self.timed_out:
            return f"timed out after {self.seconds:.1f}s"
        if self.exception:
            first_line = (self.exception_message or "").strip().splitlines()[:1]
            return f"raised {self.exception_name}: {first_line[0] if first_line else ''}".rstrip(": ")
        return f"exited {self.exit_code} in {self.seconds:.1f}s"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def _outcome(workdir: Path, exit_code: int | None, timed_out: bool, seconds: float) -> RunOutcome:
    record = {}
    result = workdir / "result.json"
    if result.exists():
        try:
            record = json.loads(result.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            record = {}
    return RunOutcome(
        exit_code=exit_code,
        stdout=_read(workdir / "stdout"),
        stderr=_read(workdir / "stderr"),
        exception=record.get("exception"),
        exception_message=record.get("message"),
        timed_out=timed_out,
        seconds=seconds,
    )


def run_program(
    program: Path,
    args: Sequence[str] = (),
    *,
    cwd: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    env: Mapping[str, str] | None = None,
    prelude: str | None = None,
) -> RunOutcome:
    """Run a Python program as __main__ in a fresh interpreter."""
    program = Path(program).resolve()
    with tempfile.TemporaryDirectory(prefix="tffix-run-") as tmp:
        workdir = Path(tmp)
        full_env = {**os.environ, **QUIET_TF_ENV, **(env or {})}
        if prelude:
            full_env["TFFIX_PRELUDE"] = prelude
        command = [sys.executable, "-m", "tffix._exec", "run", str(workdir / "result.json"), str(program), *args]
        started = time.monotonic()
        with open(workdir / "stdout", "wb") as out, open(workdir / "stderr", "wb") as err:
            process = subprocess.Popen(
                command, cwd=cwd or program.parent, env=full_env, stdout=out, stderr=err,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
            exit_code, timed_out = _wait(process, timeout)
        return _outcome(workdir, exit_code, timed_out, time.monotonic() - started)


_TRACEBACK_LAST = re.compile(r"^(?P<name>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)):\s?(?P<message>.*)$")


def run_command(
    command: Sequence[str],
    *,
    cwd: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    env: Mapping[str, str] | None = None,
    stream: bool = False,
) -> RunOutcome:
    """Run any command; the uncaught exception, if any, is read from the last traceback line on stderr.

    With `stream`, the command's output is also copied to this process's stdout/stderr as it comes.
    """
    full_env = {**os.environ, **QUIET_TF_ENV, **(env or {})}
    started = time.monotonic()
    try:
        process = subprocess.Popen(
            list(command), cwd=cwd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    except OSError as exc:
        return RunOutcome(exit_code=127, stdout="", stderr=f"cannot run {command[0]!r}: {exc.strerror}\n",
                          seconds=time.monotonic() - started)
    chunks: dict[str, list[str]] = {"stdout": [], "stderr": []}

    def pump(name: str, pipe, sink) -> None:
        for raw in iter(pipe.readline, b""):
            text = raw.decode("utf-8", errors="replace")
            chunks[name].append(text)
            if stream:
                sink.write(text)
                sink.flush()
        pipe.close()

    threads = [
        threading.Thread(target=pump, args=("stdout", process.stdout, sys.stdout), daemon=True),
        threading.Thread(target=pump, args=("stderr", process.stderr, sys.stderr), daemon=True),
    ]
    for thread in threads:
        thread.start()
    exit_code, timed_out = _wait(process, timeout)
    for thread in threads:
        thread.join(timeout=5)
    stderr = "".join(chunks["stderr"])
    exception, message = _last_exception(stderr) if exit_code not in (0, None) else (None, None)
    return RunOutcome(exit_code, "".join(chunks["stdout"]), stderr, exception, message, timed_out,
                      time.monotonic() - started)


def _last_exception(stderr: str) -> tuple[str | None, str | None]:
    if "Traceback (most recent call last)" not in stderr:
        return None, None
    tail = stderr[stderr.rindex("Traceback (most recent call last)"):]
    for line in tail.splitlines():
        match = _TRACEBACK_LAST.match(line)
        if match:
            return match.group("name"), match.group("message")
    return None, None


def _wait(process: subprocess.Popen, timeout: float) -> tuple[int | None, bool]:
    """Wait for the program; kill its whole process group on timeout, or when we are interrupted ourselves
    (it runs in its own session, so Ctrl-C on tffix would otherwise leave it running)."""
    try:
        return process.wait(timeout=timeout), False
    except subprocess.TimeoutExpired:
        _kill_group(process)
        return None, True
    except BaseException:
        _kill_group(process)
        raise


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, 9)
    except ProcessLookupError:
        pass
    process.wait()


class WarmRunner:
    """A worker process that imported `preload` once and forks a fresh child per program.

    Each run is isolated (a separate process, its own TensorFlow runtime state) but skips the ~3 s import.
    Use as a context manager; `run` has the same contract as `run_program`. Not thread-safe: one run at a
    time per runner (start one runner per core for parallelism).
    """

    def __init__(self, preload: Sequence[str] = ("tensorflow",), env: Mapping[str, str] | None = None) -> None:
        self._env = {**os.environ, **QUIET_TF_ENV, **(env or {})}
        self._preload = list(preload)
        self._process: subprocess.Popen | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="tffix-warm-")
        self._count = 0

    def __enter__(self) -> WarmRunner:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        if self._process is not None:
            return
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tffix._exec", "serve", ",".join(self._preload)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=self._env, text=True, bufsize=1,
        )
        hello = self._process.stdout.readline()  # type: ignore[union-attr]
        if not hello:
            self._process = None
            raise RuntimeError(
                f"the warm worker could not import {', '.join(self._preload)}; "
                "is TensorFlow installed? (pip install 'tffix[tensorflow]')"
            )

    def run(
        self,
        program: Path,
        args: Sequence[str] = (),
        *,
        cwd: Path | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        env: Mapping[str, str] | None = None,
        prelude: str | None = None,
    ) -> RunOutcome:
        self.start()
        program = Path(program).resolve()
        self._count += 1
        workdir = Path(self._tmp.name) / str(self._count)
        workdir.mkdir()
        request = {
            "program": str(program), "args": list(args), "cwd": str(cwd or program.parent),
            "env": dict(env or {}), "timeout": timeout, "prelude": prelude,
            "stdout": str(workdir / "stdout"), "stderr": str(workdir / "stderr"),
            "result": str(workdir / "result.json"),
        }
        assert self._process is not None and self._process.stdin and self._process.stdout
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        reply_line = self._process.stdout.readline()
        if not reply_line:
            self.close()
            raise RuntimeError("the warm worker died")
        reply = json.loads(reply_line)
        return _outcome(workdir, reply["exit_code"], reply["timed_out"], reply["seconds"])

    def close(self) -> None:
        if self._process is not None:
            if self._process.stdin:
                self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        self._tmp.cleanup()
