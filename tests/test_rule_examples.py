"""Every rule's own VALID and INVALID examples (the ones `tffix rule CODE` shows), checked as Fixit does."""

from __future__ import annotations

import libcst as cst
import pytest

from tffix.engine import Engine
from tffix.gates import required_words
from tffix.registry import all_rules

RULES = all_rules()
VALID = [(rule, i, example) for rule in RULES for i, example in enumerate(rule.VALID)]
INVALID = [(rule, i, example) for rule in RULES for i, example in enumerate(rule.INVALID)]


def _id(item) -> str:
    rule, index, _ = item
    return f"{rule.code}-{index}"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_is_documented(rule):
    assert rule.code.startswith("TFX") and len(rule.code) == 6 and rule.code[3:].isdigit()
    assert rule.name and rule.name == rule.name.lower() and " " not in rule.name
    assert rule.summary and rule.__doc__ and len(rule.__doc__.strip()) > 40
    assert rule.VALID and rule.INVALID, "a rule ships valid and invalid examples"
    assert required_words(rule), "a rule names anchors or trigger words for the gates"
    module_doc = __import__(rule.__module__, fromlist=["_"]).__doc__
    assert module_doc and rule.code in module_doc


@pytest.mark.parametrize("item", VALID, ids=_id)
def test_valid_example_gives_no_finding(item):
    rule, _, example = item
    result = Engine(rules=[rule]).check(example.code, "example.py")
    assert result.problems == () and result.findings == ()


@pytest.mark.parametrize("item", INVALID, ids=_id)
def test_invalid_example_is_found_and_fixed_as_documented(item):
    rule, _, example = item
    engine = Engine(rules=[rule])
    findings = engine.check(example.code, "example.py").findings
    assert [f.code for f in findings][:1] == [rule.code]
    # A file without one of the rule's words is skipped by the word gate, so the examples must contain one.
    assert any(t in example.code for t in required_words(rule))
    fixed = engine.fix(example.code, "example.py", unsafe=example.unsafe)
    assert fixed.problems == ()
    if example.expected is None:
        assert not fixed.changed
        return
    assert fixed.fixed_source == example.expected
    cst.parse_module(fixed.fixed_source)
    assert engine.fix(fixed.fixed_source, "example.py", unsafe=example.unsafe).fixed_source == example.expected
    if example.unsafe:
        assert not engine.fix(example.code, "example.py", unsafe=False).changed, "an unsafe fix must need the flag"
