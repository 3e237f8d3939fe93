"""Throughput of the executors: the local process pool at --jobs 1 and 2, and Dask on a LocalCluster of 2 workers.

    python bench/bench_executors.py [--copies 4] [--projects N | --files N] [--corpus DIR]

The tree is the real-code corpus (`python bench/corpus.py`: ~/.cache/tffix-corpus), copied `--copies` times
into a temporary folder; `--projects N` takes the first N projects (by name) and `--files N` the first N `.py`
files of the corpus (by path), for a machine where the whole corpus, four times, would take too long. Each
executor runs `tffix check` over it without the cache (`run(..., cache=False)`, as `--no-cache`), in this
process, with JSON output's fix edits computed. The Dask cluster is started before its run is timed (its
start-up is printed apart, and a total with it): the steady-state cost of scaling out is what is compared.
Prints files/s and the ratio to --jobs 1; checks that every executor reports exactly the same outcomes.
Goal: Dask within 15% of the local pool at the same number of processes.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tffix.config import Settings
from tffix.executors import DaskExecutor
from tffix.runner import Mode, run

CORPUS = Path.home() / ".cache" / "tffix-corpus"


def build_tree(corpus: Path, target: Path, copies: int, projects: int | None, files: int | None) -> int:
    chosen = sorted(p for p in corpus.iterdir() if p.is_dir())
    if projects:
        chosen = chosen[:projects]
    sources = sorted(f for project in chosen for f in project.rglob("*.py") if f.is_file())
    if files:
        sources = sources[:files]
    for copy in range(copies):
        for source in sources:
            destination = target / f"copy{copy}" / source.relative_to(corpus)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
    return len(sources) * copies


def timed(label: str, tree: Path, **options):
    started = time.perf_counter()
    report = run([tree], Settings(), Mode.CHECK, cache=False, with_edits=True, **options)
    seconds = time.perf_counter() - started
    print(f"  {label}: {seconds:.1f} s", file=sys.stderr, flush=True)
    return report, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--projects", type=int, default=None)
    parser.add_argument("--files", type=int, default=None)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"no corpus at {args.corpus}: run `python bench/corpus.py` first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="tffix-bench-executors-") as folder:
        tree = Path(folder)
        count = build_tree(args.corpus, tree, args.copies, args.projects, args.files)
        subset = (f"first {args.projects} projects" if args.projects else
                  f"first {args.files} files" if args.files else "whole corpus")
        print(f"tree: {count} .py files ({subset}, {args.copies} copies)", file=sys.stderr, flush=True)
        rows = []
        one, one_s = timed("local --jobs 1", tree, jobs=1)
        rows.append(("local --jobs 1", 1, one_s, None))
        two, two_s = timed("local --jobs 2", tree, jobs=2)
        rows.append(("local --jobs 2", 2, two_s, None))
        started = time.perf_counter()
        executor = DaskExecutor(None, workers=2)
        try:
            executor.client.wait_for_workers(2)
            startup = time.perf_counter() - started
            dask, dask_s = timed("dask LocalCluster 2 workers", tree, executor=executor)
        finally:
            executor.close()
        rows.append(("dask LocalCluster, 2 workers", 2, dask_s, startup))
        same = one.outcomes == two.outcomes == dask.outcomes
    print(f"{'executor':32} {'procs':>5} {'seconds':>8} {'files/s':>8} {'vs --jobs 1':>11}")
    for label, processes, seconds, startup in rows:
        print(f"{label:32} {processes:>5} {seconds:>8.1f} {count / seconds:>8.1f} {one_s / seconds:>10.2f}x")
        if startup is not None:
            total = seconds + startup
            print(f"{'  with cluster start-up':32} {'':>5} {total:>8.1f} {count / total:>8.1f} {one_s / total:>10.2f}x"
                  f"   (start-up {startup:.1f} s)")
    print(f"dask / local at 2 processes: {two_s / dask_s:.2f} of the local pool's throughput "
          f"(goal: at least 0.85)")
    print(f"same outcomes from every executor: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    logging.getLogger("distributed").setLevel(logging.ERROR)
    sys.exit(main())
