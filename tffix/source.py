"""Reading source bytes into text and back, byte for byte.

tffix never lets Python's text layer touch a file: it reads bytes, honours a BOM and a PEP 263 encoding
cookie, keeps every line ending as it is (CRLF, LF or mixed), and encodes the fixed text back the same way.
Anything it cannot represent faithfully is refused with a clear message instead of being rewritten.
"""

from __future__ import annotations

import codecs
import io
import os
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


def read_source(path: Path) -> SourceText:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from None
    return decode_source(data)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a reader (or a crash) sees the old file or the new one, never half.

    The temporary file sits in the same directory (same filesystem, so `os.replace` is atomic) and takes the
    original's permission bits.
    """
    directory = path.parent
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tffix-tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
