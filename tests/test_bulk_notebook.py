"""Jupyter notebooks: code cells checked and fixed as one module, IPython lines kept, the rest byte for byte."""

from __future__ import annotations

import json

import pytest

from tffix.config import Settings
from tffix.engine import Engine
from tffix.notebook import read_notebook
from tffix.notebook_ipython import translate
from tffix.notebook_json import NotebookError
from tffix.reporting import finding_line
from tffix.runner import Mode, run

TFX304 = Settings(select=("TFX304",))


def notebook(*cells: list[str] | str, indent: int = 1, ensure_ascii: bool = False, language: str = "python") -> str:
    document = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Training é ✓\n", "notes"]},
            *(
                {"cell_type": "code", "execution_count": n, "metadata": {"tags": ["x"]},
                 "outputs": [{"name": "stdout", "output_type": "stream", "text": ["loss 0.5\n"]}], "source": cell}
                for n, cell in enumerate(cells, 1)
            ),
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": language, "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(document, indent=indent, ensure_ascii=ensure_ascii) + "\n"


IMPORTS = ["import tensorflow as tf\n", "%matplotlib inline\n", "!pip install -q tensorflow\n",
           "model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(2)])\n", "x = tf.ones((1, 2))"]
ROUND_TRIP = "    y = tf.cast(tf.cast(y, tf.int32), tf.float32)\n"
STEP = [
    "with tf.GradientTape() as tape:\n",
    "    y = model(x)\n",
    "    %time z = model(x)\n",
    ROUND_TRIP,
    "    tf.cast?\n",
    "    loss = tf.reduce_mean(y)\n",
    "grads = tape.gradient(loss, model.trainable_variables)\n",
    "files = !ls\n",
    "print('ok é')",
]


def _rule_rewrite(line: str) -> str:
    """What TFX304's own fix makes of `line` in the same program as plain Python (the rule's rewrite,
    whichever it is: these tests are about where it goes in the notebook)."""
    program = "".join([IMPORTS[0], *IMPORTS[3:], "\n", STEP[0], STEP[1], line, STEP[5], STEP[6]])
    fixed = Engine(TFX304).fix(program, "x.py", unsafe=True).fixed_source
    assert fixed != program
    return fixed.splitlines(keepends=True)[5]


FIXED_LINE = _rule_rewrite(ROUND_TRIP)
BASH = ["%%bash\n", "echo tf.cast(tf.cast(x, tf.int32), tf.float32)\n", "ls"]
CLEAN = ["y = tf.cast(x, tf.float32)"]


def fix(tmp_path, text: str, mode: Mode = Mode.FIX):
    path = tmp_path / "train.ipynb"
    path.write_bytes(text.encode("utf-8"))
    report = run([path], TFX304, mode, unsafe=True)
    return report, path.read_bytes().decode("utf-8")


def test_findings_name_the_cell_and_the_line_within_it(tmp_path):
    report, _ = fix(tmp_path, notebook(IMPORTS, STEP, BASH), Mode.CHECK)
    (finding,) = report.findings
    assert (finding.cell, finding.start.line, finding.start.column) == (3, 4, 8)  # cell 1 is markdown
    assert finding_line(finding).endswith("train.ipynb[cell 3]:4:9: TFX304 " + finding.message)


@pytest.mark.parametrize("indent", [1, 2])
@pytest.mark.parametrize("ensure_ascii", [False, True])
def test_a_fix_changes_only_that_cell_source_line_and_keeps_magics(tmp_path, indent, ensure_ascii):
    original = notebook(IMPORTS, STEP, BASH, CLEAN, indent=indent, ensure_ascii=ensure_ascii)
    report, after = fix(tmp_path, original)
    assert len(report.fixed) == 1 and not report.all_problems
    old_lines, new_lines = original.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(old_lines) == len(new_lines)
    ((old, new),) = [(a, b) for a, b in zip(old_lines, new_lines) if a != b]
    assert json.loads(old.strip().rstrip(",")) == ROUND_TRIP and json.loads(new.strip().rstrip(",")) == FIXED_LINE
    assert old.replace(json.dumps(ROUND_TRIP), "") == new.replace(json.dumps(FIXED_LINE), "")  # indent, comma
    cells = json.loads(after)["cells"]
    assert cells[2]["source"] == [*STEP[:3], FIXED_LINE, *STEP[4:]]  # %time, tf.cast?, files = !ls kept
    assert cells[1]["source"] == IMPORTS and cells[3]["source"] == BASH


