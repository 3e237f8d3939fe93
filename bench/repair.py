"""Run the repair loop on the whole repair corpus (tests/repair_corpus) and print the repair rate per pattern,
the median time to a repair, and the observer's overhead (each repaired program run with and without the
observer, in the same warm runner).

    python bench/repair.py [-k SUBSTRING] [--overhead-runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tffix.execution import WarmRunner  # noqa: E402
from tffix.repair.corpus import check_case, load_cases  # noqa: E402
from tffix.repair.observe import PRELUDE  # noqa: E402


def overhead(runner: WarmRunner, text: str, runs: int) -> tuple[float, float] | None:
    """Median seconds of the program without and with the observer."""
    with tempfile.TemporaryDirectory(prefix="tffix-overhead-") as tmp:
        program = Path(tmp) / "program.py"
        program.write_text(text, encoding="utf-8")
        plain, observed = [], []
        for _ in range(runs):
            outcome = runner.run(program, timeout=120)
            if not outcome.ok:
                return None
            plain.append(outcome.seconds)
            outcome = runner.run(program, timeout=120, env={"TFFIX_OBSERVE": str(Path(tmp) / "o.json"),
                                                            "TFFIX_OBSERVE_FILES": str(program)}, prelude=PRELUDE)
            observed.append(outcome.seconds)
        return statistics.median(plain), statistics.median(observed)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-k", default="", help="only cases whose name contains this")
    parser.add_argument("--overhead-runs", type=int, default=3)
    options = parser.parse_args()
    cases = [c for c in load_cases() if options.k in c.name]
    by_pattern: dict[str, list[bool]] = defaultdict(list)
    times, ratios = [], []
    started = time.monotonic()
    with WarmRunner(("tensorflow", "keras", "numpy")) as runner:
        for case in cases:
            checked = check_case(case, runner)
            by_pattern[case.path.parent.name].append(checked.ok)
            result = checked.result
            mark = "ok  " if checked.ok else "FAIL"
            print(f"{mark} {case.name:45} {result.status:12} {result.seconds:5.1f}s  {checked.why.splitlines()[0][:150]}",
                  flush=True)
            if result.status == "repaired":
                times.append(result.seconds)
                if options.overhead_runs:
                    measured = overhead(runner, result.repaired_text, options.overhead_runs)
                    if measured:
                        ratios.append(measured[1] / measured[0])
    print()
    total = sum(len(v) for v in by_pattern.values())
    good = sum(sum(v) for v in by_pattern.values())
    print(f"{'pattern':16} cases  as expected")
    for pattern, oks in sorted(by_pattern.items()):
        print(f"{pattern:16} {len(oks):5}  {sum(oks):3} ({100 * sum(oks) / len(oks):.0f}%)")
    print(f"{'all':16} {total:5}  {good:3} ({100 * good / max(total, 1):.0f}%)")
    if times:
        print(f"time to a repair: median {statistics.median(times):.1f}s, max {max(times):.1f}s "
              f"(warm runner; {len(times)} repairs)")
    if ratios:
        print(f"observer overhead (repaired programs, with/without, warm): median {statistics.median(ratios):.2f}x, "
              f"max {max(ratios):.2f}x")
    print(f"wall time: {time.monotonic() - started:.0f}s")
    return 0 if good == total else 1


if __name__ == "__main__":
    sys.exit(main())
