"""The CLI at its edges: honest summaries (safe and unsafe fixes apart), unknown rule codes, the help text, the
rule list when piped, and `verify` showing its phases."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from edges_helpers import SAFE, TOY_RULES, UNSAFE, tffix, use_toy_rules, write
from tffix import engine as engine_module
from tffix.registry import all_rules

WIDE = {"COLUMNS": "200"}


def test_check_and_apply_say_which_fixes_plain_apply_makes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    use_toy_rules(monkeypatch)
    write(tmp_path, {"a.py": SAFE, "b.py": SAFE, "u.py": UNSAFE})
    result = tffix("check", "--no-cache", ".")
    assert result.exit_code == 1
    assert ("Found 3 findings (TFX991: 2, TFX992: 1); 2 fixable with `tffix apply`, "
            "1 more with `tffix apply --unsafe-fixes`.") in result.stderr
    result = tffix("apply", "--no-cache", ".")
    assert result.exit_code == 1
    assert ("Fixed 2 findings in 2 files (TFX991: 2); 1 remaining, 1 of them fixable only with `--unsafe-fixes`."
            in result.stderr)
    write(tmp_path, {"pyproject.toml": "[tool.tffix]\nunsafe-fixes = true\n"})
    result = tffix("check", "--no-cache", ".")
    assert "Found 1 finding (TFX992: 1); 1 fixable with `tffix apply`." in result.stderr


def test_a_code_that_matches_no_rule_is_a_usage_error_naming_the_valid_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"a.py": SAFE})
    for option in ("--select", "--ignore", "--extend-select"):
        result = tffix("check", option, "TFX999", "a.py")
        assert result.exit_code == 2
        assert "'TFX999' matches no rule" in result.stderr and "TFX1, TFX2, TFX3" in result.stderr
    assert tffix("check", "--select", "TFX3", "a.py").exit_code in (0, 1)
    write(tmp_path, {"pyproject.toml": '[tool.tffix]\nignore = ["TFX9"]\n'})
    result = tffix("check", "a.py")
    assert result.exit_code == 2
    assert "pyproject.toml: [tool.tffix]: 'ignore' has 'TFX9', which matches no rule" in result.stderr


def test_the_help_keeps_brackets_and_shows_no_type_placeholders():
    for command in ("check", "apply", "verify", "explain", "run"):
        text = tffix(command, "--help", env=WIDE).stdout
        assert "<bool>" not in text and "<list[" not in text and "<path>" not in text and "<float>" not in text
    assert "A pyproject.toml (its [tool.tffix]) or a tffix TOML file." in tffix("check", "--help", env=WIDE).stdout
    assert "<text|json|sarif|github>" in tffix("check", "--help", env=WIDE).stdout  # choices stay


def test_the_rule_list_is_whole_when_piped():
    result = subprocess.run([sys.executable, "-m", "tffix.cli", "rules"], capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "COLUMNS": "60", "HOME": str(Path.home())})
    assert result.returncode == 0
    for rule in all_rules():
        assert any(line.split()[:2] == [rule.code, rule.name] and line.rstrip().endswith(rule.summary)
                   for line in result.stdout.splitlines()), rule.code
    assert "…" not in result.stdout


def test_verify_shows_its_phases_on_stderr(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    real_engine = engine_module.Engine
    monkeypatch.setattr(engine_module, "Engine", lambda settings: real_engine(settings, rules=TOY_RULES))
    write(tmp_path, {"train.py": SAFE})
    result = tffix("verify", "train.py", "--", sys.executable, "-c", "pass")
    assert result.exit_code == 0, result.stderr
    phases = [line for line in result.stderr.splitlines() if line.startswith("tffix verify:")]
    assert phases[0] == "tffix verify: finding the fixes for train.py..."
    assert phases[1].startswith("tffix verify: 1 fix; running `") and phases[1].endswith("-c pass` before them...")
    assert phases[2].endswith("with the fixes in place...")
    assert (tmp_path / "train.py").read_text() == SAFE  # no --write: nothing kept
