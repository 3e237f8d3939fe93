"""The base class every tffix rule derives from (in the spirit of Fixit's `LintRule`).

A rule is a LibCST batchable visitor. It declares the metadata it needs, looks at nodes, and calls
`self.report(node, message, rewrite=...)`. A `Rewrite` says which nodes become which, as values; the engine
turns it into text edits, so rules never compute offsets or touch strings of the file.

Each rule module carries its own documentation and examples: `VALID` snippets must give no finding and
`INVALID` ones must give a finding whose fix yields `expected` exactly. The test suite runs them all.
"""

from __future__ import annotations

import enum
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Union

import libcst as cst
import libcst.matchers as m
from libcst.metadata import CodeRange, ProviderT, ScopeProvider

from .analysis import FileAnalysis
from .model import Applicability, Severity
from .parents import ParentProvider

if TYPE_CHECKING:
    import ast

    from .ast_detection import AstReport, NamesOnAst
    from .ast_facts import Facts
    from .tracebacks import Failure, RaisedError

NodeReplacement = Union[cst.CSTNode, cst.RemovalSentinel, cst.FlattenSentinel]
# A replacement is a node, or a function of the *updated* node (so that edits nested inside it survive).
Replacement = Union[NodeReplacement, Callable[[cst.CSTNode], NodeReplacement]]


@dataclass(frozen=True)
class Rewrite:
    """A fix as a value: node replacements, plus imports the new code needs (added only if missing)."""

    title: str
    changes: tuple[tuple[cst.CSTNode, Replacement], ...]
    applicability: Applicability = Applicability.SAFE
    imports: tuple[str, ...] = ()  # module names for `import X`, e.g. ("os",)

    @classmethod
    def replace(
        cls,
        title: str,
        changes: Mapping[cst.CSTNode, Replacement] | Iterable[tuple[cst.CSTNode, Replacement]],
        *,
        unsafe: bool = False,
        imports: Iterable[str] = (),
    ) -> Rewrite:
        pairs = tuple(changes.items()) if isinstance(changes, Mapping) else tuple(changes)
        return cls(
            title=title,
            changes=pairs,
            applicability=Applicability.UNSAFE if unsafe else Applicability.SAFE,
            imports=tuple(imports),
        )


# --- what a rule declares about itself: the failures it explains, its fix, its documentation -------------------
# (read by the registry, which every front end asks: `tffix rule(s)`, `tffix explain`, the LSP, SARIF, docs/rules.md)
@dataclass(frozen=True)
class FailureKind:
    """A kind of TensorFlow failure a rule can cause: how to recognise it in a traceback and what it means.

    Defined once, in the module of the rule that is its main cause; other rules that can cause it list the same
    object in their `explains` (imported from that module). `tffix.families` derives which rules cause it."""

    key: str
    title: str
    explanation: str  # whitespace is collapsed: write it as a triple-quoted paragraph
    pattern: re.Pattern | str  # searched in the exception's message
    exception: str | None = None  # the bare exception class the failure must have, when the text alone is vague
    frame_hint: re.Pattern | str | None = None  # must match a frame's path or function (TPU code in the stack)
    fallback: bool = False  # a generic catch-all, tried only after every specific kind
    # The module that defines it (its main cause's rule module), taken from the caller of the constructor.
    module: str = field(default="", init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "module", sys._getframe(2).f_globals.get("__name__", ""))
        object.__setattr__(self, "explanation", " ".join(self.explanation.split()))
        object.__setattr__(self, "pattern", re.compile(self.pattern))
        if self.frame_hint is not None:
            object.__setattr__(self, "frame_hint", re.compile(self.frame_hint))

    def matches(self, error: RaisedError, failure: Failure) -> bool:
        if self.exception is not None and error.name != self.exception:
            return False
        if not self.pattern.search(error.message):  # type: ignore[union-attr]
            return False
        if self.frame_hint is None:
            return True
        hint = self.frame_hint
        return any(hint.search(f"{frame.path} {frame.function or ''}") for frame in failure.frames())  # type: ignore[union-attr]


class FixAvailability(str, enum.Enum):
    """Whether a finding of the rule comes with a fix (Ruff's "Fix is always/sometimes available")."""

    NONE = "none"
    SOMETIMES = "sometimes"
    ALWAYS = "always"


@dataclass(frozen=True)
class Fix:
    """A rule's declared fix: when it is available and which safeties its fixes have. The rule's INVALID
    examples must agree (tests/test_rule_examples.py)."""

    availability: FixAvailability
    safety: frozenset[Applicability] = frozenset()

    @classmethod
    def none(cls) -> Fix:
        return cls(FixAvailability.NONE)

    @classmethod
    def sometimes(cls, *safety: Applicability | str) -> Fix:
        return cls(FixAvailability.SOMETIMES, frozenset(Applicability(s) for s in safety))

    @classmethod
    def always(cls, *safety: Applicability | str) -> Fix:
        return cls(FixAvailability.ALWAYS, frozenset(Applicability(s) for s in safety))

    def __post_init__(self) -> None:
        if (self.availability is FixAvailability.NONE) != (not self.safety):
            raise ValueError("a fix that is available has a safety, and one that is not has none")

    @property
    def kind(self) -> str:
        """"safe", "unsafe", "safe/unsafe" or "report only" (the rule table's column)."""
        return "/".join(sorted(s.value for s in self.safety)) or "report only"

    @property
    def sentence(self) -> str:
        """Ruff's phrase: "Fix is sometimes available (unsafe)."."""
        if self.availability is FixAvailability.NONE:
            return "No fix: the rule only reports."
        return f"Fix is {self.availability.value} available ({' or '.join(sorted(s.value for s in self.safety))})."


