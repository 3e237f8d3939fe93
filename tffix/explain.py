"""From the error to the fix: `tffix explain` (a log or traceback) and `tffix run` (a failing command).

Users arrive with an error, not a rule code. This module recognises the TensorFlow failure in a traceback
(the messages recorded in shared/tf-behaviour.md), maps it to the rules that can cause it, finds the frames
that belong to the user's own files, runs those rules on them, and returns the finding at (or nearest to)
the user's line with the diff that fixes it. `run_and_fix` runs a command, explains its failure and, when
asked, applies the fixes, runs the command again, and keeps them only if the run then succeeds; otherwise
every file is restored byte for byte (`tffix.verify.swapped_contents`).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from .config import ConfigError, Settings, load_settings
from .diff import unified_diff
from .engine import Engine
from .execution import DEFAULT_TIMEOUT, RunOutcome, run_command
from .model import Applicability, Finding, FixResult
from .registry import rule_by_code
from .runner import display_path
from .source import SourceError, SourceText, atomic_write, decode_source, read_source
from .tracebacks import Failure, Frame, RaisedError, loose_failure, parse_log, user_file
from .verify import swapped_contents


# --- the failures tffix knows ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Family:
    """A kind of TensorFlow failure: how to recognise it, what it means, which rules can cause it."""

    key: str
    title: str
    explanation: str
    codes: tuple[str, ...]
    pattern: re.Pattern
    exception: str | None = None  # the bare exception class the failure must have, when the text alone is vague
    frame_hint: re.Pattern | None = None  # must match a frame's path or function (e.g. TPU code in the stack)

    def matches(self, error: RaisedError, failure: Failure) -> bool:
        if self.exception is not None and error.name != self.exception:
            return False
        if not self.pattern.search(error.message):
            return False
        if self.frame_hint is None:
            return True
        return any(self.frame_hint.search(f"{frame.path} {frame.function or ''}") for frame in failure.frames())


def _family(key: str, title: str, explanation: str, codes: Sequence[str], pattern: str, **extra) -> Family:
    hint = extra.pop("frame_hint", None)
    return Family(
        key, title, " ".join(explanation.split()), tuple(codes), re.compile(pattern),
        frame_hint=re.compile(hint) if hint else None, **extra,
    )


# Most specific first: the first family that matches names the failure.
FAMILIES: tuple[Family, ...] = (
    _family(
        "cannot-assign-device", "An op is pinned to a device this machine does not have",
        """The program pins operations to a device with `tf.device(...)` (a GPU or TPU) that this machine
        does not have, and soft placement is off, so TensorFlow refuses to run them on a device it does have.
        In TF1 graph mode a plain `tf.Session()` has soft placement off; a session config with
        `allow_soft_placement=True`, or `tf.config.set_soft_device_placement(True)`, lets TensorFlow fall back
        to the CPU.""",
        ("TFX101", "TFX102", "TFX203"), r"Cannot assign a device for operation",
    ),
    _family(
        "device-specification", "Soft device placement is off and the requested device does not exist",
        """An op asks for a device (a GPU or TPU) that this machine does not have, and soft device placement
        was switched off (`tf.config.set_soft_device_placement(False)`, or a session config with
        `allow_soft_placement=False`), so TensorFlow does not fall back to a device it has.""",
        ("TFX102", "TFX101", "TFX203"),
        r"Could not satisfy (?:explicit )?device specification|Unable to find any devices for spec",
    ),
    _family(
        "target-output-shape", "The loss got targets and model outputs of different shapes",
        """A Keras loss compares each model output with a target of the same shape. Most often a binary
        classifier's last layer has 2 units (`Dense(2)`) while its labels have one column: a binary head
        trained with a binary cross-entropy has 1 unit; or one-hot targets were made with a `tf.one_hot` depth
        other than the number of classes the model outputs.""",
        ("TFX301", "TFX307", "TFX302"), r"Arguments `?target`? and `?output`? must have the same (?:shape|rank)",
    ),
    _family(
        "logits-labels-shape", "Logits and labels have different shapes",
        """A sigmoid cross-entropy got logits and labels of different shapes. Unlike Keras losses, the raw
        `tf.nn` ops do not align ranks: labels of shape (batch,) against logits of shape (batch, 1) fail, as
        do (batch, 1) labels against a 2-unit head's (batch, 2) logits.""",
        ("TFX302", "TFX301"), r"`?logits`? and `?labels`? must have the same shape",
    ),
    _family(
        "sparse-labels-rank", "Sparse labels have the logits' rank",
        """A sparse cross-entropy takes one class index per example: labels of shape (batch,) for logits of
        shape (batch, classes). Labels of shape (batch, 1) have one dimension too many for the raw `tf.nn` op.""",
        ("TFX302",), r"`?labels.shape.rank`? must equal `?logits.shape.rank - 1`?",
    ),
    _family(
        "logits-labels-broadcastable", "One-hot labels and logits have different numbers of classes",
        """A softmax cross-entropy got labels and logits whose class dimensions differ: the depth given to
        `tf.one_hot` must be the number of classes the model outputs.""",
        ("TFX307", "TFX302", "TFX301"), r"logits and labels must be broadcastable",
    ),
    _family(
        "matmul-inner-dimensions", "A matrix product's inner dimensions differ",
        """`tf.matmul(a, b)` needs the last dimension of `a` to equal the first (non-batch) dimension of `b`;
        here they differ. A weight matrix built with its dimensions swapped, or an input that is not the
        width the layer expects, are the usual causes.""",
        ("TFX305",),
        r"Matrix size-incompatible|Dimensions must be equal, but are \d+ and \d+ for '[^']*= (?:Batch)?MatMul",
    ),
    _family(
        "dtype-mismatch", "An operation mixes integer and float tensors",
        """An operation got an integer tensor and a float tensor. TensorFlow never converts dtypes between
        operands: cast one of them (usually the integer one, to the float dtype) first.""",
        ("TFX303",),
        r"was expected to be a \w+ tensor but is a \w+ tensor|has type \w+ that does not match type \w+"
        r"|Tensor conversion requested dtype \w+ for Tensor with dtype \w+|must have the same dtype, got",
    ),
    _family(
        "sparse-label-out-of-range", "A sparse label is not a valid class index",
        """Sparse categorical labels must be class indices in [0, number of classes), where the number of
        classes is the width of the model's last layer; a label at or above it (or below 0) is rejected.""",
        ("TFX306",), r"Received a label value of -?\d+ which is outside the valid range",
    ),
    _family(
        "colab-tpu-addr", "The COLAB_TPU_ADDR environment variable is not set",
        """The code reads `os.environ['COLAB_TPU_ADDR']`, which only Colab's old TPU runtime set; anywhere
        else (including current Colab TPU VMs) it is missing. `TPUClusterResolver()` finds a TPU by itself
        where there is one.""",
        ("TFX202",), r"COLAB_TPU_ADDR", exception="KeyError",
    ),
    _family(
        "tpu-no-name", "No TPU was found to connect to",
        """`TPUClusterResolver()` was given no TPU name and found none: this machine has no TPU. Code that
        should also run without one falls back to the default strategy when the resolver fails.""",
        ("TFX202", "TFX201"), r"Please provide a TPU Name",
    ),
    _family(
        "tpu-strategy-before-init", "TPUStrategy was created before the TPU system was initialised",
        """`TPUStrategy` was created before `tf.config.experimental_connect_to_cluster(resolver)` and
        `tf.tpu.experimental.initialize_tpu_system(resolver)`, so it saw no TPU devices.""",
        ("TFX201",), r"index 0 is out of bounds", frame_hint=r"tpu",
    ),
    _family(
        "tpu-not-found", "There is no TPU on this machine",
        """Initialising the TPU system failed because there is no TPU here. Code that should also run
        without a TPU catches the failure and falls back to the default strategy.""",
        ("TFX201", "TFX202"), r"TPUs not found in the cluster",
    ),
    _family(
        "get-variable-without-initializer", "tf.get_variable looked up a variable that tf.Variable made",
        """`tf.get_variable(name)` looks names up in TF1's variable store, but variables made with
        `tf.Variable` never enter it. So `get_variable` tries to create a new variable of that name and has no
        shape or initializer to create it with.""",
        ("TFX502", "TFX501"), r"did not get an initializer",
    ),
    _family(
        "variable-store-reuse", "TF1's variable store refused a tf.get_variable call",
        """`tf.get_variable` serves a name from TF1's variable store only as the enclosing `variable_scope`
        allows: without `reuse` an existing name is refused ("already exists"); with `reuse=True` a missing
        one is ("does not exist"), and variables made with `tf.Variable` never enter the store at all.""",
        ("TFX502", "TFX501"),
        r"Variable \S+ already exists, disallowed|Variable \S+ does not exist, or was not created with tf.get_variable",
    ),
    _family(
        "no-gradients", "Every gradient is None",
        """The optimizer got no gradient at all: nothing connects the loss to the variables through
        operations the tape recorded. Usual causes: the loss is computed after the `with tf.GradientTape()`
        block, a constant was never `tape.watch`ed, or the value went through NumPy or an integer cast,
        which cut the gradient.""",
        ("TFX401", "TFX402", "TFX403", "TFX304"), r"No gradients provided for any variable",
    ),
    _family(
        "gradient-of-numpy-value", "The gradient's target is a NumPy value, not a tensor",
        """`tape.gradient(target, ...)` got a NumPy value: the computation left TensorFlow (`.numpy()`,
        NumPy functions or Python floats) inside the tape, so the tape has no record of how the target
        depends on the variables. Keep the whole computation in TensorFlow ops.""",
        ("TFX403", "TFX401", "TFX402"), r"'numpy\.\w+' object has no attribute '_id'",
        frame_hint=r"backprop|imperative_grad|gradient",
    ),
    _family(
        "none-gradient-used", "A None value (a missing gradient?) was used as a tensor",
        """A value that should be a tensor is None. When it comes from `tape.gradient(...)`, the gradient is None
        because nothing connects the target to the source through operations the tape recorded: the target
        was computed after the `with tf.GradientTape()` block, the source is a constant that was never
        `tape.watch`ed, or the value went through NumPy or an integer cast.""",
        ("TFX401", "TFX402", "TFX403", "TFX304"),
        r"Attempt to convert a value \(None\) with an unsupported type|unsupported operand type\(s\) for .*'NoneType'",
    ),
    _family(
        "keras3-removed-api", "A Keras 2 API that Keras 3 no longer has",
        """TensorFlow 2.16 and later use Keras 3, which dropped `tf.compat.v1.layers` and other Keras 2 APIs.
        Install `tf-keras` and set `TF_USE_LEGACY_KERAS=1`, or port the code to `tf.keras.layers`.""",
        (), r"is not available with Keras 3",
    ),
    _family(
        "dimensions-must-be-equal", "Two tensors' dimensions do not match",
        """An operation needs two tensors whose dimensions match (or broadcast), and they do not: a label or
        target of the wrong rank or width, or a layer of the wrong size.""",
        ("TFX302", "TFX301", "TFX305"),
        r"Dimensions must be equal, but are \d+ and \d+|Incompatible shapes: \[|Shapes \([^)]*\) and \([^)]*\) are incompatible",
    ),
)


