"""Rendering run reports: text lines, JSON, SARIF (tffix.sarif), GitHub annotations, the closing summary,
and the progress bar. Pure functions of the report, except the progress bar, which draws on a console it is
given. The runner and the engine know nothing of any of this."""

from __future__ import annotations

import json
import time
from collections import Counter

from .model import Applicability, Finding, Problem, ProblemKind, Severity
from .runner import RunReport


def finding_line(finding: Finding) -> str:
    cell = f"[cell {finding.cell}]" if finding.cell is not None else ""
    return f"{finding.path}{cell}:{finding.start.line}:{finding.start.column + 1}: {finding.code} {finding.message}"


def text_lines(report: RunReport) -> list[str]:
    return [finding_line(f) for f in report.findings]


def problem_json(problem: Problem) -> dict:
    return {"kind": problem.kind.value, "path": problem.path, "cell": problem.cell, "message": problem.message,
            "line": problem.line, "column": None if problem.column is None else problem.column + 1}


def json_document(report: RunReport) -> str:
    return json.dumps(
        {
            "findings": [f.to_json() for f in report.findings],
            "fixed": [f.to_json() for f in report.fixed],
            "errors": [problem_json(p) for p in report.all_problems],
            "summary": summary_counts(report),
            **({"repositories": repository_summaries(report)} if report.repositories else {}),
        },
        indent=2,
    )


def repository_summaries(report: RunReport) -> list[dict]:
    """A run over several repositories (tffix.repos): each one's summary, in the order they were named."""
    return [{"repository": name, "summary": summary_counts(part)} for name, part in report.repositories]


def repository_lines(report: RunReport) -> list[str]:
    """One line per repository of a run over several: what was found, fixed and could not be read in it."""
    lines = []
    for name, part in report.repositories:
        counts = summary_counts(part)
        fixed = f", {counts['fixed']} fixed" if counts["fixed"] else ""
        failed = f", {counts['failed']} failed" if counts["failed"] else ""
        lines.append(f"{name}: {counts['files']} files, {_findings(counts['findings'])}{fixed}{failed}")
    return lines


def summary_counts(report: RunReport) -> dict:
    too_large = {p.path for p in report.all_problems if p.kind is ProblemKind.SKIPPED}
    failed = ({p.path for p in report.problems} | {o.path for o in report.outcomes if o.problems}) - too_large
    fixes = [f.fix for f in report.findings if f.fix is not None]
    unsafe = sum(fix.applicability is Applicability.UNSAFE for fix in fixes)
    return {
        "files": report.total or len(report.outcomes),
        "processed": len(report.outcomes),
        "analysed": sum(o.analysed for o in report.outcomes),
        "cached": sum(o.cached for o in report.outcomes),
        "skipped": sum(o.skipped for o in report.outcomes),
        "too_large": len(too_large),
        "failed": len(failed),
        "findings": len(report.findings),
        "fixable": len(fixes),  # with --unsafe-fixes; without, fixable_safe
        "fixable_safe": len(fixes) - unsafe,
        "fixable_unsafe": unsafe,
        "fixed": len(report.fixed),
        "written": sum(o.written for o in report.outcomes),
        "findings_by_rule": dict(sorted(Counter(f.code for f in report.findings).items())),
        "fixed_by_rule": dict(sorted(Counter(f.code for f in report.fixed).items())),
        "interrupted": report.interrupted,
    }


