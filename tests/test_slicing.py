"""The anchor gate and the slice (tffix.slicing): what is kept, and that the engine's results never change."""

from __future__ import annotations

import textwrap

import pytest

from fixture_cases import load_cases
from tffix.engine import Engine
from tffix.registry import all_rules
from tffix.gates import focus_rules
from tffix.slicing import focus, referenced_leaves

HEADER = "import tensorflow as tf\nimport numpy as np\n"


def kept(source: str, anchors=("GradientTape",)) -> str:
    """The slice with blanked lines dropped, to compare what is kept."""
    source = HEADER + textwrap.dedent(source)
    found = focus(source, anchors)
    assert found is not None
    assert found.text.count("\n") == source.count("\n"), "the slice keeps every line, blanked or not"
    for line, original in zip(found.text.split("\n"), source.split("\n")):
        assert line in ("", original), "a line is either kept exactly or blanked"
    return "\n".join(line for line in found.text.split("\n") if line.strip())


# --- leaves --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "leaf"),
    [
        ("import tensorflow as tf\ntf.GradientTape()\n", "GradientTape"),
        ("import tensorflow.compat.v1 as tf\ntf.get_variable('w', [1])\n", "get_variable"),
        ("from tensorflow import keras\nkeras.layers.Dense(2)\n", "Dense"),
        ("from tensorflow.keras.layers import Dense as D\nD(2)\n", "Dense"),
        ("import keras\nkeras.losses.BinaryCrossentropy()\n", "BinaryCrossentropy"),
        ("def f():\n    import tensorflow as tf\n    return tf.one_hot\n", "one_hot"),  # an import in a function
        ("import tensorflow\ntensorflow.nn.relu\n", "nn"),  # every prefix of a chain
    ],
)
def test_leaves_follow_imports_and_aliases(source, leaf):
    assert leaf in referenced_leaves(source)


@pytest.mark.parametrize(
    "source",
    [
        "import tensorflow as tf\nx = 'tf.GradientTape'  # tf.GradientTape\n",  # strings and comments
        "from tensorflow.python.eager import backprop\nbackprop.GradientTape()\n",  # TensorFlow's internals
        "import mytools as tf\ntf.GradientTape()\n",  # a name spelt `tf` that is not TensorFlow
        "import tensorflow as tf\nt = tape.GradientTape()\n",  # the chain does not start at an import
    ],
)
def test_no_leaf_without_a_resolved_user_api_name(source):
    assert "GradientTape" not in referenced_leaves(source)


def test_unparsable_source_has_no_focus():
    assert focus("def f(:\n", ("GradientTape",)) is None
    assert referenced_leaves("print 'py2'\n") is None


# --- what the slice keeps ------------------------------------------------------------------------------------
def test_definitions_without_anchors_are_blanked_and_statements_stay():
    result = kept(
        """
        BATCH = 4

        def unrelated(x):
            return x + 1

        def train(w):
            with tf.GradientTape() as tape:
                y = w * 2
            return tape.gradient(y, w)

        if __name__ == "__main__":
            print(BATCH)
        """
    )
    assert "def train" in result and "BATCH = 4" in result and "__main__" in result
    assert "unrelated" not in result


def test_helpers_used_by_kept_code_and_callers_of_anchored_code_are_kept():
    result = kept(
        """
        def double(x):
            return x * 2

        def grad(w):
            with tf.GradientTape() as tape:
                y = double(w)
            return tape.gradient(y, w)

        def caller():
            return grad(tf.Variable(1.0))

        def other_user_of_double():
            return double(3)
        """
    )
    assert "def double" in result and "def grad" in result and "def caller" in result
    # `double` is needed by kept code, but carries nothing of TensorFlow to its other callers.
    assert "other_user_of_double" not in result


def test_module_values_from_anchored_code_reach_their_users():
    result = kept(
        """
        tape = tf.GradientTape(persistent=True)

        def use():
            return tape.gradient(1, 2)

        def unrelated():
            return 1
        """
    )
    assert "def use" in result and "unrelated" not in result


def test_code_using_a_class_whose_method_is_anchored_is_kept():
    # The instance carries what the method makes: `Net()(x) @ w` needs the model's output shape.
    result = kept(
        """
        class Net:
            def call(self, x):
                return tf.GradientTape()

        def main():
            return Net().call(1) @ np.ones((2, 2))

        def unrelated():
            return 1
        """
    )
    assert "def main" in result and "def call" in result and "def unrelated" not in result


def test_a_loss_compiled_by_name_anchors_its_unit():
    result = kept(
        """
        def train(model):
            model.compile(optimizer="adam", loss="binary_crossentropy")

        def unrelated():
            return 1
        """,
        anchors=("binary_crossentropy",),
    )
    assert "def train" in result and "def unrelated" not in result


def test_methods_connected_through_self_attributes_are_kept():
    result = kept(
        """
        class Trainer:
            def __init__(self):
                self.tape = tf.GradientTape()
                self.steps = 0

            def step(self):
                return self.tape.gradient(1, 2)

            def log(self):
                print("log")

            def helper_used_by_step_caller(self):
                return self.step()
        """
    )
    assert "def __init__" in result and "def step" in result
    assert "def helper_used_by_step_caller" in result  # uses a method of kept code: evidence flows
    assert "def log" not in result
    assert "class Trainer:" in result


def test_a_class_is_kept_whole_when_used_by_name_or_anchored_in_its_header():
    result = kept(
        """
        class Model(tf.keras.Model):
            def call(self, x):
                return x

        class Plain:
            def method(self):
                return 1

        def run():
            with tf.GradientTape() as tape:
                return Plain().method()
        """,
        anchors=("GradientTape", "Model"),
    )
    assert "def call" in result and "class Plain" in result and "def method" in result


