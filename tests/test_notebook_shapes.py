"""Real-shaped notebooks (tests/notebooks/), one for each form IPython accepts that is not Python, each judged
cell by cell against IPython's own translation: no false parse error, the finding in another cell still
reported, the fix made in the right cell only and every other byte of the notebook kept."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from tffix.config import Settings
from tffix.model import ProblemKind
from tffix.notebook import read_notebook
from tffix.reporting import finding_line, github_lines, json_document
from tffix.runner import Mode, run
from tffix.sarif import sarif_document

NOTEBOOKS = Path(__file__).parent / "notebooks"
_spec = importlib.util.spec_from_file_location("notebook_corpus", Path(__file__).parent.parent / "bench" / "notebook_corpus.py")
corpus = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(corpus)  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def shell():
    import IPython  # noqa: F401 - the test extra pins it: missing, these tests fail rather than skip

    return corpus.ipython_shell()


# name: (cells that cannot run, findings as (code, cell, line, the source text at the position), cells fixed)
EXPECTED = {
    "t2t_translate_colab.ipynb": (set(), {("TFX202", 8, 1, "os.environ[")}, {8}),
    "tpu_colab_indented.ipynb": (set(), {("TFX402", 4, 6, "tape.gradient("), ("TFX202", 5, 1, "os.environ[")}, {4, 5}),
    "cell_magics.ipynb": (set(), {("TFX304", 9, 4, "tf.cast(tf.cast(")}, {9}),
    "automagic_help.ipynb": (set(), {("TFX304", 10, 3, "tf.cast(tf.cast(")}, {10}),
    "python2_guide.ipynb": ({3}, {("TFX402", 7, 6, "tape.gradient(")}, {7}),
    "guide_demonstrates_failure.ipynb": (set(), {("TFX402", 5, 6, "tape.gradient(")}, {5}),
    "unmappable_fix.ipynb": (set(), {("TFX202", 2, 1, "os.environ["), ("TFX402", 3, 6, "tape.gradient(")}, {3}),
    "nbformat3_gan.ipynb": (set(), {("TFX304", 3, 3, "tf.cast(tf.cast(")}, {3}),
}
NAMES = sorted(EXPECTED)


def test_every_form_of_the_issue_is_among_the_test_notebooks():
    sources = "\n".join(
        source for name in NAMES for _, source in corpus.code_cells(json.loads((NOTEBOOKS / name).read_text()))
    )
    for form in ("!t2t-trainer \\\n", "%%javascript", "%%bash", "%%html", "%%writefile", "%%sh", "%%latex",
                 "%%markdown", "%%capture", "%%time", "%%timeit", "pip install", "cd /content", "ls -la",
                 "tf.cast?", "tf.GradientTape??", "?tf.one_hot", "files = !ls", "lr = %env", "\n  BATCH_SIZE",
                 "print \"loss\"", "# tffix: ignore[TFX402]"):
        assert form in sources, form
    assert json.loads((NOTEBOOKS / "nbformat3_gan.ipynb").read_text())["nbformat"] == 3


def _cells(name: str) -> list[tuple[int, str]]:
    return corpus.code_cells(json.loads((NOTEBOOKS / name).read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", NAMES)
def test_each_cell_is_judged_as_ipython_judges_it(shell, name):
    notebook = read_notebook((NOTEBOOKS / name).read_bytes())
    ours = {cell.number: cell.problem is None for cell in notebook.cells}
    theirs = {number: corpus.ipython_can_run(source, shell) for number, source in _cells(name)}
    assert ours == theirs
    assert {n for n, runs in theirs.items() if not runs} == EXPECTED[name][0]


@pytest.mark.parametrize("name", NAMES)
def test_no_false_parse_error_and_the_findings_in_the_other_cells(name):
    report = run([NOTEBOOKS / name], Settings(), Mode.CHECK)
    bad, expected, _ = EXPECTED[name]
    syntax = [p for p in report.all_problems if p.kind is ProblemKind.SYNTAX]
    assert sorted(p.cell for p in syntax) == sorted(bad)  # once each
    sources = dict(_cells(name))
    found = set()
    for f in report.findings:
        line = sources[f.cell].splitlines()[f.start.line - 1]
        found.add((f.code, f.cell, f.start.line, next(t for *_, t in expected if line[f.start.column:].startswith(t))))
    assert found == expected


def _outside_sources(text: str) -> tuple[list[str], dict[int, str]]:
    """The notebook's JSON text outside the code cells' source values, and each code cell's source text."""
    notebook = read_notebook(text.encode("utf-8"))
    outside, sources, at = [], {}, 0
    for cell in notebook.cells:
        start, end = cell.span
        outside.append(text[at:start])
        sources[cell.number] = text[start:end]
        at = end
    outside.append(text[at:])
    return outside, sources


