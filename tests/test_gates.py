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
from tffix.gates import focus_rules, required_words, screen
from tffix.registry import all_rules
from tffix.rule import Rule
from tffix.slicing import focus

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


class _MisdeclaredPrecondition(_MisdeclaredWords):
    """Test rule whose precondition is wrong: it reports `tf.identity` calls but says it never can."""

    code = "TFX992"
    triggers = ()
    anchors = frozenset({"identity"})

    @classmethod
    def can_fire(cls, facts) -> bool:
        return False


def test_gates_off_runs_a_rule_whose_precondition_would_hide_its_finding():
    assert screen([_MisdeclaredPrecondition], SOURCE) == (_MisdeclaredPrecondition,)
    assert focus_rules([_MisdeclaredPrecondition], SOURCE, 0.6).rules == ()
    gated = Engine(Settings(select=("TFX992",)), rules=[_MisdeclaredPrecondition])
    assert gated.check(SOURCE, "t.py").findings == ()
    ungated = Engine(Settings(select=("TFX992",), gates=False), rules=[_MisdeclaredPrecondition])
    assert [f.code for f in ungated.check(SOURCE, "t.py").findings] == ["TFX992"]


# For each rule with a precondition (`Rule.can_fire`): a program that its words, imports and anchors let through
# but that cannot give it a finding, which the precondition rejects. A precondition that rejects nothing is
# only the anchors again.
_REJECTED = {
    "TFX101": "import tensorflow as tf\nwith tf.device('/gpu:0'):\n    x = tf.ones(3)\n",
    "TFX103": "import tensorflow as tf\nsess = tf.Session()\nx = tf.placeholder(tf.float32)\nprint(tf.device)\n",
    "TFX203": "import tensorflow as tf\ntpu = '/device:TPU:0'\nwith tf.device(tpu):\n    x = tf.ones(3)\n",
    "TFX302": "import tensorflow as tf\ndef loss(y, logits):\n    return tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits)\n",
    "TFX303": "import tensorflow as tf\nx = tf.ones((2, 3)) * 2.0 + tf.zeros((2, 3))\ny = tf.reshape(x, [-1, 6]) / 255.0\n",
    "TFX304": "import tensorflow as tf\ny = tf.cast(tf.cast(x, tf.int32), tf.float32)\n",
    "TFX305": "import tensorflow as tf\nw = tf.ones((3, 2))\nh = tf.nn.relu(w)\nprint(tf.matmul)\n",
    "TFX307": "import tensorflow as tf\ndef encode(labels):\n    return tf.one_hot(labels, 10)\n",
    "TFX401": "import tensorflow as tf\nwith tf.GradientTape() as tape:\n    y = tf.ones(3) * 2\n",
    "TFX402": "import tensorflow as tf\nwith tf.GradientTape() as tape:\n    y = model(x)\ng = tape.gradient(y, model.trainable_variables)\n",
    "TFX403": "import tensorflow as tf\nwith tf.GradientTape() as tape:\n    y = tf.cast(model(x), tf.float32)\ng = tape.gradient(y, model.trainable_variables)\n",
    "TFX501": "import tensorflow as tf\nv = tf.Variable(1.0)\ng = tf.get_variable('g', [1])\n",
    "TFX502": "import tensorflow as tf\nw = tf.get_variable('w', [3, 2])\nv = tf.Variable(1.0)\n",
    "TFX601": "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(learning_rate=0.1)\nlr = 0.1\n",
    "TFX602": "import keras\nnb_epoch = 3\nmodel.fit(x, y, epochs=nb_epoch)\n",
    "TFX603": "import keras\nmodel.fit(gen, steps_per_epoch=3)  # not fit_generator\n",
    "TFX604": "import keras\nworkers = 4\nmodel.fit(x, y)\n",
    "TFX605": "import keras\nmodel.predict(x)  # predict_classes is gone\n",
    "TFX606": "import tensorflow as tf\nopt = tf.keras.optimizers.SGD(0.1)\ndecay = 0.9\n",
    "TFX607": "import numpy as np\nimport tensorflow as tf\nx = np.zeros(3, dtype=np.float32)\ny = int(x[0])\n",
    "TFX608": "import numpy as np\nimport tensorflow as tf\nx = np.prod(np.zeros(3)) + np.inf\n",
    "TFX609": "import tensorflow as tf\nh = tf.keras.layers.Dense(4)(tf.compat.v1.placeholder(tf.float32))\n",
    "TFX610": "import tensorflow as tf\nclass L(tf.keras.layers.Layer):\n    def build(self, s):\n        w = tf.Variable(1.0)\n",
    "TFX611": "import tensorflow as tf\nunits = 64\nh = tf.keras.layers.Dense(units)(x)\ne = tf.keras.layers.Embedding(1000, 64)\n",
}


def _precondition_rules() -> list[type[Rule]]:
    return [r for r in all_rules() if r.can_fire.__func__ is not Rule.can_fire.__func__]  # type: ignore[attr-defined]


@pytest.mark.parametrize("rule", _precondition_rules(), ids=lambda r: r.code)
def test_each_precondition_rejects_a_program_the_anchors_let_through(rule):
    source = _REJECTED[rule.code]
    assert screen([rule], source) == (rule,), "the words and imports gates already reject it"
    found = focus(source, rule.anchors)
    assert found is not None
    assert not rule.anchors or not rule.anchors.isdisjoint(found.leaves), "the anchors already reject it"
    assert not rule.can_fire(found.facts)
    assert focus_rules([rule], source, 0.6).rules == ()


@pytest.mark.parametrize("rule", _precondition_rules(), ids=lambda r: r.code)
def test_each_precondition_lets_every_invalid_example_through(rule):
    for example in rule.INVALID:
        found = focus(example.code, rule.anchors)
        assert found is not None and rule.can_fire(found.facts), example.code


def test_every_rejected_program_belongs_to_a_rule_with_a_precondition():
    assert set(_REJECTED) == {r.code for r in _precondition_rules()}


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
