"""Matching and fix details of the TPU (TFX2xx) and GradientTape (TFX4xx) rules that the fixtures do not pin."""

from __future__ import annotations

import textwrap

from dataclasses import dataclass

import pytest

from tffix.analysis import FileAnalysis
from tffix.engine import Engine
from tffix.registry import rule_by_code
from tffix.transforms._flow import Flow
from tffix.transforms._tape import tapes_in

ALL = Engine()


def findings(source: str, engine: Engine = ALL) -> list[tuple[str, bool]]:
    return [(f.code, f.fix is not None) for f in engine.check(textwrap.dedent(source), "x.py").findings]


def fixed(source: str, *codes: str, unsafe: bool = False) -> str:
    engine = Engine(rules=[rule_by_code(c) for c in codes]) if codes else ALL
    return engine.fix(textwrap.dedent(source), "x.py", unsafe=unsafe).fixed_source


# --- shared analysis -----------------------------------------------------------------------------------------
@dataclass
class _Probe:
    """The tapes and the flow of a module, asked of its analysis directly."""

    tapes: list
    writes: list
    reads: list


def probe(source: str) -> _Probe:
    analysis = FileAnalysis.of(textwrap.dedent(source), "x.py")
    flow = Flow(analysis)
    body = analysis.module.body
    return _Probe(tapes_in(analysis, analysis.module), [flow.writes(s) for s in body], [flow.reads(s) for s in body])


def test_flow_counts_mutating_calls_as_writes_but_not_calls_on_modules():
    rule = probe(
        """
        import tensorflow as tf
        x.assign_add(1)
        tf.print(x)
        z = y.assign_sub(2)
        self.metric.update_state(loss)
        """
    )
    assert rule.writes[1:] == [{"x"}, set(), {"z", "y"}, {"self.metric"}]
    assert rule.reads[2] == {"tf.print", "x"}


def test_gradient_calls_stop_where_the_tape_name_is_rebound():
    rule = probe(
        """
        import tensorflow as tf
        with tf.GradientTape(persistent=True) as tape:
            y = x * x
            inner = tape.gradient(y, x)
        a = tape.gradient(y, x)
        with tf.GradientTape() as tape:
            z = x * 3
        b = tape.gradient(z, x)
        """
    )
    first, second = rule.tapes
    assert first.persistent and not second.persistent
    assert [g.index for g in first.gradients] == [None, 2]
    assert [g.index for g in second.gradients] == [4]


# --- TFX401 --------------------------------------------------------------------------------------------------
def test_tfx401_through_from_imports_and_in_loops_leaves_unrelated_statements():
    source = """
        from tensorflow import GradientTape, reduce_mean
        for step in range(3):
            with GradientTape() as tape:
                y = model(x)
            if step == 0:
                print('first')
            loss = reduce_mean(y)
            metric.update_state(loss)
            g = tape.gradient(loss, model.trainable_variables)
        """
    assert fixed(source, "TFX401") == textwrap.dedent(
        """
        from tensorflow import GradientTape, reduce_mean
        for step in range(3):
            with GradientTape() as tape:
                y = model(x)
                loss = reduce_mean(y)
            if step == 0:
                print('first')
            metric.update_state(loss)
            g = tape.gradient(loss, model.trainable_variables)
        """
    )


@pytest.mark.parametrize(
    "source",
    [
        # a statement left behind writes what the moved one reads... and reads what it writes
        """
        import tensorflow as tf
        with tf.GradientTape() as tape:
            y = model(x)
        loss = 0.0
        print(loss)
        loss = tf.reduce_mean(y)
        g = tape.gradient(loss, model.trainable_variables)
        """,
        # a one-line tape block
        """
        import tensorflow as tf
        with tf.GradientTape() as tape: y = model(x)
        loss = tf.reduce_mean(y)
        g = tape.gradient(loss, model.trainable_variables)
        """,
    ],
)
def test_tfx401_reports_without_fix_when_moving_is_not_safe(source):
    assert ("TFX401", False) in findings(source)


