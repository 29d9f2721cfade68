"""Sources: which files to read, and their lines in batches.

A directory means the access logs in it: names containing ``access`` and not
``error``, rotated siblings included (``access.log.1``, ``access.log.2.gz``).
Compression is recognised by content, not by name, so a rotated file that
logrotate compressed under an unexpected name is still read.

Lines come out in batches of whole lines (a few MiB of text each) so memory
stays flat however large the input; each batch is one string that Polars
splits, never a Python loop per line.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from .errors import InputError

BATCH_BYTES = 8 * 1024 * 1024
STDIN = "-"

_MAGIC: list[tuple[bytes, str]] = [
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
]


@dataclass(frozen=True)
class Batch:
    """Whole lines of one source: ``text`` joined by newlines, without the last one.

    ``bad_utf8`` holds the 0-based indices (within the batch) of lines that
    were not valid UTF-8; their text is decoded with replacement characters
    so they keep their place and are skipped by reason, not dropped.
    """

    source: str
    first_line: int  # 1-based number of the batch's first line in its file
    text: str
    bad_utf8: tuple[int, ...]


def expand(paths: Sequence[str]) -> list[str]:
    """Turn the command line's paths into files to read, in a stable order."""
    files: list[str] = []
    for raw in paths:
        if raw == STDIN:
            files.append(STDIN)
            continue
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                str(p) for p in path.iterdir()
                if p.is_file() and _is_access_log(p.name)
            )
            if not found:
                raise InputError(
                    f"{raw}: no access logs in this directory",
                    "name the files directly; a directory is searched for names "
                    "containing 'access' (and not 'error')",
                )
            files.extend(found)
        elif path.exists():
            files.append(str(path))
        else:
            raise InputError(f"{raw}: no such file or directory")
    return files


def _is_access_log(name: str) -> bool:
    low = name.lower()
    return "access" in low and "error" not in low


def open_source(name: str) -> IO[bytes]:
    """Open a file, decompressing by its first bytes."""
    if name == STDIN:
        return sys.stdin.buffer
    try:
        raw = open(name, "rb")  # noqa: SIM115 - returned to the caller
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror}") from None
    head = raw.peek(8)[:8] if hasattr(raw, "peek") else b""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            if kind == "gzip":
                return cast(IO[bytes], gzip.GzipFile(fileobj=raw))  # reads concatenated members
            if kind == "bzip2":
                return cast(IO[bytes], bz2.BZ2File(raw))
            return cast(IO[bytes], lzma.LZMAFile(raw))
    return raw


def batches(name: str, batch_bytes: int | None = None) -> Iterator[Batch]:
    """Yield the lines of one source as batches; the last line may lack a newline."""
    batch_bytes = batch_bytes or BATCH_BYTES
    stream = open_source(name)
    line_no = 1
    carry = b""
    try:
        while True:
            try:
                chunk = stream.read(batch_bytes)
            except (OSError, EOFError, lzma.LZMAError) as exc:
                raise InputError(f"{name}: cannot read: {exc}") from None
            if not chunk:
                break
            data = carry + chunk
            cut = data.rfind(b"\n")
            if cut < 0:
                carry = data
                continue
            carry = data[cut + 1:]
            batch = _decode(name, line_no, data[:cut])
            line_no += data.count(b"\n", 0, cut) + 1
            yield batch
        if carry:
            yield _decode(name, line_no, carry)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _decode(name: str, first_line: int, data: bytes) -> Batch:
    """Decode a batch strictly; only lines with invalid UTF-8 are replaced.

    The loop runs once per bad line, not per line: a strict decode of the
    whole batch is tried first and resumes after each bad line.
    """
    try:
        return Batch(name, first_line, data.decode("utf-8"), ())
    except UnicodeDecodeError:
        pass
    parts: list[str] = []
    bad: list[int] = []
    pos = 0
    while True:
        try:
            parts.append(data[pos:].decode("utf-8"))
            break
        except UnicodeDecodeError as exc:
            start = data.rfind(b"\n", 0, pos + exc.start) + 1
            end = data.find(b"\n", pos + exc.start)
            end = len(data) if end < 0 else end
            parts.append(data[pos:start].decode("utf-8"))
            parts.append(data[start:end].decode("utf-8", errors="replace"))
            bad.append(data.count(b"\n", 0, start))
            if end == len(data):
                break
            pos = end
    return Batch(name, first_line, "".join(parts), tuple(bad))
