"""What a file that is no access log looks like, to say so when no format fits it.

A directory or glob often holds more than access logs: nginx's and Apache's
error logs, another server's JSON log, syslog. Naming what the file is
tells the user at once why it was left out and what to change (the paths or
``[logs] glob``), where "no format fits" alone sends them to the format.

Plain regexes on a few lines (no Polars), as the shapes are fixed and the
sample is small.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from . import caddy, containers

SYSLOG = "a syslog file"
HAPROXY = "HAProxy's log in a log-format of its own"
CADDY_CONSOLE = "Caddy's log in its console format"
CONTAINER = "a container's output as Kubernetes files it"
DOCKER = "a container's output as Docker files it"
_LEVELS = r"(?:emerg|alert|crit|error|warn|notice|info|debug|trace\d)"
_SHAPES: list[tuple[str, re.Pattern[str]]] = [
    # 2026-11-01T10:00:00.123456789Z stdout F message   (the CRI log format of containerd and CRI-O)
    (CONTAINER, re.compile(containers.SCREEN)),
    # 2026/11/01 10:00:00 [error] 1234#1234: *5 open() "/x" failed
    ("an nginx error log", re.compile(rf"^\d{{4}}/\d\d/\d\d \d\d:\d\d:\d\d \[{_LEVELS}\] \d+#\d+: ")),
    # [Sun Nov 01 10:00:00.123456 2026] [core:error] [pid 123] ...   (Apache 2.4; 2.2 has no module)
    ("an Apache error log", re.compile(
        rf"^\[\w{{3}} \w{{3}} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)? \d{{4}}\] \[(?:[\w.-]+:)?{_LEVELS}\]")),
    # 2026/11/01 10:00:00.123<TAB>INFO<TAB>http.log.access.log0<TAB>handled request<TAB>{"request": ...}: Caddy's
    # `format console` (its level in ANSI colours, even in a file; the time in one of its time_formats)
    (CADDY_CONSOLE, re.compile(caddy.SCREEN)),
    # HAProxy's lines as syslog files them, or as it sends them in RFC 5424 ("<134>1 2026-... host haproxy 123 - - ")
    (HAPROXY, re.compile(r"^(?:<\d{1,3}>)?(?:\w{3} [ \d]\d \d\d:\d\d:\d\d |\d{4}-\d\d-\d\dT\S+ )\S+ haproxy"
                         r"(?:\[\d+\]: | \d+ \S+ \S+ )|^<\d{1,3}>1 \S+ \S+ haproxy \d+ ")),
    # Nov  1 10:00:00 host program[123]: message
    (SYSLOG, re.compile(r"^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ [^\s:]+(?:\[\d+\])?: ")),
    # 2026-11-01 10:00:00,123 ERROR ... / 2026-11-01T10:00:00 [info] ... : an application's own log
    ("an application log (a date, then a level)", re.compile(
        r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d\S* +\[?(?:DEBUG|INFO|NOTICE|WARN(?:ING)?|ERROR|CRITICAL|FATAL)\b",
        re.IGNORECASE)),
]


JSON_LINES = "JSON lines of another server"


def describe(lines: Sequence[str]) -> str | None:
    """What most of these lines are, when they are recognisably not an access log; else None."""
    sample = [line for line in lines if line.strip()][:200]
    if not sample:
        return None
    for name, shape in _SHAPES:
        if sum(1 for line in sample if shape.search(line)) * 2 > len(sample):
            return name
    objects = json_objects(sample)
    if sum(map(containers.is_docker, objects)) * 2 > len(sample):
        return DOCKER
    keys = _json_keys(objects, len(sample))
    if keys is not None:
        shown = ", ".join(keys[:8]) + (", ..." if len(keys) > 8 else "")
        return f"{JSON_LINES} (keys: {shown})"
    return None


def json_objects(lines: Sequence[str]) -> list[dict[str, object]]:
    """The lines that are JSON objects, decoded (the others left out)."""
    objects = []
    for line in lines:
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            objects.append(value)
    return objects


def _json_keys(objects: list[dict[str, object]], lines: int) -> list[str] | None:
    if len(objects) * 2 <= lines:
        return None
    return list(dict.fromkeys(key for obj in objects[:20] for key in obj))
