"""The format compiler: pieces into every way of cutting a line, in one walk.

One compiler (``build``; ``build_json`` for JSON formats) turns a format's
``Piece``s into the whole-line expression that runs in Polars (Rust regex,
linear time, whole column at once), its fast form, and the checks the quote
split (``parse.split``) makes between the quotes: the paths agree by
construction, the first occurrence of a field wins in all of them, and they
end a line the same way. Fields appended after a format's last field
(nginx's ``main`` format adds ``"$http_x_forwarded_for"``) are accepted and
ignored.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..errors import LogFormatError, quoted
from .model import (
    ADDRESS_TOKEN,
    ADDRESSES,
    CLF,
    CLF_TEXT,
    JSON_LINE,
    JSON_TAIL,
    LAZY,
    LOGIN,
    PATH,
    PATH_TEXT,
    QUOTED,
    REQUEST,
    REQUEST_TEXT,
    REQUEST_TOKEN,
    REST,
    STATUS,
    TARGET,
    TIME,
    URI_TEXT,
    LogFormat,
    Piece,
    Segment,
    Slice,
)

# What may follow a format's last piece: fields a server appends are ignored. They follow a space or a tab;
# a CR is in no field a server writes (it escapes one), but for a CRLF line end's, so lines joined by a bare
# CR (a file saved with old Mac line ends) are damage, not one line whose rest is ignored.
TAIL = r"(?:[ \t][^\r]*)?\r?$"
_CUT_SHORT_TAIL = r'(?:"(?:[ \t][^\r]*)?)?\r?$'
# ... but after a field that may hold spaces, outside quotes, with more fields after it: there, fields taken
# for appended ones would end it early ("$http_user_agent $host": the agent read as "Mozilla/5.0", the host as
# "(X11;", the rest ignored, and no bot found), so such a format's line ends with its own last field.
_OWN_END = r"\r?$"
# The patterns of fields that may hold a space ("a, b", "john smith", "GET /x HTTP/1.1", a decoded path)
_SPACED = {LAZY, ADDRESSES, LOGIN, REQUEST_TEXT, PATH_TEXT, URI_TEXT}
_RAW_LAST_TAIL = r'"?\r?$'


def build(pieces: list[Piece], name: str, template: str, *, tail: str | None = None,
          raw_quotes: bool = False) -> LogFormat:
    """Compile pieces, in one walk, into every way of cutting a line.

    The whole-line regex (and its fast form), and the segments the quote
    split checks between the quotes, come from the same walk, so the first
    occurrence of a field wins in both and both end a line the same way.
    A line cut short inside its last quoted field (seen in real logs,
    inside a long user agent) still has every field logtrack needs: the
    regex accepts it; the split leaves it to the regex. ``tail``: what may
    follow the last piece, instead of ``TAIL``.

    ``raw_quotes``: the server writes a quote inside a field as it came
    (nginx's ``escape=none``, Envoy), so a quoted field is its own pattern,
    quotes and all, not text without a raw quote: the regex then reads the
    line wherever the rest of the format still places its fields (the
    split, counting quotes, leaves such a line to it, even where the
    format lets fields follow its last one). A lazy field ends at
    the first quote after which the line still fits: ``"a "b" c"`` is
    ``a "b" c`` where a space and a quoted field must follow it; a last
    one ends at the line's last quote, and no field may follow it.
    """
    flat = _free_text_placed(_at_quotes(pieces))
    cut_short = len(pieces) > 1 and pieces[-1].literal == '"' and pieces[-2].literal is None
    if tail is None and not cut_short and _spaced_before_the_end(flat):
        tail = _OWN_END
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
        expr = QUOTED if quoted and not raw_quotes else piece.pattern
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
    # A last quoted field that may hold raw quotes ends at the line's last quote: read lazily with fields
    # allowed after it, an agent `a "b" c` would be `a ` and ` c"` taken for a field appended.
    raw_last = raw_quotes and cut_short and flat[-2].pattern == LAZY
    tail = tail or (_RAW_LAST_TAIL if raw_last else None)
    end = tail or (_CUT_SHORT_TAIL if cut_short else TAIL)
    parts.append(end)
    fast.append(end)
    require(fields, template)
    last = len(groups) - 1
    segments = tuple(_segment(g, (tail or TAIL) if i == last else None, i % 2 == 1) for i, g in enumerate(groups)) \
        if len(groups) >= 3 else None
    if segments and raw_quotes:  # more quotes than the format: a raw one inside a field, as likely as fields after
        segments = (*segments[:-1], replace(segments[-1], open_end=None))  # its last: the line regex decides
    return LogFormat(name, template, "".join(parts), tuple(fields), "".join(fast), time_kind, time_format,
                     segments=segments)


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
            f"JSON log format {quoted(template)} maps no key to a $variable or a %directive",
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


def _free_text_placed(flat: list[Piece]) -> list[Piece]:
    """The lazy free-text pieces given the patterns their place calls for, so that every path cuts them alike.

    A last one is the rest of the line; but a request last after a field
    that may hold spaces (``$http_user_agent $request``) is the request
    line it is shaped as, or one token (junk, ``-``), so that the agent
    before it ends where the request begins. A request outside quotes with
    fields after it is shaped so too, lazily where it is no request line.
    """
    out = list(flat)
    for i, piece in enumerate(out):
        if piece.literal is not None or piece.pattern != LAZY:
            continue
        if i == len(out) - 1:
            after_spaced = i > 1 and out[i - 1].literal == " " and out[i - 2].pattern in _SPACED \
                and out[i - 2].literal is None
            out[i] = replace(piece, pattern=REQUEST_TOKEN if piece.field == REQUEST and after_spaced else REST)
        elif piece.field == REQUEST and not (i and out[i - 1].literal == '"' and out[i + 1].literal == '"'):
            out[i] = replace(piece, pattern=REQUEST_TEXT)
    return out


def _spaced_before_the_end(flat: list[Piece]) -> bool:
    """Whether, after the format's last quote, a field that may hold spaces has another field after it."""
    quotes = [i for i, piece in enumerate(flat) if piece.literal == '"']
    fields = [piece for piece in flat[quotes[-1] + 1 if quotes else 0:] if piece.literal is None]
    return any(piece.pattern in _SPACED for piece in fields[:-1])


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
                   open_end="".join(narrow) + r"[ \t][^\r]*\r?$"
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
    does not (a client list "a, b", a login "john smith"), the lazy form is tried next.
    """
    if after and after[0] == " ":
        return _TOKEN_FORMS.get(pattern, pattern)
    return pattern


# The fields that may hold spaces, and their form as one token (what they are before a space, nearly always).
_TOKEN_FORMS = {LAZY: r"\S*", ADDRESSES: ADDRESS_TOKEN, LOGIN: r"\S*", REQUEST_TEXT: REQUEST_TOKEN}


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
            f"log format {quoted(template)} logs no {', '.join(missing)}",
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
