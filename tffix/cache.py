"""The content-hash cache: what checking a file found, keyed by everything the answer depends on.

An entry's key hashes the file's bytes, tffix's version, a fingerprint of tffix's own code (rules included, so
a rule edited in a checkout never serves stale answers) and of the LibCST version (its parse and scopes are
part of every answer), the codes of the rules that apply to the file, and whether fix edits were computed. The file's path is not part of the key (a moved file stays cached); the
entry stores findings and problems without it, and they get the path back when read.

Entries live in `.tffix_cache/<code fingerprint>/<2 hex>/<key>.json` under the project root. Writes are
atomic (a temporary file renamed into place); an entry that cannot be read or decoded, for whatever reason,
is a miss, never an error. The cache only ever answers "what does a check of these bytes give": `apply`
uses it to skip files whose cached check has nothing to fix, never to write anything.

Opening the cache prunes it, at most once a day: entries not used (read or written) for `PRUNE_AFTER_DAYS`
days go, in every fingerprint folder, and so do folders left empty; a folder of an older tffix or LibCST,
never used again, is gone after that time. `tffix clean` removes the whole folder (`clean`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from . import __version__
from .model import Applicability, Finding, Fix, Position, Problem, ProblemKind, Severity, TextEdit

CACHE_DIRECTORY = ".tffix_cache"
FORMAT = 1
PRUNE_AFTER_DAYS = 30
_DAY = 24 * 60 * 60
_PRUNED = ".last-pruned"  # in the cache folder: its modification time says when it was last pruned


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=20).hexdigest()


def _libcst_version() -> str:
    """LibCST's version file (which names the version), read without importing LibCST or the slow
    importlib.metadata; the installed distribution's version when that file is not there."""
    spec = importlib.util.find_spec("libcst")
    for folder in (spec.submodule_search_locations or ()) if spec else ():
        try:
            return (Path(folder) / "_version.py").read_text(encoding="utf-8")
        except OSError:
            pass
    from importlib.metadata import version

    return version("libcst")


@cache
def code_fingerprint() -> str:
    """A hash of tffix's version, the LibCST version and the stat (path, size, mtime) of every source file of
    the tffix package and its rules: an edited rule never serves stale answers. Stat, not content: hashing the
    sources cost more than a whole warm run's other work (tffix.stat_index)."""
    digest = hashlib.blake2b(f"{__version__}/{FORMAT}/libcst {_libcst_version()}".encode(), digest_size=10)
    package = Path(__file__).resolve().parent
    # The rules' folder, found without importing the rules (they import LibCST).
    rules = importlib.util.find_spec(f"{__package__}.transforms")
    folders = [(package, True), *((Path(f), False) for f in (rules.submodule_search_locations or ()))]
    for folder, recursive in folders:
        for path in _sources(folder, recursive):
            try:
                stat = path.stat()
            except OSError:
                continue
            digest.update(f"{path.relative_to(folder).as_posix()}|{stat.st_size}|{stat.st_mtime_ns}|".encode())
    return digest.hexdigest()


def _sources(folder: Path, recursive: bool) -> list[Path]:
    found = []
    for parent, folders, names in os.walk(folder):
        found += (Path(parent, name) for name in names if name.endswith(".py"))
        folders[:] = sorted(f for f in folders if recursive and f != "__pycache__")
    return sorted(found)


@dataclass(frozen=True)
class Entry:
    findings: tuple[Finding, ...]
    problems: tuple[Problem, ...]


class Cache:
    def __init__(self, root: Path, *, prune: bool = True) -> None:
        self.directory = root / CACHE_DIRECTORY / code_fingerprint()
        if prune:
            prune_if_due(root / CACHE_DIRECTORY)

    def key(self, digest: str, rule_codes: tuple[str, ...], with_edits: bool, *, gates: bool = True) -> str:
        # Results with the gates off are their own: a gated result must never answer a --no-gates run.
        material = f"{digest}|{','.join(rule_codes)}|{int(with_edits)}" + ("" if gates else "|no-gates")
        return hashlib.blake2b(material.encode(), digest_size=20).hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str, path: str) -> Entry | None:
        target = self._path(key)
        try:
            data = json.loads(target.read_bytes())
            if data.get("format") != FORMAT:
                return None
            entry = Entry(
                tuple(_finding(item, path) for item in data["findings"]),
                tuple(_problem(item, path) for item in data["problems"]),
            )
        except Exception:  # missing, unreadable, truncated, tampered with: a miss
            return None
        _mark_used(target)
        return entry

    def put(self, key: str, path: str, findings, problems) -> None:
        """Store a check's result for the bytes behind `key`. Failing to store is not an error."""
        document = {
            "format": FORMAT,
            "findings": [_finding_json(f) for f in findings],
            "problems": [_problem_json(p, path) for p in problems],
        }
        try:
            write_atomically(self._path(key), json.dumps(document, separators=(",", ":")))
            _mark_cache_root(self.directory.parent)
        except (OSError, TypeError, ValueError):
            pass


