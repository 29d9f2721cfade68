"""Sources: one file's lines in batches of whole lines.

The file is read through ``compressed`` (its kind told by content); a file
that ends early yields its complete lines and a warning. A run of NUL bytes
(what a crash leaves where lines were lost) becomes one line of its own
(``holes``), skipped by reason, so the lines around it still count; a file
whose first bytes look binary is refused by name.

Lines come out in batches of whole lines (a few MiB of text each) so memory
stays flat however large the input; each batch is one string that Polars
splits, never a Python loop per line.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache, cached_property
from typing import IO

from ..errors import InputError, UsageError, VanishedError
from . import parts
from .compressed import (
    OUT_CHUNK,
    RAW_CHUNK,
    Truncated,
    check_same,
    open_source,
    plain_descriptor,
    position,
    tail_at,
)
from .holes import Binary, Holes, looks_binary, packed

__all__ = ["BATCH_BYTES", "BATCH_ENV", "Batch", "batch_bytes_wanted", "batch_of", "batches",
           "csv_safe", "decode_lines", "holds", "line_of", "newlines"]

BATCH_BYTES = 16 * 1024 * 1024  # see batch_bytes_wanted
# A line longer than any a server writes (nginx's request line and headers stop at a few KiB by default):
# only junk in a corrupt file is. It is read from its first LINE_KEPT bytes, the rest dropped as it is
# read, so that memory stays flat whatever a file holds; it keeps its line, and positions stay the file's.
LINE_MAX = 16 * 1024 * 1024
LINE_KEPT = 64 * 1024
# (Every chunk read is shorter than LINE_MAX, so such a line spans chunks and is found as they come.)
assert max(RAW_CHUNK, OUT_CHUNK) < LINE_MAX
BATCH_ENV = "LOGTRACK_BATCH_MIB"
BINARY_PROBE = 8192


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
    # of a plain file read incrementally: the hash of its bytes before end_offset (``compressed.tail_at``),
    # read when the batch was, from the file read (a commit by its name could read another, renamed there)
    tail_hash: str | None = None

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
    note: Callable[[str], None] | None = None,
    skip: int = 0,
    first_line: int = 1,
    partial_tail: bool = True,
    same_as: tuple[int, int] | None = None,
    head: bytes = b"",
) -> Iterator[Batch]:
    """Yield the lines of one source as batches.

    With ``partial_tail`` (a stateless read) a last line without a newline
    is yielded as it is; without it (an incremental read, the file may
    still grow) it is held back until its newline is written, unless the
    file cannot grow (a compressed stream that ended whole, a pipe) or was
    last written a minute ago (``_being_written``): servers write a line
    whole, so a last line left unfinished that long was cut for good (a
    crash) or written so (a log put together by hand). Held back for ever,
    it was counted by ``xml`` and never by ``run``; a compressed copy, read
    whole, was even marked done with it left out. A server that appends to
    such a file later starts its new line where the cut one ended: read from
    there, it is a whole line (held back, the two were one damaged line).

    A compressed stream that ends early (a file still being written, or cut
    by a full disk) ends the file with a warning: its complete lines are
    kept, the incomplete last one is left out and said so. An incremental
    read of one written to within the last minute (``_being_written``) is
    told in a note instead: its next read resumes there. ``note`` hears
    of what is no loss: a line too long to be a server's, read from its
    start only (``LINE_MAX``).

    ``same_as``: the (device, inode) the caller found at ``name`` and means
    to read: the file opened is checked to be that one (VanishedError if
    not), as logrotate may have renamed another to the name in between.
    ``head``: the file's first bytes as the caller matched it; an
    incremental read of a plain file yields a batch only while the file
    still starts with them (VanishedError if not: logrotate's copytruncate
    emptied it while it was read and the server wrote past the position,
    so the batch would hold the new lines' text from their middle on).
    """
    batch_bytes = batch_bytes or batch_bytes_wanted()
    chunks, raw = open_source(name, skip)
    check_same(raw, name, same_as)
    fd = None if partial_tail else plain_descriptor(raw)  # (a stateless read keeps no position)
    line_no = first_line
    offset = skip
    pending = _Pending()
    holes = Holes()
    first = True
    long_line = False  # inside a line past LINE_MAX: what is read of it up to its newline is dropped

    def tail_of(end: int) -> str | None:
        """An incremental read of a plain file: the hash of its bytes before ``end``, once it still starts
        with ``head`` (VanishedError if not); None for any other read."""
        if fd is None:
            return None
        if head and os.pread(fd, len(head), 0) != head:
            raise VanishedError(f"{name}: emptied and written again while it was read (copytruncate?)")
        return tail_at(fd, end)

    def whole_lines(last: bool = False) -> Batch | None:
        """The complete lines read so far, as a batch (they leave ``pending``; ``line_no`` goes past them).

        A line a container runtime split ends no batch (``parts``): its parts
        wait for the rest, but for the ``last`` batch of a stateless read.
        """
        nonlocal offset, line_no
        cut = pending.cut(hold_parts=not (last and partial_tail))
        if cut is None:
            return None
        data, lines = cut
        offset += holes.take(len(data) + 1)
        batch = Batch(name, line_no, data, position(raw), offset, lines, tail_of(offset))
        line_no += lines
        return batch

    try:
        while True:
            try:
                chunk = next(chunks, b"")
            except Truncated as exc:
                if batch := whole_lines(last=True):
                    yield batch
                if not partial_tail and _being_written(raw):
                    # an incremental read resumes here next time, as in a plain file whose last line is unfinished
                    if note:
                        note(f"{name}: still being written ({exc}): read up to line {line_no - 1}, the rest next "
                             "time")
                elif warn:
                    tail = f"; its incomplete last line ({pending.size} bytes) was left out" if pending.size else ""
                    warn(f"{name}: {exc}: read up to line {line_no - 1}{tail}")
                return
            if first and skip == 0 and (kind := packed(chunk[:BINARY_PROBE], name)):
                raise InputError(f"{name}: {kind[0]}", kind[1])
            if first and skip == 0 and looks_binary(chunk[:BINARY_PROBE]):
                raise InputError(
                    f"{name}: looks binary (NUL and control bytes no server writes), not an access log",
                    "leave it out of the paths, or set [logs] glob to pick the access logs",
                )
            first = False
            if chunk and (long_line or not holes.open):
                # A line longer than LINE_MAX (a hole's NULs end a line, and are left to ``holes``): its
                # first LINE_KEPT bytes stay, the rest is dropped as it comes, up to its newline.
                end = chunk.find(b"\n")
                upto = len(chunk) if end < 0 else end
                if not long_line and pending.tail + upto > LINE_MAX and b"\x00" not in chunk[:upto]:
                    if note:
                        note(f"{name}:{line_no + pending.newlines}: a line of over {LINE_MAX >> 20} MiB, longer "
                             f"than any a server writes (junk?): read from its first {LINE_KEPT >> 10} KiB")
                    holes.drop(pending.size, pending.truncate_tail(LINE_KEPT))
                    long_line = True
                if long_line:
                    holes.drop(pending.size, upto)
                    if end < 0:
                        continue
                    chunk, long_line = chunk[end:], False
            if chunk and (holes.open or b"\x00" in chunk):
                try:
                    chunk = holes.fill(chunk, pending.size, pending.ends_line())
                except Binary:
                    # its text before the junk
                    pending.add(holes.fill(chunk[: chunk.find(b"\x00")], pending.size, pending.ends_line()))
                    if batch := whole_lines(last=True):
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
            if not chunk and pending.tail and (partial_tail or fd is None or not _being_written(raw)):
                # A last line without its newline ends the last batch, with the lines before it (a batch of
                # its own cost a batch's queries, and kept a small file from being counted with others).
                lines = pending.newlines + 1
                data = pending.take_all()
                end = offset + holes.take(len(data))
                yield Batch(name, line_no, data, position(raw), end, lines, tail_of(end))
                return
            if batch := whole_lines(last=not chunk):
                yield batch
            if not chunk:
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
        self.tail = 0  # bytes after the last newline: the line in progress

    def add(self, chunk: bytes) -> None:
        if chunk:
            self.parts.append(chunk)
            self.size += len(chunk)
            self.newlines += newlines(chunk)
            last = chunk.rfind(b"\n")
            self.tail = self.tail + len(chunk) if last < 0 else len(chunk) - last - 1

    def ends_line(self) -> bool:
        """Whether what was read so far ends at a line's end (or nothing was)."""
        return not self.parts or self.parts[-1].endswith(b"\n")

    def cut(self, *, hold_parts: bool = True) -> tuple[bytes, int] | None:
        """The data through its last newline (the newline left out) and how many lines that is; or None.

        The text after that newline stays, the start of the next batch; with
        ``hold_parts``, so do the lines from the first part of a line a
        container runtime split that goes on past it (``parts.held_from``).
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
        held = 0
        if hold_parts and (start := parts.held_from(data)) is not None:
            if start == 0:  # a split line's first parts and what follows them: the rest of it not read yet
                return None
            kept = data[start:] + b"\n"
            held = newlines(kept)
            rest.insert(0, kept)
            data = data[:start - 1]
        self.parts, self.newlines = [p for p in rest if p], held
        self.size = sum(map(len, self.parts))
        return data, lines - held

    def truncate_tail(self, size: int) -> int:
        """Keep the first ``size`` bytes of the line in progress (``tail``); how many bytes left."""
        removed = max(0, self.tail - size)
        if removed:
            data = b"".join(self.parts)[:self.size - removed]
            self.parts, self.size, self.tail = [data] if data else [], self.size - removed, size
        return removed

    def take_all(self) -> bytes:
        """All that is left (a last line without its newline), which leaves."""
        data = b"".join(self.parts)
        self.parts, self.size, self.newlines, self.tail = [], 0, 0, 0
        return data


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


BEING_WRITTEN_SECONDS = 60


def _being_written(raw: IO[bytes]) -> bool:
    """Whether a compressed file that ends mid-stream is most likely still being written, not cut for good.

    nginx's ``access_log ... gzip`` appends a member at each flush, and
    logrotate's ``compress`` writes the ``.gz`` while a run may read it: the
    end may be a write in progress. Such a file was written to within the
    last minute; one cut by a full disk or a crash keeps its end, and the
    next run, a minute on, says so. (A run's read position stays at its last
    complete line either way.)
    """
    try:
        modified = os.fstat(raw.fileno()).st_mtime
    except (OSError, ValueError):  # (a stream with no file behind it)
        return False
    return time.time() - modified < BEING_WRITTEN_SECONDS
