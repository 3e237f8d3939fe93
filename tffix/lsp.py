"""`tffix lsp`: the engine's findings as diagnostics and its fixes as code actions, in any LSP editor.

A thin layer over `tffix.engine.Engine`, speaking the protocol through pygls: this module wires the server,
its requests and notifications, to the open documents and their analyses (`tffix.lsp_documents`), the
diagnostics and hover text (`tffix.lsp_diagnostics`) and the code actions (`tffix.lsp_actions`). Like the
engine, it only parses the user's code, never runs it.

Documents are synchronised in full, not incrementally: a full copy is exact by construction, with no edit
arithmetic in which the editor's idea of a line and ours could drift apart. What is incremental is the analysis:
each document keeps a memo of its parts' analyses (`tffix.parts`), so a check re-analyses only the parts of the
file an edit changed.

The event loop never runs the engine: checks run on a worker thread (`tffix.lsp_worker`), one at a time, so the
loop answers requests at once. A change abandons the check of the version it replaces (and the work done ahead
for it). A change to a document whose last check is done, and that follows the last change by more than
`DEBOUNCE_SECONDS`, is checked at once; one that comes while an older version is being checked or waits, or
closer behind the last (a burst of typing, a paste sent in pieces), waits that long, so that the burst makes one
check. A
version whose text equals the last one checked takes that analysis as it is: the engine's result is a function
of the text and the configuration. Each analysis is kept with what its code actions need: where an ignore
comment goes on its findings' lines, the first fixes' edits, the refactorings and the fix-all, computed from it
ahead of the requests on the same thread once the user pauses (`AHEAD_AFTER_SECONDS`). A request answers from
the analysis of the document's current version, or with nothing while that version is being checked, and never
checks the file itself. What a request needs and is not ready yet is made from the analysis first in the queue:
the comment index and a fix's edits on a second thread, so that they do not wait behind a check; the fix-all on
the checking thread, in turn with the checks.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.lsp.server import LanguageServer

from . import __version__
from .engine import Engine
from .gc_policy import tune_for_analysis
from .lsp_actions import (
    COMMENTS,
    EDITS,
    FIX_ALL,
    FIX_ALL_KIND,
    REFACTORINGS,
    ClientSupport,
    LineComments,
    Refactorings,
    code_actions,
    edits_ahead,
    fix_all_edit,
    fix_all_edits,
    fix_edit,
    unresolved,
)
from .lsp_diagnostics import diagnostics, hover
from .lsp_documents import Analysis, Document, EngineFactory, Engines, analyze
from .lsp_positions import UTF16
from .lsp_worker import AHEAD, CHECK, REQUEST, Abandoned, Worker
from .parts import PartsMemo

logger = logging.getLogger("tffix.lsp")

DEBOUNCE_SECONDS = 0.02  # changes that arrive within this of each other (one burst) make one check
# The work ahead of code actions waits until no document has changed for this long. It runs LibCST (a finding
# found on `ast` has its fix made there), whose parser holds the GIL for up to a few hundred milliseconds at a time
# on a large file: done while the user types, it would delay the next check and the server's answers.
AHEAD_AFTER_SECONDS = 0.5
PYPROJECT = "pyproject.toml"
_CHECK, _AHEAD = "check", "ahead"  # tags of the jobs of the checking thread

Result = TypeVar("Result")


class TffixLanguageServer(LanguageServer):
    def __init__(self, engine_factory: EngineFactory) -> None:
        super().__init__("tffix", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full)
        self.documents: dict[str, Document] = {}
        self.engines = Engines(engine_factory)
        self.analyses: dict[str, Analysis] = {}  # the newest analysis done, per document
        self.memos: dict[str, PartsMemo] = {}  # what the checks of each document keep for the next (tffix.parts)
        self._checks = Worker("tffix-check")  # checks, and when idle the work ahead of code actions
        self._requests = Worker("tffix-request")  # what a waiting request needs that is not ready
        self._checking: dict[str, tuple[Document, asyncio.Future[Analysis]]] = {}
        self._scheduled: dict[str, asyncio.TimerHandle] = {}
        self._changed_at: dict[str, float] = {}  # when each document last changed (the event loop's clock)
        self._ahead: asyncio.TimerHandle | None = None  # when the work ahead of code actions starts
        self._tasks: set[asyncio.Task[Any]] = set()
        # Interrupting a check is safe once the engine's modules are imported: the first check does that.
        self._warm = False
        self._generation = 0  # of the configuration: analyses made before a reload are not kept

    @property
    def client_support(self) -> ClientSupport:
        return ClientSupport.of(self.client_capabilities)

    # --- checking --------------------------------------------------------------------------------------------
    def changed(self, document: Document) -> None:
        """A new version: what was being done for the older one is stale; check this one soon."""
        uri = document.uri
        self.documents[uri] = document
        # Typing goes on: the check of an older version is under way or waiting, or it changed a moment ago.
        loop = asyncio.get_running_loop()
        now, last = loop.time(), self._changed_at.get(uri)
        typing = uri in self._checking or uri in self._scheduled or (last is not None and now - last < DEBOUNCE_SECONDS)
        self._changed_at[uri] = now
        self._checks.abandon(uri, interrupt=self._warm)
        self.cancel_scheduled(uri)
        if self._ahead is not None:
            self._ahead.cancel()
        self._scheduled[uri] = loop.call_later(DEBOUNCE_SECONDS if typing else 0, self._spawn_publish, uri)

    def _spawn_publish(self, uri: str) -> None:
        task = asyncio.ensure_future(_logged_call(f"checking {uri}", self.publish(uri)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def cancel_scheduled(self, uri: str) -> None:
        handle = self._scheduled.pop(uri, None)
        if handle is not None:
            handle.cancel()

    async def analysis_of(self, document: Document) -> Analysis | None:
        """The analysis of `document`: the last one when the text is the same, else a check of it on the checking
        thread (one per version). None when the check was abandoned for a newer version or configuration."""
        uri = document.uri
        last = self.analyses.get(uri)
        if last is not None and last.document.text == document.text:
            if last.version == document.version:
                return last
            reused = last.for_version(document)
            if document.version > last.version:
                self.analyses[uri] = reused
            return reused
        checking = self._checking.get(uri)
        if checking is None or checking[0] is not document:
            self._checks.abandon(_AHEAD, interrupt=self._warm)  # a check comes before the work ahead
            encoding = self.workspace.position_encoding or UTF16
            memo = self.memos.setdefault(uri, PartsMemo())
            job = functools.partial(analyze, document, self.engines, encoding, memo)
            checking = self._checking[uri] = (document, self._checks.submit(job, CHECK, frozenset({uri, _CHECK})))
        generation = self._generation
        try:
            # Shielded: a publish cancelled by newer typing must not cancel the check that others are waiting for.
            analysis = await asyncio.shield(checking[1])
        except Abandoned:
            return None
        finally:
            if self._checking.get(uri) is checking:
                del self._checking[uri]
        if not self._warm:
            tune_for_analysis()  # the engine's modules are imported now
        self._warm = True
        if generation != self._generation:  # made with the configuration before the last reload
            return None
        last = self.analyses.get(uri)
        if uri in self.documents and (last is None or last.version <= analysis.version):
            self.analyses[uri] = analysis
        if self._ahead is not None:
            self._ahead.cancel()
        self._ahead = asyncio.get_running_loop().call_later(AHEAD_AFTER_SECONDS, self._prepare_all)
        return analysis

    async def publish(self, uri: str) -> None:
        self._scheduled.pop(uri, None)
        document = self.documents.get(uri)
        if document is None:
            return
        analysis = await self.analysis_of(document)
        current = self.documents.get(uri)
        if analysis is None or current is None or current.version != analysis.version:
            return  # closed, or a newer version is on its way and will publish for itself
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics(analysis), version=analysis.version)
        )

    def current(self, uri: str) -> Analysis | None:
        """The analysis of the document's current version, if it is done."""
        analysis = self.analyses.get(uri)
        document = self.documents.get(uri)
        return analysis if analysis is not None and document is not None and analysis.version == document.version else None

    def forget(self, uri: str) -> None:
        self.cancel_scheduled(uri)
        self._checks.abandon(uri, interrupt=self._warm)
        self._requests.abandon(uri, interrupt=self._warm)
        self.documents.pop(uri, None)
        self.analyses.pop(uri, None)
        self.memos.pop(uri, None)
        self._changed_at.pop(uri, None)
        self._checking.pop(uri, None)

    async def reload_configuration(self) -> None:
        logger.info("a pyproject.toml changed: reading the configuration again")
        self._checks.abandon(_CHECK, interrupt=self._warm)
        self._checks.abandon(_AHEAD, interrupt=self._warm)
        self._checking.clear()
        self._generation += 1
        self.engines.forget()
        self.analyses.clear()
        await asyncio.gather(*(_logged_call(f"re-checking {uri}", self.publish(uri)) for uri in list(self.documents)))

    # --- what code actions need ------------------------------------------------------------------------------
    def _prepare_all(self) -> None:
        """The work ahead for every document whose current version is checked: the last one checked, and those
        whose work ahead made way for that check."""
        self._ahead = None
        for uri in self.documents:
            if (ready := self.current(uri)) is not None:
                self._prepare(ready)

    def _prepare(self, analysis: Analysis) -> None:
        """Queue the work ahead of code actions on the checking thread, once typing pauses (`_prepare_all`): what
        is not done or being done (or was abandoned to make way for a check)."""
        tags = frozenset({analysis.document.uri, _AHEAD})
        ahead: list[tuple[str, Callable[[Analysis], Any]]] = [(REFACTORINGS, Refactorings.of)]
        if analysis.result.findings:
            ahead.insert(0, (COMMENTS, LineComments.of_findings))
        if any(finding.fix is not None for finding in analysis.result.findings):
            ahead.append((EDITS, edits_ahead))
        if analysis.has_safe_fix:
            ahead.append((FIX_ALL, fix_all_edits))
        for name, compute in ahead:
            future = analysis.extras.get(name)
            if future is None or (future.done() and isinstance(future.exception(), Abandoned)):
                future = self._checks.submit(functools.partial(compute, analysis), AHEAD, tags)
                future.add_done_callback(functools.partial(_log_failure, f"computing {name} ahead"))
                analysis.extras[name] = future

    def ready(self, analysis: Analysis, name: str) -> Any | None:
        """What was made of `analysis` under `name`, if it is done."""
        for key in (name, f"{name} on request"):
            future = analysis.extras.get(key)
            if future is not None and _usable(future):
                return future.result()
        return None

    async def extra(
        self, analysis: Analysis, name: str, compute: Callable[[Analysis], Result], *, engine: bool = False
    ) -> Result | None:
        """What a request needs of `analysis`: ready, or under way ahead of it; else made now, first in the queue.
        Work that runs the engine (`engine`: the fix-all) is made on the checking thread, in turn with the checks.
        The rest is made on the request thread, so that it does not wait behind a check. None when the document
        changed meanwhile."""
        while True:
            future = analysis.extras.get(name)
            if future is None or not (_usable(future) or self._checks.running(future)):
                key = f"{name} on request"
                future = analysis.extras.get(key)
                if future is None or (future.done() and not _usable(future)):
                    worker = self._checks if engine else self._requests
                    job = functools.partial(compute, analysis)
                    future = analysis.extras[key] = worker.submit(job, REQUEST, frozenset({analysis.document.uri}))
            try:
                return await asyncio.shield(future)
            except Abandoned:
                if self.current(analysis.document.uri) is not analysis:
                    return None

    def on_request(self, analysis: Analysis, compute: Callable[[], Result]) -> asyncio.Future[Result]:
        """`compute` on the request thread: a fix's edits (a code generation of the module; for a finding found on
        `ast`, its rule run on LibCST first, in an analysis of its own: analyses share no state)."""
        return self._requests.submit(compute, REQUEST, frozenset({analysis.document.uri}))


