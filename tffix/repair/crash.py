"""What a repair pattern reads and proposes: the observed `Crash` (the exception, the user's line, the shapes
and dtypes the observer recorded) and a `Candidate` (named LibCST-positioned edits with a rank), with the
small readers of observations the patterns share.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from .source import Edit, Source, argument


@dataclass(frozen=True)
class Candidate:
    pattern: str
    title: str  # what the edit does, for the user
    edits: tuple[Edit, ...]
    rank: float = 0.0


@dataclass
class Crash:
    """What the observer saw: the exception, the user's line, the values in scope, the observed calls."""

    exception: str
    message: str
    file: str
    line: int
    locals: dict
    calls: list[dict] = field(default_factory=list)  # observed calls in this file, in order

    @classmethod
    def from_record(cls, record: dict, file: Path) -> Crash | None:
        crash = record.get("crash") or {}
        if not crash.get("line") or Path(crash.get("file") or "").resolve() != file.resolve():
            return None
        calls = [c for c in record.get("calls", []) if Path(c["file"]).resolve() == file.resolve()]
        return cls(crash["exception"], crash.get("message") or "", crash["file"], crash["line"],
                   crash.get("locals") or {}, calls)

    @property
    def name(self) -> str:
        return self.exception.rsplit(".", 1)[-1]

    def site(self, *apis: str) -> dict | None:
        """The last observed call at the crash line (the one that raised), when its API is one of `apis`."""
        here = [c for c in self.calls if c["line"] == self.line and (not apis or c["api"] in apis)]
        return here[-1] if here else None

    def model(self) -> dict | None:
        site = self.site()
        if site and isinstance(site["args"].get("self"), dict) and site["args"]["self"].get("kind") == "model":
            return site["args"]["self"]
        models = [v for v in self.locals.values() if isinstance(v, dict) and v.get("kind") == "model"]
        return models[-1] if len(models) == 1 else None

    def value(self, node: cst.BaseExpression, source: Source) -> dict | None:
        """What the observer knows of an expression: a name in scope at the crash."""
        if isinstance(node, cst.Name):
            return self.locals.get(node.value)
        return None


Pattern = Callable[[Source, Crash], list[Candidate]]


# --- helpers ----------------------------------------------------------------------------------------------
def product(dims: Sequence[int | None]) -> int | None:
    if any(d is None for d in dims):
        return None
    return math.prod(dims)  # type: ignore[arg-type]


def observed_shape(info: dict | None) -> list | None:
    return info.get("shape") if isinstance(info, dict) else None


def is_integer_labels(info: dict | None) -> bool:
    if not isinstance(info, dict) or info.get("shape") is None:
        return False
    dtype = info.get("dtype", "")
    if dtype.startswith(("int", "uint")):
        return True
    return dtype.startswith("float") and bool(info.get("integral"))


def training_call(crash: Crash) -> tuple[dict | None, dict | None]:
    """The observed training or evaluation call that crashed, and its model."""
    return crash.site("fit", "evaluate", "train_on_batch", "test_on_batch"), crash.model()


def site_call(source: Source, crash: Crash, *leaves: str) -> cst.Call | None:
    calls = source.calls_named(*leaves, line=crash.line)
    return calls[-1] if calls else None


def layer_calls(source: Source, model: dict) -> list[tuple[dict, cst.Call | None]]:
    """Each observed layer with the constructor call that made it: the k-th layer of a class is the k-th call
    in the file to a Keras layer class of that name (one model per file, as in the programs this repairs)."""
    seen: dict[str, int] = {}
    pairs = []
    for layer in model.get("layers", []):
        klass = layer["class"]
        k = seen.get(klass, 0)
        seen[klass] = k + 1
        calls = [c for c in source.calls_named(klass) if not isinstance(c.func, cst.Call)]
        calls = [c for c in calls if not any(n.startswith(("tf.", "numpy")) for n in source.callee(c))]
        pairs.append((layer, calls[k] if k < len(calls) else None))
    return pairs


def wrapped(source: Source, node: cst.CSTNode, template: str) -> Edit:
    return source.replace(node, template.format(source.code(node)))


def units_arg(call: cst.Call) -> cst.Arg | None:
    return argument(call, 0, "units")
