"""Access lines that went through syslog, each behind the prefix syslog writes before a message.

nginx's ``access_log syslog:server=...`` and Apache's ``CustomLog "|logger
-t apache"`` hand their lines to syslog, which files them behind its own
prefix: ``Nov 29 16:25:14 web1 nginx: `` (the traditional file format, and
journalctl's), ``2026-11-29T16:25:14.123456-06:00 web1 nginx: `` (rsyslog's
RFC 3339 one), with the priority in front (``<190>``) where the datagrams are
written as they came, or RFC 5424's (``<13>1 2026-11-29T16:25:14Z web1 apache
- - - ``, structured data and all). ``syslog:FORMAT`` reads FORMAT's lines behind such a
prefix, which every line must have; the access line's own time is the one
read, not syslog's (which has no year, nor, in the traditional format, a
zone). HAProxy's lines, which may or may not have the prefix, take it as
optional (``OPTIONAL``, ``haproxy``).
"""

from __future__ import annotations

from .model import Piece

PREFIX = "syslog:"

_PRI = r"(?:<[0-9]{1,3}>)?"
RFC3339 = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(?:Z|[+-][0-9]{2}:?[0-9]{2})"
_TIME = rf"(?:[A-Z][a-z]{{2}} [ 0-9][0-9] [0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}|{RFC3339}) "
_SOURCE = r"(?:\S+ )?[A-Za-z0-9_./-]+(?:\[[0-9]+\])?: "  # the host (a file written locally may have none), tag[pid]:
# RFC 5424 (``logger --rfc5424``): <PRI>1 time host app procid msgid, then "-" or [structured data]
_HEADER_5424 = rf'1 {RFC3339} \S+ \S+ \S+ \S+ (?:-|(?:\[(?:[^]"\\]|"(?:[^"\\]|\\.)*")*\])+) '
_RFC5424 = _PRI + _HEADER_5424
ENVELOPE = f"(?:{_PRI}{_TIME}{_SOURCE}|{_RFC5424})"
# HAProxy's own framings (``log ... format FMT``), any of which a file may hold, written by a syslog daemon or
# as HAProxy sent them (stdout, a datagram): rfc3164 "<134>Dec  1 07:33:34 host haproxy[3540]: ", rfc5424
# "<134>1 2026-12-01T07:33:35.475939+00:00 - haproxy 3551 - - ", timed "<6>2026-12-01T07:33:39.457891+00:00 ",
# iso without the priority, short "<6>", priority "<134>", and raw: nothing.
OPTIONAL = rf"{_PRI}(?:{_HEADER_5424}|{RFC3339} |(?:{_TIME})?{_SOURCE})?"


def envelope() -> Piece:
    """The prefix as the first piece of a format: ignored text every line starts with."""
    return Piece(pattern=ENVELOPE)
