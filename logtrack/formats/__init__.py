"""Log formats: what a line looks like, compiled once (no Polars here: nothing is read in this package).

- ``model``: the fields logtrack reads, the patterns of their text,
  ``Piece`` and ``LogFormat``.
- ``compiler``: the one compiler (``build``, ``build_json``) that turns
  pieces into every way of cutting a line.
- ``apache``, ``nginx``, ``envoy``, ``haproxy``: the servers' format strings
  (``LogFormat``, ``log_format``, Envoy's ``%REQ(...)%``, HAProxy's
  ``log-format``, its ``option httplog`` one of them) read into pieces from
  tables of their directives.
- ``proxies`` (AWS ALB, ELB) and ``w3c`` (IIS, CloudFront): fixed and
  header-driven formats spelled as pieces.
- ``caddy``: Caddy's console format, its JSON behind the time and the logger.
- ``syslog`` and ``containers``: a server's own lines as other writers
  file them: behind a prefix, as a first piece (``syslog:FORMAT``,
  ``cri:FORMAT``), or inside Docker's JSON (``docker:FORMAT``).
- ``presets``: every format by name and ``get``, the one place a name or a
  format string becomes a format.
- ``nginx_conf`` reads a server's own config for its formats and logs;
  ``looks_like`` names what a file that is no access log is.

**A new log format** touches this package only: its pieces (a string in
``presets``, or a module beside ``proxies``), its name in ``presets.get``,
and, for ``auto`` to find it, its place in ``presets.AUTO_ORDER`` (or, for
a JSON log, its keys in ``presets.JSON_PRESETS``).

May import: ``logtrack.errors``. Never Polars, never a stage above.
This module re-exports the model and the presets: ``formats.get(...)``,
``formats.TIME``, ``formats.LogFormat``.
"""

from __future__ import annotations

from .compiler import TAIL, build, build_json, claims, escape, narrowed, require
from .model import (
    ADDRESSES,
    CADDY_TIME,
    CAPTURED,
    CLF,
    CLF_FORMAT,
    CLIENT,
    EPOCH,
    EPOCH_MS,
    EPOCH_US,
    HOP,
    INSTANT,
    ISO8601,
    JSON_LINE,
    JSON_TAIL,
    LAZY,
    METHOD,
    PATH,
    QUERY,
    QUOTED,
    REFERRER,
    REQUEST,
    STATUS,
    STRFTIME,
    TARGET,
    TIME,
    USER_AGENT,
    UTC_WALL,
    VHOST,
    Field,
    LogFormat,
    Piece,
    Segment,
    Slice,
    json_part,
)
from .presets import AUTO_ORDER, ENVELOPES, JSON_PRESETS, PRESETS, JsonPreset, get, preset_names, wrapped_json

__all__ = [
    "ADDRESSES",
    "AUTO_ORDER",
    "CADDY_TIME",
    "CAPTURED",
    "CLF",
    "CLF_FORMAT",
    "CLIENT",
    "ENVELOPES",
    "EPOCH",
    "EPOCH_MS",
    "EPOCH_US",
    "HOP",
    "INSTANT",
    "ISO8601",
    "JSON_LINE",
    "JSON_PRESETS",
    "JSON_TAIL",
    "LAZY",
    "METHOD",
    "PATH",
    "PRESETS",
    "QUERY",
    "QUOTED",
    "REFERRER",
    "REQUEST",
    "STATUS",
    "STRFTIME",
    "TAIL",
    "TARGET",
    "TIME",
    "USER_AGENT",
    "UTC_WALL",
    "VHOST",
    "Field",
    "JsonPreset",
    "LogFormat",
    "Piece",
    "Segment",
    "Slice",
    "build",
    "build_json",
    "claims",
    "escape",
    "get",
    "json_part",
    "narrowed",
    "preset_names",
    "require",
    "wrapped_json",
]
