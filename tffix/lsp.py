"""`tffix lsp`: the engine's findings as diagnostics and its fixes as code actions, in any LSP editor.

A thin layer over `tffix.engine.Engine`: this module keeps the open documents, converts the engine's code-point
offsets to the negotiated position encoding (`tffix.lsp_positions`), and speaks the protocol through pygls. Like
the engine, it only parses the user's code, never runs it.

Documents are synchronised in full, not incrementally: the engine re-parses the whole text on every check anyway,
and a full copy is exact by construction, with no edit arithmetic in which the editor's idea of a line and ours
could drift apart.
"""

from __future__ import annotations

import asyncio
import ast
import functools
import inspect
import io
import logging
import sys
import tokenize
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from . import __version__
from .config import ConfigError, Settings, load_settings
from .edits import diff_edits
from .engine import SUPPRESSION_COMMENT  # the engine's own pattern, so that both agree
from .engine import Engine
from .lsp_positions import UTF16, LineIndex
from .model import Applicability, CheckResult, Finding, Problem, ProblemKind, Severity, TextEdit
from .rule import Rule

logger = logging.getLogger("tffix.lsp")

SOURCE = "tffix"
FIX_ALL_KIND = f"{types.CodeActionKind.SourceFixAll.value}.tffix"
DEBOUNCE_SECONDS = 0.3  # typing pauses shorter than this do not start a check
PYPROJECT = "pyproject.toml"

EngineFactory = Callable[[Settings], Engine]
Result = TypeVar("Result")

_SEVERITIES = {Severity.ERROR: types.DiagnosticSeverity.Error, Severity.WARNING: types.DiagnosticSeverity.Warning}


# --- values ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Document:
    """One version of an open document, as the client last sent it."""

    uri: str
    version: int
    text: str
    language_id: str

    @functools.cached_property
    def file(self) -> Path | None:
        path = to_fs_path(self.uri)
        return Path(path) if path else None

    @property
    def path(self) -> str:
        """What the engine is told: the file's path, or the URI of a document that is not a file (untitled:)."""
        return str(self.file) if self.file else self.uri

    @property
    def is_python(self) -> bool:
        return self.language_id == "python" or (self.file is not None and self.file.suffix in (".py", ".pyi"))


@dataclass(frozen=True)
class Analysis:
    """What the engine found in one version of a document, with the means to express it in client positions."""

    document: Document
    index: LineIndex
    engine: Engine | None  # None when the configuration could not be read
    result: CheckResult
    config_error: str | None = None

    @property
    def version(self) -> int:
        return self.document.version

    def rule(self, code: str) -> type[Rule] | None:
        rules = self.engine.rules if self.engine else ()
        return next((rule for rule in rules if rule.code == code), None)

    def finding_range(self, finding: Finding) -> types.Range:
        return self.index.range(self.index.finding_offset(finding.start), self.index.finding_offset(finding.end))

    def finding_for(self, diagnostic: types.Diagnostic) -> Finding | None:
        """The finding that `diagnostic` was published for, if it was published for this version."""
        data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
        if diagnostic.source != SOURCE or data.get("version") != self.version:
            return None
        return next(
            (
                finding
                for finding in self.result.findings
                if finding.code == diagnostic.code and self.finding_range(finding) == diagnostic.range
            ),
            None,
        )

    @property
    def has_safe_fix(self) -> bool:
        return any(f.fix is not None and f.fix.applicability is Applicability.SAFE for f in self.result.findings)


class Engines:
    """One engine per folder, built from the `[tool.tffix]` that governs it; all forgotten when a pyproject.toml
    changes. Used from the engine worker thread only, so it needs no lock."""

    def __init__(self, factory: EngineFactory) -> None:
        self._factory = factory
        self._by_folder: dict[Path, Engine | ConfigError] = {}

    def for_document(self, document: Document) -> Engine | ConfigError:
        folder = document.file.parent if document.file else Path.cwd()
        if folder not in self._by_folder:
            try:
                self._by_folder[folder] = self._factory(load_settings(start=folder))
            except ConfigError as error:
                self._by_folder[folder] = error
        return self._by_folder[folder]

    def forget(self) -> None:
        self._by_folder.clear()


