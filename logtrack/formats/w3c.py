"""W3C extended logs (IIS, CloudFront standard logs): the format is the file's own ``#Fields:`` header.

A W3C log says its fields in a directive line, ``#Fields: date time c-ip
cs-method cs-uri-stem ...``, and may say it again with other fields further
down (IIS does, when its logging settings change while it runs). Each
header compiles into a format by the one compiler (``compiler.build``), and
``read.w3c_sections.follow`` cuts a file's batches at every header so that
the lines after it are read by its fields. Directive lines (``#Version:``, ``#Date:``...)
are skipped by their own reason.

What logtrack reads, by W3C field name:

- ``date`` and ``time`` (next to each other): the time, in UTC, as both
  IIS and CloudFront write it;
- ``cs-method``; ``cs-uri-stem`` and ``cs-uri-query`` (or ``cs-uri``);
  ``sc-status``;
- ``cs(Referer)``, ``cs(User-Agent)``; ``x-host-header`` (CloudFront: the
  Host the viewer asked for), else ``cs-host`` / ``cs(Host)``; ``c-ip``.

Values are separated by a space (IIS, which writes a space inside a value
as ``+``) or a tab (CloudFront, which percent-encodes its agents and
referrers); both are decoded. ``w3c`` alone reads IIS's default fields
until a header says otherwise; ``cloudfront``, CloudFront's standard
fields, tab-separated.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..errors import LogFormatError
from . import compiler
from . import model as f
from .model import LogFormat, Piece

W3C = "w3c"
CLOUDFRONT = "cloudfront"
NAMES = (W3C, CLOUDFRONT)
HEADER = "#Fields:"
TIME_OF_DAY = "time_of_day"  # the ``time`` column, joined to ``date`` into the time field

IIS_FIELDS = ("date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) "
              "cs(Referer) sc-status sc-substatus sc-win32-status time-taken")
CLOUDFRONT_FIELDS = (
    "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) "
    "cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken "
    "x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status "
    "fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len "
    "sc-range-start sc-range-end")

# lower-cased W3C field -> logtrack's field
_FIELDS = {
    "cs-method": f.METHOD, "cs-uri-stem": f.PATH, "cs-uri-query": f.QUERY, "cs-uri": f.TARGET,
    "sc-status": f.STATUS, "cs(referer)": f.REFERRER, "cs(referrer)": f.REFERRER, "cs(user-agent)": f.USER_AGENT,
    "x-host-header": f.VHOST, "cs-host": f.VHOST, "cs(host)": f.VHOST, "c-ip": f.CLIENT,
}
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TIME = r"[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"


def get(spec: str) -> LogFormat:
    if spec == W3C:
        return compile_fields(IIS_FIELDS, " ", W3C)
    if spec == CLOUDFRONT:
        return compile_fields(CLOUDFRONT_FIELDS, "\t", CLOUDFRONT)
    raise LogFormatError(f"unknown log format {spec!r}", "use w3c or cloudfront")


def compile_fields(fields: str, separator: str, name: str = W3C) -> LogFormat:
    """The format a ``#Fields:`` header's list says, its values between ``separator``s."""
    names = fields.split()
    low = [n.lower() for n in names]
    if "time" in low and "date" not in low:
        raise LogFormatError(f"W3C fields {fields!r} log the time of day without the date",
                             "add the date field to the server's logging settings")
    value = r"[^\t]+" if separator == "\t" else r"\S+"
    # CloudFront's cs(Host) is its own domain; x-host-header is the site's.
    shadowed = {"cs(host)", "cs-host"} if "x-host-header" in low else set()
    pieces: list[Piece] = []
    columns: list[str | None] = []
    fields_seen: list[str] = []
    i = 0
    while i < len(low):
        if pieces:
            pieces.append(Piece(literal=separator))
        if low[i] == "date" and i + 1 < len(low) and low[i + 1] == "time":
            pieces.append(Piece(field=f.TIME, pattern=_DATE + re.escape(separator) + _TIME, time_kind=f.UTC_WALL,
                                time_format="%Y-%m-%d" + separator + "%H:%M:%S%.f"))
            first = compiler.claims(pieces[-1], fields_seen)
            columns += [f.TIME if first else None, TIME_OF_DAY if first else None]
            i += 2
            continue
        if low[i] in ("date", "time"):
            raise LogFormatError(f"W3C fields {fields!r}: date and time are apart",
                                 "log them next to each other, date first, as IIS and CloudFront do")
        field = None if low[i] in shadowed else _FIELDS.get(low[i])
        pieces.append(Piece(field=field, pattern=value))
        columns.append(field if compiler.claims(pieces[-1], fields_seen) else None)
        i += 1
    fmt = compiler.build(pieces, name, HEADER + " " + fields, tail="$")
    encoding = "url" if separator == "\t" else "plus"
    encoded: dict[str, str] = {field: encoding for field in (f.USER_AGENT, f.REFERRER) if field in fmt.fields}
    return replace(fmt, encoded=encoded, w3c_separator=separator, notice=r"^#[A-Za-z-]+:", columns=tuple(columns))


def from_header(line: str, following: str, current: LogFormat) -> LogFormat:
    """The format a ``#Fields:`` line sets; its separator from the line after it (a tab: CloudFront)."""
    separator = current.w3c_separator or " "
    if following and not following.startswith("#"):
        separator = "\t" if "\t" in following else " "
    name = current.name if separator == current.w3c_separator else (CLOUDFRONT if separator == "\t" else W3C)
    try:
        return compile_fields(line[len(HEADER):].strip(), separator, name)
    except LogFormatError as exc:
        raise LogFormatError(f"{exc.message} (a {HEADER} line)", exc.fix) from None
