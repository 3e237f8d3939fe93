"""How fast is `tffix check` on a large tree, against a bare LibCST parse and a bare `ast.parse` of the same files?

    python bench/bench_check.py [--corpus | --tree DIR ...] [--tf-upgrade] [--repeat N]
                                [--no-parallel] [--verify-prefilter N] [--verify-slices] [--breakdown] [--no-timing]

The tree: the Python sources of the installed `tensorflow` and `keras` (default; most files barely use the
user API), `--corpus` the real-code corpus of published TF/Keras projects (`bench/corpus.py`: legacy user
code, where nearly every file imports TensorFlow), or `--tree DIR` (e.g. one corpus project of ~500 files).

Times, in one run: a bare `ast.parse` and a bare LibCST parse of every file (this process: the baselines),
then `tffix check` cold with `--jobs 1 --no-cache` (text output: the issue's measure), cold with all cores (or
with `--no-parallel`, `--jobs 1`) writing the cache with JSON output (which makes every fix's edits), warm (every answer in the cache: the median of
`--repeat` runs), then the bare LibCST parse again, with the garbage collector settings of tffix's workers
(`tffix.gc_policy`): the faster of the two parses is the baseline, so that neither a machine slowing down
during the run nor those settings can flatter the ratios. Each tffix run is a fresh `python -m tffix`
process whose cache folder is its own empty working directory, so start-up is included; `tffix --version`
is timed too. `--tf-upgrade` also times TensorFlow's `tf_upgrade_v2 --intree` over the same tree (it rewrites
every file; the closing comparison of issue 17). Prints wall-clock and CPU seconds (CPU counts every child
process) and their ratios to the bare LibCST parse. Goals (issue 17): cold `--jobs 1` CPU at most 0.5x the
bare LibCST parse, warm at most 0.3 s wall on a 500-file tree, `tffix --version` at most 0.15 s.

--verify-prefilter N  checks the prefilter's soundness on N random files it skips: with the gate turned off,
                      a rule that reports every TensorFlow/Keras user-API name finds none in them.
--verify-slices       checks the anchor gate and the slices (tffix.slicing) on every file the prefilter lets
                      through: the findings equal those of the engine with every rule's anchors removed.
--verify-parts        checks the editor's part-by-part analysis (tffix.parts) on every file the prefilter lets
                      through: the findings equal those of the whole file.
--breakdown           where cold time goes on the files the prefilter lets through: parse, LibCST metadata,
                      and each rule (in this process; slow).
--no-timing           only the checks above.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import shutil
import statistics
import json
import os
import random
import re
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
from tffix.gc_policy import tune_for_analysis
from tffix.source import SourceError, read_source

GOAL_COLD_ONE_JOB = 0.5  # x the bare LibCST parse, CPU
GOAL_WARM_SECONDS_PER_500_FILES = 0.3  # wall
GOAL_VERSION_SECONDS = 0.15  # wall


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


def bare_ast_parse(files: list[Path]) -> tuple[float, float, int]:
    wall, cpu, failed = time.perf_counter(), time.process_time(), 0
    for path in files:
        try:
            ast.parse(read_source(path).text)
        except (SourceError, SyntaxError, ValueError, RecursionError):
            failed += 1
    return time.perf_counter() - wall, time.process_time() - cpu, failed


def timed(command: list[str], workdir: Path) -> tuple[float, float, subprocess.CompletedProcess]:
    wall, cpu = time.perf_counter(), children_cpu()
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True)
    return time.perf_counter() - wall, children_cpu() - cpu, result


def tffix_check(dirs: list[Path], workdir: Path, jobs: int | None, *, cache: bool = True) -> tuple[float, float, dict]:
    """A `tffix check` run. With `cache`: JSON output (every fix's edits made) and the cache written in `workdir`;
    without: the plain check of issue 17's measure (`--no-cache`, text output), its counts read from the summary."""
    command = [sys.executable, "-m", "tffix", "check", *map(str, dirs)]
    command[4:4] = ["--output-format", "json"] if cache else ["--no-cache"]
    if jobs is not None:
        command[4:4] = ["--jobs", str(jobs)]
    wall, cpu, result = timed(command, workdir)
    if result.returncode not in (0, 1, 2):
        sys.exit(f"bench: tffix failed ({result.returncode}):\n{result.stderr[-2000:]}")
    if cache:
        return wall, cpu, json.loads(result.stdout)["summary"]
    scanned = re.search(r"(\d+) files? scanned: (\d+) analysed, (\d+) from the cache, (\d+) skipped.*?(\d+) failed",
                        result.stdout + result.stderr)
    found = re.search(r"Found (\d+) finding", result.stdout + result.stderr)
    keys = ("files", "analysed", "cached", "skipped", "failed")
    summary = dict(zip(keys, map(int, scanned.groups()))) if scanned else dict.fromkeys(keys, 0)
    summary["findings"] = int(found.group(1)) if found else 0
    return wall, cpu, summary


def tf_upgrade(dirs: list[Path]) -> tuple[float, float]:
    """TensorFlow's own upgrade script over the same files (one --intree run per folder, into a scratch tree)."""
    script = shutil.which("tf_upgrade_v2", path=str(Path(sys.executable).parent)) or shutil.which("tf_upgrade_v2")
    if script is None:
        sys.exit("bench: tf_upgrade_v2 is not installed (it comes with tensorflow)")
    wall = cpu = 0.0
    for folder in dirs:
        with tempfile.TemporaryDirectory() as scratch:
            out = Path(scratch) / "out"
            one_wall, one_cpu, result = timed([script, "--intree", str(folder), "--outtree", str(out),
                                          "--reportfile", str(Path(scratch) / "report.txt"), "--copyotherfiles", "False"],
                                         Path(scratch))
            if result.returncode != 0 or not any(out.rglob("*.py")):
                sys.exit(f"bench: tf_upgrade_v2 failed ({result.returncode}):\n{result.stderr[-2000:]}")
            wall, cpu = wall + one_wall, cpu + one_cpu
    return wall, cpu


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


def verify_parts(files: list[Path]) -> None:
    """The editor's part-by-part analysis (`tffix.parts`) must find exactly what the whole file shows: findings,
    messages and fixes' titles, with every rule's results (the local rules' come from the parts)."""
    from tffix.parts import PartsMemo

    engine = Engine(Settings(select=("ALL", "TFX103")))
    checked, by_parts, differing = 0, 0, []
    for path, text in sources(files, passing=True):
        memo = PartsMemo()
        ours, reference = engine.check(text, str(path), memo=memo), engine.check(text, str(path))
        checked += 1
        by_parts += len(memo) > 0
        if _comparable(ours) != _comparable(reference):
            differing.append(path)
    print(f"parts: {checked} files checked part by part and whole ({by_parts} analysed by parts); "
          f"{len(differing)} differ" + "".join(f"\n  DIFFERS {p}" for p in differing[:20]))


def _comparable(result) -> list:  # noqa: ANN001
    return [
        (f.code, f.start, f.end, f.message, f.fix and (f.fix.title, f.fix.applicability)) for f in result.findings
    ] + sorted(map(str, result.problems))


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
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--corpus", action="store_true", help="the real-code corpus (bench/corpus.py)")
    where.add_argument("--tree", type=Path, nargs="+", metavar="DIR", help="these folders")
    parser.add_argument("--tf-upgrade", action="store_true", help="also time tf_upgrade_v2 over the tree")
    parser.add_argument("--repeat", type=int, default=3, metavar="N", help="warm runs (median)")
    parser.add_argument("--no-parallel", action="store_true", help="leave out the cold run on all cores")
    parser.add_argument("--verify-prefilter", type=int, default=0, metavar="N")
    parser.add_argument("--verify-slices", action="store_true")
    parser.add_argument("--verify-parts", action="store_true")
    parser.add_argument("--breakdown", action="store_true")
    parser.add_argument("--no-timing", action="store_true", help="only --verify-prefilter / --breakdown")
    args = parser.parse_args()

    if args.corpus:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from corpus import default_cache

        dirs = [default_cache()]
        if not dirs[0].is_dir():
            sys.exit(f"bench: no corpus at {dirs[0]}: python bench/corpus.py")
    else:
        dirs = [folder.resolve() for folder in args.tree] if args.tree else package_dirs()
    files, _ = discover(dirs, Settings())
    print(f"{len(files)} files, {sum(p.stat().st_size for p in files) / 1e6:.1f} MB, in {', '.join(map(str, dirs))}; "
          f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}", flush=True)

    if not args.no_timing:
        # The baseline is measured before and after the tffix runs, and the faster of the two is used: a
        # machine whose speed drifts during the run (shared cores) then cannot flatter the ratios.
        ast_wall, ast_cpu, ast_failed = bare_ast_parse(files)
        print(f"bare ast.parse, one process: {ast_wall:.1f} s wall, {ast_cpu:.1f} s CPU ({ast_failed} did not parse)")
        before_wall, before_cpu, bare_failed = bare_parse(files)
        print(f"bare LibCST parse, one process: {before_wall:.1f} s wall, {before_cpu:.1f} s CPU "
              f"({bare_failed} files did not parse)", flush=True)

        rows = []
        with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as many:
            rows.append(("tffix check cold --jobs 1 --no-cache", *tffix_check(dirs, Path(one), 1, cache=False)))
            if not args.no_parallel:  # JSON output (fix edits made) and the cache written: for the warm runs
                rows.append(("cold, all cores, JSON, cache written", *tffix_check(dirs, Path(many), None)))
            else:
                rows.append(("cold --jobs 1, JSON, cache written", *tffix_check(dirs, Path(many), 1)))
            warm_runs = [tffix_check(dirs, Path(many), None) for _ in range(max(1, args.repeat))]
            median_wall = statistics.median(run[0] for run in warm_runs)
            warm = min(warm_runs, key=lambda run: abs(run[0] - median_wall))
            rows.append((f"tffix check warm (median of {len(warm_runs)})", *warm))
            version = statistics.median(timed([sys.executable, "-m", "tffix", "--version"], Path(one))[0]
                                        for _ in range(5))
        if args.tf_upgrade:
            rows.append(("tf_upgrade_v2 --intree", *tf_upgrade(dirs), None))
        # Again with the collector settings of tffix's workers (tffix.gc_policy), so that no ratio owes anything to
        # them: a bare LibCST tool could set them too.
        tune_for_analysis()
        after_wall, after_cpu, _ = bare_parse(files)
        print(f"bare LibCST parse again, after the tffix runs, with tffix's collector settings: {after_wall:.1f} s "
              f"wall, {after_cpu:.1f} s CPU; the faster is the baseline", flush=True)
        bare_wall, bare_cpu = min(before_wall, after_wall), min(before_cpu, after_cpu)

        print(f"\n{'':34} {'wall s':>8} {'x bare':>7} {'CPU s':>8} {'x bare':>7}  files analysed/cached/skipped/failed")
        print(f"{'bare ast.parse':34} {ast_wall:8.2f} {ast_wall / bare_wall:7.3f} {ast_cpu:8.2f} {ast_cpu / bare_cpu:7.3f}")
        print(f"{'bare LibCST parse':34} {bare_wall:8.2f} {1:7.3f} {bare_cpu:8.2f} {1:7.3f}")
        for name, wall, cpu, summary in rows:
            counts = (f"{summary['analysed']}/{summary['cached']}/{summary['skipped']}/{summary['failed']}"
                      if summary else "")
            print(f"{name:34} {wall:8.2f} {wall / bare_wall:7.3f} {cpu:8.2f} {cpu / bare_cpu:7.3f}  {counts}")
        print(f"{'tffix --version (median of 5)':34} {version:8.3f}")
        cold_one = rows[0]
        summary = cold_one[3]
        print(f"\ngates: {summary['skipped']} of {summary['files']} files skipped without LibCST "
              f"({summary['skipped'] / max(1, summary['files']):.1%}), {summary['analysed']} analysed; "
              f"{summary['findings']} findings")
        if args.tf_upgrade:
            upgrade_cpu = rows[-1][2]
            print(f"tffix cold --jobs 1 / tf_upgrade_v2, CPU: {cold_one[2] / upgrade_cpu:.3f}x; "
                  f"warm / tf_upgrade_v2, wall: {warm[0] / rows[-1][1]:.4f}x")
        warm_goal = GOAL_WARM_SECONDS_PER_500_FILES * max(1.0, len(files) / 500)
        for name, value, goal in (("cold --jobs 1 <= 0.5x bare LibCST parse (CPU)", cold_one[2] / bare_cpu,
                                   GOAL_COLD_ONE_JOB),
                                  (f"warm <= {warm_goal:.2f} s wall ({len(files)} files)", warm[0], warm_goal),
                                  ("tffix --version <= 0.15 s wall", version, GOAL_VERSION_SECONDS)):
            print(f"goal {name}: {value:.3f} {'met' if value <= goal else 'NOT MET'}")

    if args.verify_prefilter:
        verify_prefilter(files, args.verify_prefilter)
    if args.verify_slices:
        verify_slices(files)
    if args.verify_parts:
        verify_parts(files)
    if args.breakdown:
        breakdown(files)


if __name__ == "__main__":
    main()