def test_nothing_to_fix_leaves_the_notebook_byte_identical(tmp_path):
    original = notebook(IMPORTS, CLEAN, BASH, indent=2, ensure_ascii=True).replace("\n", "\r\n")
    for mode in (Mode.CHECK, Mode.DIFF, Mode.FIX):
        report, after = fix(tmp_path, original, mode)
        assert after == original and not report.all_problems and not report.fixed


def test_a_string_source_a_new_line_and_no_trailing_newline_keep_their_form(tmp_path):
    cell = "".join([IMPORTS[0], *IMPORTS[3:], "\n", STEP[0], STEP[1], ROUND_TRIP, STEP[5], STEP[6]]).rstrip("\n")
    original = notebook(cell).rstrip("\n")
    report, after = fix(tmp_path, original)
    assert json.loads(after)["cells"][1]["source"] == cell.replace(ROUND_TRIP, FIXED_LINE)
    assert not after.endswith("\n") and len(report.fixed) == 1


def test_the_diff_of_a_notebook_is_a_diff_of_its_json(tmp_path):
    original = notebook(IMPORTS, STEP)
    report, after = fix(tmp_path, original, Mode.DIFF)
    assert after == original
    (outcome,) = report.outcomes
    diff = outcome.diff.decode()
    (line,) = [line for line in original.splitlines(keepends=True) if "tf.cast(tf.cast(" in line]
    assert diff.startswith("--- a/")
    assert f"\n-{line}+{line.replace(json.dumps(ROUND_TRIP)[1:-1], json.dumps(FIXED_LINE)[1:-1])}" in diff


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"cells": [', "invalid JSON"),
        ('{"nbformat": 3, "worksheets": [{"cells": 3}]}', "nbformat 3 or 4"),
        ('{"cells": {}}', "nbformat 3 or 4"),
        (notebook(["x <- 1"], language="R"), "r notebook"),
    ],
)
def test_notebooks_that_cannot_be_read_are_reported_and_untouched(tmp_path, text, message):
    report, after = fix(tmp_path, text)
    (problem,) = report.all_problems
    assert message in problem.message and problem.path.endswith("train.ipynb")
    assert after == text


def test_masking_keeps_lines_and_only_masks_statement_starts():
    source = "x = (a\n     % 2)\n%time f()\nif x:\n    !ls\ns = '''\n%d\n'''\nobj?"
    translation = translate(source)
    assert translation.text.count("\n") == source.count("\n") + 1  # the last line gets its newline
    assert translation.masked == {2, 4, 8}
    lines = translation.text.splitlines()
    assert lines[1] == "     % 2)" and lines[6] == "%d" and lines[4].startswith("    pass  # tffix: masked")


def test_a_fix_that_would_move_a_cell_boundary_is_refused():
    nb = read_notebook(notebook(IMPORTS, STEP).encode())
    with pytest.raises(NotebookError):
        nb.with_python(nb.python.replace("# tffix: notebook cell boundary\n", "", 1))


@pytest.mark.parametrize("text", ['{"metadata": {}, "nbformat": 3, "nbformat_minor": 0}',
                                  '{"nbformat": 3, "worksheets": [{"metadata": {}}]}', '{"worksheets": []}',
                                  '{"nbformat": 2, "worksheets": [{"cells": []}]}'])
def test_an_nbformat_3_notebook_without_worksheets_or_cells_is_an_empty_notebook(tmp_path, text):
    report, after = fix(tmp_path, text)
    assert after == text and not report.all_problems and not report.findings
