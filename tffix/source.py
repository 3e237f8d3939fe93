"""Reading source bytes into text and back, byte for byte.

tffix never lets Python's text layer touch a file: it reads bytes, honours a BOM and a PEP 263 encoding
cookie, keeps every line ending as it is (CRLF, LF or mixed), and encodes the fixed text back the same way.
Anything it cannot represent faithfully is refused with a clear message instead of being rewritten.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import signal
import stat
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path

MAX_SOURCE_BYTES = 10 * 1024 * 1024  # larger "sources" are generated data, not code worth fixing


class SourceError(Exception):
    """A file that tffix cannot read as Python source. The message is one line and names the problem."""


@dataclass(frozen=True)
class SourceText:
    """Decoded source plus what is needed to encode it back to the same bytes."""

    text: str
    encoding: str = "utf-8"
    bom: bool = False

    def encode(self, text: str | None = None) -> bytes:
        body = (self.text if text is None else text).encode(self.encoding)
        return (codecs.BOM_UTF8 + body) if self.bom else body


def decode_source(data: bytes) -> SourceText:
    if len(data) > MAX_SOURCE_BYTES:
        raise SourceError(f"file is {len(data):,} bytes, over the {MAX_SOURCE_BYTES:,}-byte limit for source")
    nul = data.find(b"\x00")
    if nul != -1:
        raise SourceError(f"file holds a NUL byte at offset {nul}; not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise SourceError(f"bad encoding declaration: {exc}") from None
    bom = encoding == "utf-8-sig"
    if bom:
        encoding, data = "utf-8", data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"not valid {encoding}: byte 0x{data[exc.start]:02x} at offset {exc.start} "
            "(add an encoding declaration or convert the file to UTF-8)"
        ) from None
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r} in the encoding declaration") from None
    return SourceText(text=text, encoding=encoding, bom=bom)


def too_large(size: int, limit: int) -> str:
    """The message for a file over the `max-file-size` limit (a Problem of kind SKIPPED)."""
    return (f"file too large ({_megabytes(size)} > {_megabytes(limit)} limit); raise `max-file-size` in "
            "[tool.tffix] to analyse it")


def _megabytes(size: int) -> str:
    return f"{size / 1024**2:.1f} MB" if size >= 1024**2 // 10 else f"{size / 1024:.1f} KB"


def read_source(path: Path) -> SourceText:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from None
    return decode_source(data)


class WriteRefused(OSError):
    """A file tffix will not write (read-only, changed since it was read). The message is one line, names no
    temporary file, and says why nothing was written. An OSError, so that every caller that handles a failed
    write handles this one too."""


def write_file(path: Path, data: bytes, *, expected: bytes | None = None) -> None:
    """Replace the contents of the file at `path` with `data`, so that a reader (or a crash) sees the old
    contents or the new ones, never half.

    - A symlink is written through: its target gets the new contents and the link stays a link (as Ruff's
      `--fix` does; a symlinked directory is not walked into, see `tffix.discovery`).
    - A file with other hard links is rewritten in place (same inode, so every link sees the fix), with
      SIGINT/SIGTERM held back while it is written; any other file is replaced atomically (`os.replace` of a
      temporary file in the same directory, which takes the original's permission bits).
    - A read-only file is refused (WriteRefused), even where the directory would allow replacing it.
    - `expected`: the bytes the caller read; when the file holds anything else (another tffix run or an editor
      wrote it meanwhile), WriteRefused and nothing is written. The check holds an exclusive `flock` on the
      file up to the replace, so that two tffix runs cannot both pass it.
    OSError for anything else; its message (`strerror`) names no temporary file.
    """
    target = Path(os.path.realpath(path))
    try:
        fd = os.open(target, os.O_RDONLY)
    except FileNotFoundError:
        if expected is not None:
            raise WriteRefused("deleted on disk since it was read; not written") from None
        _replace(target, data, None)
        return
    try:
        locked = _lock(fd)
        info = os.fstat(fd)
        if not info.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(target, os.W_OK):
            raise WriteRefused("read-only file; not written (make it writable to let tffix fix it)")
        if expected is not None:
            try:
                now = os.stat(target)
            except FileNotFoundError:
                raise WriteRefused("deleted on disk since it was read; not written") from None
            if (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino) or _read_all(fd) != expected:
                raise WriteRefused("changed on disk since it was read; not written")
        if info.st_nlink > 1:
            _write_in_place(target, data)
        else:
            _replace(target, data, info.st_mode & 0o7777, locked=locked)
    finally:
        os.close(fd)  # releases the lock


def atomic_write(path: Path, data: bytes) -> None:
    """`write_file` without the check of what the file held (for files tffix itself just wrote)."""
    write_file(path, data)


def _lock(fd: int) -> bool:
    """An exclusive `flock` on the open file; False where there is none (not POSIX, a file system without
    locks), and then nothing may rely on being the file's only writer."""
    try:
        import fcntl
    except ImportError:  # not on POSIX: the byte comparison alone
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:  # a file system without locks
        return False
    return True


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def unfinished_write(path: Path) -> Path:
    """The temporary file a write of `path` fills while it holds the file's lock. A writer killed outright
    (SIGKILL, the OOM killer, a power cut) leaves it behind; the next write of the same file, or
    `discard_unfinished_write`, removes it. One name per file, so that a leftover is found without listing the
    directory."""
    return _unfinished_name(Path(os.path.realpath(path)))


def _unfinished_name(target: Path) -> Path:
    """`unfinished_write` of a path already resolved (as `write_file` holds it)."""
    return target.with_name(f".{_temporary_stem(target)}.tffix-tmp")


def _temporary_stem(target: Path) -> str:
    """The file's own name, or for a name too long to take the affixes (names are at most 255 bytes), a hash
    of it."""
    name = os.fsencode(target.name)
    return target.name if len(name) <= 200 else hashlib.blake2b(name, digest_size=16).hexdigest()


def discard_unfinished_write(path: Path) -> None:
    """Remove what a writer of `path` killed mid-write left behind, under the file's lock (so never the
    temporary file of a write under way). The file itself is untouched: the replace had not happened."""
    target = Path(os.path.realpath(path))
    try:
        fd = os.open(target, os.O_RDONLY)
    except OSError:
        return
    try:
        if _lock(fd):
            os.unlink(_unfinished_name(target))
    except OSError:
        pass
    finally:
        os.close(fd)


def _replace(target: Path, data: bytes, mode: int | None, *, locked: bool = False) -> None:
    try:
        fd, tmp = _temporary(target, locked)
    except OSError as exc:
        exc.filename = exc.filename2 = None  # the temporary file is no business of the user's
        raise
    try:
        _fill(fd, data)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            exc.filename = exc.filename2 = None  # the temporary file is no business of the user's
        raise


def _temporary(target: Path, locked: bool) -> tuple[int, str]:
    """A new temporary file beside `target`. Holding the file's lock, its one fixed name: no other writer of
    this file is under way, so one found there is a killed writer's leftover, and goes. Without the lock (a
    new file, a file system without locks) a unique name, since two writers may meet."""
    if locked:
        tmp = str(_unfinished_name(target))
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL  # os.open's descriptors are not inherited (PEP 446)
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            os.unlink(tmp)
            return os.open(tmp, flags, 0o600), tmp
    return tempfile.mkstemp(prefix=f".{_temporary_stem(target)}.", suffix=".tffix-tmp", dir=target.parent)


def _fill(fd: int, data: bytes) -> None:
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _write_in_place(target: Path, data: bytes) -> None:
    """Rewrite the file's own inode (its other hard links see the new bytes), with SIGINT and SIGTERM held back
    until it is whole: only a crash or SIGKILL can leave it half-written."""
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held) if hasattr(signal, "pthread_sigmask") else None
    try:
        with open(target, "r+b") as handle:
            handle.write(data)
            handle.truncate()
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        if previous is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
