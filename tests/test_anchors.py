"""Rules' anchors (`Rule.anchors`): the API leaves without one of which a rule never reports.

The engine skips a rule on a file that references none of its anchors, and analyses only the code connected to
them first (tffix/slicing.py). An anchor set that misses a way a rule reports would silently hide findings, so
every documented invalid example and every fixture the rule fixes must reference one of its anchors, as the
file's imports resolve it; tests/test_slicing.py checks the slice itself against the whole file.
"""

from __future__ import annotations

import pytest

from tffix.engine import Engine
from tffix.registry import all_rules, rule_by_code
from tffix.slicing import referenced_leaves

from .fixture_cases import load_cases

ANCHORED = [rule for rule in all_rules() if rule.anchors]


def _reported_sources():
    for rule in ANCHORED:
        for i, example in enumerate(rule.INVALID):
            yield pytest.param(rule, example.code, id=f"{rule.code}-invalid-{i}")
    for case in load_cases():
        rule = rule_by_code(case.code)
        if rule.anchors and not case.negative:
            yield pytest.param(rule, case.program("before").read_text(encoding="utf-8"), id=case.id)


def test_every_rule_declares_anchors_or_triggers():
    """A rule reports at an API name it declares as an anchor; one that reports at what has no API name (a
    method of a model the file built, `fit(nb_epoch=...)`) declares the words it needs instead (tffix.gates)."""
    assert [rule.code for rule in all_rules() if not rule.anchors and not rule.triggers] == []
    assert [rule.code for rule in all_rules() if not rule.anchors and rule.code < "TFX6"] == []


@pytest.mark.parametrize(("rule", "source"), list(_reported_sources()))
def test_what_a_rule_reports_references_one_of_its_anchors(rule, source):
    assert Engine(rules=[rule], max_kept_share=0.0).check(source, "case.py").findings, "the case must report"
    leaves = referenced_leaves(source)
    assert leaves is not None and leaves & rule.anchors


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("model.compile(optimizer='adam', loss='binary_crossentropy')", {"binary_crossentropy"}),
        ("model.compile('adam', 'sparse_categorical_crossentropy')", {"sparse_categorical_crossentropy"}),
        ("model.compile('binary_crossentropy')", set()),  # the optimizer's place, not the loss's
        ("print('binary_crossentropy')", set()),
        ("loss = 'binary_crossentropy'", set()),  # a string Keras is not given is no reference
    ],
)
def test_a_loss_compiled_by_name_references_that_loss(source, expected):
    assert referenced_leaves(source) == expected


def test_a_file_without_a_rules_anchors_is_not_parsed_for_it(monkeypatch):
    import tffix.engine

    parsed, real_parse = [], tffix.engine.parse
    monkeypatch.setattr(tffix.engine, "parse", lambda source, path: parsed.append(path) or real_parse(source, path))
    source = "import tensorflow as tf\nx = tf.ones((2, 3))\ny = x * tf.range(3)\n"
    assert referenced_leaves(source) == {"tf", "ones", "range"}
    Engine(rules=[rule_by_code("TFX401")]).check(source, "tape.py")  # GradientTape: not referenced
    # tf.ones and tf.range make tensors it checks (an integer and a float one: its precondition holds too)
    Engine(rules=[rule_by_code("TFX303")]).check(source, "dtypes.py")
    assert parsed == ["dtypes.py"]


@pytest.mark.parametrize(
    ("source", "reported"),
    [
        ("import numpy as np\nz = np.ones((2, 3)) @ np.ones((2, 3))\n", False),  # NumPy raises, not TensorFlow
        ("import numpy as np\nimport tensorflow as tf\nz = np.ones((2, 3)) @ tf.ones((2, 3))\n", True),
        ("import numpy as np\nimport tensorflow as tf\nw = tf.ones((2, 3))\nz = w @ np.ones((2, 3))\n", True),
        ("import numpy as np\nimport tensorflow as tf\nz = tf.matmul(np.ones((2, 3)), np.ones((2, 3)))\n", True),
    ],
)
def test_matmul_operator_is_tensorflows_only_with_a_tensorflow_operand(source, reported):
    findings = Engine(rules=[rule_by_code("TFX305")]).check(source, "case.py").findings
    assert bool(findings) is reported
