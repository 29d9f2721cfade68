"""Apache ``LogFormat`` strings -> pieces, from a table of mod_log_config directives.

Accepted as written inside httpd.conf (``\\"``) or unescaped. Status
conditions (``%400,501{User-agent}i``, ``%!200{Referer}i``) and the ``<``/``>``
modifiers are accepted; a directive Apache does not know is refused, as Apache refuses it.
"""

from __future__ import annotations

import re

from ..errors import LogFormatError, quoted
from . import compiler
from . import model as f
from .model import LAZY, LogFormat, Piece

NUMBER = r"-|[0-9]+"
# A server name (a port after it is cut off later). Apache's own (%v, %V) never holds a comma (a Host header
# with one gets a 400), nginx's $host may (",a", "a,,b" pass its check), which host_combined reads with %v;
# but never ends in one here, unlike the first address of a client list "10.0.0.2, 10.0.0.1", which a vhost
# must not take for itself (``auto`` would read a combined line with such a client as host_combined)
HOST = r"\S*?[^\s,]"

# directive letter (after modifiers, without {arg}) -> (field, pattern)
_DIRECTIVES: dict[str, tuple[str | None, str]] = {
    "h": (f.CLIENT, f.ADDRESSES),
    "a": (f.CLIENT, f.ADDRESSES),
    "A": (None, r"\S+"),
    "l": (None, r"\S+"),
    "u": (None, f.LOGIN),
    "r": (f.REQUEST, r".*?"),
    "s": (f.STATUS, r"[0-9]{3}"),
    "b": (None, NUMBER),
    "B": (None, r"[0-9]+"),
    "O": (None, NUMBER),
    "I": (None, NUMBER),
    "S": (None, NUMBER),
    "D": (None, r"-?[0-9]+"),
    "T": (None, r"-?[0-9]+(?:\.[0-9]+)?"),
    "v": (f.VHOST, HOST),
    "V": (f.VHOST, HOST),
    "p": (None, r"[0-9]+|-"),
    "P": (None, r"[0-9]+|-"),
    "U": (f.PATH, f.PATH_TEXT),
    "q": (f.QUERY, f.QUERY_TEXT),
    "m": (f.METHOD, r"\S+"),
    "H": (None, r"\S+"),
    "k": (None, r"[0-9]+"),
    "L": (None, r"\S+"),
    "R": (None, r"\S+"),
    "X": (None, r"[Xx+-]"),
    "f": (None, r"\S+"),
    "^FB": (None, r"-|[0-9]+"),  # mod_logio's time to the first byte, in µs ("-" unless LogIOTrackTTFB is on)
}
# %{Header}i, lower-cased header -> field
_HEADERS: dict[str, tuple[str, str]] = {
    "referer": (f.REFERRER, LAZY),
    "referrer": (f.REFERRER, LAZY),
    "user-agent": (f.USER_AGENT, LAZY),
    # (the header as it came, unlike %v and %V: a scanner's "a b" or "${jndi:ldap://x}", an empty one as nothing)
    "host": (f.VHOST, LAZY),
}

# (``%{Name}^ti`` and ``%{Name}^to``, a request's and a response's trailer, and ``%^FB``, the time to the
# first byte: directives of more than a letter)
_TOKEN = re.compile(r"%[<>!0-9,]*(?:\{(?P<arg>[^}]*)\})?(?P<letter>\^t[io]|\^FB|[a-zA-Z%])|[^%]+|%")

# strftime directive -> regex for its text; anything else matches \S+
_STRFTIME: dict[str, str] = {
    "Y": r"[0-9]{4}", "m": r"[0-9]{2}", "d": r"[0-9]{2}", "e": r" ?[0-9]{1,2}", "H": r"[0-9]{2}",
    "M": r"[0-9]{2}", "S": r"[0-9]{2}", "z": r"[+-][0-9]{4}", "Z": r"[A-Za-z]+", "b": r"[A-Za-z]{3}",
    "h": r"[A-Za-z]{3}", "B": r"[A-Za-z]+", "a": r"[A-Za-z]{3}", "A": r"[A-Za-z]+", "y": r"[0-9]{2}",
    "j": r"[0-9]{3}", "p": r"[AP]M", "I": r"[0-9]{2}", "T": r"[0-9]{2}:[0-9]{2}:[0-9]{2}",
    "F": r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "D": r"[0-9]{2}/[0-9]{2}/[0-9]{2}", "s": r"[0-9]+", "%": "%",
    # (and with spaces in them, as strftime writes them in the C locale Apache runs in: "Tue Dec  1 00:35:55
    # 2026", "12:35:55 AM", " 0")
    "c": r"[A-Za-z]{3} [A-Za-z]{3} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}",
    "r": r"[0-9]{2}:[0-9]{2}:[0-9]{2} [AP]M", "R": r"[0-9]{2}:[0-9]{2}", "k": r" ?[0-9]{1,2}", "l": r" ?[0-9]{1,2}",
    "x": r"[0-9]{2}/[0-9]{2}/[0-9]{2}", "X": r"[0-9]{2}:[0-9]{2}:[0-9]{2}",
}


