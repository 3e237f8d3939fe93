"""The open documents of `tffix lsp` and what the engine found in each version of them.

A document is held as the client last sent it, in full (see `tffix.lsp`). An analysis is the engine's result
for one version, with the line index that turns its code-point offsets into the negotiated position encoding
(`tffix.lsp_positions`); the engines are one per folder, built from the configuration that governs it.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from .config import ConfigError, Settings, load_settings
from .engine import Engine
from .lsp_positions import LineIndex
from .parts import PartsMemo
from .model import Applicability, CheckResult, Finding, ProblemKind
from .rule import Rule

logger = logging.getLogger("tffix.lsp")  # one name for all of the server's log

SOURCE = "tffix"  # the `source` of every diagnostic tffix publishes

EngineFactory = Callable[[Settings], Engine]


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
    # What code actions need beyond the check, computed from it (never by checking again) once, in a worker:
    # name -> future of the value (see `tffix.lsp`). Shared by the analyses of versions with the same text.
    extras: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def version(self) -> int:
        return self.document.version

    def for_version(self, document: Document) -> Analysis:
        """This analysis as the analysis of `document`, a later version with the same text: the engine's result
        is a function of the text (and the configuration, the same while this analysis is kept)."""
        assert document.text == self.document.text
        return dataclasses.replace(self, document=document)

    def rule(self, code: str) -> type[Rule] | None:
        rules = self.engine.rules if self.engine else ()
        return next((rule for rule in rules if rule.code == code), None)

    def finding_range(self, finding: Finding) -> types.Range:
        return self.index.range(self.index.finding_offset(finding.start), self.index.finding_offset(finding.end))

    def finding_index(self, diagnostic: types.Diagnostic) -> int | None:
        """The index of the finding that `diagnostic` was published for, if it was published for this version."""
        data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
        if diagnostic.source != SOURCE or data.get("version") != self.version:
            return None
        return next(
            (
                i
                for i, finding in enumerate(self.result.findings)
                if finding.code == diagnostic.code and self.finding_range(finding) == diagnostic.range
            ),
            None,
        )

    @property
    def has_safe_fix(self) -> bool:
        return any(f.fix is not None and f.fix.applicability is Applicability.SAFE for f in self.result.findings)


class Engines:
    """One engine per folder, built from the `[tool.tffix]` that governs it; all forgotten when a pyproject.toml
    changes. Used from the server's worker threads, hence the lock."""

    def __init__(self, factory: EngineFactory) -> None:
        self._factory = factory
        self._by_folder: dict[Path, Engine | ConfigError] = {}
        self._lock = threading.Lock()

    def for_document(self, document: Document) -> Engine | ConfigError:
        folder = document.file.parent if document.file else Path.cwd()
        with self._lock:
            if folder not in self._by_folder:
                try:
                    self._by_folder[folder] = self._factory(load_settings(start=folder))
                except ConfigError as error:
                    self._by_folder[folder] = error
            return self._by_folder[folder]

    def forget(self) -> None:
        with self._lock:
            self._by_folder.clear()


def analyze(document: Document, engines: Engines, encoding: str, memo: PartsMemo | None = None) -> Analysis:
    """Check one version of a document. `exclude` does not apply: like a path named on the command line, a file
    the user opened is always checked. `memo`: the document's, kept from one version to the next, so that an
    edit re-analyses only the parts of the file it changed (`tffix.parts`)."""
    index = LineIndex(document.text, encoding)
    engine = engines.for_document(document)
    if isinstance(engine, ConfigError):
        return Analysis(document, index, None, CheckResult(document.path), config_error=str(engine))
    result = engine.check(document.text, document.path, memo=memo)
    for problem in result.problems:
        if problem.kind is ProblemKind.INTERNAL:  # a tffix bug, not the user's: for the log, not the editor
            logger.warning("%s", problem)
    return Analysis(document, index, engine, result)
