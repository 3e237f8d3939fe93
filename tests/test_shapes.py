"""Static shape/dtype inference (transforms/_shapes.py) and the matching of the shape rules TFX301/TFX302
through import forms, aliases and bindings that the fixtures do not cover."""

from __future__ import annotations

import libcst.matchers as m
import pytest

from tffix.analysis import FileAnalysis
from tffix.engine import Engine
from tffix.parents import walk
from tffix.registry import rule_by_code
from tffix.transforms._shapes import StaticValues


def infer(source: str) -> list[tuple[str | None, str | None]]:
    """What StaticValues infers for the argument of every `show(...)` call, asked of the file's analysis
    directly: no rule needed."""
    analysis = FileAnalysis.of(source, "t.py")
    values = StaticValues(analysis)
    seen = []
    for node in walk(analysis.module):
        if m.matches(node, m.Call(func=m.Name("show"))):
            static = values.of(node.args[0].value)
            shape = str(static.shape) if static is not None and static.shape is not None else None
            seen.append((shape, static.dtype if static is not None else None))
    return seen


HEADER = "import numpy as np\nimport tensorflow as tf\nfrom tensorflow import keras\n"


@pytest.mark.parametrize(
    ("expr", "shape", "dtype"),
    [
        ("tf.zeros((BATCH, 1))", "(32, 1)", "float32"),
        ("tf.ones([BATCH], dtype=tf.int64)", "(32,)", "int64"),
        ("tf.ones_like(tf.zeros((4, 2), tf.int32))", "(4, 2)", "int32"),
        ("tf.constant([[1.0], [0.0]])", "(2, 1)", "float32"),
        ("tf.constant([1, 2, 3])", "(3,)", "int32"),
        ("tf.one_hot([0, 1, 2, 1], depth=3)", "(4, 3)", "float32"),
        ("tf.random.uniform((2, 5), maxval=3, dtype=tf.int32)", "(2, 5)", "int32"),
        ("tf.reshape(tf.zeros((4, 3)), [-1, 1])", "(12, 1)", "float32"),
        ("tf.squeeze(tf.zeros((4, 1)), axis=-1)", "(4,)", "float32"),
        ("tf.expand_dims(tf.zeros((4,)), -1)", "(4, 1)", "float32"),
        ("tf.cast(tf.zeros((4,)), tf.int32)", "(4,)", "int32"),
        ("tf.matmul(tf.zeros((5, 3)), tf.zeros((3, 2)))", "(5, 2)", "float32"),
        ("tf.zeros((5, 3)) @ tf.zeros((3, 2)) + tf.zeros((2,))", "(5, 2)", "float32"),
        ("tf.compat.v1.placeholder(tf.float32, [None, 1])", "(None, 1)", "float32"),
        ("keras.Input(shape=(8,))", "(None, 8)", "float32"),
        ("np.zeros((5, 1))", "(5, 1)", "float64"),
        ("np.array([[1, 2]])", "(1, 2)", "int64"),
        ("np.random.randint(0, 2, size=(8, 1))", "(8, 1)", "int64"),
        ("np.random.rand(6, 5).astype('float32')", "(6, 5)", "float32"),
        ("keras.layers.Dense(2)(tf.zeros((BATCH, 7)))", "(32, 2)", "float32"),
        ("keras.layers.Dense(2)(unknown)", "(..., 2)", "float32"),
        ("tf.nn.sigmoid(keras.layers.Dense(3)(tf.zeros((4, 7))))", "(4, 3)", "float32"),
        ("tf.zeros((2,)) + tf.zeros((3,))", None, "float32"),  # incompatible: the shape is not claimed
        ("tf.zeros(unknown)", None, "float32"),
        # a dtype= this analysis cannot read is unknown, not the op's default (keras-cv: self.compute_dtype)
        ("tf.constant([[1, 1], [1, 5]], dtype=layer.compute_dtype)", "(2, 2)", None),
        ("tf.ones((2, 3), dtype=layer.compute_dtype)", "(2, 3)", None),
        ("tf.random.normal((2, 3), dtype=layer.dtype)", "(2, 3)", None),
        ("np.array([1, 2], dtype=layer.dtype)", "(2,)", None),
        # `/` of integers is true division (measured: int32 and int64 give float64, int8/16 and uint8/16 float32)
        ("tf.constant([1, 2]) / 2", "(2,)", "float64"),
        ("1 / 2 ** tf.constant(53, tf.int64)", "()", "float64"),
        ("tf.zeros((2,), tf.uint8) / 2", "(2,)", "float32"),
        ("tf.constant([1, 2]) / tf.constant([3, 4])", "(2,)", "float64"),
        ("np.array([1, 2], np.int16) / 2", "(2,)", "float64"),
    ],
)
def test_constructors(expr, shape, dtype):
    assert infer(HEADER + f"BATCH = 32\nshow({expr})\n") == [(shape, dtype)]


