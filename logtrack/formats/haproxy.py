"""HAProxy's access log: ``option httplog``, and any ``log-format`` string, read by one table of its variables.

HAProxy hands its lines to syslog, or writes them to stdout or a socket,
framed in any of its seven ways (``syslog.OPTIONAL``): a file may hold any,
and HAProxy's own messages ("Proxy site started.") and a TCP frontend's
connections (``option tcplog``) beside the requests, which are skipped as
no request (``NOTICE``).

``option httplog`` is the log-format ``HTTPLOG``; ``haproxy:Host,Referer,User-Agent``
names the headers its ``capture request header`` lines capture, in their
order (``auto`` works the order out from the values). A site's own
``log-format`` follows the name, as haproxy.cfg spells it or as the bare
string: ``haproxy:Host,Referer,User-Agent log-format "%ci:%cp [%tr] %ft %ST %B %hr %{+Q}r"``.
It is read as HAProxy 2.6 writes it (checked against its own lines):

- ``%{+Q}`` quotes strings and addresses, not numbers or times; ``%{+X}``
  writes addresses, ports, ``%Ts``, ``%rt`` and ``%pid`` in hex;
- a run of spaces is one separator, written only where something was
  written since the last one: ``%hr`` without captures writes nothing, and
  takes the space after it away; ``%HQ`` without a query writes nothing
  but keeps it;
- the request (``%r``, ``%HM``, ``%HU``, ``%HP``, ``%HPO``, ``%HQ``) and
  captured headers (``%hr``) have ``"``, ``#``, control and non-ASCII bytes
  written as ``#XX`` (decoded, as is ``%{+E}``'s backslash before ``"``,
  ``\\`` and ``]``); a sample fetch (``%[capture.req.hdr(0)]``) is written
  as it came, quotes, tabs and other bytes raw, ``-`` for none;
- read: the time (``%tr`` and ``%t`` without an offset, in ``[logs]
  log_timezone``; ``%T``, ``%Tl``, ``%trg``, ``%trl`` with theirs; ``%Ts``,
  ``%Ts.%ms``), the status (``%ST``), the request (``%r``, or its parts), the
  client (``%ci``) and the headers: ``%hr`` and ``%[capture.req.hdr(N)]`` by
  the names given, ``%[req.hdr(Name)]`` by its own. A header through a
  converter that changes its text (``,regsub(...)``) is not read; ``%hrl``
  only where its values are quoted (``%{+Q}``, as ``option httplog clf``
  writes them): bare, they are not delimited. A variable HAProxy does not
  know is an error, as it is to HAProxy.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..errors import LogFormatError, quoted
from . import compiler, syslog
from . import model as f
from .model import CLF_TEXT, LAZY, QUOTED, LogFormat, Piece

HAPROXY = "haproxy"
HAPROXY_CLF = "haproxy_clf"
HTTPLOG = ("%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq "
           "%hr %hs %{+Q}r")
# option httplog clf: combined's first fields, then HAProxy's, every string quoted; its captured headers last
HTTPLOG_CLF = ('%{+Q}o %{-Q}ci - - [%trg] %r %ST %B "" "" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc '
               "%rc %sq %bq %CC %CS %hrl %hsl")
_TEMPLATES = {HAPROXY: HTTPLOG, HAPROXY_CLF: HTTPLOG_CLF}
HAPROXY_ENCODING = "haproxy"  # '#' and two hex digits for '"', '#', '{', '|', '}', control and non-ASCII bytes
BACKSLASHED = "backslash"  # %{+E}: '"', '\' and ']' after a backslash
JSON_ESCAPED = "json_string"  # a JSON string's text, escapes and all: the json converter's
_LOCAL_TIME = r"[0-9]{2}/[A-Za-z]{3}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
_NUMBER = r"[+-]?[0-9]+"  # a size or a time: "+" before one logasap logged early, -1 for one never reached
_WORD = r"\S+"
_PORT = r"[0-9]+|-"
# capture request header NAME -> the field it fills
HEADERS = {"host": f.VHOST, "referer": f.REFERRER, "referrer": f.REFERRER, "user-agent": f.USER_AGENT}
_CAPTURES = r"\{[^}]*\}"
# What HAProxy writes to the same log that is no request: its own messages ("Proxy site stopped", "Server be/s1
# is DOWN", "backend be has no server available!"), which start with a capitalised word (or a proxy's kind)
# where a request starts with an address, or, in a log-format, a method, a name of its own (lowercase, as a
# rule: such a line, damaged, is still damage), and a TCP frontend's connections (option tcplog: %ci:%cp [%t]
# %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq)
_TCPLOG = (r"\S+:(?:[0-9]+|-) \[[^\]]*\] \S+ \S+/\S+ -?[0-9]+/-?[0-9]+/\+?-?[0-9]+ \+?[0-9]+ \S+ "
           r"[0-9]+/[0-9]+/[0-9]+/[0-9]+/\+?[0-9]+ [0-9]+/[0-9]+$")
NOTICE = f"^{syslog.OPTIONAL}(?:(?:[A-Z][a-z]+|backend|frontend|listen|proxy) |{_TCPLOG})"

# variable -> (field, its text); _ENCODED ones are written with #XX escapes
_VARIABLES: dict[str, tuple[str | None, str]] = {
    **dict.fromkeys(("B", "U", "Ta", "Tc", "Td", "Th", "Ti", "Tq", "TR", "Tr", "Tt", "Tu", "Tw", "ac", "bc", "bq",
                     "fc", "lc", "pid", "rc", "rt", "sc", "sq"), (None, _NUMBER)),
    **dict.fromkeys(("CC", "CS", "H", "HV", "ID", "b", "f", "ft", "s", "bi", "fi", "si", "sslc", "sslv", "ts",
                     "tsc"), (None, _WORD)),
    **dict.fromkeys(("bp", "cp", "fp", "sp"), (None, _PORT)),
    "ci": (f.CLIENT, r"\S+?"),
    "HM": (f.METHOD, _WORD), "HU": (f.TARGET, _WORD), "HP": (f.PATH, _WORD), "HPO": (f.PATH, _WORD),
    "HQ": (f.QUERY, r"(?:\?\S*)?"), "r": (f.REQUEST, LAZY), "ST": (f.STATUS, r"-?[0-9]+"),
    "ms": (None, r"[0-9]{3}"),
    "hs": (None, _CAPTURES), "hrl": (None, LAZY), "hsl": (None, LAZY),
}
_ENCODED = frozenset({"HM", "HU", "HP", "HPO", "HQ", "r", "CC", "CS"})
# write nothing at all where nothing is captured: no capture lines, or a request HAProxy could not read ("<BADREQ>")
_MAY_WRITE_NOTHING = frozenset({"hr", "hs", "hrl", "hsl"})
# what %{+Q} quotes (strings and addresses; not numbers, times, nor the termination state) and %{+X} writes in hex
_QUOTABLE = frozenset({"CC", "CS", "H", "HM", "HP", "HPO", "HQ", "HU", "HV", "ID", "b", "f", "ft", "s", "sslc",
                       "sslv", "ci", "fi", "bi", "si", "hr", "hs", "hrl", "hsl", "r"})
_HEX = frozenset({"ci", "fi", "bi", "si", "cp", "fp", "bp", "sp", "Ts", "rt", "pid"})
# time variables -> (their text, how it is read)
_TIMES: dict[str, tuple[str, str, str | None]] = {
    **dict.fromkeys(("t", "tr"), (_LOCAL_TIME, f.STRFTIME, "%d/%b/%Y:%H:%M:%S%.f")),
    **dict.fromkeys(("T", "Tl", "trg", "trl"), (CLF_TEXT, f.CLF, None)),
    "Ts": (r"[0-9]+", f.EPOCH, None),
}
# sample fetches -> the field their text is (a header's by its name: _HEADER_FETCHES)
_FETCHES = {"capture.req.method": f.METHOD, "method": f.METHOD, "capture.req.uri": f.TARGET, "pathq": f.TARGET,
            "url": f.TARGET, "path": f.PATH, "status": f.STATUS, "src": f.CLIENT}
_HEADER_FETCHES = ("req.hdr", "req.fhdr", "hdr")
# converters that leave a value what it was for logtrack (json and +E: decoded)
_KEEPING = {"lower", "upper", "url_dec", "json"}

_TOKEN = re.compile(r"%(?:\{(?P<options>[^}]*)\})?(?:\[(?P<expr>(?:[^\]()]|\([^)]*\))*)\]|(?P<var>[A-Za-z]+))"
                    r"|%%|(?P<space> +)|[^% ]+|%")
_EXPR = re.compile(r"(?P<fetch>[a-z0-9._-]+)(?:\((?P<arg>[^)]*)\))?(?P<converters>(?:,.*)?)$", re.IGNORECASE)


def is_spec(spec: str) -> bool:
    """Whether ``spec`` names HAProxy's log: ``haproxy``, ``haproxy:HEADERS``, either with a log-format after,
    or ``haproxy_clf[:HEADERS]``."""
    return _SPEC.match(spec.strip()) is not None


def get(spec: str) -> LogFormat:
    """``haproxy[:Header,Header,...]``, then a log-format string (bare, or ``log-format "..."``) or nothing;
    ``haproxy_clf[:Header,...]``."""
    m = _SPEC.match(spec.strip())
    assert m is not None  # (is_spec)
    headers = [h.strip() for h in m.group("headers").split(",")] if m.group("headers") else []
    if not m.group("rest"):
        return httplog(headers, clf=m.group("name") == HAPROXY_CLF)
    if m.group("name") == HAPROXY_CLF:
        raise LogFormatError(f"log format {quoted(spec)}: haproxy_clf is option httplog clf's own format",
                             "name a log-format after haproxy: haproxy:Host,Referer,User-Agent log-format \"...\"")
    return compile_logformat(_log_format_string(m.group("rest"), spec), headers, spec)


# haproxy[_clf][:Header,Header,...] (a space after a comma too), then a log-format or nothing
_SPEC = re.compile(r"(?P<name>haproxy(?:_clf)?)(?::(?P<headers>[^\s,]*(?:\s*,\s*[^\s,]*)*))?(?:\s+(?P<rest>.*))?$",
                   re.DOTALL)


def httplog(headers: list[str], *, clf: bool = False) -> LogFormat:
    """``option httplog`` (``clf``: ``option httplog clf``); ``headers``: its captured request headers' names,
    in order ('-': unknown)."""
    name = HAPROXY_CLF if clf else HAPROXY
    return compile_logformat(_TEMPLATES[name], headers, name + (":" + ",".join(headers) if headers else ""))


def _log_format_string(text: str, spec: str) -> str:
    """The log-format string: as given, or, after ``log-format``, the one word haproxy.cfg reads there.

    As haproxy.cfg's parser reads it: a backslash escapes the next
    character (``\\t`` a tab) but inside single quotes; quotes group
    spaces into the word; ``#`` outside them starts a comment.
    """
    word, _, rest = text.partition(" ")
    if word != "log-format":
        return text
    rest = rest.strip()
    out: list[str] = []
    quote = None
    i = 0
    while i < len(rest):
        c = rest[i]
        if quote == "'":
            if c == "'":
                quote = None
            else:
                out.append(c)
        elif c == "\\" and i + 1 < len(rest):
            i += 1
            out.append(_CONFIG_ESCAPES.get(rest[i], rest[i]))
        elif c == '"' and quote == '"':
            quote = None
        elif quote is None and c in "\"'":
            quote = c
        elif quote is None and c in " \t#":
            after = rest[i:].strip()
            if after and not after.startswith("#"):
                raise LogFormatError(f"log format {quoted(spec)}: log-format takes one string",
                                     'quote it as haproxy.cfg does: log-format "%ci:%cp [%tr] ..."')
            break
        else:
            out.append(c)
        i += 1
    return "".join(out)


_CONFIG_ESCAPES = {"t": "\t", "n": "\n", "r": "\r"}


def compile_logformat(template: str, headers: list[str], name: str) -> LogFormat:
    """A log-format string, as HAProxy writes it, with the names of the request headers it captures.

    One that writes JSON (``{"time":"%Tl","request":"%r",...}``) is read
    as the text it is, not decoded: HAProxy writes a backslash in the
    request raw, which no JSON decoder reads; a sample fetch through the
    ``json`` converter (``%[capture.req.hdr(1),json(utf8s)]``) is JSON's
    escaped text, and decoded as such.
    """
    reader = _Reader(headers, template)
    pieces = reader.pieces(template)
    fmt = compiler.build(_epoch_with_ms([Piece(pattern=syslog.OPTIONAL), *pieces]), name, template, raw_quotes=True)
    if reader.optional_quotes:
        fmt = replace(fmt, segments=None)  # quotes that may be there or not: no fixed number to split at
    return reader.finish(fmt)


class _Reader:
    """One walk over a log-format string: its pieces, and the fields they claim (the first occurrence wins)."""

    def __init__(self, headers: list[str], template: str) -> None:
        self.headers, self.template = headers, template
        self.captured = tuple(HEADERS.get(header.lower()) for header in headers)
        self.encoded: dict[str, str] = {}
        self.claimed: set[str] = set()
        self.from_captures: list[str] = []  # the fields %hr's headers give
        self.optional_quotes = False
        self.raw = False  # a sample fetch's text, written as it came
        self.options: set[str] = set()  # %{+Q}o's: every variable's after it, but where it says otherwise

    def pieces(self, text: str) -> list[Piece]:
        """``text``'s pieces, a separator's space left out where HAProxy leaves it out."""
        pieces: list[Piece] = []
        written = "none"  # since the last separator: "none", "maybe" (only what may write nothing) or "some"
        for m in _TOKEN.finditer(text):
            token = m.group(0)
            if m.group("space"):
                if written != "none":
                    pieces.append(Piece(literal=" ") if written == "some" else Piece(pattern=" ?"))
                written = "none"
                continue
            if m.group("var") is None and m.group("expr") is None:
                pieces.append(Piece(literal="%" if token == "%%" else token))
                written = "some"
                continue
            if m.group("var") == "o":  # (writes nothing)
                self.options = _options(m.group("options"), self.options)
                continue
            piece, quoted, escaped, fetched, how, free = self._one(m)
            if m.group("var") in _MAY_WRITE_NOTHING:
                pattern = f'"{piece.pattern}"' if quoted else piece.pattern
                # (the response's captures, rarer, only where a request's cannot take them: "%hs %hr")
                pieces.append(replace(piece, pattern=f"(?:{pattern})" + ("??" if m.group("var") in ("hs", "hsl")
                                                                        else "?")))
                self.optional_quotes = self.optional_quotes or quoted or '"' in piece.pattern
                written = "maybe" if written == "none" else written
                continue
            if quoted:
                # inside its quotes: text without a quote, but for a sample fetch's (raw) and %{+E}'s (\")
                inner = (QUOTED if escaped or how == JSON_ESCAPED else LAZY if fetched else r'[^"]*') \
                    if free else piece.pattern
                pieces += [Piece(literal='"'), replace(piece, pattern=inner), Piece(literal='"')]
            else:
                pieces.append(piece)
            written = "some"
        while pieces and (pieces[-1].literal == " " or (pieces[-1].literal is None and pieces[-1].pattern == " ?")):
            pieces.pop()  # (a separator at the end: what may follow a format's last field)
        return compiler.merge_literals(pieces)

    def _one(self, m: re.Match[str]) -> tuple[Piece, bool, bool, bool, str | None, bool]:
        """A variable's or sample fetch's piece (the field it claims, if it is the first), whether it is
        quoted, escaped, a sample fetch, how its text is encoded, and whether it is free text."""
        options = _options(m.group("options"), self.options)
        # (%hrl's values each in quotes of their own: its pattern's)
        quoted = "+Q" in options and (m.group("var") is None or m.group("var") in _QUOTABLE) \
            and not (m.group("var") == "hrl" and self.headers)
        escaped = "+E" in options
        fetched = m.group("expr") is not None
        if fetched:
            piece, how = _fetch(m.group("expr"), self.headers)
            self.raw = free = True
        else:
            piece, how, free = _variable(m.group("var"), options, self.headers, self.template)
        if escaped:
            how = BACKSLASHED + ("," + how if how else "")
        if piece.field in self.claimed:  # the first occurrence of a field wins, %hr's headers too
            piece = replace(piece, field=None)
        elif piece.field is not None:
            self.claimed.add(piece.field)
            if how:
                self.encoded[piece.field] = how
            if piece.field == f.CAPTURED:
                self.from_captures = [field for field in dict.fromkeys(self.captured)
                                      if field and field not in self.claimed]
                self.claimed.update(self.from_captures)
        return piece, quoted, escaped, fetched, how, free

    def finish(self, fmt: LogFormat) -> LogFormat:
        """``fmt`` with what the walk found: %hr's headers, the encodings, HAProxy's own messages."""
        captured, found = self.captured, self.from_captures
        return replace(fmt, fields=fmt.fields + tuple(found),
                       captured=tuple(field if field in found and field not in captured[:i] else None
                                      for i, field in enumerate(captured)) if found else (),
                       notice=NOTICE,
                       encoded={**self.encoded, **dict.fromkeys(found, HAPROXY_ENCODING)}, raw_bytes=self.raw)


def _variable(var: str, options: set[str], headers: list[str], template: str) -> tuple[Piece, str | None, bool]:
    """A variable's piece, how its text is encoded, and whether it is free text (quoted: no quote within)."""
    if var == "hr":
        return Piece(field=f.CAPTURED if headers else None, pattern=_CAPTURES), None, True
    if var == "hrl" and headers and "+Q" in options:  # "a" "b" "c": each quoted (no quote in one: #22)
        values = " ".join(['"[^"]*"'] * len(headers))
        return Piece(field=f.CAPTURED, pattern=f"(?:{values})"), None, False
    if var in _TIMES:
        pattern, kind, how = _TIMES[var]
        if "+X" in options and var in _HEX:  # a time in hex: not read
            return Piece(pattern=r"[0-9A-Fa-f]+"), None, False
        return Piece(field=f.TIME, pattern=pattern, time_kind=kind, time_format=how), None, False
    if var not in _VARIABLES:
        raise LogFormatError(f"log format {quoted(template)}: HAProxy has no log variable %{var}",
                             "spell the variables as HAProxy's manual does (Custom log format)")
    field, pattern = _VARIABLES[var]
    if "+X" in options and var in _HEX:
        pattern = r"[0-9A-Fa-f]+|-"
    return Piece(field=field, pattern=pattern), HAPROXY_ENCODING if var in _ENCODED else None, \
        pattern in (_WORD, LAZY, r"\S+?")


