"""One analysis per check: per-file facts belong to the check that made them, never to a module global.

The LSP server, an embedding tool or a thread pool may check several files at once, so nothing a rule or helper
learns about one file may be kept where the next check can see it.
"""

from __future__ import annotations

import gc
import sys
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import libcst as cst
import pytest

from tffix.analysis import FileAnalysis
from tffix.engine import Engine
from tffix.transforms._graph import GraphFacts, ModuleIndex, calls_of

FIXTURES = Path(__file__).parent / "fixtures"


def _programs() -> list[tuple[str, str]]:
    return [
        (str(path), path.read_text(encoding="utf-8"))
        for path in sorted(FIXTURES.glob("TFX*/*/*.py"))
        if path.name in ("before.py", "valid.py")
    ]


def _summary(engine: Engine, path: str, source: str) -> tuple:
    result = engine.check(source, path)
    return (
        tuple((f.code, f.start.line, f.start.column, f.message) for f in result.findings),
        tuple(p.message for p in result.problems),
    )


def test_a_check_keeps_nothing_of_its_file_once_it_returns():
    """Every per-file fact dies with its check: nothing module-level holds the tree (the old "latest module"
    caches of the graph and shape helpers did)."""
    engine = Engine()
    source = (FIXTURES / "TFX501" / "siamese_reuse_variables" / "before.py").read_text(encoding="utf-8")
    analysis = engine._analyse(source, "x.py")
    assert analysis.reports, "the program must exercise the graph helpers"
    module = analysis.module  # LibCST nodes take no weak references: look for whoever else holds it
    del analysis
    gc.collect()
    holders = [type(r).__name__ for r in gc.get_referrers(module) if not isinstance(r, types.FrameType)]
    assert holders == []


def test_concurrent_checks_give_what_one_thread_gives():
    engine = Engine()
    cases = _programs()
    expected = {path: _summary(engine, path, source) for path, source in cases}
    assert sum(bool(findings) for findings, _ in expected.values()) > 30

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads as often as the interpreter allows: widen any race
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda case: (case[0], _summary(engine, *case)), cases * 2))
    finally:
        sys.setswitchinterval(previous)
    wrong = sorted({path for path, got in results if got != expected[path]})
    assert not wrong, f"{len(wrong)} files checked differently from several threads: {wrong[:5]}"


# --- the helpers, asked of an analysis directly ---------------------------------------------------------------
TF1_PROGRAM = """\
import tensorflow.compat.v1 as tf
tf.disable_v2_behavior()

def layer(x):
    with tf.variable_scope("dense"):
        w = tf.get_variable("w", [3, 3])
    return tf.matmul(x, w)

with tf.device("/gpu:0"):
    y = layer(tf.zeros((2, 3)))
    z = self.layer(y)
sess = tf.Session()
"""


def test_module_index_and_graph_facts_are_made_once_per_analysis():
    analysis = FileAnalysis.of(TF1_PROGRAM)
    index = ModuleIndex.of(analysis)
    assert ModuleIndex.of(analysis) is index
    function = index.functions[0]
    assert [cst.Module([]).code_for_node(c.func) for c in calls_of(analysis, function)] == ["layer", "self.layer"]

    facts = GraphFacts.of(analysis, analysis.module)
    assert GraphFacts.of(analysis, analysis.module) is facts
    assert len(facts.graph_switches) == 1 and len(facts.sessions) == 1 and len(facts.pins) == 1
    # Another analysis of the same text is another check: its own facts.
    assert GraphFacts.of(FileAnalysis.of(TF1_PROGRAM), analysis.module) is not facts


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("import tensorflow as tf\nx = tf.keras.layers.Dense\n", {"keras.layers.Dense"}),
        ("from tensorflow import keras\nx = keras.layers.Dense\n", {"keras.layers.Dense"}),
        ("import tensorflow.compat.v1 as tf\nx = tf.Session\n", {"tf.Session"}),
        ("import numpy as tf\nx = tf.zeros\n", set()),
    ],
)
def test_analysis_resolves_names_through_imports(source, names):
    analysis = FileAnalysis.of(source)
    value = analysis.module.body[-1].body[0].value
    assert set(analysis.api_names(value)) == names
