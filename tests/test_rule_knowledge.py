"""What each rule declares about itself (issue 14, item 3): the failures it explains, its fix, its documentation
in Ruff's sections. The front ends read them from the registry; these tests hold the declarations to the
rules' own examples and fixtures, and to one shape."""

from __future__ import annotations

import importlib
import re

import pytest
from fixture_cases import load_cases

from tffix.families import WITHOUT_RULE, families
from tffix.registry import all_rules, declared_fix, doc_sections, fix_declaration_problems, fix_kind, rule_markdown
from tffix.rule import DOC_SECTIONS, FailureKind, Fix, Invalid, Rule

RULES = all_rules()
DECLARED = list(RULES)  # every rule declares its fix and documents itself in the sections


# --- fix availability and safety ------------------------------------------------------------------------------
@pytest.mark.parametrize("rule", DECLARED, ids=lambda r: r.code)
def test_declared_fix_agrees_with_the_invalid_examples(rule):
    assert fix_declaration_problems(rule) == []
    assert fix_kind(rule) == rule.fix.kind


def test_a_declaration_that_an_example_contradicts_is_caught():
    class Toy(Rule):
        """A toy rule for the check."""

        code = "TFX999"
        name = "toy"
        summary = "toy"
        fix = Fix.always("safe")
        INVALID = (Invalid("a\n", "b\n", unsafe=True), Invalid("c\n"))

    problems = fix_declaration_problems(Toy)
    assert any("INVALID[0] has a unsafe fix; the rule declares safe" in p for p in problems)
    assert any("declares safe fixes and no INVALID example has one" in p for p in problems)
    assert any("always available, and an INVALID example has none" in p for p in problems)
    Toy.fix = Fix.none()
    assert any("has a unsafe fix; the rule declares report only" in p for p in fix_declaration_problems(Toy))
    Toy.fix = Fix.sometimes("unsafe")
    assert fix_declaration_problems(Toy) == []
    with pytest.raises(ValueError):
        Fix(Fix.none().availability, frozenset(Fix.always("safe").safety))


def test_fixtures_agree_with_the_declared_fix():
    """An executed fixture of one rule shows a fix of the kind the rule declares (or none, for report-only)."""
    by_code = {rule.code: rule for rule in DECLARED}
    checked = 0
    for case in load_cases():
        rule = by_code.get(case.code)
        if rule is None or case.negative or set(case.expect.get("codes", [case.code])) != {case.code}:
            continue
        checked += 1
        kind = "report only" if case.report_only else ("unsafe" if case.unsafe else "safe")
        if kind == "report only":
            assert rule.fix.availability.value != "always", case.id
        else:
            assert kind in fix_kind(rule).split("/"), f"{case.id}: a {kind} fix, {rule.code} declares {fix_kind(rule)}"
    assert checked > 20


def test_undeclared_fix_is_inferred_from_the_examples():
    class Toy(Rule):
        """A toy rule for the inference."""

        code = "TFX998"
        name = "toy"
        summary = "toy"
        INVALID = (Invalid("a\n", "b\n"), Invalid("c\n"))

    assert declared_fix(Toy) == Fix.sometimes("safe") and fix_kind(Toy) == "safe"


# --- documentation ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rule", DECLARED, ids=lambda r: r.code)
def test_rule_docstring_has_every_section(rule):
    intro, sections = doc_sections(rule)
    assert intro.startswith(f"{rule.code}: "), intro
    required = [title for title in DOC_SECTIONS if title != "Example"]  # the Example may come from INVALID[0]
    assert [title for title in sections if title in DOC_SECTIONS] == [t for t in DOC_SECTIONS if t in sections]
    for title in required:
        assert sections.get(title, "").strip(), f"{rule.code} has no '## {title}' section"
    assert set(sections) <= set(DOC_SECTIONS), f"{rule.code}: unknown sections {set(sections) - set(DOC_SECTIONS)}"
    # The evidence is cited where the measured behaviour is described.
    assert re.search(r"docs/tensorflow-behaviour\.md|probe|fixtures|measured", sections["Measured TensorFlow behaviour"])


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rendered_docs_have_the_sections_and_the_example(rule):
    text = rule_markdown(rule)
    for title in ("What it does", "Example"):
        assert f"\n## {title}\n" in text
    assert declared_fix(rule).sentence in text
    for kind in rule.explains:
        assert f"{kind.title} (`{kind.key}`)" in text
    assert rule.INVALID[0].code.splitlines()[0] in text


