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
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from ..errors import InputError
from .compressed import HEAD_CHUNK, Truncated, head, opened_as

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
