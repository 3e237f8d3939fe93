"""The gates: cheap tests that decide, before LibCST runs, which rules a file needs and which code they need.

LibCST's parse, metadata and visits are most of tffix's cost, and most files of a tree cannot give a finding.
Each gate is a necessary condition of every finding of a rule, so skipping what a gate rejects never changes a
result; the test suite checks that on every fixture and rule example (`tests/test_gates.py`), and
`tffix check --no-gates` (or `gates = false` in `[tool.tffix]`) turns all of them off for a user who suspects a
miss. In order, each run once per file:

1. **Words.** A rule fires only where one of its `required_words()` occurs in the text: its `triggers` when it
   declares some (a word narrower than its anchors: `set_soft_device_placement`), else its `anchors` (a
   reference to an API leaf name spells that name); and, for a rule that declares one, where its
   `trigger_pattern` matches (TFX607 and TFX608 report `numpy.NAME` attributes only: the text must have a dot
   before one of their names, which `numpy` alone, in nearly every file, does not tell).
2. **Imports.** Rules see TensorFlow only through API names, which need an import of (or a binding named)
   `tensorflow`, `keras` or `tf_keras` that is not their internals (`tffix.prefilter`). A rule on another
   library's names (NumPy's removals) says so with `import_gate = False`.
3. **Anchors.** Python's `ast` (ten times faster than LibCST) finds the API leaf names the file references
   through its imports; a rule whose `anchors` it never references is not run (`tffix.slicing`, question 1).
4. **Preconditions.** The same walk of the same `ast` records what the file does with those names (which API
   names it calls, with which keywords; the methods it calls; its `with` items, operators, literals:
   `tffix.ast_facts`), and a rule whose `can_fire(facts)` is False is not run. Each rule states its own
   precondition beside its matching code (`Rule.can_fire`): TFX601 needs a call of a Keras optimizer with `lr=`,
   TFX608 an attribute `numpy.NAME` of a removed NAME, ... Most files of legacy code import TensorFlow and
   reference some anchor; few can give a finding, and this gate keeps the others away from LibCST.
5. **Slice.** When every remaining rule has anchors, the file's code unconnected to them (to the anchors of
   the rules gates 3 and 4 kept) is blanked and the slice is analysed first; the whole file is analysed only
   when the slice shows something, so every result comes from the whole file (`tffix.slicing`, question 2).
   A rule whose precondition can tell where its findings can be (`Rule.candidates`: TFX303's operators with
   an operand that may be an integer tensor) seeds the slice with the units holding those places instead of
   every use of its anchors, which for common names (`tf.cast`) is most of the file.
   On the real-code corpus few files get this far, none of the sliced ones has a finding, and analysing the
   slice costs about half the whole file: it still pays.

After the gates, the rules that can be certain of their findings on the same `ast` (names that resolve through
imports: `Rule.detect`, `tffix.ast_detection`) find them there, and LibCST runs only for the others; `--no-gates`
turns that off too, so that every rule runs on LibCST.

Suppressions (`# tffix: ignore-file`) are not gates: they are the user's, and `--no-gates` keeps them.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass

from .prefilter import imports_user_api, nesting_problem
from .rule import Rule, candidates_of
from .slicing import Focus, focus


def required_words(rule: type[Rule]) -> tuple[str, ...]:
    """Words one of which must occur in a file's text for `rule` to fire; () when the rule names none."""
    return rule.triggers or tuple(sorted(rule.anchors))


def screen(rules: Sequence[type[Rule]], source: str) -> tuple[type[Rule], ...]:
    """Gates 1 and 2: the rules whose words occur in `source`; when nothing in it imports the API, only those
    that match names of other libraries (`Rule.import_gate` False)."""
    passed = tuple(
        r for r in rules
        if (not (words := required_words(r)) or any(w in source for w in words))
        and (r.trigger_pattern is None or r.trigger_pattern.search(source) is not None)
    )
    if not passed or imports_user_api(source):
        return passed
    return tuple(r for r in passed if not r.import_gate)


@dataclass(frozen=True)
class Focused:
    """What gates 3 to 5 leave: the rules to run, and the slice to analyse first (None: the whole file)."""

    rules: tuple[type[Rule], ...]
    slice: str | None
    tree: ast.Module | None = None  # the file's `ast`, when Python could parse it (for `Rule.detect`)
    focus: Focus | None = None  # the anchor gate's, when Python could parse the file (for `Focus.parts`)


def focus_rules(rules: Sequence[type[Rule]], source: str, max_kept_share: float) -> Focused:
    """Gates 3 to 5 for the rules `screen` passed."""
    anchors = frozenset().union(*(rule.anchors for rule in rules))
    if nesting_problem(source) is not None:
        return Focused(tuple(rules), None)
    found = focus(source, anchors)
    if found is None:  # Python cannot parse it: LibCST will say what is wrong
        return Focused(tuple(rules), None)
    kept = tuple(
        rule for rule in rules
        if (not rule.anchors or not rule.anchors.isdisjoint(found.leaves)) and rule.can_fire(found.facts)
    )
    tree = found.facts.tree
    if not kept or not all(r.anchors for r in kept):
        return Focused(kept, None, tree, found)  # type: ignore[arg-type]
    needed: frozenset[str] = frozenset()
    lines: set[int] = set()
    for rule in kept:
        candidates = candidates_of(rule, found.facts)
        if candidates is None:
            needed |= rule.anchors
        else:  # where the precondition found the rule's only possible findings
            lines.update(node.lineno for node in candidates)  # type: ignore[attr-defined]
    if len(needed) < len(anchors) or lines:  # fewer rules, or seeds that cut more than their anchors
        found = found.seeded(needed, lines)
    sliced = found.kept_share <= max_kept_share and found.text != source
    return Focused(kept, found.text if sliced else None, tree, found)  # type: ignore[arg-type]
