"""The README's main job, proven: every shipped example fails as it is and runs clean after `tffix apply`."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tffix.engine import Engine

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# What each fixed example must print: the observable that shows the bug is gone, not just "no exception".
MARKERS = {
    "legacy_gan.py": r"trainable variables: 5",  # shared variables: 3 generator + 2 discriminator
    "tf2_gan_step.py": r"generator gradients are None: False",
}


@pytest.mark.execution
@pytest.mark.parametrize("name", sorted(MARKERS))
def test_example_fails_before_and_runs_after_apply(name, tmp_path: Path, warm_runner):
    program = tmp_path / name
    shutil.copy(EXAMPLES / name, program)
    before = warm_runner.run(program)
    assert before.exception is not None, f"{name} must fail as shipped: {before.summary()}"

    fixed = Engine().fix(program.read_text(), name, unsafe=True)
    assert fixed.changed and fixed.problems == ()
    program.write_text(fixed.fixed_source)
    after = warm_runner.run(program)
    assert after.ok, f"{name} after tffix apply: {after.summary()}\n{after.stderr[-2000:]}"
    assert re.search(MARKERS[name], after.stdout), after.stdout


def test_every_example_is_covered():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(MARKERS)
