"""Log formats: a format string compiled once into a regular expression.

As in apachelogs, a format is an Apache ``LogFormat`` string and each
directive comes from a table (data, not code) that says which field it fills
and what its text looks like. The presets are such strings. The compiled
expression runs in Polars (Rust regex, linear time), whole column at once.

Quoted fields accept both escape styles real servers write: Apache writes a
quote inside a field as ``\\"`` and nginx as ``\\x22``; the quoted-field
expression skips any backslash pair, so a field is never cut at an escaped
quote. Fields appended after a format's last field (nginx's ``main`` format
adds ``"$http_x_forwarded_for"``) are accepted and ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import LogFormatError

# Fields the rest of logtrack reads. Anything else a format logs is ignored.
TIME = "time"  # CLF timestamp, e.g. 10/Oct/2000:13:55:36 -0700
REQUEST = "request"
STATUS = "status"
REFERRER = "referrer"
USER_AGENT = "user_agent"
VHOST = "vhost"
CLIENT = "client"

QUOTED = r'(?:[^"\\]|\\.)*'

# directive -> (field or None, unquoted expression). Client fields are lazy so
# that an X-Forwarded-For list ("10.0.0.2, 10.0.0.1") or a quoted list in the
# client position still leaves the rest of the line to the fields after it.
LAZY_CLIENT = r".+?"
_DIRECTIVES: dict[str, tuple[str | None, str]] = {
    "h": (CLIENT, LAZY_CLIENT),
    "a": (CLIENT, LAZY_CLIENT),
    "{c}a": (None, r"\S+"),
    "A": (None, r"\S+"),
    "l": (None, r"\S+"),
    "u": (None, r"\S+"),
    "t": (TIME, r"\[(?P<{name}>[^\]]*)\]"),  # str.format fills {name}
    "r": (REQUEST, QUOTED),
    ">s": (STATUS, r"[0-9]{3}"),
    "s": (STATUS, r"[0-9]{3}"),
    "<s": (None, r"[0-9]{3}"),
    "b": (None, r"-|[0-9]+"),
    "B": (None, r"[0-9]+"),
    "O": (None, r"-|[0-9]+"),
    "I": (None, r"-|[0-9]+"),
    "S": (None, r"-|[0-9]+"),
    "D": (None, r"-?[0-9]+"),
    "T": (None, r"-?[0-9]+"),
    "v": (VHOST, r"\S+?"),
    "V": (VHOST, r"\S+?"),
    "p": (None, r"[0-9]+|-"),
    "{Referer}i": (REFERRER, r"\S+"),
    "{User-Agent}i": (USER_AGENT, r"\S+"),
    "{Host}i": (VHOST, r"\S+?"),
}

PRESETS: dict[str, str] = {
    "vhost_combined": '%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"',
    "combined": '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"',
    "common": '%h %l %u %t "%r" %>s %b',
}

_TOKEN = re.compile(r"%[<>]?(?:\{[^}]*\})?[a-zA-Z%]|[^%]+|%")


@dataclass(frozen=True)
class LogFormat:
    """A compiled format: its name, source string, and whole-line regex."""

    name: str
    template: str
    regex: str
    fields: tuple[str, ...]
    # The same with client fields as one token: three times faster, and it
    # captures exactly what ``regex`` does wherever it matches (a lazy client
    # cannot end before the first space). Lines it misses get ``regex``.
    fast_regex: str

    @property
    def has_user_agent(self) -> bool:
        return USER_AGENT in self.fields


def get(name_or_template: str) -> LogFormat:
    """A preset by name, or an Apache LogFormat string compiled on the spot."""
    if name_or_template in PRESETS:
        return compile_format(PRESETS[name_or_template], name_or_template)
    if "%" not in name_or_template:
        raise LogFormatError(
            f"unknown log format {name_or_template!r}",
            f"use one of {', '.join(['auto', *PRESETS])} or an Apache LogFormat string",
        )
    return compile_format(name_or_template, "custom")


def compile_format(template: str, name: str = "custom") -> LogFormat:
    """Compile an Apache LogFormat string; ``\\"`` as written in httpd.conf is accepted."""
    tokens = _TOKEN.findall(template.replace('\\"', '"'))
    parts: list[str] = ["^"]
    fields: list[str] = []
    # The line's end. Fields appended after the format's last one are ignored.
    tail = r"(?:\s.*)?$"
    if len(tokens) > 1 and tokens[-1] == '"' and _is_directive(tokens[-2]):
        # A line cut short inside its last quoted field (seen in real logs,
        # inside a long user agent) still has every field logtrack needs.
        tokens = tokens[:-1]
        tail = r'(?:"(?:\s.*)?)?$'
    for i, tok in enumerate(tokens):
        if not _is_directive(tok):
            parts.append("%" if tok == "%%" else re.escape(tok))
            continue
        field, expr = _DIRECTIVES.get(tok[1:], (None, r"\S+"))
        if field == TIME:
            parts.append(expr.format(name=TIME) if TIME not in fields else r"\[[^\]]*\]")
            fields.append(TIME)
            continue
        if i > 0 and tokens[i - 1].endswith('"'):
            expr = QUOTED
        if field is not None and field not in fields:
            parts.append(f"(?P<{field}>{expr})")
            fields.append(field)
        else:
            parts.append(f"(?:{expr})")
    parts.append(tail)
    missing = [f for f in (TIME, REQUEST, STATUS) if f not in fields]
    if missing:
        raise LogFormatError(
            f"log format {template!r} logs no {', '.join(missing)}",
            "a format must contain %t, %r and %>s (or %s) to count views",
        )
    regex = "".join(parts)
    fast = regex.replace(f"(?P<{CLIENT}>{LAZY_CLIENT})", rf"(?P<{CLIENT}>\S+)")
    return LogFormat(name, template, regex, tuple(fields), fast)


def _is_directive(token: str) -> bool:
    return token.startswith("%") and token not in ("%", "%%")
