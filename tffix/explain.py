"""From the error to the rule and the fix: the engine-level part of `tffix explain` and `tffix run`.

Users arrive with an error, not a rule code. `explain_text` takes a traceback or a log (parsed by
`tffix.tracebacks`), recognises the TensorFlow failure in it (`tffix.families`), finds the frames that belong
to the user's own files, runs the rules that can cause that failure on them, and returns an `Explanation`: the
finding at (or nearest to) the user's line with the fix. Nothing here prints: `tffix.explain_render` turns an
Explanation into text or JSON, `tffix.rerun` runs a command and tries the fixes, `tffix.cli_explain` prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .config import ConfigError, Settings, load_settings
from .diff import unified_diff
from .engine import Engine
from .execution import RunOutcome
from .families import Family, families, recognise
from .model import Finding, FixResult
from .registry import rule_by_code
from .runner import display_path
from .source import SourceError, SourceText, decode_source, read_source
from .tracebacks import Failure, Frame, RaisedError, loose_failure, parse_log, user_file


# --- what an explanation holds ---------------------------------------------------------------------------
@dataclass(frozen=True)
class UserFrame:
    frame: Frame
    file: Path  # resolved, on disk
    relocated: bool = False  # the log named another path (another machine's); this file has its tail


@dataclass(frozen=True)
class Located:
    """A finding of a candidate rule, with how far it is from the traceback's lines in its file."""

    finding: Finding
    file: Path
    distance: int  # lines to the nearest frame line in this file; 0: the frame's line is in the finding
    frame: UserFrame


@dataclass(frozen=True)
class FileFix:
    file: Path
    shown: str
    source: SourceText  # the text the fix starts from (the file's, or an override)
    result: FixResult
    diff: str


