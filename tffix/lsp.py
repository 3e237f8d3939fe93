"""`tffix lsp`: the engine's findings as diagnostics and its fixes as code actions, in any LSP editor.

A thin layer over `tffix.engine.Engine`, speaking the protocol through pygls: this module wires the server,
its requests and notifications, to the open documents and their analyses (`tffix.lsp_documents`), the
diagnostics and hover text (`tffix.lsp_diagnostics`) and the code actions (`tffix.lsp_actions`). Like the
engine, it only parses the user's code, never runs it.

Documents are synchronised in full, not incrementally: the engine re-parses the whole text on every check anyway,
and a full copy is exact by construction, with no edit arithmetic in which the editor's idea of a line and ours
could drift apart.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.lsp.server import LanguageServer

from . import __version__
from .engine import Engine
from .lsp_actions import FIX_ALL_KIND, ClientSupport, code_actions, fix_all_edit
from .lsp_diagnostics import diagnostics, hover
from .lsp_documents import Analysis, Document, EngineFactory, Engines, analyze
from .lsp_positions import UTF16

logger = logging.getLogger("tffix.lsp")

DEBOUNCE_SECONDS = 0.3  # typing pauses shorter than this do not start a check
PYPROJECT = "pyproject.toml"

Result = TypeVar("Result")


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
