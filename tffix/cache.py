"""The content-hash cache: what checking a file found, keyed by everything the answer depends on.

An entry's key hashes the file's bytes, tffix's version, a fingerprint of tffix's own code (rules included, so
a rule edited in a checkout never serves stale answers), the codes of the rules that apply to the file, and
whether fix edits were computed. The file's path is not part of the key (a moved file stays cached); the
entry stores findings and problems without it, and they get the path back when read.

Entries live in `.tffix_cache/<code fingerprint>/<2 hex>/<key>.json` under the project root. Writes are
atomic (a temporary file renamed into place); an entry that cannot be read or decoded, for whatever reason,
is a miss, never an error. The cache only ever answers "what does a check of these bytes give": `apply`
uses it to skip files whose cached check has nothing to fix, never to write anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from . import __version__
from .model import Applicability, Finding, Fix, Position, Problem, ProblemKind, Severity, TextEdit

CACHE_DIRECTORY = ".tffix_cache"
FORMAT = 1


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=20).hexdigest()


@cache
def code_fingerprint() -> str:
    """A hash of tffix's version and the source of the tffix package (rules included)."""
    digest = hashlib.blake2b(f"{__version__}/{FORMAT}".encode(), digest_size=10)
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        try:
            digest.update(path.read_bytes())
        except OSError:
            pass
    from . import transforms

    for folder in transforms.__path__:  # the rules, wherever they are installed from
        for path in sorted(Path(folder).glob("*.py")):
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Entry:
    findings: tuple[Finding, ...]
    problems: tuple[Problem, ...]


class Cache:
    def __init__(self, root: Path) -> None:
        self.directory = root / CACHE_DIRECTORY / code_fingerprint()

    def key(self, digest: str, rule_codes: tuple[str, ...], with_edits: bool) -> str:
        material = f"{digest}|{','.join(rule_codes)}|{int(with_edits)}"
        return hashlib.blake2b(material.encode(), digest_size=20).hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str, path: str) -> Entry | None:
        try:
            data = json.loads(self._path(key).read_bytes())
            if data.get("format") != FORMAT:
                return None
            return Entry(
                tuple(_finding(item, path) for item in data["findings"]),
                tuple(_problem(item, path) for item in data["problems"]),
            )
        except Exception:  # missing, unreadable, truncated, tampered with: a miss
            return None

    def put(self, key: str, path: str, findings, problems) -> None:
        """Store a check's result for the bytes behind `key`. Failing to store is not an error."""
        document = {
            "format": FORMAT,
            "findings": [_finding_json(f) for f in findings],
            "problems": [_problem_json(p, path) for p in problems],
        }
        target = self._path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _mark_cache_root(self.directory.parent)
            fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=target.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(document, handle, separators=(",", ":"))
                os.replace(tmp, target)
            except BaseException:
                _unlink(tmp)
                raise
        except (OSError, TypeError, ValueError):
            pass


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
            "line": problem.line, "column": problem.column}


def _problem(data: dict, path: str) -> Problem:
    return Problem(ProblemKind(data["kind"]), path + data["where"], data["message"], data["line"], data["column"])
