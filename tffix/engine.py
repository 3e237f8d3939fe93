"""The one engine that the CLI, the LSP server, `tffix verify` and the bulk runner all call.

It knows nothing of terminals, editors or files on disk: it takes source text and a path (for messages and
per-file settings) and returns values. Parsing happens once per check; every selected rule runs in one
batched LibCST traversal; fixes are applied as text edits, repeatedly, until nothing more applies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, ImportItem
from libcst.metadata import MetadataWrapper, PositionProvider

from .config import Settings
from .grouping import keep_grouping
from .edits import apply_edits, diff_edits, line_starts
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
from .registry import all_rules
from .rule import Rewrite, Rule, RuleContext

MAX_FIX_ITERATIONS = 10

_SUPPRESSION = re.compile(r"#\s*tffix:\s*ignore(?!-)(?:\[(?P<codes>[A-Za-z0-9,\s]*)\])?", re.IGNORECASE)
_FILE_SUPPRESSION = re.compile(r"^\s*#\s*tffix:\s*ignore-file\b", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class ParseOutcome:
    module: cst.Module | None
    problem: Problem | None


def parse(source: str, path: str) -> ParseOutcome:
    try:
        return ParseOutcome(cst.parse_module(source), None)
    except cst.ParserSyntaxError as exc:
        hint = " (Python 2 code? tffix reads Python 3 only)" if _looks_like_python2(source) else ""
        return ParseOutcome(
            None,
            Problem(ProblemKind.SYNTAX, path, f"does not parse: {exc.message}{hint}", exc.raw_line, exc.raw_column),
        )
    except RecursionError:
        return ParseOutcome(None, Problem(ProblemKind.SYNTAX, path, "too deeply nested to parse"))


_PY2_MARKERS = re.compile(r"^\s*(print\s+[^\s(=]|exec\s+[\"'])|except\s+\w+\s*,\s*\w+\s*:|\bur[\"']", re.MULTILINE)


def _looks_like_python2(source: str) -> bool:
    return bool(_PY2_MARKERS.search(source))


class Engine:
    def __init__(self, settings: Settings | None = None, rules: Sequence[type[Rule]] | None = None) -> None:
        self.settings = settings or Settings()
        candidates = all_rules() if rules is None else tuple(rules)
        self.rules = tuple(rule for rule in candidates if self.settings.is_selected(rule.code))

    def rules_for(self, path: str) -> tuple[type[Rule], ...]:
        if not self.settings.per_file_ignores:
            return self.rules
        return tuple(rule for rule in self.rules if self.settings.is_selected(rule.code, path))

    def could_match(self, source: str, path: str) -> bool:
        """The cheap text prefilter: False means no selected rule can fire, so the file need not be parsed."""
        return bool(self._active_rules(source, path))

    def _active_rules(self, source: str, path: str) -> list[type[Rule]]:
        if _FILE_SUPPRESSION.search(source):
            return []
        return [r for r in self.rules_for(path) if not r.triggers or any(t in source for t in r.triggers)]

    # --- checking --------------------------------------------------------------------------------------------
    def check(self, source: str, path: str) -> CheckResult:
        active = self._active_rules(source, path)
        if not active:
            return CheckResult(path)
        parsed = parse(source, path)
        if parsed.module is None:
            return CheckResult(path, problems=(parsed.problem,))  # type: ignore[arg-type]
        findings, problems = self._run_rules(parsed.module, source, path, active)
        return CheckResult(path, tuple(findings), tuple(problems))

    def _run_rules(
        self, module: cst.Module, source: str, path: str, rules: Sequence[type[Rule]]
    ) -> tuple[list[Finding], list[Problem]]:
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        context = RuleContext(path=path, source=source)
        problems: list[Problem] = []
        instances = [rule(context) for rule in rules]
        try:
            wrapper.visit_batched(instances)
        except Exception:
            # One rule crashed the shared traversal: run each alone so the others still report.
            instances = []
            for rule in rules:
                instance = rule(context)
                try:
                    wrapper.visit_batched([instance])
                except Exception as exc:  # a rule bug must never stop the file, let alone the batch
                    problems.append(_internal(path, f"rule {rule.code} crashed: {type(exc).__name__}: {exc}"))
                    continue
                instances.append(instance)

        positions = wrapper.resolve(PositionProvider)
        lines = source.splitlines()
        findings = []
        for instance in instances:
            for report in instance.reports:
                span = positions[report.node]
                start = Position(span.start.line, span.start.column)
                end = Position(span.end.line, span.end.column)
                if _is_suppressed(lines, start.line, instance.code):
                    continue
                fix = None
                if report.rewrite is not None:
                    try:
                        fix = materialize(module, source, report.rewrite)
                    except Exception as exc:
                        problems.append(
                            _internal(path, f"rule {instance.code} built a fix that failed: {type(exc).__name__}: {exc}")
                        )
                findings.append(
                    Finding(instance.code, report.message, path, start, end, instance.severity, fix)
                )
        findings.sort(key=lambda f: (f.start, f.code, f.end))
        return _deduplicate(findings), problems

    # --- fixing ----------------------------------------------------------------------------------------------
    def fix(self, source: str, path: str, *, unsafe: bool | None = None) -> FixResult:
        """Apply every compatible fix, re-checking after each round, until none applies (bounded).

        A round applies a set of non-overlapping fixes at once. A fix whose result does not parse is dropped,
        reported as an internal error, and never tried again; the others still go in.
        """
        allow_unsafe = self.settings.unsafe_fixes if unsafe is None else unsafe
        text = source
        applied: list[Finding] = []
        problems: list[Problem] = []
        rejected: set[tuple[str, tuple[TextEdit, ...]]] = set()
        for _ in range(MAX_FIX_ITERATIONS):
            result = self.check(text, path)
            if text == source and any(p.kind is not ProblemKind.INTERNAL for p in result.problems):
                return FixResult(path, source, source, problems=result.problems)
            problems.extend(p for p in result.problems if p not in problems)
            chosen = _compatible(
                f
                for f in result.findings
                if f.fix is not None
                and (allow_unsafe or f.fix.applicability is Applicability.SAFE)
                and (f.code, f.fix.edits) not in rejected
            )
            if not chosen:
                break
            new_text = apply_edits(text, (e for f in chosen for e in f.fix.edits))  # type: ignore[union-attr]
            if parse(new_text, path).module is None:
                good = []
                for finding in chosen:
                    alone = apply_edits(text, finding.fix.edits)  # type: ignore[union-attr]
                    if parse(alone, path).module is None:
                        rejected.add((finding.code, finding.fix.edits))  # type: ignore[union-attr]
                        problems.append(
                            _internal(path, f"fix for {finding.code} yields code that does not parse; not applied",
                                      finding.start)
                        )
                    else:
                        good.append(finding)
                chosen = good[:1]  # fixes that parse alone may still clash together: take them one a round
                if not chosen:
                    continue
                new_text = apply_edits(text, chosen[0].fix.edits)  # type: ignore[union-attr]
            applied.extend(chosen)
            text = new_text
        else:
            problems.append(_internal(path, f"fixes did not settle after {MAX_FIX_ITERATIONS} rounds"))
        remaining = self.check(text, path).findings if text != source else result.findings
        return FixResult(path, source, text, tuple(applied), tuple(remaining), tuple(problems))


def materialize(module: cst.Module, source: str, rewrite: Rewrite) -> Fix | None:
    """Turn a rule's node replacements into text edits against `source`."""
    changes = {id(node): replacement for node, replacement in rewrite.changes}
    new_module = module.visit(_Replacer(changes))
    if rewrite.imports:
        new_module = AddImportsVisitor(
            CodemodContext(), [ImportItem(name, None, None) for name in rewrite.imports]
        ).transform_module(new_module)
    edits = diff_edits(source, new_module.code)
    if not edits:
        return None
    return Fix(rewrite.title, rewrite.applicability, edits)


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


