"""The editor's part-by-part analysis (`tffix.parts`, `Engine.check(memo=...)`): the same results as the whole
file, and an edit re-analyses only the parts whose code it changed."""

from __future__ import annotations

import textwrap

import pytest

from test_gates import EVERY_RULE, _programs
from tffix.config import Settings
from tffix.engine import Engine
from tffix.model import Position, TextEdit
from tffix.parts import FileLines, PartMap, PartsMemo
from tffix.registry import all_rules
from tffix.slicing import Part, focus


def _results(engine: Engine, path: str, source: str, memo: PartsMemo | None = None) -> list[tuple]:
    result = engine.check(source, path, memo=memo)
    return [
        (f.code, f.start, f.end, f.message, f.severity, f.fix and (f.fix.title, f.fix.applicability, f.fix.edits))
        for f in result.findings
    ] + [str(p) for p in result.problems]


def _local_rules() -> list:
    return [rule for rule in all_rules() if rule.local]


def test_parts_give_the_whole_files_results_on_every_fixture_and_example():
    engine = Engine(Settings(select=EVERY_RULE))
    programs = _programs()
    differ = [
        path for path, source in programs
        if _results(engine, path, source) != _results(engine, path, source, PartsMemo())
    ]
    assert not differ, differ[:5]
    # and the parts did the local rules' work on many of them: their findings came from a memo's analyses
    memos = [(PartsMemo(), source, path) for path, source in programs]
    for memo, source, path in memos:
        engine.check(source, path, memo=memo)
    assert sum(len(memo) > 0 for memo, _, _ in memos) > 50


def test_local_rules_are_the_ones_whose_evidence_is_connected_by_name():
    local = {rule.code for rule in _local_rules()}
    assert {"TFX301", "TFX302", "TFX304", "TFX401", "TFX403"} <= local
    # module-wide by nature: soft placement, the variable store, TPU set-up anywhere, NumPy promotion switches,
    # a Keras 2 pin anywhere in the text; and messages that cite the lines of other code
    assert local.isdisjoint({"TFX101", "TFX102", "TFX103", "TFX201", "TFX203", "TFX303", "TFX501", "TFX502", "TFX606"})
    assert all(rule.anchors for rule in _local_rules())


SCRIPT = textwrap.dedent('''\
    """A script of independent training functions."""
    import numpy as np
    import tensorflow as tf
    from tensorflow import keras

    BATCH = 8


    def classifier():
        inputs = keras.Input(shape=(20,))
        outputs = keras.layers.Dense(2, activation="sigmoid")(inputs)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(np.zeros((64, 20)), np.zeros((64, 1)), epochs=1)


    # a comment between functions
    def gan_step(generator, discriminator, z):
        with tf.GradientTape() as tape:
            fake = tf.cast(generator(z) * 255.0, tf.int32)
            score = discriminator(tf.cast(fake, tf.float32))
            loss = tf.reduce_mean(score)
        return tape.gradient(loss, generator.trainable_variables)


    def unrelated():
        return BATCH * 2
''')


class _Counting(Engine):
    """An engine that counts the texts it analyses with LibCST."""

    def __init__(self) -> None:
        super().__init__(Settings(select=EVERY_RULE))
        self.analysed: list[str] = []

    def _analyse_text(self, source, path, active):  # type: ignore[override]
        self.analysed.append(source)
        return super()._analyse_text(source, path, active)


def test_an_edit_reanalyses_only_the_parts_it_changed():
    engine, memo = _Counting(), PartsMemo()
    first = _results(engine, "s.py", SCRIPT, memo)
    assert {r[0] for r in first} == {"TFX301", "TFX304"}
    assert len(engine.analysed) == 2  # one part per anchored function; `unrelated` is in none
    assert all("def unrelated" not in text for text in engine.analysed)

    # a comment line at the top and between functions: every part's text is the same, nothing is analysed
    engine.analysed.clear()
    commented = "# edited\n" + SCRIPT.replace("# a comment between", "# another\n# a comment between")
    assert _results(engine, "s.py", commented, memo) == _results(Engine(Settings(select=EVERY_RULE)), "s.py", commented)
    assert engine.analysed == []
    assert [r[1].line for r in _results(engine, "s.py", commented, memo)] == [r[1].line + 1 for r in first[:1]] + [
        r[1].line + 2 for r in first[1:]
    ]

    # a statement inside `classifier`: its part alone is analysed again
    engine.analysed.clear()
    edited = SCRIPT.replace("    model = keras.Model", "    width = 3\n    model = keras.Model")
    assert _results(engine, "s.py", edited, memo) == _results(Engine(Settings(select=EVERY_RULE)), "s.py", edited)
    assert len(engine.analysed) == 1 and "width = 3" in engine.analysed[0]


