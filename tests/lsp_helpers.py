"""What the LSP tests need on the client side: a client that records every publication, and position and edit
arithmetic written independently of the server's (through encoded bytes rather than by counting characters), so
that a test compares two implementations instead of one with itself."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

TESTS = Path(__file__).parent
TOY_SERVER = [sys.executable, str(TESTS / "lsp_server_for_tests.py")]
PRODUCTION_SERVER = [sys.executable, "-m", "tffix.lsp"]

# The clients the end-to-end tests play, with the position encoding each one ends up with.
CLIENTS = {
    "visual-studio-code": "utf-16",  # offers no encoding: UTF-16; versioned edits; resolves edits lazily
    "neovim": "utf-8",  # offers utf-8 first; plain `changes` edits; resolves edits lazily
    "emacs": "utf-32",  # offers utf-32 first; versioned edits; wants edits up front
}
_UNIT_BYTES = {"utf-8": 1, "utf-16": 2, "utf-32": 4}
_CODECS = {"utf-8": "utf-8", "utf-16": "utf-16-le", "utf-32": "utf-32-le"}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
T = TypeVar("T")


class RecordingClient(LanguageClient):
    """Keeps every publishDiagnostics (pytest-lsp keeps only the last, without its version) and registration."""

    def __init__(self) -> None:
        super().__init__(converter_factory=default_converter)
        self.publications: dict[str, list[types.PublishDiagnosticsParams]] = {}
        self.registrations: list[types.Registration] = []
        self.encoding = "utf-16"  # what the server chose, once initialised
        self.root = Path()  # the workspace folder, once initialised


def make_recording_client() -> RecordingClient:
    client = RecordingClient()
    defaults = {m: f for m, f in DEFAULT_CLIENT_FEATURES.items() if m != types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS}
    register_lsp_features(client, defaults)  # pytest-lsp's own handlers: logMessage, configuration, ...

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def record(params: types.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        client.publications.setdefault(params.uri, []).append(params)

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:
        client.registrations.extend(params.registrations)

    return client


async def start_session(client: RecordingClient, preset: str, root: Path) -> None:
    response = await client.initialize_session(
        types.InitializeParams(capabilities=client_capabilities(preset), root_uri=root.as_uri())
    )
    client.encoding = str(response.capabilities.position_encoding or "utf-16")
    client.root = root


async def eventually(value: Callable[[], T | None], timeout: float = 15.0) -> T:
    """The first non-None result of `value`, which is asked again until the server's messages make it so."""
    async def arrived() -> T:
        while (result := value()) is None:
            await asyncio.sleep(0.01)
        return result

    return await asyncio.wait_for(arrived(), timeout)


async def published(client: RecordingClient, uri: str, version: int | None = None, *,
                    count: int = 1) -> types.PublishDiagnosticsParams:
    """The `count`-th publication for `uri` (at `version`, if given), waiting for it to arrive."""
    def nth() -> types.PublishDiagnosticsParams | None:
        matching = [p for p in client.publications.get(uri, []) if version is None or p.version == version]
        return matching[count - 1] if len(matching) >= count else None

    return await eventually(nth)


# --- positions and edits, computed from encoded bytes ------------------------------------------------------------
def _lines(text: str) -> list[str]:
    """The LSP's lines, without their terminators."""
    return _LINE_BREAK.split(text)


def lsp_position(text: str, offset: int, encoding: str) -> types.Position:
    before = text[:offset]
    line = len(_LINE_BREAK.findall(before))
    if before.endswith("\r") and text[offset : offset + 1] == "\n":
        line -= 1  # inside a CRLF: still on the line before it
    start = 0 if line == 0 else [m.end() for m in _LINE_BREAK.finditer(text)][line - 1]
    character = len(text[start:offset].rstrip("\r").encode(_CODECS[encoding], "surrogatepass")) // _UNIT_BYTES[encoding]
    return types.Position(line=line, character=character)


def lsp_range(text: str, start: int, end: int, encoding: str) -> types.Range:
    return types.Range(start=lsp_position(text, start, encoding), end=lsp_position(text, end, encoding))


def range_of(text: str, needle: str, encoding: str, occurrence: int = 0) -> types.Range:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(needle, start + 1)
    return lsp_range(text, start, start + len(needle), encoding)


def offset_at(text: str, position: types.Position, encoding: str) -> int:
    lines = _LINE_BREAK.split(text)
    starts = [0, *(m.end() for m in _LINE_BREAK.finditer(text))]
    encoded = lines[position.line].encode(_CODECS[encoding], "surrogatepass")
    prefix = encoded[: position.character * _UNIT_BYTES[encoding]]
    return starts[position.line] + len(prefix.decode(_CODECS[encoding], "surrogatepass"))


def apply_lsp_edits(text: str, edits: list[types.TextEdit], encoding: str) -> str:
    spans = sorted(
        ((offset_at(text, e.range.start, encoding), offset_at(text, e.range.end, encoding), e.new_text) for e in edits),
        reverse=True,
    )
    for start, end, new_text in spans:
        text = text[:start] + new_text + text[end:]
    return text


def edits_in(edit: types.WorkspaceEdit, uri: str) -> list[types.TextEdit]:
    """The text edits of a WorkspaceEdit for one document, whichever of its two forms the server used."""
    if edit.document_changes is not None:
        return [e for change in edit.document_changes if change.text_document.uri == uri for e in change.edits]
    return list((edit.changes or {}).get(uri, []))