def test_tfx402_gradient_of_a_new_tape_under_the_same_name_is_not_the_old_tapes():
    source = """
        import tensorflow as tf
        x = tf.constant(2.0)
        with tf.GradientTape() as tape:
            y = x * x
        with tf.GradientTape() as tape:
            tape.watch(x)
            z = x * x
            g = tape.gradient(z, x)
        """
    assert findings(source) == []


def test_tfx401_silent_when_the_name_is_a_new_tape():
    source = """
        import tensorflow as tf
        with tf.GradientTape() as tape:
            y = model(x)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(model(x))
        other = tf.reduce_mean(y)
        g = tape.gradient(loss, model.trainable_variables)
        """
    assert "TFX401" not in {code for code, _ in findings(source)}


def test_tfx401_input_computed_outside_before_reentering_the_tape_is_reported_without_fix():
    source = """
        import tensorflow as tf
        x = tf.Variable(2.0)
        with tf.GradientTape(persistent=True) as tape:
            y = x * x
        z = y + 1.0
        with tape:
            loss = z * 3.0
        g = tape.gradient(loss, x)
        """
    assert findings(source) == [("TFX401", False)]


# --- TFX402 --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "source",
    [
        "def f(x):\n    with tf.GradientTape() as tape:\n        y = x * x\n    return tape.gradient(y, x)\n",
        "x = tf.Variable(tf.constant(1.0))\nwith tf.GradientTape() as tape:\n    y = x * x\ng = tape.gradient(y, x)\n",
        "x = tf.constant(1.0)\nz = tf.constant(2.0)\nwith tf.GradientTape() as tape:\n    tape.watch([x, z])\n"
        "    y = x * z\ng = tape.gradient(y, [x, z])\n",
        "x = tf.zeros((2,), dtype=tf.int64)\nwith tf.GradientTape() as tape:\n    y = x * x\ng = tape.gradient(y, x)\n",
    ],
    ids=["parameter", "variable", "watched-as-list", "integer"],
)
def test_tfx402_silent(source):
    assert findings("import tensorflow as tf\n" + source) == []


def test_tfx402_constant_made_inside_the_block_is_reported_without_fix():
    source = """
        import tensorflow as tf
        with tf.GradientTape() as tape:
            x = tf.constant(1.0)
            y = x * x
        g = tape.gradient(y, x)
        """
    assert findings(source) == [("TFX402", False)]


# --- TFX403 --------------------------------------------------------------------------------------------------
def test_tfx403_leaves_the_named_integer_round_trip_to_tfx304():
    source = """
        import tensorflow as tf
        with tf.GradientTape() as tape:
            q = tf.cast(w * 10, tf.int32)
            y = tf.cast(q, tf.float32)
            loss = tf.reduce_sum(y)
        g = tape.gradient(loss, w)
        """
    assert [code for code, _ in findings(source)] == ["TFX304"]


def test_tfx403_follows_sources_listed_in_a_variable_and_adds_the_tensorflow_import():
    source = """
        import numpy as np
        from tensorflow import GradientTape
        params = [w, b]
        with GradientTape() as tape:
            loss = np.sum((x @ w + b) ** 2)
        g = tape.gradient(loss, params)
        """
    result = fixed(source, "TFX403", unsafe=True)
    assert "import tensorflow\n" in result and "loss = tensorflow.reduce_sum((x @ w + b) ** 2)" in result
    assert fixed(source, "TFX403") == textwrap.dedent(source), "the fix is unsafe"


AGENT = """
    import numpy as np
    import tensorflow as tf
    class Agent(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = tf.keras.layers.Dense(2)
            self.rewards = []
        def step(self, x):
            with tf.GradientTape() as tape:
                loss = {loss}
            return tape.gradient(loss, self.trainable_variables)
    """


