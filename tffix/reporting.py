"""Rendering run reports as text lines or JSON. Pure functions of the report: no printing here."""

from __future__ import annotations

import json
from collections import Counter

from .model import Finding
from .runner import RunReport


def finding_line(finding: Finding) -> str:
    cell = f"[cell {finding.cell}]" if finding.cell is not None else ""
    return f"{finding.path}{cell}:{finding.start.line}:{finding.start.column + 1}: {finding.code} {finding.message}"


def text_lines(report: RunReport) -> list[str]:
    return [finding_line(f) for f in report.findings]


def json_document(report: RunReport) -> str:
    return json.dumps(
        {
            "findings": [f.to_json() for f in report.findings],
            "fixed": [f.to_json() for f in report.fixed],
            "errors": [
                {"kind": p.kind.value, "path": p.path, "message": p.message, "line": p.line,
                 "column": None if p.column is None else p.column + 1}
                for p in report.all_problems
            ],
            "summary": summary_counts(report),
        },
        indent=2,
    )


def summary_counts(report: RunReport) -> dict:
    return {
        "files": len(report.outcomes),
        "skipped": sum(o.skipped for o in report.outcomes),
        "failed": len({p.path for p in report.all_problems}),
        "findings": len(report.findings),
        "fixable": sum(f.fixable for f in report.findings),
        "fixed": len(report.fixed),
        "written": sum(o.written for o in report.outcomes),
        "findings_by_rule": dict(sorted(Counter(f.code for f in report.findings).items())),
        "fixed_by_rule": dict(sorted(Counter(f.code for f in report.fixed).items())),
    }
