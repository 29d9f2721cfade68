"""Access lines as Kubernetes files a container's output: each behind the CRI log prefix.

A server in a container logs to its standard output (the official nginx
image links ``access.log`` to it) and the container runtime (containerd,
CRI-O) files every line it prints under ``/var/log/pods/`` (linked from
``/var/log/containers/*.log``) behind a prefix of its own: the time it
was printed, the stream, and a tag, ``F`` for a whole line or ``P`` for a
part of one the runtime split (a line longer than its buffer, 16 KiB by
default)::

    2026-11-29T22:25:14.123456789Z stdout F 203.0.113.7 - - [29/Nov/2026:16:25:14 -0600] "GET ..." ...

``cri:FORMAT`` reads FORMAT's lines behind that prefix, on either stream
(``access_log /dev/stderr`` is as good as stdout). The access line's own
time is read, not the runtime's. What else a server container prints is
its own news, skipped as such (``Skip.NOTICE``): anything on stderr that is
no access line (nginx's ``[notice]`` lines, Apache's error log) and the
official images' start-up messages (``/docker-entrypoint.sh: ...``). A
line the runtime split in parts is not put back together: its parts do
not match the format and are skipped as damaged, which ``--strict`` fails
on. Request lines are bounded by the servers' header buffers (8 KiB), so
only a line carrying several huge headers grows that long.
"""

from __future__ import annotations

from .model import Piece

PREFIX = "cri:"

# RFC 3339 with nanoseconds: containerd writes UTC ("Z"), CRI-O the host's offset
_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})"
ENVELOPE = rf"{_TIME} (?:stdout|stderr) F "
SCREEN = rf"^{_TIME} (?:stdout|stderr) [FP] "  # a container log's line, whole or a part: worth trying cri: on
# Lines with the prefix that are no access line, when the format does not read them (``LogFormat.notice``).
NOTICE = rf"^{_TIME} (?:stderr [FP] |stdout F /docker-entrypoint\.)"


def envelope() -> Piece:
    """The prefix as the first piece of a format: ignored text every line starts with."""
    return Piece(pattern=ENVELOPE)
