"""Throughput of the executors: the local process pool at --jobs 1 and 2, and Dask on a LocalCluster of 2 workers.

    python bench/bench_executors.py [--copies 4] [--projects N | --files N | --every K] [--corpus DIR]

The tree is the real-code corpus (`python bench/corpus.py`: ~/.cache/tffix-corpus), copied `--copies` times
into a temporary folder; `--projects N` takes the first N projects (by name) and `--files N` the first N `.py`
files of the corpus (by path), `--every K` every K-th file (a sample of every project), for a machine where the whole corpus, four times, would take too long. Each
executor runs `tffix check` over it without the cache (`run(..., cache=False)`, as `--no-cache`), in this
process, with JSON output's fix edits computed. The Dask cluster is started before its run is timed (its
start-up is printed apart, and a total with it): the steady-state cost of scaling out is what is compared.
Prints files/s and the ratio to --jobs 1, and the CPU seconds each used (this process, the pool's workers,
the Dask workers: on a machine shared with other work, wall time says little, CPU per file still compares
the executors' costs); checks that every executor reports exactly the same outcomes.
Goal: Dask within 15% of the local pool at the same number of processes.
"""

from __future__ import annotations

import argparse
import logging
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tffix.config import Settings
from tffix.executors import DaskExecutor
from tffix.runner import Mode, run

CORPUS = Path.home() / ".cache" / "tffix-corpus"


def build_tree(corpus: Path, target: Path, copies: int, projects: int | None, files: int | None,
               every: int | None = None) -> int:
    chosen = sorted(p for p in corpus.iterdir() if p.is_dir())
    if projects:
        chosen = chosen[:projects]
    sources = sorted(f for project in chosen for f in project.rglob("*.py") if f.is_file())
    if files:
        sources = sources[:files]
    if every:
        sources = sources[::every]
    for copy in range(copies):
        for source in sources:
            destination = target / f"copy{copy}" / source.relative_to(corpus)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
    return len(sources) * copies


def _cpu(executor=None) -> float:
    """CPU seconds used so far by this process, its reaped children (the local pool's workers), and the
    Dask workers (their own count), so that a machine shared with other work can still compare costs."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    if executor is not None:
        total += sum(executor.client.run(time.process_time).values())
    return total


def timed(label: str, tree: Path, executor=None, **options):
    cpu = _cpu(executor)
    started = time.perf_counter()
    report = run([tree], Settings(), Mode.CHECK, cache=False, with_edits=True, executor=executor, **options)
    seconds = time.perf_counter() - started
    cpu = _cpu(executor) - cpu
    print(f"  {label}: {seconds:.1f} s, {cpu:.1f} CPU s", file=sys.stderr, flush=True)
    return report, seconds, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--projects", type=int, default=None)
    parser.add_argument("--files", type=int, default=None)
    parser.add_argument("--every", type=int, default=None)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"no corpus at {args.corpus}: run `python bench/corpus.py` first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="tffix-bench-executors-") as folder:
        tree = Path(folder)
        count = build_tree(args.corpus, tree, args.copies, args.projects, args.files, args.every)
        subset = (f"first {args.projects} projects" if args.projects else
                  f"first {args.files} files" if args.files else
                  f"every {args.every}th file" if args.every else "whole corpus")
        print(f"tree: {count} .py files ({subset}, {args.copies} copies)", file=sys.stderr, flush=True)
        rows = []
        one, one_s, one_cpu = timed("local --jobs 1", tree, jobs=1)
        rows.append(("local --jobs 1", 1, one_s, one_cpu, None))
        two, two_s, two_cpu = timed("local --jobs 2", tree, jobs=2)
        rows.append(("local --jobs 2", 2, two_s, two_cpu, None))
        started = time.perf_counter()
        executor = DaskExecutor(None, workers=2)
        try:
            executor.client.wait_for_workers(2)
            startup = time.perf_counter() - started
            dask, dask_s, dask_cpu = timed("dask LocalCluster 2 workers", tree, executor=executor)
        finally:
            executor.close()
        rows.append(("dask LocalCluster, 2 workers", 2, dask_s, dask_cpu, startup))
        same = one.outcomes == two.outcomes == dask.outcomes
    print(f"{'executor':32} {'procs':>5} {'seconds':>8} {'files/s':>8} {'vs --jobs 1':>11} {'CPU s':>8} {'CPU ms/file':>11}")
    for label, processes, seconds, cpu, startup in rows:
        print(f"{label:32} {processes:>5} {seconds:>8.1f} {count / seconds:>8.1f} {one_s / seconds:>10.2f}x "
              f"{cpu:>8.1f} {1000 * cpu / count:>11.1f}")
        if startup is not None:
            total = seconds + startup
            print(f"{'  with cluster start-up':32} {'':>5} {total:>8.1f} {count / total:>8.1f} {one_s / total:>10.2f}x"
                  f"   (start-up {startup:.1f} s)")
    print(f"dask / local at 2 processes: {two_s / dask_s:.2f} of the local pool's throughput "
          f"(goal: at least 0.85); CPU per file {dask_cpu / two_cpu:.2f}x the local pool's")
    print(f"same outcomes from every executor: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    logging.getLogger("distributed").setLevel(logging.ERROR)
    sys.exit(main())
