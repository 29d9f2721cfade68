"""Sources: which files to read, and their lines in batches.

A directory means the access logs in it: by default names containing
``access`` and not ``error`` (``[logs] glob`` to choose), rotated siblings
included (``access.log.1``, ``access.log.2.gz``, ``access.log-20261101.gz``).
Compression is recognised by content, not by name: gzip (concatenated
members too), bzip2, xz, and zstd when the ``zstandard`` package is
installed. A compressed file that ends early yields its complete lines and a
warning. A run of NUL bytes (what a crash leaves where lines were lost)
becomes one line of its own, skipped by reason, so the lines around it
still count; a file whose first bytes look binary is refused by name.

Lines come out in batches of whole lines (a few MiB of text each) so memory
stays flat however large the input; each batch is one string that Polars
splits, never a Python loop per line.
"""

from __future__ import annotations

import bz2
import fnmatch
import glob
import lzma
import os
import re
import stat
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from types import ModuleType
from typing import IO, Any

from ..errors import InputError, UsageError, VanishedError

BATCH_BYTES = 16 * 1024 * 1024  # see batch_bytes_wanted
BATCH_ENV = "LOGTRACK_BATCH_MIB"
STDIN = "-"
BINARY_PROBE = 8192

_MAGIC: list[tuple[bytes, str]] = [
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
]
_gzip_zlib: ModuleType = zlib
try:  # ISA-L inflates gzip about 3x faster than zlib (0.10 s against 0.30 s for 240 MB of log)
    from isal import isal_zlib

    _gzip_zlib = isal_zlib
except ImportError:  # a platform without its wheel: the standard library's zlib
    pass
_INFLATE_ERRORS: tuple[type[Exception], ...] = tuple({zlib.error, getattr(_gzip_zlib, "error", zlib.error)})
_READ_ERRORS: tuple[type[Exception], ...] = (OSError, EOFError, lzma.LZMAError, *_INFLATE_ERRORS)
_CORRUPT: tuple[type[Exception], ...] = (*_READ_ERRORS, ValueError)


# Appended to every line of a batch for parse.split: a quote and a control byte
# servers always escape, so the piece after a line's last quote is never
# empty and the reader can tell how many quotes the line had.
MARK = b'"\x1e'


@dataclass(frozen=True)
class Batch:
    """Whole lines of one source: ``data`` joined by newlines, without the last one.

    Decoding is left to whoever needs text (most batches never do: Polars
    reads the bytes and checks UTF-8 itself). ``bad_utf8`` then holds the
    0-based indices (within the batch) of lines that were not valid UTF-8;
    their text is decoded with replacement characters so they keep their
    place and are skipped by reason, not dropped. ``raw_bytes`` is how far
    the file itself (compressed or not) was read.
    """

    source: str
    first_line: int  # 1-based number of the batch's first line in its file
    data: bytes
    raw_bytes: int = 0
    end_offset: int = 0  # decompressed bytes from the file's start through this batch's newline
    lines: int = 0  # how many lines; 0 when not counted yet

    @cached_property
    def _decoded(self) -> tuple[str, tuple[int, ...]]:
        return decode_lines(self.data)

    @property
    def text(self) -> str:
        return self._decoded[0]

    @property
    def bad_utf8(self) -> tuple[int, ...]:
        return self._decoded[1]

    @property
    def utf8(self) -> bytes:
        """The batch as valid UTF-8: ``data`` itself unless some line is not."""
        return self.text.encode() if self.bad_utf8 else self.data

    def line(self, index: int) -> str:
        """One line's text (0-based within the batch), for messages and examples."""
        return line_of(self.data, index)


def line_of(data: bytes, index: int) -> str:
    """The text of line ``index`` (0-based) of ``data``.

    A function of the bytes alone, so that what keeps it for later (a
    batch's summary, for the run's first example of each reason) keeps
    the batch's text, not the batch.
    """
    start = 0
    for _ in range(index):
        start = data.index(b"\n", start) + 1
    end = data.find(b"\n", start)
    text = data[start:] if end < 0 else data[start:end]
    return text.decode("utf-8", errors="replace").removesuffix("\r")


