"""Executors: the local process pool and a Dask cluster give the same results; many repositories in one run.

The Dask tests start a LocalCluster of 2 worker processes (and close it): `check --output-format json` over a
tree of a few hundred files prints the same document as the local executor, `apply` writes the same bytes, and
a worker killed mid-run still leaves a complete, identical result.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from edges_helpers import tffix, write
from tffix.config import ConfigError, Settings, settings_from_table
from tffix.executors import BATCH_BYTES, BATCH_FILES, _Batcher, _budget
from tffix.repos import is_url, read_list
from tffix.runner import Mode, run

FIXTURES = Path(__file__).parent / "fixtures"
FIXABLE = (
    "import tensorflow as tf\n"
    "with tf.GradientTape() as tape:\n"
    "    y = tf.cast(tf.cast(x, tf.int32), tf.float32)\n"
    "grad = tape.gradient(y, x)\n"
)
CLEAN = "import tensorflow as tf\ny = tf.cast(x, tf.float32)\n"


def make_tree(root: Path, generated: int = 300) -> int:
    """A quarter of the fixtures' before.py files (real programs, real findings; every rule family), small
    generated files (some with findings, some clean, some with no TensorFlow at all), a file too large for the
    configured limit and one that does not parse."""
    befores = sorted(FIXTURES.glob("*/*/before.py"))[::4]
    for n, before in enumerate(befores):
        target = root / "fixtures" / f"{before.parent.parent.name}_{n:03d}.py"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(before, target)
    files = {}
    for i in range(generated):
        body = FIXABLE if i % 5 == 0 else CLEAN if i % 5 in (1, 2) else f"value_{i} = {i} * 2\n"
        files[f"gen/pkg{i % 7}/m{i:03d}.py"] = f"# generated {i}\n{body}"
    files["gen/huge.py"] = FIXABLE + "# padding\n" * 2000
    files["gen/py2.py"] = "import tensorflow as tf\nprint 'x', tf.cast(tf.cast(x, tf.int32), tf.float32)\n"
    files["pyproject.toml"] = '[tool.tffix]\nmax-file-size = "16KB"\n'
    write(root, files)
    return len(befores) + generated + 2


def test_executor_and_scheduler_are_settings():
    settings = settings_from_table({"executor": "dask", "scheduler": "tcp://head:8786"})
    assert (settings.executor, settings.scheduler) == ("dask", "tcp://head:8786")
    assert Settings().executor == "local" and Settings().scheduler is None
    for bad in ({"executor": "spark"}, {"scheduler": 8786}, {"scheduler": " "}):
        with pytest.raises(ConfigError, match="executor|scheduler"):
            settings_from_table(bad)


def test_small_files_are_batched_and_big_ones_go_alone():
    assert _budget(10**9, 2) == BATCH_BYTES and _budget(1000, 2) == 16 * 1024
    assert _budget(8 * 2 * 100_000, 2) == 100_000  # about 8 tasks a worker
    batcher = _Batcher(1000)
    sizes = [1500, 400, 400, 400, *[10] * 40]  # largest first, as the executor deals them
    batches = [full for i, size in enumerate(sizes) if (full := batcher.add(i, size))] + [batcher.batch]
    assert batches[0] == [0]  # over the budget: alone
    assert batches[1] == [1, 2] and batches[2][:2] == [3, 4]
    assert all(len(b) <= BATCH_FILES for b in batches)
    assert sorted(i for b in batches for i in b) == list(range(len(sizes)))  # every file in exactly one task


def test_repository_lists_and_urls(tmp_path):
    (tmp_path / "repos.txt").write_text("# ours\nsrc/a\n\n  https://example.org/x/y.git  \ngit@host:team/z.git\n")
    assert read_list(tmp_path / "repos.txt") == ["src/a", "https://example.org/x/y.git", "git@host:team/z.git"]
    assert is_url("file:///srv/repo") and is_url("git@host:team/z.git")
    assert not is_url("src/a") and not is_url("C-drive/a:b")


def test_many_repositories_get_a_summary_each_folders_and_git_urls(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"one/a.py": FIXABLE, "one/b.py": CLEAN, "two/c.py": FIXABLE, "two/d.py": FIXABLE,
                     "two/pyproject.toml": '[tool.tffix]\nignore = ["TFX3"]\n'})
    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", "one"], check=True)
    subprocess.run([*git, "-C", "one", "add", "."], check=True)
    subprocess.run([*git, "-C", "one", "commit", "-qm", "one"], check=True)
    subprocess.run([*git, "init", "-q", "two"], check=True)  # a checkout's root (folders in one checkout are one run)
    url = (tmp_path / "one").as_uri()
    (tmp_path / "repos.txt").write_text(f"two\n{url}\nfile:///no/such/repository\n")

    result = tffix("check", "--no-cache", "--select", "TFX3", "one", "--repos-from", "repos.txt")
    assert result.exit_code == 2, result.stderr  # the repository that cannot be cloned is an error
    assert "one/a.py:3:9: TFX304" in result.stdout
    lines = result.stderr.splitlines()
    assert "one: 2 files, 1 finding" in lines
    assert "two: 2 files, 0 findings" in lines  # its own [tool.tffix] ignores TFX3
    assert f"{url}: 2 files, 1 finding" in lines
    assert any(line.startswith("tffix: file:///no/such/repository: unreadable error: cannot clone:") for line in lines)
    assert "file:///no/such/repository: 0 files, 0 findings, 1 failed" in lines

    document = json.loads(tffix("check", "--no-cache", "--select", "TFX3", "--output-format", "json", "one", "two").stdout)
    assert [(r["repository"], r["summary"]["files"], r["summary"]["findings"])
            for r in document["repositories"]] == [("one", 2, 1), ("two", 2, 0)]
    assert document["summary"]["files"] == 4 and document["summary"]["findings"] == 1
    sarif = json.loads(tffix("check", "--no-cache", "--select", "TFX3", "--output-format", "sarif", "one", "two").stdout)
    (sarif_run,) = sarif["runs"]
    assert [r["repository"] for r in sarif_run["properties"]["repositories"]] == ["one", "two"]
    # one folder, or folders of one checkout, are no run over repositories: no per-repository summary
    write(tmp_path, {"one/sub/e.py": CLEAN})
    for paths in (["one"], ["one/sub", "two/c.py"]):
        assert "repositories" not in json.loads(tffix("check", "--no-cache", "--output-format", "json", *paths).stdout)


def test_no_path_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = tffix("check")
    assert result.exit_code == 2 and "no PATH given" in result.stderr


# --- Dask ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster():
    # The test extra installs Dask: missing, these tests must fail, not skip (a skip would prove nothing).
    import logging

    import dask.distributed as distributed

    local = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                     silence_logs=logging.ERROR)
    try:
        yield local
    finally:
        local.close()


@pytest.mark.slow
def test_dask_check_and_apply_match_the_local_executor(tmp_path, monkeypatch, cluster):
    local_tree, dask_tree = tmp_path / "local", tmp_path / "dask"
    total = make_tree(local_tree)
    assert total > 300
    shutil.copytree(local_tree, dask_tree)
    address = ["--executor", "dask", "--scheduler", cluster.scheduler_address]

    monkeypatch.chdir(local_tree)
    local = tffix("check", "--no-cache", "--output-format", "json", "--jobs", "2", ".")
    monkeypatch.chdir(dask_tree)
    remote = tffix("check", "--no-cache", "--output-format", "json", *address, ".")
    assert local.exit_code == remote.exit_code == 2  # huge.py and py2.py are errors
    assert remote.stdout == local.stdout
    document = json.loads(local.stdout)
    assert document["summary"]["files"] == total and document["summary"]["findings"] > 80
    assert {e["path"] for e in document["errors"]} == {"gen/huge.py", "gen/py2.py"}

    # apply: the same bytes written (by the client, for Dask), the same report
    monkeypatch.chdir(local_tree)
    local = tffix("apply", "--no-cache", "--unsafe-fixes", "--output-format", "json", "--jobs", "2", ".")
    monkeypatch.chdir(dask_tree)
    remote = tffix("apply", "--no-cache", "--unsafe-fixes", "--output-format", "json", *address, ".")
    assert remote.stdout == local.stdout
    assert json.loads(local.stdout)["summary"]["written"] > 40
    for path in sorted(local_tree.rglob("*.py")):
        assert (dask_tree / path.relative_to(local_tree)).read_bytes() == path.read_bytes(), path
    assert (local_tree / "gen/pkg0/m000.py").read_text().endswith("y = tf.cast(x, tf.float32)\ngrad = tape.gradient(y, x)\n")

    # the content cache is consulted on the client: a second check is answered without the cluster
    monkeypatch.chdir(dask_tree)
    first = json.loads(tffix("check", "--select", "TFX304", "--output-format", "json", *address, ".").stdout)["summary"]
    second = json.loads(tffix("check", "--select", "TFX304", "--output-format", "json", *address, ".").stdout)["summary"]
    assert second["cached"] == first["analysed"] > 0 and second["analysed"] == 0


@pytest.mark.slow
def test_a_dask_worker_killed_mid_run_still_gives_the_whole_identical_result(tmp_path, monkeypatch, cluster):
    from dask.distributed import Client

    from tffix.executors import DaskExecutor

    make_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    settings = Settings(max_file_size=16 * 1024)
    expected = run([Path(".")], settings, Mode.CHECK, jobs=2, with_edits=True)

    executor = DaskExecutor(cluster.scheduler_address)
    with Client(cluster.scheduler_address) as observer:
        pids = observer.run(os.getpid)
    killed, analysed = [], []

    def progress(done, total, outcome):
        analysed.extend([1] if outcome is not None and outcome.analysed else [])
        if len(analysed) == 20 and not killed:  # mid-run: both workers hold tasks; kill one outright
            pid = next(iter(pids.values()))
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    try:
        report = run([Path(".")], settings, Mode.CHECK, with_edits=True, executor=executor, progress=progress)
    finally:
        executor.close()
    assert killed
    assert report.total == expected.total == len(report.outcomes)
    assert report.outcomes == expected.outcomes


def test_a_client_side_write_holds_interrupts_until_its_outcome_is_recorded():
    from tffix.executors import _SignalsHeld
    from tffix.runner import _Interrupted, _SignalsInterrupt

    recorded = []
    with _SignalsInterrupt(), pytest.raises(_Interrupted):
        with _SignalsHeld():
            os.kill(os.getpid(), signal.SIGTERM)  # arrives while "writing"
            time.sleep(0.05)
            recorded.append("written")  # still runs: the write and its outcome are one
    assert recorded == ["written"]
    with pytest.raises(KeyboardInterrupt), _SignalsHeld():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)


@pytest.mark.slow
def test_a_cluster_running_another_tffix_is_refused(monkeypatch, cluster):
    import tffix
    from tffix.executors import DaskExecutor

    monkeypatch.setattr(tffix, "__version__", "0.0.0-client")  # the workers import the real one
    with pytest.raises(RuntimeError, match="runs tffix .* install the same tffix there"):
        DaskExecutor(cluster.scheduler_address)
