"""The repair loop (tffix.repair, issue 15): crashing programs repaired from the shapes they really have.

1. Without TensorFlow: the corpus is well formed, and the patterns propose the right edit from an observer's
   record (the shapes a program had at its crash), and nothing when the record does not show the cause.
2. Executed (slow): one corpus case per pattern repaired in the warm runner with the expected diff, a search
   that finds no cure leaves the file byte for byte, and `tffix repair` / `tffix run --fix` end to end.
   `python bench/repair.py` runs the whole corpus.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tffix.repair.corpus import CORPUS, check_case, load_cases
from tffix.repair.crash import Crash
from tffix.repair.patterns import propose
from tffix.repair.search import observe, program_executor, repair_file
from tffix.repair.source import Edit, Source, apply_edits, shifted_line

CASES = load_cases()


# --- 1. without TensorFlow ----------------------------------------------------------------------------------
def test_the_corpus_covers_every_pattern_with_at_least_five_cases():
    from tffix.repair.patterns import CATALOGUE

    by_folder: dict[str, list] = {}
    for case in CASES:
        by_folder.setdefault(case.path.parent.name, []).append(case)
    for name, _ in CATALOGUE:
        folder = name.replace("-", "_")
        assert len(by_folder.get(folder, [])) >= 5, folder
        assert all(c.expect == "repaired" and c.pattern == name and c.diff for c in by_folder[folder]), folder
    assert all(c.expect == "no-repair" for c in by_folder["no_repair"])


def test_edits_keep_every_other_byte_and_say_where_a_line_moved():
    text = "a = 1\r\nb = f(a)\r\nc = 2\r\n"
    source = Source(text)
    call = source.calls[0]
    edits = [source.insert_before(source.statement_of(call), "z = 0\r\n"), source.replace(call.args[0].value, "a + 1")]
    assert apply_edits(text, edits) == "a = 1\r\nz = 0\r\nb = f(a + 1)\r\nc = 2\r\n"
    assert shifted_line(text, edits, 3) == 4 and shifted_line(text, edits, 1) == 1
    with pytest.raises(ValueError):
        apply_edits(text, [Edit(0, 3, "x"), Edit(2, 4, "y")])


def _crash(message: str, line: int, locals_: dict, calls: list[dict] = (), exception="builtins.ValueError") -> Crash:
    return Crash(exception, message, "/p/train.py", line, locals_, [{"file": "/p/train.py", **c} for c in calls])


MODEL_3 = {"kind": "model", "input_shape": [None, 4], "output_shape": [None, 3], "loss": "categorical_crossentropy",
           "layers": [{"class": "Dense", "units": 3, "input": [None, 4], "output": [None, 3]}]}
PROGRAM = """import numpy as np
import keras
model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3, activation="softmax")])
model.compile(optimizer="adam", loss="categorical_crossentropy")
model.fit(x, y, epochs=1)
"""


def test_integer_labels_with_a_categorical_loss_get_the_sparse_loss_first_then_one_hot():
    y = {"kind": "ndarray", "shape": [30], "dtype": "int64", "min": 0, "max": 2}
    crash = _crash("Arguments `target` and `output` must have the same rank", 5, {},
                   [{"api": "fit", "line": 5, "args": {"self": MODEL_3, "x": {"shape": [30, 4], "dtype": "float32"}, "y": y}}])
    titles = [(c.pattern, apply_edits(PROGRAM, c.edits).splitlines()) for c in propose(Source(PROGRAM), crash)]
    assert titles[0][0] == "integer-labels" and 'loss="sparse_categorical_crossentropy")' in titles[0][1][3]
    assert any("keras.utils.to_categorical(y, 3)" in lines[4] for _, lines in titles)


def test_labels_that_already_match_the_head_propose_nothing():
    y = {"kind": "ndarray", "shape": [30, 3], "dtype": "float32", "integral": True, "min": 0, "max": 1}
    crash = _crash("some other error", 5, {},
                   [{"api": "fit", "line": 5, "args": {"self": MODEL_3, "x": {"shape": [30, 4], "dtype": "float32"}, "y": y}}])
    assert propose(Source(PROGRAM), crash) == []


def test_no_pattern_proposes_for_a_failure_that_is_no_shape_problem():
    """0/1 labels of one column with a 1-unit sigmoid head and a binary loss: nothing to repair in the shapes,
    whatever made fit() raise (here a Keras 1 keyword)."""
    model = {**MODEL_3, "output_shape": [None, 1], "loss": "binary_crossentropy",
             "layers": [{"class": "Dense", "units": 1, "activation": "sigmoid", "input": [None, 4], "output": [None, 1]}]}
    y = {"kind": "ndarray", "shape": [30, 1], "dtype": "float32", "integral": True, "min": 0, "max": 1}
    call = {"api": "fit", "line": 5, "args": {"self": model, "x": {"shape": [30, 4], "dtype": "float32"}, "y": y}}
    for message in ("TensorFlowTrainer.fit() got an unexpected keyword argument 'nb_epoch'", "some ValueError"):
        assert propose(Source(PROGRAM), _crash(message, 5, {}, [call])) == []


def test_matmul_candidates_follow_the_observed_shapes():
    program = "import tensorflow as tf\nout = tf.matmul(a, b)\n"
    crash = _crash("Matrix size-incompatible: In[0]: [6,4], In[1]: [3,4] [Op:MatMul]", 2,
                   {"a": {"shape": [6, 4], "dtype": "float32"}, "b": {"shape": [3, 4], "dtype": "float32"}},
                   exception="tensorflow.python.framework.errors_impl.InvalidArgumentError")
    fixed = [apply_edits(program, c.edits).splitlines()[1] for c in propose(Source(program), crash)]
    assert fixed == ["out = tf.matmul(a, b, transpose_b=True)"]  # swapping or transposing a gives no fit
    unrelated = _crash("Matrix size-incompatible [Op:MatMul]", 2, {"a": {"shape": [3, 4]}, "b": {"shape": [5, 6]}})
    assert propose(Source(program), unrelated) == []


def test_a_hard_coded_batch_size_becomes_minus_one_only_where_the_rest_divides_the_size():
    program = "import numpy as np\nx = data.reshape(60000, 32)\n"
    crash = _crash("cannot reshape array of size 32000 into shape (60000,32)", 2, {"data": {"shape": [1000, 4, 8]}})
    fixed = [apply_edits(program, c.edits).splitlines()[1] for c in propose(Source(program), crash)]
    assert fixed == ["x = data.reshape(-1, 32)"]  # 32000 is no multiple of 60000: the 32 stays


def test_a_crash_outside_the_file_is_not_localised(tmp_path):
    record = {"calls": [], "crash": {"exception": "builtins.ValueError", "message": "x", "file": "/elsewhere.py",
                                     "line": 3, "locals": {}}}
    assert Crash.from_record(record, tmp_path / "train.py") is None


# --- 2. executed ---------------------------------------------------------------------------------------------
def _sample() -> list:
    """One case per pattern folder: the suite's sample (bench/repair.py runs them all)."""
    seen, sample = set(), []
    for case in CASES:
        if case.path.parent.name not in seen:
            seen.add(case.path.parent.name)
            sample.append(case)
    return sample


