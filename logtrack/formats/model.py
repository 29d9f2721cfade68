"""Log formats: a format string compiled once into a regular expression.

As in apachelogs, a format string is read against a table of directives
(data, not code) that says which field each one fills and what its text
looks like: Apache ``LogFormat`` strings in ``apache``, nginx
``log_format`` templates in ``nginx``. Both become a list of
``Piece``s, and one compiler here (``build``) turns pieces, in one walk,
into every way of cutting a line: the whole-line expression that runs in
Polars (Rust regex, linear time, whole column at once) and the checks the
quote split (``parse.split``) makes between the quotes. An nginx template
that starts with ``{`` is a JSON format and is decoded as JSON instead.

Quoted fields accept both escape styles real servers write: Apache writes a
quote inside a field as ``\\"`` and nginx as ``\\x22``; the quoted-field
expression skips any backslash pair, so a field is never cut at an escaped
quote. Fields appended after a format's last field (nginx's ``main`` format
adds ``"$http_x_forwarded_for"``) are accepted and ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum

from ..errors import LogFormatError


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
    CAPTURED = "captured"  # HAProxy's captured headers, "{a|b|c} ": cut into fields by LogFormat.captured


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

CLF_TEXT = r"[0-9]{2}/[A-Za-z]{3}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}"  # 10/Oct/2000:13:55:36 -0700
CLF_FORMAT = "%d/%b/%Y:%H:%M:%S%.f %z"  # how a CLF time is read (a fraction of a second, when logged, too)
QUOTED = r'(?:[^"\\]|\\.)*'
# Fields that may hold spaces ("10.0.0.2, 10.0.0.1"), or nothing: a header sent empty is logged as no
# text at all, by nginx and Apache alike (nginx's escape=none writes an absent one so too).
LAZY = r".*?"
# Such a field last in a format, unquoted, is the rest of the line: lazy, the fields-appended tail would
# cut it at its first space (a user agent read as "Mozilla/5.0", and no bot found in it).
REST = r".*"
# A client: an address or name; or an X-Forwarded-For list of them ("10.0.0.2, 10.0.0.1"), maybe quoted,
# maybe followed by the address the list came from (both seen in real nginx logs); never other text with a
# space, so that a virtual host in front of it ("www.example.com 1.2.3.4") is not taken for part of it.
_ONE = r'[^\s,"]+'
_IP = r"[0-9A-Fa-f:.]*[:.][0-9A-Fa-f:.]*"
ADDRESSES = rf'"{_ONE}(?:,\s?{_ONE})*"(?: {_IP})?|{_ONE}(?:,\s?{_ONE})+(?: {_IP})?|{_ONE}'
_ADDRESS_TOKEN = rf"{_ONE}(?:,{_ONE})*"  # one without spaces or quotes: what it is before a space, as one token
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
    # field -> how its text is encoded in the log (``proxies.HAPROXY_ENCODING``, ``w3c``'s ...)
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
    # The container runtime whose files hold the lines (``containers.CRI``, ``DOCKER``): a line longer
    # than its buffer is filed in parts, which ``read.parts`` puts back together.
    parts: str | None = None
    # A CDN that logs its own hops as records too (Azure Front Door's origin shield answering an edge):
    # where a record says so (a JSON path) and the value that means it. Such a record is no client's request.
    hop: tuple[tuple[str | int, ...], str] | None = None

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


TAIL = r"(?:\s.*)?$"  # what may follow a format's last piece: fields a server appends are ignored
_CUT_SHORT_TAIL = r'(?:"(?:\s.*)?)?$'


def build(pieces: list[Piece], name: str, template: str, *, tail: str | None = None) -> LogFormat:
    """Compile pieces, in one walk, into every way of cutting a line.

    The whole-line regex (and its fast form), and the segments the quote
    split checks between the quotes, come from the same walk, so the first
    occurrence of a field wins in both and both end a line the same way.
    A line cut short inside its last quoted field (seen in real logs,
    inside a long user agent) still has every field logtrack needs: the
    regex accepts it; the split leaves it to the regex. ``tail``: what may
    follow the last piece, instead of ``TAIL``.
    """
    flat = _at_quotes(pieces)
    if flat and flat[-1].literal is None and flat[-1].pattern == LAZY:
        flat[-1] = replace(flat[-1], pattern=REST)
    cut_short = len(pieces) > 1 and pieces[-1].literal == '"' and pieces[-2].literal is None
    parts, fast = ["^"], ["^"]
    fields: list[str] = []  # the first occurrence of a field wins, in every path
    time_kind, time_format = CLF, None
    groups: list[list[tuple[Piece, str | None, bool]]] = [[]]  # between quotes: (piece, what follows it, new)
    for i, piece in enumerate(flat):
        if piece.literal is not None:
            if piece.literal == '"':
                groups.append([])
                if cut_short and i == len(flat) - 1:
                    break  # the regex's tail takes the closing quote
            else:
                groups[-1].append((piece, None, False))
            if not (cut_short and i == len(flat) - 1):
                parts.append(escape(piece.literal))
                fast.append(escape(piece.literal))
            continue
        before = flat[i - 1].literal if i > 0 else None
        after = flat[i + 1].literal if i + 1 < len(flat) else '"'  # cut-short tail
        quoted = before == '"' and after == '"'
        expr = QUOTED if quoted else piece.pattern
        narrow = narrowed(expr, after)
        new = claims(piece, fields)
        if new:
            assert piece.field is not None
            parts.append(f"(?P<{piece.field}>{expr})")
            fast.append(f"(?P<{piece.field}>{narrow})")
            if piece.field == TIME:
                time_kind, time_format = piece.time_kind or CLF, piece.time_format
        else:
            parts.append(f"(?:{expr})")
            fast.append(f"(?:{narrow})")
        groups[-1].append((piece, after if after != '"' else None, new))
    end = tail or (_CUT_SHORT_TAIL if cut_short else TAIL)
    parts.append(end)
    fast.append(end)
    require(fields, template)
    last = len(groups) - 1
    segments = tuple(_segment(g, (tail or TAIL) if i == last else None, i % 2 == 1) for i, g in enumerate(groups)) \
        if len(groups) >= 3 else None
    return LogFormat(name, template, "".join(parts), tuple(fields), "".join(fast), time_kind, time_format,
                     segments=segments)


JSON_TAIL = r"\s*$"  # after a JSON line's closing brace: whitespace only, as the decoder allows
JSON_LINE = r"^\s*\{.*\}\s*$"  # what a line must look like to be decoded as JSON
HOP = "_hop"  # the column a JSON record's ``LogFormat.hop`` value is decoded into


def build_json(members: list[tuple[str, list[Piece]]], name: str, template: str,
               pieces: list[Piece] | None = None) -> LogFormat:
    """Compile a JSON format: each key's value, one directive or several, by the same rules as ``build``.

    A key whose value is one directive is that field. A key whose value is
    several directives and text (``"request": "$request_method $uri"``) is
    cut into its fields by a regex of its own once decoded (``json_parts``).
    Keys are taken in the template's order and the first occurrence of a
    field wins, as in ``build``.

    ``pieces``: the template as the server writes it (the members' directives
    as fields, any other one ignored). Lines written exactly so, with no
    backslash (so no escape that decoding would change), are then cut at
    their quotes like any quoted format (``segments``); the rest are decoded.
    """
    keys: dict[str, str] = {}
    parts: dict[str, str] = {}
    fields: list[str] = []
    time_kind, time_format = CLF, None
    for key, value in members:
        named = [p for p in value if p.literal is None]
        before = len(fields)
        if len(value) == 1 and named:
            if claims(named[0], fields):
                keys[key] = fields[-1]
        elif named and (regex := _member_regex(value, fields)) is not None:
            parts[key] = regex
        if TIME in fields[before:]:
            timed = next(p for p in named if p.field == TIME)
            time_kind, time_format = timed.time_kind or CLF, timed.time_format
    if not keys and not parts:
        raise LogFormatError(
            f"JSON log format {template!r} maps no key to a $variable or a %directive",
            'write it as the server\'s config does, e.g. {"time":"$time_iso8601","request":"$request",...} '
            'or {"time":"%{%FT%T}t%{%z}t","request":"%r",...}',
        )
    require(fields, template)
    whole = JSON_LINE
    segments = None
    if pieces is not None:
        try:
            segments = build(pieces, name, template, tail=JSON_TAIL).segments
        except LogFormatError:
            segments = None
    return LogFormat(name=name, template=template, regex=whole, fields=tuple(fields), fast_regex=whole,
                     time_kind=time_kind, time_format=time_format, json_keys=keys, json_parts=parts,
                     segments=segments)


def json_part(key: str) -> str:
    """The column a decoded key's text is held in before ``LogFormat.json_parts`` cuts it."""
    return f"_json_{key}"


