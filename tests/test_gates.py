"""The gates only skip work: with them off (`--no-gates`, `gates = false`), every fixture and rule example gives
the same findings; and a user who suspects a miss can turn them off."""

from __future__ import annotations

import json
from pathlib import Path

import libcst as cst
import pytest
from typer.testing import CliRunner

from tffix.cli import app
from tffix.config import ConfigError, Settings, settings_from_table
from tffix.engine import Engine
from tffix.gates import required_words, screen
from tffix.registry import all_rules
from tffix.rule import Rule

FIXTURES = Path(__file__).parent / "fixtures"
EVERY_RULE = ("ALL", *(r.code for r in all_rules() if not r.default_selected))


def _programs() -> list[tuple[str, str]]:
    found = [
        (str(p), p.read_text(encoding="utf-8"))
        for p in sorted(FIXTURES.glob("TFX*/*/*.py"))
        if p.name in ("before.py", "valid.py")  # an after.py is a before.py cured: the same code, less to find
    ]
    for rule in all_rules():
        found += [(f"{rule.code}-valid-{i}", e.code) for i, e in enumerate(rule.VALID)]
        found += [(f"{rule.code}-invalid-{i}", e.code) for i, e in enumerate(rule.INVALID)]
    return found


def _findings(engine: Engine, path: str, source: str) -> list[tuple]:
    result = engine.check(source, path)
    return [(f.code, f.start, f.end, f.message) for f in result.findings] + [str(p) for p in result.problems]


def test_the_gates_never_change_a_result_on_fixtures_and_examples():
    gated = Engine(Settings(select=EVERY_RULE))
    ungated = Engine(Settings(select=EVERY_RULE, gates=False))
    programs = _programs()
    differ = [path for path, source in programs if _findings(gated, path, source) != _findings(ungated, path, source)]
    assert not differ, differ[:5]
    # and the comparison compares something: most programs have findings
    assert sum(bool(_findings(gated, p, s)) for p, s in programs) > len(programs) // 3


def test_words_are_the_triggers_when_declared_else_the_anchors():
    for rule in all_rules():
        words = required_words(rule)
        assert words, rule.code
        assert words == (rule.triggers or tuple(sorted(rule.anchors)))
        # a trigger only narrows the anchors: declaring the anchors again as triggers would say nothing new
        assert not rule.triggers or set(rule.triggers) != set(rule.anchors), rule.code


class _MisdeclaredWords(Rule):
    """Test rule whose trigger word is wrong: it reports `tf.identity` calls but names another word."""

    code = "TFX991"
    name = "misdeclared-words"
    summary = "test"
    triggers = ("no_such_word",)

    def visit_Call(self, node: cst.Call) -> None:
        if self.is_call_to(node, "tf.identity"):
            self.report(node, "identity")


SOURCE = "import tensorflow as tf\ny = tf.identity(1)\n"


def test_gates_off_runs_a_rule_whose_gate_would_hide_its_finding():
    assert screen([_MisdeclaredWords], SOURCE) == ()
    assert Engine(Settings(select=("TFX991",)), rules=[_MisdeclaredWords]).check(SOURCE, "t.py").findings == ()
    ungated = Engine(Settings(select=("TFX991",), gates=False), rules=[_MisdeclaredWords])
    assert [f.code for f in ungated.check(SOURCE, "t.py").findings] == ["TFX991"]


def test_gates_off_keeps_the_users_suppressions():
    ungated = Engine(Settings(select=("TFX991",), gates=False), rules=[_MisdeclaredWords])
    assert ungated.check("# tffix: ignore-file\n" + SOURCE, "t.py").findings == ()


def test_gates_key_in_configuration():
    assert settings_from_table({"gates": False}).gates is False
    assert settings_from_table({}).gates is True
    with pytest.raises(ConfigError, match="'gates' must be true or false"):
        settings_from_table({"gates": "no"})


def test_no_gates_option_gives_the_same_findings_on_a_fixture(tmp_path):
    program = tmp_path / "p.py"
    program.write_text((FIXTURES / "TFX301" / next(iter(sorted(p.name for p in (FIXTURES / "TFX301").iterdir()
                                                                 if (p / "before.py").exists()))) / "before.py")
                       .read_text(encoding="utf-8"))
    runner = CliRunner()
    outputs = []
    for extra in ([], ["--no-gates"]):
        result = runner.invoke(app, ["check", "--no-cache", "--output-format", "json", *extra, str(program)])
        assert result.exit_code == 1, result.output
        outputs.append([(f["code"], f["location"]) for f in json.loads(result.stdout)["findings"]])
    assert outputs[0] == outputs[1] and outputs[0]


def test_a_gated_result_in_the_cache_never_answers_a_run_without_gates(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    program = tmp_path / "p.py"
    program.write_text((FIXTURES / "TFX301" / "functional_compile_fit" / "before.py").read_text(encoding="utf-8"))
    runner = CliRunner()

    def cached(*extra: str) -> int:
        result = runner.invoke(app, ["check", "--output-format", "json", *extra, str(program)])
        assert result.exit_code == 1, result.output
        return json.loads(result.stdout)["summary"]["cached"]

    assert cached() == 0  # fills the cache
    assert cached("--no-gates") == 0
    assert cached() == cached("--no-gates") == 1  # each from its own entry