def recognise(failures: Sequence[Failure]) -> tuple[Failure, RaisedError, Family] | None:
    """The latest failure tffix knows, with the exception in its chain that names it."""
    for failure in reversed(failures):
        for error in reversed(failure.errors):
            for family in FAMILIES:
                if family.matches(error, failure):
                    return failure, error, family
    return None


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
        for family in FAMILIES:
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


# --- presenting ------------------------------------------------------------------------------------------
def render_text(explanation: Explanation, *, width: int = 100, fix_hint: bool = True) -> str:
    """The explanation for a terminal: plain text, the diff last and raw (so it can be piped to `git apply`)."""
    lines: list[str] = []
    status = explanation.status
    if status == "no-failure":
        return "tffix: no Python traceback or TensorFlow error found in the input.\n"
    error = explanation.error
    assert error is not None
    headline = error.headline
    if len(headline) > 400:
        headline = headline[:400] + " ..."
    name = error.name or "error"
    lines.append(f"error: {name}: {headline}" if headline else f"error: {name}")
    family = explanation.family
    if family is None:
        lines.append("tffix does not know this failure; no rule matches it.")
        lines.extend(_frame_lines(explanation))
        return "\n".join(lines) + "\n"
    lines.append(f"what went wrong: {family.title}.")
    lines.extend(textwrap.wrap(family.explanation, width=width, initial_indent="  ", subsequent_indent="  "))
    lines.extend(_frame_lines(explanation))
    if family.codes:
        lines.append("rules that can cause it: " + ", ".join(_code_with_name(code) for code in family.codes))
    for note in explanation.notes:
        lines.append(f"note: {note}")
    if not family.codes:
        lines.append("no tffix rule fixes this failure.")
    elif not explanation.frames:
        lines.append("no frame of the traceback is in a file of yours on this machine, so there is nothing to check"
                     " (run tffix explain where the files are, or pass --root).")
    elif not explanation.located:
        shown = ", ".join(dict.fromkeys(display_path(frame.file) for frame in explanation.frames))
        lines.append(f"no finding of these rules in {shown}.")
    else:
        lines.append("finding:" if len(explanation.located) == 1 else "findings (most relevant first):")
        for located in explanation.located:
            lines.append(f"  {_finding_line(located)}")
    if explanation.diff:
        unsafe = any(f.fix is not None and f.fix.applicability is Applicability.UNSAFE
                     for fix in explanation.fixes for f in fix.result.applied)
        flag = " --unsafe-fixes" if unsafe else ""
        hint = f" (`tffix apply{flag}` makes it; `tffix run --fix{flag} -- COMMAND` proves it)" if fix_hint else ""
        lines.append(f"the fix{hint}:")
        return "\n".join(lines) + "\n" + explanation.diff
    if any(l.finding.fix is not None for l in explanation.located):
        lines.append("its fix is unsafe (it may change what the program computes): --unsafe-fixes shows and makes it.")
    elif explanation.located:
        lines.append("no automatic fix for this finding; its message says what to change.")
    return "\n".join(lines) + "\n"