@pytest.mark.parametrize("name", NAMES)
def test_the_fix_goes_into_its_cell_only_and_ipython_still_runs_it(tmp_path, shell, name):
    path = tmp_path / name
    shutil.copy(NOTEBOOKS / name, path)
    before = path.read_text(encoding="utf-8")
    report = run([path], Settings(), Mode.FIX, unsafe=True)
    after = path.read_text(encoding="utf-8")
    _, expected, fixed_cells = EXPECTED[name]
    assert {f.cell for f in report.fixed} == fixed_cells
    outside_before, sources_before = _outside_sources(before)
    outside_after, sources_after = _outside_sources(after)
    assert outside_after == outside_before  # outputs, metadata, layout: byte for byte
    assert {n for n in sources_before if sources_before[n] != sources_after[n]} == fixed_cells
    new_cells = dict(corpus.code_cells(json.loads(after)))
    for number in fixed_cells:
        assert corpus.ipython_can_run(new_cells[number], shell)
    remaining = run([path], Settings(), Mode.CHECK).findings
    assert {(f.code, f.cell) for f in remaining} == {(c, n) for c, n, *_ in expected if n not in fixed_cells}


def test_a_fix_in_an_indented_cell_keeps_the_cell_indentation(tmp_path):
    path = tmp_path / "nb.ipynb"
    shutil.copy(NOTEBOOKS / "tpu_colab_indented.ipynb", path)
    run([path], Settings(select=("TFX402",)), Mode.FIX)
    cell = dict(corpus.code_cells(json.loads(path.read_text())))[4]
    assert "    with tf.GradientTape() as tape:\n        tape.watch(image)\n        score = model(image)[:, 0]\n" in cell


def test_a_fix_that_cannot_be_made_within_its_cell_is_dropped_with_a_message(tmp_path):
    path = tmp_path / "nb.ipynb"
    shutil.copy(NOTEBOOKS / "unmappable_fix.ipynb", path)
    before = path.read_bytes()
    report = run([path], Settings(select=("TFX202",), unsafe_fixes=True), Mode.FIX)  # TFX202: unsafe
    assert path.read_bytes() == before and not report.fixed
    (problem,) = report.all_problems
    assert problem.cell == 2 and "cannot be made within cell 2" in problem.message
    assert str(problem).startswith(f"{report.outcomes[0].path}[cell 2]:1:78: ")
    assert [f.cell for f in report.findings] == [2]


def test_the_fix_edits_of_a_finding_are_edits_of_its_cell(tmp_path):
    report = run([NOTEBOOKS / "tpu_colab_indented.ipynb"], Settings(select=("TFX402",)), Mode.CHECK, with_edits=True)
    (finding,) = report.findings
    source = dict(_cells("tpu_colab_indented.ipynb"))[4]
    for edit in sorted(finding.fix.edits, key=lambda e: e.start, reverse=True):
        source = source[: edit.start] + edit.text + source[edit.end :]
    assert "        tape.watch(image)\n        score" in source


