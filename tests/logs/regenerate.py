"""Regenerate the captured logs in this folder by running the tiny programs in programs/ under real TensorFlow.

    python tests/logs/regenerate.py            # every log
    python tests/logs/regenerate.py NAME...    # only these (log names without .log)

Each program triggers one TensorFlow failure family (see its docstring). Its stderr is saved as NAME.log,
exactly as a user would paste it, except that the absolute path of programs/ becomes /home/user/project so
the logs do not depend on where the checkout is (tests look those files up with `--root`, as a user with a
log from another machine would). A few programs are also run under IPython (NAME.ipython.log), which prints
the traceback format Jupyter and Colab show.

colab_ipython7_keras_shape.log is not regenerated: it is the IPython 7 format that Colab prints (IPython 7.34),
written by hand after that format, since this machine has IPython 8.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs"
PLACEHOLDER = "/home/user/project"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}

IPYTHON_RUNS = {
    "keras3_bce_two_units.ipython": ["-c", "%run keras3_bce_two_units.py"],
    "colab_tpu_addr_cell.ipython": [
        "-c",
        "import os\nimport tensorflow as tf\n"
        "resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu='grpc://' + os.environ['COLAB_TPU_ADDR'])",
    ],
}


def python_runs() -> dict[str, tuple[list[str], Path]]:
    runs = {p.stem: ([sys.executable, p.name], PROGRAMS) for p in sorted(PROGRAMS.glob("*.py"))}
    runs["helpers_project_train"] = ([sys.executable, "train.py"], PROGRAMS / "helpers_project")
    for name, args in IPYTHON_RUNS.items():
        runs[name] = ([sys.executable, "-m", "IPython", "--colors=NoColor", "--no-banner", *args], PROGRAMS)
    return runs


def capture(name: str, command: list[str], cwd: Path) -> str:
    done = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300)
    text = done.stderr if not name.endswith(".ipython") else done.stdout + done.stderr
    text = text.replace(str(PROGRAMS), PLACEHOLDER)
    (HERE / f"{name}.log").write_text(text, encoding="utf-8")
    return f"{name}: exit {done.returncode}, {len(text.splitlines())} lines"


def main(names: list[str]) -> int:
    runs = python_runs()
    unknown = [n for n in names if n not in runs]
    if unknown:
        print(f"unknown: {unknown}; known: {sorted(runs)}", file=sys.stderr)
        return 2
    chosen = {n: runs[n] for n in (names or runs)}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for line in pool.map(lambda item: capture(item[0], *item[1]), chosen.items()):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