def _frame_lines(explanation: Explanation) -> list[str]:
    lines = []
    for frame in explanation.frames[:6]:
        role = "defined at" if frame.frame.origin == "graph" else "called from"
        where = display_path(frame.file) + (f":{frame.frame.line}" if frame.frame.line else "")
        moved = f" (the log says {frame.frame.path})" if frame.relocated else ""
        lines.append(f"  {role} {where}{moved}")
    return lines


def _code_with_name(code: str) -> str:
    rule = rule_by_code(code)
    return f"{code} ({rule.name})" if rule is not None else code


def _finding_line(located: Located) -> str:
    finding = located.finding
    where = f"{display_path(located.file)}:{finding.start.line}:{finding.start.column + 1}"
    if located.distance == 0:
        near = "at the traceback's line"
    elif located.frame.frame.line is None:
        near = "in the traceback's file"
    else:
        near = f"{located.distance} line{'s' * (located.distance != 1)} from line {located.frame.frame.line}"
    fix = ""
    if finding.fix is not None:
        fix = " [fix]" if finding.fix.applicability is Applicability.SAFE else " [unsafe fix]"
    return f"{where}: {finding.code} {finding.message}{fix} ({near})"


def to_json(explanation: Explanation) -> dict:
    error = explanation.error
    family = explanation.family
    return {
        "status": explanation.status,
        "error": None if error is None else {
            "exception": error.exception, "name": error.name, "headline": error.headline, "message": error.message,
        },
        "failure": None if family is None else {
            "kind": family.key, "title": family.title, "explanation": family.explanation, "codes": list(family.codes),
        },
        "frames": [
            {"path": display_path(f.file), "line": f.frame.line, "function": f.frame.function,
             "origin": f.frame.origin, "logged_path": f.frame.path}
            for f in explanation.frames
        ],
        "findings": [
            {**l.finding.to_json(), "distance": l.distance, "path": display_path(l.file)} for l in explanation.located
        ],
        "diff": explanation.diff,
        "notes": list(explanation.notes),
        "exit_code": explanation.exit_code,
    }


