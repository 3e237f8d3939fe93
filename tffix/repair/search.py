"""The repair loop: observe the crashing program, propose candidate edits (`tffix.repair.patterns`), try each on
the file with a re-run, and keep the first that cures the crash without a new error and without changing what
the program trains on. The user's file is swapped only while a candidate runs (`tffix.verify.swapped_contents`
restores its bytes, even on Ctrl-C), and written for good only when the caller asks (`write`).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..diff import unified_diff
from ..execution import RunOutcome
from ..runner import display_path
from ..source import SourceError, atomic_write, decode_source
from ..verify import swapped_contents
from .crash import Candidate, Crash
from .patterns import propose
from .source import Source, apply_edits, shifted_line

# Runs the program once with the given extra environment (the observer's settings) and returns its outcome.
Execute = Callable[[Mapping[str, str], float], RunOutcome]

MAX_CANDIDATES = 8  # per round
MAX_ROUNDS = 3
MAX_TRIALS = 16


def _headline(crash: Crash) -> str:
    lines = [line for line in crash.message.splitlines() if line.strip()]
    return crash.name + ": " + (lines[0] if lines else "")


@dataclass(frozen=True)
class Observed:
    outcome: RunOutcome
    record: dict  # the observer's record ({} when it wrote none)

    @property
    def passed(self) -> bool:
        return bool(self.record.get("passed"))

    @property
    def crashed(self) -> bool:
        return self.record.get("crash") is not None


@dataclass(frozen=True)
class Trial:
    candidate: Candidate
    observed: Observed
    verdict: str  # "cured", or why not


@dataclass
class RepairResult:
    file: Path
    first: Observed
    crash: Crash | None = None
    candidates: tuple[Candidate, ...] = ()  # the first round's
    trials: list[Trial] = field(default_factory=list)
    repairs: tuple[Candidate, ...] = ()  # the edits that cured it, in the order they were found
    repaired_text: str | None = None
    diff: str = ""
    written: bool = False
    seconds: float = 0.0
    note: str = ""

    @property
    def repaired(self) -> Candidate | None:
        return self.repairs[-1] if self.repairs else None

    @property
    def status(self) -> str:
        if self.first.outcome.ok:
            return "no-crash"
        if self.crash is None:
            return "not-localised"
        if self.repairs:
            return "repaired"
        return "no-repair" if self.candidates else "no-candidate"


def observe(execute: Execute, file: Path, timeout: float, extra: Mapping[str, str] | None = None) -> Observed:
    with tempfile.TemporaryDirectory(prefix="tffix-observe-") as tmp:
        out = Path(tmp) / "observed.json"
        env = {"TFFIX_OBSERVE": str(out), "TFFIX_OBSERVE_FILES": str(file), **(extra or {})}
        outcome = execute(env, timeout)
        try:
            record = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            record = {}
    return Observed(outcome, record)


def repair_file(
    file: Path,
    execute: Execute,
    *,
    timeout: float = 300.0,
    write: bool = False,
    first: Observed | None = None,
    notify: Callable[[str], None] = lambda message: None,
) -> RepairResult:
    """Observe `file`'s program (run by `execute`), and search for a repair as the module doc says."""
    started = time.monotonic()
    file = file.resolve()
    try:
        original = file.read_bytes()
        decoded = decode_source(original)
    except (OSError, SourceError) as exc:
        raise SourceError(f"{file}: {exc}") from None
    first = first or observe(execute, file, timeout)
    result = RepairResult(file, first)
    if first.outcome.ok:
        result.seconds = time.monotonic() - started
        return result
    crash = Crash.from_record(first.record, file)
    result.crash = crash
    if crash is None:
        result.note = "the crash is not at a line of this file" if first.record.get("crash") else \
            "the observer saw no crash (the command may not run this file)"
        result.seconds = time.monotonic() - started
        return result
    text = decoded.text
    try:
        Source(text)
    except Exception as exc:  # noqa: BLE001 - libcst's ParserSyntaxError and the like
        result.note = f"cannot parse {display_path(file)}: {exc}"
        return result
    budget = max(30.0, 3 * first.outcome.seconds)
    if timeout:
        budget = min(budget, timeout)
    # Best first, in rounds: a candidate that moves the crash on (to a later line, or another error at the same
    # line) is the start of the next round, for programs with more than one thing wrong (or one wrong twice).
    frontier: list[tuple[str, Crash, tuple[Candidate, ...]]] = [(text, crash, ())]
    trials = 0
    for _ in range(MAX_ROUNDS):
        progress: list[tuple[str, Crash, tuple[Candidate, ...]]] = []
        for state_text, state_crash, applied in frontier:
            candidates = propose(Source(state_text), state_crash)[:MAX_CANDIDATES]
            if not applied:
                result.candidates = tuple(candidates)
            for candidate in candidates:
                if trials >= MAX_TRIALS:
                    break
                try:
                    new_text = apply_edits(state_text, candidate.edits)
                    Source(new_text)
                except Exception:  # noqa: BLE001 - an edit that does not parse is no candidate
                    continue
                trials += 1
                line = shifted_line(state_text, candidate.edits, state_crash.line)
                notify(f"tffix: trying: {candidate.title}")
                with swapped_contents({file: decoded.encode(new_text)}):
                    observed = observe(execute, file, budget, {"TFFIX_REPAIR_STOP": f"{file}:{line}"})
                verdict = judge(first, observed, file, line)
                result.trials.append(Trial(candidate, observed, verdict))
                if verdict == "cured":
                    result.repairs = (*applied, candidate)
                    result.repaired_text = new_text
                    result.diff = unified_diff(text, new_text, display_path(file))
                    break
                moved = Crash.from_record(observed.record, file)
                if moved is not None and (moved.line > line or (
                        moved.line == line and _headline(moved) != _headline(state_crash))):
                    progress.append((new_text, moved, (*applied, candidate)))
            if result.repairs:
                break
        if result.repairs or not progress:
            break
        frontier = progress[:2]
    if file.read_bytes() != original:  # swapped_contents restores it; make sure, byte for byte
        atomic_write(file, original)
    if write and result.repaired_text is not None:
        atomic_write(file, decoded.encode(result.repaired_text))
        result.written = True
    result.seconds = time.monotonic() - started
    return result


