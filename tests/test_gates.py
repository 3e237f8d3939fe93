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
    "TFX201": "import tensorflow as tf\ndef make(resolver):\n    return tf.distribute.TPUStrategy(resolver)\n",
    "TFX301": "import tensorflow as tf\nhead = tf.keras.layers.Dense(10)\nloss = tf.keras.losses.BinaryCrossentropy()\n",
    "TFX302": "import tensorflow as tf\ndef loss(y, logits):\n    return tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits)\n",
    "TFX303": "import tensorflow as tf\nx = tf.ones((2, 3)) * 2.0 + tf.zeros((2, 3))\ny = tf.reshape(x, [-1, 6]) / 255.0\n",
    "TFX304": "import tensorflow as tf\ny = tf.cast(tf.cast(x, tf.int32), tf.float32)\n",
    "TFX305": "import tensorflow as tf\nw = tf.ones((3, 2))\nh = tf.nn.relu(w)\nprint(tf.matmul)\n",
    "TFX306": "import tensorflow as tf\nloss = tf.keras.losses.SparseCategoricalCrossentropy()(batch['y'], tf.zeros((2, 3)))\n",
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
    "TFX607": "import numpy as np\nimport pandas as pd\nx = np.zeros(3, dtype=np.float32)\ny = pd.Series(['a']).str\n",
    "TFX608": "import numpy as np\nimport tensorflow as tf\nx = tf.cast(np.prod(np.zeros(3)) + np.inf, tf.int32)\n",
    "TFX609": "import tensorflow as tf\nh = tf.keras.layers.Dense(4)(tf.compat.v1.placeholder(tf.float32))\n",
    "TFX610": "import tensorflow as tf\nclass L(tf.keras.layers.Layer):\n    def build(self, s):\n        w = tf.Variable(1.0)\n",
    "TFX611": "import tensorflow as tf\nunits = 64\nh = tf.keras.layers.Dense(units)(x)\ne = tf.keras.layers.Embedding(1000, 64)\n",
}


def test_a_trigger_pattern_rejects_what_its_words_let_through():
    """TFX607's findings are `numpy.NAME` attributes: its words (`numpy`) pass any file that imports NumPy, its
    pattern only one with `.NAME` in it (however Python lets it be spelled)."""
    rule = next(r for r in all_rules() if r.code == "TFX607")
    assert rule.trigger_pattern is not None
    plain = "import numpy as np\nx = np.zeros(3, dtype=np.float64)\ny = float(x[0])  # np . float64\n"
    assert screen([rule], plain) == ()
    for spelled in ("np.float", "np . float", "(np.\n    float)", "np.\\\nfloat", "(np.  # why\n    float)"):
        source = f"import numpy as np\nx = {spelled}\n"
        assert screen([rule], source) == (rule,), spelled
        assert [f.code for f in Engine(rules=[rule]).check(source, "t.py").findings] == ["TFX607"], spelled


def _precondition_rules() -> list[type[Rule]]:
    """The rules with a precondition of their own: `can_fire`, or `candidates` (whose default `can_fire` asks)."""
    return [
        r for r in all_rules()
        if r.can_fire.__func__ is not Rule.can_fire.__func__  # type: ignore[attr-defined]
        or r.candidates.__func__ is not Rule.candidates.__func__  # type: ignore[attr-defined]
    ]


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