# --- running a command -----------------------------------------------------------------------------------
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


# --- the command line (called by tffix.cli) --------------------------------------------------------------
def explain_cli(log: Path | None, *, json_output: bool, root: Path | None, unsafe: bool) -> int:
    """`tffix explain [LOG]`: 0 explained with a fix, 1 recognised (or not) but no fix, 2 bad input."""
    import json
    import sys

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
    if json_output:
        sys.stdout.write(json.dumps(to_json(explanation), indent=2) + "\n")
    else:
        rendered = render_text(explanation)
        (sys.stderr if explanation.status == "no-failure" else sys.stdout).write(rendered)
    return explanation.exit_code


def run_cli(command: Sequence[str], *, fix: bool, timeout: float | None, unsafe: bool) -> int:
    """`tffix run [--fix] -- COMMAND...`: the command's output streams through; tffix's own report goes to
    stderr after it. The exit code is the command's (0 when the fixes made it succeed)."""
    import sys

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
        why = _why_not_cured(result)
        say(f"tffix: the fixes did not make the command succeed: {why}. "
            f"Restored {', '.join(result.restored)} byte for byte; nothing changed.")
    elif fix and result.explanation is not None and result.explanation.status != "fixed":
        say("tffix: no fix to try.")
    return result.exit_code


def _why_not_cured(result: RunResult) -> str:
    if not result.attempts:
        return "no fix changed anything"
    last = result.attempts[-1]
    first = result.explanation
    again = last.explanation
    same = (
        first is not None and again is not None and first.error is not None and again.error is not None
        and (first.family, first.error.headline) == (again.family, again.error.headline)
    )
    if same:
        return f"it still fails the same way ({last.outcome.summary()})"
    return f"the first failure is gone, but then it fails with another ({last.outcome.summary()})"
