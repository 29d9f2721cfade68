"""Log formats: what a format is made of, and what a compiled one holds.

As in apachelogs, a format string is read against a table of directives
(data, not code) that says which field each one fills and what its text
looks like: Apache ``LogFormat`` strings in ``apache``, nginx
``log_format`` templates in ``nginx``, and the other writers' in modules of
their own. Each becomes a list of ``Piece``s (the fields here, and the
patterns of their text), which ``compiler`` turns into a ``LogFormat``.

Quoted fields accept both escape styles real servers write: Apache writes a
quote inside a field as ``\\"`` and nginx as ``\\x22``; the quoted-field
expression skips any backslash pair, so a field is never cut at an escaped
quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum


class Field(StrEnum):
    """The fields logtrack reads from a line; anything else a format logs is ignored.

    Each is also the name of its column in Polars (a ``StrEnum`` member is its text).
    """

    TIME = "time"
    REQUEST = "request"  # the request line, "GET /x HTTP/1.1"
    METHOD = "req_method"  # or its parts, when a format logs them apart
    TARGET = "req_uri"  # path and query as received ($request_uri)
    PATH = "path"  # path alone (%U, $uri) ...
    QUERY = "query"  # ... and query (%q, $args)
    STATUS = "status"
    REFERRER = "referrer"
    USER_AGENT = "user_agent"
    VHOST = "vhost"
    CLIENT = "client"
    CAPTURED = "captured"  # HAProxy's captured headers, "{a|b|c}" or '"a" "b" "c"': cut by LogFormat.captured


# The fields by their short names, as the format tables and the Polars code write them.
TIME, REQUEST, METHOD, TARGET, PATH, QUERY = Field.TIME, Field.REQUEST, Field.METHOD, Field.TARGET, Field.PATH, \
    Field.QUERY
STATUS, REFERRER, USER_AGENT, VHOST, CLIENT, CAPTURED = Field.STATUS, Field.REFERRER, Field.USER_AGENT, \
    Field.VHOST, Field.CLIENT, Field.CAPTURED

# How the time field is written; parse.fields turns each into an instant and a day.
CLF = "clf"  # 10/Oct/2000:13:55:36 -0700
ISO8601 = "iso8601"  # 2000-10-10T13:55:36-07:00
EPOCH = "epoch"  # seconds since 1970, with a fraction ($msec, %{msec_frac}t...)
EPOCH_MS = "epoch_ms"  # %{msec}t
EPOCH_US = "epoch_us"  # %{usec}t
STRFTIME = "strftime"  # %{format}t: LogFormat.time_format holds the format
UTC_WALL = "utc_wall"  # a wall-clock time in UTC, no offset written (W3C logs): time_format reads it
INSTANT = "instant"  # RFC 3339, or an epoch in s, ms, us or ns (told apart by size): Cloudflare's configurable unit
# Caddy's time (its JSON's "ts", a console entry's first field): whichever of its time_formats its encoder writes,
# told apart by the text (epoch seconds by default; a wall time, without an offset, the console's default, in
# UTC unless [logs] log_timezone says Caddy writes local time)
CADDY_TIME = "caddy_time"

CLF_TEXT = r"[0-9]{2}/[A-Za-z]{3}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}"  # 10/Oct/2000:13:55:36 -0700
CLF_FORMAT = "%d/%b/%Y:%H:%M:%S%.f %z"  # how a CLF time is read (a fraction of a second, when logged, too)
QUOTED = r'(?:[^"\\]|\\.)*'
# The path as the server decoded it (nginx's $uri, Apache's %U): a "%20" in the request is a space here,
# a "%22" a quote, written escaped; never a raw quote or tab (both servers escape them); no "?" (the query
# follows it). It starts with "/" ("*" for OPTIONS *), or is "-" (nginx's for a request it could not read)
# or nothing: so that a host before it (varnishncsa's "http://%{Host}i%U") ends where the path begins.
# ``URI_TEXT`` is the same with its query glued on (``$uri$is_args$args``: "--" for a request not read).
PATH_TEXT = r'(?:[/*](?:[^?"\\\t]|\\.)*|-)?'
URI_TEXT = r'(?:[/*-](?:[^"\\\t]|\\.)*)?'
# Apache's %q: the query string with its "?", or nothing
QUERY_TEXT = r"(?:\?\S*)?"
# Fields that may hold spaces ("10.0.0.2, 10.0.0.1"), or nothing: a header sent empty is logged as no
# text at all, by nginx and Apache alike (nginx's escape=none writes an absent one so too).
LAZY = r".*?"
# A request line not between quotes, with more fields after it ("$request $http_referer ..."): read as the
# request it is ("GET /x HTTP/1.1": a method, a target, maybe a protocol) where the line still fits, lazily
# otherwise ("-", junk): lazy alone, a request followed by a field that may be any token ended at its first
# space ("GET"), and every line was a malformed request. (Between quotes, or last, a request is read whole.)
_REQUEST_LINE = r"[A-Za-z][A-Za-z0-9_.-]* \S+(?: [A-Z]+/[0-9.]+)?"
REQUEST_TEXT = rf"(?:{_REQUEST_LINE}|.*?)"
REQUEST_TOKEN = rf"(?:{_REQUEST_LINE}|\S*)"  # its form before a space in the fast regexes (``narrowed``)
# Such a field last in a format, unquoted, is the rest of the line: lazy, the fields-appended tail would
# cut it at its first space (a user agent read as "Mozilla/5.0", and no bot found in it).
REST = r".*"
# A client: an address or name; or an X-Forwarded-For list of them ("10.0.0.2, 10.0.0.1"), maybe quoted,
# maybe followed by the address the list came from (both seen in real nginx logs); never other text with a
# space, so that a virtual host in front of it ("www.example.com 1.2.3.4") is not taken for part of it.
_ONE = r'[^\s,"]+'
_IP = r"[0-9A-Fa-f:.]*[:.][0-9A-Fa-f:.]*"
ADDRESSES = rf'"{_ONE}(?:,\s?{_ONE})*"(?: {_IP})?|{_ONE}(?:,\s?{_ONE})+(?: {_IP})?|{_ONE}'
ADDRESS_TOKEN = rf"{_ONE}(?:,{_ONE})*"  # one without spaces or quotes: what it is before a space, as one token
# A login (Apache's %u, nginx's $remote_user): one token as a rule ("-" for none; Apache writes an empty one
# as ""), but a Basic-auth name may hold spaces, and both servers write it as it came ("john smith"). No word
# of such a login starts with "-" or holds a colon (Basic auth's user-id cannot): so a virtual host or a
# syslog prefix in front of the client ("www.example.com 1.2.3.4 - - [...]", "web1 nginx: 1.2.3.4 - - [...]")
# is not read as client, ident and a login of several words.
_WORD = r'[^\s:\-\["][^\s:]*'
LOGIN = rf"\S*|{_WORD}(?: {_WORD})+"


@dataclass(frozen=True)
class Piece:
    """A literal, or a directive: the field it fills (None: ignored) and its text."""

    literal: str | None = None
    field: str | None = None
    pattern: str = r"\S+"
    time_kind: str | None = None
    time_format: str | None = None


@dataclass(frozen=True)
class Slice:
    """A capture whose place and width in its checked piece are fixed: sliced out, not captured.

    Once the piece's regex is known to match, a field that only fixed-width
    text precedes (or follows) and that is of fixed width itself is those
    characters of the piece: a slice costs a fifth of a regex capture. A
    CLF time is checked by the split as exactly ``CLF_TEXT`` (26 characters)
    so that it can be cut from the end; a time written otherwise sends its
    line to the line regex, which reads it as before.
    """

    field: str
    start: int  # characters from the piece's start; negative: from its end
    width: int


@dataclass(frozen=True)
class Segment:
    """What one piece between quotes must look like, and which fields it fills.

    ``regex`` and ``literal`` None: a quoted free-text field, taken whole
    (``field`` None: one logtrack does not read). ``literal``: fixed text.
    Otherwise ``regex`` (anchored) checks the piece and its named groups,
    ``captures``, are the fields.
    """

    regex: str | None = None
    field: str | None = None
    literal: str | None = None
    captures: tuple[str, ...] = ()
    matches_empty: bool = False  # an empty piece reads as null; does ``regex`` accept ""?
    wide: str | None = None  # ``regex`` with its lazy fields as written, when they were narrowed
    slices: tuple[Slice, ...] = ()  # the captures that can be sliced rather than captured
    # Whether the piece can end in a backslash, and so be the text before an escaped quote: quoted free
    # text can; a piece whose check ends in other fixed text cannot, and the split need not look.
    escapable: bool = True
    # The last piece, when the format lets any text follow it (``TAIL``): what it must look like for more
    # quoted fields to follow (a space after the format's own text), so that such lines take the split too.
    open_end: str | None = None


@dataclass(frozen=True)
class LogFormat:
    """A compiled format: its name, source string, and whole-line regex."""

    name: str
    template: str
    regex: str
    fields: tuple[str, ...]
    # The same with space-free lazy fields as one token: several times faster,
    # and it captures exactly what ``regex`` does wherever it matches (a lazy
    # field followed by a space cannot end before the first space). Lines it
    # misses get ``regex``.
    fast_regex: str
    time_kind: str = CLF
    time_format: str | None = None
    json_keys: dict[str, str] = field(default_factory=dict)  # JSON key -> field
    # JSON key -> the regex that cuts its (decoded) value into fields, for a key whose value is several
    # directives and text: "request": "$request_method $request_uri $server_protocol"
    json_parts: dict[str, str] = field(default_factory=dict)
    # field -> where it sits in a nested JSON object (a key at each level; 0: a list's first item)
    nested: dict[str, tuple[str | int, ...]] = field(default_factory=dict)
    # How a line splits at its quotes (parse.split): None when the format writes no
    # quoted field (nothing to gain) or is JSON.
    segments: tuple[Segment, ...] | None = None
    # field -> how its text is encoded in the log (``haproxy.HAPROXY_ENCODING``, ``w3c``'s ...)
    encoded: dict[str, str] = field(default_factory=dict)
    # Lines the server writes that are no request (a W3C header, HAProxy's own messages): skipped as such
    notice: str | None = None
    # The fields of a CAPTURED block's values, in order (None: one logtrack does not read)
    captured: tuple[str | None, ...] = ()
    # The request's target may be an absolute URL (a proxy's log): its path and query are the target,
    # its host the virtual host when the format logs none.
    absolute_targets: bool = False
    # A W3C log's value separator: its lines follow the last ``#Fields:`` header (``read.w3c_sections.follow``).
    w3c_separator: str | None = None
    # A W3C line's columns, each the field it fills (None: one not read): once the line regex says a
    # line fits, its fields are cut at the separator rather than captured (``parse.fields._columns``).
    columns: tuple[str | None, ...] = ()
    # A JSON format's lines as another writer files them. ``envelope``: a regex every line starts with
    # before its JSON object (``cri:``'s and ``syslog:``'s prefixes), taken off before the object is
    # decoded. ``within``: the key of a JSON object whose text is the line, itself a JSON object and
    # ending in a newline (Docker's ``log``): decoded twice. ``regex`` is then the inner object's.
    envelope: str | None = None
    within: str | None = None
    # The envelope starts with the line's time, up to its first tab, which the object lacks (Caddy's console
    # format): it is given to the object as its "ts".
    envelope_time: bool = False
    # The container runtime whose files hold the lines (``containers.CRI``, ``DOCKER``): a line longer
    # than its buffer is filed in parts, which ``read.parts`` puts back together.
    parts: str | None = None
    # A CDN that logs its own hops as records too (Azure Front Door's origin shield answering an edge):
    # where a record says so (a JSON path) and the value that means it. Such a record is no client's request.
    hop: tuple[tuple[str | int, ...], str] | None = None
    # The server writes a header's bytes outside ASCII as they came (nginx's escape=json and escape=none,
    # Envoy): a line that is not UTF-8 is still one of its records, read with U+FFFD for those bytes, not
    # "invalid UTF-8" (which, in the formats of servers that escape them, nginx's default and Apache's, is damage).
    raw_bytes: bool = False
    # Lines that each hold a line of another format as the text of a JSON key (Docker's ``log``): that
    # format. The quote split cuts those texts where the whole batch decodes (``parse.fields.unwrapped``).
    inner: LogFormat | None = None

    def naive_zone(self, timezone: str | None, log_timezone: str | None) -> str | None:
        """The zone its times are read in when they carry no offset (a strftime time without ``%z`` or ``%s``:
        ``parse.times.time_columns``), else None: each time says its own instant."""
        if self.time_kind != STRFTIME or not self.time_format or {"s", "z"} & directives(self.time_format):
            return None
        return log_timezone or timezone or "UTC"

    @property
    def is_json(self) -> bool:
        return bool(self.json_keys or self.json_parts or self.nested)

    @property
    def json_paths(self) -> dict[str, tuple[str | int, ...]]:
        """field -> its path in a line's JSON object (a key cut into several fields: ``json_part(key)``)."""
        if self.nested:
            return {**self.nested, HOP: self.hop[0]} if self.hop else self.nested
        return {**{name: (key,) for key, name in self.json_keys.items()},
                **{json_part(key): (key,) for key in self.json_parts}}

    @property
    def glued_regex(self) -> str:
        """The line regex after any text: a whole line at the end of a line glued to the remains of another.

        After a crash cut a file back mid-line, the server's next line is
        written onto what is left of the cut one; read again, that line's
        tail is the new record (``parse.line_regex_fields(glued=True)``).
        """
        return "^.*?" + self.regex.removeprefix("^")

    @property
    def logs_method(self) -> bool:
        """Whether lines say their request method; without it every line counts as a GET."""
        return REQUEST in self.fields or METHOD in self.fields


JSON_TAIL = r"\s*$"  # after a JSON line's closing brace: whitespace only, as the decoder allows
JSON_LINE = r"^\s*\{.*\}\s*$"  # what a line must look like to be decoded as JSON
HOP = "_hop"  # the column a JSON record's ``LogFormat.hop`` value is decoded into


def json_part(key: str) -> str:
    """The column a decoded key's text is held in before ``LogFormat.json_parts`` cuts it."""
    return f"_json_{key}"


def directives(time_format: str) -> set[str]:
    """The letters of a strftime format's directives (``%%`` is a percent sign, no directive)."""
    return set(re.findall(r"%([^%])", time_format.replace("%%", "")))
