"""The CST utilities the rules share (transforms/_cst_utils.py), asked of an analysis directly."""

from __future__ import annotations

import libcst as cst
import pytest

from tffix.analysis import FileAnalysis
from tffix.transforms._cst_utils import TF, calls_in, code_of, fresh_name, line_of, names_in, numpy_name


def test_fresh_name_takes_the_first_free_choice_and_reserves_it():
    taken = {"resolver", "x"}
    assert fresh_name(("resolver", "tpu_resolver"), taken) == "tpu_resolver"
    assert fresh_name(("resolver", "tpu_resolver"), taken) == "tpu_resolver_2"  # the first is now taken too
    assert fresh_name("x", taken) == "x_2"
    assert {"tpu_resolver", "tpu_resolver_2", "x_2"} <= taken


def test_names_in_a_module_include_bound_and_used_names():
    module = cst.parse_module("import numpy as np\ndef f(a):\n    return np.zeros(a)\n")
    assert {"np", "f", "a", "zeros"} <= names_in(module)


@pytest.mark.parametrize(
    ("source", "alias", "imports"),
    [
        ("import tensorflow as tf\n", "tf", ()),
        ("import tensorflow\n", "tensorflow", ("tensorflow",)),  # already imported: the import is not repeated
        ("import tensorflow.compat.v1 as tf1\n", "tf1", ()),
        ("import numpy as tf\n", "tensorflow", ("tensorflow",)),  # `tf` is NumPy here: spell it out, import it
        ("x = 1\n", "tensorflow", ("tensorflow",)),
    ],
)
def test_tf_spells_tensorflow_as_the_module_does(source, alias, imports):
    spelling = TF.at(FileAnalysis.of(source))
    assert (spelling.alias, spelling.imports) == (alias, imports)
    assert code_of(spelling.call("zeros", cst.Integer("3"))) == f"{alias}.zeros(3)"


def test_numpy_name_follows_any_alias_of_numpy():
    analysis = FileAnalysis.of("import numpy as onp\nimport tensorflow as np\na = onp.square\nb = np.square\n")
    a, b = (statement.body[0].value for statement in analysis.module.body[2:])
    assert numpy_name(analysis, a) == "square"
    assert numpy_name(analysis, b) is None


def test_calls_in_skips_nested_functions_and_classes():
    analysis = FileAnalysis.of(
        "with t:\n    f(g(1))\n    def inner():\n        h()\n    class C:\n        k()\n    lambda: m()\n"
    )
    with_node = analysis.module.body[0]
    assert [code_of(c.func) for c in calls_in(with_node)] == ["f", "g", "m"]
    assert line_of(analysis, calls_in(with_node)[0]) == 2
