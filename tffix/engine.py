"""The one engine that the CLI, the LSP server, `tffix verify` and the bulk runner all call.

It knows nothing of terminals, editors or files on disk: it takes source text and a path (for messages and
per-file settings) and returns values. Parsing happens once per check; every selected rule runs in one
batched LibCST traversal; fixes are applied as text edits, repeatedly, until nothing more applies.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import re
import threading
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, ImportItem
from libcst.metadata import PositionProvider

from .analysis import FileAnalysis
from .ast_detection import NamesOnAst
from .config import Settings
from .fastvisit import CopyFreeMetadataWrapper
from .grouping import keep_grouping
from .edits import NEWLINE, diff_edits
from .model import (
    Applicability,
    CheckResult,
    Finding,
    Fix,
    FixResult,
    Position,
    Problem,
    ProblemKind,
    TextEdit,
)
from .gates import focus_rules, screen
from .prefilter import nesting_problem
from .registry import all_rules
from .rule import Rewrite, Rule, RuleContext
from .parts import FileLines, PartMap, PartsMemo
from .slicing import MAX_KEPT_SHARE, Focus

MAX_FIX_ITERATIONS = 10
# A file whose parts hold more than this many times its lines is analysed whole: a part that grows with the file
# (a module-level statement whose names the whole file uses) repeated in each part would cost more than it saves.
MAX_PARTS_SHARE = 3.0
_NEVER_CERTAIN = Rule.detect.__func__  # type: ignore[attr-defined]  # the default: a rule that detects on LibCST only

SUPPRESSION_COMMENT = re.compile(r"#\s*tffix:\s*ignore(?!-)(?:\[(?P<codes>[A-Za-z0-9,\s]*)\])?", re.IGNORECASE)
_FILE_SUPPRESSION = re.compile(r"^\s*#\s*tffix:\s*ignore-file\b", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class ParseOutcome:
    module: cst.Module | None
    problem: Problem | None


def parse(source: str, path: str) -> ParseOutcome:
    nested = nesting_problem(source)
    if nested is not None:  # LibCST would take minutes, then its visitors would overflow the stack
        return ParseOutcome(None, Problem(ProblemKind.SYNTAX, path, f"too deeply nested to analyse: {nested}"))
    try:
        return ParseOutcome(cst.parse_module(source), None)
    except cst.ParserSyntaxError as exc:
        message, line, column = syntax_error(source, exc)
        return ParseOutcome(None, Problem(ProblemKind.SYNTAX, path, f"does not parse: {message}", line, column))
    except RecursionError:
        return ParseOutcome(None, Problem(ProblemKind.SYNTAX, path, "too deeply nested to parse"))


_PY2_MARKERS = re.compile(r"^\s*(print\s+[^\s(=]|exec\s+[\"'])|except\s+\w+\s*,\s*\w+\s*:|\bur[\"']", re.MULTILINE)
_PY2_MESSAGES = {  # Python's own message for a Python 2 statement: what tffix says instead
    "Missing parentheses in call to 'print'": "Python 2 print statement",
    "Missing parentheses in call to 'exec'": "Python 2 exec statement",
}
_PY2_HINT = " (tffix reads Python 3 only)"
_PY2_GUESS = " (Python 2 code? tffix reads Python 3 only)"


def _looks_like_python2(source: str) -> bool:
    return bool(_PY2_MARKERS.search(source))


def syntax_error(source: str, exc: cst.ParserSyntaxError) -> tuple[str, int, int]:
    """Why `source` does not parse and where: a short message, the 1-based line and the 0-based column of the
    error itself. Python's own parser says both (LibCST's error lists the tokens it expected, and its position
    can be a line further on); LibCST's position stands only when Python parses what LibCST cannot."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes and the like: not this file's problem here
            ast.parse(source)
    except SyntaxError as error:
        message = error.msg or "invalid syntax"
        for prefix, short in _PY2_MESSAGES.items():
            if message.startswith(prefix):
                message = short + _PY2_HINT
                break
        else:
            if _looks_like_python2(source):
                message += _PY2_GUESS
        line = max(1, error.lineno or 1)
        return message, line, max(0, (error.offset or 1) - 1)
    except (RecursionError, MemoryError, ValueError):
        pass
    hint = _PY2_GUESS if _looks_like_python2(source) else ""
    message = re.sub(r"^parser error: error at \d+:\d+: ", "", exc.message)
    return f"{message}{hint}", exc.raw_line, exc.raw_column


