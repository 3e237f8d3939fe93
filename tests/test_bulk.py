"""The bulk runner: discovery, workers, the cache, and files that must be reported and never written."""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from pathlib import Path

import libcst as cst
import pytest

from tffix import cache as cache_module
from tffix import runner as runner_module
from tffix.config import Settings, settings_from_table
from tffix.discovery import discover
from tffix.engine import Engine
from tffix.model import ProblemKind
from tffix.rule import Rule
from tffix.runner import Mode, run

FIXABLE = (  # TFX304's fix is unsafe: the runs that fix turn unsafe fixes on
    "import tensorflow as tf\n"
    "with tf.GradientTape() as tape:\n"
    "    y = tf.cast(tf.cast(x, tf.int32), tf.float32)\n"
    "grad = tape.gradient(y, x)\n"
)
FIXED = "import tensorflow as tf\nwith tf.GradientTape() as tape:\n    y = tf.cast(x, tf.float32)\ngrad = tape.gradient(y, x)\n"
CLEAN = "import tensorflow as tf\ny = tf.cast(x, tf.float32)\n"
TFX304 = Settings(select=("TFX304",), unsafe_fixes=True)


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())


def shown(paths) -> list[str]:
    return [Path(p).as_posix() for p in paths]


# --- discovery -----------------------------------------------------------------------------------------------
def test_discovery_respects_nested_gitignores_excludes_and_skips_environments(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    write(tmp_path, {
        ".gitignore": "build/\n*.gen.py\n",
        "src/a.py": "", "src/b.gen.py": "", "build/c.py": "",
        "src/sub/.gitignore": "local_*.py\n!local_keep.py\n",
        "src/sub/local_x.py": "", "src/sub/local_keep.py": "", "src/sub/d.ipynb": "{}", "src/sub/e.pyi": "",
        "src/sub/notes.txt": "", ".hidden/f.py": "", "venv/pyvenv.cfg": "", "venv/lib/g.py": "",
        "src/__pycache__/h.py": "", "third_party/i.py": "", "tests/fixtures/j.py": "",
    })
    settings = replace(settings_from_table({"exclude": ["third_party"], "extend-exclude": ["fixtures/"]}),
                       root=tmp_path)
    files, problems = discover([Path(".")], settings)
    assert shown(files) == ["src/a.py", "src/sub/d.ipynb", "src/sub/e.pyi", "src/sub/local_keep.py"]
    assert problems == []
    # A file named on the command line is taken even when a rule would leave it out; a missing one is reported.
    files, problems = discover([Path("build/c.py"), Path("missing.py")], settings)
    assert shown(files) == ["build/c.py"] and [p.path for p in problems] == ["missing.py"]
    # Rules of the checkout above a named directory still apply below it.
    files, _ = discover([Path("src")], settings)
    assert "src/b.gen.py" not in shown(files)


def test_output_order_is_sorted_and_the_same_with_any_number_of_workers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {f"pkg/m{i}.py": FIXABLE if i % 3 else CLEAN for i in range(30)})
    one = run([Path("pkg")], TFX304, Mode.CHECK, jobs=1)
    two = run([Path("pkg")], TFX304, Mode.CHECK, jobs=2)
    assert [o.path for o in one.outcomes] == sorted(f"pkg/m{i}.py" for i in range(30))
    assert one.outcomes == two.outcomes
    assert len(one.findings) == 20


# --- bad input ------------------------------------------------------------------------------------------------
BAD = {
    "py2.py": "import tensorflow as tf\nprint 'x', tf.cast(tf.cast(x, tf.int32), tf.float32)\n",
    "latin.py": b"import tensorflow as tf\nname = '\xe9'\n" + FIXABLE.encode(),
    "nul.py": FIXABLE.encode() + b"\x00",
    "huge.py": FIXABLE + "x = 1\n" * (2 * 1024 * 1024),
    "deep.py": FIXABLE + "z = " + "[" * 1000 + "]" * 1000 + "\n",
    "broken.ipynb": '{"cells": [',
}


@pytest.mark.parametrize("jobs", [1, 2])
def test_bad_files_are_reported_never_written_and_never_stop_the_others(tmp_path, monkeypatch, jobs):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {**BAD, "good.py": FIXABLE, "zzz.py": FIXABLE})
    before = {name: (tmp_path / name).read_bytes() for name in BAD}
    report = run([Path(".")], TFX304, Mode.FIX, jobs=jobs)
    failed = {p.path: p for p in report.all_problems}
    assert set(failed) == set(BAD)
    assert failed["py2.py"].kind is ProblemKind.SYNTAX and "Python 2" in failed["py2.py"].message
    assert "too deeply nested" in failed["deep.py"].message
    assert "too large" in failed["huge.py"].message and "NUL" in failed["nul.py"].message
    assert "utf-8" in failed["latin.py"].message and "JSON" in failed["broken.ipynb"].message
    assert all((tmp_path / name).read_bytes() == data for name, data in before.items())
    assert (tmp_path / "good.py").read_text() == FIXED == (tmp_path / "zzz.py").read_text()


