"""The `tffix` command line: a thin layer that parses options, calls the engine and prints.

Exit codes follow Ruff: 0 nothing to report, 1 findings remain (or, for --dry-run, there are changes),
2 usage errors, unreadable or unparsable files, or internal errors; 130/143 when Ctrl-C/SIGTERM stopped it.
"""

from __future__ import annotations

import copy
import enum
import io
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape

from . import __version__
from .config import ConfigError, Settings, load_settings, matches_a_rule, valid_selectors
from .reporting import ProgressBar, github_lines, json_document, repository_lines, summary_lines, text_lines
from .runner import Mode, RunReport, run

app = typer.Typer(
    name="tffix",
    help="Find and fix the code behind TensorFlow's InvalidArgumentError and silent training bugs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class OutputFormat(str, enum.Enum):
    text = "text"
    json = "json"


class RulesFormat(str, enum.Enum):
    text = "text"
    json = "json"
    markdown = "markdown"  # the README's rule table
    docs = "docs"  # docs/rules.md: the table and every rule's documentation


def _version(value: bool) -> None:
    if value:
        out.print(f"tffix {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """tffix: codemods for TensorFlow failures, proven by execution."""


def _settings(paths: List[Path], config: Optional[Path], select, ignore, extend_select, no_gates=False) -> Settings:
    try:
        start = paths[0] if paths else Path.cwd()
        settings = load_settings(start if start.exists() else Path.cwd(), config=config)
    except ConfigError as exc:
        err.print(f"tffix: error: {escape(str(exc))}")
        raise typer.Exit(EXIT_ERROR) from None
    # As in Ruff, each option takes codes repeated or comma-separated: `--select TFX3,TFX401`.
    select, ignore, extend_select = (
        [code.strip() for value in codes or () for code in value.split(",") if code.strip()]
        for codes in (select, ignore, extend_select)
    )
    for codes in (select, ignore, extend_select):
        for code in codes:
            if not (code == "ALL" or (code.startswith("TFX") and code[3:].isdigit())):
                err.print(f"tffix: error: {code!r} is not a rule code or prefix ({valid_selectors()})")
                raise typer.Exit(EXIT_ERROR)
            if not matches_a_rule(code):
                err.print(f"tffix: error: {code!r} matches no rule ({valid_selectors()})")
                raise typer.Exit(EXIT_ERROR)
    configured = [("select", settings.select), ("ignore", settings.ignore),
                  *((f"per-file-ignores[{pattern!r}]", codes) for pattern, codes in settings.per_file_ignores)]
    for key, codes in configured:
        for code in codes:
            if not matches_a_rule(code):
                err.print(f"tffix: error: {escape(str(settings.source))}: \\[tool.tffix]: {key!r} has {code!r}, "
                          f"which matches no rule ({valid_selectors()})")
                raise typer.Exit(EXIT_ERROR)
    if select:
        settings = replace(settings, select=tuple(select))
    if extend_select:
        settings = replace(settings, select=settings.select + tuple(extend_select))
    if ignore:
        settings = replace(settings, ignore=settings.ignore + tuple(ignore))
    if no_gates:
        settings = replace(settings, gates=False)
    return settings


def _report_problems(report: RunReport) -> None:
    for problem in report.all_problems:
        err.print(f"tffix: {escape(str(problem))}")
    for line in repository_lines(report):
        err.print(escape(line))


PATHS = typer.Argument(None, help="Files or directories to analyse; or repositories (folders, git URLs).",
                       show_default=False, metavar="PATH")
SELECT = typer.Option(None, "--select", metavar="CODES",
                      help="Only these rule codes or prefixes (comma-separated or repeated).")
EXTEND_SELECT = typer.Option(None, "--extend-select", metavar="CODES",
                             help="Rule codes or prefixes to add to the selection.")
IGNORE = typer.Option(None, "--ignore", metavar="CODES", help="Rule codes or prefixes to leave out (repeatable).")
# Help texts are rich markup: a literal `[` is written `\[`.
CONFIG = typer.Option(None, "--config", metavar="FILE",
                      help="A pyproject.toml (its \\[tool.tffix]) or a tffix TOML file.")
FORMAT = typer.Option(OutputFormat.text, "--output-format", "--format", help="How to print findings.")


class ReportFormat(str, enum.Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


REPORT_FORMAT = typer.Option(ReportFormat.text, "--output-format", "--format", help="How to print findings.")
JOBS = typer.Option(None, "--jobs", "-j", min=1, metavar="N", help="Worker processes (default: one per core).")
NO_CACHE = typer.Option(False, "--no-cache", help="Neither read nor write the results cache (.tffix_cache/).")
FORCE_EXCLUDE = typer.Option(False, "--force-exclude", help="Apply `exclude` to files named explicitly too.")


class ExecutorKind(str, enum.Enum):
    local = "local"
    dask = "dask"


EXECUTOR = typer.Option(None, "--executor", help="local: worker processes here; dask: a Dask cluster "
                        "(--scheduler, or a LocalCluster of --jobs workers). Default: \\[tool.tffix] executor, else local.")
SCHEDULER = typer.Option(None, "--scheduler", metavar="ADDRESS",
                         help="The Dask scheduler, e.g. tcp://host:8786 (with --executor dask).")
REPOS_FROM = typer.Option(None, "--repos-from", metavar="FILE",
                          help="Repositories to run over: one folder or git URL a line (URLs are cloned shallowly).")
NO_GATES = typer.Option(False, "--no-gates",
                        help="Run every selected rule on every whole file, skipping nothing (slower; for a suspected miss).")


@app.command()
def check(
    paths: Optional[List[str]] = PATHS,
    output_format: ReportFormat = REPORT_FORMAT,
    select: Optional[List[str]] = SELECT,
    extend_select: Optional[List[str]] = EXTEND_SELECT,
    ignore: Optional[List[str]] = IGNORE,
    config: Optional[Path] = CONFIG,
    jobs: Optional[int] = JOBS,
    no_cache: bool = NO_CACHE,
    force_exclude: bool = FORCE_EXCLUDE,
    executor: Optional[ExecutorKind] = EXECUTOR,
    scheduler: Optional[str] = SCHEDULER,
    repos_from: Optional[Path] = REPOS_FROM,
    no_gates: bool = NO_GATES,
) -> None:
    """Report findings: one line each, path:line:col: CODE message."""
    paths, repositories = _targets(paths, repos_from)
    settings = _settings(paths, config, select, ignore, extend_select, no_gates)
    report = _run(paths, settings, Mode.CHECK, output_format, jobs, no_cache, force_exclude=force_exclude,
                  **_execution(executor, scheduler, repositories, lambda p: _settings([p], config, select, ignore,
                                                                                      extend_select)))
    if not _print_report(report, output_format):
        for line in text_lines(report):
            out.print(escape(line))
        for line in summary_lines(report, unsafe=settings.unsafe_fixes):
            err.print(escape(line))
    _report_problems(report)
    raise typer.Exit(_exit_code(report, changes=False))


@app.command()
def apply(
    paths: Optional[List[str]] = PATHS,
    dry_run: bool = typer.Option(False, "--dry-run", "--diff", help="Print unified diffs; write nothing."),
    unsafe_fixes: Optional[bool] = typer.Option(
        None, "--unsafe-fixes/--no-unsafe-fixes", help="Also make fixes that may change what the program computes."
    ),
    output_format: ReportFormat = REPORT_FORMAT,
    select: Optional[List[str]] = SELECT,
    extend_select: Optional[List[str]] = EXTEND_SELECT,
    ignore: Optional[List[str]] = IGNORE,
    config: Optional[Path] = CONFIG,
    jobs: Optional[int] = JOBS,
    no_cache: bool = NO_CACHE,
    force_exclude: bool = FORCE_EXCLUDE,
    executor: Optional[ExecutorKind] = EXECUTOR,
    scheduler: Optional[str] = SCHEDULER,
    repos_from: Optional[Path] = REPOS_FROM,
    no_gates: bool = NO_GATES,
) -> None:
    """Apply the fixes in place (atomically), or show them as diffs with --dry-run."""
    paths, repositories = _targets(paths, repos_from)
    settings = _settings(paths, config, select, ignore, extend_select, no_gates)
    report = _run(paths, settings, Mode.DIFF if dry_run else Mode.FIX, output_format, jobs, no_cache, unsafe_fixes,
                  force_exclude=force_exclude,
                  **_execution(executor, scheduler, repositories, lambda p: _settings([p], config, select, ignore,
                                                                                      extend_select)))
    if not _print_report(report, output_format):
        sys.stdout.flush()
        for outcome in report.outcomes:
            sys.stdout.buffer.write(outcome.diff)  # bytes: the diff must reach `git apply` byte for byte
        sys.stdout.buffer.flush()
        for line in text_lines(report):
            err.print(escape(line))
        unsafe = settings.unsafe_fixes if unsafe_fixes is None else unsafe_fixes
        for line in summary_lines(report, applying=True, dry_run=dry_run, unsafe=unsafe):
            err.print(escape(line))
    _report_problems(report)
    raise typer.Exit(_exit_code(report, changes=dry_run and any(o.diff for o in report.outcomes)))


def _run(paths, settings: Settings, mode: Mode, output_format: ReportFormat, jobs, no_cache, unsafe=None,
         force_exclude=False, executor=None, scheduler=None, repositories=None, settings_for=None):
    """The run, with a progress bar on stderr when that is a terminal; over each repository when there are
    several (`tffix.repos`), on one executor."""
    options = dict(unsafe=unsafe, jobs=jobs, cache=not no_cache, force_exclude=force_exclude,
                   with_edits=output_format in (ReportFormat.json, ReportFormat.sarif),
                   executor=executor, scheduler=scheduler)
    if repositories is not None:
        return _run_repositories(repositories, settings, mode, settings_for, options)
    try:
        if not err.is_terminal:
            return run(paths, settings, mode, **options)
        with ProgressBar(err, "checking" if mode is Mode.CHECK else "fixing") as bar:
            return run(paths, settings, mode, progress=bar, **options)
    except RuntimeError as exc:  # the executor cannot start (dask not installed, no scheduler there)
        err.print(f"tffix: error: {escape(str(exc))}")
        raise typer.Exit(EXIT_ERROR) from None


def _targets(paths: Optional[List[str]], repos_from: Optional[Path]):
    """The local paths to run over, and the repositories when this is a run over several (else None)."""
    from .repos import is_url, read_list

    entries = list(paths or ())
    if repos_from is not None:
        try:
            entries += read_list(repos_from)
        except (OSError, UnicodeDecodeError) as exc:
            err.print(f"tffix: error: --repos-from {escape(str(repos_from))}: {escape(str(exc))}")
            raise typer.Exit(EXIT_ERROR) from None
    if not entries:
        err.print("tffix: error: no PATH given (and no --repos-from)")
        raise typer.Exit(EXIT_ERROR)
    # Several repositories: a list of them, a URL, or more than one checkout's root (`tffix check src tests`
    # in one project is one run, as before).
    roots = [e for e in entries if is_url(e) or (Path(e) / ".git").exists()]
    several = repos_from is not None or any(is_url(e) for e in entries) or len(roots) > 1
    return [Path(e) for e in entries if not is_url(e)], (entries if several else None)


def _execution(executor, scheduler, repositories, settings_for) -> dict:
    return dict(executor=executor.value if executor is not None else None, scheduler=scheduler,
                repositories=repositories, settings_for=settings_for)


def _run_repositories(entries, settings: Settings, mode: Mode, settings_for, options) -> RunReport:
    from .executors import make_executor
    from .repos import Checkouts, run_repositories

    jobs, scheduler = options.pop("jobs"), options.pop("scheduler") or settings.scheduler
    kind = options.pop("executor") or settings.executor
    with Checkouts(entries) as checkouts:
        try:
            executor = make_executor(kind, jobs=jobs, scheduler=scheduler)
        except RuntimeError as exc:
            err.print(f"tffix: error: {escape(str(exc))}")
            raise typer.Exit(EXIT_ERROR) from None
        try:
            return run_repositories(checkouts.repositories, lambda repository: run(
                [repository.folder], settings_for(repository.folder), mode, executor=executor, **options))
        finally:
            executor.close()


def _print_report(report: RunReport, output_format: ReportFormat) -> bool:
    """Print the report in a machine-readable format on stdout; False for text (the caller prints it)."""
    if output_format is ReportFormat.json:
        sys.stdout.write(json_document(report) + "\n")
    elif output_format is ReportFormat.sarif:
        from .sarif import sarif_document

        sys.stdout.write(sarif_document(report) + "\n")
    elif output_format is ReportFormat.github:
        sys.stdout.write("".join(line + "\n" for line in github_lines(report)))
    else:
        return False
    if report.interrupted:
        err.print(f"tffix: interrupted by {report.interrupted}; run again to finish")
    return True


def _exit_code(report: RunReport, *, changes: bool) -> int:
    if report.interrupted:
        return 128 + int(getattr(signal, report.interrupted))  # 130 for Ctrl-C, 143 for SIGTERM
    if report.all_problems:
        return EXIT_ERROR
    return EXIT_FINDINGS if (report.findings or changes) else EXIT_CLEAN


@app.command("rules")
def list_rules(
    output_format: RulesFormat = typer.Option(RulesFormat.text, "--output-format", "--format",
                                              help="text, json, markdown (the README's table), or docs "
                                                   "(docs/rules.md)."),
) -> None:
    """List the rules."""
    from .catalogue import entries, markdown_table  # the rules' facts without importing them (LibCST)

    if output_format is RulesFormat.docs:
        from .registry import rules_page  # the rules' documentation is in their modules

        sys.stdout.write(rules_page())
        return
    if output_format is RulesFormat.markdown:
        sys.stdout.write(markdown_table())
        return
    rules = entries()
    if output_format is RulesFormat.json:
        import json

        sys.stdout.write(json.dumps([rule.to_json() for rule in rules], indent=2) + "\n")
        return
    from rich.table import Table  # not on the path of a check (it imports decimal and fractions)

    table = Table(show_edge=False, box=None, pad_edge=False)
    for column in ("code", "name", "fix", "selected", "summary"):
        table.add_column(column)
    for rule in rules:
        # "by code": not in the default selection, run only when a select entry is its full code.
        selected = "default" if rule.default_selected else "by code"
        table.add_row(rule.code, rule.name, rule.fix, selected, escape(rule.summary))
    if out.is_terminal:
        out.print(table)
        return
    # Piped, rich would fit the table into 80 columns and cut the names: print it at its full width.
    wide = Console(file=io.StringIO(), highlight=False, width=1000)
    wide.print(table)
    sys.stdout.write("".join(line.rstrip() + "\n" for line in wide.file.getvalue().splitlines()))


@app.command("rule")
def show_rule(code: str = typer.Argument(..., metavar="CODE", help="A rule code, e.g. TFX301.")) -> None:
    """Print one rule's documentation and an example."""
    from .registry import fix_kind, rule_by_code, rule_markdown

    rule = rule_by_code(code)
    if rule is None:
        err.print(f"tffix: error: no rule {code!r}; `tffix rules` lists them")
        raise typer.Exit(EXIT_ERROR)
    # A rule out of the default selection says so where its documentation starts, with how to turn it on.
    selection = "" if rule.default_selected else f"; runs only when selected by code: select = [\"{rule.code}\"]"
    out.print(f"[bold]{rule.code}[/bold] {rule.name} ({rule.severity.value}; fix: {fix_kind(rule)}{escape(selection)})\n")
    # The rule's own documentation (its module docstring's sections; the example from its INVALID examples).
    out.file.flush()
    sys.stdout.write(rule_markdown(rule))


@app.command()
def verify(
    file: Path = typer.Argument(..., exists=False, metavar="FILE", help="The Python file to fix and prove."),
    command: Optional[List[str]] = typer.Argument(None, metavar="COMMAND",
                                                  help="After --: the command that runs the program."),
    write: bool = typer.Option(False, "--write", help="Keep the fixes if the after-run succeeds."),
    unsafe_fixes: bool = typer.Option(False, "--unsafe-fixes", help="Include unsafe fixes."),
    timeout: float = typer.Option(300.0, "--timeout", metavar="SECONDS", help="Seconds each run may take."),
    config: Optional[Path] = CONFIG,
) -> None:
    """Run the program before and after the fixes and show both outcomes side by side."""
    from .engine import Engine
    from .source import SourceError, WriteRefused
    from .verify import verify as run_verify

    settings = _settings([file], config, None, None, None)
    if not file.is_file():
        err.print(f"tffix: error: {escape(str(file))}: no such file")
        raise typer.Exit(EXIT_ERROR)
    try:
        result = run_verify(file, Engine(settings), command=command or None, unsafe=unsafe_fixes, progress=_phase,
                            write=write, timeout=timeout)
    except (SourceError, WriteRefused, OSError) as exc:
        err.print(f"tffix: error: {escape(str(file))}: {escape(str(exc))}")
        raise typer.Exit(EXIT_ERROR) from None
    if result.fix.problems and not result.fix.changed:
        for problem in result.fix.problems:
            err.print(f"tffix: {escape(str(problem))}")
        raise typer.Exit(EXIT_ERROR)
    if not result.fix.changed:
        out.print(f"{escape(str(file))}: nothing to fix, nothing to verify.")
        raise typer.Exit(EXIT_CLEAN)
    for finding in result.fix.applied:
        out.print(f"fix: {finding.code} {escape(finding.message)} (line {finding.start.line})")
    from rich.table import Table

    table = Table(title=f"tffix verify {escape(str(file))}")
    table.add_column("")
    table.add_column("before")
    table.add_column("after")
    assert result.before is not None and result.after is not None
    table.add_row("outcome", escape(result.before.summary()), escape(result.after.summary()))
    table.add_row("exit code", str(result.before.exit_code), str(result.after.exit_code))
    table.add_row("last output", escape(_tail(result.before)), escape(_tail(result.after)))
    out.print(table)
    if result.after.ok:
        if result.written:
            out.print(f"The after-run succeeded; fixes written to {escape(str(file))}.")
        else:
            out.print("The after-run succeeded. Nothing written; run again with --write to keep the fixes.")
        raise typer.Exit(EXIT_CLEAN)
    out.print("The after-run failed; nothing written.")
    raise typer.Exit(EXIT_FINDINGS)


def _phase(text: str) -> None:
    """A phase of `tffix verify` on stderr (the runs take as long as the program does)."""
    err.print(f"tffix verify: {escape(text)}...")


def _tail(outcome, lines: int = 3) -> str:
    text = (outcome.stdout.strip() or outcome.stderr.strip()).splitlines()
    return "\n".join(text[-lines:])


@app.command("explain")
def explain_command(
    log: Optional[Path] = typer.Argument(None, metavar="LOG",
                                         help="A traceback or log file; standard input if absent or '-'."),
    output_format: OutputFormat = FORMAT,
    root: Optional[Path] = typer.Option(
        None, "--root", metavar="DIR", help="Where the log's files are looked up, e.g. for a Colab log (default: here)."
    ),
    unsafe_fixes: bool = typer.Option(False, "--unsafe-fixes", help="Also show fixes that may change results."),
) -> None:
    """Explain a TensorFlow failure from its traceback or log: the finding at your line and its fix.

    Exit codes: 0 explained with a fix, 1 no fix (recognised or not), 2 unreadable input or no error in it.
    """
    from .cli_explain import explain_cli

    raise typer.Exit(explain_cli(log, json_output=output_format is OutputFormat.json, root=root,
                                 unsafe=unsafe_fixes))


@app.command("run", context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True})
def run_command_line(
    command: List[str] = typer.Argument(..., metavar="COMMAND",
                                        help="The command, after --: tffix run -- python train.py"),
    fix: bool = typer.Option(
        False, "--fix", help="Apply the matching fixes, run again, keep them only if the run then succeeds."
    ),
    timeout: Optional[float] = typer.Option(None, "--timeout", metavar="SECONDS",
                                            help="Seconds each run may take (default: no limit)."),
    unsafe_fixes: bool = typer.Option(False, "--unsafe-fixes", help="Also try fixes that may change results."),
) -> None:
    """Run a command; if it fails, explain why (on stderr). Exits with the command's exit code."""
    from .cli_explain import run_cli

    raise typer.Exit(run_cli(command, fix=fix, timeout=timeout, unsafe=unsafe_fixes))


@app.command("repair", context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True})
def repair_command_line(
    file: Path = typer.Argument(..., metavar="FILE", help="The crashing program (a .py file)."),
    args: Optional[List[str]] = typer.Argument(None, metavar="ARGS", help="Its arguments, after --."),
    write: bool = typer.Option(False, "--write", help="Write the repair to FILE (atomically) once a re-run proves it."),
    timeout: Optional[float] = typer.Option(None, "--timeout", metavar="SECONDS",
                                            help="Seconds the first run may take (default: 600)."),
) -> None:
    """Repair a crashing program from the shapes it really has: observe it, try the repair patterns that fit,
    keep the first a re-run proves. Exit codes: 0 repaired (or no crash), 1 no repair, 2 bad input."""
    from .repair.cli import repair_cli

    raise typer.Exit(repair_cli(file, args or [], write=write, timeout=timeout))