class Engine:
    def __init__(
        self,
        settings: Settings | None = None,
        rules: Sequence[type[Rule]] | None = None,
        *,
        max_kept_share: float = MAX_KEPT_SHARE,
        detect_on_ast: bool = True,
    ) -> None:
        """`max_kept_share`: analyse a file's slice first when it keeps at most this share of the lines (see
        `tffix.slicing`); 0 never slices, 1 always does. Rules whose anchors a file lacks are skipped anyway.
        `rules` given without `settings` are selected by their codes (also those not selected by default).
        `detect_on_ast`: let rules that can be certain of their findings on `ast` find them there (`check` only)."""
        candidates = all_rules() if rules is None else tuple(rules)
        if settings is None and rules is not None:
            settings = Settings(select=tuple(rule.code for rule in candidates))
        self.settings = settings or Settings()
        self.max_kept_share = max_kept_share
        self.detect_on_ast = detect_on_ast  # False: every rule on LibCST (the gates still apply)
        self.rules = tuple(rule for rule in candidates if self.settings.is_selected(rule))

    def rules_for(self, path: str) -> tuple[type[Rule], ...]:
        if not self.settings.per_file_ignores:
            return self.rules
        return tuple(rule for rule in self.rules if self.settings.is_selected(rule, path))

    def screen(self, source: str, path: str) -> tuple[type[Rule], ...]:
        """The rules that the cheap text gates (`tffix.gates`, gates 1 and 2) let run on `source`: none means no
        selected rule can fire, so the file need not be parsed. With gates off, every rule selected for `path`.
        Pass the result to `check` so that the gates run once per file."""
        if _FILE_SUPPRESSION.search(source):
            return ()
        rules = self.rules_for(path)
        return screen(rules, source) if self.settings.gates else rules

    # --- checking --------------------------------------------------------------------------------------------
    def check(
        self,
        source: str,
        path: str,
        *,
        screened: Sequence[type[Rule]] | None = None,
        memo: PartsMemo | None = None,
    ) -> CheckResult:
        """Findings and problems of `source`. `screened`: what `screen(source, path)` gave, when already asked.
        Rules that can be certain of their findings on Python's `ast` find them there (`tffix.ast_detection`);
        their fixes' edits are made on LibCST when first asked for. `memo`: the same for every version of one
        document (the editor's): the `local` rules analyse the file part by part, and only the parts the memo
        has not seen (`tffix.parts`)."""
        analysis = self._analyse(source, path, screened, on_ast=self.detect_on_ast, memo=memo)
        return CheckResult(path, tuple(r.finding for r in analysis.reports), tuple(analysis.problems))

    def _analyse(
        self,
        source: str,
        path: str,
        screened: Sequence[type[Rule]] | None = None,
        *,
        on_ast: bool = False,
        memo: PartsMemo | None = None,
    ) -> _Analysis:
        """The analysis of `source`; `on_ast`: let rules detect on `ast` (their reports then carry no rewrite);
        `memo`: analyse the local rules part by part (their reports then carry no rewrite either)."""
        active = self.screen(source, path) if screened is None else screened
        if not active:
            return _Analysis(None, [], [])
        if not self.settings.gates:
            return self._analyse_text(source, path, active)
        focused = focus_rules(active, source, self.max_kept_share)
        rules, found = focused.rules, []
        if on_ast and focused.tree is not None:
            found, rules = self._detect_on_ast(focused.tree, source, path, rules)
        local = tuple(rule for rule in rules if rule.local and rule.anchors) if memo is not None else ()
        if local and focused.focus is not None:
            by_parts = self._analyse_parts(focused.focus, source, path, local, memo)
            if by_parts is not None:
                found.extend(by_parts)
                rules = tuple(rule for rule in rules if rule not in local)
                found.sort(key=_report_order)
        if not rules:
            return _Analysis(None, found, [])
        if focused.slice is not None:
            # The slice first; the whole file only when the slice shows something (see tffix.gates).
            sliced = self._analyse_text(focused.slice, path, rules)
            if not sliced.reports and not sliced.problems:
                return _Analysis(None, found, [])
        analysed = self._analyse_text(source, path, rules)
        if found:
            analysed.reports.extend(found)
            analysed.reports.sort(key=_report_order)
        return analysed

    def _detect_on_ast(
        self, tree: ast.Module, source: str, path: str, rules: Sequence[type[Rule]]
    ) -> tuple[list[_Report], tuple[type[Rule], ...]]:
        """The reports of the rules that are certain of their findings on `tree`, and the rules left for LibCST."""
        module: NamesOnAst | None = None
        fixes: _FixesOnCst | None = None
        lines: list[str] | None = None
        reports: list[_Report] = []
        left: list[type[Rule]] = []
        for rule in rules:
            if getattr(rule.detect, "__func__", None) is _NEVER_CERTAIN:
                left.append(rule)
                continue
            module = module or NamesOnAst(tree, source)
            try:
                found = rule.detect(module)
            except Exception:  # a bug of the shortcut: the rule's visitor on LibCST still gives the findings
                found = None
            spans = None if found is None else [module.span(report.node) for report in found]
            if found is None or spans is None or None in spans:
                left.append(rule)
                continue
            lines = lines or NEWLINE.split(source)
            seen: set[tuple] = set()
            for report, (start, end) in zip(found, spans):  # type: ignore[misc]
                key = (rule.code, start, end, report.message)
                if not _first_unsuppressed(key, seen, lines):
                    continue
                fix = None
                if report.fix is not None:
                    fixes = fixes or _FixesOnCst(self, source, path)
                    fixes.rules.add(rule)
                    fix = Fix(report.fix[0], report.fix[1], compute=functools.partial(fixes.edits, key))
                finding = Finding(rule.code, report.message, path, start, end, rule.severity, fix)
                reports.append(_Report(finding, None, ()))
        return reports, tuple(left)

    def _analyse_parts(
        self, focus: Focus, source: str, path: str, rules: Sequence[type[Rule]], memo: PartsMemo
    ) -> list[_Report] | None:
        """The reports of the `local` rules, from the analyses of the file's parts (those `memo` has made before,
        and the others now), mapped to the file; None when the file is analysed better whole: its parts hold
        more than `MAX_PARTS_SHARE` times its lines, or a part shows a problem (a class left without a method does
        not parse, a rule crashed)."""
        anchors = frozenset().union(*(rule.anchors for rule in rules))
        parts = focus.for_anchors(anchors).parts()
        if sum(len(part.lines) for part in parts) > MAX_PARTS_SHARE * (source.count("\n") + 1):
            return None
        codes = tuple(rule.code for rule in rules)
        memo.bind(self)
        reports: list[_Report] = []
        seen: set[tuple] = set()
        file_lines = None
        whole: _FixesOnCst | None = None  # the fixes made on the whole file, for edits a part cannot place
        for part in parts:
            key = (codes, path, part.text)
            analysed = memo.get(key)
            if analysed is None:
                analysed = self._analyse_text(part.text, path, rules)
                memo.put(key, analysed)
            if analysed.problems:
                return None
            if not analysed.reports:
                continue
            file_lines = file_lines or FileLines(source)
            mapping = PartMap(part, file_lines)
            for report in analysed.reports:
                finding = report.finding
                start, end = mapping.position(finding.start), mapping.position(finding.end)
                found_key = (finding.code, start, end, finding.message)
                if found_key in seen:  # the same finding in another part holding the same code
                    continue
                seen.add(found_key)
                fix = finding.fix
                if fix is not None:
                    if whole is None:
                        whole = _FixesOnCst(self, source, path)
                        whole.rules.update(rules)
                    edits = functools.partial(_part_edits, mapping, fix, found_key, whole)
                    fix = Fix(fix.title, fix.applicability, compute=edits)
                reports.append(_Report(dataclasses.replace(finding, start=start, end=end, fix=fix), None, ()))
        return reports

    def _analyse_text(self, source: str, path: str, active: Sequence[type[Rule]]) -> _Analysis:
        parsed = parse(source, path)
        if parsed.module is None:
            return _Analysis(None, [], [parsed.problem])  # type: ignore[list-item]
        module = parsed.module
        # The rules and metadata providers only read the tree: visit it without copying (tffix.fastvisit).
        wrapper = CopyFreeMetadataWrapper(module, unsafe_skip_copy=True)
        # One analysis per parsed text, shared by this check's rules and dropped with it (tffix.analysis).
        context = RuleContext(path=path, source=source, analysis=FileAnalysis(path, source, wrapper))
        problems: list[Problem] = []
        instances = [rule(context) for rule in active]
        try:
            wrapper.visit_batched(instances)
        except Exception:
            # One rule crashed the shared traversal: run each alone so the others still report.
            instances = []
            for rule in active:
                instance = rule(context)
                try:
                    wrapper.visit_batched([instance])
                except Exception as exc:  # a rule bug must never stop the file, let alone the batch
                    problems.append(_internal(path, f"rule {rule.code} crashed: {type(exc).__name__}: {exc}"))
                    continue
                instances.append(instance)

        if not any(instance.reports for instance in instances):  # most files: no codegen for positions
            return _Analysis(module, [], problems)
        positions = wrapper.resolve(PositionProvider)  # the analysis' own, when a rule asked for one
        lines = NEWLINE.split(source)  # the lines LibCST counts: not str.splitlines, which splits at \f
        reports: list[_Report] = []
        seen: set[tuple] = set()
        for instance in instances:
            for report in instance.reports:
                start, end = _span(positions, report.node)
                key = (instance.code, start, end, report.message)
                if not _first_unsuppressed(key, seen, lines):
                    continue
                fix, spans = None, ()
                if report.rewrite is not None:
                    fix = Fix(
                        report.rewrite.title,
                        report.rewrite.applicability,
                        compute=functools.partial(_lazy_edits, module, source, report.rewrite),
                    )
                    spans = tuple(_span(positions, node) for node, _ in report.rewrite.changes if node in positions)
                finding = Finding(
                    instance.code, report.message, path, start, end, report.severity or instance.severity, fix
                )
                reports.append(_Report(finding, report.rewrite, spans))
        reports.sort(key=_report_order)
        return _Analysis(module, reports, problems)

    # --- fixing ----------------------------------------------------------------------------------------------
    def fix(
        self, source: str, path: str, *, unsafe: bool | None = None, refusal: Callable[[str], str | None] | None = None
    ) -> FixResult:
        """Apply every compatible fix, re-checking after each round, until none applies (bounded).

        A round makes all fixes whose changed nodes do not overlap in one transform of the tree. When the
        result does not parse, each fix of the round is tried alone: one that breaks the code is dropped,
        reported as an internal error and never tried again; the others still go in. `refusal` (a notebook's:
        an edit that cannot be made within one cell) says why a new text cannot be taken, or None: such a fix
        is dropped the same way, with that reason.
        """
        allow_unsafe = self.settings.unsafe_fixes if unsafe is None else unsafe
        text = source
        applied: list[Finding] = []
        problems: list[Problem] = []
        rejected: set[tuple] = set()
        analysis = self._analyse(text, path)  # always the analysis of `text`: re-made only when it changes
        for _ in range(MAX_FIX_ITERATIONS):
            if analysis.module is None:
                if text == source:
                    return FixResult(path, source, source, problems=tuple(analysis.problems))
                break
            problems.extend(p for p in analysis.problems if p not in problems)
            lines = NEWLINE.split(text)
            candidates = [
                r for r in analysis.reports
                if r.rewrite is not None
                and (allow_unsafe or r.rewrite.applicability is Applicability.SAFE)
                and _rejection_key(r, lines) not in rejected
            ]
            chosen = _non_overlapping(candidates)
            if not chosen:
                break
            new_text = _render_or_none(analysis.module, [r.rewrite for r in chosen])  # type: ignore[misc]
            if new_text is None or new_text == text or parse(new_text, path).module is None \
                    or (refusal is not None and refusal(new_text) is not None):
                good = []
                for report in chosen:
                    alone = _render_or_none(analysis.module, [report.rewrite])  # type: ignore[list-item]
                    refused = None if alone is None or refusal is None else refusal(alone)
                    if alone is None or alone == text or parse(alone, path).module is None or refused:
                        rejected.add(_rejection_key(report, lines))
                        why = f"is not applied: {refused}" if refused else \
                            "fails or yields code that does not parse; not applied"
                        problems.append(_internal(path, f"fix for {report.finding.code} {why}", report.finding.start))
                    else:
                        good.append((report, alone))
                if not good:
                    continue
                chosen, new_text = [good[0][0]], good[0][1]  # fixes fine alone may clash together: one a round
            applied.extend(r.finding for r in chosen)
            text = new_text
            analysis = self._analyse(text, path)
        else:
            problems.append(_internal(path, f"fixes did not settle after {MAX_FIX_ITERATIONS} rounds"))
        remaining = tuple(r.finding for r in analysis.reports)
        return FixResult(path, source, text, tuple(applied), tuple(remaining), tuple(problems))