# Polars' CSV reader takes bytes that start like this for compressed data
# and would inflate them: such a batch is split in Python instead.
_POLARS_MAGIC = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd", b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda")


def csv_safe(data: bytes) -> bool:
    """Whether Polars' CSV reader reads ``data`` as the text it is."""
    return not data.startswith(_POLARS_MAGIC)


def holds(data: bytes, needle: bytes) -> bool:
    """``needle in data``, fast when ``needle``'s first byte is rare (a backslash, a ``#``) and it is not there.

    ``in`` is slow exactly when it finds nothing, the common case: its
    search steps by the needle's last byte, which a log holds everywhere (a
    quote, a colon): 6 to 13 ms on 16 MiB, 0.1 to 0.2 µs a line. Here the
    first byte is found by memchr and each place looked at; data full of
    it goes to a regex, which finds that byte first too (4 ms at worst).
    """
    at = data.find(needle[:1])
    for _ in range(64):
        if at < 0:
            return False
        if data.startswith(needle, at):
            return True
        at = data.find(needle[:1], at + 1)
    return _needle(needle).search(data, at) is not None


@cache
def _needle(needle: bytes) -> re.Pattern[bytes]:
    return re.compile(re.escape(needle))


def batch_of(source: str, first_line: int, data: bytes, raw_bytes: int = 0, end_offset: int = 0) -> Batch:
    """A batch with its lines counted (what the readers yield)."""
    return Batch(source, first_line, data, raw_bytes, end_offset, newlines(data) + 1)


def newlines(data: bytes) -> int:
    """How many newlines ``data`` holds.

    ``bytes.count`` tests byte by byte; ``replace`` finds them with memchr
    and copies what lies between: in all, half the time on a batch, which
    the reader spends holding the GIL.
    """
    return len(data) - len(data.replace(b"\n", b""))


def mark(data: bytes) -> bytes:
    """MARK before every newline and at the end (one pass in C): the quote split's copy, made where it is
    read and let go of at once, on the worker that parses the batch rather than on the reader."""
    return data.replace(b"\n", MARK + b"\n") + MARK


@dataclass
class Expanded:
    files: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def expand(paths: Sequence[str], pattern: str | None = None) -> Expanded:
    """Turn the command line's paths into files to read, in a stable order.

    A path that names nothing is a problem to report, not a reason to stop:
    logrotate may have moved a file between the listing and the run.
    """
    out = Expanded()
    for raw in paths:
        if raw == STDIN:
            out.files.append(STDIN)
            continue
        path = Path(raw)
        if path.is_dir():
            found = sorted(str(p) for p in path.iterdir() if p.is_file() and _is_access_log(p.name, pattern))
            if not found:
                which = f"matching {pattern!r}" if pattern else "containing 'access' (and not 'error')"
                out.problems.append(
                    f"{raw}: no access logs in this directory (looked for names {which}; "
                    "set [logs] glob or name the files)"
                )
            out.files.extend(found)
        elif path.exists():
            out.files.append(str(path))
        elif glob.has_magic(raw):
            matched = sorted(p for p in glob.glob(raw) if os.path.isfile(p))
            if not matched:
                out.problems.append(f"{raw}: no file matches this pattern")
            out.files.extend(matched)
        else:
            out.problems.append(f"{raw}: no such file or directory")
    out.files = list(dict.fromkeys(out.files))  # a file named twice is read once
    return out


def rotated_siblings(base: str) -> list[str]:
    """A log and its rotated copies: base, base.1, base.2.gz, base-20261101.gz."""
    names = [base] if os.path.isfile(base) else []
    for pattern in (glob.escape(base) + ".*", glob.escape(base) + "-*"):
        names.extend(sorted(p for p in glob.glob(pattern) if os.path.isfile(p)))
    return names


