"""Two logs of the same requests: a server that writes each request to both counts each view twice.

nginx writes a request to every ``access_log`` of the block that serves it,
and Apache to every ``CustomLog`` of its virtual host: a site that keeps a
combined log and a JSON one for a log shipper side by side
(``access.log``, ``access.json.log``) has both in the directory a run is
pointed at, and both are counted. An nginx config says so itself
(``formats.nginx_conf``); files named as paths are told by their content:
two that begin with the same requests in the same order, whatever their
formats. Said, not left out: which one the user means to count is theirs
to say.

A copy of one log under another name (the same bytes, or its start) is
another matter: its lines are the log's, so it is read once (``copies``),
as ``run`` reads it once by its content.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Sequence

from ..errors import InputError
from .compressed import HEAD_CHUNK, Truncated, head, open_source, opened_as

# A request's method and target in any format: "GET /x HTTP/1.1", "request":"GET /x ...", W3C's "GET /x"
_REQUEST = re.compile(rb"\b(?:GET|POST|HEAD|PUT|DELETE|OPTIONS|PATCH) (/[^\s\"\\]*)")
SAME = 20  # requests two files must begin with alike, at least ...
DISTINCT = 10  # ... of them this many different targets (a health check's repeated GET / tells nothing)
MOST = 256  # files looked at, at the most: a CDN's thousands of five-minute logs are no server's twins


def twins(names: Sequence[str]) -> list[tuple[str, str]]:
    """Pairs of files (the one named first, then the other) that begin with the same requests.

    Plain files only, the first ``MOST``: a log and its twin are the live
    files (their rotated copies are twins too, and say nothing more).
    """
    first: dict[tuple[bytes, ...], tuple[str, bytes]] = {}
    pairs = []
    for name in [n for n in names if os.path.isfile(n)][:MOST]:  # (not a FIFO: opening it would wait)
        try:
            if opened_as(name)[1]:  # compressed, told by content as everywhere
                continue
            data = head(name, HEAD_CHUNK)
        except (OSError, InputError, Truncated):
            continue  # (the read that follows says what is wrong with it)
        targets = tuple(_REQUEST.findall(data)[:SAME])
        if len(targets) < SAME or len(set(targets)) < DISTINCT:
            continue
        if targets not in first:
            first[targets] = name, data
            continue
        one, its = first[targets]
        # (the same bytes are a copy of one log, which a run knows by its content: logrotate's `copy`)
        if its[:len(data)] != data[:len(its)]:
            pairs.append((one, name))
    return pairs


COPY_HEAD = 4096  # the look at a file's first bytes (decompressed) for its first line


def copies(names: Sequence[str]) -> list[tuple[str, str]]:
    """Pairs (the file read, a file left out) where all the left one holds, decompressed, is the read one's
    start or the whole of it: one log under two names (``cp access.log access.log.bak``, logrotate's ``copy``,
    a file being compressed beside its plain self). ``run`` knows such a file by its content and reads its
    lines once; ``xml`` read them once a name, every view of them counted twice.

    Files whose first lines agree (``_first_line``) are compared whole, to
    the shorter one's end, so a twin written apart (a line of its own
    anywhere) is never left out. Of two with the same bytes, the first named is read.
    Plain and compressed regular files alike; not a pipe, which a look would
    empty; not a file with no line to count (empty, or a W3C log's headers
    alone, as a CDN writes for an hour without requests); the first
    ``MOST`` files (a CDN's thousands of small logs are no copies).
    """
    groups: dict[bytes, list[str]] = {}
    for name in names[:MOST]:
        try:
            if os.path.isfile(name) and (key := _first_line(head(name, COPY_HEAD))) is not None:
                groups.setdefault(key, []).append(name)
        except (OSError, InputError, Truncated):
            continue  # (the read that follows says what is wrong with it)
    pairs = []
    for group in (g for g in groups.values() if len(g) > 1):
        read: list[str] = []
        for name in group:
            for i, other in enumerate(read):
                shorter = _prefix(other, name)
                if shorter == name:
                    pairs.append((other, name))
                    break
                if shorter == other:
                    pairs.append((name, other))
                    read[i] = name
                    break
            else:
                read.append(name)
    return [(_last(pairs, kept), left) for kept, left in pairs]


def _first_line(start: bytes) -> bytes | None:
    """A file's first bytes up to the end of its first line to count (a W3C log's headers before it), by which
    its copies are told: the same in a copy of a few lines as in the log. None where there is no such line (an
    empty file, a CDN's log of an hour without requests, its headers alone: the same in every such file, and
    copies of nothing); where it is longer than the look (``COPY_HEAD``), the look."""
    at = 0
    while (end := start.find(b"\n", at)) >= 0:
        if start[at:end].strip() and not start.startswith(b"#", at):
            return start[:end + 1]
        at = end + 1
    return start if len(start) == COPY_HEAD and start[at:].strip() else None


def _last(pairs: list[tuple[str, str]], name: str) -> str:
    """The file read in the end for ``name``: one left out for a longer one is read through that one."""
    while (longer := next((kept for kept, left in pairs if left == name), None)) is not None:
        name = longer
    return name


def _prefix(one: str, other: str) -> str | None:
    """Of two files, the one whose decompressed bytes are all the other's start (``other`` where they are the
    same); None where they differ, or one cannot be read to its end."""
    try:
        chunks_a, raw_a = open_source(one)
    except (OSError, InputError):
        return None
    try:
        chunks_b, raw_b = open_source(other)
    except (OSError, InputError):
        raw_a.close()
        return None
    a, b = _until_cut(chunks_a), _until_cut(chunks_b)
    try:
        rest_a = rest_b = memoryview(b"")  # (views: a chunk's rest is not copied at each step)
        while True:
            if not rest_a:
                rest_a = memoryview(next(a, b""))
            if not rest_b:
                rest_b = memoryview(next(b, b""))
            if not rest_a:
                return other if not rest_b else one
            if not rest_b:
                return other
            n = min(len(rest_a), len(rest_b))
            if rest_a[:n] != rest_b[:n]:
                return None
            rest_a, rest_b = rest_a[n:], rest_b[n:]
    except (OSError, InputError):
        return None
    finally:
        raw_a.close()
        raw_b.close()


def _until_cut(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks of a compressed file up to where it ends early (being written, or cut): what it holds."""
    with contextlib.suppress(Truncated):
        yield from chunks
