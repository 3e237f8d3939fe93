"""The repair loop on programs it was not written for: the crashing `before.py` of every rule fixture
(tests/fixtures, written for tffix's static rules). For each, did the loop repair it, and does the repaired
program then meet the fixture's [after] expectation (the output the rule's own fix gives)?

    python bench/repair_fixtures.py [-k SUBSTRING]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fixture_cases import judge, load_cases  # noqa: E402

from tffix.execution import WarmRunner  # noqa: E402
from tffix.repair.search import program_executor, repair_file  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-k", default="")
    options = parser.parse_args()
    cases = [
        c for c in load_cases()
        if not c.negative and c.expect.get("before", {}).get("outcome") == "raises" and options.k in c.id
        and not c.run_options()["prelude"] and not c.run_options()["args"]
    ]
    tally: Counter = Counter()
    times = []
    with WarmRunner(("tensorflow", "keras", "numpy")) as runner:
        for case in cases:
            with tempfile.TemporaryDirectory(prefix="tffix-repair-fixture-") as tmp:
                folder = Path(tmp)
                for item in case.folder.iterdir():
                    if item.is_file():
                        shutil.copyfile(item, folder / item.name)
                program = folder / "before.py"
                env = case.run_options()["env"]
                execute = program_executor(program, runner=runner)
                result = repair_file(program, lambda extra, timeout: execute({**env, **extra}, timeout), timeout=120)
                if result.status == "repaired":
                    times.append(result.seconds)
                    program.write_text(result.repaired_text, encoding="utf-8")
                    outcome = runner.run(program, timeout=120, env=env)
                    problems = judge(outcome, case.expect["after"])
                    verdict = "repaired, meets [after]" if not problems else "repaired, differs from [after]"
                    why = " + ".join(c.title for c in result.repairs)
                    if problems:
                        why += " | " + problems[0].splitlines()[0]
                else:
                    verdict = f"not repaired ({result.status})"
                    why = result.note or "; ".join(f"{t.candidate.title} -> {t.verdict[:80]}" for t in result.trials[:3])
                tally[verdict] += 1
                print(f"{case.id:55} {verdict:32} {why[:160]}", flush=True)
    print()
    for verdict, count in tally.most_common():
        print(f"{verdict:32} {count}")
    print(f"{'crashing fixtures':32} {len(cases)}")
    if times:
        print(f"time to a repair: median {statistics.median(times):.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