def analyze(document: Document, engines: Engines, encoding: str) -> Analysis:
    """Check one version of a document. `exclude` does not apply: like a path named on the command line, a file
    the user opened is always checked."""
    index = LineIndex(document.text, encoding)
    engine = engines.for_document(document)
    if isinstance(engine, ConfigError):
        return Analysis(document, index, None, CheckResult(document.path), config_error=str(engine))
    result = engine.check(document.text, document.path)
    for problem in result.problems:
        if problem.kind is ProblemKind.INTERNAL:  # a tffix bug, not the user's: for the log, not the editor
            logger.warning("%s", problem)
    return Analysis(document, index, engine, result)


# --- diagnostics -------------------------------------------------------------------------------------------------
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


# --- code actions ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClientSupport:
    """The parts of the client's capabilities that change what the server sends."""

    versioned_edits: bool  # WorkspaceEdit.documentChanges, which the client refuses to apply to another version
    lazy_edits: bool  # codeAction/resolve may fill in `edit`
    markdown: bool

    @classmethod
    def of(cls, capabilities: types.ClientCapabilities) -> ClientSupport:
        resolvable = get_capability(capabilities, "text_document.code_action.resolve_support.properties", [])
        formats = get_capability(capabilities, "text_document.hover.content_format", [])
        return cls(
            versioned_edits=bool(get_capability(capabilities, "workspace.workspace_edit.document_changes", False)),
            lazy_edits="edit" in resolvable,
            markdown=types.MarkupKind.Markdown in formats,
        )


def code_actions(analysis: Analysis, params: types.CodeActionParams, client: ClientSupport) -> list[types.CodeAction]:
    """Quick fixes and ignore comments for the client's diagnostics of this version, and the file's fix-all.

    Diagnostics published for another version get nothing: their ranges describe text that is gone.
    """
    wanted = params.context.only
    matched = [(d, f) for d in params.context.diagnostics if (f := analysis.finding_for(d)) is not None]
    actions = []
    if _wants(wanted, types.CodeActionKind.QuickFix):
        actions += [_fix_action(analysis, d, f, client) for d, f in matched if f.fix is not None]
        actions += _ignore_actions(analysis, matched, client)
    if _wants(wanted, types.CodeActionKind.RefactorRewrite):
        actions += refactor_actions(analysis, params.range, client)
    if _wants(wanted, FIX_ALL_KIND) and analysis.has_safe_fix:
        action = types.CodeAction(
            title="tffix: apply all safe fixes",
            kind=FIX_ALL_KIND,
            data={"uri": analysis.document.uri, "version": analysis.version},
        )
        if not client.lazy_edits:
            action.edit = fix_all_edit(analysis, client)
        actions.append(action)
    return actions


def refactor_actions(analysis: Analysis, requested: types.Range, client: ClientSupport) -> list[types.CodeAction]:
    """The fixes of the rules that report no bug and run only when selected by name (TFX103: make a tensor's
    copy to another device explicit), offered as `refactor.rewrite` actions on the `with tf.device(...)` block
    around the requested range, for that block's findings. Rules the configuration selects give quick fixes."""
    if analysis.engine is None:
        return []
    selected = {rule.code for rule in analysis.engine.rules}
    engine = _refactoring_engine()
    if not engine.rules or {rule.code for rule in engine.rules} <= selected:
        return []
    block = _device_block(analysis.document.text, requested.start.line + 1, requested.end.line + 1)
    if block is None:
        return []
    actions = []
    for finding in engine.check(analysis.document.text, analysis.document.path).findings:
        if finding.fix is None or finding.code in selected or not block[0] <= finding.start.line <= block[1]:
            continue
        actions.append(
            types.CodeAction(
                title=f"{finding.fix.title} ({finding.code})",
                kind=types.CodeActionKind.RefactorRewrite,
                edit=_workspace_edit(analysis, finding.fix.edits, client),
            )
        )
    return actions


