"""A W3C log's sections: its lines cut at every ``#Fields:`` header, each part with the format it sets.

A W3C log (IIS, CloudFront) may say its fields again with other fields
further down; ``follow`` cuts a file's batches there so the lines after a
header are read by its fields (``formats.w3c`` compiles a header), and
``header_before`` finds the header a run resuming mid-file reads by.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import replace

from ..errors import InputError, LogFormatError
from ..formats import LogFormat
from ..formats.w3c import HEADER, from_header
from .holes import HOLE
from .sources import Batch, batch_of, holds


def follow(batches: Iterable[Batch], fmt: LogFormat, start: int = 0) -> Iterator[tuple[Batch, LogFormat]]:
    """Each batch with the format that reads it: cut at every ``#Fields:`` header that changes the fields, which
    sets the next lines'.

    A header that says the fields again as they were (CloudFront's at the
    top of every file, IIS's after each restart) cuts nothing: the lines go
    on in the same format, and the header line is a notice line in it
    either way. So a small file with its header on top stays one batch,
    which can be counted with other small files (``read.joined``).

    ``start``: the decompressed offset the first batch begins at (where reading began).
    """
    for batch in batches:
        begin, start = start, batch.end_offset
        if fmt.w3c_separator is None or not holds(batch.data, HEADER.encode()):
            yield batch, fmt
            continue
        data, cut = batch.data, 0
        for at in _headers(data):
            try:
                following = _from_header(data, at, fmt)
            except LogFormatError as exc:
                line = batch.first_line + data.count(b"\n", 0, at)
                if at > cut:  # (the lines before it are read)
                    yield _part(batch, cut, at - 1, _end_offset(batch, begin, at)), fmt
                raise InputError(f"{batch.source}:{line}: {exc.message}; the lines before it were read",
                                 exc.fix) from None
            if following == fmt:
                continue
            if at > cut:
                yield _part(batch, cut, at - 1, _end_offset(batch, begin, at)), fmt
            fmt, cut = following, at
        yield _part(batch, cut, len(data), batch.end_offset) if cut else batch, fmt


def _end_offset(batch: Batch, begin: int, at: int) -> int:
    """The file offset just after the newline before ``data[at]``.

    A batch's data may be shorter than the bytes it came from, where a run
    of NUL bytes (a hole) was cut to a mark: count from the end when no
    hole follows ``at``, else from the batch's start (exact when none
    comes before it).
    """
    data = batch.data
    if HOLE not in data[at:]:
        return batch.end_offset - 1 - (len(data) - at)
    return begin + at


def _headers(data: bytes) -> list[int]:
    """Where each ``#Fields:`` line starts (a search in C, not a loop over lines)."""
    needle = HEADER.encode()
    found = [0] if data.startswith(needle) else []
    return found + [m.start() + 1 for m in re.finditer(b"\n" + re.escape(needle), data)]


def _from_header(data: bytes, at: int, current: LogFormat) -> LogFormat:
    end = data.find(b"\n", at)
    line = data[at:end if end >= 0 else len(data)].decode("utf-8", "replace").rstrip("\r")
    following = b""
    if end >= 0:
        after = data.find(b"\n", end + 1)
        following = data[end + 1:after if after >= 0 else len(data)]
    return from_header(line, following.decode("utf-8", "replace"), current)


def _part(batch: Batch, start: int, end: int, end_offset: int) -> Batch:
    """The lines of ``batch`` in ``data[start:end]`` (``start`` at a line's start, ``end`` at a newline or the end)."""
    data = batch.data
    first_line = batch.first_line + data.count(b"\n", 0, start)
    raw = batch.raw_bytes if end == len(data) else 0  # the bytes read are reported with the last part
    part = batch_of(batch.source, first_line, data[start:end], raw, end_offset)
    # (the last part ends where the batch does: what its file held before there is the batch's)
    return replace(part, tail_hash=batch.tail_hash) if end_offset == batch.end_offset else part


def header_before(path: str, offset: int, same_as: tuple[int, int] | None = None) -> str | None:
    """The last ``#Fields:`` line that starts before ``offset``: a run resuming mid-file reads by it.

    ``same_as``: the (device, inode) of the file being read (VanishedError if the name holds another now).
    """
    from .compressed import check_same, open_source

    chunks, raw = open_source(path)
    check_same(raw, path, same_as)
    last, read, tail = None, 0, b""
    needle = re.compile(rb"(?:^|\n)(" + re.escape(HEADER.encode()) + rb"[^\n]*)\n")
    try:
        for chunk in chunks:
            chunk = chunk[:offset - read]
            block = tail + chunk
            for m in needle.finditer(block):
                last = m.group(1)
            read += len(chunk)
            cut = block.rfind(b"\n")
            tail = block[cut:] if cut >= 0 else block
            if read >= offset:
                break
    finally:
        raw.close()
    return last.decode("utf-8", "replace").rstrip("\r") if last else None
