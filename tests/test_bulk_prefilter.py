"""The text prefilter (import gate) and the nesting guard: sound, cheap, and clear when they refuse."""

from __future__ import annotations

import time

import libcst as cst
import pytest

from tffix.config import Settings
from tffix.engine import Engine
from tffix.model import ProblemKind
from tffix.prefilter import imports_user_api, is_internal_name, nesting_problem
from tffix.rule import Rule


class AnyApiName(Rule):
    """Test rule: reports every name or attribute that resolves to a TensorFlow/Keras user-API name (the
    widest rule the contract allows: rules match user-API names only, never `tf.python...`/`keras.src...`)."""

    code = "TFX990"
    name = "any-api-name"
    summary = "test"

    def _report_api(self, node: cst.CSTNode) -> None:
        names = sorted(n for n in self.api_names(node) if not is_internal_name(n))
        if names:
            self.report(node, f"api {names}")

    def visit_Name(self, node: cst.Name) -> None:
        self._report_api(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._report_api(node)


BINDS_API = [
    "import tensorflow as tf\ntf.cast(x)\n",
    "import tensorflow\ntensorflow.cast(x)\n",
    "import tensorflow.compat.v1 as tf\ntf.cast(x)\n",
    "from tensorflow import keras\nkeras.layers.Dense(1)\n",
    "from tensorflow.keras.layers import Dense\nDense(1)\n",
    "from keras import layers\nlayers.Dense(1)\n",
    "import keras\nkeras.layers.Dense(1)\n",
    "import tf_keras as keras\nkeras.layers.Dense(1)\n",
    "from tensorflow.python.keras import layers\nlayers.Dense(1)\n",
    "from tensorflow.python import keras\nkeras.layers.Dense(1)\n",
    "from tensorflow.python import (\n    keras,\n)\nkeras.layers.Dense(1)\n",
    "import tensorflow.python.ops.math_ops\ntensorflow.cast(x)\n",
    "import os; import tensorflow as tf\ntf.cast(x)\n",
    "import os, \\\n    tensorflow as tf\ntf.cast(x)\n",
    "keras = load()\nkeras.layers.Dense(1)\n",
    "class keras:\n    pass\nkeras.layers\n",
    "def tensorflow():\n    pass\ntensorflow.cast\n",
    "for keras in mods:\n    pass\nkeras.layers\n",
    "with load() as keras:\n    keras.layers\n",
    "(keras, b) = mods\nkeras.layers\n",
    "keras: object = load()\nkeras.layers\n",
    "if (keras := load()):\n    keras.layers\n",
]

NO_API = [
    "import numpy as np\nnp.cast(x)\n",
    "from tensorflow.python.ops import math_ops\nmath_ops.cast(x)\n",
    "from tensorflow.python.framework import ops as tf_ops\ntf_ops.convert_to_tensor(x)\n",
    "import tensorflow.python.ops.math_ops as math_ops\nmath_ops.cast(x)\n",
    "from keras.src import ops\nops.cast(x)\n",
    "from keras.src.layers import Dense\nDense(1)\n",
    "from tensorflow.core.framework import graph_pb2\n",
    "from tensorflow.security.fuzzing.py import annotation_types as _atypes\n",
    "# Copyright The TensorFlow Authors; see tensorflow/python/BUILD\nx = 1\n",
    '"""Use `tf.keras` (https://www.tensorflow.org/guide/keras).\n\n    model = keras.Sequential()\n"""\n',
    'URL = "https://github.com/tensorflow/tensorflow/blob/master/x.py"\n',
    "x = 1  # pylint: disable=g-direct-tensorflow-import\n",
    "import tensorflow_datasets as tfds\ntfds.load('mnist')\n",
    "import mylib as tf\ntf.cast(x)\n",
]


@pytest.mark.parametrize("source", BINDS_API)
def test_the_gate_lets_through_every_way_of_binding_an_api_name(source):
    assert imports_user_api(source)
    assert Engine(rules=[AnyApiName]).check(source, "t.py").findings  # and the names really resolve


@pytest.mark.parametrize("source", NO_API)
def test_the_gate_skips_only_sources_where_no_api_name_resolves(source):
    assert not imports_user_api(source)
    ungated = Engine(Settings(select=(AnyApiName.code,), gates=False), rules=[AnyApiName])
    assert ungated.check(source, "t.py").findings == ()


def test_screen_combines_the_words_and_the_import_gate():
    engine = Engine(rules=[AnyApiName])
    assert engine.screen("import tensorflow as tf\n", "t.py") == (AnyApiName,)
    assert engine.screen("from tensorflow.python.ops import math_ops\nmath_ops.cast(x)\n", "t.py") == ()


@pytest.mark.parametrize(
    "source",
    [
        "x = " + "[" * 400 + "1" + "]" * 400 + "\n",
        "x = " + "(" * 1000 + "1" + ")" * 1000 + "\n",
        "x = " + "-" * 5000 + "1\n",
        "x = " + "+".join(["a"] * 10000) + "\n",
        "x = a" + ".b" * 3000 + "\n",
        "x = " + "1 if a else " * 3000 + "2\n",
    ],
)
def test_deeply_nested_code_is_refused_quickly_with_a_reason(source):
    source = "import tensorflow as tf\ny = tf.cast(x, tf.int32)\n" + source
    started = time.perf_counter()
    result = Engine().check(source, "deep.py")
    assert time.perf_counter() - started < 5
    (problem,) = result.problems
    assert problem.kind is ProblemKind.SYNTAX and "too deeply nested" in problem.message


def test_brackets_inside_strings_and_flat_long_lines_are_not_nesting():
    serialized = "DESCRIPTOR = b'" + "(" * 300 + "'\n"
    flat = "TABLE = [" + ", ".join(f"-{i}" for i in range(2000)) + "]\n"
    assert nesting_problem(serialized) is None
    assert nesting_problem(flat) is None
    assert nesting_problem("x = " + "[" * 50 + "]" * 50 + "\n") is None


DOCSTRING_EXAMPLE = '''def f():
    """Usage:

    ```python
    import tensorflow as tf
    tf.cast(x)
    ```
    """
'''
STRINGS_ONLY = "s = 'import keras'; t = '''\nkeras = 1\n'''  # keras = 2\n"
REAL_IMPORT_AFTER_STRINGS = '"""Usage:\n    import mylib\n"""\nx = "it\'s # not a comment"  # don\'t\nimport keras\n'


def test_strings_and_comments_bind_nothing():
    assert not imports_user_api(DOCSTRING_EXAMPLE)
    assert not imports_user_api(STRINGS_ONLY)
    assert imports_user_api(REAL_IMPORT_AFTER_STRINGS)