@functools.cache
def _refactoring_engine() -> Engine:
    from .registry import all_rules

    return Engine(rules=[rule for rule in all_rules() if not rule.default_selected])


def _device_block(text: str, first: int, last: int) -> tuple[int, int] | None:
    """The 1-based first and last line of the innermost `with ...device(...):` statement that holds lines
    `first`..`last`, or None."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    found = None
    for node in ast.walk(tree):
        if (
            isinstance(node, (ast.With, ast.AsyncWith))
            and node.lineno <= first
            and last <= (node.end_lineno or node.lineno)
            and any(_is_device_call(item.context_expr) for item in node.items)
            and (found is None or node.lineno >= found[0])
        ):
            found = (node.lineno, node.end_lineno or node.lineno)
    return found


def _is_device_call(expression: ast.expr) -> bool:
    if not isinstance(expression, ast.Call):
        return False
    func = expression.func
    return (isinstance(func, ast.Attribute) and func.attr == "device") or (isinstance(func, ast.Name) and func.id == "device")


def _wants(only: Iterable[str] | None, kind: str) -> bool:
    return only is None or any(kind == w or kind.startswith(f"{w}.") for w in only)


def _fix_action(
    analysis: Analysis, diagnostic: types.Diagnostic, finding: Finding, client: ClientSupport
) -> types.CodeAction:
    fix = finding.fix
    assert fix is not None
    safe = fix.applicability is Applicability.SAFE
    return types.CodeAction(
        title=f"{fix.title} ({finding.code})" if safe else f"{fix.title} ({finding.code}, unsafe)",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        is_preferred=safe,
        edit=_workspace_edit(analysis, fix.edits, client),
    )


def _ignore_actions(
    analysis: Analysis, matched: list[tuple[types.Diagnostic, Finding]], client: ClientSupport
) -> list[types.CodeAction]:
    actions = []
    done: set[tuple[str, int]] = set()
    for diagnostic, finding in matched:
        key = (finding.code, finding.start.line)
        if key in done:
            continue
        done.add(key)
        edit = ignore_comment_edit(analysis.index, finding.start.line - 1, finding.code)
        if edit is not None:
            actions.append(
                types.CodeAction(
                    title=f"Ignore {finding.code} on this line",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    edit=_workspace_edit(analysis, (edit,), client),
                )
            )
    return actions


def fix_all_edit(analysis: Analysis, client: ClientSupport) -> types.WorkspaceEdit | None:
    """Every safe fix of the file, as the few edits that turn its text into the engine's fixed text."""
    if analysis.engine is None:
        return None
    fixed = analysis.engine.fix(analysis.document.text, analysis.document.path, unsafe=False)
    for problem in fixed.problems:
        logger.warning("%s", problem)
    edits = diff_edits(analysis.document.text, fixed.fixed_source)
    return _workspace_edit(analysis, edits, client) if edits else None


def _workspace_edit(analysis: Analysis, edits: Iterable[TextEdit], client: ClientSupport) -> types.WorkspaceEdit:
    lsp_edits = [analysis.index.text_edit(edit) for edit in edits]
    document = analysis.document
    if client.versioned_edits:
        identifier = types.OptionalVersionedTextDocumentIdentifier(uri=document.uri, version=document.version)
        return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(text_document=identifier, edits=lsp_edits)])
    return types.WorkspaceEdit(changes={document.uri: lsp_edits})