def test_models_built_every_way_give_the_heads_last_dimension():
    source = HEADER + (
        "from tensorflow.keras.layers import Dense, Flatten\n"
        "x = tf.zeros((4, 8))\n"
        "seq = keras.Sequential([keras.Input((8,)), Flatten(), Dense(3), keras.layers.Dropout(0.2)])\n"
        "def build():\n"
        "    m = keras.models.Sequential()\n"
        "    m.add(Dense(5))\n"
        "    m.add(keras.layers.Conv2D(4, 3))\n"
        "    m.add(Dense(2, activation='softmax'))\n"
        "    return m\n"
        "built = build()\n"
        "inputs = keras.Input((8,))\n"
        "functional = keras.Model(inputs, Dense(6)(inputs))\n"
        "class Sub(keras.Model):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.head = Dense(7)\n"
        "    def call(self, x):\n"
        "        return self.head(x)\n"
        "sub = Sub()\n"
        "show(seq(x))\nshow(built(x))\nshow(functional(x))\nshow(sub(x))\nshow(built.predict(x))\n"
    )
    assert infer(source) == [
        ("(4, 3)", "float32"),
        ("(..., 2)", "float32"),  # after a Conv2D of unknown effect, only the head's units are known
        ("(4, 6)", "float32"),
        ("(..., 7)", "float32"),
        ("(..., 2)", "float32"),
    ]


def test_names_are_followed_only_where_the_binding_is_clear():
    source = HEADER + (
        "a = tf.zeros((3, 1))\n"
        "a = tf.reshape(a, [-1])\n"
        "show(a)\n"  # the latest assignment in the same block
        "b = tf.zeros((3, 1))\n"
        "if cond:\n"
        "    b = tf.zeros((3, 2))\n"
        "show(b)\n"  # may be either
        "for _ in range(2):\n"
        "    c = tf.zeros((2,))\n"
        "    show(c)\n"
        "    c = tf.zeros((3,))\n"  # the second iteration sees this one
        "def f(d):\n"
        "    show(d)\n"  # a parameter
        "show(print)\n"  # a builtin
    )
    assert infer(source) == [("(3,)", "float32"), (None, None), (None, None), (None, None), (None, None)]


def test_calls_of_module_functions_bind_the_arguments_to_the_parameters():
    source = HEADER + (
        "BATCH, (NOISE, PIXELS) = 16, (32, 64)\n"
        "def discriminator(x, units=1):\n"
        "    with tf.compat.v1.variable_scope('d', reuse=tf.compat.v1.AUTO_REUSE):\n"
        "        w1 = tf.compat.v1.get_variable('w1', shape=[PIXELS, 128])\n"
        "        h = tf.nn.leaky_relu(tf.matmul(x, w1))\n"
        "        w2 = tf.Variable(tf.random.normal([128, units], stddev=0.02), name='w2')\n"
        "        return tf.matmul(h, w2)\n"
        "def generator(z):\n"
        "    return tf.nn.tanh(tf.matmul(z, tf.zeros((NOISE, 128))) + tf.zeros((128,)))\n"
        "def stacked(x):\n"
        "    return discriminator(generator(x), units=3)\n"
        "real = tf.compat.v1.placeholder(tf.float32, [None, PIXELS])\n"
        "show(tf.ones([BATCH]))\n"
        "show(discriminator(real))\n"
        "show(discriminator(real, 2))\n"
        "show(discriminator(unknown))\n"  # the parameters unknown: only what w2 decides
        "show(generator(tf.zeros((BATCH, NOISE))))\n"
        "show(generator(unknown))\n"
        "show(stacked(tf.zeros((5, NOISE))))\n"
        "show(discriminator(real, 1, 2))\n"  # a TypeError: parameters unknown, the units too
    )
    assert infer(source) == [
        ("(16,)", "float32"),
        ("(None, 1)", "float32"),
        ("(None, 2)", "float32"),
        ("(..., 1)", "float32"),
        ("(16, 128)", "float32"),
        ("(..., 128)", "float32"),
        ("(5, 3)", "float32"),
        ("(..., ?)", "float32"),
    ]


