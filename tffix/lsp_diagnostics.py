"""What `tffix lsp` shows of an analysis: the engine's findings and problems as diagnostics, and the
documentation of the rules whose findings are under the cursor as hover text."""

from __future__ import annotations

import functools
import inspect
from pathlib import Path

from lsprotocol import types

from .lsp_actions import ClientSupport
from .lsp_documents import SOURCE, Analysis
from .lsp_positions import LineIndex
from .model import Finding, Problem, ProblemKind, Severity
from .rule import Rule

_SEVERITIES = {Severity.ERROR: types.DiagnosticSeverity.Error, Severity.WARNING: types.DiagnosticSeverity.Warning}


def diagnostics(analysis: Analysis) -> list[types.Diagnostic]:
    index = analysis.index
    if analysis.config_error is not None:
        start = types.Position(line=0, character=0)
        return [
            types.Diagnostic(
                range=types.Range(start=start, end=start),
                message=f"tffix cannot use its configuration: {analysis.config_error}",
                severity=types.DiagnosticSeverity.Error,
                source=SOURCE,
            )
        ]
    problems = [_problem_diagnostic(index, p) for p in analysis.result.problems if p.kind is not ProblemKind.INTERNAL]
    return problems + [_finding_diagnostic(analysis, f) for f in analysis.result.findings]


def _finding_diagnostic(analysis: Analysis, finding: Finding) -> types.Diagnostic:
    rule = analysis.rule(finding.code)
    link = _source_link(rule) if rule else None
    return types.Diagnostic(
        range=analysis.finding_range(finding),
        message=finding.message,
        severity=_SEVERITIES[finding.severity],
        code=finding.code,
        code_description=types.CodeDescription(href=link) if link else None,
        source=SOURCE,
        data={
            "version": analysis.version,  # code actions for another version would edit the wrong text
            "fixable": finding.fixable,
            "applicability": finding.fix.applicability.value if finding.fix else None,
            "rule": rule.name if rule else None,
            "summary": rule.summary if rule else None,
        },
    )


def _problem_diagnostic(index: LineIndex, problem: Problem) -> types.Diagnostic:
    line = min(max((problem.line or 1) - 1, 0), index.line_count - 1)
    start = min(index.starts[line] + (problem.column or 0), index.content_end(line))
    return types.Diagnostic(
        range=index.range(start, index.content_end(line)),
        message=problem.message,
        severity=types.DiagnosticSeverity.Error,
        source=SOURCE,
    )


@functools.cache
def _source_link(rule: type[Rule]) -> str | None:
    """The rule's module, which holds its documentation and examples; there is no documentation site yet."""
    try:
        source = inspect.getsourcefile(rule)
    except TypeError:
        return None
    return Path(source).resolve().as_uri() if source else None


def hover(analysis: Analysis, position: types.Position, client: ClientSupport) -> types.Hover | None:
    """The documentation of the rules whose findings cover `position`."""
    offset = analysis.index.offset(position)
    index = analysis.index
    covering = [
        f
        for f in analysis.result.findings
        if index.finding_offset(f.start) <= offset <= index.finding_offset(f.end)
    ]
    rules = [rule for code in dict.fromkeys(f.code for f in covering) if (rule := analysis.rule(code))]
    if not rules:
        return None
    text = "\n\n---\n\n".join(rule_documentation(rule, client.markdown) for rule in rules)
    kind = types.MarkupKind.Markdown if client.markdown else types.MarkupKind.PlainText
    return types.Hover(contents=types.MarkupContent(kind=kind, value=text), range=analysis.finding_range(covering[0]))


def rule_documentation(rule: type[Rule], markdown: bool) -> str:
    """The rule's documentation as `tffix rule` prints it, from the registry (code blocks fenced in Markdown)."""
    from .registry import rule_markdown

    name = f"**{rule.code}** `{rule.name}`" if markdown else f"{rule.code} {rule.name}"
    heading = f"{name}: {rule.summary}"
    return f"{heading}\n\n{rule_markdown(rule, level=3, fence=markdown)}".rstrip()

