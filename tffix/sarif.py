"""A run report as SARIF 2.1.0 (https://docs.oasis-open.org/sarif/sarif/v2.1.0/), for code-scanning services.

Columns are counted in code points (`columnKind: unicodeCodePoints`), as tffix counts them. Paths are relative
to `%SRCROOT%`, the working directory. Fixes are included when their edits were computed (the runner does
for this format); for notebooks they are left out, since their offsets are within a cell, not the file, and
so is the region: the position reads `path[cell N]:line:col` in the message, the cell in `notebookCell`.
Files that could not be analysed are tool execution notifications of the run's invocation.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from urllib.parse import quote

from . import __version__
from .model import Finding, Problem, Severity
from .registry import all_rules, rule_markdown
from .runner import RunReport

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/tffix/"


def _level(severity: Severity) -> str:
    return "error" if severity is Severity.ERROR else "warning"


def _artifact(path: str) -> dict:
    return {"uri": quote(Path(path).as_posix()), "uriBaseId": "%SRCROOT%"}


def _location(path: str, line: int | None = None, column: int | None = None, end=None) -> dict:
    physical: dict = {"artifactLocation": _artifact(path)}
    if line is not None:
        region = {"startLine": max(1, line)}
        if column is not None:
            region["startColumn"] = column + 1
        if end is not None:
            region["endLine"] = end.line
            region["endColumn"] = end.column + 1
        physical["region"] = region
    return {"physicalLocation": physical}


def _result(finding: Finding, rule_index: dict[str, int]) -> dict:
    result: dict = {
        "ruleId": finding.code,
        "level": _level(finding.severity),
        "message": {"text": finding.message},
        "locations": [_location(finding.path, finding.start.line, finding.start.column, finding.end)],
    }
    if finding.cell is not None:  # a line of a cell is no line of the .ipynb file: the position goes in the text
        result["locations"] = [_location(finding.path)]
    if finding.code in rule_index:
        result["ruleIndex"] = rule_index[finding.code]
    if finding.cell is not None:
        result["properties"] = {"notebookCell": finding.cell}
        where = f"{finding.path}[cell {finding.cell}]:{finding.start.line}:{finding.start.column + 1}"
        result["message"]["text"] += f" ({where})"
    elif finding.fix is not None and finding.fix.edits:
        result["fixes"] = [{
            "description": {"text": finding.fix.title},
            "artifactChanges": [{
                "artifactLocation": _artifact(finding.path),
                "replacements": [
                    {"deletedRegion": {"charOffset": e.start, "charLength": e.end - e.start},
                     "insertedContent": {"text": e.text}}
                    for e in finding.fix.edits
                ],
            }],
            "properties": {"applicability": finding.fix.applicability.value},
        }]
    return result


def _notification(problem: Problem) -> dict:
    if problem.cell is not None:  # the position within the notebook cell goes in the text
        return {"level": "error", "message": {"text": str(problem)}, "locations": [_location(problem.path)],
                "properties": {"notebookCell": problem.cell}}
    return {
        "level": "error",
        "message": {"text": f"{problem.kind.value} error: {problem.message}"},
        "locations": [_location(problem.path, problem.line, problem.column)],
    }


def sarif_document(report: RunReport) -> str:
    rules = all_rules()
    rule_index = {rule.code: i for i, rule in enumerate(rules)}
    run = {
        "tool": {
            "driver": {
                "name": "tffix",
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [
                    {
                        "id": rule.code,
                        "name": rule.name,
                        "shortDescription": {"text": rule.summary},
                        "fullDescription": {"text": inspect.cleandoc(rule.__doc__ or rule.summary)},
                        "help": {"text": rule_markdown(rule, fence=False), "markdown": rule_markdown(rule)},
                        "defaultConfiguration": {"level": _level(rule.severity)},
                    }
                    for rule in rules
                ],
            }
        },
        "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri() + "/"}},
        "columnKind": "unicodeCodePoints",
        "invocations": [{
            "executionSuccessful": not report.all_problems and report.interrupted is None,
            "toolExecutionNotifications": [_notification(p) for p in report.all_problems],
        }],
        "results": [_result(f, rule_index) for f in report.findings],
    }
    if report.repositories:  # a run over several repositories: each one's summary
        from .reporting import repository_summaries

        run["properties"] = {"repositories": repository_summaries(report)}
    return json.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2)
