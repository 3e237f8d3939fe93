"""Matching details of the dtype, matmul and label rules (TFX303, TFX305, TFX306, TFX307) and of their helpers."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from tffix.engine import Engine
from tffix.registry import rule_by_code
from tffix.transforms._dtypes import with_keyword, without_keyword


def check(code: str, source: str) -> list:
    return list(Engine(rules=[rule_by_code(code)]).check(textwrap.dedent(source), "t.py").findings)


def fixed(code: str, source: str, unsafe: bool = True) -> str:
    return Engine(rules=[rule_by_code(code)]).fix(textwrap.dedent(source), "t.py", unsafe=unsafe).fixed_source


# --- TFX303 -----------------------------------------------------------------------------------------------------
def test_cast_uses_the_files_own_alias_and_ignores_a_shadowing_local():
    source = """\
        import tensorflow.compat.v1 as v1
        def f():
            tf = None
            return v1.constant([1, 2]) * v1.ones((2,))
        """
    assert "v1.cast(v1.constant([1, 2]), v1.float32) * v1.ones((2,))" in fixed("TFX303", source)


def test_cast_keeps_the_float_sides_dtype():
    source = "import tensorflow as tf\ny = tf.range(3) + tf.zeros((3,), dtype=tf.float64)\n"
    assert "tf.cast(tf.range(3), tf.float64)" in fixed("TFX303", source)


@pytest.mark.parametrize(
    "expression",
    [
        "tf.ones((2,)) + 1",  # a Python int becomes float32
        "tf.range(2) * np.array([0.5, 1.5])",  # NumPy data is converted (truncated) to int32: no error
        "[1, 2] * tf.ones((2,))",
        "tf.matmul(tf.ones((1, 2)), np.array([[1], [2]]))",  # b is converted to a's dtype
        "tf.matmul(tf.ones((1, 2)), [[1], [2]])",
        "tf.cast(tf.range(2), tf.float32) * tf.ones((2,))",
        "tf.range(2) * 2",
    ],
)
def test_conversions_tensorflow_does_itself_are_not_reported(expression):
    assert check("TFX303", f"import numpy as np\nimport tensorflow as tf\ny = {expression}\n") == []


@pytest.mark.parametrize(
    "expression",
    [
        "1.5 * tf.range(2)",
        "tf.matmul([[1, 2]], tf.ones((2, 1)))",  # a list of ints as `a` is int32
        "tf.matmul(np.array([[1, 2]]), tf.ones((2, 1)))",  # int64
        "tf.matmul(tf.constant([[1, 2]]), [[1.0], [2.0]])",  # float data cannot become int32
        "tf.Variable(0) // tf.ones(())",
    ],
)
def test_mixed_operands_that_raise_are_reported(expression):
    assert [f.code for f in check("TFX303", f"import numpy as np\nimport tensorflow as tf\ny = {expression}\n")] == ["TFX303"]


def test_keras_tensors_are_left_to_keras():
    source = "import keras\nx = keras.Input((3,), dtype='int32')\ny = x + keras.ops.ones((3,))\nz = x * 0.5\n"
    assert check("TFX303", source) == []


def test_sigmoid_labels_take_the_logits_dtype_when_unknown():
    source = """\
        import tensorflow as tf
        def loss(logits):
            return tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones((4, 1), tf.int32), logits=logits)
        """
    assert "labels=tf.cast(tf.ones((4, 1), tf.int32), logits.dtype)" in fixed("TFX303", source)


def test_parenthesised_operand_loses_its_parentheses_inside_the_cast():
    source = "import tensorflow as tf\nstep = tf.Variable(0)\nr = (step + 1) / 4.0\n"
    assert "r = tf.cast(step + 1, tf.float32) / 4.0" in fixed("TFX303", source)


# --- TFX305 -----------------------------------------------------------------------------------------------------
def test_a_set_adjoint_flag_that_is_wrong_is_removed():
    source = "import tensorflow as tf\ny = tf.matmul(tf.ones((4, 3)), tf.ones((3, 2)), adjoint_b=True)\n"
    assert "y = tf.matmul(tf.ones((4, 3)), tf.ones((3, 2)))\n" in fixed("TFX305", source)


def test_a_flag_given_as_false_is_flipped_not_duplicated():
    source = "import tensorflow as tf\ny = tf.matmul(tf.ones((5, 4)), tf.ones((3, 4)), False, False)\n"
    assert "tf.matmul(tf.ones((5, 4)), tf.ones((3, 4)), False, True)" in fixed("TFX305", source)


def test_a_flag_that_is_not_a_literal_means_no_claim():
    source = "import tensorflow as tf\ndef f(t):\n    return tf.matmul(tf.ones((5, 4)), tf.ones((3, 4)), transpose_b=t)\n"
    assert check("TFX305", source) == []


def test_the_transpose_fix_needs_the_unsafe_flag():
    source = "import tensorflow as tf\ny = tf.ones((5, 4)) @ tf.ones((3, 4))\n"
    assert fixed("TFX305", source, unsafe=False) == source
    assert "y = tf.ones((5, 4)) @ tf.transpose(tf.ones((3, 4)))" in fixed("TFX305", source)


# --- TFX306 -----------------------------------------------------------------------------------------------------
def test_ignore_class_of_a_named_loss_object_is_honoured():
    source = """\
        import tensorflow as tf
        loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(ignore_class=9)
        a = loss_fn([0, 9], tf.zeros((2, 3)))
        b = loss_fn([0, 8], tf.zeros((2, 3)))
        """
    findings = check("TFX306", source)
    assert [f.start.line for f in findings] == [4]
    assert "Received a label value of 8" in findings[0].message


def test_fit_with_a_compiled_loss_object_and_labels_through_a_name():
    source = """\
        import numpy as np
        import keras
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
        model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        y = np.array([[1], [2]])
        model.fit(np.zeros((2, 2)), y)
        """
    assert [f.code for f in check("TFX306", source)] == ["TFX306"]


def test_float_label_data_is_not_read_as_class_ids():
    source = "import numpy as np\nimport tensorflow as tf\nl = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=np.array([5, 1], dtype=np.float32), logits=tf.zeros((2, 3)))\n"
    assert check("TFX306", source) == []


# --- TFX307 -----------------------------------------------------------------------------------------------------
def test_depth_given_by_a_name_is_reported_without_a_fix():
    source = """\
        import tensorflow as tf
        NUM_CLASSES = 3
        targets = tf.one_hot([0, 3], NUM_CLASSES)
        loss = tf.keras.losses.categorical_crossentropy(targets, tf.zeros((2, 4)))
        """
    findings = check("TFX307", source)
    assert [f.code for f in findings] == ["TFX307"] and findings[0].fix is None


def test_logits_narrower_than_the_labels_give_no_fix():
    source = "import tensorflow as tf\nt = tf.one_hot([0, 5], depth=3)\nl = tf.nn.softmax_cross_entropy_with_logits(labels=t, logits=tf.zeros((2, 4)))\n"
    findings = check("TFX307", source)
    assert len(findings) == 1 and findings[0].fix is None


# --- helpers ----------------------------------------------------------------------------------------------------
def _call(code: str) -> cst.Call:
    return cst.parse_expression(code)  # type: ignore[return-value]


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def test_with_keyword_keeps_one_argument_a_line_layout():
    call = _call("f(\n    a,\n    b,\n)")
    assert _code(with_keyword(call, "k", cst.Name("True"))) == "f(\n    a,\n    b,\n    k=True,\n)"
    assert _code(with_keyword(_call("f(a, b)"), "k", cst.Name("True"))) == "f(a, b, k=True)"
    assert _code(with_keyword(_call("f(a, k=False)"), "k", cst.Name("True"))) == "f(a, k=True)"


def test_without_keyword_keeps_the_trailing_comma_style():
    assert _code(without_keyword(_call("f(a, k=True)"), "k")) == "f(a)"
    assert _code(without_keyword(_call("f(\n    a,\n    k=True,\n)"), "k")) == "f(\n    a,\n)"
    assert _code(without_keyword(_call("f(k=True, a=1)"), "k")) == "f(a=1)"


def _in_tape(body: str, target: str = "y") -> str:
    """`body` inside a tape whose gradient of `reduce_sum(target)` is taken with respect to the variable `v`."""
    indented = "".join(f"    {line}\n" for line in body.splitlines())
    return (
        "import tensorflow as tf\nv = tf.Variable([1.5])\nwith tf.GradientTape() as tape:\n"
        f"{indented}    loss = tf.reduce_sum({target})\ng = tape.gradient(loss, v)\n"
    )


@pytest.mark.parametrize(
    ("source", "reported"),
    [
        # the name itself goes through the round trip
        (_in_tape("w = tf.cast(v, tf.int32)\nw = tf.cast(w, tf.float32)", "w"), True),
        # a branch casts to int, the other to float (keras.src.backend.tensorflow.numpy.bincount)
        (_in_tape("if a:\n    w = tf.cast(v, tf.int32)\nelse:\n    w = tf.cast(v, tf.float32)", "w"), False),
        # the cast to int reaches the cast back from an enclosing block
        (_in_tape("w = tf.cast(v, tf.int32)\nif a:\n    y = tf.cast(w, tf.float32)"), True),
        # rebound in between
        (_in_tape("w = tf.cast(v, tf.int32)\nw = lookup(w)\ny = tf.cast(w, tf.float32)"), False),
        (_in_tape("w = tf.cast(v, tf.int32)\nw += 1\ny = tf.cast(w, tf.float32)"), False),
    ],
)
def test_integer_round_trip_through_a_name_only_where_the_int_cast_reaches(source, reported):
    assert bool(check("TFX304", source)) is reported


@pytest.mark.parametrize(
    ("source", "reported"),
    [
        (_in_tape("y = tf.cast(tf.cast(v * 10, tf.int32), tf.float32)"), True),
        # the value does not depend on the variable (input data, a step counter)
        (_in_tape("y = tf.cast(tf.cast(x * 10, tf.int32), tf.float32) * v"), False),
        # not on the way to the target: a metric
        (_in_tape("m = tf.cast(tf.cast(v * 10, tf.int32), tf.float32)\ny = v * v"), False),
        # under tf.stop_gradient: a straight-through estimator
        (_in_tape("y = v + tf.stop_gradient(tf.cast(tf.cast(v, tf.int32), tf.float32) - v)"), False),
        # cast to int before the tape: the tape never saw the float value
        ("import tensorflow as tf\nv = tf.Variable([1.5])\nq = tf.cast(v, tf.int32)\n"
         "with tf.GradientTape() as tape:\n    loss = tf.reduce_sum(tf.cast(q, tf.float32))\ng = tape.gradient(loss, v)\n",
         False),
        # no tape, no Keras call: nothing shows a gradient through it
        ("import tensorflow as tf\ny = tf.cast(tf.cast(v * 10, tf.int32), tf.float32)\n", False),
        # a Keras layer's call: from a sub-layer to the output, not from the input alone
        ("import tensorflow as tf\nclass L(tf.keras.layers.Layer):\n    def __init__(self):\n"
         "        super().__init__()\n        self.d = tf.keras.layers.Dense(2)\n    def call(self, x):\n"
         "        return tf.cast(tf.cast(self.d(x), tf.int32), tf.float32)\n", True),
        ("import tensorflow as tf\nclass L(tf.keras.layers.Layer):\n    def call(self, x):\n"
         "        return tf.cast(tf.cast(x * 255.0, tf.uint8), tf.float32) * self.scale\n", False),
    ],
)
def test_integer_round_trip_only_between_the_variables_and_a_differentiated_loss(source, reported):
    assert bool(check("TFX304", source)) is reported