@app.command()
def clean() -> None:
    """Remove the results cache (.tffix_cache/) here, in every folder below, and at this project's root."""
    from .cache import clean as remove_caches

    try:
        root = load_settings(Path.cwd()).root
    except ConfigError:  # a broken configuration must not keep its cache alive
        root = None
    for folder in remove_caches(Path.cwd(), root):
        err.print(f"Removing cache at: {escape(str(folder))}")


@app.command()
def lsp() -> None:
    """Start the language server on stdio (needs the 'lsp' extra)."""
    try:
        from .lsp import serve_stdio
    except ImportError as exc:
        err.print(f"tffix: error: the language server needs pygls: pip install 'tffix[lsp]' ({exc})")
        raise typer.Exit(EXIT_ERROR) from None
    serve_stdio()


def _no_type_placeholders() -> None:
    """typer's help prints a type after an argument: `<path>` or `<str>` after the paths. Keep what tells the
    user something (choices such as `<text|json>`, the metavars set above) and drop the rest: an argument's
    metavar already names it. (typer below 0.29, as pyproject.toml pins it, prints no type after a flag.)

    The help's type column of an argument is its type's metavar, else `<type name>`: an argument with a
    metavar gets a type (a subclass: it converts and checks as before) whose metavar is ""."""
    from typer.core import TyperArgument

    if getattr(TyperArgument, "_tffix_tidy", False):
        return
    TyperArgument._tffix_tidy = True
    unnamed: dict[type, type] = {}
    argument_init = TyperArgument.__init__

    def init(self, *args, **kwargs):
        argument_init(self, *args, **kwargs)
        if self.metavar is not None:
            kind = type(self.type)
            if kind not in unnamed:
                unnamed[kind] = type(kind.__name__, (kind,), {"get_metavar": lambda _, *a, **k: ""})
            self.type = copy.copy(self.type)
            self.type.__class__ = unnamed[kind]

    TyperArgument.__init__ = init


_no_type_placeholders()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
