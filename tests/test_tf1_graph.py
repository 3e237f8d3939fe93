"""The device and TF1-variable family (TFX101-103, TFX501-502): device-string reading, and the graph facts
that the executed fixtures print on stderr (expect.toml's `stderr`, checked by the fixture harness)."""

from __future__ import annotations


import libcst as cst
import pytest

from tffix.engine import Engine
from tffix.registry import rule_by_code
from tffix.transforms._devices import Device, parse_device


@pytest.mark.parametrize(
    "text, kind, index",
    [
        ("/gpu:0", "GPU", "0"),
        ("/GPU:1", "GPU", "1"),
        ("/device:gpu:1", "GPU", "1"),
        ("/job:localhost/replica:0/task:0/device:GPU:2", "GPU", "2"),
        ("/TPU:0", "TPU", "0"),
        ("/device:XLA_GPU:0", "XLA_GPU", "0"),
        ("gpu:3", "GPU", "3"),
    ],
)
def test_device_strings_are_read_as_tensorflow_reads_them(text, kind, index):
    device = parse_device(text)
    assert device is not None and (device.kind, device.index) == (kind, index)


def test_unreadable_device_strings_give_none():
    assert parse_device("/gpu") is None
    assert parse_device("my favourite gpu") is None


def test_device_relations():
    gpu0, gpu1, cpu0 = parse_device("/gpu:0"), parse_device("/gpu:1"), parse_device("/cpu:0")
    assert gpu0.relation(parse_device("/job:localhost/replica:0/task:0/device:GPU:0")) == "same"
    assert gpu0.relation(gpu1) == "different"
    tower = parse_device("/gpu:\x00", source="'/gpu:%d' % i")
    assert tower.relation(cpu0) == "different"  # the device type settles it
    assert tower.relation(gpu0) == "unknown"
    assert tower.relation(Device(kind="GPU", index="\x00", source="'/gpu:%d' % i")) == "same"
    assert parse_device("/job:worker/device:GPU:0").local is False


def _device_findings(code: str, source: str) -> list[str]:
    return [f.message for f in Engine(rules=[rule_by_code(code)]).check(source, "x.py").findings]


@pytest.mark.parametrize(
    "device_expression",
    ["'/gpu:%d' % i", "f'/gpu:{i}'", "'/gpu:{}'.format(i)", "'/gpu:' + str(i)", "tf.DeviceSpec(device_type='GPU', device_index=i)"],
)
def test_computed_gpu_devices_are_pins(device_expression):
    source = (
        "import tensorflow.compat.v1 as tf\n"
        "tf.disable_v2_behavior()\n"
        "for i in range(2):\n"
        f"    with tf.device({device_expression}):\n"
        "        y = tf.ones([2])\n"
        "sess = tf.Session()\n"
    )
    assert len(_device_findings("TFX101", source)) == 1


def test_other_jobs_and_cpu_pins_are_not_reported():
    for device in ("'/job:worker/device:GPU:0'", "'/cpu:1'", "some_device_function"):
        source = (
            "import tensorflow.compat.v1 as tf\n"
            f"with tf.device({device}):\n"
            "    y = tf.ones([2])\n"
            "sess = tf.Session()\n"
        )
        assert _device_findings("TFX101", source) == [], device


def test_cross_device_rule_leaves_non_op_uses_and_variables_alone():
    source = (
        "import tensorflow.compat.v1 as tf\n"
        "tf.disable_v2_behavior()\n"
        "with tf.device('/gpu:0'):\n"
        "    w = tf.get_variable('w', [2, 2])\n"
        "    h = tf.matmul(x, w)\n"
        "with tf.device('/gpu:1'):\n"
        "    print(h)\n"
        "    outputs.append(h)\n"
        "    alias = h\n"
        "    y = tf.matmul(x, w)\n"
        "    shape = h.shape\n"
    )
    assert _device_findings("TFX103", source) == []


def test_cross_device_fix_stops_at_a_rebinding():
    source = (
        "import tensorflow.compat.v1 as tf\n"
        "tf.disable_v2_behavior()\n"
        "with tf.device('/gpu:0'):\n"
        "    h = tf.matmul(x, x)\n"
        "with tf.device('/gpu:1'):\n"
        "    h = tf.nn.relu(h)\n"
        "    y = tf.reduce_sum(h)\n"
    )
    fixed = Engine(rules=[rule_by_code("TFX103")]).fix(source, "x.py").fixed_source
    assert "    h = tf.nn.relu(h_gpu1)\n    y = tf.reduce_sum(h)\n" in fixed
    cst.parse_module(fixed)