def _is_access_log(name: str, pattern: str | None) -> bool:
    if pattern:
        return fnmatch.fnmatch(name, pattern)
    low = name.lower()
    return "access" in low and "error" not in low


RAW_CHUNK = 1024 * 1024
OUT_CHUNK = 4 * 1024 * 1024  # decompressed bytes per step: a log that packs 1000:1 stays flat too


class Truncated(Exception):
    """A compressed stream ended before its end marker, or is corrupt."""


def _kind(head: bytes) -> str | None:
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return None


def _decompressor(kind: str) -> Any:
    if kind == "gzip":
        return _gzip_zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    if kind == "bzip2":
        return bz2.BZ2Decompressor()
    return lzma.LZMADecompressor()


def _decompress(raw: IO[bytes], kind: str) -> Iterator[bytes]:
    """Decompressed data, member after member (``cat a.gz b.gz`` is read whole).

    Fed a raw chunk at a time, so everything before a truncation point comes
    out; a stream that stops inside a member raises Truncated.
    """
    dec = _decompressor(kind)
    between_members = False
    pending = b""
    while True:
        chunk = pending or raw.read(RAW_CHUNK)
        pending = b""
        if not chunk:
            if between_members:
                return
            raise Truncated("compressed data ends early")
        if between_members:
            if not chunk.strip(b"\x00"):  # zero padding after the last member
                continue
            dec, between_members = _decompressor(_kind(chunk) or kind), False
        try:
            yield from _inflate(dec, chunk)
        except _CORRUPT as exc:
            raise Truncated(f"corrupt compressed data ({exc})") from None
        if dec.eof:
            between_members, pending = True, dec.unused_data


def _inflate(dec: Any, chunk: bytes) -> Iterator[bytes]:
    """All the output of one raw chunk, at most OUT_CHUNK bytes at a time.

    zlib hands back the input it did not get to (``unconsumed_tail``); bz2
    and lzma keep it and say so with ``needs_input``.
    """
    out = dec.decompress(chunk, OUT_CHUNK)
    while True:
        if out:
            yield out
        if dec.eof:
            return
        if hasattr(dec, "needs_input"):
            if dec.needs_input:
                return
            out = dec.decompress(b"", OUT_CHUNK)
        else:
            if not dec.unconsumed_tail:
                return
            out = dec.decompress(dec.unconsumed_tail, OUT_CHUNK)


def _zstd(raw: IO[bytes], name: str) -> Iterator[bytes]:
    try:
        import zstandard  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise InputError(
            f"{name}: zstd-compressed, and the zstandard package is not installed",
            "pip install 'logtrack[zstd]', or decompress it first",
        ) from None
    reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    while True:
        try:
            out = reader.read(RAW_CHUNK)
        except zstandard.ZstdError as exc:
            raise Truncated(f"corrupt or truncated zstd data ({exc})") from None
        if not out:
            return
        yield out


def _plain(raw: IO[bytes]) -> Iterator[bytes]:
    while chunk := raw.read(RAW_CHUNK):
        yield chunk


def open_source(name: str, skip: int = 0) -> tuple[Iterator[bytes], IO[bytes]]:
    """The file's data in chunks from decompressed byte ``skip``; and the raw file.

    A plain file seeks; a compressed one is decompressed from its start and
    the first ``skip`` bytes dropped.
    """
    if name == STDIN:
        return _plain(sys.stdin.buffer), sys.stdin.buffer
    try:
        raw = open(name, "rb")  # noqa: SIM115 - closed by the caller
    except FileNotFoundError:
        raise VanishedError(f"{name}: gone since it was listed") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror}") from None
    kind = _kind(raw.peek(8)[:8])
    if kind is None:
        if skip:  # (never for a pipe, which cannot seek: `run` leaves pipes to `xml`, see is_stream)
            raw.seek(skip)
        return _plain(raw), raw
    chunks = _zstd(raw, name) if kind == "zstd" else _decompress(raw, kind)
    return (_skip(chunks, skip) if skip else chunks), raw