# The sections of a rule's documentation (its module docstring), in Ruff's order. "Example" may be left out:
# the rule's first INVALID example and its fix stand in for it.
DOC_SECTIONS: tuple[str, ...] = (
    "What it does", "Why is this bad?", "Measured TensorFlow behaviour", "Example", "Fix safety",
)


@dataclass(frozen=True)
class Valid:
    code: str


@dataclass(frozen=True)
class Invalid:
    code: str
    expected: str | None = None  # the source after `apply` (with --unsafe-fixes when `unsafe`); None: no fix
    unsafe: bool = False


@dataclass(frozen=True)
class RuleContext:
    """What a rule may know about the file besides its tree: its path, its text, and the analysis of this one
    check, which the rules of the check share (`tffix.analysis`). Frozen: rules cannot leak state between files."""

    path: str
    source: str
    analysis: FileAnalysis


@dataclass
class Report:
    node: cst.CSTNode
    message: str
    rewrite: Rewrite | None = None
    severity: Severity | None = None  # None: the rule's own severity


class Rule(cst.BatchableCSTVisitor):
    code: ClassVar[str]  # "TFX301"
    name: ClassVar[str]  # "binary-head-with-two-units"
    summary: ClassVar[str]  # one line, shown by `tffix rules`
    severity: ClassVar[Severity] = Severity.ERROR
    # Leaf names of TensorFlow/Keras user-API names (`GradientTape` for `tf.GradientTape`) of which a file must
    # reference at least one, through its imports, for this rule to fire. Empty: the rule names none.
    anchors: ClassVar[frozenset[str]] = frozenset()
    # Words of which one must occur in a file's text for this rule to fire, when narrower than its anchors
    # (which serve otherwise). Both are gates: how the engine uses them is in `tffix.gates`.
    triggers: ClassVar[tuple[str, ...]] = ()
    # A regular expression that must match a file's text for this rule to fire, checked once a word matched: for
    # a rule whose every finding spells something a word cannot pin down (TFX607's `.float` attribute, where
    # `float` alone is in nearly every file). None: the words suffice.
    trigger_pattern: ClassVar[re.Pattern[str] | None] = None
    # False for a rule that matches names outside TensorFlow and Keras (NumPy's): its findings need no import of
    # them, so the import gate does not hold it back.
    import_gate: ClassVar[bool] = True
    # True: the rule's findings in a file are the union of those it finds in each of the file's parts
    # (`tffix.slicing.Part`: an anchored unit, the code connected to it by name, and the module's statements that
    # are not definitions). So it holds for a rule whose evidence is all connected by name to where it reports and
    # that nothing elsewhere in the module can switch off (no module-wide setting such as
    # `enable_numpy_behavior()`, no "anywhere in the file" search, no search of the file's text such as
    # `pins_keras2(context.source)`), and whose messages cite no line. The editor then analyses a document part by
    # part and re-analyses only the parts an edit changed (`Engine.check(memo=...)`). `tests/test_parts.py`
    # checks the union against the whole file on every fixture and rule example.
    local: ClassVar[bool] = False
    # False: the rule reports no bug (a refactoring, say) and runs only when a `select` entry names its full
    # code: prefixes (`TFX`, `TFX1`) and `ALL` leave it out (`Settings.is_selected`).
    default_selected: ClassVar[bool] = True
    # Declared knowledge (see FailureKind and Fix above): the failures this rule explains (`tffix explain`) and
    # its fix. `fix` None: not declared yet (the registry then infers it from the INVALID examples).
    explains: ClassVar[tuple[FailureKind, ...]] = ()
    fix: ClassVar[Fix | None] = None
    VALID: ClassVar[tuple[Valid, ...]] = ()
    INVALID: ClassVar[tuple[Invalid, ...]] = ()

    # Resolved for every file up front. Positions and qualified names are not: most files never need them,
    # and each costs a pass over the whole tree (see `position` and `qualified_names`).
    METADATA_DEPENDENCIES: ClassVar[tuple[ProviderT, ...]] = (ParentProvider, ScopeProvider)

    def __init__(self, context: RuleContext) -> None:
        super().__init__()
        self.context = context
        self.reports: list[Report] = []

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """The rule's precondition, a gate (`tffix.gates`): False only when no finding of the rule is possible in
        a file whose Python `ast` shows `facts` (`tffix.ast_facts`: the API names it calls and with which
        keywords, its methods, `with` items, operators, literals). It must be a NECESSARY condition of every
        finding, read off the rule's own matching code (TFX601 reports `lr=` at a call of a Keras optimizer, so it
        needs such a call with that keyword), never a guess about what code usually looks like: a rule whose
        findings need nothing sharper than its anchors keeps this default. The facts over-approximate what
        LibCST resolves (any import of a name anywhere in the file counts), so a condition on them errs towards
        running the rule. `tests/test_gates.py` checks every fixture and rule example gives the same findings
        with the gates off, and that each precondition rejects something. A rule that defines `candidates` has,
        by default, the precondition that there is one."""
        found = candidates_of(cls, facts)
        return found is None or bool(found)

    @classmethod
    def candidates(cls, facts: Facts) -> list[ast.AST] | None:
        """Where the rule's findings can be, when its precondition can tell: `ast` nodes such that every finding
        is reported at a node inside a top-level statement (or method) holding one of them. The slice analysed
        before the whole file (`tffix.slicing`) then starts from the units holding them instead of every unit
        that uses an anchor, which is most of a file for a rule anchored on common names. Ask through
        `candidates_of` (once per file). None (the default): wherever the anchors are used."""
        return None

    @classmethod
    def detect(cls, module: NamesOnAst) -> list[AstReport] | None:
        """The rule's findings in a file, found on Python's `ast` without LibCST (`tffix.ast_detection`), or None
        when the rule cannot be certain of them there: then it runs on LibCST. For rules whose findings are names
        that resolve through imports (TFX607-609, TFX601); each must give exactly what its visitor reports (node
        span, message, fix title and applicability; the fix itself is still made by the visitor, on LibCST).
        Called only on files that passed the gates. The default: never certain."""
        return None

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "code" in cls.__dict__ and not cls.__dict__.get("__doc__"):
            raise TypeError(f"rule {cls.__name__} needs a docstring: it is the rule's documentation")

    @property
    def analysis(self) -> FileAnalysis:
        """The analysis of the file being checked, shared with the other rules of this check."""
        return self.context.analysis

    # --- reporting -------------------------------------------------------------------------------------------
    def report(
        self, node: cst.CSTNode, message: str, *, rewrite: Rewrite | None = None, severity: Severity | None = None
    ) -> None:
        """Report `message` at `node`. `severity` overrides the rule's own where this case differs (a pattern
        that is usually silent but raises in this shape of code, say)."""
        self.reports.append(Report(node=node, message=message, rewrite=rewrite, severity=severity))

    # --- metadata and names, answered by the file's analysis ---------------------------------------------------
    def position(self, node: cst.CSTNode) -> CodeRange:
        """Where `node` is. The first call resolves every position of the file (one code generation pass)."""
        return self.analysis.position(node)

    def qualified_names(self, node: cst.CSTNode) -> frozenset[str]:
        """What `node` resolves to through imports and assignments (`FileAnalysis.qualified_names`)."""
        return self.analysis.qualified_names(node)

    def api_names(self, node: cst.CSTNode) -> frozenset[str]:
        """Canonical TensorFlow/Keras names (see `tffix.names`) that `node` resolves to through imports."""
        return self.analysis.api_names(node)

    def is_api(self, node: cst.CSTNode, *names: str) -> bool:
        return self.analysis.is_api(node, *names)

    def is_call_to(self, node: cst.CSTNode, *names: str) -> bool:
        """`node` calls one of `names` itself (`Dense(2)(h)` calls the layer, not `Dense`)."""
        return self.analysis.is_call_to(node, *names)

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.analysis.parent(node)

    def ancestors(self, node: cst.CSTNode) -> Iterable[cst.CSTNode]:
        return self.analysis.ancestors(node)


