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
``Skip.PART``. A batch with no part in it is left as it is, found so by
a search of its bytes, not by looking at its lines.

The shapes are the runtimes' own (``formats.containers``), so the reader
judges a line by them whatever the file's format: no other log writes
them.
"""

from __future__ import annotations

import json
import re

from ..formats import containers

_CRI_PART = re.compile(containers.CRI_PART.encode())
_CRI_LINE = re.compile(containers.CRI_LINE.encode())
_DOCKER_LINE = re.compile(containers.DOCKER_LINE.encode())
_DOCKER_WHOLE = re.compile(containers.DOCKER_WHOLE.encode())
_CRI_HINTS = (b" stdout P ", b" stderr P ")
_DOCKER_FIELD = b'","stream":"'
_DOCKER_WHOLE_FIELD = b'\\n","stream":"'  # (also where the text ends in an escaped backslash and an "n": looked at)


WINDOW = 256  # lines looked at before a batch's end for a split line still open


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
    """A batch's lines with each split line's parts put in front of its last part; None when it has none."""
    if runtime == containers.CRI and any(hint in data for hint in _CRI_HINTS):
        return _rejoined_cri(data)
    if runtime == containers.DOCKER and data.count(_DOCKER_FIELD) != data.count(_DOCKER_WHOLE_FIELD):
        return _rejoined_docker(data)
    return None


def _rejoined_cri(data: bytes) -> bytes | None:
    """A loop over the lines, for a batch that holds a part: ``T stream P a``, ``T stream F b`` -> ``T stream F ab``."""
    lines = data.split(b"\n")
    waiting: dict[bytes, list[bytes]] = {}  # stream -> the parts read of its line so far
    changed = False
    for i, line in enumerate(lines):
        m = _CRI_LINE.match(line)
        if m is None:
            continue
        stream, text = m.group(1), line[m.end():]
        if m.group(2) == b"P":
            waiting.setdefault(stream, []).append(text)
        elif stream in waiting:
            lines[i] = line[:m.end()] + b"".join(waiting.pop(stream)) + text
            changed = True
    return b"\n".join(lines) if changed else None


def _rejoined_docker(data: bytes) -> bytes | None:
    """The same for Docker's lines: the parts' ``log`` texts in front of the last one's, in its object."""
    lines = data.split(b"\n")
    waiting: dict[str, list[str]] = {}
    changed = False
    for i, line in enumerate(lines):
        if _DOCKER_LINE.match(line) is None:
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if not containers.is_docker(value):
            continue
        stream, text = str(value["stream"]), str(value["log"])
        if _DOCKER_WHOLE.search(line) is None:
            waiting.setdefault(stream, []).append(text)
        elif stream in waiting:
            value["log"] = "".join(waiting.pop(stream)) + text
            lines[i] = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
            changed = True
    return b"\n".join(lines) if changed else None
