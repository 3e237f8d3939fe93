"""Finding the rules (every `Rule` subclass with a code in the modules of `tffix.transforms`) and what they
declare about themselves: their fix (`Rule.fix`) and their documentation (the rule module's docstring, in
Ruff's sections). Every front end reads them here: `tffix rule(s)`, the LSP hover, SARIF, the README's rule
table and docs/rules.md. (The failures each rule explains are ordered in `tffix.families`.)"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import sys
from functools import cache

from .catalogue import RuleEntry, markdown_table
from .rule import DOC_SECTIONS, Fix, FixAvailability, Rule


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


def declared_fix(rule: type[Rule]) -> Fix:
    """The rule's declared fix; for a rule that declares none yet, what its INVALID examples show."""
    if rule.fix is not None:
        return rule.fix
    fixed = [example for example in rule.INVALID if example.expected is not None]
    if not fixed:
        return Fix.none()
    safety = {"unsafe" if example.unsafe else "safe" for example in fixed}
    return Fix.always(*safety) if len(fixed) == len(rule.INVALID) else Fix.sometimes(*safety)


def fix_kind(rule: type[Rule]) -> str:
    """What `apply` offers for the rule's findings: "safe", "unsafe", both, or "report only"."""
    return declared_fix(rule).kind


def fix_declaration_problems(rule: type[Rule]) -> list[str]:
    """Where the rule's declared fix and its INVALID examples disagree (empty: they agree). Every safety the
    declaration names is shown by an example, and no example's fix has another; "always" means every example
    is fixed, "none" that none is, "sometimes" that at least one is."""
    if rule.fix is None:
        return [f"{rule.code} declares no fix (Rule.fix)"]
    declared = {s.value for s in rule.fix.safety}
    fixed = [(i, example) for i, example in enumerate(rule.INVALID) if example.expected is not None]
    problems = [
        f"{rule.code} INVALID[{i}] has a {kind} fix; the rule declares {rule.fix.kind}"
        for i, example in fixed
        if (kind := "unsafe" if example.unsafe else "safe") not in declared
    ]
    shown = {"unsafe" if example.unsafe else "safe" for _, example in fixed}
    problems += [f"{rule.code} declares {kind} fixes and no INVALID example has one" for kind in sorted(declared - shown)]
    availability = rule.fix.availability
    if availability is FixAvailability.ALWAYS and len(fixed) != len(rule.INVALID):
        problems.append(f"{rule.code} declares a fix always available, and an INVALID example has none")
    if availability is FixAvailability.SOMETIMES and not fixed:
        problems.append(f"{rule.code} declares a fix sometimes available, and no INVALID example has one")
    return problems


# --- documentation: the rule module's docstring, in Ruff's sections ---------------------------------------------
_SECTION = re.compile(r"^## (.+?)\s*$", re.M)


def doc_sections(rule: type[Rule]) -> tuple[str, dict[str, str]]:
    """The rule module's docstring as (its first paragraph, {section title: text}). A docstring without
    sections (a rule not yet written in them) is all "What it does", after the class docstring."""
    module_doc = inspect.cleandoc(sys.modules[rule.__module__].__doc__ or "")
    if rule.code not in module_doc:  # a module of several rules (tests' toy rules): the class docstring only
        module_doc = ""
    class_doc = inspect.cleandoc(rule.__doc__ or "")
    head, *rest = _SECTION.split(module_doc)
    if not rest:
        intro, _, body = head.strip().partition("\n\n")
        text = "\n\n".join(part for part in (class_doc, body.strip()) if part) if module_doc else class_doc
        return intro if module_doc else rule.summary, {"What it does": text}
    sections = {title: text.strip() for title, text in zip(rest[::2], rest[1::2])}
    return head.strip(), sections


def _example(rule: type[Rule], fence: bool) -> str:
    from .diff import unified_diff

    example = rule.INVALID[0]
    parts = [_block(example.code, "python", fence)]
    if example.expected is not None:
        parts.append(f"Fixed{' (with `--unsafe-fixes`)' if example.unsafe else ''}:")
        parts.append(_block(unified_diff(example.code, example.expected, "example.py"), "diff", fence))
    return "\n\n".join(parts)


def _block(code: str, language: str, fence: bool) -> str:
    if fence:
        return f"```{language}\n{code.rstrip()}\n```"
    return code.rstrip()


def facts_line(rule: type[Rule]) -> str:
    """Severity, fix and selection in one line (`tffix rule`'s header says the same)."""
    selected = ("selected by default" if rule.default_selected
                else f'runs only when selected by code: select = ["{rule.code}"]')
    return f"Severity: {rule.severity.value}. {declared_fix(rule).sentence} {selected[0].upper()}{selected[1:]}."


def rule_markdown(rule: type[Rule], *, level: int = 2, fence: bool = True) -> str:
    """A rule's documentation: its summary, facts and sections (the Example from its first INVALID example
    when the docstring has none), as Markdown with headings at `level`."""
    intro, sections = doc_sections(rule)
    if "Example" not in sections and rule.INVALID:
        sections["Example"] = _example(rule, fence)
    ordered = [title for title in DOC_SECTIONS if title in sections]
    ordered += [title for title in sections if title not in DOC_SECTIONS]
    parts = [intro, facts_line(rule)]
    if rule.explains:  # the TensorFlow failures `tffix explain` maps to this rule
        parts.append("Explains: " + "; ".join(f"{kind.title} (`{kind.key}`)" for kind in rule.explains) + ".")
    parts += [f"{'#' * level} {title}\n\n{sections[title]}" for title in ordered]
    return "\n\n".join(part for part in parts if part) + "\n"


def rules_page(rules: tuple[type[Rule], ...] | None = None) -> str:
    """docs/rules.md (`tffix rules --format docs`): the table, then every rule's documentation."""
    rules = rules if rules is not None else all_rules()
    parts = [
        "# Rules\n\n<!-- generated by `tffix rules --format docs` from the rules' own docstrings and declarations;"
        " tests/test_readme_rules.py fails when it is stale -->\n",
        markdown_table(tuple(catalogue_entry(rule) for rule in rules)),
    ]
    for rule in rules:
        parts.append(f"## {rule.code} {rule.name}\n\n{rule_markdown(rule, level=3)}")
    return "\n".join(parts)


def catalogue_entry(rule: type[Rule]) -> RuleEntry:
    """What the catalogue (`tffix.catalogue`) keeps of `rule`."""
    return RuleEntry(rule.code, rule.name, rule.summary, rule.severity.value, fix_kind(rule), rule.default_selected)