@pytest.mark.execution
@pytest.mark.parametrize("case", _sample(), ids=lambda c: c.name)
def test_a_corpus_case_is_repaired_as_expected(warm_runner, case):
    checked = check_case(case, warm_runner)
    assert checked.ok, checked.why
    if case.expect == "repaired":
        trial = checked.result.trials[-1]
        assert trial.verdict == "cured" and not trial.observed.crashed


FAILS_EVERY_WAY = """import numpy as np\r
import keras\r
# caf\xe9: bytes, line endings and all must come back\r
x = np.random.rand(20, 3)\r
y = np.random.randint(0, 3, size=20)\r
model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(3, activation="softmax")])\r
model.compile(optimizer="adam", loss="categorical_crossentropy")\r
model.fit(x, y, epochs=1, verbose=0)\r
raise SystemExit("the author's own check fails after training")\r
"""


@pytest.mark.execution
def test_a_search_that_cures_nothing_restores_the_file_byte_for_byte(warm_runner, tmp_path):
    program = tmp_path / "train.py"
    original = FAILS_EVERY_WAY.encode("utf-8")
    program.write_bytes(original)
    result = repair_file(program, program_executor(program, runner=warm_runner), timeout=120, write=True)
    assert result.status == "no-repair" and result.trials  # candidates were tried, each on the real file
    assert all(t.verdict != "cured" for t in result.trials)
    assert program.read_bytes() == original and not result.written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.py"]


@pytest.mark.execution
def test_the_observer_records_shapes_at_the_users_call_and_the_crash(warm_runner, tmp_path):
    program = tmp_path / "train.py"
    shutil.copyfile(CORPUS / "integer_labels" / "sparse_labels_categorical.py", program)
    observed = observe(program_executor(program, runner=warm_runner), program, 120)
    crash = observed.record["crash"]
    fit = [c for c in observed.record["calls"] if c["api"] == "fit"][0]
    assert crash["line"] == fit["line"] == 13 and crash["file"] == str(program)
    assert fit["args"]["x"]["shape"] == [90, 4] and fit["args"]["y"]["dtype"] == "int64"
    assert fit["args"]["self"]["output_shape"] == [None, 3] and crash["locals"]["y"]["max"] == 2
    assert program.read_bytes() == (CORPUS / "integer_labels" / "sparse_labels_categorical.py").read_bytes()


