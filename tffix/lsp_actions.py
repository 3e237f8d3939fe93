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


# What code actions are made of, computed from an analysis ahead of the requests (or on the first request that
# needs one, when it is not ready), never by checking the file again: names of `Analysis.extras`.
COMMENTS = "comments"  # LineComments of the text: where an ignore comment goes
EDITS = "edits"  # {finding index: its fix's edits}, for the first AHEAD_EDITS fixable findings
REFACTORINGS = "refactorings"  # Refactorings: the fixes of the rules selected only by name
FIX_ALL = "fix-all"  # the edits of the file's fix-all, or None
AHEAD_EDITS = 10  # each costs a code generation of the module: beyond this many, computed when asked for


def code_actions(
    analysis: Analysis,
    params: types.CodeActionParams,
    client: ClientSupport,
    comments: LineComments,
    edits: dict[int, tuple[TextEdit, ...]],
    refactorings: Refactorings | None,
) -> list[types.CodeAction]:
    """Quick fixes and ignore comments for the client's diagnostics of this version, the refactorings on the
    requested range, and the file's fix-all. Fixes whose edits are not in `edits` get none: the caller resolves
    them (`fix_edit`) or leaves that to the client (codeAction/resolve).

    Diagnostics published for another version get nothing: their ranges describe text that is gone.
    """
    wanted = params.context.only
    matched = [(d, i) for d in params.context.diagnostics if (i := analysis.finding_index(d)) is not None]
    findings = analysis.result.findings
    actions = []
    if _wants(wanted, types.CodeActionKind.QuickFix):
        actions += [
            _fix_action(analysis, d, i, edits.get(i), client) for d, i in matched if findings[i].fix is not None
        ]
        actions += _ignore_actions(analysis, [(d, findings[i]) for d, i in matched], comments, client)
    if _wants(wanted, types.CodeActionKind.RefactorRewrite) and refactorings is not None:
        actions += refactorings.actions(analysis, params.range, client)
    if _wants(wanted, FIX_ALL_KIND) and analysis.has_safe_fix:
        actions.append(
            types.CodeAction(
                title="tffix: apply all safe fixes",
                kind=FIX_ALL_KIND,
                data={"uri": analysis.document.uri, "version": analysis.version},
            )
        )
    return actions


def unresolved(action: types.CodeAction) -> int | None:
    """The finding whose quick fix `action` is, when its edit is still to be computed."""
    data = action.data if isinstance(action.data, dict) else {}
    return data.get("finding") if action.edit is None and action.kind == types.CodeActionKind.QuickFix else None


def fix_edit(analysis: Analysis, index: int, client: ClientSupport) -> types.WorkspaceEdit:
    fix = analysis.result.findings[index].fix
    assert fix is not None
    return _workspace_edit(analysis, fix.edits, client)


def edits_ahead(analysis: Analysis) -> dict[int, tuple[TextEdit, ...]]:
    """The edits of the first fixes, which a quick fix will most likely be asked for."""
    fixable = [i for i, finding in enumerate(analysis.result.findings) if finding.fix is not None][:AHEAD_EDITS]
    return {i: analysis.result.findings[i].fix.edits for i in fixable}  # type: ignore[union-attr]


@dataclass(frozen=True)
class Refactorings:
    """The findings with fixes of the rules that report no bug and run only when selected by name (TFX103: make
    a tensor's copy to another device explicit), with the `with ...device(...)` blocks of the file. Their fixes
    are offered as `refactor.rewrite` actions on the block around the requested range, for that block's
    findings. Rules the configuration selects give quick fixes instead."""

    findings: tuple[tuple[Finding, tuple[TextEdit, ...]], ...]
    blocks: tuple[tuple[int, int], ...]  # 1-based first and last lines of each device block

    @classmethod
    def of(cls, analysis: Analysis) -> Refactorings:
        if analysis.engine is None:
            return cls((), ())
        selected = {rule.code for rule in analysis.engine.rules}
        engine = _refactoring_engine()
        if not engine.rules or {rule.code for rule in engine.rules} <= selected:
            return cls((), ())
        findings = tuple(
            (finding, finding.fix.edits)
            for finding in engine.check(analysis.document.text, analysis.document.path).findings
            if finding.fix is not None and finding.code not in selected
        )
        return cls(findings, _device_blocks(analysis.document.text) if findings else ())

    def actions(self, analysis: Analysis, requested: types.Range, client: ClientSupport) -> list[types.CodeAction]:
        first, last = requested.start.line + 1, requested.end.line + 1
        around = [b for b in self.blocks if b[0] <= first and last <= b[1]]
        if not around:
            return []
        block = max(around)  # the innermost: the one that starts last
        return [
            types.CodeAction(
                title=f"{finding.fix.title} ({finding.code})",  # type: ignore[union-attr]
                kind=types.CodeActionKind.RefactorRewrite,
                edit=_workspace_edit(analysis, edits, client),
            )
            for finding, edits in self.findings
            if block[0] <= finding.start.line <= block[1]
        ]


@functools.cache
def _refactoring_engine() -> Engine:
    from .registry import all_rules

    return Engine(rules=[rule for rule in all_rules() if not rule.default_selected])