def _compatible(findings: Iterable[Finding]) -> list[Finding]:
    chosen: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (f.fix.edits[0].start, f.code)):  # type: ignore[union-attr]
        if not any(finding.fix.overlaps(other.fix) for other in chosen):  # type: ignore[union-attr,arg-type]
            chosen.append(finding)
    return chosen


def _deduplicate(findings: list[Finding]) -> list[Finding]:
    seen = set()
    unique = []
    for finding in findings:
        key = (finding.code, finding.start, finding.end, finding.message)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique


def _is_suppressed(lines: Sequence[str], line: int, code: str) -> bool:
    if not 1 <= line <= len(lines):
        return False
    match = _SUPPRESSION.search(lines[line - 1])
    if match is None:
        return False
    codes = match.group("codes")
    if codes is None:
        return True
    return code.upper() in {c.strip().upper() for c in codes.split(",")}


def _internal(path: str, message: str, at: Position | None = None) -> Problem:
    return Problem(ProblemKind.INTERNAL, path, message, at.line if at else None, at.column if at else None)


def offsets_to_positions(source: str, edits: Iterable[TextEdit]) -> list[tuple[Position, Position, str]]:
    """(start, end, text) in line/column form, for callers such as the LSP server."""
    from .edits import position_of

    starts = line_starts(source)
    return [(position_of(starts, e.start), position_of(starts, e.end), e.text) for e in edits]