class _FixesOnCst:
    """The fixes of findings detected on `ast` (`Engine._detect_on_ast`): the edits of the same findings of the same
    rules run on LibCST, made once for all of them when the first is asked for (from any thread)."""

    def __init__(self, engine: Engine, source: str, path: str) -> None:
        self.engine, self.source, self.path = engine, source, path
        self.rules: set[type[Rule]] = set()
        self._findings: dict[tuple, Finding] | None = None
        self._lock = threading.Lock()

    def edits(self, key: tuple) -> tuple[TextEdit, ...]:
        with self._lock:
            if self._findings is None:
                rules = sorted(self.rules, key=lambda rule: rule.code)
                analysed = self.engine._analyse_text(self.source, self.path, rules)
                self._findings = {
                    (r.finding.code, r.finding.start, r.finding.end, r.finding.message): r.finding for r in analysed.reports
                }
        finding = self._findings.get(key)
        if finding is None or finding.fix is None:  # a rule's `detect` and its visitor disagree: a tffix bug
            raise RuntimeError(f"rule {key[0]} found on ast what LibCST does not show at {key[1]}; please report it")
        return finding.fix.edits


def _part_edits(mapping: PartMap, fix: Fix, key: tuple, whole: _FixesOnCst) -> tuple[TextEdit, ...]:
    """The edits of a part's fix in the file; those of the same finding on the whole file (one analysis for all
    the file's findings) when an edit has no single place there."""
    edits = [mapping.edit(edit) for edit in fix.edits]
    if all(edit is not None for edit in edits):
        return tuple(edits)  # type: ignore[arg-type]
    return whole.edits(key)


