"""Jupyter notebooks: code cells checked and fixed as one module, IPython lines kept, the rest byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tffix.config import Settings
from tffix.notebook import NotebookError, read_notebook, translate
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


IMPORTS = ["import tensorflow as tf\n", "%matplotlib inline\n", "!pip install -q tensorflow"]
STEP = [
    "with tf.GradientTape() as tape:\n",
    "    %time y = model(x)\n",
    "    y = tf.cast(tf.cast(y, tf.int32), tf.float32)\n",
    "    tf.cast?\n",
    "files = !ls\n",
    "print('ok é')",
]
FIXED_LINE = "    y = y\n"
BASH = ["%%bash\n", "echo tf.cast(tf.cast(x, tf.int32), tf.float32)\n", "ls"]
CLEAN = ["y = tf.cast(x, tf.float32)"]


def fix(tmp_path, text: str, mode: Mode = Mode.FIX):
    path = tmp_path / "train.ipynb"
    path.write_bytes(text.encode("utf-8"))
    report = run([path], TFX304, mode)
    return report, path.read_bytes().decode("utf-8")


def test_findings_name_the_cell_and_the_line_within_it(tmp_path):
    report, _ = fix(tmp_path, notebook(IMPORTS, STEP, BASH), Mode.CHECK)
    (finding,) = report.findings
    assert (finding.cell, finding.start.line, finding.start.column) == (3, 3, 8)  # cell 1 is markdown
    assert finding_line(finding).endswith("train.ipynb[cell 3]:3:9: TFX304 " + finding.message)


@pytest.mark.parametrize("indent", [1, 2])
@pytest.mark.parametrize("ensure_ascii", [False, True])
def test_a_fix_changes_only_that_cell_source_line_and_keeps_magics(tmp_path, indent, ensure_ascii):
    original = notebook(IMPORTS, STEP, BASH, CLEAN, indent=indent, ensure_ascii=ensure_ascii)
    report, after = fix(tmp_path, original)
    assert len(report.fixed) == 1 and not report.all_problems
    old_lines, new_lines = original.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(old_lines) == len(new_lines)
    ((old, new),) = [(a, b) for a, b in zip(old_lines, new_lines) if a != b]
    assert json.loads(old.strip().rstrip(",")) == STEP[2] and json.loads(new.strip().rstrip(",")) == FIXED_LINE
    assert old.replace(json.dumps(STEP[2]), "") == new.replace(json.dumps(FIXED_LINE), "")  # indent, comma
    cells = json.loads(after)["cells"]
    assert cells[2]["source"] == [*STEP[:2], FIXED_LINE, *STEP[3:]]  # %time, tf.cast?, files = !ls kept
    assert cells[1]["source"] == IMPORTS and cells[3]["source"] == BASH


def test_nothing_to_fix_leaves_the_notebook_byte_identical(tmp_path):
    original = notebook(IMPORTS, CLEAN, BASH, indent=2, ensure_ascii=True).replace("\n", "\r\n")
    for mode in (Mode.CHECK, Mode.DIFF, Mode.FIX):
        report, after = fix(tmp_path, original, mode)
        assert after == original and not report.all_problems and not report.fixed


def test_a_string_source_a_new_line_and_no_trailing_newline_keep_their_form(tmp_path):
    cell = "import tensorflow as tf\nwith tf.GradientTape() as tape:\n    y = tf.cast(tf.cast(x, tf.int32), tf.float32)"
    original = notebook(cell).rstrip("\n")
    report, after = fix(tmp_path, original)
    assert json.loads(after)["cells"][1]["source"] == cell.replace("tf.cast(tf.cast(x, tf.int32), tf.float32)", "x")
    assert not after.endswith("\n") and len(report.fixed) == 1


def test_the_diff_of_a_notebook_is_a_diff_of_its_json(tmp_path):
    original = notebook(IMPORTS, STEP)
    report, after = fix(tmp_path, original, Mode.DIFF)
    assert after == original
    (outcome,) = report.outcomes
    diff = outcome.diff.decode()
    (line,) = [line for line in original.splitlines(keepends=True) if "tf.cast(tf.cast(" in line]
    assert diff.startswith("--- a/")
    assert f"\n-{line}+{line.replace('tf.cast(tf.cast(y, tf.int32), tf.float32)', 'y')}" in diff


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"cells": [', "invalid JSON"),
        ('{"worksheets": [{"cells": 3}]}', "nbformat 3 or 4"),
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
