"""The code actions of `tffix lsp`: a quick fix for each finding with a fix, an ignore comment for each
finding, the refactorings of rules that run only when selected by name, and the file's fix-all; each an edit
of the analysed version of the document, refused by the client for any other version when it can."""

from __future__ import annotations

import ast
import functools
import io
import logging
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass

from lsprotocol import types
from pygls.capabilities import get_capability

from .edits import diff_edits
from .engine import SUPPRESSION_COMMENT  # the engine's own pattern, so that both agree
from .engine import Engine
from .lsp_documents import Analysis
from .lsp_positions import LineIndex
from .model import Applicability, Finding, TextEdit

logger = logging.getLogger("tffix.lsp")  # one name for all of the server's log

FIX_ALL_KIND = f"{types.CodeActionKind.SourceFixAll.value}.tffix"


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

