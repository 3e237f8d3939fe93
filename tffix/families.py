"""The TensorFlow failures tffix knows, derived from the rules: each rule declares the failures it explains
(`Rule.explains`, `tffix.rule.FailureKind`), defined once in the module of the rule that is their main cause.

Here they are only ordered and given the codes of the rules that list them (the defining rule first, then by
code); the messages they match are recorded in docs/tensorflow-behaviour.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from .registry import all_rules
from .rule import FailureKind
from .tracebacks import Failure, RaisedError

# Failures no rule causes yet: `tffix explain` names them and says that no rule covers them. (The Keras 3
# one that was here is TFX609's now.)
WITHOUT_RULE: tuple[FailureKind, ...] = ()


@dataclass(frozen=True)
class Family:
    """A failure kind with the codes of the rules that can cause it, most direct cause first."""

    kind: FailureKind
    codes: tuple[str, ...]

    @property
    def key(self) -> str:
        return self.kind.key

    @property
    def title(self) -> str:
        return self.kind.title

    @property
    def explanation(self) -> str:
        return self.kind.explanation

    @property
    def pattern(self) -> re.Pattern:
        return self.kind.pattern  # type: ignore[return-value]

    def matches(self, error: RaisedError, failure: Failure) -> bool:
        return self.kind.matches(error, failure)


@cache
def families() -> tuple[Family, ...]:
    """Every failure kind, most specific first (the first that matches names a failure): the rules' kinds in
    the order of their defining rules' codes (and of definition in that module), then kinds no rule causes
    yet, then the generic fallbacks. A kind's codes: its defining rule first, then the others that list it."""
    listed: dict[FailureKind, list[type]] = {}
    for rule in all_rules():
        for kind in rule.explains:
            listed.setdefault(kind, []).append(rule)
    ordered: list[tuple[tuple, Family]] = []
    for kind, rules in listed.items():
        # the defining rule first; a kind defined outside a rule module (a helper) is led by the lowest code
        rules.sort(key=lambda rule: (rule.__module__ != kind.module, rule.code))
        owner = rules[0]
        family = Family(kind, tuple(rule.code for rule in rules))
        ordered.append(((kind.fallback, False, owner.code, owner.explains.index(kind)), family))
    ordered.extend(((kind.fallback, True, "", i), Family(kind, ())) for i, kind in enumerate(WITHOUT_RULE))
    keys = [family.key for _, family in ordered]
    if len(set(keys)) != len(keys):
        raise RuntimeError(f"failure kinds share a key: {sorted({k for k in keys if keys.count(k) > 1})}")
    return tuple(family for _, family in sorted(ordered, key=lambda item: item[0]))


def recognise(failures: Sequence[Failure]) -> tuple[Failure, RaisedError, Family] | None:
    """The latest failure tffix knows, with the exception in its chain that names it."""
    for failure in reversed(failures):
        for error in reversed(failure.errors):
            for family in families():
                if family.matches(error, failure):
                    return failure, error, family
    return None