def argument(call: cst.Call, keyword: str, position: int | None = None) -> cst.Arg | None:
    """The argument passed as `keyword=` or, when `position` is given, positionally at that index."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg
    if position is not None:
        positional = [a for a in call.args if a.keyword is None and not a.star]
        if position < len(positional):
            return positional[position]
    return None


def literal_int(node: cst.BaseExpression | None) -> int | None:
    if m.matches(node, m.Integer()):
        return int(node.evaluated_value)  # type: ignore[union-attr]
    if m.matches(node, m.UnaryOperation(operator=m.Minus(), expression=m.Integer())):
        return -int(node.expression.evaluated_value)  # type: ignore[union-attr]
    return None


# Re-exported for rule modules, so each of them imports what it needs from one place.
__all__ = [
    "Applicability",
    "FailureKind",
    "Fix",
    "FixAvailability",
    "FileAnalysis",
    "Invalid",
    "Replacement",
    "Rewrite",
    "Rule",
    "RuleContext",
    "Severity",
    "Valid",
    "argument",
    "literal_int",
]


def candidates_of(rule: type[Rule], facts: Facts) -> list[ast.AST] | None:
    """`rule.candidates(facts)`, worked out once per file: the default precondition and the slice both ask."""
    return facts.derived((candidates_of, rule), lambda: rule.candidates(facts))