def test_function_results_are_claimed_only_when_every_exit_returns_them():
    source = HEADER + (
        "def maybe(x):\n"
        "    if x:\n"
        "        return tf.zeros((2, 1))\n"  # falls off the end otherwise: None
        "def branches(x):\n"
        "    if x:\n"
        "        return tf.zeros((2, 1))\n"
        "    elif x is None:\n"
        "        raise ValueError(x)\n"
        "    else:\n"
        "        return tf.ones((2, 1))\n"
        "def gen(x):\n"
        "    yield x\n"
        "    return tf.zeros((2, 1))\n"
        "@functools.lru_cache\n"
        "def decorated(x):\n"
        "    return tf.zeros((2, 1))\n"
        "@tf.function(jit_compile=True)\n"
        "def traced(x):\n"
        "    return tf.matmul(x, tf.zeros((3, 2)))\n"
        "def rebinds(x):\n"
        "    x = tf.reshape(x, [-1])\n"
        "    return x\n"
        "def recurses(x):\n"
        "    return recurses(tf.expand_dims(x, 0))\n"
        "show(maybe(1))\nshow(branches(1))\nshow(gen(1))\nshow(decorated(1))\n"
        "show(traced(tf.zeros((5, 3))))\nshow(rebinds(tf.zeros((2, 3))))\nshow(recurses(tf.zeros((2,))))\n"
    )
    assert infer(source) == [
        (None, None), ("(2, 1)", "float32"), (None, None), (None, None), ("(5, 2)", "float32"),
        (None, None),  # the parameter is rebound: its first binding is not what the return sees
        (None, None),
    ]


@pytest.mark.parametrize(
    ("expr", "shape"),
    [
        ("tf.matmul(unknown, tf.zeros((3, 2)))", "(..., 2)"),
        ("tf.matmul(unknown, tf.zeros((3, 2)), transpose_b=True)", "(..., 3)"),
        ("tf.matmul(unknown, tf.zeros((3, 2)), adjoint_b=True)", "(..., 3)"),
        ("tf.matmul(tf.zeros((5, 2)), tf.zeros((3, 2)), adjoint_b=True)", "(5, 3)"),
        ("tf.matmul(tf.zeros((2, 5)), tf.zeros((2, 3)), adjoint_a=True)", "(5, 3)"),
        ("unknown @ tf.zeros((3, 2))", "(..., 2)"),
        ("tf.matmul(tf.zeros((5, 3)), unknown)", None),  # the result's rank is b's: unknown
        ("tf.matmul(unknown, tf.zeros((3,)))", None),  # raises: rank 1
        ("tf.matmul(unknown, tf.zeros((3, 2))) + tf.zeros((2,))", "(..., 2)"),
        ("tf.matmul(unknown, tf.zeros((3, 1))) + tf.zeros((4,))", "(..., 4)"),
        ("tf.matmul(unknown, tf.zeros((3, 2))) * 2.0", "(..., 2)"),
        ("tf.matmul(unknown, tf.zeros((3, 2))) + tf.zeros((3,))", None),  # raises
    ],
)
def test_matmul_with_an_operand_of_unknown_rank(expr, shape):
    assert infer(HEADER + f"show({expr})\n")[0][0] == shape


def _engine(*codes: str) -> Engine:
    return Engine(rules=[rule_by_code(code) for code in codes])


@pytest.mark.parametrize(
    "imports, dense, loss",
    [
        ("import keras\n", "keras.layers.Dense", "keras.losses.BinaryCrossentropy(from_logits=True)"),
        ("from tensorflow.keras.layers import Dense\nfrom tensorflow.keras.losses import BinaryCrossentropy\n",
         "Dense", "BinaryCrossentropy()"),
        ("import tensorflow as tf\n", "tf.keras.layers.Dense", "tf.losses.BinaryCrossentropy()"),
        ("from tensorflow import keras\n", "keras.layers.Dense", "keras.losses.binary_crossentropy"),
    ],
)
def test_tfx301_fires_and_fixes_through_import_forms(imports, dense, loss):
    source = (
        f"{imports}import numpy as np\n"
        f"out = {dense}(2)(np.zeros((4, 3)))\n"
        f"loss_fn = {loss}\n"
        "value = loss_fn(np.ones((4, 1)), out)\n"
    )
    fixed = _engine("TFX301").fix(source, "t.py", unsafe=True)
    assert fixed.fixed_source == source.replace("(2)(", "(1)(")