def _member_regex(value: list[Piece], fields: list[str]) -> str | None:
    """The regex that cuts a JSON member's decoded text into the fields it is the first to fill (claimed).

    None when it fills none: the key is then not read at all. Its last
    free-text directive takes the rest of the value, as a format's last one
    takes the rest of the line.
    """
    regex, new = ["^"], False
    for i, piece in enumerate(value):
        if piece.literal is not None:
            regex.append(escape(piece.literal))
            continue
        pattern = REST if piece.pattern == LAZY and i == len(value) - 1 else piece.pattern
        if claims(piece, fields):
            regex.append(f"(?P<{piece.field}>{pattern})")
            new = True
        else:
            regex.append(f"(?:{pattern})")
    regex.append("$")
    return "".join(regex) if new else None


def claims(piece: Piece, fields: list[str]) -> bool:
    """Whether ``piece`` fills a field no piece before it filled (and records it): the first one wins."""
    if piece.field is None or piece.field in fields:
        return False
    fields.append(piece.field)
    return True


def _at_quotes(pieces: list[Piece]) -> list[Piece]:
    """The pieces with every literal cut at its quotes, each quote a literal of its own."""
    flat: list[Piece] = []
    for piece in pieces:
        if piece.literal is None or '"' not in piece.literal:
            flat.append(piece)
            continue
        for i, part in enumerate(piece.literal.split('"')):
            if i:
                flat.append(Piece(literal='"'))
            if part:
                flat.append(Piece(literal=part))
    return flat