def ignore_comment_edit(index: LineIndex, line: int, code: str) -> TextEdit | None:
    """The edit that makes the engine ignore `code` on 0-based `line`: a `# tffix: ignore[CODE]` comment at the
    line's end, or CODE added to the one already there.

    None when the line cannot end in a comment without changing the program: it continues with a backslash or
    ends inside a string. Also None for text with lone '\\r' line breaks, where tokenize's lines are not ours.
    """
    text = index.text
    if "\r" in text.replace("\r\n", ""):
        return None
    comment: tokenize.TokenInfo | None = None
    ends_in_code = False
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            row = token.start[0] - 1
            if row > line:
                break
            if row == line and token.type == tokenize.COMMENT:
                comment = token
            elif row == line and token.type in (tokenize.NEWLINE, tokenize.NL):
                ends_in_code = True
    except (tokenize.TokenError, SyntaxError):
        return None
    start_of_line = index.starts[line]
    end_of_line = index.content_end(line)
    if comment is not None:
        comment_start = start_of_line + comment.start[1]
        match = SUPPRESSION_COMMENT.search(comment.string)
        if match is not None and match.group("codes") is not None:
            codes = match.group("codes")
            at = comment_start + match.start("codes") + len(codes.rstrip())
            return TextEdit(at, at, f", {code}" if codes.strip() else code)
        return TextEdit(comment_start + len(comment.string.rstrip()), end_of_line, f"  # tffix: ignore[{code}]")
    if not ends_in_code:
        return None
    end_of_code = start_of_line + len(text[start_of_line:end_of_line].rstrip(" \t\f"))
    return TextEdit(end_of_code, end_of_line, f"  # tffix: ignore[{code}]")


# --- hover -------------------------------------------------------------------------------------------------------
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


# --- the server --------------------------------------------------------------------------------------------------
class TffixLanguageServer(LanguageServer):
    def __init__(self, engine_factory: EngineFactory) -> None:
        super().__init__("tffix", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full)
        self.documents: dict[str, Document] = {}
        self.engines = Engines(engine_factory)
        # One worker: checks run off the event loop (so requests and cancellations keep flowing) and one at a time.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tffix-engine")
        self._analyses: dict[str, tuple[int, asyncio.Future[Analysis]]] = {}
        self._scheduled: dict[str, asyncio.Task[None]] = {}

    @property
    def client_support(self) -> ClientSupport:
        return ClientSupport.of(self.client_capabilities)

    async def in_worker(self, function: Callable[..., Result], *args: Any) -> Result:
        return await asyncio.get_running_loop().run_in_executor(self._worker, function, *args)

    async def analysis(self, uri: str) -> Analysis | None:
        """The analysis of the document's current version, computed once per version."""
        document = self.documents.get(uri)
        if document is None:
            return None
        cached = self._analyses.get(uri)
        if cached is None or cached[0] != document.version:
            encoding = self.workspace.position_encoding or UTF16
            future = asyncio.ensure_future(self.in_worker(analyze, document, self.engines, encoding))
            cached = self._analyses[uri] = (document.version, future)
        # Shielded: a publish cancelled by newer typing must not cancel the check that others are waiting for.
        return await asyncio.shield(cached[1])

    async def publish(self, uri: str) -> None:
        analysis = await self.analysis(uri)
        current = self.documents.get(uri)
        if analysis is None or current is None or current.version != analysis.version:
            return  # closed, or a newer version is on its way and will publish for itself
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics(analysis), version=analysis.version)
        )

    def publish_soon(self, uri: str) -> None:
        """Publish after the debounce delay unless the document changes again first: the newest version wins."""
        self.cancel_scheduled(uri)
        self._scheduled[uri] = asyncio.ensure_future(self._publish_after_debounce(uri))

    async def _publish_after_debounce(self, uri: str) -> None:
        await asyncio.sleep(DEBOUNCE_SECONDS)
        await _logged_call(f"publishing diagnostics for {uri}", self.publish(uri))

    def cancel_scheduled(self, uri: str) -> None:
        task = self._scheduled.pop(uri, None)
        if task is not None:
            task.cancel()

    def forget(self, uri: str) -> None:
        self.cancel_scheduled(uri)
        self.documents.pop(uri, None)
        self._analyses.pop(uri, None)

    async def reload_configuration(self) -> None:
        logger.info("a pyproject.toml changed: reading the configuration again")
        await self.in_worker(self.engines.forget)
        self._analyses.clear()
        await asyncio.gather(*(_logged_call(f"re-checking {uri}", self.publish(uri)) for uri in list(self.documents)))


