"""The repair catalogue: each pattern reads what the program really had when it crashed (`Crash`, from the
observer) and the user's file (`Source`), and proposes candidate edits. A pattern proposes only where the
observed shapes show its cause; the search (`tffix.repair.search`) keeps a candidate only when a re-run proves
it. Patterns are listed in the order of how often each is the accepted answer to a real crashing program
(issue 15's count over 140 public Q&A programs), and that order ranks their candidates.
"""

from __future__ import annotations

import re

from .crash import Candidate, Crash, Pattern
from .model_patterns import batch_axis, declared_input, flatten_head, head_units, integer_labels
from .source import Source
from .tensor_patterns import conv_window, cross_entropy, elementwise, feed_shape, matmul, onehot_feed, reshape_size


# Ordered by how often each pattern is the accepted answer (issue 15: 32, 12, 9, 9, 8, 7, 7, 6, 5, 5, 4).
CATALOGUE: tuple[tuple[str, Pattern], ...] = (
    ("declared-input", declared_input),
    ("integer-labels", integer_labels),
    ("onehot-feed", onehot_feed),
    ("flatten-head", flatten_head),
    ("head-units", head_units),
    ("batch-axis", batch_axis),
    ("matmul", matmul),
    ("feed-shape", feed_shape),
    ("elementwise", elementwise),
    ("elementwise", cross_entropy),
    ("reshape-size", reshape_size),
    ("conv-window", conv_window),
)


# Failures that are no shape problem, whatever the shapes observed: an API misused, a name missing.
_NOT_SHAPES_EXCEPTIONS = {"NameError", "AttributeError", "KeyError", "ImportError", "ModuleNotFoundError",
                          "FileNotFoundError", "SyntaxError", "IndentationError", "UnboundLocalError"}


_NOT_SHAPES = re.compile(r"unexpected keyword argument|Arguments not recognized|has no attribute|is not defined"
                         r"|No module named|missing \d+ required positional argument")


def propose(source: Source, crash: Crash) -> list[Candidate]:
    """Every pattern's candidates, best first (by the pattern's own rank, then the catalogue's order)."""
    if crash.name in _NOT_SHAPES_EXCEPTIONS or _NOT_SHAPES.search(crash.message):
        return []
    found = []
    for order, (name, pattern) in enumerate(CATALOGUE):
        try:
            for candidate in pattern(source, crash):
                found.append((candidate.rank, order, len(found), candidate))
        except Exception:  # noqa: BLE001 - a pattern that cannot read this program proposes nothing
            continue
    found.sort(key=lambda item: item[:3])
    unique, seen = [], set()
    for *_, candidate in found:
        key = tuple(sorted((e.start, e.end, e.text) for e in candidate.edits))
        if key not in seen:
            seen.add(key)
            unique.append(candidate)
    return unique
