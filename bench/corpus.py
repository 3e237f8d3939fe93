"""The real-code corpus: published TensorFlow/Keras projects, downloaded from PyPI and unpacked in a cache.

    python bench/corpus.py [--cache DIR] [--list]

Every rule is run over this corpus before it is called done (`bench/precision.py`), and the speed benchmarks
measure on it: it is code nobody on this project wrote, TF1 graph code and TF2/Keras alike. Each project is
pinned to one version, so that a judgement in `bench/judgements.tsv` (project, version, path, line) keeps
pointing at the code it was made on. Nothing is written into the repository: the cache defaults to
`~/.cache/tffix-corpus` (or `$TFFIX_CORPUS`). A project already unpacked is not downloaded again.

Prints one line per project (files, notebooks) and the totals; exits 1 if a download failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Project:
    name: str  # the PyPI distribution name
    version: str
    style: str  # "tf1", "tf2" or "mixed": what kind of TensorFlow code most of it is

    @property
    def folder(self) -> str:
        return f"{self.name}-{self.version}"


# Chosen for breadth: TF1 graph code (variable scopes, sessions, device pins, TPU estimators), TF2 eager code
# (GradientTape training loops, tf.function), Keras 2 and Keras 3 model code, RL, probabilistic programming.
PROJECTS: tuple[Project, ...] = (
    Project("tf-models-official", "2.20.0", "tf2"),
    Project("tf-agents", "0.19.0", "tf2"),
    Project("dm-sonnet", "2.0.2", "tf2"),
    Project("dm-sonnet", "1.36", "tf1"),
    Project("tensorflow-addons", "0.23.0", "tf2"),
    Project("keras-hub", "0.32.0", "tf2"),
    Project("keras-cv", "0.9.0", "tf2"),
    Project("magenta", "2.1.4", "tf1"),
    Project("dopamine-rl", "4.1.2", "mixed"),
    Project("trax", "1.4.1", "tf2"),
    Project("lingvo", "0.14.2", "tf1"),
    Project("tensorflow-probability", "0.25.0", "tf2"),
    Project("tf-slim", "1.1.0", "tf1"),
    Project("tensorflow-ranking", "0.5.5", "tf2"),
    Project("tensorflow-recommenders", "0.7.7", "tf2"),
    Project("tensor2tensor", "1.15.7", "tf1"),
    Project("tensorflow-gan", "2.1.0", "mixed"),
    Project("stable-baselines", "2.10.2", "tf1"),
    Project("tensorpack", "0.11", "tf1"),
    Project("tflearn", "0.5.0", "tf1"),
    Project("edward", "1.3.5", "tf1"),
    Project("tensorlayer", "2.2.5", "tf2"),
    Project("Keras", "2.3.1", "tf1"),
    Project("neural-structured-learning", "1.4.0", "tf2"),
    Project("tensorflow-model-optimization", "0.8.1", "tf2"),
    Project("gpflow", "2.9.2", "tf2"),
    Project("bert-tensorflow", "1.0.4", "tf1"),
    Project("mesh-tensorflow", "0.1.21", "tf1"),
    Project("gpt-2-simple", "0.8.1", "tf1"),
    Project("deepctr", "0.9.4", "mixed"),
    Project("Tensorforce", "0.6.5", "tf2"),
    Project("textgenrnn", "2.0.0", "tf2"),
    Project("ktrain", "0.41.4", "tf2"),
    Project("kashgari", "2.0.2", "tf2"),
    Project("spektral", "1.3.1", "tf2"),
)

SOURCE_SUFFIXES = (".py", ".ipynb")


def default_cache() -> Path:
    return Path(os.environ.get("TFFIX_CORPUS", Path.home() / ".cache" / "tffix-corpus"))


def unpack(archive: Path, dest: Path) -> None:
    """Unpack only the Python sources and notebooks: the corpus is code to read, not to install."""
    dest.mkdir(parents=True, exist_ok=True)
    if archive.suffix == ".whl" or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if info.filename.endswith(SOURCE_SUFFIXES) and not info.is_dir():
                    zf.extract(info, dest)
    else:
        with tarfile.open(archive) as tf:
            members = [m for m in tf.getmembers() if m.isfile() and m.name.endswith(SOURCE_SUFFIXES)]
            tf.extractall(dest, members=members, filter="data")


def fetch(project: Project, cache: Path) -> Path:
    """The project's unpacked folder in the cache, downloading it first if it is not there."""
    dest = cache / project.folder
    if dest.is_dir() and (dest / ".complete").exists():
        return dest
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp,
             f"{project.name}=={project.version}"],
            check=True,
            stderr=subprocess.PIPE,  # pip's warnings about the extra indexes of this machine are noise here
        )
        (archive,) = Path(tmp).iterdir()
        if dest.exists():
            shutil.rmtree(dest)
        unpack(archive, dest)
    (dest / ".complete").write_text(f"{project.name}=={project.version}\n")
    return dest


def corpus_files(cache: Path | None = None) -> list[tuple[Project, Path, Path]]:
    """(project, project folder, file) for every source file of every project already in the cache."""
    cache = cache or default_cache()
    found = []
    for project in PROJECTS:
        root = cache / project.folder
        if not (root / ".complete").exists():
            continue
        for path in sorted(root.rglob("*")):
            if path.suffix in SOURCE_SUFFIXES and path.is_file():
                found.append((project, root, path))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=default_cache(), help="where the corpus is unpacked")
    parser.add_argument("--list", action="store_true", help="print the project folders only, one a line")
    args = parser.parse_args(argv)
    failed = 0
    totals = [0, 0]
    for project in PROJECTS:
        try:
            root = fetch(project, args.cache)
        except subprocess.CalledProcessError as error:
            print(f"{project.folder}: download failed: {error.stderr.decode(errors='replace').strip()}",
                  file=sys.stderr)
            failed += 1
            continue
        except (ValueError, OSError) as error:
            print(f"{project.folder}: could not unpack: {error}", file=sys.stderr)
            failed += 1
            continue
        if args.list:
            print(root)
            continue
        py = sum(1 for _ in root.rglob("*.py"))
        nb = sum(1 for _ in root.rglob("*.ipynb"))
        totals[0] += py
        totals[1] += nb
        print(f"{project.folder:40} {project.style:5} {py:5} .py {nb:4} .ipynb")
    if not args.list:
        print(f"{'total':40} {'':5} {totals[0]:5} .py {totals[1]:4} .ipynb   in {args.cache}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