def compile_logformat(template: str, name: str = "custom", *, envelope: Piece | None = None) -> LogFormat:
    """Compile an Apache LogFormat string (one that starts with ``{`` is JSON: ``compile_json``).

    ``envelope``: text every line starts with before the format's own (``syslog``'s prefix).
    """
    if template.lstrip().startswith("{"):
        return compile_json(template, name)
    return compiler.build([*([envelope] if envelope else []), *_pieces(unescape(template), template)], name, template)


def _pieces(text: str, template: str) -> list[Piece]:
    """A LogFormat's text (unescaped) as pieces, time directives side by side joined (``_one_time``)."""
    pieces: list[Piece] = []
    for m in _TOKEN.finditer(text):
        token = m.group(0)
        if not token.startswith("%") or token == "%":
            pieces.append(Piece(literal=token))
        elif token == "%%":
            pieces.append(Piece(literal="%"))
        else:
            pieces.extend(_directive(m.group("letter"), m.group("arg"), token, template))
    return _one_time(compiler.merge_literals(pieces))


# A JSON member: "key": "value" or "key": value, the value holding directives (``%{User-Agent}i``: braces)
_JSON_MEMBER = re.compile(
    r'"((?:[^"\\]|\\.)*)"\s*:\s*(?:"((?:[^"\\]|\\.)*)"|((?:%[<>!0-9,]*(?:\{[^}]*\})?[a-zA-Z%]|[^,}\s%"])+))')


def compile_json(template: str, name: str = "json") -> LogFormat:
    """A LogFormat that writes JSON: each key's value, one directive or several with text (``build_json``).

    Apache escapes ``"`` and ``\\`` as JSON does, and other bytes as
    ``\\xhh``, which the decoder reads as nginx's (``parse.fields``). A
    time may be several directives, or text around one (``"[%t]"`` is
    ``%t`` in its brackets): it is read as the one strftime format they
    make. Every line is decoded (no quote split: its pieces would need
    Apache's JSON written to the byte).
    """
    members: list[tuple[str, list[Piece]]] = []
    for m in _JSON_MEMBER.finditer(unescape(template)):
        value = _pieces(m.group(2) if m.group(2) is not None else m.group(3), template)
        piece = _one_field(value)
        if piece is not None or any(p.literal is None for p in value):
            members.append((m.group(1), [piece] if piece is not None else value))
    return compiler.build_json(members, name, template)


def _one_field(pieces: list[Piece]) -> Piece | None:
    """The field a JSON value's pieces fill: one directive alone, or a time with text around it; else None."""
    fields = [p for p in pieces if p.literal is None]
    if len(fields) != 1:
        return None
    piece = fields[0]
    if len(pieces) == 1:
        return piece
    if piece.field != f.TIME or piece.time_kind not in (f.CLF, f.STRFTIME):
        return None
    spec = "".join((p.literal or "").replace("%", "%%") if p.literal is not None
                   else p.time_format or f.CLF_FORMAT for p in pieces)
    return Piece(field=f.TIME, pattern=piece.pattern, time_kind=f.STRFTIME, time_format=spec)


