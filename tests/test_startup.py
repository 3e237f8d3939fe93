"""What each command imports: no LibCST, no rule and no TensorFlow for `--version`, `--help`, `rules` and a
run the stat index answers wholly (issue 17: they start in a tenth of a second, not in one or four). Each
command runs in a fresh interpreter that then lists the heavy modules it imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

HEAVY = ("libcst", "tensorflow", "keras", "pebble", "pydantic")
PROBE = (
    "import sys\n"
    "from tffix.__main__ import main\n"
    "sys.argv = ['tffix', *sys.argv[1:]]\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
    f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}"
    " or m.startswith(('tffix.transforms', 'tffix.engine', 'tffix.rule', 'tffix.registry')))\n"
    "print(repr(heavy), file=sys.stderr)\n"
)
FIXABLE = (
    "import tensorflow as tf\n"
    "with tf.GradientTape() as tape:\n"
    "    y = tf.cast(tf.cast(x, tf.int32), tf.float32)\n"
    "grad = tape.gradient(y, x)\n"
)


def imports(*arguments: str, cwd=None) -> tuple[list[str], subprocess.CompletedProcess]:
    result = subprocess.run([sys.executable, "-c", PROBE, *arguments], capture_output=True, text=True, cwd=cwd)
    return eval(result.stderr.splitlines()[-1]), result  # noqa: S307 - our own probe's repr of a list of names


@pytest.mark.parametrize("arguments", [("--version",), ("--help",), ("check", "--help"), ("rules",),
                                       ("rules", "--format", "json"), ("rules", "--format", "markdown")])
def test_commands_that_need_no_rule_import_none(arguments):
    heavy, result = imports(*arguments)
    assert result.stdout.strip(), result.stderr
    assert heavy == []


def test_the_version_is_answered_before_the_cli_framework_loads():
    probe = "import sys; from tffix.__main__ import main; sys.argv = ['tffix', '--version']; main(); " \
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'rich', 'click')))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    version, loaded = result.stdout.splitlines()
    assert version.startswith("tffix ") and loaded == "[]"


def test_a_warm_run_imports_no_libcst_no_rules_and_no_tensorflow(tmp_path):
    (tmp_path / "a.py").write_text(FIXABLE, encoding="utf-8")
    (tmp_path / "b.py").write_text("import tensorflow as tf\nx = tf.constant(1)\n", encoding="utf-8")
    hour_ago = time.time_ns() - 3600 * 10**9
    for name in ("a.py", "b.py"):
        os.utime(tmp_path / name, ns=(hour_ago, hour_ago))
    cold_heavy, cold = imports("check", "--output-format", "json", ".", cwd=tmp_path)
    warm_heavy, warm = imports("check", "--output-format", "json", ".", cwd=tmp_path)
    assert "libcst" in cold_heavy  # the probe sees imports: a cold run needs LibCST
    assert warm_heavy == []
    cold_report, warm_report = json.loads(cold.stdout), json.loads(warm.stdout)
    assert warm_report["findings"] == cold_report["findings"] and len(cold_report["findings"]) == 1
    assert (cold_report["summary"]["analysed"], warm_report["summary"]["analysed"]) == (2, 0)
