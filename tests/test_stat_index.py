"""The stat index (tffix.stat_index): a warm run answers unchanged files from their stat, without reading them,
importing the engine or starting a worker; anything that changed, or may have, is looked at again."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tffix import runner as runner_module
from tffix.config import Settings
from tffix.runner import Mode, run

FIXABLE = (
    "import tensorflow as tf\n"
    "with tf.GradientTape() as tape:\n"
    "    y = tf.cast(tf.cast(x, tf.int32), tf.float32)\n"
    "grad = tape.gradient(y, x)\n"
)
CLEAN = "import tensorflow as tf\nx = tf.constant(1.0)\n"
PLAIN = "print('no tensorflow here')\n"
HOUR_AGO_NS = time.time_ns() - 3600 * 10**9


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, text in (("a.py", FIXABLE), ("b.py", CLEAN), ("c.py", PLAIN), ("broken.py", FIXABLE + "def f(:\n")):
        (tmp_path / name).write_text(text, encoding="utf-8")
        os.utime(tmp_path / name, ns=(HOUR_AGO_NS, HOUR_AGO_NS))  # not racily clean: its stat is trusted
    return tmp_path


def _summary(report) -> tuple[int, int, int]:
    """(analysed, answered from a cache, findings)"""
    return (sum(o.analysed for o in report.outcomes), sum(o.cached or o.skipped for o in report.outcomes),
            len(report.findings))


def _no_engine(settings):
    raise AssertionError("the run needed the engine")


def _reads(monkeypatch, root: Path) -> list[str]:
    """Record every read of a file of `root` outside the cache folder."""
    seen: list[str] = []
    original = Path.read_bytes

    def read_bytes(self):
        if ".tffix_cache" not in self.parts and self.resolve().is_relative_to(root.resolve()):
            seen.append(self.name)
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    return seen


def _results(report) -> list:
    return [(o.path, [f.to_json() for f in o.findings], [str(p) for p in o.problems], o.skipped)
            for o in report.outcomes]


def test_an_unchanged_tree_is_answered_unread_and_the_same(project, monkeypatch):
    cold = run([Path(".")], Settings(), Mode.CHECK, cache=True, jobs=1, with_edits=True)
    assert _summary(cold) == (3, 1, 1) and cold.all_problems  # broken.py's syntax error is an answer too
    monkeypatch.setattr(runner_module, "make_engine", _no_engine)
    reads = _reads(monkeypatch, project)
    warm = run([Path(".")], Settings(), Mode.CHECK, cache=True, jobs=1, with_edits=True)
    assert reads == []
    assert _summary(warm) == (0, 4, 1)
    assert _results(warm) == _results(cold)  # findings with their fix edits, problems, skips


def test_a_touched_file_is_hashed_not_analysed_and_a_changed_one_is_analysed(project, monkeypatch):
    run([Path(".")], Settings(), Mode.CHECK, cache=True, jobs=1)
    os.utime(project / "a.py", ns=(HOUR_AGO_NS + 10**9, HOUR_AGO_NS + 10**9))  # touched: same bytes
    reads = _reads(monkeypatch, project)
    with monkeypatch.context() as patched:
        patched.setattr(runner_module, "make_engine", _no_engine)
        assert _summary(run([Path(".")], Settings(), Mode.CHECK, cache=True, jobs=1)) == (0, 4, 1)
    assert reads == ["a.py"]
    (project / "b.py").write_text(FIXABLE + "# edited\n", encoding="utf-8")
    assert _summary(run([Path(".")], Settings(), Mode.CHECK, cache=True, jobs=1)) == (1, 3, 2)


def test_a_racily_clean_file_is_hashed_next_time(project):
    """A file modified just before the run may change again within its mtime's resolution: its stat is not
    trusted, so an edit that keeps its size and mtime is still seen."""
    fresh = project / "a.py"
    fresh.write_text(FIXABLE, encoding="utf-8")  # modified now
    stamp = fresh.stat().st_mtime_ns
    run([Path(".")], Settings(), Mode.CHECK, cache=True, jobs=1)
    fresh.write_text(FIXABLE.replace("tf.int32", "tf.int64"), encoding="utf-8")  # same size
    os.utime(fresh, ns=(stamp, stamp))  # and the same mtime
    report = run([Path(".")], Settings(), Mode.CHECK, cache=True, jobs=1)
    assert _summary(report)[0] == 1
    assert [o.path for o in report.outcomes if o.analysed] == ["a.py"]


def test_apply_is_never_answered_for_a_file_with_a_fix_to_make(project):
    run([Path(".")], Settings(), Mode.CHECK, cache=True, jobs=1)
    report = run([Path(".")], Settings(unsafe_fixes=True), Mode.FIX, cache=True, jobs=1)
    assert [o.path for o in report.outcomes if o.written] == ["a.py"]
    again = run([Path(".")], Settings(unsafe_fixes=True), Mode.FIX, cache=True, jobs=1)
    assert not any(o.written or o.analysed for o in again.outcomes)


def test_each_selection_has_its_own_index(project, monkeypatch):
    run([Path(".")], Settings(), Mode.CHECK, cache=True, jobs=1)
    ignoring = Settings(ignore=("TFX304",))
    assert _summary(run([Path(".")], ignoring, Mode.CHECK, cache=True, jobs=1))[2] == 0
    monkeypatch.setattr(runner_module, "make_engine", _no_engine)
    assert _summary(run([Path(".")], Settings(), Mode.CHECK, cache=True, jobs=1)) == (0, 4, 1)
    assert _summary(run([Path(".")], ignoring, Mode.CHECK, cache=True, jobs=1)) == (0, 4, 0)


def test_the_index_forgets_files_its_walk_no_longer_finds(project):
    run([Path(".")], Settings(), Mode.CHECK, cache=True, jobs=1)
    [document] = (project / ".tffix_cache").rglob("files-*.json")
    known = lambda: sorted(Path(key).name for key in json.loads(document.read_text())["files"])  # noqa: E731
    assert known() == ["a.py", "b.py", "broken.py", "c.py"]
    (project / "b.py").unlink()
    run([Path("a.py")], Settings(), Mode.CHECK, cache=True, jobs=1)  # a file named alone walks no folder
    assert known() == ["a.py", "b.py", "broken.py", "c.py"]
    run([Path(".")], Settings(), Mode.CHECK, cache=True, jobs=1)
    assert known() == ["a.py", "broken.py", "c.py"]