def test_a_file_without_anchors_keeps_everything():
    source = "import tensorflow as tf\ndef f():\n    return tf.zeros(3)\n"
    found = focus(source, ("GradientTape",))
    assert found.text == source and found.kept_share == 1.0 and "zeros" in found.leaves


def test_line_endings_and_columns_survive_the_slice():
    source = "import tensorflow as tf\r\ndef a():\r\n    return 1\r\ndef b():\r\n    return tf.GradientTape()\r\n"
    found = focus(source, ("GradientTape",))
    assert found.text == "import tensorflow as tf\r\n\r\n\r\ndef b():\r\n    return tf.GradientTape()\r\n"


# --- the engine with and without the slice -------------------------------------------------------------------
ANCHORED = [rule for rule in all_rules() if rule.anchors]


# Code no rule needs, as real modules have plenty of: appended to every case, the slice has it to blank.
UNRELATED = """

def unrelated_helper(values):
    return sorted(values)


class Unrelated:
    def method(self):
        return unrelated_helper([2, 1])
"""


def _cases():
    """Every fixture program and rule example: its source, a test id, and the code of the rule it is about."""
    for case in load_cases():
        for which in ("before", "after", "valid"):
            path = case.program(which)
            if path.exists():
                yield path.read_text(encoding="utf-8"), f"{case.id}/{which}", case.code
    for rule in all_rules():
        for i, example in enumerate(rule.INVALID):
            yield example.code, f"{rule.code}-invalid-{i}", rule.code
        for i, example in enumerate(rule.VALID):
            yield example.code, f"{rule.code}-valid-{i}", rule.code


def _padded(source):
    return source.rstrip("\n") + "\n" + UNRELATED


def _sources():
    for source, name, code in _cases():
        yield pytest.param(source, code, id=name)
        yield pytest.param(_padded(source), code, id=name + "+unrelated")


ALL_ANCHORS = frozenset().union(*(rule.anchors for rule in ANCHORED))
# The rule a case is about alone (its own anchors slice much more than all of them together), and every rule.
SELECTIONS = {rule.code: (rule,) for rule in ANCHORED} | {"all": all_rules()}
ALWAYS_SLICE = {code: Engine(rules=rules, max_kept_share=1.0) for code, rules in SELECTIONS.items()}  # slice what can be
NEVER_SLICE = Engine(rules=all_rules(), max_kept_share=0.0)  # also the rules selected only by name


def _slice(source, selection):
    """The slice of `source` for the selection's anchors, when it leaves something to blank."""
    found = focus(source, frozenset().union(*(rule.anchors for rule in SELECTIONS[selection])))
    return found if found is not None and found.text != source else None


@pytest.mark.parametrize(("source", "code"), list(_sources()))
def test_the_slice_finds_something_wherever_the_whole_file_does(source, code):
    whole = NEVER_SLICE.check(source, "case.py")
    for selection in {code, "all"} & SELECTIONS.keys():
        found = _slice(source, selection)
        if found is None:
            continue
        if any(selection in ("all", finding.code) for finding in whole.findings):
            # Soundness: the engine only looks at the whole file when the slice shows something.
            engine = ALWAYS_SLICE[selection]
            assert engine._analyse_text(found.text, "case.py", engine.rules).reports, selection
    if _slice(source, "all") is not None:
        assert ALWAYS_SLICE["all"].check(source, "case.py") == whole
    if code in ALWAYS_SLICE:  # the rule alone, its slice seeded by its candidates (`Rule.candidates`) if it has any
        alone = ALWAYS_SLICE[code].check(source, "case.py").findings
        assert _keys(alone) == _keys(f for f in whole.findings if f.code == code)


def _keys(findings):
    return [(f.code, f.start, f.end, f.message) for f in findings]


def test_a_rule_with_candidates_seeds_the_slice_with_their_units_only():
    # TFX303 is anchored on names most TensorFlow code uses (`tf.cast`); its precondition knows the only operator
    # that can raise: the slice keeps that function and what it uses, not every function that casts
    source = HEADER + textwrap.dedent('''
        def scaled():
            images = tf.zeros((2, 2), dtype=tf.uint8)
            return images / 255.0
    ''') + "".join(
        f"\n\ndef cast_{i}(x):\n    return tf.cast(x, tf.float32) * 2.0\n" for i in range(12)
    )
    rule = next(r for r in all_rules() if r.code == "TFX303")
    engine = Engine(rules=[rule])
    focused = focus_rules(engine.rules, source, engine.max_kept_share)
    assert focused.slice is not None
    kept = [line for line in focused.slice.split("\n") if line.strip()]
    assert "def scaled():" in kept and not any("def cast_" in line for line in kept)
    assert _keys(engine.check(source, "case.py").findings) == _keys(
        Engine(rules=[rule], max_kept_share=0.0).check(source, "case.py").findings
    )
    reported = [f.start.line for f in engine.check(source, "case.py").findings]
    assert reported == [source.split("\n").index("    return images / 255.0") + 1]


@pytest.mark.parametrize("rule", ANCHORED, ids=lambda rule: rule.code)
def test_every_anchored_rule_has_a_reporting_case_the_slice_cuts(rule):
    """The cases above must exercise the slice: an invalid example of each rule, beside code it does not need,
    is cut by the slice, and the rule still reports on it."""
    assert any(
        _slice(_padded(example.code), rule.code) is not None
        and Engine(rules=[rule], max_kept_share=0.0).check(_padded(example.code), "case.py").findings
        for example in rule.INVALID
    )
