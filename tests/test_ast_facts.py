"""The facts of the preconditions gate (`tffix.ast_facts`), recorded by the anchor gate's one walk of Python's `ast`:
they must cover what LibCST resolves (a superset), since a rule's `can_fire` rejects a file on them."""

from __future__ import annotations

import ast

import libcst as cst

from tffix.analysis import FileAnalysis
from tffix.ast_facts import Facts, argument, has_keyword
from tffix.slicing import focus


def facts(source: str) -> Facts:
    found = focus(source, ())
    assert found is not None
    return found.facts


def test_calls_of_api_names_through_every_import_form():
    found = facts(
        "import tensorflow as tf\nfrom tensorflow.keras.optimizers import Adam as A\nimport keras\n"
        "a = tf.keras.optimizers.Adam(lr=0.1)\nb = A(learning_rate=0.1)\nc = keras.optimizers.SGD(0.1, decay=0.9)\n"
    )
    adam = found.calls_of("keras.optimizers.Adam")
    assert len(adam) == 2
    assert has_keyword(adam, "lr") and has_keyword(adam, "learning_rate") and not has_keyword(adam, "decay")
    assert has_keyword(found.calls_of("keras.optimizers.SGD"), "decay")
    assert found.called("keras.optimizers.SGD") and not found.called("keras.optimizers.RMSprop")
    assert found.references("keras.optimizers", "tf.keras") is True


def test_internal_names_are_not_api():
    found = facts("from tensorflow.python.ops import math_ops\nx = math_ops.cast(y, 'int32')\n")
    assert not found.api and not found.calls
    assert "tensorflow.python.ops.math_ops.cast" in found.qualified


def test_bare_words_resolve_to_themselves_as_libcst_resolves_them():
    found = facts("numpy = load()\nx = numpy.float\n")
    assert found.resolves_to("numpy.float")
    analysis = FileAnalysis.of("numpy = load()\nx = numpy.float\n")
    attributes = [n for n in _walk(analysis.module) if isinstance(n, cst.Attribute)]
    assert "numpy.float" in analysis.qualified_names(attributes[0])


def test_a_chain_through_a_call_or_subscript_is_named_as_libcst_names_it():
    source = "import tensorflow as tf\nx = tf.constant([1])[0].numpy\ny = tf.zeros(3).shape\n"
    found = facts(source)
    assert "tensorflow.constant.numpy" in found.qualified and "tf.zeros.shape" in found.api
    analysis = FileAnalysis.of(source)
    names = set().union(*(analysis.qualified_names(n) for n in _walk(analysis.module) if isinstance(n, cst.Attribute)))
    assert {"tensorflow.constant.numpy", "tensorflow.zeros.shape"} <= names


def test_api_names_of_a_node_and_arguments():
    found = facts("import tensorflow as tf\ny = tf.cast(x, dtype=tf.int32)\nz = tf.cast(x, tf.float32)\n")
    first, second = found.calls_of("tf.cast")
    assert found.api_names(argument(first, "dtype", 1)) == {"tf.int32"}
    assert found.api_names(argument(second, "dtype", 1)) == {"tf.float32"}
    assert argument(second, "name", 2) is None


def test_methods_with_items_operators_literals_definitions():
    found = facts(
        "import tensorflow as tf\n"
        "with tf.GradientTape() as tape, open('f') as g:\n    y = x @ w / 2.0\n"
        "grads = tape.gradient(y, w)\nmodel.fit(x, nb_epoch=3)\n"
        "class L:\n    def call(self):\n        self.w = tf.Variable(1)\n"
    )
    assert found.with_items == {"tf.GradientTape"}
    assert [type(c.func.value) for c in found.method_calls("gradient")] == [ast.Name]
    assert has_keyword(found.method_calls("fit"), "nb_epoch")
    assert found.operators == {ast.MatMult, ast.Div} and found.floats and "f" in found.strings
    assert found.functions == {"call"}
    assert [id(c) for c in found.calls_of("tf.Variable")] == list(found.self_assigned)


def test_class_bases_of_split_and_whole_classes():
    found = facts(
        "import tensorflow as tf\nfrom keras import layers\n"
        "class A(tf.keras.layers.Layer):\n    def f(self):\n        pass\n"
        "class B(layers.Dense):\n    x = tf.constant(1)\n"
        "def g():\n    class C(tf.Module):\n        pass\n"
    )
    assert found.class_bases == {"keras.layers.Layer", "keras.layers.Dense", "tf.Module"}


def test_bound_values_of_names_and_attributes():
    found = facts("a, b = 1, 2.0\nc: int = a\nself.d = b\nx, y = f()\n")
    assert [ast.unparse(v) for v in found.bound["a"]] == ["1"]
    assert [ast.unparse(v) for v in found.bound["b"]] == ["2.0"]
    assert [ast.unparse(v) for v in found.bound["c"]] == ["a"]
    assert [ast.unparse(v) for v in found.attributes_bound["d"]] == ["b"]
    assert "x" not in found.bound  # unpacking a call: StaticValues knows no value either


def _walk(node: cst.CSTNode):
    yield node
    for child in node.children:
        yield from _walk(child)


def test_bindings_carry_the_scope_of_the_code_that_binds_them():
    found = facts(
        "x = 1\n"
        "def f():\n    x = 2.0\n    return x * 3\n"
        "def g():\n    global x\n    x = 'a'\n    return x + 'b'\n"
    )
    scopes = {ast.unparse(value): scope for name, value, scope in found.bindings}
    assert scopes["1"] is None and scopes["'a'"] is None  # module-level, and `global x`
    f_scope = scopes["2.0"]
    assert f_scope is not None
    f_op, g_op = found.binary
    assert found.scopes[id(f_op)] == f_scope and found.scopes[id(g_op)] not in (None, f_scope)
