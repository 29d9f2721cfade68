"""Parts: a line a container runtime split, put back together.

containerd and CRI-O file a line longer than their buffer (16 KiB) as
parts, each but the last tagged ``P`` and the last ``F`` as a whole line
is; Docker's json-file driver writes each part's ``log`` without the
closing newline. The parts of one line follow each other on their stream;
a line of the other stream may come between.

Two things keep such a line whole. The reader never ends a batch inside
a split line (``held_from``): a line's parts are read in one batch, and a
run that finds only the first parts of a line, the rest not written yet,
leaves them (and the lines after them) for the next run as it leaves a
line without its newline. Parts whose line goes on more than ``WINDOW``
lines further than the batch would end are not waited for.
Then ``rejoined`` puts each line's parts in front of its last one, which
is read as the whole line; the parts keep their own places (the file's
line numbers and read positions do not change) and are skipped as
``Skip.PART``. Only a batch whose reading found a part is joined and
read again (``count.batch``): most hold none, and looking for parts in
every batch's bytes cost more than reading it twice where one is found.

The shapes are the runtimes' own (``formats.containers``), so the reader
judges a line by them whatever the file's format: no other log writes
them.
"""

from __future__ import annotations

import re

from ..formats import containers

_CRI_LINE = re.compile(containers.CRI_LINE.encode())
_DOCKER_LINE = re.compile(containers.DOCKER_LINE.encode())
_DOCKER_WHOLE = re.compile(containers.DOCKER_WHOLE.encode())
_CRI_HINTS = (b" stdout P ", b" stderr P ")
_DOCKER_FIELD = b'","stream":"'
_DOCKER_HEAD = containers.DOCKER_HEAD.encode()


WINDOW = 64  # lines looked at before a batch's end for a split line still open


def is_part(line: bytes) -> bool:
    """Whether ``line`` is a part of a longer one, more of it on a later line (CRI's ``P``, Docker's)."""
    state = _state(line)
    return state is not None and state[1]


def _state(line: bytes) -> tuple[bytes, bool] | None:
    """(its stream, whether it is a part) for a line a runtime filed; None for any other line."""
    if m := _CRI_LINE.match(line):
        return m.group(1), m.group(2) == b"P"
    if m := _DOCKER_LINE.match(line):
        return m.group(1), _DOCKER_WHOLE.search(line) is None
    return None


def held_from(data: bytes) -> int | None:
    """Where, in whole lines ``data``, the first line begins whose split line goes on past its end; None: nowhere.

    Read back from the end, a stream's last line tells: a part, and that
    line is open, back to its first part. The lines from there on wait for
    the next batch (another stream's lines between them too).
    """
    opened: dict[bytes, int] = {}  # stream -> where its open line's first part begins
    closed: set[bytes] = set()
    end = len(data)
    for _ in range(WINDOW):
        start = data.rfind(b"\n", 0, end) + 1
        state = _state(data[start:end])
        if state is None and end == len(data):  # (its last line is no runtime's: no container's log)
            return None
        if state is not None and state[0] not in closed:
            if state[1]:
                opened[state[0]] = start
            else:
                closed.add(state[0])
        if start == 0 or len(closed) == 2:
            break
        end = start - 1
    return min(opened.values()) if opened else None


def rejoined(data: bytes, runtime: str | None) -> bytes | None:
    """A batch's lines with each split line's parts put in front of its last part; None when it has none.

    Found by a search of the bytes, and then worked on part by part: a
    batch with a few split lines costs some milliseconds, not a walk over
    its lines. (Asked only of a batch known to hold a part.)
    """
    if runtime == containers.CRI:
        starts = _cri_parts(data)
    elif runtime == containers.DOCKER:
        starts = _docker_parts(data)
    else:
        return None
    edits: list[tuple[int, int, bytes]] = []  # (start, end, the whole line that goes there)
    waiting: dict[bytes, list[bytes]] = {}  # stream -> the texts of its line's parts so far
    for start in starts:
        end = _end(data, start)
        stream, text = _text(data[start:end])
        waiting.setdefault(stream, []).append(text)
        following = _next_of(data, end + 1, stream)
        if following is None:  # its rest is not in the batch, or too far on: not waited for
            waiting.pop(stream, None)
        elif not following[2]:  # its last part (another part has its own turn)
            at, stop, _ = following
            edits.append((at, stop, _whole(data[at:stop], waiting.pop(stream))))
    if not edits:
        return None
    out, last = [], 0
    for start, end, line in edits:
        out += [data[last:start], line]
        last = end
    out.append(data[last:])
    return b"".join(out)


def _next_of(data: bytes, at: int, stream: bytes) -> tuple[int, int, bool] | None:
    """The stream's next line from ``at`` on, within WINDOW lines: (start, end, whether it is a part); or None."""
    for _ in range(WINDOW):
        if at > len(data):
            return None
        stop = _end(data, at)
        state = _state(data[at:stop])
        if state is not None and state[0] == stream:
            return at, stop, state[1]
        at = stop + 1
    return None


def _end(data: bytes, start: int) -> int:
    end = data.find(b"\n", start)
    return len(data) if end < 0 else end


def _cri_parts(data: bytes) -> list[int]:
    """Where the lines tagged ``P`` begin, in order: found by their tag (memchr), checked by their prefix."""
    starts = set()
    for hint in _CRI_HINTS:
        at = data.find(hint)
        while at >= 0:
            start = data.rfind(b"\n", 0, at) + 1
            if is_part(data[start:at + len(hint)]):  # (the tag where the prefix puts it)
                starts.add(start)
            at = data.find(hint, at + 1)
    return sorted(starts)


def _docker_parts(data: bytes) -> list[int]:
    """Where the lines begin whose ``log`` ends without a newline, in order (for a batch that has some)."""
    starts = []
    at = data.find(_DOCKER_FIELD)
    while at >= 0:
        if not _newline_before(data, at):
            start = data.rfind(b"\n", 0, at) + 1
            if is_part(data[start:_end(data, start)]):
                starts.append(start)
        at = data.find(_DOCKER_FIELD, at + 1)
    return starts


def _newline_before(data: bytes, at: int) -> bool:
    """Whether the JSON text ending at ``at`` ends in the escape of a newline (``\\n`` after an odd run of
    backslashes; after an even one, it is a backslash and an "n")."""
    if data[at - 2:at] != b"\\n":
        return False
    first = at - 2
    while first > 0 and data[first - 1] == 0x5C:
        first -= 1
    return (at - 1 - first) % 2 == 1


def _text(line: bytes) -> tuple[bytes, bytes]:
    """A part's stream and text (for Docker's, its ``log`` as JSON text, quotes left out)."""
    if m := _CRI_LINE.match(line):
        return m.group(1), line[m.end():]
    m = _DOCKER_LINE.match(line)
    assert m is not None
    return m.group(1), line[len(_DOCKER_HEAD):m.start(1) - len(_DOCKER_FIELD)]


def _whole(last: bytes, texts: list[bytes]) -> bytes:
    """The last part with the texts of the parts before it put in front of its own."""
    if m := _CRI_LINE.match(last):
        return last[:m.end()] + b"".join(texts) + last[m.end():]
    head = len(_DOCKER_HEAD)  # (JSON texts joined as they are written: an escape never spans two parts' texts)
    return last[:head] + b"".join(texts) + last[head:]