_ESCAPED = {'"': '"', "\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def unescape(template: str) -> str:
    """A LogFormat string as Apache reads it from httpd.conf: ``\\"`` a quote, ``\\t`` a tab, ...

    httpd's config parser takes ``\\"`` and ``\\\\``; mod_log_config then
    ``\\t``, ``\\n`` and ``\\r``. Any other backslash stays, as there. A
    string given already unescaped reads the same, unless it holds a
    backslash of its own (rare: Apache escapes the backslashes it logs).
    """
    return compiler.unbackslash(template, _ESCAPED)


def _directive(letter: str, arg: str | None, token: str, template: str) -> list[Piece]:
    if letter == "t" and arg is None:
        # [10/Oct/2000:13:55:36 -0700]: the brackets are Apache's, not the field's
        return [Piece(literal="["), Piece(field=f.TIME, pattern=r"[^\]]*", time_kind=f.CLF), Piece(literal="]")]
    return [_one(letter, arg, token, template)]


# Directives outside ``_DIRECTIVES`` (they read their {argument}): a cookie, an environment variable, a header,
# a note, a response header, the time (``_directive``, ``_time``), and mod_ssl's %{...}c and %{...}x
_WITH_ARGUMENT = frozenset("Ceinoctx") | {"^ti", "^to"}


def _one(letter: str, arg: str | None, token: str, template: str) -> Piece:
    if letter not in _DIRECTIVES and letter not in _WITH_ARGUMENT:
        # (read as one word, the rest of the line would be cut in the wrong places, and every line be damage)
        raise LogFormatError(f"log format {quoted(template)}: Apache has no directive {token}",
                             f"Apache refuses it too (\"Unrecognized LogFormat directive %{letter}\"): give the "
                             "LogFormat string the server's config holds")
    if letter == "t" and arg is not None:
        return _time(arg, template)
    if letter == "s":
        # %s and %<s are the original status (of a request redirected inside the server), %>s the final one:
        # logtrack wants the final, and takes the original only from a format that logs no final one
        field = f.STATUS if ">" in token or not _logs_final_status(template) else None
        return Piece(field=field, pattern=r"[0-9]{3}")
    if letter == "i" and arg is not None and arg.lower() in _HEADERS:
        known, header_pattern = _HEADERS[arg.lower()]
        return Piece(field=known, pattern=header_pattern)
    if letter == "a" and arg == "c":
        return Piece(pattern=r"\S+")
    if letter == "P" and arg == "hextid":  # the thread's id in hex (7fe6909306c0); pid and tid are decimal
        return Piece(pattern=r"[0-9A-Fa-f]+|-")
    if arg is not None and letter not in "pP":
        # a header, an environment variable, a note, a cookie: Apache escapes no space in them, and writes
        # one that holds nothing as no text at all
        return Piece(pattern=LAZY)
    fld, pattern = _DIRECTIVES.get(letter, (None, r"\S+"))
    return Piece(field=fld, pattern=pattern)


def _logs_final_status(template: str) -> bool:
    return any(m.group("letter") == "s" and ">" in m.group(0) for m in _TOKEN.finditer(unescape(template)))


def _time(arg: str, template: str) -> Piece:
    spec = arg
    for prefix in ("begin:", "end:"):
        spec = spec.removeprefix(prefix)
    # (``%{%s}t``, strftime's seconds since 1970, is ``%{sec}t``: no wall time, whatever the server's zone)
    kinds = {"sec": (f.EPOCH, r"[0-9]+"), "%s": (f.EPOCH, r"[0-9]+"), "msec": (f.EPOCH_MS, r"[0-9]+"),
             "usec": (f.EPOCH_US, r"[0-9]+")}
    if spec in kinds:
        kind, pattern = kinds[spec]
        return Piece(field=f.TIME, pattern=pattern, time_kind=kind)
    if spec in _FRACTIONS:  # the fraction of a second, to go with a time beside it (``_one_time``)
        pattern, directive = _FRACTIONS[spec]
        return Piece(pattern=pattern, time_format=directive)
    if "%" not in spec:
        raise LogFormatError(f"log format {quoted(template)}: cannot read time format %{{{arg}}}t")
    return Piece(field=f.TIME, pattern=strftime_regex(spec), time_kind=f.STRFTIME, time_format=spec)


_FRACTIONS = {"msec_frac": (r"[0-9]{3}", "%3f"), "usec_frac": (r"[0-9]{6}", "%6f")}


def _one_time(pieces: list[Piece]) -> list[Piece]:
    """Time directives next to each other, text between them, as the one time they write together.

    Apache's own manual writes a time with milliseconds as
    ``%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t``: read apart, the time would be
    taken without its offset (as the server's local time, which need not be
    the zone logtrack is told) and the offset left unread. Together they
    are one strftime format (``%3f`` for ``msec_frac``), or ``%{sec}t`` and
    a fraction one epoch.
    """
    out: list[Piece] = []
    i = 0
    while i < len(pieces):
        end = i + 1  # the run is pieces[i:end]
        while _time_part(pieces[i]):
            after = pieces[end: end + 2]  # a time part next, or text and then one
            if after and _time_part(after[0]):
                end += 1
            elif len(after) == 2 and after[0].literal is not None and _time_part(after[1]):
                end += 2
            else:
                break
        joined = _joined_time(pieces[i:end]) if end > i + 1 else None
        out.extend([joined] if joined else pieces[i:end])
        i = end
    return out


def _time_part(piece: Piece) -> bool:
    return piece.literal is None and (piece.time_format is not None or piece.time_kind == f.EPOCH)


def _joined_time(run: list[Piece]) -> Piece | None:
    """The run's directives as one time field; None if they are no time together (fractions alone, ...)."""
    pattern = "".join(compiler.escape(p.literal) if p.literal is not None else p.pattern for p in run)
    parts = [p for p in run if p.literal is None]
    if run[0].time_kind == f.EPOCH:  # %{sec}t.%{msec_frac}t
        fractions = all(p.field is None for p in parts[1:])
        whole = fractions and len(run) == 3 and run[1].literal == "."
        return Piece(field=f.TIME, pattern=pattern, time_kind=f.EPOCH) if whole else None
    if not any(p.time_kind == f.STRFTIME for p in parts):
        return None
    spec = "".join(p.literal.replace("%", "%%") if p.literal is not None else p.time_format or "" for p in run)
    return Piece(field=f.TIME, pattern=pattern, time_kind=f.STRFTIME, time_format=spec)


def strftime_regex(spec: str) -> str:
    out = []
    i = 0
    while i < len(spec):
        if spec[i] == "%" and i + 1 < len(spec):
            out.append(_STRFTIME.get(spec[i + 1], r"\S+"))
            i += 2
        else:
            out.append(re.escape(spec[i]) if spec[i] not in " -/:" else spec[i])
            i += 1
    return "".join(out)