@pytest.mark.parametrize(
    ("loss", "reported"),
    [
        ("np.mean(self.dense(x))", True),  # a sub-layer the class assigned from a Keras layer
        ("np.mean(self(x))", True),  # the model itself
        ("np.mean(self.rewards) * tf.reduce_sum(self(x))", False),  # a plain attribute: a Python list
        ("np.mean(self.step(x)) * tf.reduce_sum(self(x))", False),  # a method of the class
    ],
)
def test_tfx403_owner_dependence_is_the_model_its_sublayers_and_weights(loss, reported):
    assert ("TFX403" in {code for code, _ in findings(AGENT.format(loss=loss))}) is reported


# --- TPU -----------------------------------------------------------------------------------------------------
COLAB_SETUP = """
    import os
    import tensorflow as tf

    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu='grpc://' + os.environ['COLAB_TPU_ADDR'])
    strategy = tf.distribute.TPUStrategy(resolver)
    """


def test_tfx201_and_tfx202_fixes_complete_each_other_in_either_order():
    one = fixed(fixed(COLAB_SETUP, "TFX201"), "TFX202", unsafe=True)
    other = fixed(fixed(COLAB_SETUP, "TFX202", unsafe=True), "TFX201")
    assert one == other == fixed(COLAB_SETUP, unsafe=True)
    assert (
        "except ValueError:\n"
        '    print("No TPU found (no TPU name to connect to): running on the default strategy")\n'
        "    strategy = tf.distribute.get_strategy()\n"
        "else:\n"
    ) in one
    assert "initialize_tpu_system(resolver)" in one and "COLAB_TPU_ADDR" not in one
    assert fixed(COLAB_SETUP, "TFX202") == textwrap.dedent(COLAB_SETUP), "TFX202's fix is unsafe"


@pytest.mark.parametrize(
    ("argument", "tried", "handler"),
    [
        ("", "resolver = tf.distribute.cluster_resolver.TPUClusterResolver()", "except ValueError:"),
        ("tpu=''", "resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu='')", "except ValueError:"),
        ("tpu='local'", "tf.tpu.experimental.initialize_tpu_system(resolver)", "except tf.errors.NotFoundError:"),
    ],
)
def test_tfx201_tries_only_what_raises_when_there_is_no_tpu(argument, tried, handler):
    """Only the statement that says "no TPU" is in the `try`; what a found TPU raises is not caught."""
    source = (
        "import tensorflow as tf\n"
        f"resolver = tf.distribute.cluster_resolver.TPUClusterResolver({argument})\n"
        "strategy = tf.distribute.TPUStrategy(resolver)\n"
    )
    result = fixed(source, "TFX201")
    assert f"try:\n    {tried}\n{handler}\n    print(\"No TPU found" in result
    assert "else:\n" in result and result.rstrip().endswith("    strategy = tf.distribute.TPUStrategy(resolver)")


def test_tfx201_a_tpu_named_by_a_variable_gets_the_calls_without_a_fallback():
    source = (
        "import tensorflow as tf\n"
        "resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=FLAGS.tpu)\n"
        "strategy = tf.distribute.TPUStrategy(resolver)\n"
    )
    result = fixed(source, "TFX201")
    assert "try" not in result and "get_strategy" not in result
    assert "experimental_connect_to_cluster(resolver)\ntf.tpu.experimental.initialize_tpu_system(resolver)\n" in result


