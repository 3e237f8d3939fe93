"""How often is tffix right on real code? Every finding on the corpus against a verdict made by reading it.

    python bench/precision.py [--cache DIR] [--select CODES] [--no-apply] [--no-import] [--unjudged-out FILE]

Runs `tffix check` over the real-code corpus (`bench/corpus.py`: projects nobody on this project wrote) and
compares every finding with `bench/judgements.tsv`, where each verdict was made by reading the finding against
the code around it. Prints:

- per rule: findings, judged TRUE, judged FALSE, not yet judged, precision (TRUE / judged);
- each finding not yet judged (to read, judge and add to the TSV), and each judgement whose finding is gone;
- for `apply --unsafe-fixes` on a copy of every project with a fixable finding: files changed, fixes made by
  applicability, changed files that no longer parse or compile, a second apply that still changes anything,
  and changed modules that no longer import (each module imported in a fresh interpreter with its project on
  sys.path: first the original, and only where that imports, the changed one);
- wrong safe fixes: safe fixes made on findings judged FALSE, or in files that broke.

`bench/judgements.tsv` columns: project, version, path (inside the project folder), line, code, verdict
(TRUE/FALSE), reason. Lines starting with `#` are comments. Exits 1 when a goal of issue 11 is missed
(precision below 95% for a rule with findings, a wrong safe fix, a broken file), else 0.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import PROJECTS, default_cache  # noqa: E402  (a script beside this one)

JUDGEMENTS = Path(__file__).resolve().parent / "judgements.tsv"
GOAL_PRECISION = 0.95
FOLDERS = {project.folder: project for project in PROJECTS}


@dataclass(frozen=True)
class Key:
    project: str
    version: str
    path: str
    line: int
    code: str


def read_judgements(path: Path = JUDGEMENTS) -> dict[Key, tuple[str, str]]:
    judged: dict[Key, tuple[str, str]] = {}
    if not path.exists():
        return judged
    with path.open(newline="") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if not row or row[0].startswith("#") or row[0] == "project":
                continue
            project, version, rel, line, code, verdict, reason = (row + [""] * 7)[:7]
            verdict = verdict.strip().upper()
            if verdict not in {"TRUE", "FALSE"}:
                sys.exit(f"precision: {path}: verdict must be TRUE or FALSE, not {verdict!r} in {row}")
            judged[Key(project, version, rel, int(line), code)] = (verdict, reason)
    return judged


def tffix(*args: str, cwd: Path) -> dict:
    """One tffix run with JSON output (stdout), from `cwd` so that paths read `<project folder>/<path>`."""
    done = subprocess.run(
        [sys.executable, "-m", "tffix.cli", *args, "--output-format", "json", "--no-cache"],
        cwd=cwd, capture_output=True, text=True,
    )
    if done.returncode not in (0, 1):
        print(done.stderr[-4000:], file=sys.stderr)
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        sys.exit(f"precision: tffix {' '.join(args)} printed no JSON (exit {done.returncode}):\n"
                 f"{done.stderr[-2000:]}")


def key_of(finding: dict) -> Key:
    folder, _, rel = finding["path"].partition("/")
    project = FOLDERS[folder]
    if finding.get("cell") is not None:
        rel = f"{rel}[cell {finding['cell']}]"
    return Key(project.name, project.version, rel, finding["location"]["line"], finding["code"])


def module_name(root: Path, path: Path) -> tuple[Path, str] | None:
    """(sys.path entry, dotted name) of a .py file inside a package tree, walking up the __init__.py files."""
    if path.suffix != ".py":
        return None
    parts = [path.stem] if path.stem != "__init__" else []
    folder = path.parent
    while (folder / "__init__.py").exists() and folder != root.parent:
        parts.insert(0, folder.name)
        folder = folder.parent
    return (folder, ".".join(parts)) if parts else None


def imports(entry: Path, name: str) -> tuple[bool, str]:
    code = f"import importlib, sys; sys.path.insert(0, {str(entry)!r}); importlib.import_module({name!r})"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONDONTWRITEBYTECODE="1")
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180,
                              env=env, cwd=entry)
    except subprocess.TimeoutExpired:
        return False, "timed out"
    last = done.stderr.strip().splitlines()[-1:] or [""]
    return done.returncode == 0, last[0]


def check_apply(cache: Path, findings: list[dict], select: list[str], check_imports: bool) -> dict:
    """Apply every fix (safe and unsafe) to a copy of each project with a fixable finding; what broke?"""
    folders = sorted({f["path"].split("/", 1)[0] for f in findings if f.get("fix")})
    report: dict = {"projects": len(folders), "changed": [], "no_parse": [], "no_compile": [],
                    "not_idempotent": [], "no_import": [], "fixed": Counter(), "imports_checked": 0}
    if not folders:
        return report
    with tempfile.TemporaryDirectory(prefix="tffix-precision-") as tmp:
        work = Path(tmp)
        for folder in folders:
            shutil.copytree(cache / folder, work / folder, symlinks=True)
        applied = tffix("apply", "--unsafe-fixes", *select, *folders, cwd=work)
        for fixed in applied.get("fixed", []):
            report["fixed"][(fixed["code"], fixed["fix"]["applicability"])] += 1
        for folder in folders:
            for new in sorted((work / folder).rglob("*")):
                if not new.is_file() or new.suffix not in (".py", ".ipynb"):
                    continue
                old = cache / folder / new.relative_to(work / folder)
                if old.read_bytes() == new.read_bytes():
                    continue
                rel = f"{folder}/{new.relative_to(work / folder)}"
                report["changed"].append(rel)
                if new.suffix != ".py":
                    continue
                text = new.read_text(encoding="utf-8", errors="surrogateescape")
                try:
                    ast.parse(text)
                except SyntaxError as error:
                    report["no_parse"].append(f"{rel}: {error}")
                    continue
                try:
                    compile(text, str(new), "exec")
                except (SyntaxError, ValueError) as error:
                    report["no_compile"].append(f"{rel}: {error}")
                if check_imports:
                    located = module_name(cache / folder, old)
                    if located is None:
                        continue
                    entry, name = located
                    ok_before, _ = imports(entry, name)
                    if not ok_before:
                        continue  # it does not import here before the change either: nothing to compare
                    report["imports_checked"] += 1
                    new_entry = work / folder / entry.relative_to(cache / folder)
                    ok_after, why = imports(new_entry, name)
                    if not ok_after:
                        report["no_import"].append(f"{rel}: {why}")
        again = tffix("apply", "--unsafe-fixes", "--dry-run", *select, *folders, cwd=work)
        report["not_idempotent"] = sorted({f["path"] for f in again.get("fixed", [])})
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=default_cache())
    parser.add_argument("--select", default="", help="comma-separated codes or prefixes (default: tffix's)")
    parser.add_argument("--no-apply", action="store_true", help="skip the apply checks")
    parser.add_argument("--no-import", action="store_true", help="skip the import checks of changed modules")
    parser.add_argument("--unjudged-out", type=Path, help="write the unjudged findings as TSV rows to judge")
    args = parser.parse_args(argv)

    folders = [p.folder for p in PROJECTS if (args.cache / p.folder / ".complete").exists()]
    if len(folders) < len(PROJECTS):
        sys.exit("precision: the corpus is incomplete; run `python bench/corpus.py` first")
    select = ["--select", args.select] if args.select else []
    checked = tffix("check", *select, *folders, cwd=args.cache)
    findings = checked["findings"]
    judged = read_judgements()

    by_rule: dict[str, Counter] = defaultdict(Counter)
    unjudged: list[tuple[Key, dict]] = []
    wrong_safe: list[str] = []
    seen: set[Key] = set()
    for finding in findings:
        key = key_of(finding)
        seen.add(key)
        verdict = judged.get(key, (None, ""))[0]
        by_rule[key.code][verdict or "unjudged"] += 1
        if verdict is None:
            unjudged.append((key, finding))
        elif verdict == "FALSE" and finding.get("fix") and finding["fix"]["applicability"] == "safe":
            wrong_safe.append(f"{key.project}/{key.path}:{key.line} {key.code}: safe fix on a false finding")

    failed = False
    print(f"corpus: {len(folders)} projects, {checked['summary']['files']} files, "
          f"{len(findings)} findings, {len(checked['errors'])} files reported as errors")
    print(f"\n{'rule':8} {'findings':>8} {'TRUE':>5} {'FALSE':>5} {'unjudged':>8} {'precision':>9}")
    total = Counter()
    for code in sorted(by_rule):
        counts = by_rule[code]
        total.update(counts)
        judged_n = counts["TRUE"] + counts["FALSE"]
        precision = counts["TRUE"] / judged_n if judged_n else None
        shown = f"{precision:.0%}" if precision is not None else "-"
        if precision is not None and precision < GOAL_PRECISION:
            failed = True
        print(f"{code:8} {sum(counts.values()):8} {counts['TRUE']:5} {counts['FALSE']:5} "
              f"{counts['unjudged']:8} {shown:>9}")
    judged_total = total["TRUE"] + total["FALSE"]
    overall = f"{total['TRUE'] / judged_total:.0%}" if judged_total else "-"
    print(f"{'all':8} {sum(total.values()):8} {total['TRUE']:5} {total['FALSE']:5} {total['unjudged']:8} "
          f"{overall:>9}")

    if unjudged:
        print(f"\nnot yet judged ({len(unjudged)}): read each, then add a row to {JUDGEMENTS.name}")
        for key, finding in unjudged:
            print(f"  {key.project}\t{key.version}\t{key.path}\t{key.line}\t{key.code}\t?\t{finding['message']}")
        if args.unjudged_out:
            with args.unjudged_out.open("w") as out:
                for key, finding in unjudged:
                    out.write(f"{key.project}\t{key.version}\t{key.path}\t{key.line}\t{key.code}\t?\t"
                              f"{finding['message']}\n")
    gone = [key for key in judged if key not in seen
            and (not args.select or any(key.code.startswith(c) for c in args.select.split(",")))]
    if gone:
        print(f"\njudgements whose finding is gone ({len(gone)}; FALSE ones gone are rules made right):")
        for key in gone:
            print(f"  {key.project} {key.path}:{key.line} {key.code} was {judged[key][0]}")

    if not args.no_apply:
        report = check_apply(args.cache, findings, select, not args.no_import)
        print(f"\napply --unsafe-fixes on copies of {report['projects']} projects: "
              f"{len(report['changed'])} files changed; fixes made: "
              + (", ".join(f"{code} {kind} {n}" for (code, kind), n in sorted(report["fixed"].items())) or "none"))
        for label in ("no_parse", "no_compile", "not_idempotent", "no_import"):
            print(f"  {label.replace('_', ' ')}: {len(report[label])}")
            for entry in report[label]:
                print(f"    {entry}")
        print(f"  modules import-checked (they import here before the change): {report['imports_checked']}")
        broken = set()
        for label in ("no_parse", "no_compile", "no_import"):
            broken.update(entry.split(":", 1)[0] for entry in report[label])
        for finding in findings:
            if finding["path"] in broken and finding.get("fix") and finding["fix"]["applicability"] == "safe":
                wrong_safe.append(f"{finding['path']}:{finding['location']['line']} {finding['code']}: "
                                  "safe fix in a file that broke")
        if broken or report["not_idempotent"]:
            failed = True
    print(f"\nwrong safe fixes: {len(wrong_safe)}")
    for entry in wrong_safe:
        print(f"  {entry}")
    failed = failed or bool(wrong_safe) or bool(unjudged)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