# Preconditions tightened on real code (issue 17): each pair is a program of a shape common in real code that the
# precondition must reject (it cannot give a finding), and one where the rule fires, which it must let through.
_SHARPER = [
    # TFX201: a resolver passed in (or made by a helper) is not judged; a strategy only referenced is no call
    ("TFX201", "import tensorflow as tf\ndef make(resolver):\n    return tf.distribute.TPUStrategy(resolver)\n", False),
    ("TFX201", "import tensorflow as tf\nresolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu='')\n"
               "strategy = tf.distribute.TPUStrategy(resolver)\n", True),
    # TFX301: the head must be a Dense layer of (maybe) 2 units
    ("TFX301", "import tensorflow as tf\nmodel = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(1)])\n"
               "model.compile(loss='binary_crossentropy')\nmodel.fit(tf.zeros((8, 4)), tf.zeros((8, 1)))\n", False),
    ("TFX301", "import tensorflow as tf\nUNITS = 2\n"
               "model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(UNITS)])\n"
               "model.compile(loss='binary_crossentropy')\nmodel.fit(tf.zeros((8, 4)), tf.zeros((8, 1)))\n", True),
    # TFX303: a call StaticValues gives no value (a method of another object, a builtin) is no integer data
    ("TFX303", "import tensorflow as tf\ndef f(dist):\n    x = tf.identity(dist.sample())\n    return x * tf.ones(3)\n",
     False),
    ("TFX303", "import tensorflow as tf\nn = tf.constant(len([1, 2]))\ny = n * tf.ones(())\n", False),
    # ... a maker given a float dtype makes floats whatever its data; integer makers alone give no float operand
    ("TFX303", "import tensorflow as tf\nk = tf.constant([[1, 5], [1, 1]], dtype=tf.float32) / 13.0\n", False),
    ("TFX303", "import tensorflow as tf\ndef pad(n, m):\n    a = tf.maximum(0, n - 1)\n    b = tf.maximum(0, m)\n"
               "    return a + b\n", False),
    # ... an elementwise op keeps the dtype of its first argument only (`axis=-1` is no integer data)
    ("TFX303", "import tensorflow as tf\nx = tf.nn.softmax(tf.ones((2, 3)), axis=-1)\ny = x * 0.5\n", False),
    ("TFX303", "import tensorflow as tf\nx = tf.nn.relu(tf.constant([1, 2]))\ny = x * 0.5\n", True),
    ("TFX303", "import tensorflow as tf\nx = tf.zeros((2,), tf.int32) + tf.ones((2,))\n", True),
    ("TFX303", "import tensorflow as tf\ndef count():\n    return tf.constant([1, 2])\n"
               "x = tf.reshape(count(), (2,)) * tf.ones((2,))\n", True),
    ("TFX303", "import tensorflow as tf\nx = tf.reshape(tf.keras.Input((3,), dtype='int32'), (-1, 3)) * 0.5\n", True),
    ("TFX303", "import tensorflow as tf\nx = tf.constant([1, 2]) / tf.cast(tf.ones((2,)), 'float64')\n", True),
    # ... a parameter read in its function has no value outside a call the analysis follows; a method whose
    # attribute the file binds only to what is no callable value (`self.f = self.make()`) gives none either
    ("TFX303", "import tensorflow as tf\ndef tile(x, reps):\n    reps = tf.constant(reps, dtype='int32')\n"
               "    return tf.cast(x, tf.float32) * reps\n", False),
    ("TFX303", "import tensorflow as tf\nclass Net:\n    def __init__(self):\n        self.q = self.build()\n"
               "    def out(self):\n        return tf.identity(self.q()) * tf.ones(3)\n", False),
    # ... a Keras layer other than those StaticValues knows (Dense, Flatten, shape-preserving) makes no value
    ("TFX303", "import tensorflow as tf\nclass Net:\n    def __init__(self):\n"
               "        self.conv = tf.keras.layers.Conv2D(4, 3)\n"
               "    def out(self, x):\n        return tf.identity(self.conv(x)) * tf.ones(3)\n", False),
    ("TFX303", "import tensorflow as tf\nclass Net:\n    def __init__(self):\n"
               "        self.drop = tf.keras.layers.Dropout(0.5)\n"
               "    def out(self):\n        return tf.identity(self.drop(tf.constant([1, 2]))) * tf.ones(2)\n", True),
    ("TFX303", "import tensorflow as tf\ndef tile(x):\n    reps = tf.constant([2, 2], dtype='int32')\n"
               "    return tf.cast(x, tf.float32) * reps\n", True),
    # ... a call of the module's function gives an integer value only when one of its returns may: whatever the
    # call passes, or with its parameters holding what the call passes (an integer, or an integer default)
    ("TFX303", "import tensorflow as tf\ndef attend(q, k):\n    w = tf.nn.softmax(tf.matmul(q, k, transpose_b=True))\n"
               "    return w\ndef layer(q, k, v):\n    weights = attend(q, k)\n    return tf.matmul(weights, v)\n", False),
    ("TFX303", "import tensorflow as tf\ndef flat(x):\n    return tf.reshape(x, [-1, 2])\n"
               "def layer(q, v):\n    h = flat(tf.nn.softmax(q))\n    return tf.matmul(h, v)\n", False),
    ("TFX303", "import tensorflow as tf\ndef flat(x):\n    return tf.reshape(x, [-1, 2])\n"
               "h = tf.reshape(flat(tf.constant([1, 2])), [-1, 2])\ny = tf.matmul(h, tf.ones((2, 2)))\n", True),
    ("TFX303", "import tensorflow as tf\ndef ids(x=((1, 2),)):\n    return tf.constant(x)\n"
               "y = tf.matmul(tf.reshape(ids(), [1, 2]), tf.ones((2, 2)))\n", True),
    ("TFX303", "import tensorflow as tf\ndef scale(x):\n    return x * 0.5\n"
               "y = tf.constant([1, 2]) * tf.reshape(scale(tf.ones((2,))), [2])\n", True),
    # ... but a parameter its function assigns too holds no value StaticValues reads, what the call passes included
    # (a parameter of a nested function of the same name is the nested function's)
    ("TFX303", "import tensorflow as tf\ndef widen(x, w):\n    x = tf.nn.conv2d(x, w, 1, 'SAME')\n"
               "    return tf.reshape(x, [-1, 2])\nh = tf.reshape(widen(tf.constant([1, 2]), tf.ones(3)), [-1, 2])\n"
               "y = tf.matmul(h, tf.ones((2, 2)))\n", False),
    ("TFX303", "import tensorflow as tf\ndef outer(x, w):\n    x = tf.nn.conv2d(x, w, 1, 'SAME')\n    def inner(x):\n"
               "        return tf.reshape(x, [-1, 2])\n"
               "    return tf.matmul(tf.reshape(inner(tf.constant([1, 2])), [-1, 2]), tf.ones((2, 2)))\n", True),
    # ... a layer applied where it is made keeps its input's dtype (Dense: float32); one bound to a name or an
    # attribute too, so a Flatten of floats gives no integer
    ("TFX303", "import tensorflow as tf\ny = tf.identity(tf.keras.layers.Dropout(0.5)(tf.constant([1, 2]))) * tf.ones(2)\n",
     True),
    ("TFX303", "import tensorflow as tf\nx = tf.ones((2, 3))\ny = tf.constant([1, 2]) * tf.identity(tf.keras.layers.Dense(2)(x))\n",
     True),
    ("TFX303", "import tensorflow as tf\ny = tf.identity(tf.keras.Sequential([tf.keras.layers.Dropout(0.5)])(tf.constant([1, 2])))"
               " * tf.ones(2)\n", True),
    ("TFX303", "import tensorflow as tf\nclass Net(tf.keras.Model):\n    def __init__(self):\n"
               "        super().__init__()\n        self.flatten = tf.keras.layers.Flatten()\n    def call(self, state):\n"
               "        x = tf.cast(state, tf.float32)\n        x = self.flatten(x)\n        return 2.0 * x - 1.0\n", False),
    # TFX304: the float cast must take the integer cast (or a name bound to one), not just sit beside one
    ("TFX304", "import tensorflow as tf\nw = tf.Variable([1.0])\nwith tf.GradientTape() as tape:\n"
               "    ids = tf.cast(w * 3, tf.int32)\n    loss = tf.reduce_sum(tf.cast(w > 0, tf.float32) * w)\n"
               "g = tape.gradient(loss, w)\n", False),
    ("TFX304", "import tensorflow as tf\nw = tf.Variable([1.0])\nwith tf.GradientTape() as tape:\n"
               "    ids = tf.cast(w * 3, tf.int32)\n    loss = tf.reduce_sum(tf.cast(ids, tf.float32) * w)\n"
               "g = tape.gradient(loss, w)\n", True),
    # TFX610: the variable must be made in a method of the Keras layer class, not of another class of the file
    ("TFX610", "import tensorflow as tf\nclass A(tf.Module):\n    def __init__(self):\n        self.w = tf.Variable(1.0)\n"
               "class L(tf.keras.layers.Layer):\n    def call(self, x):\n        return x\n", False),
    ("TFX610", "import tensorflow as tf\nclass A(tf.Module):\n    pass\nclass L(tf.keras.layers.Layer):\n"
               "    def build(self, s):\n        self.w = tf.Variable(tf.ones((3,)))\n", True),
    # TFX305: a maker keeps the shape of its source: a cast of a parameter has none
    ("TFX305", "import tensorflow as tf\ndef f(x, y):\n    return tf.matmul(tf.cast(x, tf.float32), tf.cast(y, tf.float32))\n",
     False),
    ("TFX305", "import tensorflow as tf\ndef f(net):\n    h = net.hidden()\n    return tf.matmul(h, tf.ones((3, 2)))\n",
     False),
    ("TFX305", "import tensorflow as tf\ny = tf.matmul(tf.cast(tf.ones((2, 3)), tf.float32), tf.ones((2, 3)))\n", True),
    # ... and a known inner dimension: a reshape to dimensions all unknown here (`[-1, n]`, n a parameter) has none
    ("TFX305", "import tensorflow as tf\ndef dot(x, y, n):\n    xt = tf.reshape(x, [-1, n])\n"
               "    yt = tf.reshape(y, [tf.shape(y)[0], -1])\n    return tf.matmul(xt, yt)\n", False),
    ("TFX305", "import tensorflow as tf\ndef dot(x, y):\n    xt = tf.reshape(x, [-1, 4])\n"
               "    yt = tf.reshape(y, [3, -1])\n    return tf.matmul(xt, yt)\n", True),
    # ... and `@` is TensorFlow's product only with a TensorFlow tensor on one side (NumPy's, Keras' otherwise)
    ("TFX305", "import numpy as np\nimport tensorflow as tf\nw = tf.Variable(tf.ones((3, 2)))\na = np.ones((2, 3))\n"
               "c = a @ np.ones((4, 2))\n", False),
    ("TFX305", "import numpy as np\nimport tensorflow as tf\na = np.ones((2, 3))\nt = tf.ones((4, 2))\nc = a @ t\n",
     True),
    # TFX306: the labels must be literal integer data
    ("TFX306", "import tensorflow as tf\nloss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)\n"
               "def step(batch):\n    return loss_fn(batch['label'], tf.zeros((2, 3)))\n", False),
    ("TFX306", "import tensorflow as tf\nloss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)\n"
               "labels = [0, 3]\nloss = loss_fn(labels, tf.zeros((2, 3)))\n", True),
    # TFX401: a gradient taken right after the block, of a name the block computed, has nothing outside the tape
    ("TFX401", "import tensorflow as tf\nw = tf.Variable(1.0)\nwith tf.GradientTape() as tape:\n    loss = w * w\n"
               "g = tape.gradient(loss, w)\nprint(g)\n", False),
    ("TFX401", "import tensorflow as tf\nw = tf.Variable(1.0)\nwith tf.GradientTape() as tape:\n    y = w * w\n"
               "loss = y * 2.0\ng = tape.gradient(loss, w)\n", True),
    ("TFX401", "import tensorflow as tf\nw = tf.Variable(1.0)\nwith tf.GradientTape() as tape:\n    loss = w * w\n"
               "print('step')\ng = tape.gradient(loss, w)\n", False),
    ("TFX401", "import tensorflow as tf\nw = tf.Variable(1.0)\nwith tf.GradientTape() as tape:\n    y = w * w\n"
               "g = tape.gradient(y * 2.0, w)\n", True),
    # TFX403: a cutting operation outside the tape's block cuts nothing the tape records
    ("TFX403", "import tensorflow as tf\nw = tf.Variable(1.0)\nwith tf.GradientTape() as tape:\n    loss = w * w\n"
               "g = tape.gradient(loss, w)\nprint(loss.numpy())\n", False),
    ("TFX403", "import tensorflow as tf\nw = tf.Variable(1.0)\nwith tf.GradientTape() as tape:\n"
               "    loss = tf.constant(w.numpy() * 2.0)\ng = tape.gradient(loss, w)\n", True),
]


@pytest.mark.parametrize("code, source, fires", _SHARPER, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(_SHARPER)])
def test_sharper_preconditions_reject_real_code_shapes_and_keep_findings(code, source, fires):
    rule = next(r for r in all_rules() if r.code == code)
    found = focus(source, rule.anchors)
    assert found is not None and not rule.anchors.isdisjoint(found.leaves), "the anchors already decide"
    assert rule.can_fire(found.facts) == fires
    ungated = Engine(Settings(select=(code,), gates=False)).check(source, "t.py")
    assert bool([f for f in ungated.findings if f.code == code]) == fires, ungated.findings
