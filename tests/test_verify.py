"""`tffix verify` on real programs: both runs executed under TensorFlow, the file restored or written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tffix.engine import Engine
from tffix.verify import backup_path, swapped_contents, verify

# Gradients through an integer round trip are None, so the assertion fails before the fix and passes after.
PROGRAM = """\
import tensorflow as tf

x = tf.Variable([[0.5, 1.5]])
with tf.GradientTape() as tape:
    y = tf.cast(tf.cast(x * 10, tf.int32), tf.float32)
    loss = tf.reduce_sum(y)
grad = tape.gradient(loss, x)
assert grad is not None, "no gradient reaches x"
print("gradient", grad.numpy().tolist())
"""
FIXED_LINE = "    y = tf.cast(x * 10, tf.float32)\n"  # TFX304's fix (unsafe) drops the cast to int32


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "train.py"
    path.write_bytes(PROGRAM.encode())
    return path


@pytest.mark.execution
def test_verify_runs_before_and_after_and_writes_only_when_asked(program: Path):
    result = verify(program, Engine(), unsafe=True)
    assert result.before.raised("AssertionError")
    assert result.after.ok and "gradient [[10.0, 10.0]]" in result.after.stdout
    assert program.read_bytes() == PROGRAM.encode(), "nothing is written without --write"
    assert not backup_path(program).exists()

    written = verify(program, Engine(), write=True, unsafe=True)
    assert written.written and FIXED_LINE in program.read_text()


@pytest.mark.execution
def test_verify_writes_nothing_when_the_after_run_fails(program: Path):
    source = PROGRAM + 'raise RuntimeError("an unrelated failure later on")\n'
    program.write_text(source)
    result = verify(program, Engine(), write=True, unsafe=True)
    assert result.after.raised("RuntimeError") and not result.written
    assert program.read_text() == source


@pytest.mark.execution
def test_verify_cli_shows_both_outcomes_side_by_side(program: Path):
    completed = subprocess.run(
        [sys.executable, "-m", "tffix.cli", "verify", "--unsafe-fixes", str(program), "--", sys.executable,
         str(program)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"},
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "raised AssertionError" in completed.stdout and "exited 0" in completed.stdout
    assert "TFX304" in completed.stdout
    assert program.read_bytes() == PROGRAM.encode()


def test_swapped_contents_restores_after_an_exception(tmp_path: Path):
    target = tmp_path / "a.py"
    target.write_bytes(b"old\r\n")
    with pytest.raises(RuntimeError), swapped_contents({target: b"new\n"}):
        assert target.read_bytes() == b"new\n"
        assert backup_path(target).read_bytes() == b"old\r\n"
        raise RuntimeError
    assert target.read_bytes() == b"old\r\n" and not backup_path(target).exists()


@pytest.mark.slow  # a subprocess run end to end
def test_sigterm_during_the_after_run_restores_the_file(tmp_path: Path):
    original = b"import time\n# tffix test\n"
    target = tmp_path / "slow.py"
    target.write_bytes(original)
    script = (
        "import sys, time\nfrom pathlib import Path\nfrom tffix.verify import swapped_contents\n"
        f"with swapped_contents({{Path({str(target)!r}): b'new'}}):\n"
        "    print('swapped', flush=True)\n    time.sleep(60)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "swapped"
    assert target.read_bytes() == b"new"
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    deadline = time.monotonic() + 5
    while target.read_bytes() != original and time.monotonic() < deadline:
        time.sleep(0.05)
    assert target.read_bytes() == original
    assert not backup_path(target).exists()


@pytest.mark.slow  # a subprocess run end to end
def test_interrupting_tffix_kills_the_program_it_runs(tmp_path: Path):
    pid_file = tmp_path / "pid"
    sleeper = tmp_path / "sleeper.py"
    sleeper.write_text(f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(120)\n")
    script = f"import sys\nfrom tffix.execution import run_command\nrun_command([sys.executable, {str(sleeper)!r}])\n"
    process = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 30
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(pid_file.read_text())
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), "the program outlived the interrupted tffix"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
