"""The command-line front end of the repair loop: `tffix repair FILE` and the fallback of `tffix run --fix`
(when no rule's fix cured the command). Prints progress and outcomes on stderr, the diff on stdout."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from ..runner import display_path
from ..source import SourceError
from .search import RepairResult, command_executor, program_executor, repair_file


def _say(message: str) -> None:
    sys.stderr.write(message if message.endswith("\n") else message + "\n")
    sys.stderr.flush()


def _outcome_line(result: RepairResult, which: str) -> str:
    if which == "before":
        crash = result.first.record.get("crash") or {}
        where = f" at {display_path(result.file)}:{crash['line']}" if crash.get("line") else ""
        return f"  before: {result.first.outcome.summary()}{where}"
    trial = result.trials[-1]
    outcome = trial.observed.outcome
    summary = outcome.summary()
    if outcome.timed_out and trial.observed.passed:
        summary = f"ran past the line that crashed and was still running cleanly after {outcome.seconds:.0f}s"
    trained = [c for c in trial.observed.record.get("calls", []) if c["api"] == "fit"]
    extra = ""
    if trained:
        call = trained[0]
        shape = (call["args"].get("x") or {}).get("shape") if isinstance(call["args"].get("x"), dict) else None
        losses = call.get("losses") or []
        if shape:
            extra += f"; trained on {shape[0]} examples"
        if losses:
            extra += f", final loss {losses[-1]:.4g}" if isinstance(losses[-1], float) else f", loss {losses[-1]}"
    return f"  after:  {summary}{extra}"


def report(result: RepairResult, *, write: bool) -> int:
    shown = display_path(result.file)
    status = result.status
    if status == "no-crash":
        _say(f"tffix: {shown} ran without a crash ({result.first.outcome.summary()}); nothing to repair.")
        return 0
    if status == "not-localised":
        _say(f"tffix: {result.first.outcome.summary()}; {result.note}; no repair tried.")
        return 1
    if status == "no-candidate":
        _say(f"tffix: {result.first.outcome.summary()} at {shown}:{result.crash.line}; "  # type: ignore[union-attr]
             "no repair pattern matches what the program had there.")
        return 1
    if status == "no-repair":
        _say(f"tffix: none of the {len(result.trials)} candidate repairs cured the crash "
             f"({result.seconds:.1f}s); {shown} is unchanged, byte for byte:")
        for trial in result.trials:
            _say(f"  {trial.candidate.title}: {trial.verdict}")
        return 1
    _say(f"tffix: repaired ({' + '.join(c.title for c in result.repairs)}), proven by a re-run "
         f"in {result.seconds:.1f}s after {len(result.trials)} tr{'y' if len(result.trials) == 1 else 'ies'}:")
    _say(_outcome_line(result, "before"))
    _say(_outcome_line(result, "after"))
    sys.stdout.write(result.diff)
    sys.stdout.flush()
    if result.written:
        _say(f"tffix: written to {shown}.")
    elif not write:
        _say("tffix: nothing written; --write (tffix repair) or --fix (tffix run) writes it.")
    return 0


def repair_cli(file: Path, args: Sequence[str], *, write: bool, timeout: float | None) -> int:
    """`tffix repair FILE [-- ARGS]`: 0 repaired (or nothing to repair), 1 no repair, 2 bad input."""
    if not file.is_file():
        _say(f"tffix: error: {file}: no such file")
        return 2
    file = file.resolve()
    try:
        result = repair_file(file, program_executor(file, tuple(args), cwd=Path.cwd()), timeout=timeout or 600.0,
                             write=write, notify=_say)
    except SourceError as exc:
        _say(f"tffix: error: {exc}")
        return 2
    return report(result, write=write)


def repair_command(command: Sequence[str], file: Path, *, cwd: Path, timeout: float | None) -> int | None:
    """`tffix run --fix`'s repair loop: the command re-run with the observer, `file` repaired and written only
    when a re-run proves it. The command's exit code after the repair (0), or None when not repaired."""
    _say(f"tffix: looking at the shapes {display_path(file)} really has (running the command with an observer)")
    try:
        result = repair_file(file, command_executor(tuple(command), cwd), timeout=timeout or 600.0, write=True,
                             notify=_say)
    except SourceError as exc:
        _say(f"tffix: {exc}")
        return None
    code = report(result, write=True)
    return 0 if result.status == "repaired" and code == 0 else None
