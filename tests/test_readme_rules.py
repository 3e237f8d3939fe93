"""The README's rule table and docs/rules.md are what the rules themselves declare: a rule's code, name,
severity, fix, selection, summary and documentation come from its module, and a stale README or docs page
fails here (regenerate them with `tffix rules --format markdown` and `tffix rules --format docs > docs/rules.md`).
So does the catalogue that `tffix rules` and the selection checks read without importing the rules
(`python -m tffix.catalogue --write`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from tffix.cli import app
from tffix import catalogue
from tffix.catalogue import markdown_table
from tffix.registry import all_rules, fix_kind, rule_markdown, rules_page

README = Path(__file__).resolve().parent.parent / "README.md"
RULES_PAGE = Path(__file__).resolve().parent.parent / "docs" / "rules.md"


def readme_table() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- rules table:[^\n]*-->\n(.*?)<!-- end of rules table -->", text, re.S)
    assert match, "README.md has no generated rules table"
    return match.group(1)


def test_the_catalogue_is_what_the_rules_declare():
    assert catalogue.GENERATED.read_text(encoding="utf-8") == catalogue.generated_source(), (
        "tffix/_rule_catalogue.py is stale: python -m tffix.catalogue --write"
    )
    declared = [(r.code, r.name, r.summary, r.severity.value, fix_kind(r), r.default_selected) for r in all_rules()]
    assert [tuple(vars(entry).values()) for entry in catalogue.entries()] == declared


def test_rules_json_lists_every_rule_with_its_facts():
    result = CliRunner().invoke(app, ["rules", "--format", "json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [row["code"] for row in rows] == [rule.code for rule in all_rules()]
    for row, rule in zip(rows, all_rules()):
        assert (row["fix"], row["default_selected"], row["severity"]) == (
            fix_kind(rule), rule.default_selected, rule.severity.value)


def test_readme_rule_table_is_generated_from_the_rules():
    assert readme_table() == markdown_table(), "README.md's rule table is stale: tffix rules --format markdown"


def test_markdown_table_has_a_row_per_rule_with_its_declared_facts():
    rows = markdown_table().splitlines()[2:]
    assert [row.split(" | ")[0].lstrip("| ") for row in rows] == [rule.code for rule in all_rules()]
    by_code = {row.split(" | ")[0].lstrip("| "): row for row in rows}
    for rule in all_rules():
        assert f"| {rule.name} | {rule.severity.value} |" in by_code[rule.code]
        assert ("| by code |" in by_code[rule.code]) is (not rule.default_selected)


def test_cli_prints_the_same_table():
    result = CliRunner().invoke(app, ["rules", "--format", "markdown"])
    assert result.exit_code == 0
    assert result.stdout == markdown_table()


def test_rule_docs_say_when_a_rule_runs_only_when_selected_by_code():
    runner = CliRunner()
    for rule in all_rules():
        header = runner.invoke(app, ["rule", rule.code]).stdout.splitlines()[0]
        assert ("runs only when selected by code" in header) is (not rule.default_selected), header


def test_docs_rules_page_is_generated_from_the_rules():
    assert RULES_PAGE.read_text(encoding="utf-8") == rules_page(), (
        "docs/rules.md is stale: tffix rules --format docs > docs/rules.md"
    )
    result = CliRunner().invoke(app, ["rules", "--format", "docs"])
    assert result.exit_code == 0 and result.stdout == rules_page()


def test_rules_page_holds_every_rules_documentation():
    page = rules_page()
    assert markdown_table() in page
    for rule in all_rules():
        assert f"\n## {rule.code} {rule.name}\n" in page
        assert rule_markdown(rule, level=3) in page


def test_rule_command_prints_the_registry_documentation():
    runner = CliRunner()
    for rule in all_rules():
        stdout = runner.invoke(app, ["rule", rule.code]).stdout
        assert stdout.endswith(rule_markdown(rule)), rule.code