def _report_order(report: _Report) -> tuple:
    return (report.finding.start, report.finding.code, report.finding.end)


@dataclass(frozen=True)
class _Report:
    """A finding with what the fixer needs: the rewrite as nodes, and the source spans those nodes cover."""

    finding: Finding
    rewrite: Rewrite | None
    spans: tuple[tuple[Position, Position], ...]


@dataclass(frozen=True)
class _Analysis:
    module: cst.Module | None  # None when skipped by the prefilter or unparsable
    reports: list[_Report]
    problems: list[Problem]


def _span(positions, node: cst.CSTNode) -> tuple[Position, Position]:
    code_range = positions[node]
    return (
        Position(code_range.start.line, code_range.start.column),
        Position(code_range.end.line, code_range.end.column),
    )


def _spans_overlap(a: tuple[Position, Position], b: tuple[Position, Position]) -> bool:
    return (a[0] < b[1] and b[0] < a[1]) or a[0] == b[0]


def _non_overlapping(reports: Iterable[_Report]) -> list[_Report]:
    chosen: list[_Report] = []
    taken: list[tuple[Position, Position]] = []
    for report in sorted(reports, key=lambda r: (min(r.spans, default=(r.finding.start,))[0], r.finding.code)):
        if any(_spans_overlap(a, b) for a in report.spans for b in taken):
            continue
        chosen.append(report)
        taken.extend(report.spans)
    return chosen


