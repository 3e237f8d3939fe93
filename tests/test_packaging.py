"""The rules live in the folder `transforms/` but must install as `tffix.transforms`: a wheel that shipped a
top-level `transforms` package would clash with the unrelated PyPI package of that name."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # pip builds a wheel
def test_wheel_ships_rules_under_tffix_only(tmp_path: Path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = tmp_path.glob("tffix-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    assert "transforms" not in top_level
    assert any(name.startswith("tffix/transforms/tfx") for name in names)
    assert all(name.startswith(("tffix/", "tffix-")) for name in names), sorted(top_level)


def test_installed_tffix_does_not_provide_a_top_level_transforms(tmp_path: Path):
    probe = (
        "import importlib.util, tffix.transforms as t\n"
        "spec = importlib.util.find_spec('transforms')\n"
        "import pathlib\n"
        "ours = pathlib.Path(t.__file__).resolve().parent\n"
        "print('clash' if spec and spec.origin and pathlib.Path(spec.origin).resolve().parent == ours else 'ok')\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert completed.stdout.strip() == "ok", completed.stderr
