"""Why a line is not counted: the words the summary prints, in one place.

Kept free of Polars so that a run with nothing to read never loads it.
"""

from __future__ import annotations

from enum import StrEnum


class Skip(StrEnum):
    """Why a line is not a usable record."""

    INVALID_UTF8 = "invalid UTF-8"
    HOLE = "NUL bytes (lines lost in a crash)"
    BLANK = "blank line"
    NOTICE = "no request: a log header or the server's own message"
    PART = "part of a line the container runtime split (read whole at its last part)"
    HOP = "a CDN's record of its own hop, not a client's request"
    UNPARSABLE = "does not match the log format"
    BAD_TIME = "bad timestamp"
    NO_REQUEST = "request names no page"
    MALFORMED_REQUEST = "malformed request line"


class NotCounted(StrEnum):
    """Why a well-formed line is not a listing view. Checked in this order."""

    COUNTED_BEFORE = "counted before a crash cut the file back"
    NOT_LISTING = "not a listing page"
    VHOST = "virtual host not counted"
    METHOD = "method not counted"
    STATUS = "status not counted"
    BOT = "bot"


# Reasons that mean the log itself is damaged or in another format; --strict
# fails on them. A "-" 408 or a garbage request line is something the server
# really received and logged faithfully, so those are skipped quietly.
DAMAGED = frozenset({Skip.INVALID_UTF8, Skip.HOLE, Skip.UNPARSABLE, Skip.BAD_TIME})


class Outcome(StrEnum):
    """What became of lines, in five words: the report's "lines by outcome" per day.

    A line that names no page (blank, "-", a TLS probe) counts as "not a
    listing page"; "damaged" is what ``--strict`` fails on.
    """

    VIEW = "views"
    NOT_LISTING = "not a listing page"
    BOT = "bots"
    FILTERED = "filtered"
    DAMAGED = "damaged"


def outcome(reason: str | None) -> Outcome:
    """The outcome a line with this reason (None: counted) comes under."""
    if reason is None:
        return Outcome.VIEW
    if reason == NotCounted.BOT:
        return Outcome.BOT
    if reason in (NotCounted.VHOST, NotCounted.METHOD, NotCounted.STATUS, NotCounted.COUNTED_BEFORE):
        return Outcome.FILTERED
    if reason in DAMAGED:
        return Outcome.DAMAGED
    return Outcome.NOT_LISTING
