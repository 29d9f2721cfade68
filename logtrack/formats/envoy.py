"""Envoy's access log format strings -> pieces: Envoy itself, and the meshes and ingresses built on it.

Envoy writes a line by a format of ``%COMMAND%`` and ``%COMMAND(argument)%``
operators (``%REQ(:METHOD)%``, ``%RESPONSE_CODE%``, ``%START_TIME%``); a
``:N`` after one truncates it, and a header with ``?`` is that one or, if
absent, the next (``%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%``). A value it has
not is written ``-``. Two are presets: ``envoy``, Envoy's own default, and
``istio``, Istio's (which Envoy sidecars and gateways write), neither of
which logs the referrer: suppliers are then found by virtual host only.
Any operator not in the table below is an ignored field.

Envoy writes header values as they came, quotes and all (as nginx's
``escape=none``): a quote inside a quoted field sends the line to the line
regex, whose quoted fields may hold quotes (``compiler.build``'s
``raw_quotes``): a field ends at the first quote after which the rest of
the line still fits the format.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..errors import LogFormatError, quoted
from . import compiler
from . import model as f
from .apache import strftime_regex
from .model import LAZY, LogFormat, Piece

NAMES = ("envoy", "istio")
PRESETS: dict[str, str] = {
    "envoy": ('[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% '
              '%RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% '
              '"%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" '
              '"%UPSTREAM_HOST%"'),
    "istio": ('[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% '
              '%RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% '
              '"%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% '
              '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" '
              '"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER% '
              '%UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% '
              '%REQUESTED_SERVER_NAME% %ROUTE_NAME%'),
}

_OPERATOR = re.compile(r"%(?P<name>[A-Z][A-Z0-9_]+)(?:\((?P<arg>[^)]*)\))?(?::[0-9]+)?%")
_TOKEN = re.compile(_OPERATOR.pattern + r"|[^%]+|%")
START_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?Z"  # its default, in UTC
_ADDRESS = r"\S+"

# operator -> (field, pattern): the ones logtrack reads, and the ignored ones that may hold spaces
_OPERATORS: dict[str, tuple[str | None, str]] = {
    "RESPONSE_CODE": (f.STATUS, r"[0-9]{1,3}"),  # 0: no response was sent (the client went away first)
    "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT": (f.CLIENT, _ADDRESS),
    "DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT": (f.CLIENT, _ADDRESS),
    "CONNECTION_TERMINATION_DETAILS": (None, LAZY),
    "UPSTREAM_TRANSPORT_FAILURE_REASON": (None, LAZY),
    "REQUESTED_SERVER_NAME": (None, LAZY),
}
# request header (lower-cased; Envoy's pseudo-headers with their colon) -> field
_HEADERS: dict[str, tuple[str, str]] = {
    ":method": (f.METHOD, r"\S+"),
    ":path": (f.TARGET, r"\S+"),
    "x-envoy-original-path": (f.TARGET, r"\S+"),
    ":authority": (f.VHOST, r"[^\s,]+?"),
    "host": (f.VHOST, r"[^\s,]+?"),
    "referer": (f.REFERRER, LAZY),
    "user-agent": (f.USER_AGENT, LAZY),
}


def is_template(spec: str) -> bool:
    """Whether a format string is Envoy's: its operators are words in capitals between percent signs."""
    # (and no Apache directive, %h or %{Referer}i, outside them: a time's own %Y/%m/%d is inside one)
    return bool(_OPERATOR.search(spec)) and not re.search(r"%[<>!0-9,]*(?:\{[^}]*\})?[a-z]", _OPERATOR.sub("", spec))


def compile_template(template: str, name: str = "custom", *, envelope: Piece | None = None) -> LogFormat:
    """Compile an Envoy format string (``envelope``: text every line starts with, as ``apache``'s)."""
    pieces: list[Piece] = []
    for m in _TOKEN.finditer(template.removesuffix("\\n").removesuffix("\n")):
        operator = m.group("name")
        pieces.append(Piece(literal=m.group(0)) if operator is None else _operator(operator, m.group("arg"), template))
    # (Envoy writes a header's value as it came, quotes and bytes outside ASCII alike)
    return replace(compiler.build([*([envelope] if envelope else []), *compiler.merge_literals(pieces)], name,
                                  template, raw_quotes=True), raw_bytes=True)


def _operator(name: str, arg: str | None, template: str) -> Piece:
    if name == "START_TIME":
        return _start_time(arg, template)
    if name == "REQ" and arg is not None:
        # "A?B": header A, or B where A is absent; either is read as the field of the first known
        for header in arg.lower().split("?"):
            if header in _HEADERS:
                return Piece(field=_HEADERS[header][0], pattern=_HEADERS[header][1])
        return Piece(pattern=LAZY)
    if name in ("RESP", "TRAILER") or arg is not None:  # headers, metadata, filter state: any text
        return Piece(pattern=LAZY)
    field, pattern = _OPERATORS.get(name, (None, r"\S+"))
    return Piece(field=field, pattern=pattern)


def _start_time(arg: str | None, template: str) -> Piece:
    """``%START_TIME%``: RFC 3339 in UTC with milliseconds; ``%START_TIME(format)%``: strftime, in UTC."""
    if arg is None or arg == "":
        return Piece(field=f.TIME, pattern=START_TIME, time_kind=f.ISO8601)
    if arg == "%s":
        return Piece(field=f.TIME, pattern=r"[0-9]+", time_kind=f.EPOCH)
    spec = re.sub(r"%([1-9])?f", lambda m: f"%{m.group(1) or 9}f", arg)  # Envoy's %f is nanoseconds, as %9f
    if "%" not in spec:
        raise LogFormatError(f"log format {quoted(template)}: cannot read time format %START_TIME({arg})%")
    parts = re.split(r"%([1-9])f", spec)  # text and strftime between the fractions, then each one's digits
    pattern = "".join(strftime_regex(part) if i % 2 == 0 else f"[0-9]{{{part}}}" for i, part in enumerate(parts))
    return Piece(field=f.TIME, pattern=pattern, time_kind=f.STRFTIME if "%z" in spec else f.UTC_WALL,
                 time_format=spec)
