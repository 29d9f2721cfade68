"""nginx ``log_format`` templates -> pieces, from a table of nginx variables.

A template is the format's strings joined, as nginx joins them
(``'$remote_addr - $remote_user [$time_local] "$request" ...'``). Every
``$variable`` or ``${variable}`` nginx writes is accepted: the ones logtrack
needs fill their field, any other is an ignored field. A template that
starts with ``{`` is a JSON format (``escape=json``, or ``escape=default``,
whose ``\\xHH`` escapes are turned into JSON ones before decoding); its keys
are mapped to fields through the variables they hold.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

from ..errors import LogFormatError
from . import compiler
from . import model as f
from .model import CLF_TEXT, LAZY, LogFormat, Piece

VARIABLE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z0-9_]+)\}|(?P<name>[A-Za-z0-9_]+))")

ISO_TEXT = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[+-][0-9]{2}:[0-9]{2}|Z)"
NUMBER = r"-|[0-9]+"
# $host: the server name nginx took from the Host header (or the request line), checked: no space, no "/", but a
# scanner's "a,b" or "a," passes, and is logged as it is (a quote is written \x22); empty: none sent (a 400)
HOST = r"[^\s/\"]*"

# variable -> (field, pattern, time kind)
_VARIABLES: dict[str, tuple[str | None, str, str | None]] = {
    "remote_addr": (f.CLIENT, f.ADDRESSES, None),
    "realip_remote_addr": (None, r"\S*", None),
    "http_x_forwarded_for": (None, LAZY, None),
    "proxy_add_x_forwarded_for": (None, LAZY, None),
    "http_x_real_ip": (None, r"\S*", None),
    "remote_user": (None, f.LOGIN, None),
    "time_local": (f.TIME, CLF_TEXT, f.CLF),
    "time_iso8601": (f.TIME, ISO_TEXT, f.ISO8601),
    "msec": (f.TIME, r"[0-9]+(?:\.[0-9]+)?", f.EPOCH),
    "request": (f.REQUEST, r".*?", None),
    # nginx reads a method of capitals, "_" and "-" only, and a target that starts with "/" (an absolute one is
    # logged from its path); a request it could not read has "-" for both (nothing under escape=none; its
    # $request is what came). So a spaced field before them, outside quotes ($http_user_agent $request_method
    # $request_uri), ends where they begin, not at a word of the agent ("CPU iPhone")
    "request_method": (f.METHOD, r"[A-Z_-]*", None),
    "request_uri": (f.TARGET, r"(?:[/*]\S*|-)?", None),
    "uri": (f.PATH, f.PATH_TEXT, None),
    "document_uri": (f.PATH, f.PATH_TEXT, None),
    "args": (f.QUERY, r"\S*", None),
    "query_string": (f.QUERY, r"\S*", None),
    "is_args": (None, r"\??", None),
    "status": (f.STATUS, r"[0-9]{3}", None),
    "body_bytes_sent": (None, NUMBER, None),
    "bytes_sent": (None, NUMBER, None),
    "request_length": (None, NUMBER, None),
    "connection": (None, NUMBER, None),
    "connection_requests": (None, NUMBER, None),
    "pid": (None, NUMBER, None),
    "request_time": (None, r"-|[0-9]+(?:\.[0-9]+)?", None),
    "http_referer": (f.REFERRER, LAZY, None),
    "http_user_agent": (f.USER_AGENT, LAZY, None),
    "host": (f.VHOST, HOST, None),
    "server_name": (f.VHOST, HOST, None),
    # (the Host header as it came, unlike $host, which nginx checks: a scanner's "a b", "", "${jndi:ldap://x}")
    "http_host": (f.VHOST, LAZY, None),
    "server_port": (None, r"[0-9]+|-", None),
    "remote_port": (None, r"[0-9]+|-", None),
    "server_protocol": (None, r"\S*", None),
    # Variables that never hold a space, read as one token: an unquoted free-text field beside one then ends
    # where it does (``$http_user_agent $ssl_protocol`` unquoted: the agent is not cut at its first space)
    **{name: (None, r"\S*", None) for name in (
        "scheme", "https", "request_id", "pipe", "gzip_ratio", "hostname", "server_addr", "nginx_version",
        "ssl_protocol", "ssl_cipher", "ssl_session_reused", "ssl_server_name", "ssl_early_data", "http2", "http3",
        "request_completion", "upstream_cache_status", "limit_req_status", "proxy_protocol_addr",
        "proxy_protocol_port", "realip_remote_port", "connection_time", "content_length",
        "tcpinfo_rtt", "tcpinfo_rttvar", "tcpinfo_snd_cwnd", "tcpinfo_rcv_space")},
    # One value per upstream tried, ", " between them, " : " where an internal redirect chose another group
    **{name: (None, r"[^\s,]*(?:(?:, | : )[^\s,]*)*", None) for name in (
        "upstream_addr", "upstream_status", "upstream_response_time", "upstream_connect_time",
        "upstream_header_time", "upstream_response_length", "upstream_bytes_received", "upstream_bytes_sent")},
}


def variable(name: str) -> Piece:
    """A variable the table does not know is free text: nginx escapes no space (``$geoip_city_name``:
    "New York"), and writes a variable that holds nothing as no text at all."""
    fld, pattern, kind = _VARIABLES.get(name, (None, LAZY, None))
    return Piece(field=fld, pattern=pattern, time_kind=kind)


# How the target is written where a template glues it together as ``$uri$is_args$args``
# (``parse.encodings.decoded``): a request without a query string ends in $args' "-".
GLUED_ARGS = "nginx_args"
_GLUED = (("uri", "document_uri"), ("is_args",), ("args", "query_string"))


def compile_template(template: str, name: str = "custom", *, envelope: Piece | None = None,
                     escape: str = "default") -> LogFormat:
    """Compile an nginx log_format template (its strings already joined).

    ``$uri$is_args$args``, nginx's own way of writing the path and query,
    is one field, the target: with no query string, ``$is_args`` is empty
    and ``$args`` a "-", so the path's end cannot be told from it by a
    pattern (``/listing/42-``). The "-" is dropped once the line is read.
    ``envelope``: text every line starts with before the format's own
    (``syslog``'s prefix). ``escape``: the log_format's ``escape=``
    (``ESCAPES``).
    """
    pieces, glued = _pieces(template)
    fmt = compiler.build([*([envelope] if envelope else []), *pieces], name, template, raw_quotes=escape == "none")
    if escape != "default":
        fmt = replace(fmt, raw_bytes=True)
    return replace(fmt, encoded={f.TARGET: GLUED_ARGS}) if glued else fmt


def _pieces(template: str, read: set[int] | None = None) -> tuple[list[Piece], bool]:
    """A template's text and variables as pieces; and whether ``$uri$is_args$args`` in it is one (the target).

    ``read``: where the variables whose fields are read start (None: all); any other one is read as nothing.
    """
    pieces: list[Piece] = []
    names: list[str | None] = []  # each piece's variable (None: text)
    pos = 0
    for m in VARIABLE.finditer(template):
        if m.start() > pos:
            pieces.append(Piece(literal=template[pos:m.start()]))
            names.append(None)
        var = m.group("braced") or m.group("name")
        names.append(var)
        piece = variable(var)
        pieces.append(piece if read is None or m.start() in read else replace(piece, field=None))
        pos = m.end()
    if pos < len(template):
        pieces.append(Piece(literal=template[pos:]))
        names.append(None)
    glued = next((i for i in range(len(names) - 2)
                  if all(names[i + k] in allowed for k, allowed in enumerate(_GLUED))), None)
    if glued is not None:
        pieces[glued: glued + 3] = [Piece(field=f.TARGET, pattern=f.URI_TEXT)]
    return pieces, glued is not None


_JSON_MEMBER = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:\s*("?)((?:[^"\\,}]|\\.)*)\2')


def compile_json(template: str, name: str = "json", *, as_written: bool = True) -> LogFormat:
    """A JSON template: each key's value, one variable or several with text (``build_json``).

    ``as_written``: the template is the server's own, so lines follow it
    to the byte and may be cut at their quotes (see ``formats.build_json``).
    """
    members: list[tuple[str, list[Piece]]] = []
    spans: set[int] = set()  # where the members' variables start: the others are in no value, and read as nothing
    glued = False
    for m in _JSON_MEMBER.finditer(template):
        text = m.group(3) if m.group(2) else m.group(3).strip()  # (a number's spaces before "}" are no text)
        value, joined = _pieces(_json_text(text))
        glued = glued or joined
        if any(p.literal is None for p in value):
            members.append((_json_text(m.group(1)), value))
            spans.update(m.start(3) + v.start() for v in VARIABLE.finditer(m.group(3)))
    pieces, _ = _pieces(template, read=spans)
    fmt = replace(compiler.build_json(members, name, template, pieces if as_written and not glued else None),
                  raw_bytes=True)  # (escape=json escapes quotes, backslashes and control bytes, no other byte)
    return replace(fmt, encoded={f.TARGET: GLUED_ARGS}) if glued else fmt


def _json_text(written: str) -> str:
    """A key or a value's text as the template writes it between quotes, as the decoder reads it."""
    try:
        decoded = json.loads(f'"{written}"')
    except ValueError:
        return written
    return decoded if isinstance(decoded, str) else written


_ESCAPED = {'"': '"', "'": "'", "\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def unescape(text: str) -> str:
    """A log_format string as nginx reads it from its config: ``\\t`` a tab, ``\\"`` a quote, ...

    nginx's config reader turns ``\\"``, ``\\'`` and ``\\\\`` into the
    character, and ``\\t``, ``\\r``, ``\\n`` into the control character;
    any other backslash stays. A template copied from nginx.conf into
    logtrack's config (a TOML literal string keeps its backslashes) then
    reads as the server's own: ``'$time_local\\t$remote_addr'`` is tab-separated.
    """
    return compiler.unbackslash(text, _ESCAPED)


# log_format's escape= parameter: how nginx writes a variable's bytes. "default": a quote, a backslash, a
# control byte and every byte outside ASCII as \xHH; "json": a quote and a backslash as \" and \\, a control
# byte as JSON does, any other byte as it came; "none": every byte as it came, quotes too.
ESCAPES = ("default", "json", "none")


def escape_mode(word: str) -> str:
    """The mode of a log_format's ``escape=...`` word, one nginx knows (``ESCAPES``)."""
    mode = word.removeprefix("escape=")
    if mode not in ESCAPES:
        raise LogFormatError(f"unknown escape={mode}", f"nginx knows escape={', escape='.join(ESCAPES)}")
    return mode


def compile_any(template: str, name: str = "custom", *, escape: str = "default") -> LogFormat:
    """A log_format's joined strings: JSON when it starts with ``{``; ``escape``: its ``escape=``."""
    if template.lstrip().startswith("{"):
        return compile_json(template, name)
    return compile_template(template, name, escape=escape)


# For JSON logs of unknown format: the usual key names -> nginx variables.
_KEY_GUESSES: dict[str, str] = {
    "time_local": "time_local", "time_iso8601": "time_iso8601", "msec": "msec",
    "request": "request", "request_line": "request",
    "request_method": "request_method", "method": "request_method",
    "request_uri": "request_uri", "uri": "uri", "path": "uri", "args": "args", "query_string": "args",
    "status": "status", "status_code": "status",
    "http_referer": "http_referer", "http_referrer": "http_referer", "referer": "http_referer",
    "referrer": "http_referer",
    "http_user_agent": "http_user_agent", "user_agent": "http_user_agent", "useragent": "http_user_agent",
    "ua": "http_user_agent", "agent": "http_user_agent",
    "host": "host", "http_host": "host", "server_name": "host", "vhost": "host",
    "remote_addr": "remote_addr", "client": "remote_addr", "client_ip": "remote_addr", "ip": "remote_addr",
}
_TIME_KEYS = ("time", "timestamp", "@timestamp", "ts", "datetime", "date")


def guess_json(sample: dict[str, object]) -> LogFormat:
    """A JSON format from one decoded line: known key names, time kind from the value."""
    members = []
    for key, value in sample.items():
        if isinstance(value, dict | list):
            continue  # an object or a list is no nginx variable's value
        low = key.lower()
        var = _KEY_GUESSES.get(low)
        if var is None and low in _TIME_KEYS:
            text = str(value)
            if re.fullmatch(CLF_TEXT, text):
                var = "time_local"
            elif re.fullmatch(ISO_TEXT, text):
                var = "time_iso8601"
            elif re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", text):
                var = "msec"
        if var:
            members.append(f'"{key}":"${var}"')
    return compile_json("{" + ",".join(members) + "}", "json", as_written=False)
