"""`tffix run`: run a command; when it fails, explain why and, when asked, apply the fixes, run the command
again, and keep them only if the run then succeeds; otherwise every file is restored byte for byte
(`tffix.verify.swapped_contents`). Returns values; what it has to say goes through the caller's callbacks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .execution import DEFAULT_TIMEOUT, RunOutcome, run_command
from .explain import Explanation, explain_outcome
from .runner import display_path
from .source import SourceText, atomic_write, decode_source
from .verify import swapped_contents


MAX_FIX_ROUNDS = 3


@dataclass(frozen=True)
class Attempt:
    """One run of the command with fixes swapped in."""

    files: tuple[str, ...]
    outcome: RunOutcome
    explanation: Explanation | None = None  # of its failure, when it failed


@dataclass(frozen=True)
class RunResult:
    first: RunOutcome
    explanation: Explanation | None = None
    attempts: tuple[Attempt, ...] = ()
    kept: tuple[str, ...] = ()  # files written with the fixes
    restored: tuple[str, ...] = ()  # files put back byte for byte
    notes: tuple[str, ...] = field(default=())

    @property
    def exit_code(self) -> int:
        if self.kept:
            return 0
        return command_exit_code(self.first)


def command_exit_code(outcome: RunOutcome) -> int:
    if outcome.timed_out or outcome.exit_code is None:
        return 124  # as timeout(1)
    if outcome.exit_code < 0:
        return 128 - outcome.exit_code  # killed by a signal, as shells report it
    return outcome.exit_code


def run_and_fix(
    command: Sequence[str],
    *,
    cwd: Path | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,  # None: no limit
    fix: bool = False,
    unsafe: bool = False,
    execute: Callable[[], RunOutcome] | None = None,
    on_explanation: Callable[[Explanation], None] = lambda explanation: None,
    notify: Callable[[str], None] = lambda message: None,
    stream: bool = True,
) -> RunResult:
    """Run `command`; on failure explain it, and with `fix` try the fixes as described in the module doc.

    `execute` runs the command (by default `run_command` in `cwd`, streaming its output); each call must
    run it afresh. Fixes are tried in rounds: a run that fails again with another failure tffix can fix
    gets that fix too (at most MAX_FIX_ROUNDS runs with fixes). Files are written only if a run succeeds.
    """
    root = (cwd or Path.cwd()).resolve()
    if execute is None:
        def execute() -> RunOutcome:
            return run_command(command, cwd=root, timeout=timeout, stream=stream)  # type: ignore[arg-type]

    first = execute()
    if first.ok:
        return RunResult(first)
    if first.timed_out:
        notify(f"tffix: the command timed out after {first.seconds:.0f}s; nothing to explain.")
        return RunResult(first)
    explanation = explain_outcome(first, root, unsafe=unsafe)
    on_explanation(explanation)
    if not fix or explanation.status != "fixed":
        return RunResult(first, explanation)

    originals: dict[Path, bytes] = {}
    sources: dict[Path, SourceText] = {}
    texts: dict[Path, str] = {}
    attempts: list[Attempt] = []
    notes: list[str] = []
    current = explanation
    for _ in range(MAX_FIX_ROUNDS):
        changed = False
        for file_fix in current.fixes:
            file = file_fix.file
            if file not in originals:
                originals[file] = file.read_bytes()
                sources[file] = decode_source(originals[file])
            new_text = file_fix.result.fixed_source
            if texts.get(file, sources[file].text) != new_text:
                texts[file] = new_text
                changed = True
        if not changed:
            break
        new_bytes = {file: sources[file].encode(text) for file, text in texts.items()}
        shown = tuple(display_path(file) for file in new_bytes)
        notify(f"tffix: running the command again with the fixes in {', '.join(shown)}")
        with swapped_contents(new_bytes):
            outcome = execute()
        if outcome.ok:
            kept = []
            for file, data in new_bytes.items():
                if file.read_bytes() != originals[file]:
                    notes.append(f"{display_path(file)} changed while the command ran; the fix was not written")
                    continue
                atomic_write(file, data)
                kept.append(display_path(file))
            attempts.append(Attempt(shown, outcome))
            return RunResult(first, explanation, tuple(attempts), tuple(kept), (), tuple(notes))
        current = explain_outcome(outcome, root, unsafe=unsafe, overrides=texts)
        attempts.append(Attempt(shown, outcome, current))
        on_explanation(current)
        if current.status != "fixed":
            break
    restored = []
    for file, data in originals.items():
        if file.read_bytes() != data:  # swapped_contents puts them back; make sure of it
            atomic_write(file, data)
        restored.append(display_path(file))
    return RunResult(first, explanation, tuple(attempts), (), tuple(restored), tuple(notes))
