"""Which files a run looks at: the paths named, and below named directories the Python files and notebooks
that neither `.gitignore` files nor the `exclude` settings leave out.

- `.gitignore` files are read in every directory walked, and in the directories above a named one up to the
  root of its git checkout, with git's rules: a deeper file's patterns override a shallower one's, `!` negates,
  a directory that is ignored is not entered. `.git/info/exclude` counts too.
- `exclude`/`extend-exclude` patterns (gitignore style, relative to the settings' root) leave out files and
  whole directories.
- Hidden directories, `__pycache__` and virtual environments (a directory holding `pyvenv.cfg`) are skipped.
- A path named on the command line is always taken, even when a rule would leave it out (unless
  `force_exclude`, for tools such as pre-commit that name every file).
- A symlink to a file is followed (a fix is written through to its target, see `tffix.source.write_file`), as
  Ruff does; a symlinked directory is entered only when named. A file reached by several paths (a symlink and
  its target, hard links) is analysed once, under the first of its paths that is no symlink.
The result is sorted and free of duplicates, so output never depends on the file system's order.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .config import Settings
from .model import Problem, ProblemKind

if TYPE_CHECKING:
    import pathspec

SOURCE_SUFFIXES = (".py", ".pyi", ".ipynb")
SKIPPED_DIRECTORIES = frozenset({"__pycache__", "node_modules"})


@dataclass(frozen=True)
class _IgnoreFile:
    base: Path  # the directory whose .gitignore this is: patterns are relative to it
    spec: pathspec.GitIgnoreSpec

    def decides(self, path: Path, is_dir: bool) -> bool | None:
        """True: ignored; False: re-included by a `!` pattern; None: no pattern here speaks of `path`."""
        relative = PurePosixPath(path.relative_to(self.base)).as_posix() + ("/" if is_dir else "")
        return self.spec.check_file(relative).include


def _read_ignore_file(directory: Path, *names: str) -> _IgnoreFile | None:
    lines: list[str] = []
    for name in names:
        try:
            lines += (directory / name).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
    if not lines:
        return None
    import pathspec  # only where an ignore file is: a tree without one (and a warm run) never loads it

    return _IgnoreFile(directory, pathspec.GitIgnoreSpec.from_lines(lines))


def _ignore_files_of(directory: Path) -> list[_IgnoreFile]:
    found = [_read_ignore_file(directory, ".gitignore")]
    if (directory / ".git").is_dir():
        found.insert(0, _read_ignore_file(directory, ".git/info/exclude"))
    return [f for f in found if f is not None]


def _ancestor_ignore_files(directory: Path) -> list[_IgnoreFile]:
    """The ignore files of the directories above `directory`, up to its git checkout's root, outermost first."""
    chain = []
    for folder in directory.resolve().parents:
        chain.append(folder)
        if (folder / ".git").exists():
            break
    else:
        return []  # not inside a git checkout: only the .gitignore files below `directory` count
    return [f for folder in reversed(chain) for f in _ignore_files_of(folder)]


def _is_ignored(path: Path, is_dir: bool, ignore_files: Sequence[_IgnoreFile]) -> bool:
    for ignore_file in reversed(ignore_files):  # the deepest file that has a say decides
        decision = ignore_file.decides(path, is_dir)
        if decision is not None:
            return decision
    return False


class _Walker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.exclude = settings.exclude_spec() if settings.exclude else None
        self.root = (settings.root or Path.cwd()).resolve()

    def excluded(self, path: Path, is_dir: bool) -> bool:
        if self.exclude is None:
            return False
        try:
            relative = PurePosixPath(path.relative_to(self.root)).as_posix()
        except ValueError:
            relative = PurePosixPath(path).as_posix()
        return self.exclude.match_file(relative + ("/" if is_dir else "")) or self.exclude.match_file(relative)

    def walk(self, top: Path) -> list[Path]:
        """Source files below the directory `top` (absolute), in no particular order."""
        files: list[Path] = []
        ancestors = _ancestor_ignore_files(top)
        if _is_ignored(top, True, ancestors):
            ancestors = []  # the user named an ignored directory on purpose: the rules above it do not apply
        stack = [(top, ancestors)]
        while stack:
            directory, inherited = stack.pop()
            ignore_files = inherited + _ignore_files_of(directory)
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            for entry in entries:
                path = Path(entry.path)
                try:
                    is_dir = entry.is_dir()  # follows symlinks; walking below symlinked folders does not
                except OSError:
                    continue
                if is_dir:
                    if (
                        entry.name.startswith(".")
                        or entry.name in SKIPPED_DIRECTORIES
                        or entry.is_symlink()
                        or (path / "pyvenv.cfg").is_file()
                        or _is_ignored(path, True, ignore_files)
                        or self.excluded(path, True)
                    ):
                        continue
                    stack.append((path, ignore_files))
                elif entry.name.endswith(SOURCE_SUFFIXES):
                    if not _is_ignored(path, False, ignore_files) and not self.excluded(path, False):
                        files.append(path)
        return files


def display_path(path: Path) -> str:
    """`path` as shown to the user: relative to the working directory when it is absolute, with `/`."""
    if not path.is_absolute():
        return path.as_posix()
    # The common case without os.path.relpath (which makes both paths absolute again: half of a warm run's
    # time went there): a normalised path below the working directory.
    text, here = str(path), os.getcwd()
    if text.startswith(here) and text[len(here):len(here) + 1] == os.sep and ".." not in path.parts:
        return Path(text[len(here) + 1:]).as_posix()
    folder, _, name = text.rpartition(os.sep)
    shown = _shown_folder(folder or os.sep, here)
    if shown is None:  # another drive on Windows
        return path.as_posix()
    return name if shown == "." else f"{shown}/{name}"


@functools.lru_cache(maxsize=1024)
def _shown_folder(folder: str, here: str) -> str | None:
    """`folder` relative to `here`, with `/`: once per folder of a run (the files of a tree outside the working
    directory share few folders, and `os.path.relpath` made a tenth of a run's own work)."""
    try:
        return Path(os.path.relpath(folder, here)).as_posix()
    except ValueError:
        return None


def discover(
    paths: Sequence[Path], settings: Settings, *, force_exclude: bool = False
) -> tuple[list[Path], list[Problem]]:
    """The files to analyse under `paths`, sorted by their path as shown, and problems for missing paths.
    `force_exclude`: the `exclude` settings apply to files named explicitly too (as pre-commit names them)."""
    walker = _Walker(settings)
    found: dict[str, Path] = {}
    problems: list[Problem] = []
    for path in paths:
        if path.is_file():
            if not (force_exclude and walker.excluded(path.resolve(), False)):
                found.setdefault(display_path(path), path)
        elif path.is_dir():
            absolute = path.resolve()
            for file in walker.walk(absolute):
                shown = file.relative_to(absolute)
                found.setdefault(display_path(path / shown), path / shown)
        else:
            problems.append(Problem(ProblemKind.UNREADABLE, display_path(path), "no such file or directory"))
    return _once_each(found), problems


def _once_each(found: dict[str, Path]) -> list[Path]:
    """The files sorted by the path shown, each file once: of the paths that reach one file (by device and
    inode), the first that is not a symlink, else the first."""
    chosen: dict[object, str] = {}
    for shown in sorted(found):
        try:
            info = found[shown].stat()
        except OSError:  # reported when read
            chosen[shown] = shown
            continue
        key = (info.st_dev, info.st_ino)
        if key not in chosen or (found[chosen[key]].is_symlink() and not found[shown].is_symlink()):
            chosen[key] = shown
    return [found[shown] for shown in sorted(chosen.values())]