def summary_lines(report: RunReport, *, applying: bool = False, dry_run: bool = False,
                  unsafe: bool = False) -> list[str]:
    """The closing summary: files scanned, skipped, failed; findings and fixes per rule, and how many of the
    findings left `tffix apply` fixes as it is run (`unsafe`: with unsafe fixes) and how many only with
    `--unsafe-fixes`. Never "All checks passed!" unless every file was checked and nothing was found."""
    counts = summary_counts(report)
    too_large = f"{counts['too_large']} too large, " if counts["too_large"] else ""
    lines = [
        f"{counts['files']} file{'s' * (counts['files'] != 1)} scanned: {counts['analysed']} analysed, "
        f"{counts['cached']} from the cache, {counts['skipped']} skipped (no rule could match), "
        f"{too_large}{counts['failed']} failed."
    ]
    safe, unsafe_only = counts["fixable_safe"], counts["fixable_unsafe"]
    if unsafe:
        safe, unsafe_only = safe + unsafe_only, 0
    if applying:
        verb = "Would fix" if dry_run else "Fixed"
        fixed_files = sum(bool(o.fixed) for o in report.outcomes)
        left = f"; {counts['findings']} remaining"
        if unsafe_only:
            left += f", {unsafe_only} of them fixable only with `--unsafe-fixes`"
        lines.append(f"{verb} {_findings(counts['fixed'])} in {fixed_files} file{'s' * (fixed_files != 1)}"
                     f"{_by_rule(counts['fixed_by_rule'])}{left}.")
    if counts["findings"]:
        fixable = ""
        if not applying and safe and unsafe_only:
            fixable = f"; {safe} fixable with `tffix apply`, {unsafe_only} more with `tffix apply --unsafe-fixes`"
        elif not applying and safe:
            fixable = f"; {safe} fixable with `tffix apply`"
        elif not applying and unsafe_only:
            fixable = f"; {unsafe_only} fixable with `tffix apply --unsafe-fixes`"
        lines.append(f"Found {_findings(counts['findings'])}{_by_rule(counts['findings_by_rule'])}{fixable}.")
    elif not report.all_problems and not applying and not report.interrupted:
        lines.append("All checks passed!")
    if report.interrupted:
        stopped = f"Interrupted by {report.interrupted} after {counts['processed']} of {counts['files']} files"
        if applying and not dry_run:
            lines.append(f"{stopped}; every file is wholly old or wholly new: run again to finish.")
        else:
            lines.append(f"{stopped}; the other files were not checked: run again for all of them.")
    return lines


def _findings(n: int) -> str:
    return f"{n} finding{'s' * (n != 1)}"


def _by_rule(counts: dict[str, int]) -> str:
    return f" ({', '.join(f'{code}: {n}' for code, n in counts.items())})" if counts else ""


# --- GitHub Actions workflow commands ------------------------------------------------------------------------
def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_lines(report: RunReport) -> list[str]:
    """`::error file=...,line=...,col=...,title=CODE::message`, one per finding and per problem."""
    lines = []
    for f in report.findings:
        level = "error" if f.severity is Severity.ERROR else "warning"
        if f.cell is not None:  # a line of a cell is no line of the .ipynb file: the position goes in the text
            lines.append(f"::{level} file={_escape_property(f.path)},title={_escape_property(f.code)}"
                         f"::{_escape_data(finding_line(f))}")
            continue
        lines.append(
            f"::{level} file={_escape_property(f.path)},line={f.start.line},col={f.start.column + 1},"
            f"endLine={f.end.line},endColumn={f.end.column + 1},title={_escape_property(f.code)}"
            f"::{_escape_data(f.code + ' ' + f.message)}"
        )
    for p in report.all_problems:
        where = f",line={p.line}" if p.line is not None and p.cell is None else ""
        where += f",col={p.column + 1}" if p.column is not None and p.cell is None else ""
        text = str(p) if p.cell is not None else p.message
        lines.append(f"::error file={_escape_property(p.path)}{where},title=tffix {p.kind.value} error"
                     f"::{_escape_data(text)}")
    return lines


# --- progress ------------------------------------------------------------------------------------------------
class ProgressBar:
    """A rich progress bar on `console` (stderr), drawn by the caller's thread only: no refresh thread, so
    worker processes can be forked at any time. Use as a context manager and pass it as the runner's
    `progress` callback."""

    def __init__(self, console, description: str) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=console, transient=True, auto_refresh=False,
        )
        self._task = self._progress.add_task(description, total=None)
        self._drawn = 0.0

    def __enter__(self) -> ProgressBar:
        self._progress.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._progress.stop()

    def __call__(self, done: int, total: int, outcome) -> None:
        self._progress.update(self._task, completed=done, total=total)
        now = time.monotonic()
        if now - self._drawn > 0.1 or done == total:
            self._drawn = now
            self._progress.refresh()
