"""The warm path: what the last runs found in each file, answered from the file's `stat` alone.

The content cache (`tffix.cache`) answers "what does a check of these bytes give", but to ask it a run must
read and hash every file, in a worker process, after importing the engine. A run over a tree that has not
changed needs none of that. The stat index is one JSON document per project and selection
(`.tffix_cache/<code fingerprint>/files-<selection>.json`): for each file, by absolute path, its size,
modification time and inode when last analysed, the content-cache key of the bytes it then had, and what the
check gave (findings, problems, or that no rule could fire). A run reads it once, before it starts any worker:
- a file whose size, mtime (in ns) and inode are those recorded is answered from the index, unread;
- a file whose stat changed is read and hashed here: the same key (a `touch`, a checkout that restored it)
  is still answered from the index, and its stat refreshed;
- everything else goes to the workers as before, and what they find is recorded when the run ends.

"Racily clean" files, as git calls them: a file modified within `RACY_SECONDS` of being stat'ed may change
again within the same timestamp, so its stat is not recorded and the next run compares its hash instead.
The selection (select, ignore, per-file ignores, gates, whether fix edits are kept) names the document, so
runs with different options do not overwrite each other's answers; the code fingerprint's folder holds them,
so another tffix or LibCST never reads them. A document that cannot be read is empty (every file is then
asked of the content cache); writes are atomic; the entries of files a run's walk of a folder no longer finds
are dropped, and entries of files outside the run are kept as they were.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .cache import Cache, _finding, _finding_json, _problem, _problem_json, cacheable, content_hash, write_atomically
from .config import Settings
from .model import Problem

FORMAT = 1
RACY_SECONDS = 2.0


@dataclass(frozen=True)
class Answer:
    """What the index knows of one file's current bytes."""

    skipped: bool
    findings: tuple
    problems: tuple


Stat = tuple[int, int, int]  # size, mtime in ns, inode


def stat_of(result: os.stat_result) -> Stat:
    return result.st_size, result.st_mtime_ns, result.st_ino


def selection_name(settings: Settings, with_edits: bool) -> str:
    material = repr((settings.select, settings.ignore, settings.per_file_ignores, settings.gates, with_edits,
                     str(settings.root)))
    return hashlib.blake2b(material.encode(), digest_size=8).hexdigest()


class StatIndex:
    def __init__(self, cache: Cache, settings: Settings, with_edits: bool) -> None:
        self.cache = cache
        self.settings = settings
        self.with_edits = with_edits
        self.path = cache.directory / f"files-{selection_name(settings, with_edits)}.json"
        self.entries: dict[str, dict] = _read(self.path)
        self.changed = False

    def key(self, data: bytes, shown: str, codes: Callable[[str], tuple[str, ...]]) -> str:
        return self.cache.key(content_hash(data), codes(shown), self.with_edits, gates=self.settings.gates)

    def answer(self, path: Path, shown: str, stat: Stat | None, codes: Callable[[str], tuple[str, ...]]
               ) -> Answer | None:
        """The recorded result for `path` when its bytes are those it was recorded for; else None."""
        entry = self.entries.get(str(path.absolute()))  # the same file, from whatever folder tffix runs in
        if entry is None or stat is None:
            return None
        if entry["stat"] != list(stat):
            try:
                data = path.read_bytes()
            except OSError:
                return None
            if self.key(data, shown, codes) != entry["key"]:
                return None
            entry["stat"] = None if _racy(stat) else list(stat)  # the same bytes: trust this stat next time
            self.changed = True
        return Answer(entry["skipped"], tuple(_finding(item, shown) for item in entry["findings"]),
                      tuple(_problem(item, shown) for item in entry["problems"]))

    def record(self, path: Path, stat: Stat | None, key: str, shown: str, skipped: bool, findings,
               problems: tuple[Problem, ...]) -> None:
        """What a worker found in the bytes behind `key`, which `path` had when it was stat'ed as `stat`."""
        if not cacheable(problems):
            return
        self.entries[str(path.absolute())] = {
            "stat": None if stat is None or _racy(stat) else list(stat),
            "key": key,
            "skipped": skipped,
            "findings": [_finding_json(f) for f in findings],
            "problems": [_problem_json(p, shown) for p in problems],
        }
        self.changed = True

    def forget_missing(self, folders: list[Path], present: list[Path]) -> None:
        """Drop the entries of files under `folders` (walked whole by this run) that the walk did not find:
        deleted, renamed or now excluded. Entries elsewhere are other runs' and stay."""
        prefixes = tuple(str(folder.absolute()).rstrip(os.sep) + os.sep for folder in folders)
        if not prefixes:
            return
        kept = {str(path.absolute()) for path in present}
        gone = [key for key in self.entries if key.startswith(prefixes) and key not in kept]
        for key in gone:
            del self.entries[key]
        self.changed |= bool(gone)

    def save(self) -> None:
        if not self.changed:
            return
        try:
            write_atomically(self.path, json.dumps({"format": FORMAT, "files": self.entries}, separators=(",", ":")))
        except OSError:
            pass  # failing to store is not an error: the next run asks the content cache
        self.changed = False


def _racy(stat: Stat) -> bool:
    return stat[1] >= time.time_ns() - int(RACY_SECONDS * 1e9)


def _read(path: Path) -> dict[str, dict]:
    try:
        document = json.loads(path.read_bytes())
        if document.get("format") == FORMAT and isinstance(document.get("files"), dict):
            return document["files"]
    except Exception:  # missing, unreadable, truncated: start empty
        pass
    return {}
