"""Big files: a per-file size cap (`max-file-size`) and time limit, the same for a file named alone as for one
found in a directory; a run that was stopped or gave up never reports success."""

from __future__ import annotations

import time
from pathlib import Path

import libcst as cst

from edges_helpers import SAFE, use_toy_rules, tffix, write
from tffix import runner as runner_module
from tffix.config import DEFAULT_MAX_FILE_SIZE, Settings, settings_from_table
from tffix.engine import Engine
from tffix.model import ProblemKind
from tffix.reporting import summary_lines
from tffix.rule import Rule
from tffix.runner import FileOutcome, Mode, RunReport, run

BIG = SAFE + "# padding\n" * 200  # 2.0 KB


def test_a_file_over_max_file_size_is_skipped_named_or_found_and_the_run_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    use_toy_rules(monkeypatch)
    write(tmp_path, {"pyproject.toml": '[tool.tffix]\nmax-file-size = "1KB"\n', "big.py": BIG, "small.py": SAFE})
    for args in (["big.py"], ["."]):
        for command in ("check", "apply"):
            result = tffix(command, "--no-cache", *args)
            assert result.exit_code == 2, result.stderr
            assert "tffix: big.py: skipped: file too large (2.0 KB > 1.0 KB limit)" in result.stderr
            assert "max-file-size" in result.stderr and "All checks passed!" not in result.stderr
            assert "1 too large" in result.stderr
    assert (tmp_path / "big.py").read_text() == BIG  # never analysed, never written


def test_the_default_limit_skips_a_generated_file_without_reading_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert DEFAULT_MAX_FILE_SIZE == 1024 * 1024
    (tmp_path / "generated.py").write_text("import tensorflow as tf\n" + "x = tf.identity(1)\n" * 70_000)  # 1.3 MB
    started = time.monotonic()
    report = run([Path("generated.py")], Settings(), Mode.CHECK)
    assert time.monotonic() - started < 20
    (problem,) = report.all_problems
    assert problem.kind is ProblemKind.SKIPPED and str(problem).startswith("generated.py: skipped: file too large (1.3 MB")


def test_max_file_size_takes_bytes_or_units_and_refuses_nonsense():
    assert settings_from_table({"max-file-size": 5000}).max_file_size == 5000
    assert settings_from_table({"max_file_size": "2 MB"}).max_file_size == 2 * 1024 * 1024
    for bad in ("big", 0, -1, True, "3 parsecs"):
        try:
            settings_from_table({"max-file-size": bad})
        except Exception as exc:
            assert "max-file-size" in str(exc)
        else:
            raise AssertionError(f"{bad!r} was taken")


def test_file_timeout_is_a_setting():
    assert Settings().file_timeout == 300.0
    assert settings_from_table({"file-timeout": 30}).file_timeout == 30.0
    for bad in (0, "ten", True):
        try:
            settings_from_table({"file-timeout": bad})
        except Exception as exc:
            assert "file-timeout" in str(exc)
        else:
            raise AssertionError(f"{bad!r} was taken")


class Hang(Rule):
    """Toy rule that hangs on a file holding HANG."""

    code = "TFX993"
    name = "toy-hang"
    summary = "toy"
    triggers = ("HANG",)

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == "HANG":
            time.sleep(20)


def test_a_file_named_alone_gets_the_same_time_limit_as_one_found(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(runner_module, "make_engine", lambda settings: Engine(settings, rules=[Hang]))
    write(tmp_path, {"slow.py": "import tensorflow as tf\nHANG = 1\n"})
    started = time.monotonic()
    report = run([Path("slow.py")], Settings(file_timeout=2), Mode.CHECK)
    assert time.monotonic() - started < 15
    (problem,) = report.all_problems
    assert problem.path == "slow.py" and "gave up after 2 s" in problem.message
    assert not any("All checks passed!" in line for line in summary_lines(report))


def test_an_interrupted_run_never_reports_success_nor_claims_writes_it_did_not_make():
    report = RunReport((FileOutcome("a.py", analysed=True),), interrupted="SIGINT", total=5)
    lines = summary_lines(report)
    assert not any("All checks passed!" in line for line in lines)
    assert "Interrupted by SIGINT after 1 of 5 files" in lines[-1] and "wholly" not in lines[-1]
    dry = summary_lines(report, applying=True, dry_run=True)
    assert "wholly" not in dry[-1]
    applied = summary_lines(report, applying=True)
    assert "every file is wholly old or wholly new" in applied[-1]