def _segment(group: list[tuple[Piece, str | None, bool]], tail: str | None, inside: bool) -> Segment:
    """The split's check of one piece between quotes, from the same walk as the regex.

    ``tail``: what may follow it, for the line's last piece (None for the others).
    """
    last = tail is not None
    if inside and len(group) == 1 and group[0][0].literal is None:
        piece, _, new = group[0]
        return Segment(field=piece.field if new else None)  # quoted free text, taken whole
    if not last and all(piece.literal is not None for piece, _, _ in group):
        text = "".join(piece.literal or "" for piece, _, _ in group)
        return Segment(literal=text, escapable=text.endswith("\\"))
    end = tail or "$"
    wide, narrow, captures = ["^"], ["^"], []
    widths: list[tuple[str | None, int | None]] = []  # (the field it captures, its width if fixed)
    for piece, after, new in group:
        if piece.literal is not None:
            wide.append(escape(piece.literal))
            narrow.append(escape(piece.literal))
            widths.append((None, len(piece.literal)))
            continue
        pattern = narrowed(piece.pattern, after)
        if new and piece.field == TIME and piece.time_kind in (None, CLF):
            pattern = CLF_TEXT  # as servers write %t and $time_local; any other text: the line regex's
        if new:
            assert piece.field is not None
            captures.append(piece.field)
            wide.append(f"(?P<{piece.field}>{pattern if pattern == CLF_TEXT else piece.pattern})")
            narrow.append(f"(?P<{piece.field}>{pattern})")
        else:
            wide.append(f"(?:{piece.pattern})")
            narrow.append(f"(?:{pattern})")
        widths.append((piece.field if new else None, _fixed_width(pattern)))
    regex, wide_regex = "".join(narrow) + end, "".join(wide) + end
    ends = group[-1][0].literal if group else ""  # the fixed text it ends in (None: a field)
    return Segment(regex=regex, captures=tuple(captures), matches_empty=re.search(regex, "") is not None,
                   wide=wide_regex if wide_regex != regex else None, slices=_slices(widths, to_end=not last),
                   escapable=ends is None or ends.endswith("\\"),
                   # (nothing follows a last field that is the rest of the line)
                   open_end="".join(narrow) + r"\s.*$"
                   if tail == TAIL and not (group and group[-1][0].pattern == REST) else None)