# --- suppressions and per-file-ignores -------------------------------------------------------------------------
def _notebook_with(*cells: tuple[str, str]) -> str:
    document = {
        "cells": [{"cell_type": kind, "metadata": {}, "source": text.splitlines(True),
                   **({"execution_count": None, "outputs": []} if kind == "code" else {})} for kind, text in cells],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    return json.dumps(document, indent=1) + "\n"


SALIENCY = dict(_cells("python2_guide.ipynb"))[7]


@pytest.mark.parametrize(
    ("cells", "reported"),
    [
        ((("code", "import tensorflow as tf"), ("code", SALIENCY)), [2]),
        ((("code", "import tensorflow as tf\n# tffix: ignore-file"), ("code", SALIENCY)), []),
        ((("code", "import tensorflow as tf"), ("code", SALIENCY), ("code", "# tffix: ignore-file")), []),
        ((("markdown", "# tffix: ignore-file"), ("code", "import tensorflow as tf"), ("code", SALIENCY)), [3]),
        ((("code", "import tensorflow as tf"), ("code", "%%bash\n# tffix: ignore-file"), ("code", SALIENCY)), [3]),
        ((("code", "import tensorflow as tf"), ("code", SALIENCY.replace("image)\n", "image)  # tffix: ignore\n")
                                                  .replace("score, image)", "score, image)  # tffix: ignore[TFX402]"))), []),
        ((("code", "import tensorflow as tf"), ("code", SALIENCY.replace("score, image)", "score, image)  # tffix: ignore[TFX304]"))), [2]),
    ],
    ids=["plain", "ignore-file-in-first-cell", "ignore-file-in-last-cell", "ignore-file-in-markdown-does-not-count",
         "ignore-file-in-bash-cell-does-not-count", "line-ignore", "line-ignore-of-another-code"],
)
def test_suppressions_in_cells(tmp_path, cells, reported):
    path = tmp_path / "guide.ipynb"
    path.write_text(_notebook_with(*cells))
    report = run([path], Settings(select=("TFX402",)), Mode.CHECK)
    assert not report.all_problems
    assert [f.cell for f in report.findings] == reported


def test_per_file_ignores_apply_to_notebooks(tmp_path):
    (tmp_path / "guides").mkdir()
    for folder in ("guides", "."):
        (tmp_path / folder / "demo.ipynb").write_text(_notebook_with(("code", "import tensorflow as tf"), ("code", SALIENCY)))
    settings = Settings(select=("TFX402",), per_file_ignores=(("guides/*.ipynb", ("TFX402",)),), root=tmp_path)
    report = run([tmp_path / "guides" / "demo.ipynb", tmp_path / "demo.ipynb"], settings, Mode.CHECK)
    assert [(Path(f.path).parent.name, f.cell) for f in report.findings] == [(tmp_path.name, 2)]


# --- every output format reads path[cell N]:line:col ---------------------------------------------------------
def test_every_output_format_names_the_cell_line_and_column():
    report = run([NOTEBOOKS / "python2_guide.ipynb"], Settings(select=("TFX402",)), Mode.CHECK, with_edits=True)
    (finding,) = report.findings
    (problem,) = report.all_problems
    where = f"{finding.path}[cell 7]:6:12"
    assert finding_line(finding).startswith(f"{where}: TFX402 ")
    assert str(problem).startswith(f"{problem.path}[cell 3]:2:1: syntax error: does not parse")
    document = json.loads(json_document(report))
    assert (document["findings"][0]["cell"], document["findings"][0]["location"]) == (7, {"line": 6, "column": 12})
    assert (document["errors"][0]["cell"], document["errors"][0]["line"], document["errors"][0]["column"]) == (3, 2, 1)
    github = github_lines(report)
    assert f"::{where}: TFX402 " in github[0] and ",line=" not in github[0]
    assert "[cell 3]:2:1: syntax error" in github[1] and ",line=" not in github[1]
    (run_,) = json.loads(sarif_document(report))["runs"]
    (result,) = run_["results"]
    assert result["properties"] == {"notebookCell": 7} and f"({where})" in result["message"]["text"]
    assert "region" not in result["locations"][0]["physicalLocation"]
    (notification,) = run_["invocations"][0]["toolExecutionNotifications"]
    assert notification["properties"] == {"notebookCell": 3} and "[cell 3]:2:1" in notification["message"]["text"]


def test_a_cell_python_compiles_but_libcst_cannot_parse_is_left_out_and_the_rest_checked(tmp_path, monkeypatch):
    import tffix.engine as engine_module
    from tffix.engine import Engine, ParseOutcome
    from tffix.model import Problem
    from tffix.runner import Job, process_file

    real_parse = engine_module.parse

    def parse(source: str, path: str) -> ParseOutcome:  # LibCST's parser, failing where a cell says so
        if "LIBCST_CANNOT" in source:
            line = source[: source.index("LIBCST_CANNOT")].count("\n") + 1
            return ParseOutcome(None, Problem(ProblemKind.SYNTAX, path, "does not parse: stand-in", line, 4))
        return real_parse(source, path)

    monkeypatch.setattr(engine_module, "parse", parse)
    path = tmp_path / "nb.ipynb"
    path.write_text(_notebook_with(("code", "import tensorflow as tf"), ("markdown", "x"),
                                   ("code", "x = 1\n  # indented comment\ny = LIBCST_CANNOT"), ("code", SALIENCY)))
    before = path.read_bytes()
    for mode in (Mode.CHECK, Mode.FIX):
        outcome = process_file(path, Job(Engine(Settings(select=("TFX402",))), mode))
        (problem,) = outcome.problems
        assert (problem.cell, problem.line, problem.column) == (3, 3, 4) and "LibCST" in problem.message
        assert [f.cell for f in (outcome.findings if mode is Mode.CHECK else outcome.fixed)] == [4]
    after = path.read_text()
    assert dict(corpus.code_cells(json.loads(after)))[3] == dict(corpus.code_cells(json.loads(before)))[3]
    assert "tape.watch(image)" in dict(corpus.code_cells(json.loads(after)))[4]


@pytest.mark.parametrize("name", NAMES)
def test_a_second_apply_changes_nothing(tmp_path, name):
    path = tmp_path / name
    shutil.copy(NOTEBOOKS / name, path)
    run([path], Settings(), Mode.FIX, unsafe=True)
    once = path.read_bytes()
    report = run([path], Settings(), Mode.FIX, unsafe=True)
    assert path.read_bytes() == once and not report.fixed


def test_the_cache_keeps_the_cells_of_findings_and_problems(tmp_path):
    path = tmp_path / "guide.ipynb"
    shutil.copy(NOTEBOOKS / "python2_guide.ipynb", path)
    (tmp_path / "pyproject.toml").write_text("[tool.tffix]\n")
    reports = [run([path], Settings(select=("TFX402",), root=tmp_path), Mode.CHECK, cache=True) for _ in range(2)]
    assert reports[1].outcomes[0].cached
    assert [str(p) for p in reports[1].all_problems] == [str(p) for p in reports[0].all_problems]
    assert [finding_line(f) for f in reports[1].findings] == [finding_line(f) for f in reports[0].findings]
    assert [p.cell for p in reports[1].all_problems] == [3]
