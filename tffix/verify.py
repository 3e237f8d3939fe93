"""`tffix verify`: prove the fixes on the user's own program by running it before and after.

The fixed text is swapped into the file only for the duration of the after-run (so imports, `__file__` and
relative paths behave exactly as in the user's own runs), with a backup beside it, and the original bytes
are put back in a `finally`, on Ctrl-C and on SIGTERM. Nothing stays written unless the caller asks for it
and the after-run succeeded.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .engine import Engine
from .execution import DEFAULT_TIMEOUT, RunOutcome, run_command, run_program
from .model import FixResult
from .source import SourceError, atomic_write, read_source, too_large, write_file


@dataclass(frozen=True)
class VerifyResult:
    fix: FixResult
    before: RunOutcome | None = None
    after: RunOutcome | None = None
    written: bool = False


def backup_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tffix-backup")


@contextlib.contextmanager
def swapped_contents(files: dict[Path, bytes]) -> Iterator[None]:
    """Temporarily replace each file's bytes; restore them exactly, even on Ctrl-C or SIGTERM.

    A backup of each original sits beside it until it is restored, so that even a SIGKILL loses nothing.
    """
    originals = {path: path.read_bytes() for path in files}
    previous_handler = signal.getsignal(signal.SIGTERM)

    def terminate(signum, frame):  # turn SIGTERM into an exception so the finally below runs
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread: the finally still covers exceptions
        previous_handler = None
    swapped: list[Path] = []
    try:
        for path, data in files.items():
            atomic_write(backup_path(path), originals[path])
            atomic_write(path, data)
            swapped.append(path)
        yield
    finally:
        for path in swapped:
            atomic_write(path, originals[path])
            backup_path(path).unlink(missing_ok=True)
        for path in files:
            if path not in swapped:
                backup_path(path).unlink(missing_ok=True)
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)


def verify(
    path: Path,
    engine: Engine,
    *,
    command: Sequence[str] | None = None,
    unsafe: bool = False,
    write: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Callable[[str], None] | None = None,
) -> VerifyResult:
    """Fix `path` in memory, run the program (or `command`) before and after, and write only on success.
    `progress` is told each phase as it starts (the runs take as long as the program: the CLI shows them)."""
    say = progress or (lambda text: None)
    limit = engine.settings.max_file_size
    if path.stat().st_size > limit:
        raise SourceError(too_large(path.stat().st_size, limit))
    source = read_source(path)
    say(f"finding the fixes for {path}")
    fixed = engine.fix(source.text, str(path), unsafe=unsafe)
    if not fixed.changed:
        return VerifyResult(fixed)
    shown = " ".join(command) if command else f"python {path}"

    def execute() -> RunOutcome:
        if command:
            return run_command(command, cwd=Path.cwd(), timeout=timeout)
        return run_program(path, cwd=Path.cwd(), timeout=timeout)

    say(f"{len(fixed.applied)} fix{'es' * (len(fixed.applied) != 1)}; running `{shown}` before them")
    before = execute()
    new_bytes = source.encode(fixed.fixed_source)
    say(f"running `{shown}` with the fixes in place")
    with swapped_contents({path: new_bytes}):
        after = execute()
    written = False
    if write and after.ok:
        write_file(path, new_bytes, expected=source.encode())
        written = True
    return VerifyResult(fixed, before, after, written)