def _rejection_key(report: _Report, lines: Sequence[str]) -> tuple:
    line = lines[report.finding.start.line - 1] if report.finding.start.line <= len(lines) else ""
    return (report.finding.code, report.finding.message, line.strip())


def render(module: cst.Module, rewrites: Sequence[Rewrite]) -> str:
    """The module's code with all `rewrites` made (their nodes must not overlap)."""
    changes = {id(node): replacement for rewrite in rewrites for node, replacement in rewrite.changes}
    new_module = module.visit(_Replacer(changes))
    imports = sorted({name for rewrite in rewrites for name in rewrite.imports})
    if imports:
        new_module = AddImportsVisitor(
            CodemodContext(), [ImportItem(name, None, None) for name in imports]
        ).transform_module(new_module)
    return new_module.code


def _render_or_none(module: cst.Module, rewrites: Sequence[Rewrite]) -> str | None:
    try:
        return render(module, rewrites)
    except Exception:  # a rule's replacement function failed: the caller reports it as internal
        return None


def _lazy_edits(module: cst.Module, source: str, rewrite: Rewrite) -> tuple[TextEdit, ...]:
    new = _render_or_none(module, [rewrite])
    return () if new is None else diff_edits(source, new)


class _Replacer(cst.CSTTransformer):
    """Replaces nodes by identity; an expression put in place of another keeps the source's grouping."""

    def __init__(self, changes: dict) -> None:
        super().__init__()
        self._changes = changes
        self._stack: list[cst.CSTNode] = []  # the original nodes from the root down to the current one

    def on_visit(self, node: cst.CSTNode) -> bool:
        self._stack.append(node)
        return True

    def on_leave(self, original_node, updated_node):  # type: ignore[override]
        self._stack.pop()
        replacement = self._changes.get(id(original_node))
        if replacement is None:
            return updated_node
        new = replacement(updated_node) if callable(replacement) else replacement
        if isinstance(original_node, cst.BaseExpression) and isinstance(new, cst.BaseExpression):
            new = keep_grouping(original_node, new, self._stack[-1] if self._stack else None)
        return new


def _first_unsuppressed(key: tuple, seen: set[tuple], lines: Sequence[str]) -> bool:
    """Whether a report keyed (code, start, end, message) is new in `seen` (then added) and not suppressed on its
    line."""
    if key in seen or _is_suppressed(lines, key[1].line, key[0]):
        return False
    seen.add(key)
    return True


def _is_suppressed(lines: Sequence[str], line: int, code: str) -> bool:
    if not 1 <= line <= len(lines):
        return False
    match = SUPPRESSION_COMMENT.search(lines[line - 1])
    if match is None:
        return False
    codes = match.group("codes")
    if codes is None:
        return True
    return code.upper() in {c.strip().upper() for c in codes.split(",")}


def _internal(path: str, message: str, at: Position | None = None) -> Problem:
    return Problem(ProblemKind.INTERNAL, path, message, at.line if at else None, at.column if at else None)
