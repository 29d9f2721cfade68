r"""Access lines as a container runtime files a server's output: Kubernetes' CRI log prefix, Docker's JSON.

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
time is read, not the runtime's. What else a server's container prints is
its own news, skipped as such (``Skip.NOTICE``) where its shape says so
(``_NEWS``): nginx's and Apache's error log lines and the official images'
start-up messages (``/docker-entrypoint.sh: ...``); anything else that is no
access line is damage, said and counted (a wrong format must not pass). A
line the runtime split in parts is put back together by ``read.parts``
(the shapes of a part are here: ``CRI_PART``, ``DOCKER_LINE``).

Docker's default logging driver (``json-file``) files each line as a JSON
object, the line escaped in it (Go's encoder writes ``&`` as ``\u0026``)::

    {"log":"203.0.113.7 - - [29/Nov/2026:16:25:14 -0600] \"GET ...\" ...\n","stream":"stdout","time":"..."}

``docker:FORMAT`` decodes ``log`` and reads FORMAT's line in it, the same
way: either stream, the server's own news skipped as such, and a line the
daemon split (16 KiB, its parts without the closing newline) read whole at
its last part: the newline is required, so a part is never read as a whole line.

A server that logs JSON (Caddy, by default on stderr; an nginx JSON
``log_format``) is read the same way with a JSON format after the prefix
(``cri:caddy``, ``docker:{"time":"$time_iso8601",...}``): the object is
taken from behind the prefix, or decoded out of ``log``, and decoded as the
format's own lines are (``presets.wrapped_json``). Such a server prints its
own news as JSON too (``JSON_NOTICE``).
"""

from __future__ import annotations

from .model import JSON_LINE, LogFormat, Piece
from .syslog import RFC3339

PREFIX = "cri:"

_TIME = RFC3339  # with nanoseconds: containerd writes UTC ("Z"), CRI-O the host's offset
ENVELOPE = rf"{_TIME} (?:stdout|stderr) F "
SCREEN = rf"^{_TIME} (?:stdout|stderr) [FP] "  # a container log's line, whole or a part: worth trying cri: on
# What the servers' containers print besides access lines, recognised by its shape (not by its stream: under
# a format that does not fit, an access line on stderr would pass for news too, and ``auto`` choose wrongly):
# the official images' start-up messages (/docker-entrypoint.sh: ..., 10-listen-on-ipv6-by-default.sh: info:
# ...), nginx's error log (2026/11/29 22:25:13 [notice] 1#1: ...), Apache's (AH00558: ..., and
# [Sun Nov 29 22:25:13.123456 2026] [mpm_event:notice] ...).
_NEWS = (r"(?:/docker-entrypoint\.|[0-9]+-[a-z0-9-]+\.(?:sh|envsh): |AH[0-9]{5}: "
         r"|[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} \[[a-z]+\] "
         r"|\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)? [0-9]{4}\] \[)")
# Lines with the prefix that are the server's news (``LogFormat.notice``: for lines the format does not read).
NOTICE = rf"^{_TIME} (?:stdout|stderr) [FP] {_NEWS}"


def _json_news(quote: str, end: str) -> str:
    """A whole object with a level and a message; ``quote``: a quote as the text holds it (Docker's, escaped)."""
    key = rf"{quote}(?:level|msg){quote}\s*:"
    return rf"\{{.*{key}.*{key}.*\}}{end}"


# A server that logs JSON prints its own news as JSON too, from the same structured logger (Caddy's zap:
# {"level":"info","ts":...,"logger":"tls","msg":"cleaning storage unit"}; Traefik's): a whole object with a
# level and a message. Its access lines have both as well, but a status too, and only a line the format
# does not read is asked; a part of a split line is no whole object (CRI's "P", or no closing newline).
_JSON_NEWS = _json_news('"', r"\s*$")
JSON_NOTICE = rf"^{_TIME} (?:stdout|stderr) (?:[FP] {_NEWS}|F {_JSON_NEWS})"


# A part of a line the runtime split: CRI's "P" (the last part is "F", as a whole line is), and Docker's
# line whose ``log`` does not end in a newline (an odd run of backslashes before "n" is the newline's
# escape; an even one, text ending in a backslash and an "n"). ``read.parts`` puts them back together.
CRI = "cri"
CRI_PART = rf"^{_TIME} (?:stdout|stderr) P "
CRI_LINE = rf"^{_TIME} (stdout|stderr) ([PF]) "  # (the stream, the tag)
DOCKER = "docker"
DOCKER_HEAD = '{"log":"'  # how each line of the daemon's begins
DOCKER_LINE = r'^\{"log":"(?:[^"\\]|\\.)*","stream":"(stdout|stderr)","time":"'  # as the daemon writes it (the stream)
DOCKER_WHOLE = r'(?:^|[^\\])(?:\\\\)*\\n","stream":"'
DOCKER_NEWLINE = r'[^\\]\\n","stream":"'  # DOCKER_WHOLE's common case, one backslash: found 5x faster


def envelope() -> Piece:
    """The prefix as the first piece of a format: ignored text every line starts with."""
    return Piece(pattern=ENVELOPE)


DOCKER_PREFIX = "docker:"
DOCKER_KEYS = ("log", "stream", "time")  # what each of its lines holds ("attrs" too, with --log-opt labels)
DOCKER_NOTICE = rf'"log"\s*:\s*"{_NEWS}'
_DOCKER_JSON_NEWS = _json_news(r'\\"', r'\\n"')  # (inside ``log``, whose quotes and newline are escaped)
DOCKER_JSON_NOTICE = rf'"log"\s*:\s*"(?:{_NEWS}|{_DOCKER_JSON_NEWS})'


def docker(inner: LogFormat) -> LogFormat:
    """``inner``'s lines as Docker's json-file driver writes them: ``log`` decoded, then cut by inner's regex.

    The regex must end at the newline that closes a whole line (the
    decoded text of a part has none), and the runtime's ``time`` is not read.
    Where a batch decodes whole, its texts are cut at their quotes instead,
    as ``inner``'s own file would be (``LogFormat.inner``).
    """
    assert inner.regex.endswith("$") and not inner.is_json, inner.regex
    return LogFormat(inner.name, inner.template, JSON_LINE, inner.fields, JSON_LINE, inner.time_kind, inner.time_format,
                     json_parts={"log": inner.regex.removesuffix("$") + r"\n$"}, encoded=inner.encoded,
                     notice=DOCKER_NOTICE, absolute_targets=inner.absolute_targets, parts=DOCKER,
                     inner=inner if inner.segments else None)


def is_docker(value: object) -> bool:
    """Whether a decoded JSON line is one of Docker's json-file driver."""
    return (isinstance(value, dict) and set(DOCKER_KEYS) <= set(value) <= {*DOCKER_KEYS, "attrs"}
            and isinstance(value.get("log"), str))