def is_stream(name: str) -> bool:
    """Whether ``name`` is stdin or a pipe (``<(zcat ...)``, a FIFO): read once, from its start, with no
    identity to resume from."""
    if name == STDIN:
        return True
    try:
        return not stat.S_ISREG(os.stat(name).st_mode)
    except OSError:
        return False


TYPICAL_RATIO = 10  # plain bytes per compressed byte of an access log, when the file does not say


def plain_size_estimate(name: str) -> int:
    """About how many bytes a file holds once decompressed, without decompressing it.

    gzip keeps the plain size of its last member (mod 4 GiB) in its last 4
    bytes; where that is smaller than the file, it wrapped or the file has
    several members, and a typical ratio is used, as for the other kinds.
    """
    try:
        size = os.path.getsize(name)
        with open(name, "rb") as fh:
            kind = _kind(fh.read(8))
            if kind is None:
                return size
            if kind == "gzip" and size >= 18:
                fh.seek(-4, os.SEEK_END)
                isize = int.from_bytes(fh.read(4), "little")
                if isize >= size:
                    return isize
    except OSError:
        return 0
    return size * TYPICAL_RATIO


def is_compressed(name: str) -> bool:
    with open(name, "rb") as fh:
        return _kind(fh.read(8)) is not None


def _skip(chunks: Iterator[bytes], skip: int) -> Iterator[bytes]:
    for chunk in chunks:
        if skip >= len(chunk):
            skip -= len(chunk)
            continue
        yield chunk[skip:]
        skip = 0
    if skip:
        raise Truncated(f"the file is {skip} bytes shorter than what was read from it before")


def head(name: str, size: int) -> bytes:
    """The first ``size`` decompressed bytes (fewer if the file is shorter)."""
    chunks, raw = open_source(name)
    out = bytearray()
    try:
        for chunk in chunks:
            out += chunk
            if len(out) >= size:
                break
    except Truncated:
        pass
    finally:
        raw.close()
    return bytes(out[:size])


def batch_bytes_wanted() -> int:
    """How much of a log is worked on at once: ``BATCH_BYTES``, or LOGTRACK_BATCH_MIB.

    16 MiB batches keep Polars' per-batch costs small against the work, and
    a run's peak memory near 600 MB (two batches worked on, two read ahead);
    a small host can trade some speed for less memory with a smaller value.
    """
    value = os.environ.get(BATCH_ENV)
    if value is None:
        return BATCH_BYTES
    if not value.isdigit() or not 1 <= int(value) <= 1024:
        raise UsageError(f"{BATCH_ENV}={value!r}: not a size in MiB", "set a whole number from 1 to 1024, or unset it")
    return int(value) * 1024 * 1024