@dataclass(frozen=True)
class Explanation:
    failure: Failure | None = None
    error: RaisedError | None = None
    family: Family | None = None
    frames: tuple[UserFrame, ...] = ()  # the user's frames, most relevant first
    located: tuple[Located, ...] = ()  # most relevant first
    fixes: tuple[FileFix, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        if self.failure is None:
            return "no-failure"
        if self.family is None:
            return "unrecognised"
        if any(fix.diff for fix in self.fixes):
            return "fixed"
        return "finding" if self.located else "recognised"

    @property
    def exit_code(self) -> int:
        return {"fixed": 0, "no-failure": 2}.get(self.status, 1)

    @property
    def finding(self) -> Located | None:
        return self.located[0] if self.located else None

    @property
    def diff(self) -> str:
        return "".join(fix.diff for fix in self.fixes)


# --- explaining ------------------------------------------------------------------------------------------
def explain_text(
    text: str,
    root: Path | None = None,
    *,
    unsafe: bool = False,
    settings: Settings | None = None,
    overrides: Mapping[Path, str] | None = None,
) -> Explanation:
    """Explain the failure in `text` (a traceback or a whole log).

    `root` is where relative paths (and files named by another machine's paths) are looked up. `overrides`
    gives the current text of files whose contents differ from the disk (a fix being tried).
    """
    root = (root or Path.cwd()).resolve()
    failures = parse_log(text)
    known = recognise(failures)
    if known is None and not failures:
        for family in families():
            loose = loose_failure(text, family.pattern)
            if loose is not None and family.matches(loose.raised, loose):
                known = (loose, loose.raised, family)
                break
    if known is None:
        if not failures:
            return Explanation()
        return Explanation(failures[-1], failures[-1].raised, None, _user_frames(failures[-1], root))
    failure, error, family = known
    frames = _user_frames(failure, root)
    notes: list[str] = []
    missing = [code for code in family.codes if rule_by_code(code) is None]
    if missing:
        notes.append(f"rules not in this tffix yet: {', '.join(missing)}")
    if not family.codes or not frames:
        return Explanation(failure, error, family, frames, notes=tuple(notes))
    located: list[Located] = []
    fixes: list[FileFix] = []
    overrides = {Path(p).resolve(): t for p, t in (overrides or {}).items()}
    for file in dict.fromkeys(frame.file for frame in frames):
        shown = display_path(file)
        try:
            source = _with_encoding(file, overrides[file]) if file in overrides else read_source(file)
        except SourceError as exc:
            notes.append(f"{shown}: {exc}")
            continue
        engine = Engine(_settings_for(file, family.codes, settings, notes))
        allow_unsafe = unsafe or engine.settings.unsafe_fixes
        result = engine.check(source.text, shown)
        notes.extend(str(problem) for problem in result.problems)
        in_file = [frame for frame in frames if frame.file == file]
        for finding in result.findings:
            distance, frame = min(
                ((_distance(finding, f.frame.line), f) for f in in_file), key=lambda pair: pair[0]
            )
            located.append(Located(finding, file, distance, frame))
        if any(f.fixable for f in result.findings):
            fixed = engine.fix(source.text, shown, unsafe=allow_unsafe)
            if fixed.changed:
                fixes.append(FileFix(file, shown, source, fixed, unified_diff(fixed.source, fixed.fixed_source, shown)))
    rank = {frame: index for index, frame in enumerate(frames)}
    order = {code: index for index, code in enumerate(family.codes)}
    # Findings with a fix first (explain leads to a fix; the others are listed after it); then those on the
    # traceback's line; then the rule that most directly causes this failure (the family's order), nearest
    # first: a silent-bug warning one line away must not hide the rule that makes the program raise.
    located.sort(key=lambda l: (l.finding.fix is None, l.distance > 0, order.get(l.finding.code, 99), l.distance,
                                rank[l.frame], l.finding.start))
    return Explanation(failure, error, family, frames, tuple(located), tuple(fixes), tuple(notes))


def _with_encoding(file: Path, text: str) -> SourceText:
    """An override's text, with the encoding (and BOM) of the file on disk so that it encodes back the same."""
    try:
        original = decode_source(file.read_bytes())
    except (OSError, SourceError):
        return SourceText(text)
    return replace(original, text=text)


def _settings_for(file: Path, codes: Sequence[str], settings: Settings | None, notes: list[str]) -> Settings:
    if settings is None:
        try:
            settings = load_settings(file.parent)
        except ConfigError as exc:
            notes.append(f"ignoring the configuration: {exc}")
            settings = Settings()
    return replace(settings, select=tuple(codes))


def _user_frames(failure: Failure, root: Path) -> tuple[UserFrame, ...]:
    """The user's own frames, most relevant first: where TensorFlow says the failing op was built (innermost
    first), then the traceback's frames, innermost first, from the exception that escaped backwards."""
    graph = [f for error in reversed(failure.errors) for f in reversed(error.graph_frames)]
    raised = [f for error in reversed(failure.errors) for f in reversed(error.frames)]
    found: dict[tuple[Path, int | None], UserFrame] = {}
    for frame in (*graph, *raised):
        located = user_file(frame.path, root)
        if located is None:
            continue
        path, relocated = located
        found.setdefault((path, frame.line), UserFrame(frame, path, relocated))
    return tuple(found.values())


def _distance(finding: Finding, line: int | None) -> int:
    if line is None:
        return 1_000_000
    if finding.start.line <= line <= finding.end.line:
        return 0
    return min(abs(finding.start.line - line), abs(finding.end.line - line))


def explain_outcome(
    outcome: RunOutcome, root: Path, *, unsafe: bool = False, overrides: Mapping[Path, str] | None = None,
) -> Explanation:
    """Explain a failed run from its stderr (where Python prints tracebacks), else from its stdout."""
    explanation = explain_text(outcome.stderr, root, unsafe=unsafe, overrides=overrides)
    if explanation.status in ("no-failure", "unrecognised") and outcome.stdout.strip():
        other = explain_text(outcome.stdout, root, unsafe=unsafe, overrides=overrides)
        if other.status not in ("no-failure", "unrecognised") or explanation.status == "no-failure":
            return other
    return explanation