def judge(first: Observed, observed: Observed, file: Path, line: int) -> str:
    """'cured' when the re-run ended cleanly (or was still running cleanly past the old crash when its time was
    up) and trained on what the original would have; otherwise why not."""
    outcome = observed.outcome
    if observed.crashed or not (outcome.ok or (outcome.timed_out and observed.passed)):
        crash = observed.record.get("crash") or {}
        if crash:
            message = (crash.get("message") or "").strip().splitlines()
            same = crash.get("line") == line and Path(crash.get("file") or "").resolve() == file
            where = "the same line" if same else f"line {crash.get('line')}"
            return f"{'still fails' if same else 'fails'} at {where}: {crash['exception'].rsplit('.', 1)[-1]}" + (
                f": {message[0][:160]}" if message else "")
        return outcome.summary()
    # the observable: as many training examples as before, finite losses
    def fits(record: dict) -> list[dict]:
        return [c for c in record.get("calls", []) if c["api"] == "fit" and Path(c["file"]).resolve() == file]

    for call in fits(observed.record):
        for loss in call.get("losses", []):
            if not isinstance(loss, float) or not math.isfinite(loss):
                return f"the loss is not finite ({loss})"
    before, after = fits(first.record), fits(observed.record)
    for old, new in zip(before, after):
        n_old, n_new = _examples(old), _examples(new)
        if n_old is not None and n_new is not None and n_old != n_new:
            return f"it trains on {n_new} examples instead of {n_old}"
    for call in observed.record.get("calls", []):
        if call["api"] == "run":
            for value in call.get("scalars", []):
                if not isinstance(value, float) or not math.isfinite(value):
                    return f"a value the session returned is not finite ({value})"
    return "cured"


def _examples(call: dict) -> int | None:
    shape = (call["args"].get("x") or {}).get("shape") if isinstance(call["args"].get("x"), dict) else None
    return shape[0] if shape else None


# --- how programs are run -----------------------------------------------------------------------------------
def program_executor(program: Path, args: tuple[str, ...] = (), runner=None, cwd: Path | None = None) -> Execute:
    """Runs `program` with the observer as a tffix._exec prelude: in `runner` (a WarmRunner) or cold."""
    from ..execution import run_program
    from .observe import PRELUDE

    def execute(env: Mapping[str, str], timeout: float) -> RunOutcome:
        if runner is not None:
            return runner.run(program, args, cwd=cwd, timeout=timeout, env=env, prelude=PRELUDE)
        return run_program(program, args, cwd=cwd, timeout=timeout, env=env, prelude=PRELUDE)

    return execute


def command_executor(command: tuple[str, ...], cwd: Path, stream: bool = False) -> Execute:
    """Runs any command with the observer loaded by a `sitecustomize` on PYTHONPATH (for `tffix run --fix`)."""
    from ..execution import run_command
    from .observe import SITECUSTOMIZE

    site = Path(tempfile.mkdtemp(prefix="tffix-site-"))
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    package_root = str(Path(__file__).resolve().parents[2])

    def execute(env: Mapping[str, str], timeout: float) -> RunOutcome:
        path = os.pathsep.join(p for p in (str(site), package_root, os.environ.get("PYTHONPATH", "")) if p)
        return run_command(command, cwd=cwd, timeout=timeout, env={**env, "PYTHONPATH": path}, stream=stream)

    return execute