def _device_blocks(text: str) -> tuple[tuple[int, int], ...]:
    """The 1-based first and last line of every `with ...device(...):` statement."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ()
    return tuple(
        (node.lineno, node.end_lineno or node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, (ast.With, ast.AsyncWith)) and any(_is_device_call(item.context_expr) for item in node.items)
    )


def _is_device_call(expression: ast.expr) -> bool:
    if not isinstance(expression, ast.Call):
        return False
    func = expression.func
    return (isinstance(func, ast.Attribute) and func.attr == "device") or (isinstance(func, ast.Name) and func.id == "device")


def _wants(only: Iterable[str] | None, kind: str) -> bool:
    return only is None or any(kind == w or kind.startswith(f"{w}.") for w in only)


def _fix_action(
    analysis: Analysis,
    diagnostic: types.Diagnostic,
    index: int,
    edits: tuple[TextEdit, ...] | None,
    client: ClientSupport,
) -> types.CodeAction:
    finding = analysis.result.findings[index]
    fix = finding.fix
    assert fix is not None
    safe = fix.applicability is Applicability.SAFE
    return types.CodeAction(
        title=f"{fix.title} ({finding.code})" if safe else f"{fix.title} ({finding.code}, unsafe)",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        is_preferred=safe,
        edit=None if edits is None else _workspace_edit(analysis, edits, client),
        data=None if edits is not None else {"uri": analysis.document.uri, "version": analysis.version, "finding": index},
    )


def _ignore_actions(
    analysis: Analysis, matched: list[tuple[types.Diagnostic, Finding]], comments: LineComments, client: ClientSupport
) -> list[types.CodeAction]:
    actions = []
    done: set[tuple[str, int]] = set()
    for diagnostic, finding in matched:
        key = (finding.code, finding.start.line)
        if key in done:
            continue
        done.add(key)
        edit = comments.ignore_edit(analysis.index, finding.start.line - 1, finding.code)
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


def fix_all_edits(analysis: Analysis) -> tuple[TextEdit, ...] | None:
    """Every safe fix of the file, as the few edits that turn its text into the engine's fixed text."""
    if analysis.engine is None:
        return None
    fixed = analysis.engine.fix(analysis.document.text, analysis.document.path, unsafe=False)
    for problem in fixed.problems:
        logger.warning("%s", problem)
    return diff_edits(analysis.document.text, fixed.fixed_source) or None


def fix_all_edit(analysis: Analysis, edits: tuple[TextEdit, ...] | None, client: ClientSupport) -> types.WorkspaceEdit | None:
    return _workspace_edit(analysis, edits, client) if edits else None


def _workspace_edit(analysis: Analysis, edits: Iterable[TextEdit], client: ClientSupport) -> types.WorkspaceEdit:
    lsp_edits = [analysis.index.text_edit(edit) for edit in edits]
    document = analysis.document
    if client.versioned_edits:
        identifier = types.OptionalVersionedTextDocumentIdentifier(uri=document.uri, version=document.version)
        return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(text_document=identifier, edits=lsp_edits)])
    return types.WorkspaceEdit(changes={document.uri: lsp_edits})


def ignore_comment_edit(index: LineIndex, line: int, code: str) -> TextEdit | None:
    """The edit that makes the engine ignore `code` on 0-based `line` (see `LineComments.ignore_edit`)."""
    return LineComments.of(index.text).ignore_edit(index, line, code)


@dataclass(frozen=True)
class LineComments:
    """For each line of a text, what an ignore comment at its end needs to know, from one pass of Python's
    tokenizer: the comment already on it, and whether it ends a line of code (rather than continuing with a
    backslash or inside a string)."""

    comments: dict[int, tokenize.TokenInfo]  # 0-based line -> its comment token
    ends_in_code: frozenset[int]
    known_before: int | None  # the tokenizer failed: lines from this one on are not known; None: all known

    @classmethod
    def of(cls, text: str, through: int | None = None) -> LineComments:
        """The index of `text`'s lines, or of those up to 0-based line `through` only (the tokenizer stops there)."""
        if "\r" in text.replace("\r\n", ""):  # lone '\r' line breaks: tokenize's lines are not ours
            return cls({}, frozenset(), 0)
        comments: dict[int, tokenize.TokenInfo] = {}
        ends: set[int] = set()
        row = 0
        try:
            for token in tokenize.generate_tokens(io.StringIO(text).readline):
                row = token.start[0] - 1
                if through is not None and row > through:
                    return cls(comments, frozenset(ends), row)
                if token.type == tokenize.COMMENT:
                    comments[row] = token
                elif token.type in (tokenize.NEWLINE, tokenize.NL):
                    ends.add(row)
        except (tokenize.TokenError, SyntaxError):
            return cls(comments, frozenset(ends), row)  # a token on a later line was read: earlier lines are known
        return cls(comments, frozenset(ends), None)

    @classmethod
    def of_findings(cls, analysis: Analysis) -> LineComments:
        """The index of the lines up to the last finding's: an ignore comment goes on a finding's line only."""
        findings = analysis.result.findings
        if not findings:
            return cls({}, frozenset(), 0)
        return cls.of(analysis.document.text, max(f.start.line for f in findings) - 1)

    def ignore_edit(self, index: LineIndex, line: int, code: str) -> TextEdit | None:
        """The edit that makes the engine ignore `code` on 0-based `line`: a `# tffix: ignore[CODE]` comment at the
        line's end, or CODE added to the one already there.

        None when the line cannot end in a comment without changing the program: it continues with a backslash
        or ends inside a string. Also None for text with lone '\\r' line breaks, where tokenize's lines are not
        ours, and for lines at or after where the tokenizer failed.
        """
        if self.known_before is not None and line >= self.known_before:
            return None
        text = index.text
        comment = self.comments.get(line)
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
        if line not in self.ends_in_code:
            return None
        end_of_code = start_of_line + len(text[start_of_line:end_of_line].rstrip(" \t\f"))
        return TextEdit(end_of_code, end_of_line, f"  # tffix: ignore[{code}]")
