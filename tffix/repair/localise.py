"""From an error message alone (a log, no run) to the repair patterns that can cause it, for `tffix explain`:
the shapes in the message say which patterns apply; only a run with the observer (`tffix run --fix`) knows
the program's real shapes and can prove one."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Hint:
    pattern: str
    why: str


_SHAPES = re.compile(r"target\.shape=\((?P<target>[^)]*)\), output\.shape=\((?P<output>[^)]*)\)")
_FEED = re.compile(r"Cannot feed value of shape \((?P<value>[^)]*)\) for Tensor '?[^',]+'?, which has shape '?\((?P<shape>[^)]*)\)")


def _dims(text: str) -> list[str]:
    return [d.strip() for d in text.split(",") if d.strip()]


def patterns_for(message: str) -> list[Hint]:
    """The catalogue patterns (tffix.repair.patterns) whose failure reads like `message`, most likely first."""
    hints: list[Hint] = []
    shapes = _SHAPES.search(message)
    if shapes:
        target, output = _dims(shapes.group("target")), _dims(shapes.group("output"))
        if len(output) > 2 and len(target) < len(output):
            hints.append(Hint("flatten-head", "the model's output keeps spatial or time axes the labels do not have"))
        elif len(output) == 2 and (len(target) == 1 or target[-1:] == ["1"]) and output[1] not in ("1", "None"):
            hints.append(Hint("integer-labels", "integer class labels against a multi-unit head: one-hot them or use "
                                                "the sparse loss"))
        elif len(output) == 2 and len(target) == 2 and target[1] != output[1]:
            hints.append(Hint("head-units", "the head's width differs from the labels' width"))
    if re.search(r"Received a label value of \d+ which is outside the valid range", message):
        hints.append(Hint("head-units", "labels beyond the head's number of units"))
    if re.search(r"incompatible with the layer|expected shape=|expected min_ndim|expected ndim", message):
        hints.append(Hint("declared-input", "the data's shape differs from the model's declared input"))
        hints.append(Hint("batch-axis", "or one example was passed without its batch axis"))
    feed = _FEED.search(message)
    if feed:
        value, shape = _dims(feed.group("value")), _dims(feed.group("shape"))
        if len(value) == 1 and len(shape) == 2 and shape[1] not in ("1", "?"):
            hints.append(Hint("onehot-feed", "class ids fed to a one-hot placeholder"))
        hints.append(Hint("feed-shape", "the fed array's shape differs from its placeholder's"))
    if re.search(r"In\[0\] and In\[1\] has different ndims|Matrix size-incompatible|In\[0\] ndims must be"
                 r"|Dimensions must be equal, but are \d+ and \d+ for '\{\{node [^}]*MatMul|for '\S*MatMul", message):
        hints.append(Hint("matmul", "a matrix product of a vector, or of operands whose inner dimensions differ"))
    elif re.search(r"Incompatible shapes|could not be broadcast together|Dimensions must be equal", message):
        hints.append(Hint("elementwise", "an elementwise op on tensors whose shapes do not broadcast"))
    if re.search(r"Input to reshape is a tensor with \d+ values|cannot reshape array of size", message):
        hints.append(Hint("reshape-size", "a hard-coded reshape size that does not match the data"))
    if re.search(r"would be zero or negative|Negative dimension size|negative output size", message, re.I):
        hints.append(Hint("conv-window", "a conv/pool window larger than its input"))
    seen, unique = set(), []
    for hint in hints:
        if hint.pattern not in seen:
            seen.add(hint.pattern)
            unique.append(hint)
    return unique


def hint_text(message: str, where: str | None) -> str:
    """Lines for `tffix explain`'s output; empty when no pattern applies."""
    hints = patterns_for(message)
    if not hints:
        return ""
    lines = ["repair patterns that fit this error (tffix repair / tffix run --fix):"]
    lines.extend(f"  {hint.pattern}: {hint.why}" for hint in hints)
    target = f"python {where}" if where else "python train.py"
    lines.append(f"  only the program's real shapes decide: `tffix run --fix -- {target}` observes them, tries these "
                 "repairs and keeps one only when a re-run proves it.")
    return "\n".join(lines) + "\n"
