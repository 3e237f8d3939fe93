"""`tffix explain` and `tffix run`: from a TensorFlow error to the rule, the user's line and the fix.

Three layers of proof:
1. the parser and the failure families, on real logs captured from tiny programs (tests/logs/, made by
   tests/logs/regenerate.py): exception, family and the user's frames of every log;
2. explain on those logs: the finding at the user's line and the diff, for the families whose rules exist;
3. executed end to end under real TensorFlow: every fixture whose before.py raises is run, its real traceback
   explained (right rule, right line), and `run --fix` must end with a passing run and after.py exactly;
   programs whose fix does not cure the run are restored byte for byte.
TensorFlow missing is a failure here, never a skip.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fixture_cases import load_cases
from tffix.cli import app
from tffix.engine import Engine
from tffix.explain import explain_text
from tffix.explain_render import render_text
from tffix.families import families, recognise
from tffix.rerun import run_and_fix
from tffix.registry import rule_by_code
from tffix.tracebacks import clean, library_reason, loose_failure, parse_log, user_file

LOGS = Path(__file__).parent / "logs"
PROGRAMS = LOGS / "programs"


def test_tensorflow_is_installed():
    assert importlib.util.find_spec("tensorflow") is not None, "TensorFlow is needed: pip install -e '.[test]'"


# --- 1. every captured log: what was raised, which family, which of the user's frames --------------------
# log name -> (exception, family key, the user's frames most relevant first: (file, line, origin))
G, T = "graph", "traceback"
LOG_EXPECTATIONS: dict[str, tuple[str, str | None, list[tuple[str, int, str]]]] = {
    "colab_ipython7_keras_shape": ("ValueError", "target-output-shape", [("keras3_bce_two_units.py", 7, T)]),
    "colab_tpu_addr": ("KeyError", "colab-tpu-addr", [("colab_tpu_addr.py", 6, T)]),
    "colab_tpu_addr_cell.ipython": ("KeyError", "colab-tpu-addr", []),  # a notebook cell: no file to check
    "device_eager_no_soft": ("InvalidArgumentError", "device-specification", [("device_eager_no_soft.py", 7, T)]),
    "device_graph_colocated": (
        "InvalidArgumentError", "cannot-assign-device",
        [("device_graph_colocated.py", 7, G), ("device_graph_colocated.py", 10, T)],
    ),
    "device_graph_gpu": (
        "InvalidArgumentError", "cannot-assign-device", [("device_graph_gpu.py", 7, G), ("device_graph_gpu.py", 11, T)],
    ),
    "gan_step_quantised": ("ValueError", "no-gradients", [("gan_step_quantised.py", 17, T)]),
    "get_variable_of_tf_variable": (
        "ValueError", "get-variable-without-initializer", [("get_variable_of_tf_variable.py", 9, T)],
    ),
    "graph_matmul_int_float": ("TypeError", "dtype-mismatch", [("graph_matmul_int_float.py", 8, T)]),
    "helpers_project_train": (
        "ValueError", "logits-labels-shape",
        [("helpers_project/losses_lib.py", 6, T), ("helpers_project/train.py", 8, T)],
    ),
    "keras3_bce_two_units": ("ValueError", "target-output-shape", [("keras3_bce_two_units.py", 7, T)]),
    "keras3_bce_two_units.ipython": ("ValueError", "target-output-shape", [("keras3_bce_two_units.py", 7, T)]),
    "keras_fit_sparse_label": (
        "InvalidArgumentError", "sparse-label-out-of-range", [("keras_fit_sparse_label.py", 9, G)],
    ),
    "matmul_int_float": ("InvalidArgumentError", "dtype-mismatch", [("matmul_int_float.py", 6, T)]),
    "matmul_size": ("InvalidArgumentError", "matmul-inner-dimensions", [("matmul_size.py", 6, T)]),
    "matmul_size_session": (
        "InvalidArgumentError", "matmul-inner-dimensions",
        [("matmul_size_session.py", 9, G), ("matmul_size_session.py", 12, T)],
    ),
    "matmul_size_tf_function": (
        "ValueError", "matmul-inner-dimensions",
        [("matmul_size_tf_function.py", 7, G), ("matmul_size_tf_function.py", 10, T)],
    ),
    "no_gradients": ("ValueError", "no-gradients", [("no_gradients.py", 11, T)]),
    "raw_sigmoid_ce_int_labels": ("InvalidArgumentError", "dtype-mismatch", [("raw_sigmoid_ce_int_labels.py", 6, T)]),
    "raw_sigmoid_ce_rank": ("ValueError", "logits-labels-shape", [("raw_sigmoid_ce_rank.py", 6, T)]),
    "softmax_ce_broadcast": (
        "InvalidArgumentError", "logits-labels-broadcastable", [("softmax_ce_broadcast.py", 6, T)],
    ),
    "sparse_label_out_of_range": (
        "InvalidArgumentError", "sparse-label-out-of-range", [("sparse_label_out_of_range.py", 6, T)],
    ),
    "tpu_no_name": ("ValueError", "tpu-no-name", [("tpu_no_name.py", 4, T)]),
    "tpu_not_found": ("NotFoundError", "tpu-not-found", [("tpu_not_found.py", 6, T)]),
    "tpu_strategy_no_init": ("IndexError", "tpu-strategy-before-init", [("tpu_strategy_no_init.py", 5, T)]),
    "unrelated_error": ("ZeroDivisionError", None, [("unrelated_error.py", 5, T)]),
    "v1_layers_keras3": ("AttributeError", "keras3-removed-api", [("v1_layers_keras3.py", 6, T)]),
}


def _log(name: str) -> str:
    return (LOGS / f"{name}.log").read_text(encoding="utf-8")


def test_every_captured_log_has_expectations_and_every_program_a_log():
    logs = {p.name[: -len(".log")] for p in LOGS.glob("*.log")}
    assert logs == set(LOG_EXPECTATIONS)
    for program in PROGRAMS.glob("*.py"):
        assert program.stem in logs, f"{program.name} has no captured log: python tests/logs/regenerate.py"


@pytest.mark.parametrize("name", sorted(LOG_EXPECTATIONS))
def test_captured_log_is_parsed_and_recognised(name):
    exception, family, frames = LOG_EXPECTATIONS[name]
    text = _log(name)
    failures = parse_log(text)
    assert failures, "no traceback found"
    assert failures[-1].raised.name == exception
    known = recognise(failures)
    assert (known[2].key if known else None) == family
    # The logs name /home/user/project/...: the files are found under --root by their trailing components.
    explanation = explain_text(text, PROGRAMS)
    found = [(f.file.relative_to(PROGRAMS).as_posix(), f.frame.line, f.frame.origin) for f in explanation.frames]
    assert found == frames
    assert all(f.relocated for f in explanation.frames)
    assert explanation.status != "no-failure"


def test_graph_errors_keep_the_node_trace_frames_and_a_readable_headline():
    session = parse_log(_log("matmul_size_session"))[-1]
    assert [e.name for e in session.errors] == ["InvalidArgumentError", "InvalidArgumentError"]  # a chain: one failure
    raised = session.raised
    assert raised.message.startswith("Graph execution error:")
    assert raised.headline == "Matrix size-incompatible: In[0]: [2,2], In[1]: [3,2]"
    assert [f.line for f in raised.graph_frames if f.path.endswith("matmul_size_session.py")] == [9, 9]
    autograph = parse_log(_log("matmul_size_tf_function"))[-1].raised
    assert autograph.graph_frames[0].function == "project"  # autograph's "  *" marker is not part of the name
    eager = parse_log(_log("softmax_ce_broadcast"))[-1].raised
    assert eager.headline == "logits and labels must be broadcastable: logits_size=[4,4] labels_size=[4,3]"


def test_ipython_frames_are_read_with_their_lines():
    raised = parse_log(_log("keras3_bce_two_units.ipython"))[-1].raised
    assert raised.frames[0].path.endswith("keras3_bce_two_units.py") and raised.frames[0].line == 7
    assert any("site-packages/keras" in f.path and f.line == 1468 for f in raised.frames)
    cell = parse_log(_log("colab_tpu_addr_cell.ipython"))[-1].raised
    assert [(f.path, f.line) for f in cell.frames] == [("Cell In[1]", 3), ("<frozen os>", 679)]
    colab = parse_log(_log("colab_ipython7_keras_shape"))[-1].raised
    assert [(f.path.rsplit("/", 1)[-1], f.line) for f in colab.frames] == [
        ("keras3_bce_two_units.py", 7), ("loss.py", 67), ("nn.py", 1468)
    ]


def test_colours_and_tensorflow_log_lines_do_not_disturb_parsing():
    text = _log("matmul_int_float")
    coloured = text.replace("Traceback", "\x1b[0;31mTraceback\x1b[0m").replace("\n", "\r\n")
    noisy = "I0000 00:00:1795316814.799110   14192 port.cc:153] oneDNN custom operations are on.\n" + coloured
    assert clean(noisy) == clean(text)
    assert parse_log(noisy)[-1].raised.headline == parse_log(text)[-1].raised.headline


def test_the_latest_known_failure_in_a_log_is_explained():
    log = _log("matmul_size") + "\nsome output\n" + _log("unrelated_error")
    explanation = explain_text(log, PROGRAMS)
    assert explanation.family.key == "matmul-inner-dimensions"  # the ZeroDivisionError after it is not TF's
    both = _log("unrelated_error") + _log("raw_sigmoid_ce_rank")
    assert explain_text(both, PROGRAMS).family.key == "logits-labels-shape"


def test_an_error_line_pasted_without_traceback_is_recognised():
    pasted = "InvalidArgumentError: Matrix size-incompatible: In[0]: [2,2], In[1]: [3,2] [Op:MatMul]\n"
    assert parse_log(pasted) == []
    explanation = explain_text(pasted, PROGRAMS)
    assert explanation.family.key == "matmul-inner-dimensions"
    assert explanation.error.name == "InvalidArgumentError"
    assert explanation.status == "recognised" and explanation.exit_code == 1  # no file to check
    colab = "KeyError: 'COLAB_TPU_ADDR'"
    assert explain_text(colab, PROGRAMS).family.key == "colab-tpu-addr"
    assert loose_failure("nothing here", families()[0].pattern) is None


def test_input_without_any_error_is_bad_input():
    for text in ("", "Epoch 1/1\nloss: 0.25\n"):
        explanation = explain_text(text, PROGRAMS)
        assert explanation.status == "no-failure" and explanation.exit_code == 2


def test_whose_file_is_it(tmp_path):
    mine = tmp_path / "train.py"
    mine.write_text("x = 1\n")
    assert user_file(str(mine), tmp_path) == (mine.resolve(), False)
    assert user_file("train.py", tmp_path) == (mine.resolve(), False)  # relative to the root
    assert user_file("/content/drive/MyDrive/train.py", tmp_path) == (mine.resolve(), True)  # another machine's
    assert user_file(r"C:\Users\me\gan\train.py", tmp_path) == (mine.resolve(), True)  # a Windows log
    assert user_file("/content/missing.py", tmp_path) is None
    for path, reason in [
        ("/usr/local/lib/python3.10/dist-packages/keras/src/losses/loss.py", "library"),
        ("/root/.venv/lib/python3.11/site-packages/tensorflow/python/ops/nn_impl.py", "library"),
        ("/usr/lib/python3.10/os.py", "stdlib"),
        (r"C:\Users\me\AppData\Local\Programs\Python\Python311\Lib\os.py", "stdlib"),
        ("<frozen os>", "not a file"),
        ("Cell In[3]", "not a file"),
        ("/tmp/__autograph_generated_filey1y9vsk8.py", "generated"),
    ]:
        assert library_reason(path) == reason
        assert user_file(path, tmp_path) is None
    import tffix._exec

    assert user_file(tffix._exec.__file__, tmp_path) is None  # tffix's own runner is never the user's code


# --- 2. explain on captured logs: the finding at the user's line, and the fix ----------------------------
# log -> (rule, line of the finding in the program, the program's line the fix changes to what)
LOG_FIXES = {
    "keras3_bce_two_units": ("TFX301", 7, "logits = tf.keras.layers.Dense(1)(hidden)"),
    "colab_ipython7_keras_shape": ("TFX301", 7, "logits = tf.keras.layers.Dense(1)(hidden)"),
    "matmul_int_float": ("TFX303", 6, "print(tf.matmul(tf.cast(counts, tf.float32), weights))"),
    "raw_sigmoid_ce_rank": ("TFX302", 6, None),
    "no_gradients": ("TFX401", 10, "    loss = tf.reduce_mean(y)"),
    "gan_step_quantised": ("TFX304", 14, "    fake = generator(z) * 255.0"),
    "graph_matmul_int_float": ("TFX303", 8, None),
    # TF1 graph: the traceback's frames are the op's definition (line 7) and sess.run (line 11); the finding
    # is the Session without soft placement, one line above the run.
    "device_graph_gpu": ("TFX101", 10, "with tf.Session(config=tf.ConfigProto(allow_soft_placement=True)) as sess:"),
    "device_graph_colocated": ("TFX101", 9, None),
    "colab_tpu_addr": ("TFX202", 6, "resolver = tf.distribute.cluster_resolver.TPUClusterResolver()"),
    "tpu_strategy_no_init": ("TFX201", 5, "    strategy = tf.distribute.TPUStrategy(resolver)"),
}


@pytest.mark.parametrize("name", sorted(LOG_FIXES))
def test_explain_names_the_rule_at_the_users_line_and_shows_the_fix(name):
    code, line, fixed_line = LOG_FIXES[name]
    explanation = explain_text(_log(name), PROGRAMS, unsafe=code in ("TFX202", "TFX301", "TFX304"))  # unsafe fixes
    assert explanation.status == "fixed" and explanation.exit_code == 0
    finding = explanation.finding.finding
    assert (finding.code, finding.start.line) == (code, line)
    assert explanation.diff.startswith("--- a/")
    if fixed_line is not None:
        assert f"\n+{fixed_line}\n" in explanation.diff
    text = render_text(explanation)
    assert f"{code} " in text and text.endswith(explanation.diff)


def test_an_unsafe_fix_is_named_and_shown_only_with_unsafe_fixes():
    safe_only = explain_text(_log("device_eager_no_soft"), PROGRAMS)
    assert safe_only.status == "finding" and safe_only.exit_code == 1
    assert (safe_only.finding.finding.code, safe_only.finding.finding.start.line) == ("TFX102", 4)
    assert "--unsafe-fixes shows and makes it" in render_text(safe_only)
    unsafe = explain_text(_log("device_eager_no_soft"), PROGRAMS, unsafe=True)
    assert unsafe.status == "fixed" and "+tf.config.set_soft_device_placement(True)" in unsafe.diff
    assert "tffix apply --unsafe-fixes" in render_text(unsafe)


def test_explain_prefers_the_finding_on_the_traceback_line(tmp_path):
    # Two findings of the candidate rule; the traceback's line is the second one.
    program = tmp_path / "two.py"
    program.write_text(
        "import tensorflow as tf\n"
        "a = tf.matmul(tf.constant([[1, 2]]), tf.constant([[1.0], [2.0]]))\n"
        "b = tf.matmul(tf.constant([[3, 4]]), tf.constant([[1.0], [2.0]]))\n"
    )
    log = (
        "Traceback (most recent call last):\n"
        f'  File "{program}", line 3, in <module>\n'
        "    b = tf.matmul(...)\n"
        "InvalidArgumentError: cannot compute MatMul as input #1(zero-based) was expected to be a int32 tensor but "
        "is a float tensor [Op:MatMul] name:\n"
    )
    explanation = explain_text(log, tmp_path)
    assert [l.finding.start.line for l in explanation.located] == [3, 2]
    assert explanation.located[0].distance == 0


def test_recognised_without_finding_and_unknown_failures_exit_1():
    recognised = explain_text(_log("helpers_project_train"), PROGRAMS)  # the labels' shape is not static there
    assert recognised.status == "recognised" and recognised.exit_code == 1
    assert "no finding of these rules" in render_text(recognised)
    unknown = explain_text(_log("unrelated_error"), PROGRAMS)
    assert unknown.status == "unrecognised" and unknown.exit_code == 1
    assert "ZeroDivisionError: division by zero" in render_text(unknown)
    keras3 = explain_text(_log("v1_layers_keras3"), PROGRAMS)  # TFX609 reports it at the user's line, without a fix
    assert keras3.status == "finding" and keras3.exit_code == 1
    assert "v1_layers_keras3.py:6:5: TFX609" in render_text(keras3)
    assert "no automatic fix for this finding" in render_text(keras3)


def test_explain_cli_exit_codes_and_json():
    runner = CliRunner()
    fixed = runner.invoke(app, ["explain", str(LOGS / "keras3_bce_two_units.log"), "--root", str(PROGRAMS),
                                   "--unsafe-fixes"])  # TFX301's fix is unsafe
    assert fixed.exit_code == 0, fixed.output
    assert "+logits = tf.keras.layers.Dense(1)(hidden)" in fixed.stdout
    piped = runner.invoke(app, ["explain", "--root", str(PROGRAMS), "--format", "json"], input=_log("matmul_size"))
    assert piped.exit_code == 1
    document = json.loads(piped.stdout)
    assert document["failure"]["kind"] == "matmul-inner-dimensions" and document["failure"]["codes"] == ["TFX305"]
    assert document["frames"][0]["line"] == 6 and document["exit_code"] == 1
    assert runner.invoke(app, ["explain"], input="all good\n").exit_code == 2
    assert runner.invoke(app, ["explain", str(LOGS / "no-such.log")]).exit_code == 2


def test_run_cli_exits_with_the_commands_code():
    runner = CliRunner()
    exit_3 = runner.invoke(app, ["run", "--", sys.executable, "-c", "import sys; print('hi'); sys.exit(3)"])
    assert exit_3.exit_code == 3 and "hi" in exit_3.stdout
    assert "no Python traceback or TensorFlow error" in exit_3.stderr
    fine = runner.invoke(app, ["run", "--fix", sys.executable, "-c", "print('fine')"])  # `--` is optional
    assert fine.exit_code == 0 and fine.stderr == ""
    unknown = runner.invoke(app, ["run", "--", sys.executable, "-c", "raise KeyError('x')"])
    assert unknown.exit_code == 1 and "tffix does not know this failure" in unknown.stderr
    assert runner.invoke(app, ["run", "--", "no-such-command-tffix"]).exit_code == 127
    slow = runner.invoke(app, ["run", "--timeout", "0.5", "--", sys.executable, "-c", "import time; time.sleep(30)"])
    assert slow.exit_code == 124 and "timed out" in slow.stderr


# --- 3. executed: real tracebacks from the fixtures, run --fix, restoration ------------------------------
def _raising_cases():
    codes = {code for family in families() for code in family.codes}
    return [
        case for case in load_cases()
        if not case.negative and case.code in codes
        and case.expect.get("before", {}).get("outcome") == "raises"
        and case.expect.get("after", {}).get("outcome") == "ok"
    ]


RAISING = _raising_cases()


def _warm(warm_runner, program: Path, case=None):
    """Runs `program` in the warm worker; a fixture's copy runs in the fixture's folder (its prelude's paths)."""
    options = case.run_options() if case is not None else {}
    cwd = case.folder if case is not None else program.parent
    return lambda: warm_runner.run(program, cwd=cwd, **options)


def _copy_before(case, tmp_path: Path) -> tuple[Path, set[str], set[int]]:
    """before.py copied to tmp_path, the codes the case expects, and the lines of their findings in it."""
    program = tmp_path / "train.py"
    shutil.copyfile(case.program("before"), program)
    wanted = set(case.expect.get("codes", [case.code]))
    source = program.read_bytes().decode("utf-8")
    lines = {f.start.line for f in Engine().check(source, "train.py").findings if f.code in wanted}
    return program, wanted, lines


def _first_fixable_case_per_code() -> set[str]:
    chosen: dict[str, str] = {}
    for case in RAISING:
        if not case.expect.get("report_only"):
            chosen.setdefault(case.code, case.id)
    return set(chosen.values())


PROVE_RUN_FIX = _first_fixable_case_per_code()  # run --fix is proven on one case per rule; explain on all


@pytest.mark.execution
@pytest.mark.parametrize("case", RAISING, ids=lambda c: c.id)
def test_the_real_traceback_of_each_raising_fixture_names_its_rule_and_line(case, warm_runner, tmp_path):
    program, wanted, lines = _copy_before(case, tmp_path)
    before = program.read_bytes()
    execute = _warm(warm_runner, program, case)
    prove = case.id in PROVE_RUN_FIX

    result = run_and_fix(["python", "train.py"], cwd=tmp_path, fix=prove, unsafe=case.unsafe, execute=execute)

    assert not result.first.ok, result.first.summary()
    explanation = result.explanation
    stderr = result.first.stderr[-2500:]
    assert explanation.family is not None, f"unrecognised failure:\n{stderr}"
    # the failure is caused by one of the case's rules (a fixture of two rules raises for one of them)
    assert wanted & set(explanation.family.codes), f"{explanation.family.key} lists none of {sorted(wanted)}"
    top = explanation.finding
    assert top is not None, f"no finding; frames {explanation.frames}\n{stderr}"
    assert top.finding.code in wanted and top.finding.start.line in lines, render_text(explanation)
    assert explanation.status == ("finding" if case.expect.get("report_only") else "fixed")
    if not prove:
        assert result.attempts == () and program.read_bytes() == before
        return
    # run --fix: the rerun passes and the file is exactly the fixture's after.py.
    assert result.attempts and result.attempts[-1].outcome.ok, result.attempts[-1].outcome.stderr[-2500:]
    assert len(result.kept) == 1 and result.exit_code == 0
    assert program.read_bytes() == case.program("after").read_bytes()


@pytest.mark.execution
def test_run_fix_leaves_a_report_only_finding_alone(warm_runner, tmp_path):
    cases = [c for c in RAISING if c.expect.get("report_only")]
    assert cases, "no report-only raising fixture"
    program, _, _ = _copy_before(cases[0], tmp_path)
    before = program.read_bytes()
    result = run_and_fix(["python", "train.py"], cwd=tmp_path, fix=True, execute=_warm(warm_runner, program, cases[0]))
    assert result.explanation.status == "finding" and result.attempts == () and result.kept == ()
    assert program.read_bytes() == before and result.exit_code == 1


CRASH_LATER = (PROGRAMS / "gan_step_quantised.py").read_text(encoding="utf-8").replace(
    'print("generator step done")',
    '# café: the checkpoint the script expects is not there; no rule can fix that\n'
    'open("checkpoints/generator.ckpt").read()',
)


@pytest.mark.execution
def test_run_fix_restores_every_byte_when_the_fix_does_not_make_the_run_succeed(warm_runner, tmp_path):
    program = tmp_path / "train.py"
    original = CRASH_LATER.replace("\n", "\r\n").encode("utf-8")  # CRLF and UTF-8: restored exactly
    program.write_bytes(original)
    messages = []

    result = run_and_fix(["train.py"], cwd=tmp_path, fix=True, execute=_warm(warm_runner, program),
                         notify=messages.append, unsafe=True)  # TFX304's fix is unsafe

    assert result.first.raised("ValueError") and result.explanation.finding.finding.code == "TFX304"
    assert len(result.attempts) == 1
    assert result.attempts[0].outcome.raised("FileNotFoundError")  # the fix cured the first failure, not the run
    assert result.kept == () and len(result.restored) == 1
    assert program.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.py"]  # no backup or temporary file left
    assert result.exit_code == 1
    assert any("running the command again" in m for m in messages)


TWO_FAILURES = """import tensorflow as tf

counts = tf.constant([[1, 2]])
weights = tf.constant([[1.0], [2.0]])
print(tf.matmul(counts, weights))

x = tf.random.normal((32, 100))
logits = tf.keras.layers.Dense(2)(x)
loss = tf.keras.losses.BinaryCrossentropy(from_logits=True)(tf.zeros((32, 1)), logits)
print("loss", float(loss) > 0)
"""


@pytest.mark.execution
def test_run_fix_goes_on_to_the_next_failure_and_keeps_both_fixes_when_the_run_succeeds(warm_runner, tmp_path):
    program = tmp_path / "train.py"
    program.write_text(TWO_FAILURES, encoding="utf-8")

    result = run_and_fix(["train.py"], cwd=tmp_path, fix=True, execute=_warm(warm_runner, program),
                         unsafe=True)  # TFX301's fix is unsafe

    assert result.explanation.finding.finding.code == "TFX303"
    assert [a.outcome.ok for a in result.attempts] == [False, True]
    assert result.attempts[0].explanation.finding.finding.code == "TFX301"  # the second failure, after fix 1
    assert program.read_text(encoding="utf-8") == Engine().fix(TWO_FAILURES, "train.py", unsafe=True).fixed_source
    assert result.exit_code == 0 and "loss True" in result.attempts[-1].outcome.stdout


@pytest.mark.execution
def test_tffix_run_fix_command_line_end_to_end(tmp_path):
    """The real command: streams the program's output, explains on stderr, keeps the fix, exits 0."""
    case = next(c for c in RAISING if not c.unsafe and not c.expect.get("report_only") and not c.expect.get("run"))
    program = tmp_path / "train.py"
    shutil.copyfile(case.program("before"), program)
    done = subprocess.run(
        [sys.executable, "-m", "tffix.cli", "run", "--fix", "--timeout", "120", "--", sys.executable, "train.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback (most recent call last)" in done.stderr  # the command's own output came through
    assert f"{case.code} " in done.stderr and "the command succeeded with the fixes" in done.stderr
    assert program.read_bytes() == case.program("after").read_bytes()


def test_every_family_names_only_real_code_families():
    for family in families():
        for code in family.codes:
            assert rule_by_code(code) is not None  # derived from the registry: every code is a rule's
    # The codes of rules that exist resolve to rules; the rest are listed in the note of an explanation.
    assert rule_by_code("TFX304") is not None