def cacheable(problems) -> bool:
    """Whether a result with these problems may be kept: a crash or a timeout is tffix's failure, not the file's
    answer, and is never cached (by the content cache or the stat index)."""
    return all(p.kind is not ProblemKind.INTERNAL for p in problems)


def write_atomically(target: Path, text: str) -> None:
    """Write a file of the cache: a temporary file renamed into place, so that a reader sees the old file or
    the new, never part of one. Raises OSError."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        _unlink(tmp)
        raise


def _mark_used(path: Path) -> None:
    """Keep a used entry from being pruned (its modification time is its last use; refreshed once a day)."""
    try:
        if time.time() - path.stat().st_mtime > _DAY:
            os.utime(path)
    except OSError:
        pass


def prune_if_due(directory: Path, *, now: float | None = None) -> bool:
    """Prune the cache folder `directory` unless that was done less than a day ago. True when it pruned."""
    now = time.time() if now is None else now
    mark = directory / _PRUNED
    try:
        if now - mark.stat().st_mtime < _DAY:
            return False
    except FileNotFoundError:
        if not directory.is_dir():
            return False
    except OSError:
        return False
    try:
        mark.touch()
        os.utime(mark, (now, now))
    except OSError:
        return False  # a read-only cache: leave it as it is
    prune(directory, now=now)
    return True


def prune(directory: Path, *, now: float | None = None, days: float = PRUNE_AFTER_DAYS) -> int:
    """Remove the entries of every fingerprint folder under `directory` not used for `days` days (and temporary
    files as old), then the folders left empty. Returns how many files went."""
    limit = (time.time() if now is None else now) - days * _DAY
    removed = 0
    for folder in (p for p in directory.iterdir() if p.is_dir() and not p.is_symlink()) if directory.is_dir() else ():
        for parent, _, names in os.walk(folder, topdown=False):
            for name in names:
                path = os.path.join(parent, name)
                try:
                    if os.lstat(path).st_mtime < limit:
                        os.unlink(path)
                        removed += 1
                except OSError:
                    pass  # another process removed or replaced it
            try:
                os.rmdir(parent)  # only when empty
            except OSError:
                pass
    return removed


def clean(root: Path, project_root: Path | None = None) -> list[Path]:
    """`tffix clean`: remove the cache folders under `root` (as `ruff clean` does) and that of `project_root`,
    where a run from `root` keeps its cache. Returns the folders removed."""
    found = [project_root / CACHE_DIRECTORY] if project_root is not None else []
    for parent, folders, _ in os.walk(root):
        if CACHE_DIRECTORY in folders:
            found.append(Path(parent) / CACHE_DIRECTORY)
        folders[:] = [f for f in folders if f not in (CACHE_DIRECTORY, ".git")]
    removed = []
    for folder in dict.fromkeys(found):
        if folder.is_symlink() or not folder.is_dir():
            continue
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            removed.append(folder)
    return removed


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _mark_cache_root(directory: Path) -> None:
    """A CACHEDIR.TAG (backup tools skip the folder) and a .gitignore that ignores it all."""
    tag = directory / "CACHEDIR.TAG"
    if not tag.exists():
        tag.write_text("Signature: 8a477f597d28d172789f06886806bc55\n# created by tffix\n", encoding="utf-8")
        (directory / ".gitignore").write_text("# created by tffix\n*\n", encoding="utf-8")


def _finding_json(finding: Finding) -> dict:
    data = finding.to_json()
    del data["path"]
    return data


def _finding(data: dict, path: str) -> Finding:
    fix = data["fix"]
    return Finding(
        code=data["code"],
        message=data["message"],
        path=path,
        start=Position(data["location"]["line"], data["location"]["column"] - 1),
        end=Position(data["end_location"]["line"], data["end_location"]["column"] - 1),
        severity=Severity(data["severity"]),
        fix=None
        if fix is None
        else Fix(
            fix["title"],
            Applicability(fix["applicability"]),
            tuple(TextEdit(e["start"], e["end"], e["content"]) for e in fix["edits"]),
        ),
        cell=data["cell"],
    )


def _problem_json(problem: Problem, path: str) -> dict:
    suffix = problem.path[len(path):] if problem.path.startswith(path) else ""
    return {"kind": problem.kind.value, "where": suffix, "message": problem.message,
            "line": problem.line, "column": problem.column, "cell": problem.cell}


def _problem(data: dict, path: str) -> Problem:
    return Problem(ProblemKind(data["kind"]), path + data["where"], data["message"], data["line"], data["column"],
                   data.get("cell"))