def test_tfx301_follows_a_loss_object_kept_on_self():
    source = (
        "import tensorflow as tf\n"
        "class Trainer:\n"
        "    def __init__(self):\n"
        "        self.bce = tf.keras.losses.BinaryCrossentropy()\n"
        "        self.head = tf.keras.layers.Dense(2, activation='sigmoid')\n"
        "    def step(self):\n"
        "        return self.bce(tf.zeros((8, 1)), self.head(tf.zeros((8, 3))))\n"
    )
    assert _engine("TFX301").fix(source, "t.py", unsafe=True).fixed_source == source.replace("Dense(2,", "Dense(1,")


@pytest.mark.parametrize(
    "head, targets",
    [
        ("Dense(2, activation='softmax')", "tf.zeros((8, 1))"),  # reported, but one softmax unit is constant
        ("Dense(UNITS)", "tf.zeros((8, 1))"),  # reported, but the constant may serve elsewhere
    ],
)
def test_tfx301_reports_without_a_fix_where_one_unit_is_not_clearly_right(head, targets):
    source = (
        "import tensorflow as tf\nfrom tensorflow.keras.layers import Dense\nUNITS = 2\n"
        f"loss = tf.keras.losses.binary_crossentropy({targets}, {head}(tf.zeros((8, 3))))\n"
    )
    engine = _engine("TFX301")
    assert [f.code for f in engine.check(source, "t.py").findings] == ["TFX301"]
    assert not engine.fix(source, "t.py", unsafe=True).changed


@pytest.mark.parametrize(
    "targets",
    ["tf.zeros((8, 2))", "tf.ones_like(out)", "y", "tf.zeros((8, 3, 1))"],
)
def test_tfx301_is_silent_unless_targets_are_one_column(targets):
    source = (
        "import tensorflow as tf\n"
        "def f(y):\n"
        "    out = tf.keras.layers.Dense(2)(tf.zeros((8, 3)))\n"
        f"    return tf.keras.losses.BinaryCrossentropy()({targets}, out)\n"
    )
    assert _engine("TFX301").check(source, "t.py").findings == ()


def test_tfx301_compile_fit_needs_the_same_model():
    source = (
        "import numpy as np\nfrom tensorflow import keras\n"
        "a = keras.Sequential([keras.layers.Dense(2)])\n"
        "b = keras.Sequential([keras.layers.Dense(2)])\n"
        "a.compile(loss='binary_crossentropy')\n"
        "b.compile(loss='categorical_crossentropy')\n"
        "b.fit(np.zeros((4, 3)), np.zeros((4, 1)))\n"
    )
    assert _engine("TFX301").check(source, "t.py").findings == ()
    flagged = source.replace("b.fit(", "a.fit(")
    assert [f.start.line for f in _engine("TFX301").check(flagged, "t.py").findings] == [7]


def test_tfx301_then_tfx302_cure_a_two_unit_head_against_a_label_vector():
    source = (
        "import tensorflow as tf\n"
        "logits = tf.keras.layers.Dense(2)(tf.zeros((8, 3)))\n"
        "loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros((8,)), logits=logits)\n"
    )
    engine = _engine("TFX301", "TFX302")
    assert [f.code for f in engine.check(source, "t.py").findings] == ["TFX301"]
    assert engine.fix(source, "t.py", unsafe=True).fixed_source == (
        "import tensorflow as tf\n"
        "logits = tf.keras.layers.Dense(1)(tf.zeros((8, 3)))\n"
        "loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.reshape(tf.zeros((8,)), [-1, 1]), logits=logits)\n"
    )


