"""The README's rule table is what the rules themselves declare: a rule's code, name, severity, fix kind,
selection and summary come from its module, and a stale README fails here (regenerate it with
`tffix rules --format markdown`)."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from tffix.cli import app
from tffix.registry import all_rules, markdown_table

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_table() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- rules table:[^\n]*-->\n(.*?)<!-- end of rules table -->", text, re.S)
    assert match, "README.md has no generated rules table"
    return match.group(1)


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