def test_a_variable_changed_in_one_function_and_used_in_another_connects_them():
    # `configure` compiles the module's model with a binary loss (the anchor), `train` fits it on (N, 1) targets:
    # the finding is at the fit, in a function without an anchor. Both the parts and the slice must hold `train`.
    source = textwrap.dedent('''\
        import numpy as np
        from tensorflow import keras

        inputs = keras.Input(shape=(20,))
        outputs = keras.layers.Dense(2, activation="sigmoid")(inputs)
        model = keras.Model(inputs, outputs)


        def configure():
            model.compile(optimizer="adam", loss="binary_crossentropy")


        def train():
            model.fit(np.zeros((64, 20), dtype="float32"), np.zeros((64, 1), dtype="float32"), epochs=1)


        def helper():
            return 1
    ''')
    rules = [rule for rule in all_rules() if rule.code == "TFX301"]
    whole = _results(Engine(rules=rules, max_kept_share=0.0), "m.py", source)
    assert [(r[0], r[1].line) for r in whole] == [("TFX301", 14)]
    assert _results(Engine(rules=rules, max_kept_share=1.0), "m.py", source) == whole  # the slice first
    assert _results(Engine(rules=rules), "m.py", source, PartsMemo()) == whole
    found = focus(source, ("binary_crossentropy",))
    assert found is not None
    assert ["def helper" in part.text for part in found.parts()] == [False]


def test_a_part_that_does_not_parse_leaves_the_file_to_the_whole_analysis():
    # the method with the anchor is kept, the class's other method is not: a class whose only kept method is
    # the anchored one parses; one whose kept lines hold no method at all would not, and is analysed whole
    source = textwrap.dedent('''\
        import tensorflow as tf


        class Trainer:
            def step(self, w, x):
                with tf.GradientTape() as tape:
                    y = tf.cast(tf.cast(w * x, tf.int32), tf.float32)
                return tape.gradient(y, w)

            def other(self):
                return 1
    ''')
    engine = Engine(Settings(select=EVERY_RULE))
    assert _results(engine, "t.py", source, PartsMemo()) == _results(engine, "t.py", source)


def test_a_memo_keeps_only_the_analyses_of_one_engine():
    memo, first, second = PartsMemo(), Engine(Settings(select=EVERY_RULE)), Engine(Settings(select=EVERY_RULE))
    first.check(SCRIPT, "s.py", memo=memo)
    assert len(memo) == 2
    memo.bind(second)
    assert len(memo) == 0


def test_a_memo_forgets_the_oldest_analyses_beyond_its_capacity():
    memo = PartsMemo(capacity=2)
    for key in "abc":
        memo.put(key, key)
    assert memo.get("a") is None and memo.get("b") == "b" and memo.get("c") == "c"


# --- mapping a part's positions and edits to the file ------------------------------------------------------------
FILE = "import a\n\n# note\ndef f():\n    x = 1\n\n\ndef g():\n    y = 2\n"
PART = Part("import a\ndef g():\n    y = 2\n", (1, 8, 9))


def _map() -> PartMap:
    assert "".join(FILE.splitlines(keepends=True)[n - 1] for n in PART.lines) == PART.text
    return PartMap(PART, FileLines(FILE))


def test_positions_and_edits_inside_a_line_map_to_the_same_code_in_the_file():
    mapping = _map()
    assert mapping.position(Position(3, 4)) == Position(9, 4)
    y = PART.text.index("y = 2")
    edit = mapping.edit(TextEdit(y, y + 1, "z"))
    assert edit is not None and FILE[edit.start:edit.end] == "y" and edit.text == "z"
    # across the lines of one unit, which are consecutive in the file
    start = PART.text.index("def g")
    edit = mapping.edit(TextEdit(start, len(PART.text) - 1, "pass"))
    assert edit is not None and FILE[edit.start:edit.end] == "def g():\n    y = 2"


def test_an_edit_with_no_single_place_in_the_file_is_not_mapped():
    mapping = _map()
    after_import = PART.text.index("def g")  # the end of `import a` or the start of `def g`: 6 lines apart
    assert mapping.edit(TextEdit(after_import, after_import, "import b\n")) is None
    assert mapping.edit(TextEdit(0, PART.text.index("y"), "")) is None  # spans lines the part leaves out
    # the end of a part whose last line is the file's: the file's end
    end = mapping.edit(TextEdit(len(PART.text), len(PART.text), "# end\n"))
    assert end is not None and end.start == len(FILE)


@pytest.mark.parametrize("rule", [r for r in all_rules() if r.local], ids=lambda r: r.code)
def test_each_local_rules_fixes_map_to_the_whole_files_edits(rule):
    engine = Engine(rules=[rule])
    examples = [example.code for example in rule.INVALID]
    for source in examples:
        whole = engine.check(source, "x.py")
        parts = engine.check(source, "x.py", memo=PartsMemo())
        assert [f.fix.edits if f.fix else None for f in parts.findings] == [
            f.fix.edits if f.fix else None for f in whole.findings
        ]