def test_tfx302_spells_tensorflow_as_the_file_does():
    source = (
        "import tensorflow.compat.v1 as tf1\n"
        "logits = tf1.placeholder(tf1.float32, [None, 1])\n"
        "y = tf1.placeholder(tf1.float32, [None])\n"
        "loss = tf1.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits)\n"
    )
    assert _engine("TFX302").fix(source, "t.py").fixed_source == source.replace(
        "labels=y,", "labels=tf1.reshape(y, [-1, 1]),"
    )
    bare = (
        "import numpy as np\n"
        "from tensorflow import nn\n"
        "loss = nn.sigmoid_cross_entropy_with_logits(np.zeros((4, 1)), np.zeros((4,)))\n"
    )
    assert _engine("TFX302").fix(bare, "t.py").fixed_source == (
        "import numpy as np\n"
        "from tensorflow import nn\n"
        "import tensorflow\n"
        "\n"
        "loss = nn.sigmoid_cross_entropy_with_logits(tensorflow.reshape(np.zeros((4, 1)), [-1]), np.zeros((4,)))\n"
    )


def test_tfx302_follows_logits_out_of_a_tf1_builder_function():
    source = (
        "import tensorflow.compat.v1 as tf\n"
        "BATCH, PIXELS = 16, 64\n"
        "def discriminator(x):\n"
        "    with tf.variable_scope('d', reuse=tf.AUTO_REUSE):\n"
        "        h = tf.nn.leaky_relu(tf.matmul(x, tf.get_variable('w1', shape=[PIXELS, 128])))\n"
        "        return tf.matmul(h, tf.get_variable('w2', shape=[128, 1]))\n"
        "real_logits = discriminator(tf.placeholder(tf.float32, [None, PIXELS]))\n"
        "any_logits = discriminator(unknown)\n"
        "loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones([BATCH]), logits=real_logits)\n"
        "other = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones([BATCH]), logits=any_logits)\n"
    )
    engine = _engine("TFX302")
    findings = engine.check(source, "t.py").findings
    assert [(f.start.line, "broadcasts" in f.message) for f in findings] == [(9, False), (10, True)]
    assert engine.fix(source, "t.py", unsafe=True).fixed_source == source.replace(
        "labels=tf.ones([BATCH]), logits=real_logits", "labels=tf.reshape(tf.ones([BATCH]), [-1, 1]), logits=real_logits"
    )  # the rank of `any_logits` is unknown: (BATCH, 1) or (2, BATCH/2, 1)? reported, not reshaped


def test_tfx302_uses_the_logits_shape_when_several_dimensions_are_unknown():
    source = (
        "import tensorflow.compat.v1 as tf\n"
        "logits = tf.placeholder(tf.float32, [None, None, 1])\n"
        "y = tf.placeholder(tf.float32, [None, None])\n"
        "loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits)\n"
    )
    assert _engine("TFX302").fix(source, "t.py").fixed_source == source.replace(
        "labels=y,", "labels=tf.reshape(y, tf.shape(logits)),"
    )


@pytest.mark.parametrize(
    "labels, logits",
    [
        ("tf.zeros((8, 1))", "tf.zeros((8, 1))"),
        ("tf.zeros((8,))", "unknown"),
        ("tf.zeros((8, 1))", "tf.placeholder(tf.float32)"),  # rank unknown
    ],
)
def test_tfx302_is_silent_when_shapes_agree_or_are_unknown(labels, logits):
    source = (
        "import tensorflow.compat.v1 as tf\n"
        f"loss = tf.nn.sigmoid_cross_entropy_with_logits(labels={labels}, logits={logits})\n"
    )
    assert _engine("TFX302").check(source, "t.py").findings == ()


def test_tfx302_reports_a_batch_mismatch_without_a_fix():
    source = (
        "import tensorflow as tf\n"
        "loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros((16, 1)), logits=tf.zeros((32, 1)))\n"
    )
    engine = _engine("TFX302")
    assert [f.code for f in engine.check(source, "t.py").findings] == ["TFX302"]
    assert not engine.fix(source, "t.py", unsafe=True).changed


@pytest.mark.parametrize(
    ("expr", "shape"),
    [
        ("tf.zeros([unknown, 3])", "(None, 3)"),
        ("tf.compat.v1.get_variable('m', [x.get_shape().as_list()[1], 4])", "(None, 4)"),
        ("tf.reshape(tf.zeros((4, 3)), [n, -1])", "(None, None)"),
        ("tf.zeros([[2], 3])", None),  # nested: not a shape
        ("tf.zeros([*dims, 3])", None),  # the rank is unknown
    ],
)
def test_shape_arguments_with_unknown_elements_keep_their_rank(expr, shape):
    assert infer(HEADER + f"show({expr})\n")[0][0] == shape