def test_tf1_style_calls_in_eager_code_are_not_graph_code():
    eager = (
        "import tensorflow as tf\n"
        "for step in range(2):\n"
        "    with tf.compat.v1.variable_scope('m', reuse=tf.compat.v1.AUTO_REUSE):\n"
        "        w = tf.Variable(tf.zeros([2]))\n"
        "with tf.GradientTape() as tape:\n"
        "    loss = tf.reduce_sum(w)\n"
    )
    assert _device_findings("TFX501", eager) == []
    graph = eager.replace("import tensorflow as tf\n", "import tensorflow as tf\ntf.compat.v1.disable_eager_execution()\n")
    assert len(_device_findings("TFX501", graph)) == 1


def _tfx501_lines(source: str) -> list[int]:
    return [f.start.line for f in Engine(rules=[rule_by_code("TFX501")]).check(source, "x.py").findings]


_BUILDER = (
    "import tensorflow.compat.v1 as tf\n"
    "tf.disable_v2_behavior()\n"
    "def block(x, scope, reuse=False):\n"
    "    with tf.variable_scope(scope, reuse=reuse):\n"
    "        w = tf.Variable(tf.ones([2, 2]), name='w')\n"
    "        return tf.matmul(x, w)\n"
)


@pytest.mark.parametrize(
    ("calls", "reported"),
    [
        ("a = block(x, 'enc')\nb = block(a, 'enc', reuse=True)\n", True),  # the same scope, reusing: shared
        ("a = block(x, 'enc')\nb = block(a, 'dec', reuse=True)\n", False),  # another scope: nothing shared
        ("a = block(x, 'enc')\nb = block(a, 'enc')\n", False),  # no reuse asked for
        ("if big:\n    a = block(x, 'enc')\nelse:\n    a = block(x, 'enc', reuse=True)\n", False),  # one runs
        ("a = block(x, 'enc', reuse=tf.AUTO_REUSE)\nb = block(a, 'enc', reuse=tf.AUTO_REUSE)\n", True),
        ("for i in range(2):\n    a = block(x, 'tower_%d' % i, reuse=True)\n", False),  # a name per tower
        ("for i in range(2):\n    with tf.variable_scope(tf.get_variable_scope(), reuse=i > 0):\n"
         "        a = block(x, 'tower')\n", True),
        ("", False),  # no caller here: its reuse comes from elsewhere
    ],
)
def test_variable_is_reported_only_when_its_code_runs_again_under_a_reusing_scope(calls, reported):
    assert bool(_tfx501_lines(_BUILDER + calls)) is reported


@pytest.mark.parametrize(
    "guarded",
    [
        "for i in range(FLAGS.num_gpus):\n    with tf.device('/gpu:%d' % i):\n        y = tf.ones([2])\n",
        "def tower():\n    if not tf.test.is_gpu_available():\n        return None\n"
        "    with tf.device('/gpu:0'):\n        return tf.ones([2])\ny = tower()\n",
        "@test_util.run_gpu_only\ndef tower():\n    with tf.device('/gpu:0'):\n        return tf.ones([2])\ny = tower()\n",
    ],
)
def test_pins_that_run_only_where_a_gpu_is_are_not_reported(guarded):
    for code in ("TFX101", "TFX102"):
        head = "import tensorflow.compat.v1 as tf\n"
        tail = "sess = tf.Session()\n" if code == "TFX101" else ""
        switch = "tf.config.set_soft_device_placement(False)\n" if code == "TFX102" else "tf.disable_v2_behavior()\n"
        assert _device_findings(code, head + switch + guarded + tail) == [], (code, guarded)
        unguarded = guarded.replace("FLAGS.num_gpus", "2").replace("if not tf.test.is_gpu_available()", "if x is None")
        unguarded = unguarded.replace("@test_util.run_gpu_only\n", "")
        assert len(_device_findings(code, head + switch + unguarded + tail)) == 1, (code, unguarded)


def test_a_session_reports_only_the_pins_it_runs():
    source = (
        "import tensorflow.compat.v1 as tf\n"
        "tf.disable_v2_behavior()\n"
        "def tower(x):\n"
        "    with tf.device('/gpu:0'):\n"
        "        return x * 2\n"
        "def build():\n"
        "    return tower(tf.ones([2]))\n"
        "def export(path):\n"
        "    with tf.Session() as sess:\n"  # runs no pinned code
        "        return sess.run(tf.ones([1]))\n"
        "def train():\n"
        "    y = build()\n"
        "    with tf.Session() as sess:\n"  # runs tower() through build()
        "        return sess.run(y)\n"
    )
    [finding] = Engine(rules=[rule_by_code("TFX101")]).check(source, "x.py").findings
    assert finding.start.line == 13
