"""The values the engine hands to its callers (CLI, LSP server, bulk runner). No behaviour, no I/O."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field


class Applicability(str, enum.Enum):
    """Whether `tffix apply` may make a fix on its own (Ruff's safe/unsafe split)."""

    SAFE = "safe"  # keeps the program's meaning except for curing the failure
    UNSAFE = "unsafe"  # plausible, but may change what the program computes: needs --unsafe-fixes


class Severity(str, enum.Enum):
    ERROR = "error"  # the program raises under TensorFlow
    WARNING = "warning"  # the program runs but silently computes the wrong thing


@dataclass(frozen=True, order=True)
class Position:
    """1-based line, 0-based column counted in code points (LibCST's convention)."""

    line: int
    column: int


@dataclass(frozen=True, order=True)
class TextEdit:
    """Replace source[start:end] (offsets in code points into the decoded text) with `text`."""

    start: int
    end: int
    text: str


class Fix:
    """A fix: its title, its applicability and the text edits that make it.

    The edits cost a code generation of the whole module, and most callers (`check`, diagnostics) never
    need them, so they may be given as a function that computes them on first use. Immutable once computed.
    """

    __slots__ = ("title", "applicability", "_edits", "_compute")

    def __init__(
        self,
        title: str,
        applicability: Applicability,
        edits: tuple[TextEdit, ...] | None = None,
        *,
        compute: Callable[[], tuple[TextEdit, ...]] | None = None,
    ) -> None:
        if (edits is None) == (compute is None):
            raise ValueError("a Fix takes either its edits or a function computing them")
        self.title = title
        self.applicability = applicability
        self._edits = edits
        self._compute = compute

    @property
    def edits(self) -> tuple[TextEdit, ...]:
        if self._edits is None:
            assert self._compute is not None
            self._edits, self._compute = self._compute(), None
        return self._edits

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fix):
            return NotImplemented
        return (self.title, self.applicability, self.edits) == (other.title, other.applicability, other.edits)

    def __hash__(self) -> int:
        return hash((self.title, self.applicability))

    def __repr__(self) -> str:
        return f"Fix({self.title!r}, {self.applicability.value})"


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    path: str
    start: Position
    end: Position
    severity: Severity = Severity.ERROR
    fix: Fix | None = None
    cell: int | None = None  # notebook cell index, when the source came from a notebook

    @property
    def fixable(self) -> bool:
        return self.fix is not None

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "path": self.path,
            "cell": self.cell,
            "location": {"line": self.start.line, "column": self.start.column + 1},
            "end_location": {"line": self.end.line, "column": self.end.column + 1},
            "severity": self.severity.value,
            "fix": None
            if self.fix is None
            else {
                "title": self.fix.title,
                "applicability": self.fix.applicability.value,
                "edits": [{"start": e.start, "end": e.end, "content": e.text} for e in self.fix.edits],
            },
        }


class ProblemKind(str, enum.Enum):
    UNREADABLE = "unreadable"  # missing, not UTF-8, NUL bytes
    UNWRITABLE = "unwritable"  # fixed but not written: read-only, changed on disk since it was read, a write failed
    SKIPPED = "skipped"  # not analysed: over a limit (`max-file-size`)
    SYNTAX = "syntax"  # does not parse (Python 2 code, broken files)
    INTERNAL = "internal"  # a rule crashed or a fix produced invalid code: a tffix bug, never the user's


@dataclass(frozen=True)
class Problem:
    """Something that stopped tffix from handling a file (or one rule on it) normally."""

    kind: ProblemKind
    path: str
    message: str
    line: int | None = None
    column: int | None = None
    cell: int | None = None  # notebook cell index (as Finding.cell); line and column are within that cell

    def __str__(self) -> str:
        where = self.path if self.cell is None else f"{self.path}[cell {self.cell}]"
        where = where if self.line is None else f"{where}:{self.line}:{(self.column or 0) + 1}"
        label = "skipped" if self.kind is ProblemKind.SKIPPED else f"{self.kind.value} error"
        return f"{where}: {label}: {self.message}"


@dataclass(frozen=True)
class CheckResult:
    path: str
    findings: tuple[Finding, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def failed(self) -> bool:
        return bool(self.problems)


@dataclass(frozen=True)
class FixResult:
    """What fixing one source gives: the new text (equal to the old when nothing applied)."""

    path: str
    source: str
    fixed_source: str
    applied: tuple[Finding, ...] = ()  # findings whose fix was made (first seen occurrence)
    remaining: tuple[Finding, ...] = ()  # findings still present in fixed_source
    problems: tuple[Problem, ...] = field(default=())

    @property
    def changed(self) -> bool:
        return self.fixed_source != self.source
