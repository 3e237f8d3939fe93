"""Writing fixes: through symlinks (once), keeping hard links, refusing read-only files, naming the user's file
(never a temporary one) when a write fails, and never overwriting a file that changed since it was read (two
`apply` runs on one tree)."""

from __future__ import annotations

import errno
import os
import signal
import threading
from pathlib import Path

from edges_helpers import SAFE, SAFE_FIXED, TOY_RULES, UNSAFE, use_toy_rules, write
from tffix.config import Settings
from tffix.engine import Engine
from tffix.model import ProblemKind
from tffix.reporting import summary_lines
from tffix.runner import Job, Mode, process_file, run


def test_a_symlinked_file_is_fixed_through_the_link_once_and_stays_a_link(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    use_toy_rules(monkeypatch)
    write(tmp_path, {"pkg/real.py": SAFE})
    os.symlink("real.py", tmp_path / "pkg/link.py")
    report = run([Path("pkg")], Settings(), Mode.CHECK)
    assert [o.path for o in report.outcomes] == ["pkg/real.py"] and len(report.findings) == 1  # counted once
    report = run([Path("pkg/link.py")], Settings(), Mode.FIX)  # named explicitly: followed, as Ruff does
    assert [o.written for o in report.outcomes] == [True]
    assert (tmp_path / "pkg/link.py").is_symlink() and os.readlink(tmp_path / "pkg/link.py") == "real.py"
    assert (tmp_path / "pkg/real.py").read_text() == SAFE_FIXED


def test_hard_links_are_kept(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    use_toy_rules(monkeypatch)
    write(tmp_path, {"a.py": SAFE})
    os.link(tmp_path / "a.py", tmp_path / "b.py")
    inode = os.stat(tmp_path / "a.py").st_ino
    report = run([Path(".")], Settings(), Mode.FIX)
    assert len(report.outcomes) == 1 and report.outcomes[0].written  # one file, reached by two names
    assert os.stat(tmp_path / "a.py").st_ino == inode == os.stat(tmp_path / "b.py").st_ino
    assert (tmp_path / "b.py").read_text() == SAFE_FIXED


def test_a_read_only_file_is_refused_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    use_toy_rules(monkeypatch)
    write(tmp_path, {"ro.py": SAFE, "rw.py": SAFE})
    os.chmod(tmp_path / "ro.py", 0o444)
    report = run([Path(".")], Settings(), Mode.FIX)
    (problem,) = report.all_problems
    assert problem.kind is ProblemKind.UNWRITABLE
    assert str(problem) == "ro.py: unwritable error: read-only file; not written (make it writable to let tffix fix it)"
    assert (tmp_path / "ro.py").read_text() == SAFE and os.stat(tmp_path / "ro.py").st_mode & 0o777 == 0o444
    assert (tmp_path / "rw.py").read_text() == SAFE_FIXED
    assert "Fixed 1 finding in 1 file" in summary_lines(report, applying=True)[1]


def test_a_failed_write_names_the_users_file_and_no_temporary_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    use_toy_rules(monkeypatch)
    write(tmp_path, {"full.py": SAFE})

    def no_space(source, target, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(source))

    monkeypatch.setattr(os, "replace", no_space)  # inherited by the forked worker
    report = run([Path("full.py")], Settings(), Mode.FIX)
    (problem,) = report.all_problems
    assert str(problem) == "full.py: unwritable error: cannot write the fixed file: No space left on device; not written"
    assert (tmp_path / "full.py").read_text() == SAFE
    assert [p.name for p in tmp_path.iterdir()] == ["full.py"]  # the temporary file is gone too


def test_two_runs_on_one_file_never_overwrite_each_other(tmp_path, monkeypatch):
    """Run A has read the file and is writing its fix; run B read the same bytes. B must not write over A's
    fix (nor A over B's): the one that comes second finds the file changed and says so."""
    both = SAFE + UNSAFE.split("\n", 1)[1]  # identity (safe fix) and stop_gradient (unsafe fix)
    write(tmp_path, {"m.py": both})
    path = tmp_path / "m.py"
    engine = Engine(Settings(), rules=TOY_RULES)
    in_window, go = threading.Event(), threading.Event()
    import tffix.source as source_module

    real_temporary = source_module._temporary
    calls = []

    def slow_temporary(*args, **kwargs):  # A pauses just before it writes its fix
        calls.append(1)
        if len(calls) == 1:
            in_window.set()
            go.wait(10)
        return real_temporary(*args, **kwargs)

    monkeypatch.setattr(source_module, "_temporary", slow_temporary)
    outcomes = {}
    a = threading.Thread(target=lambda: outcomes.setdefault("A", process_file(path, Job(engine, Mode.FIX, False))))
    b = threading.Thread(target=lambda: outcomes.setdefault("B", process_file(path, Job(engine, Mode.FIX, True))))
    a.start()
    assert in_window.wait(30)
    b.start()
    b.join(3)  # B reads, fixes and comes to write while A is about to
    go.set()
    a.join(30)
    b.join(30)
    assert outcomes["A"].written and path.read_text() == "import tensorflow as tf\ny = x\nz = tf.stop_gradient(x)\n"
    assert not outcomes["B"].written
    (problem,) = outcomes["B"].problems
    assert problem.kind is ProblemKind.UNWRITABLE and problem.message == "changed on disk since it was read; not written"


def test_an_interrupted_apply_counts_the_file_it_wrote(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    use_toy_rules(monkeypatch)
    write(tmp_path, {"a.py": SAFE, "b.py": SAFE, "c.py": SAFE})
    real_fsync = os.fsync

    def fsync_then_get_stopped(fd):  # in the worker, writing a fix: the parent is stopped right then
        real_fsync(fd)
        os.kill(os.getppid(), signal.SIGTERM)
        signal.sigtimedwait([signal.SIGUSR1], 1.0)  # the parent's SIGTERM to this worker arrives meanwhile

    monkeypatch.setattr(os, "fsync", fsync_then_get_stopped)
    report = run([Path(".")], Settings(), Mode.FIX, jobs=1)
    assert report.interrupted == "SIGTERM"
    written = [o.path for o in report.outcomes if o.written]
    assert written == ["a.py"] and (tmp_path / "a.py").read_text() == SAFE_FIXED
    assert (tmp_path / "b.py").read_text() == SAFE == (tmp_path / "c.py").read_text()
    assert summary_lines(report, applying=True)[1].startswith("Fixed 1 finding in 1 file")


def test_a_killed_writers_leftover_is_cleared_by_the_next_write_of_that_file(tmp_path, monkeypatch):
    """SIGKILL (or a power cut) between filling the temporary file and the replace leaves the temporary file;
    the file itself still holds its old bytes. The next run that writes that file takes the leftover's place."""
    from tffix.source import unfinished_write

    monkeypatch.chdir(tmp_path)
    use_toy_rules(monkeypatch)
    write(tmp_path, {"a.py": SAFE, "b.py": SAFE})
    unfinished_write(tmp_path / "a.py").write_text(SAFE_FIXED[:7])  # a half-written fix
    report = run([Path(".")], Settings(), Mode.FIX)
    assert [o.written for o in report.outcomes] == [True, True] and not report.all_problems
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.py", "b.py"]
    assert (tmp_path / "a.py").read_text() == SAFE_FIXED == (tmp_path / "b.py").read_text()


def test_a_worker_killed_mid_write_leaves_no_temporary_file_and_its_file_is_fixed_on_the_retry(
    tmp_path, monkeypatch
):
    import tffix.source as source_module

    monkeypatch.chdir(tmp_path)
    use_toy_rules(monkeypatch)
    write(tmp_path, {f"m{i}.py": SAFE for i in range(4)})
    died = tmp_path.parent / f"{tmp_path.name}-died"  # outside the tree: the worker's one death, on record
    fill = source_module._fill

    def fill_then_die_once(fd: int, data: bytes) -> None:
        try:
            os.close(os.open(died, os.O_CREAT | os.O_EXCL))  # the first writer only
        except FileExistsError:
            return fill(fd, data)
        fill(fd, data[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would, with the temporary file half full

    monkeypatch.setattr(source_module, "_fill", fill_then_die_once)  # inherited by the forked workers
    report = run([Path(".")], Settings(), Mode.FIX, jobs=2, timeout=20)
    assert died.exists()  # a worker did die mid-write
    assert not report.all_problems and all(o.written for o in report.outcomes)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"m{i}.py" for i in range(4)]  # no temporary file
    assert all((tmp_path / f"m{i}.py").read_text() == SAFE_FIXED for i in range(4))


def test_a_file_whose_worker_dies_mid_write_twice_is_reported_unchanged_with_no_temporary_file(
    tmp_path, monkeypatch
):
    import tffix.source as source_module

    monkeypatch.chdir(tmp_path)
    use_toy_rules(monkeypatch)
    write(tmp_path, {"doomed.py": SAFE.replace("x", "doomed"), "fine.py": SAFE})
    fill = source_module._fill

    def die_on_doomed(fd: int, data: bytes) -> None:
        if b"doomed" not in data:
            return fill(fd, data)
        fill(fd, data[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(source_module, "_fill", die_on_doomed)
    report = run([Path(".")], Settings(), Mode.FIX, jobs=2, timeout=20)
    (problem,) = report.all_problems
    assert problem.path == "doomed.py" and "died on this file twice (killed by SIGKILL)" in problem.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doomed.py", "fine.py"]
    assert (tmp_path / "doomed.py").read_text() == SAFE.replace("x", "doomed")
    assert (tmp_path / "fine.py").read_text() == SAFE_FIXED


def test_a_file_whose_name_leaves_no_room_for_a_temporary_name_is_fixed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    use_toy_rules(monkeypatch)
    name = "m" * 250 + ".py"  # 253 bytes: ".<name>.tffix-tmp" would pass the 255-byte limit
    write(tmp_path, {name: SAFE})
    report = run([Path(".")], Settings(), Mode.FIX)
    assert not report.all_problems and [o.written for o in report.outcomes] == [True]
    assert [p.name for p in tmp_path.iterdir()] == [name] and (tmp_path / name).read_text() == SAFE_FIXED
