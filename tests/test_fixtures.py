"""Every fixture case, proven twice: by the engine (finding, exact fix, idempotence) and by execution
(before shows the failure, after runs clean) under real TensorFlow."""

from __future__ import annotations

import pytest

from fixture_cases import judge, load_cases, validate_case
from tffix.engine import Engine
from tffix.registry import all_rules, rule_by_code

CASES = load_cases()
POSITIVE = [c for c in CASES if not c.negative]
NEGATIVE = [c for c in CASES if c.negative]
ENGINE = Engine(rules=all_rules())  # every rule, also those selected only by name (TFX103)


def _text(path) -> str:
    return path.read_bytes().decode("utf-8")


def test_there_are_fixtures_for_every_rule():
    from tffix.registry import all_rules

    codes_with_cases = {c.code for c in POSITIVE}
    missing = [rule.code for rule in all_rules() if rule.code not in codes_with_cases]
    assert not missing, f"rules without executed fixtures: {missing}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case_is_well_formed(case):
    assert rule_by_code(case.code) is not None, f"no rule {case.code}"
    assert validate_case(case) == []


@pytest.mark.parametrize("case", POSITIVE, ids=lambda c: c.id)
def test_rule_fires_and_fix_is_exact_and_idempotent(case):
    before, after = _text(case.program("before")), _text(case.program("after"))
    codes = set(case.expect.get("codes", [case.code]))
    found = {f.code for f in ENGINE.check(before, str(case.program("before"))).findings}
    assert codes <= found, f"expected {codes} on before.py, found {found}"

    fixed = ENGINE.fix(before, "before.py", unsafe=case.unsafe)
    assert fixed.problems == ()
    if case.report_only:
        # No fix is offered; after.py is the hand-corrected program, on which the rule must be silent.
        assert not fixed.changed, "a report-only rule changed the file"
        assert case.code not in {f.code for f in ENGINE.check(after, "after.py").findings}
        return
    assert fixed.fixed_source == after, "apply does not turn before.py into after.py"
    again = ENGINE.fix(after, "after.py", unsafe=case.unsafe)
    assert again.fixed_source == after, "apply on after.py changes it again"


@pytest.mark.parametrize("case", NEGATIVE, ids=lambda c: c.id)
def test_negative_case_gives_no_finding_and_no_diff(case):
    source = _text(case.program("valid"))
    result = ENGINE.check(source, "valid.py")
    assert result.problems == ()
    assert [f for f in result.findings if f.code == case.code] == []
    assert ENGINE.fix(source, "valid.py", unsafe=True).fixed_source == source


@pytest.mark.execution
@pytest.mark.parametrize("case", POSITIVE, ids=lambda c: c.id)
def test_before_fails_and_after_runs_clean(case, warm_runner):
    options = case.run_options()
    before = warm_runner.run(case.program("before"), **options)
    after = warm_runner.run(case.program("after"), **options)
    assert judge(before, case.expect["before"]) == []
    assert judge(after, case.expect["after"]) == []
    if case.expect.get("same_stdout"):
        assert before.stdout == after.stdout, "before and after must print the same values"


@pytest.mark.execution
@pytest.mark.parametrize("case", NEGATIVE, ids=lambda c: c.id)
def test_negative_case_runs_as_declared(case, warm_runner):
    outcome = warm_runner.run(case.program("valid"), **case.run_options())
    assert judge(outcome, case.expect["valid"]) == []