def _fetch(expr: str, headers: list[str]) -> tuple[Piece, str | None]:
    """A sample fetch's piece: the field it is (None: not one logtrack reads), and how it is encoded."""
    m = _EXPR.match(expr.strip())
    if m is None:
        return Piece(pattern=LAZY), None
    fetch, arg = m.group("fetch").lower(), (m.group("arg") or "").split(",")[0].strip()
    converters = [c.partition("(")[0].strip().lower() for c in m.group("converters").split(",")[1:]]
    field: str | None = _FETCHES.get(fetch)
    if fetch == "capture.req.hdr":
        index = int(arg) if arg.isdigit() else -1
        field = HEADERS.get(headers[index].lower()) if 0 <= index < len(headers) else None
    elif fetch in _HEADER_FETCHES:
        field = HEADERS.get(arg.lower())
    if any(c not in _KEEPING for c in converters):
        field = None
    if "json" in converters:  # JSON's escapes: a quote in it always after a backslash
        return Piece(field=field, pattern=QUOTED), JSON_ESCAPED
    return Piece(field=field, pattern=LAZY), None


def _options(text: str | None, default: set[str]) -> set[str]:
    """A variable's options (``+Q,+E``) over those ``%{...}o`` set for all: ``-Q`` takes ``+Q`` away."""
    options = set(default)
    for option in (o.strip() for o in (text or "").split(",")):
        if option.startswith("-"):
            options.discard("+" + option[1:])
        elif option:
            options.add(option)
    return options


def _epoch_with_ms(pieces: list[Piece]) -> list[Piece]:
    """``%Ts.%ms``, the accept date's seconds and milliseconds, as one epoch time."""
    out: list[Piece] = []
    for piece in pieces:
        if (piece.pattern == r"[0-9]{3}" and piece.literal is None and len(out) >= 2 and out[-1].literal == "."
                and out[-2].time_kind == f.EPOCH):
            out[-2:] = [replace(out[-2], pattern=r"[0-9]+\.[0-9]{3}")]
        else:
            out.append(piece)
    return out