@pytest.mark.slow
def test_tffix_run_fix_repairs_a_crash_no_rule_explains(tmp_path):
    """The real command, cold: no rule fixes this crash; the repair loop does, and writes it."""
    program = tmp_path / "train.py"
    shutil.copyfile(CORPUS / "head_units" / "onehot_five.py", program)
    done = subprocess.run(
        [sys.executable, "-m", "tffix.cli", "run", "--fix", "--timeout", "300", "--", sys.executable, "train.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "tffix: repaired (give the output layer 5 units" in done.stderr
    assert 'keras.layers.Dense(5, activation="softmax")' in program.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.py"]


# --- explain: the patterns that fit a logged error ---------------------------------------------------------
@pytest.mark.parametrize("message, pattern", [
    ("Arguments `target` and `output` must have the same rank (ndim). Received: target.shape=(None,), "
     "output.shape=(None, 3)", "integer-labels"),
    ("Arguments `target` and `output` must have the same shape. Received: target.shape=(None, 5), "
     "output.shape=(None, 3)", "head-units"),
    ("Argument `output` must have rank (ndim) `target.ndim - 1`. Received: target.shape=(None,), "
     "output.shape=(None, 6, 6, 3)", "flatten-head"),
    ("Cannot feed value of shape (32,) for Tensor Placeholder_1:0, which has shape (?, 10)", "onehot-feed"),
    ("Cannot feed value of shape (16, 28, 28) for Tensor Placeholder:0, which has shape (?, 784)", "feed-shape"),
    ("In[0] and In[1] has different ndims: [4] vs. [4,3] [Op:MatMul] name: ", "matmul"),
    ("Incompatible shapes: [3,4] vs. [4,3] [Op:AddV2] name: ", "elementwise"),
    ("cannot reshape array of size 32000 into shape (60000,32)", "reshape-size"),
    ("Computed output size would be zero or negative. Received `inputs shape=(None, 1, 1, 4)`", "conv-window"),
    ("Input 0 of layer \"dense\" is incompatible with the layer: expected axis -1 of input shape to have value 10",
     "declared-input"),
])
def test_explain_names_the_repair_patterns_a_logged_error_fits(message, pattern):
    from tffix.repair.localise import patterns_for

    assert patterns_for(message)[0].pattern == pattern


def test_tffix_explain_says_which_repairs_fit_and_that_run_fix_can_prove_one(tmp_path):
    from typer.testing import CliRunner

    from tffix.cli import app

    program = tmp_path / "train.py"
    shutil.copyfile(CORPUS / "integer_labels" / "sparse_labels_categorical.py", program)
    log = (f'Traceback (most recent call last):\n  File "{program}", line 13, in <module>\n'
           "    model.fit(X, y, epochs=1, batch_size=16, verbose=0)\n"
           "ValueError: Arguments `target` and `output` must have the same rank (ndim). Received: "
           "target.shape=(None,), output.shape=(None, 3)\n")
    shown = CliRunner().invoke(app, ["explain", "--root", str(tmp_path), "-"], input=log)
    assert "integer-labels: integer class labels" in shown.stdout
    assert "`tffix run --fix -- python " in shown.stdout and "train.py` observes them" in shown.stdout
    document = CliRunner().invoke(app, ["explain", "--output-format", "json", "-"], input=log)
    assert '"pattern": "integer-labels"' in document.stdout


LONG_TRAINING = """import numpy as np
import keras

x = np.random.rand(64, 4).astype("float32")
y = np.random.randint(0, 3, size=64)
model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3, activation="softmax")])
model.compile(optimizer="sgd", loss="categorical_crossentropy")
model.fit(x, y, epochs=100000, batch_size=8, verbose=0)
print("done")
"""


@pytest.mark.execution
def test_a_long_training_is_proven_once_its_first_step_ran_past_the_old_crash(warm_runner, tmp_path):
    """The repaired run trains far longer than the time budget: it counts as cured because the observer saw the
    first training step at the line that crashed complete (with a finite loss) before the budget ran out."""
    program = tmp_path / "train.py"
    program.write_text(LONG_TRAINING, encoding="utf-8")
    result = repair_file(program, program_executor(program, runner=warm_runner), timeout=20)
    assert result.status == "repaired", [t.verdict for t in result.trials]
    trial = result.trials[-1]
    assert trial.observed.outcome.timed_out and trial.observed.passed
    fit = [c for c in trial.observed.record["calls"] if c["api"] == "fit"][0]
    assert isinstance(fit["losses"][0], float)
    assert program.read_text(encoding="utf-8") == LONG_TRAINING  # not written without write=True