def batches(
    name: str,
    batch_bytes: int | None = None,
    warn: Callable[[str], None] | None = None,
    *,
    skip: int = 0,
    first_line: int = 1,
    partial_tail: bool = True,
) -> Iterator[Batch]:
    """Yield the lines of one source as batches.

    With ``partial_tail`` (a stateless read) a last line without a newline
    is yielded as it is; without it (an incremental read, the file may
    still grow) it is held back until its newline is written.

    A compressed stream that ends early (a file still being written, or cut
    by a full disk) ends the file with a warning: its complete lines are
    kept, the incomplete last one is left out and said so.
    """
    batch_bytes = batch_bytes or batch_bytes_wanted()
    chunks, raw = open_source(name, skip)
    line_no = first_line
    offset = skip
    pending = _Pending()
    holes = _Holes()
    first = True

    def whole_lines() -> Batch | None:
        """The complete lines read so far, as a batch (they leave ``pending``; ``line_no`` goes past them)."""
        nonlocal offset, line_no
        cut = pending.cut()
        if cut is None:
            return None
        data, lines = cut
        offset += holes.take(len(data) + 1)
        batch = Batch(name, line_no, data, _tell(raw), offset, lines)
        line_no += lines
        return batch

    try:
        while True:
            try:
                chunk = next(chunks, b"")
            except Truncated as exc:
                if batch := whole_lines():
                    yield batch
                if warn:
                    tail = f"; its incomplete last line ({pending.size} bytes) was left out" if pending.size else ""
                    warn(f"{name}: {exc}: read up to line {line_no - 1}{tail}")
                return
            except OSError as exc:
                raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from None
            if first and skip == 0 and looks_binary(chunk[:BINARY_PROBE]):
                raise InputError(
                    f"{name}: looks binary (NUL and control bytes no server writes), not an access log",
                    "leave it out of the paths, or set [logs] glob to pick the access logs",
                )
            first = False
            if chunk and (holes.open or b"\x00" in chunk):
                try:
                    chunk = holes.fill(chunk, pending.size, pending.ends_line())
                except _Binary:
                    # its text before the junk
                    pending.add(holes.fill(chunk[: chunk.find(b"\x00")], pending.size, pending.ends_line()))
                    if batch := whole_lines():
                        yield batch  # the lines before it are a log's, and count
                    raise InputError(
                        f"{name}: NUL bytes all through it after line {line_no - 1}: binary from there, "
                        "not holes in a log; the lines before were read",
                        "leave it out of the paths, or set [logs] glob to pick the access logs",
                    ) from None
                if not chunk:  # all of it more of a hole already begun
                    continue
            if chunk:
                pending.add(chunk)
                if pending.size < batch_bytes:
                    continue
            if batch := whole_lines():
                yield batch
            if not chunk:
                if pending.size and partial_tail:
                    data = pending.take_all()
                    yield Batch(name, line_no, data, _tell(raw), offset + holes.take(len(data)), 1)
                return
    finally:
        if raw is not sys.stdin.buffer:
            raw.close()


class _Pending:
    """What was read since the last batch, kept as the chunks it came in.

    Joined once, into the batch's bytes, when the batch is cut: appending
    every chunk to one growing buffer and copying the batch out of it made
    the data twice, on the reader's thread, which holds the GIL. The
    newlines are counted chunk by chunk as they come, while the chunk is
    still in the CPU's cache, rather than in the whole batch afterwards.
    """

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0
        self.newlines = 0

    def add(self, chunk: bytes) -> None:
        if chunk:
            self.parts.append(chunk)
            self.size += len(chunk)
            self.newlines += newlines(chunk)

    def ends_line(self) -> bool:
        """Whether what was read so far ends at a line's end (or nothing was)."""
        return not self.parts or self.parts[-1].endswith(b"\n")

    def cut(self) -> tuple[bytes, int] | None:
        """The data through its last newline (the newline left out) and how many lines that is; or None.

        The text after that newline stays, the start of the next batch.
        """
        if not self.newlines:
            return None
        i = len(self.parts) - 1
        while (at := self.parts[i].rfind(b"\n")) < 0:
            i -= 1
        last = self.parts[i]
        with memoryview(last) as head:
            data = b"".join([*self.parts[:i], head[:at]])
        lines = self.newlines  # every newline ends one of its lines: the last one's is the one cut at
        rest = [last[at + 1:], *self.parts[i + 1:]]
        self.parts, self.newlines = [p for p in rest if p], 0
        self.size = sum(map(len, self.parts))
        return data, lines

    def take_all(self) -> bytes:
        """All that is left (a last line without its newline), which leaves."""
        data = b"".join(self.parts)
        self.parts, self.size, self.newlines = [], 0, 0
        return data


HOLE = b"\x00"  # what a run of NUL bytes becomes: this one byte, on a line of its own
_NUL_RUN = re.compile(rb"\x00+")
# Bytes below 0x20 that nginx and Apache escape, so never write raw.
_CONTROL = bytes(b for b in range(1, 32) if b not in b"\t\n\r\x0b\x0c\x1b")