def test_fix_safety_section_agrees_with_the_declaration():
    for rule in DECLARED:
        text = doc_sections(rule)[1]["Fix safety"].lower()
        if rule.fix.kind == "report only":
            assert "no fix" in text or "report-only" in text, rule.code
        for safety in rule.fix.safety:
            assert safety.value in text, f"{rule.code}'s Fix safety does not say {safety.value}"


def test_docs_without_sections_fall_back_to_the_class_docstring():
    class Toy(Rule):
        """The class docstring says it all."""

        code = "TFX997"
        name = "toy"
        summary = "toy summary"
        INVALID = (Invalid("x = 1\n"),)

    text = rule_markdown(Toy)
    assert text.startswith("toy summary\n") and "## What it does\n\nThe class docstring says it all." in text
    assert "No fix: the rule only reports." in text


# --- the failures rules explain --------------------------------------------------------------------------------
def test_every_failure_kind_is_listed_by_the_rule_of_the_module_that_defines_it():
    for rule in RULES:
        module = importlib.import_module(rule.__module__)
        own = [v for v in vars(module).values() if isinstance(v, FailureKind) and v.module == module.__name__]
        for kind in own:
            assert kind in rule.explains, f"{rule.code} defines {kind.key} but does not list it in explains"


def test_families_are_derived_from_the_rules():
    by_key = {family.key: family for family in families()}
    for rule in RULES:
        for kind in rule.explains:
            family = by_key[kind.key]
            assert family.kind is kind and rule.code in family.codes
            # the defining rule leads, the others follow by code
            owner = [r.code for r in RULES if r.__module__ == kind.module]
            assert list(family.codes) == owner + sorted(set(family.codes) - set(owner))
    listed = {kind.key for rule in RULES for kind in rule.explains}
    assert set(by_key) == listed | {kind.key for kind in WITHOUT_RULE}
    # generic catch-alls last, after every specific kind
    fallbacks = [family.kind.fallback for family in families()]
    assert fallbacks == sorted(fallbacks) and fallbacks[-1]
    assert by_key["cannot-assign-device"].codes == ("TFX101", "TFX102", "TFX203")


def test_a_failure_kind_compiles_and_matches_like_before():
    kind = FailureKind("k", "title", """two
        lines""", r"boom \d+", exception="ValueError")
    assert kind.explanation == "two lines" and kind.pattern.search("boom 42") and kind.module == __name__



# --- the front ends read the registry ---------------------------------------------------------------------------
def test_sarif_rule_metadata_is_the_registrys(tmp_path, monkeypatch):
    import inspect
    import json

    from typer.testing import CliRunner

    from tffix.cli import app

    (tmp_path / "a.py").write_text("import tensorflow as tf\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["check", "--no-cache", "--output-format", "sarif", "a.py"])
    rules = json.loads(result.stdout)["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [rule.code for rule in RULES]
    for entry, rule in zip(rules, RULES):
        assert entry["help"]["markdown"] == rule_markdown(rule)
        assert entry["help"]["text"] == rule_markdown(rule, fence=False)
        assert entry["fullDescription"]["text"] == inspect.cleandoc(rule.__doc__)


def test_lsp_hover_text_is_the_registrys():
    pytest.importorskip("pygls")
    from tffix.lsp_diagnostics import rule_documentation

    for rule in RULES:
        assert rule_documentation(rule, markdown=True).endswith(rule_markdown(rule, level=3).rstrip())
        assert "```" not in rule_documentation(rule, markdown=False)
