r"""Caddy's access log in its console format: the time, level, logger and message before the JSON.

Caddy writes its logs with zap. ``format json`` (the default for a file)
is the ``caddy`` JSON preset; ``format console`` writes each entry's time,
level, logger and message as tab-separated text, then the rest of the
entry as JSON (a live Caddy 2.6, to a file, colours the level too)::

    2026/12/01 09:53:39.846<TAB>\x1b[34mINFO\x1b[0m<TAB>http.log.access.log0<TAB>handled request<TAB>
    {"request": {...}, "status": 200, ...}                                  (on the same line)

``caddy_console`` reads the JSON as the ``caddy`` preset does, with the
time taken from in front of it (``LogFormat.envelope_time``). Its text is
whichever ``time_format`` the Caddyfile names (``model.CADDY_TIME``). A wall
time (``wall``, ``wall_milli``, the default, ``wall_nano``) carries no
offset: Caddy writes UTC unless ``time_local`` is set, so such a time is
read in ``[logs] log_timezone`` where one is set (the zone Caddy runs
in, with ``time_local``), else in UTC, whatever ``[logs] timezone`` is.
Entries of Caddy's other loggers (its own news, in a log that takes them
all) are skipped as such (``NOTICE``).
"""

from __future__ import annotations

from dataclasses import replace

from .model import CADDY_TIME, LogFormat

NAME = "caddy_console"

_COLOUR = r"(?:\x1b\[[0-9;]*m)?"
# The time and the level (zap's, coloured or not)
_HEAD = rf"[^\t]+\t{_COLOUR}(?:DEBUG|INFO|WARN|ERROR|DPANIC|PANIC|FATAL){_COLOUR}\t"
# What an access entry's JSON is behind: the access logger's name (``http.log.access``, and its log's name
# after it) and the message.
ENVELOPE = rf"{_HEAD}http\.log\.access(?:\.[\w-]+)*\t[^\t]*\t"
SCREEN = rf"^{_HEAD}[\w.-]+\t[^\t]*\t\{{"  # an entry of a named logger, with fields: worth trying caddy_console on
# Whole entries of Caddy's other loggers (its own news: "using provided configuration", tls, ...), skipped as
# such; an access entry always has a status, and one cut short (no closing brace) is damage.
NOTICE = rf"^{_HEAD}[^\t]+(?:\t[^\t]*)?(?:\t\{{.*\}})?\s*$"


def console(caddy: LogFormat) -> LogFormat:
    """The ``caddy`` JSON preset as the console format writes it."""
    return replace(caddy, name=NAME, template=NAME, envelope=ENVELOPE, envelope_time=True, time_kind=CADDY_TIME,
                   notice=NOTICE, segments=None)
