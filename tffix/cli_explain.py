"""The command-line front end of `tffix explain` and `tffix run` (called by `tffix.cli`): reads the input,
prints, and returns the exit code. Everything below it returns values."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .explain import Explanation, explain_text
from .explain_render import render_text, to_json, why_not_cured
from .rerun import run_and_fix


def explain_cli(log: Path | None, *, json_output: bool, root: Path | None, unsafe: bool) -> int:
    """`tffix explain [LOG]`: 0 explained with a fix, 1 recognised (or not) but no fix, 2 bad input."""
    try:
        if log is None or str(log) == "-":
            text = sys.stdin.buffer.read().decode("utf-8", errors="replace")
        else:
            text = log.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        sys.stderr.write(f"tffix: error: {log}: cannot read: {exc.strerror or exc}\n")
        return 2
    if root is not None and not root.is_dir():
        sys.stderr.write(f"tffix: error: --root {root}: not a directory\n")
        return 2
    explanation = explain_text(text, root, unsafe=unsafe)
    hints = _repair_hints(explanation)
    if json_output:
        document = to_json(explanation)
        document["repair_patterns"] = [{"pattern": h.pattern, "why": h.why} for h in hints]
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        rendered = render_text(explanation)
        if hints:
            from .repair.localise import hint_text
            from .runner import display_path

            frame = explanation.frames[0] if explanation.frames else None
            rendered += hint_text(explanation.error.message, display_path(frame.file) if frame else None)  # type: ignore[union-attr]
        (sys.stderr if explanation.status == "no-failure" else sys.stdout).write(rendered)
    return explanation.exit_code


def _repair_hints(explanation: Explanation) -> list:
    """The repair patterns (tffix.repair) that fit an error no rule fixed: the run with the observer decides."""
    if explanation.status in ("fixed", "no-failure") or explanation.error is None:
        return []
    from .repair.localise import patterns_for

    return patterns_for(explanation.error.message)


def run_cli(command: Sequence[str], *, fix: bool, timeout: float | None, unsafe: bool) -> int:
    """`tffix run [--fix] -- COMMAND...`: the command's output streams through; tffix's own report goes to
    stderr after it. The exit code is the command's (0 when the fixes made it succeed)."""
    def say(message: str) -> None:
        sys.stderr.write(message if message.endswith("\n") else message + "\n")
        sys.stderr.flush()

    def show(explanation: Explanation) -> None:
        if explanation.status == "no-failure":
            return  # said below, with the command's outcome
        say("\n" + "-" * 30 + " tffix " + "-" * 30)
        say(render_text(explanation, fix_hint=not fix))

    if not command:
        say("tffix: error: no command to run (tffix run -- python train.py ...)")
        return 2
    result = run_and_fix(
        command, cwd=Path.cwd(), timeout=timeout, fix=fix, unsafe=unsafe, on_explanation=show, notify=say,
    )
    if result.first.exit_code == 127 and result.first.stderr.startswith("cannot run"):
        say(f"tffix: error: {result.first.stderr.strip()}")
        return 127
    for note in result.notes:
        say(f"tffix: {note}")
    if result.explanation is not None and result.explanation.status == "no-failure":
        say(f"tffix: the command {result.first.summary()}; its output shows no Python traceback or "
            "TensorFlow error to explain.")
    if result.kept:
        say(f"tffix: the command succeeded with the fixes; written to {', '.join(result.kept)}.")
    elif result.restored:
        why = why_not_cured(result)
        say(f"tffix: the fixes did not make the command succeed: {why}. "
            f"Restored {', '.join(result.restored)} byte for byte; nothing changed.")
    elif fix and result.explanation is not None and result.explanation.status != "fixed":
        say("tffix: no rule's fix to try.")
    if fix and not result.kept and not result.first.ok and not result.first.timed_out:
        # No rule cured it: the repair loop, driven by the shapes the program really has (tffix.repair).
        from .repair.cli import repair_command

        files = [f.file for f in (result.explanation.frames if result.explanation else ()) if f.file.suffix == ".py"]
        if files and repair_command(command, files[0], cwd=Path.cwd(), timeout=timeout) == 0:
            return 0
    return result.exit_code
