"""The results cache: what its key depends on, how it is pruned, and `tffix clean`."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tffix import cache as cache_module
from tffix.cli import app
from tffix.config import Settings
from tffix.runner import Mode, run

FIXABLE = (
    "import tensorflow as tf\n"
    "with tf.GradientTape() as tape:\n"
    "    y = tf.cast(tf.cast(x, tf.int32), tf.float32)\n"
)
DAY = 24 * 60 * 60


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.py").write_text(FIXABLE, encoding="utf-8")
    (tmp_path / "b.py").write_text(FIXABLE.replace("y =", "z ="), encoding="utf-8")  # other bytes, other entry
    return tmp_path


def _check(settings: Settings = Settings()) -> tuple[int, int]:
    report = run([Path(".")], settings, Mode.CHECK, cache=True, jobs=1)
    return sum(o.analysed for o in report.outcomes), sum(o.cached for o in report.outcomes)


def _entries(root: Path) -> list[Path]:
    """The content cache's entries (not the stat indexes beside them: tffix.stat_index)."""
    return sorted(p for p in (root / ".tffix_cache").rglob("*.json") if not p.name.startswith("files-"))


def _age(path: Path, days: float) -> None:
    then = time.time() - days * DAY
    os.utime(path, (then, then))


def test_another_libcst_version_misses(project, monkeypatch):
    assert _check() == (2, 0)
    assert _check() == (0, 2)
    monkeypatch.setattr(cache_module, "_libcst_version", lambda: "0.0.1")
    cache_module.code_fingerprint.cache_clear()
    try:
        assert _check() == (2, 0)  # parses and scopes may differ: nothing cached under the other LibCST serves
    finally:
        cache_module.code_fingerprint.cache_clear()
    assert _check() == (0, 2)


def test_entries_unused_for_30_days_are_pruned_once_a_day(project):
    assert _check() == (2, 0)
    cache_root = project / ".tffix_cache"
    used, unused = _entries(project)
    stale_folder = cache_root / "an-older-tffix" / "ab"  # another fingerprint's folder
    stale_folder.mkdir(parents=True)
    (stale_folder / "old.json").write_text("{}", encoding="utf-8")
    _age(stale_folder / "old.json", 31)
    _age(unused, 31)

    cache_module.Cache(project)  # never pruned yet: prunes now
    assert _entries(project) == [used]
    assert not (cache_root / "an-older-tffix").exists()  # its folders went with their last entry
    assert (cache_root / "CACHEDIR.TAG").exists()

    _age(used, 31)
    cache_module.Cache(project)  # pruned less than a day ago: not again
    assert _entries(project) == [used]

    # A hit is a use: it refreshes the entry's time, and the next pruning (a day later) keeps it.
    assert cache_module.Cache(project).get(used.stem, "a.py") is not None
    assert used.stat().st_mtime > time.time() - 60
    _age(cache_root / ".last-pruned", 1.5)
    cache_module.Cache(project)
    assert _entries(project) == [used]
    for index in (cache_root).rglob("files-*.json"):  # the stat index would answer both files unread
        index.unlink()
    assert _check() == (1, 1)  # the pruned file is checked again; the other is still a hit


def test_prune_keeps_entries_used_within_the_limit(tmp_path):
    folder = tmp_path / ".tffix_cache" / "fingerprint" / "ab"
    folder.mkdir(parents=True)
    for name, days in (("fresh.json", 29), ("old.json", 31), (".x.tmp", 40)):
        (folder / name).write_text("{}", encoding="utf-8")
        _age(folder / name, days)
    assert cache_module.prune(tmp_path / ".tffix_cache") == 2
    assert [p.name for p in folder.iterdir()] == ["fresh.json"]


def test_clean_removes_the_cache_folders(project, monkeypatch):
    (project / "pyproject.toml").write_text("[tool.tffix]\n", encoding="utf-8")
    _check()
    nested = project / "sub" / "deeper"
    nested.mkdir(parents=True)
    (nested / "c.py").write_text(FIXABLE, encoding="utf-8")
    monkeypatch.chdir(nested)
    run([Path(".")], Settings(), Mode.CHECK, cache=True, jobs=1)  # no pyproject here: the cache is made here
    assert (project / ".tffix_cache").is_dir() and (nested / ".tffix_cache").is_dir()
    (project / "sub" / "keep.txt").write_text("not a cache", encoding="utf-8")

    monkeypatch.chdir(project / "sub")  # the project's root is above: its cache goes too, as the one below
    result = CliRunner().invoke(app, ["clean"])
    assert result.exit_code == 0
    assert not (project / ".tffix_cache").exists() and not (nested / ".tffix_cache").exists()
    assert (project / "sub" / "keep.txt").exists() and (nested / "c.py").exists() and (project / "a.py").exists()
    assert sorted(line for line in result.stderr.splitlines()) == sorted(
        f"Removing cache at: {path}" for path in (project / ".tffix_cache", nested / ".tffix_cache")
    )
    again = CliRunner().invoke(app, ["clean"])
    assert again.exit_code == 0 and again.stderr == ""
