"""Finding the rules: every `Rule` subclass with a code in the modules of `tffix.transforms`."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from .rule import Rule


@cache
def all_rules() -> tuple[type[Rule], ...]:
    from . import transforms

    found: dict[str, type[Rule]] = {}
    for module_info in sorted(pkgutil.iter_modules(transforms.__path__), key=lambda i: i.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{transforms.__name__}.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Rule) and "code" in value.__dict__:
                if value.__module__ != module.__name__:
                    continue  # imported from elsewhere, registered there
                if value.code in found and found[value.code] is not value:
                    raise RuntimeError(f"rule code {value.code} is defined twice: {found[value.code]} and {value}")
                found[value.code] = value
    return tuple(found[code] for code in sorted(found))


def rule_by_code(code: str) -> type[Rule] | None:
    return next((rule for rule in all_rules() if rule.code == code.upper()), None)


def fix_kind(rule: type[Rule]) -> str:
    """What `apply` offers for the rule's findings: "safe", "unsafe", both, or "report only"."""
    kinds = {("unsafe" if example.unsafe else "safe") for example in rule.INVALID if example.expected is not None}
    return "/".join(sorted(kinds)) or "report only"


def markdown_table(rules: tuple[type[Rule], ...] | None = None) -> str:
    """The rule table of the README (`tffix rules --output-format markdown`), from the rules themselves."""
    rows = ["| code | name | severity | fix | selected | what |", "|---|---|---|---|---|---|"]
    for rule in rules if rules is not None else all_rules():
        selected = "default" if rule.default_selected else "by code"
        summary = rule.summary.replace("|", "\\|")
        rows.append(f"| {rule.code} | {rule.name} | {rule.severity.value} | {fix_kind(rule)} | {selected} | {summary} |")
    return "\n".join(rows) + "\n"