async def _logged_call(what: str, call: Awaitable[Result], fallback: Result | None = None) -> Result | None:
    """Run `call`; a failure is logged with its traceback and gives `fallback`: one bad request or document must
    never take the server down."""
    try:
        return await call
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("tffix: %s failed", what)
        return fallback


def create_server(engine_factory: EngineFactory = Engine) -> TffixLanguageServer:
    """A tffix language server. `engine_factory` builds the engine for the settings of each folder: tests pass
    one with their own rules."""
    server = TffixLanguageServer(engine_factory)

    @server.feature(types.INITIALIZED)
    async def initialized(params: types.InitializedParams) -> None:
        if get_capability(server.client_capabilities, "workspace.did_change_watched_files.dynamic_registration", False):
            watcher = types.FileSystemWatcher(glob_pattern=f"**/{PYPROJECT}")
            registration = types.Registration(
                id="tffix-pyproject",
                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=[watcher]),
            )
            await _logged_call(
                "watching pyproject.toml files",
                server.client_register_capability_async(types.RegistrationParams(registrations=[registration])),
            )

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        document = Document(item.uri, item.version, item.text, item.language_id)
        if document.is_python:
            server.documents[item.uri] = document
            await _logged_call(f"checking {item.uri}", server.publish(item.uri))

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        previous = server.documents.get(uri)
        if previous is None or not params.content_changes:
            return
        # Full synchronisation: the last change holds the whole new text.
        text = params.content_changes[-1].text
        server.documents[uri] = Document(uri, params.text_document.version, text, previous.language_id)
        server.publish_soon(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    async def did_save(params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri.endswith(f"/{PYPROJECT}"):
            await server.reload_configuration()
        elif uri in server.documents:
            server.cancel_scheduled(uri)
            await _logged_call(f"checking {uri}", server.publish(uri))

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri in server.documents:
            server.forget(uri)
            server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def did_change_watched_files(params: types.DidChangeWatchedFilesParams) -> None:
        if any(change.uri.endswith(f"/{PYPROJECT}") for change in params.changes):
            await server.reload_configuration()

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite, FIX_ALL_KIND],
            resolve_provider=True,
        ),
    )
    async def code_action(params: types.CodeActionParams) -> list[types.CodeAction] | None:
        async def actions() -> list[types.CodeAction]:
            analysis = await server.analysis(params.text_document.uri)
            if analysis is None:
                return []
            return await server.in_worker(code_actions, analysis, params, server.client_support)

        return await _logged_call(f"code actions for {params.text_document.uri}", actions())

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve_code_action(action: types.CodeAction) -> types.CodeAction:
        async def resolved() -> types.CodeAction:
            data = action.data if isinstance(action.data, dict) else {}
            if action.kind != FIX_ALL_KIND or "uri" not in data:
                return action
            analysis = await server.analysis(data["uri"])
            if analysis is None or analysis.version != data.get("version"):
                return action  # the document changed since the action was offered: no edits rather than wrong ones
            action.edit = await server.in_worker(fix_all_edit, analysis, server.client_support)
            return action

        return await _logged_call("resolving a code action", resolved(), fallback=action)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def on_hover(params: types.HoverParams) -> types.Hover | None:
        async def documentation() -> types.Hover | None:
            analysis = await server.analysis(params.text_document.uri)
            return hover(analysis, params.position, server.client_support) if analysis else None

        return await _logged_call(f"hover in {params.text_document.uri}", documentation())

    return server


def serve_stdio(engine_factory: EngineFactory = Engine) -> None:
    """Run the language server on standard input and output until the client says exit. Logs go to stderr,
    which editors show as the server's log."""
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pygls").setLevel(logging.WARNING)  # it logs every message at INFO, file contents included
    create_server(engine_factory).start_io()


if __name__ == "__main__":
    serve_stdio()