def looks_binary(data: bytes) -> bool:
    """Whether NUL bytes in ``data`` mean a binary file rather than a log with a hole.

    A crash can leave a log with blocks of NUL bytes where lines were lost
    (the file grew, its data never reached the disk), and copytruncate does
    the same with a writer that does not append; either way the lines
    around the hole are a log's. A binary file (a database, an image, an
    executable, UTF-16 text) has its NULs scattered, among other control
    bytes that servers never write raw.
    """
    if b"\x00" not in data:
        return False
    runs = sum(1 for _ in _NUL_RUN.finditer(data))
    rest = data.replace(b"\x00", b"")
    controls = len(rest) - len(rest.translate(None, _CONTROL))
    return runs > max(16, len(data) // 4096) or controls * 100 > len(rest)


class _Binary(Exception):
    """NUL bytes past a file's start that are scattered, not a hole."""


@dataclass
class _Holes:
    """Runs of NUL bytes (holes) in the data, each turned into one HOLE line.

    The run becomes one ``\\x00`` byte with a line break before it when it
    cuts a line and after it when text follows at once, so the text on
    either side keeps its own line (the line after a crash's hole is a
    whole line, and counts). Line numbers after a hole that cuts a line are
    therefore one or two higher than in the file. The hole's bytes never
    pile up in memory, however long it is; ``extras`` keeps where the file
    holds more (or fewer) bytes than the data, so read positions stay the
    file's own.
    """

    open: bool = False  # the data so far ends in a hole, and the next NULs belong to it
    extras: list[tuple[int, int]] = field(default_factory=list)  # (data position, file bytes - data bytes)

    def fill(self, chunk: bytes, base: int, at_line_start: bool) -> bytes:
        """``chunk`` with its holes turned into HOLE lines, to follow ``base`` bytes of data.

        ``at_line_start``: whether the data so far ends a line (or there is none).

        Raises _Binary when it looks binary (``looks_binary``): a file can
        turn to junk past its first bytes too.
        """
        if looks_binary(chunk):
            raise _Binary
        runs = list(_NUL_RUN.finditer(chunk))
        out = bytearray()
        pos = 0
        for run in [*runs, None]:
            text = chunk[pos: run.start() if run else len(chunk)]
            if text:
                if self.open and not text.startswith(b"\n"):
                    self._add(out, b"\n", base, 0)
                self.open = False
                out += text
                at_line_start = text.endswith(b"\n")
            if run is None:
                break
            length = run.end() - run.start()
            if self.open:
                at = base + len(out)
                if self.extras and self.extras[-1][0] == at:  # one entry however many chunks it spans
                    length += self.extras.pop()[1]
                self.extras.append((at, length))
            else:
                if not at_line_start:
                    self._add(out, b"\n", base, 0)
                self._add(out, HOLE, base, length)
                self.open = True
            pos = run.end()
        return bytes(out)

    def _add(self, out: bytearray, data: bytes, base: int, file_bytes: int) -> None:
        out += data
        self.extras.append((base + len(out), file_bytes - len(data)))

    def take(self, size: int) -> int:
        """How many file bytes the first ``size`` bytes of data stand for; they leave the data."""
        if not self.extras:
            return size
        extra = sum(e for at, e in self.extras if at <= size)
        self.extras = [(at - size, e) for at, e in self.extras if at > size]
        return size + extra


def _tell(raw: IO[bytes]) -> int:
    try:
        return raw.tell()
    except (OSError, ValueError):
        return 0


def decode_lines(data: bytes) -> tuple[str, tuple[int, ...]]:
    """Decode lines strictly; only lines with invalid UTF-8 are replaced (and listed).

    The loop runs once per bad line, not per line: a strict decode of the
    whole batch is tried first and resumes after each bad line.
    """
    try:
        return data.decode("utf-8"), ()
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
    return "".join(parts), tuple(bad)