@pytest.mark.parametrize(
    "setup",
    [
        "r = tf.distribute.cluster_resolver.TPUClusterResolver.connect(tpu='local')\n",
        "r = tf.distribute.cluster_resolver.TPUClusterResolver()\nr.connect()\n",
        "tf.compat.v1.disable_eager_execution()\nr = tf.distribute.cluster_resolver.TPUClusterResolver()\n",
        "r = tf.distribute.cluster_resolver.TPUClusterResolver()\nsess = tf.compat.v1.Session(r.master())\n",
        "r = tf.distribute.cluster_resolver.TPUClusterResolver()\nest = tf.compat.v1.estimator.tpu.TPUEstimator()\n",
        "r = tpu_lib.tpu_initialize(FLAGS.tpu)\n",
        "r = self.resolver\n",
    ],
    ids=["class-connect", "resolver-connect", "eager-off", "session", "estimator", "helper", "attribute"],
)
def test_tfx201_silent_where_the_tpu_is_set_up_otherwise_or_elsewhere(setup):
    source = "import tensorflow as tf\n" + setup + "strategy = tf.distribute.TPUStrategy(r)\n"
    assert findings(source) == []
    bare = "import tensorflow as tf\nr = tf.distribute.cluster_resolver.TPUClusterResolver()\n"
    assert findings(bare + "strategy = tf.distribute.TPUStrategy(r)\n") == [("TFX201", True)]


def test_tfx201_silent_when_the_caller_sets_the_passed_resolver_up():
    source = """
        import tensorflow as tf
        def build(resolver):
            return tf.distribute.TPUStrategy(resolver)
        r = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(r)
        tf.tpu.experimental.initialize_tpu_system(r)
        s = build(r)
        """
    assert findings(source) == []
    # a resolver passed in is set up by a caller this module may not show: not reported either
    assert findings("import tensorflow as tf\ndef build(r):\n    return tf.distribute.TPUStrategy(r)\n") == []


def test_tfx201_connect_missing_after_the_initialize_is_reported_without_fix():
    source = """
        import tensorflow as tf
        r = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.tpu.experimental.initialize_tpu_system(r)
        strategy = tf.distribute.TPUStrategy(r)
        """
    assert findings(source) == [("TFX201", False)]


def test_tfx201_keeps_statements_that_define_names_out_of_the_try():
    source = """
        import tensorflow as tf
        tpu = tf.distribute.cluster_resolver.TPUClusterResolver()
        batch = 8
        print(tpu.master())
        strategy = tf.distribute.TPUStrategy(tpu)
        """
    assert fixed(source, "TFX201").startswith(textwrap.dedent(
        """
        import tensorflow as tf
        batch = 8
        try:
            tpu = tf.distribute.cluster_resolver.TPUClusterResolver()
        except ValueError:
        """
    ))
    assert "else:\n    print(tpu.master())\n    tf.config.experimental_connect_to_cluster(tpu)" in fixed(source, "TFX201")
    # ... but not one that uses the resolver: the fallback branch would leave it undefined.
    assert findings(source.replace("batch = 8", "master = tpu.master()")) == [("TFX201", False)]


def test_tfx202_address_variable_used_elsewhere_is_reported_without_fix():
    source = """
        import os
        import tensorflow as tf
        TPU_WORKER = 'grpc://' + os.environ['COLAB_TPU_ADDR']
        print('TPU address is', TPU_WORKER)
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(TPU_WORKER)
        """
    assert findings(source) == [("TFX202", False)]
    assert findings("import os\naddr = os.environ['COLAB_TPU_ADDR']\nprint(addr)\n") == []


@pytest.mark.parametrize(
    "prelude",
    [
        "import tensorflow.compat.v1 as tf\ntf.disable_v2_behavior()\n",
        "import tensorflow as tf\nstrategy = tf.distribute.TPUStrategy(r)\n",
        "import tensorflow as tf\ntf.config.set_soft_device_placement(False)\n",
    ],
    ids=["graph-mode", "strategy-made", "soft-placement-off"],
)
def test_tfx203_silent_where_the_device_raises_or_a_tpu_is_set_up(prelude):
    source = prelude + "with tf.device('/TPU:0'):\n    x = tf.ones(3)\n"
    assert "TFX203" not in {code for code, _ in findings(source)}
    assert ("TFX203", False) in findings("import tensorflow as tf\nwith tf.device('/tpu:0'):\n    x = tf.ones(3)\n")