def _usable(future: asyncio.Future[Any]) -> bool:
    return future.done() and future.exception() is None


def _log_failure(what: str, future: asyncio.Future[Any]) -> None:
    error = future.exception()
    if error is not None and not isinstance(error, Abandoned):
        logger.error("tffix: %s failed", what, exc_info=error)


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
        server.changed(Document(uri, params.text_document.version, text, previous.language_id))

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
            analysis = server.current(params.text_document.uri)
            if analysis is None:  # unknown, or its current version is being checked
                return []
            comments = await server.extra(analysis, COMMENTS, LineComments.of_findings)
            if comments is None:
                return []
            client = server.client_support
            edits = server.ready(analysis, EDITS) or {}
            found = code_actions(analysis, params, client, comments, edits, server.ready(analysis, REFACTORINGS))
            if client.lazy_edits:
                return found
            # The client cannot resolve an edit later. A fix's edits are made now (from the analysis' tree); the
            # fix-all, which runs the engine, is offered once made ahead (until then, not at all).
            fix_all = server.ready(analysis, FIX_ALL)
            for action in found:
                if (index := unresolved(action)) is not None:
                    action.edit = await server.on_request(analysis, functools.partial(fix_edit, analysis, index, client))
                    action.data = None
                elif action.kind == FIX_ALL_KIND:
                    action.edit = fix_all_edit(analysis, fix_all, client)
            return [a for a in found if a.kind != FIX_ALL_KIND or a.edit is not None]

        return await _logged_call(f"code actions for {params.text_document.uri}", actions())

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve_code_action(action: types.CodeAction) -> types.CodeAction:
        async def resolved() -> types.CodeAction:
            data = action.data if isinstance(action.data, dict) else {}
            analysis = server.current(data.get("uri", ""))
            if analysis is None or analysis.version != data.get("version"):
                return action  # the document changed since the action was offered: no edits rather than wrong ones
            client = server.client_support
            index = unresolved(action)
            if action.kind == FIX_ALL_KIND:
                action.edit = fix_all_edit(analysis, await server.extra(analysis, FIX_ALL, fix_all_edits, engine=True), client)
            elif isinstance(index, int) and 0 <= index < len(analysis.result.findings):
                if analysis.result.findings[index].fix is not None:
                    action.edit = await server.on_request(analysis, functools.partial(fix_edit, analysis, index, client))
            return action

        return await _logged_call("resolving a code action", resolved(), fallback=action)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def on_hover(params: types.HoverParams) -> types.Hover | None:
        analysis = server.current(params.text_document.uri)
        return hover(analysis, params.position, server.client_support) if analysis else None

    return server


def serve_stdio(engine_factory: EngineFactory = Engine) -> None:
    """Run the language server on standard input and output until the client says exit. Logs go to stderr,
    which editors show as the server's log."""
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pygls").setLevel(logging.WARNING)  # it logs every message at INFO, file contents included
    # The checking thread holds the interpreter for seconds on a large file: switch to the event loop's thread
    # often, so that it answers requests in a few milliseconds meanwhile.
    sys.setswitchinterval(0.0005)
    create_server(engine_factory).start_io()


if __name__ == "__main__":
    serve_stdio()
