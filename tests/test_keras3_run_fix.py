"""A legacy Keras 2 / NumPy 1 program gets past the removed APIs with `tffix run --fix` (issue 16): each rerun stops
at the next removal (`lr=`, then `nb_epoch=`, then `np.float`), the 6xx rule that explains it fixes it, and the
command ends with the program's own output and every fix kept."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tffix.engine import Engine

LEGACY = """import numpy as np
import tensorflow as tf

x = np.random.rand(32, 4).astype(np.float)
y = (x.sum(axis=1) > 2).astype(np.float)
model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=tf.keras.optimizers.Adam(lr=0.01), loss="binary_crossentropy")
history = model.fit(x, y, nb_epoch=2, batch_size=8, verbose=0)
print("epochs trained:", len(history.history["loss"]))
"""


@pytest.mark.execution
def test_run_fix_gets_a_legacy_program_past_every_removed_api(tmp_path):
    program = tmp_path / "train.py"
    program.write_text(LEGACY, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "tffix.cli", "run", "--fix", "--timeout", "300", "--", sys.executable, "train.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "epochs trained: 2" in done.stdout
    for code in ("TFX607", "TFX601", "TFX602"):  # each failure on the way was explained by its rule
        assert f"{code} " in done.stderr, done.stderr[-3000:]
    fixed = program.read_text(encoding="utf-8")
    assert fixed == Engine().fix(LEGACY, "train.py").fixed_source  # the safe fixes, nothing else
    assert "astype(float)" in fixed and "learning_rate=0.01" in fixed and "epochs=2" in fixed


@pytest.mark.execution
def test_run_fix_leaves_a_program_that_pins_keras_2_alone(tmp_path):
    """With Keras 2 pinned, fit_generator still runs: the program succeeds as it is and no file changes."""
    source = (
        'import os\nos.environ["TF_USE_LEGACY_KERAS"] = "1"\nimport numpy as np\nimport tensorflow as tf\n\n'
        "def batches():\n    while True:\n        yield np.ones((4, 3)), np.ones((4, 1))\n\n"
        "model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(3,))])\n"
        'model.compile(optimizer="adam", loss="mse")\n'
        "model.fit_generator(batches(), steps_per_epoch=2, verbose=0)\nprint('ran')\n"
    )
    program = tmp_path / "train.py"
    program.write_text(source, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "tffix.cli", "run", "--fix", "--timeout", "300", "--", sys.executable, "train.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0 and "ran" in done.stdout, done.stderr[-3000:]
    assert program.read_text(encoding="utf-8") == source