def _slices(widths: list[tuple[str | None, int | None]], *, to_end: bool) -> tuple[Slice, ...]:
    """The captures with only fixed-width text before them (or, ``to_end``, after them), and fixed width."""
    found: dict[str, Slice] = {}
    for from_end in (False, True) if to_end else (False,):
        offset = 0
        for name, width in reversed(widths) if from_end else widths:
            if width is None:
                break  # what lies beyond is at no fixed place
            if name is not None and name not in found:
                found[name] = Slice(name, -(offset + width) if from_end else offset, width)
            offset += width
    return tuple(found[name] for name, _ in widths if name in found)


def _fixed_width(pattern: str) -> int | None:
    """How many characters every match of ``pattern`` has, or None if that varies (or cannot be told)."""
    from re import _parser  # type: ignore[attr-defined]

    try:
        low, high = _parser.parse(pattern).getwidth()
    except re.error:
        return None
    return int(low) if low == high else None


def narrowed(pattern: str, after: str | None) -> str:
    """A lazy field followed by a space, as one token: the fast regexes' form.

    Wherever the token form matches it captures what the lazy one does (a
    lazy field before a space cannot end before the first space); where it
    does not (a client list "a, b"), the lazy form is tried next.
    """
    if after and after[0] == " ":
        if pattern == LAZY:
            return r"\S*"
        if pattern == ADDRESSES:
            return _ADDRESS_TOKEN
        if pattern == LOGIN:
            return r"\S*"
    return pattern


def require(fields: list[str] | tuple[str, ...], template: str) -> None:
    """A format must log the time, the request's target (whole request line, URI, or path) and the status.

    The method is not required: a format that leaves it out counts every
    line as a GET (``LogFormat.logs_method``; logtrack says so once per file).
    """
    has_request = REQUEST in fields or TARGET in fields or PATH in fields
    missing = [f for f in (TIME, STATUS) if f not in fields]
    if not has_request:
        missing.insert(1, REQUEST)
    if missing:
        raise LogFormatError(
            f"log format {template!r} logs no {', '.join(missing)}",
            "a format must log the time, the request (or at least its URI) and the status "
            "to count views",
        )


_META = set("\\.+*?()|[]{}^$#&-~")


_BACKSLASHED = re.compile(r"\\(.)", re.DOTALL)


def unbackslash(text: str, table: dict[str, str]) -> str:
    """``text`` with each backslash pair whose character ``table`` names replaced; any other pair kept."""
    return _BACKSLASHED.sub(lambda m: table.get(m.group(1), m.group(0)), text)


def merge_literals(pieces: list[Piece]) -> list[Piece]:
    """Literals side by side as one (a format string's text, cut where its directives were)."""
    merged: list[Piece] = []
    for piece in pieces:
        if piece.literal is not None and merged and merged[-1].literal is not None:
            merged[-1] = Piece(literal=merged[-1].literal + piece.literal)
        else:
            merged.append(piece)
    return merged


def escape(text: str) -> str:
    """Escape regex metacharacters only (Rust regex rejects some needless escapes)."""
    return "".join("\\" + c if c in _META else c for c in text)
