"""How fast is `tffix check` on a large tree? The Python sources of the installed `tensorflow` and `keras`.

    python bench/bench_check.py [--verify-prefilter N] [--verify-slices] [--breakdown]

Times, in one run: a bare LibCST parse of every file (one process: the baseline), then `tffix check` cold with
`--jobs 1`, cold with all cores, and warm (every answer in the cache), then the bare parse again: the faster
of the two parses is the baseline, so that a machine slowing down during the run cannot flatter the ratios. Each tffix run is a fresh process with
its own empty cache folder (as its working directory), so start-up is included. Prints wall-clock and CPU
seconds (CPU counts every worker process) and both as ratios to the bare parse. Goals: cold `--jobs 1` at most
0.5x the bare parse, warm at most 0.05x.

--verify-prefilter N  checks the prefilter's soundness on N random files it skips: with the gate turned off,
                      a rule that reports every TensorFlow/Keras user-API name finds none in them.
--verify-slices       checks the anchor gate and the slices (tffix.slicing) on every file the prefilter lets
                      through: the findings equal those of the engine with every rule's anchors removed.
--breakdown           where cold time goes on the files the prefilter lets through: parse, LibCST metadata,
                      and each rule (in this process; slow).
--no-timing           only the checks above.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import libcst as cst

from tffix.config import Settings
from tffix.discovery import discover
from tffix.engine import Engine
from tffix.source import SourceError, read_source

GOAL_COLD_ONE_JOB = 0.5
GOAL_WARM = 0.05


def package_dirs() -> list[Path]:
    dirs = []
    for name in ("tensorflow", "keras"):
        spec = importlib.util.find_spec(name)  # finds the package without importing it
        if spec is None or not spec.submodule_search_locations:
            sys.exit(f"bench: the {name} package is not installed (pip install -e '.[test]')")
        dirs.append(Path(list(spec.submodule_search_locations)[0]))
    return dirs


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bare_parse(files: list[Path]) -> tuple[float, float, int]:
    wall, cpu, failed = time.perf_counter(), time.process_time(), 0
    for path in files:
        try:
            cst.parse_module(read_source(path).text)
        except (SourceError, cst.ParserSyntaxError, RecursionError):
            failed += 1
    return time.perf_counter() - wall, time.process_time() - cpu, failed


def tffix_check(dirs: list[Path], workdir: Path, jobs: int | None) -> tuple[float, float, dict]:
    command = [sys.executable, "-m", "tffix.cli", "check", "--output-format", "json", *map(str, dirs)]
    if jobs is not None:
        command[4:4] = ["--jobs", str(jobs)]
    wall, cpu = time.perf_counter(), children_cpu()
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - wall, children_cpu() - cpu
    if result.returncode not in (0, 1, 2):
        sys.exit(f"bench: tffix failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return wall, cpu, json.loads(result.stdout)["summary"]


def sources(files: list[Path], *, passing: bool):
    """(path, text) of the readable files that the prefilter lets through (`passing`) or skips."""
    engine = Engine()
    for path in files:
        try:
            text = read_source(path).text
        except SourceError:
            continue
        if bool(engine.screen(text, str(path))) is passing:
            yield path, text


def verify_prefilter(files: list[Path], sample: int) -> None:
    """With the gate off, the widest rule the contract allows must find nothing in files the gate skips."""
    import tffix.engine as engine_module

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_bulk_prefilter import AnyApiName  # the test rule: every user-API name it can resolve

    skipped = list(sources(files, passing=False))
    chosen = random.Random(6).sample(skipped, min(sample, len(skipped)))
    engine_module.imports_user_api = lambda text: True  # the engine without the gate
    widest = Engine(rules=[AnyApiName])
    leaks = [(p, widest.check(t, str(p)).findings) for p, t in chosen]
    leaks = [(p, f) for p, f in leaks if f]
    print(f"prefilter soundness: {len(chosen)} of {len(skipped)} skipped files checked without the gate: "
          f"{len(leaks)} with a user-API name" + "".join(f"\n  LEAK {p}: {f[0].message}" for p, f in leaks[:10]))


def verify_slices(files: list[Path]) -> None:
    """The engine with anchors (gate and slices) must find exactly what it finds without them."""
    ungated = [type(rule.__name__, (rule,), {"anchors": frozenset(), "__doc__": rule.__doc__}) for rule in Engine().rules]
    fast, whole = Engine(), Engine(rules=ungated)
    checked, differing, fast_cpu, whole_cpu = 0, [], 0.0, 0.0
    for path, text in sources(files, passing=True):
        started = time.process_time()
        ours = fast.check(text, str(path))
        middle = time.process_time()
        reference = whole.check(text, str(path))
        fast_cpu, whole_cpu = fast_cpu + middle - started, whole_cpu + time.process_time() - middle
        checked += 1
        if ours != reference:
            differing.append((path, len(ours.findings), len(reference.findings)))
    print(f"slices: {checked} files checked with and without anchors; {len(differing)} differ "
          f"(CPU {fast_cpu:.1f} s with, {whole_cpu:.1f} s without: {fast_cpu / max(whole_cpu, 1e-9):.3f}x)"
          + "".join(f"\n  DIFFERS {p}: {a} findings with anchors, {b} without" for p, a, b in differing[:20]))


def breakdown(files: list[Path]) -> None:
    from tffix.fastvisit import CopyFreeMetadataWrapper as MetadataWrapper  # the engine's own visits
    from tffix.analysis import FileAnalysis
    from tffix.rule import RuleContext

    engine = Engine()
    parse = metadata = 0.0
    per_rule: Counter[str] = Counter()
    per_file = []
    providers = {p for rule in engine.rules for p in rule.METADATA_DEPENDENCIES}
    passing = 0
    for path, text in sources(files, passing=True):
        passing += 1
        started = time.process_time()
        try:
            module = cst.parse_module(text)
        except (cst.ParserSyntaxError, RecursionError):
            continue
        parsed = time.process_time()
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        wrapper.resolve_many(providers)
        resolved = time.process_time()
        parse, metadata = parse + parsed - started, metadata + resolved - parsed
        for rule in engine.rules:
            if rule.triggers and not any(t in text for t in rule.triggers):
                continue
            alone = time.process_time()
            try:
                # A fresh analysis per rule: each rule's time includes the shared facts it asks for.
                analysis = FileAnalysis(str(path), text, wrapper)
                wrapper.visit_batched([rule(RuleContext(path=str(path), source=text, analysis=analysis))])
            except Exception:
                pass
            per_rule[rule.code] += time.process_time() - alone
        per_file.append((time.process_time() - started, str(path)))
    print(f"\nbreakdown of the {passing} files the prefilter lets through (CPU s): parse {parse:.1f}, "
          f"metadata {metadata:.1f}, then each rule's own visit:")
    for code, seconds in per_rule.most_common():
        print(f"  {code} {seconds:8.1f}")
    print("slowest files (parse, metadata and every rule):")
    for seconds, path in sorted(per_file, reverse=True)[:10]:
        print(f"  {seconds:8.1f}  {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verify-prefilter", type=int, default=0, metavar="N")
    parser.add_argument("--verify-slices", action="store_true")
    parser.add_argument("--breakdown", action="store_true")
    parser.add_argument("--no-timing", action="store_true", help="only --verify-prefilter / --breakdown")
    args = parser.parse_args()

    dirs = package_dirs()
    files, _ = discover(dirs, Settings())
    print(f"{len(files)} files, {sum(p.stat().st_size for p in files) / 1e6:.1f} MB, in {', '.join(map(str, dirs))}; "
          f"{os.cpu_count()} cores", flush=True)

    if not args.no_timing:
        # The baseline is measured before and after the tffix runs, and the faster of the two is used: a
        # machine whose speed drifts during the run (shared cores) then cannot flatter the ratios.
        before_wall, before_cpu, bare_failed = bare_parse(files)
        print(f"bare LibCST parse, one process: {before_wall:.1f} s wall, {before_cpu:.1f} s CPU "
              f"({bare_failed} files did not parse)", flush=True)

        rows = []
        with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as many:
            rows.append(("tffix check cold --jobs 1", *tffix_check(dirs, Path(one), 1)))
            rows.append(("tffix check cold, all cores", *tffix_check(dirs, Path(many), None)))
            rows.append(("tffix check warm (cache)", *tffix_check(dirs, Path(many), None)))
        after_wall, after_cpu, _ = bare_parse(files)
        print(f"bare LibCST parse again, after the tffix runs: {after_wall:.1f} s wall, {after_cpu:.1f} s CPU; "
              f"the faster is the baseline", flush=True)
        bare_wall, bare_cpu = min(before_wall, after_wall), min(before_cpu, after_cpu)

        print(f"\n{'':30} {'wall s':>8} {'x bare':>7} {'CPU s':>8} {'x bare':>7}  files analysed/cached/skipped/failed")
        print(f"{'bare LibCST parse':30} {bare_wall:8.1f} {1:7.3f} {bare_cpu:8.1f} {1:7.3f}")
        for name, wall, cpu, summary in rows:
            print(f"{name:30} {wall:8.1f} {wall / bare_wall:7.3f} {cpu:8.1f} {cpu / bare_cpu:7.3f}  "
                  f"{summary['analysed']}/{summary['cached']}/{summary['skipped']}/{summary['failed']}")
        cold_one, warm = rows[0], rows[2]
        summary = cold_one[3]
        print(f"\nprefilter: {summary['skipped']} of {summary['files']} files skipped without parsing "
              f"({summary['skipped'] / max(1, summary['files']):.1%}); {summary['findings']} findings")
        for name, row, goal in (("cold --jobs 1", cold_one, GOAL_COLD_ONE_JOB), ("warm", warm, GOAL_WARM)):
            ratio = row[1] / bare_wall
            print(f"goal {name} <= {goal}x bare parse (wall): {ratio:.3f}x {'met' if ratio <= goal else 'NOT MET'}")

    if args.verify_prefilter:
        verify_prefilter(files, args.verify_prefilter)
    if args.verify_slices:
        verify_slices(files)
    if args.breakdown:
        breakdown(files)


if __name__ == "__main__":
    main()