class DieOnMarker(Rule):
    """Test rule: the process dies (as on a segfault or the OOM killer) on files holding DIE, and hangs on
    files holding HANG."""

    code = "TFX991"
    name = "die-on-marker"
    summary = "test"

    def visit_Module(self, node: cst.Module) -> None:
        if "DIE" in node.code:
            os.kill(os.getpid(), 9)
        if "HANG" in node.code:
            time.sleep(60)


def test_a_worker_that_dies_or_hangs_costs_only_its_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(runner_module, "make_engine", lambda settings: Engine(settings, rules=[DieOnMarker]))
    write(tmp_path, {f"f{i}.py": f"import tensorflow as tf\nx = {i}\n" for i in range(12)})
    write(tmp_path, {"f3.py": "import tensorflow as tf\nDIE = 1\n", "f7.py": "import tensorflow as tf\nHANG = 1\n"})
    started = time.monotonic()
    report = run([Path(".")], Settings(select=("TFX991",)), Mode.CHECK, jobs=2, timeout=2)
    assert time.monotonic() - started < 30
    assert len(report.outcomes) == 12
    problems = {p.path: p.message for p in report.all_problems}
    assert set(problems) == {"f3.py", "f7.py"}
    assert "died" in problems["f3.py"] and "SIGKILL" in problems["f3.py"]
    assert "gave up after 2 s" in problems["f7.py"]


# --- the cache ------------------------------------------------------------------------------------------------
def summary(report) -> tuple[int, int, int]:
    return (sum(o.analysed for o in report.outcomes), sum(o.cached for o in report.outcomes),
            len(report.findings))


def test_cache_hits_and_what_invalidates_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # a.py and c.py differ: with the same bytes, whichever worker came second could be answered from the entry
    # the first had just stored (as it should), and the count would depend on the order the workers ran in
    write(tmp_path, {"a.py": FIXABLE, "b.py": CLEAN, "c.py": FIXABLE + "# c\n"})
    settings = Settings()
    assert summary(run([Path(".")], settings, Mode.CHECK, cache=True)) == (3, 0, 2)
    assert summary(run([Path(".")], settings, Mode.CHECK, cache=True)) == (0, 3, 2)
    # a changed file is analysed again, and only it
    (tmp_path / "c.py").write_text(CLEAN + "z = 1\n")
    assert summary(run([Path(".")], settings, Mode.CHECK, cache=True)) == (1, 2, 1)
    # a changed rule selection re-analyses, and its findings change
    assert summary(run([Path(".")], replace(settings, ignore=("TFX304",)), Mode.CHECK, cache=True)) == (3, 0, 0)
    # so does a changed per-file setting, for the files it touches
    per_file = replace(settings, per_file_ignores=(("a.py", ("TFX4",)),))
    assert summary(run([Path(".")], per_file, Mode.CHECK, cache=True)) == (1, 2, 1)
    # a new tffix (version or rules) starts afresh
    monkeypatch.setattr(cache_module, "code_fingerprint", lambda: "another-tffix")
    assert summary(run([Path(".")], settings, Mode.CHECK, cache=True)) == (3, 0, 1)
    # --no-cache neither reads nor writes
    assert summary(run([Path(".")], settings, Mode.CHECK, cache=False)) == (3, 0, 1)


def test_corrupt_cache_entries_are_misses_never_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"a.py": FIXABLE, "b.py": FIXABLE + "z = 1\n"})
    run([Path(".")], Settings(), Mode.CHECK, cache=True)
    entries = sorted(p for p in (tmp_path / ".tffix_cache").rglob("*.json") if not p.name.startswith("files-"))
    [index] = (tmp_path / ".tffix_cache").rglob("files-*.json")  # the stat index (tffix.stat_index)
    assert len(entries) == 2
    entries[0].write_bytes(b"\x00garbage{")
    entries[1].write_text(json.dumps({"format": 1, "findings": [{"code": 1}], "problems": []}))
    index.write_bytes(b"\x00garbage{")
    report = run([Path(".")], Settings(), Mode.CHECK, cache=True)
    assert summary(report) == (2, 0, 2) and not report.all_problems
    assert summary(run([Path(".")], Settings(), Mode.CHECK, cache=True)) == (0, 2, 2)  # rewritten


def test_the_cache_never_makes_apply_skip_a_fix_or_write_stale_text(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"a.py": CLEAN, "b.py": FIXABLE})
    run([Path(".")], Settings(), Mode.CHECK, cache=True)  # a: no findings; b: a fixable one, cached
    (tmp_path / "a.py").write_text(FIXABLE)  # changed after caching: the old "nothing to fix" must not count
    report = run([Path(".")], Settings(unsafe_fixes=True), Mode.FIX, cache=True)
    assert (tmp_path / "a.py").read_text() == FIXED == (tmp_path / "b.py").read_text()
    assert len(report.fixed) == 2
    # now both are known to have nothing to fix: apply skips them without parsing, and writes nothing
    report = run([Path(".")], Settings(unsafe_fixes=True), Mode.FIX, cache=True)
    assert summary(report) == (0, 2, 0) and not any(o.written for o in report.outcomes)
