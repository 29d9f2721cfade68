"""Frozen days posted again (``logtrack state thaw``).

A day is frozen when flexmls must keep what it was sent: a rebuild could
not recount it in full (some of its logs were gone), or posting it would
leave a renamed supplier's old View beside the new one. Nothing posts it
again on its own, since nothing can tell that the missing logs are back;
the person who restored them (and rebuilt with them) can, or one who
accepts the day's counts as they stand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from ..config import Fleet
from ..errors import UsageError, days_listed
from ..state.locate import Location, open_state


@dataclass(frozen=True)
class ThawReport:
    thawed: list[str]
    not_frozen: list[str]  # named, but not frozen: left as they are
    frozen: list[str]  # what stays frozen


def days_named(words: Sequence[str]) -> list[str]:
    """Days as a person names them, each YYYY-MM-DD, and ``A to B`` for every day from A to B (as
    ``days_listed`` writes a run of days, so a list from ``status`` can be given back)."""
    days: list[date] = []
    pending_range = False
    for word in words:
        if word == "to":
            if not days or pending_range:
                raise UsageError("'to' stands between two days, e.g. 2026-11-01 to 2026-11-05")
            pending_range = True
            continue
        try:
            day = date.fromisoformat(word.rstrip(","))
        except ValueError:
            raise UsageError(f"{word!r} is not a day", "write YYYY-MM-DD, e.g. 2026-11-01, or "
                             "2026-11-01 to 2026-11-05") from None
        if pending_range:
            first = days[-1]
            if day < first:
                raise UsageError(f"{first} to {day}: the first day is after the last", "swap them")
            days.extend(first + timedelta(days=n) for n in range(1, (day - first).days + 1))
            pending_range = False
        else:
            days.append(day)
    if pending_range:
        raise UsageError("'to' stands between two days, e.g. 2026-11-01 to 2026-11-05")
    return sorted({d.isoformat() for d in days})


def thaw(location: Location, fleet: Fleet, words: Sequence[str], lock_wait: float = 60.0) -> ThawReport:
    """Unfreeze the days named, under the state's lock; a day not frozen is said, not an error, unless none
    of those named is."""
    days = days_named(words)
    if not days:
        raise UsageError("no day named", "name the frozen days as `logtrack status` lists them")
    with open_state(location, fleet, lock_wait=lock_wait) as state:
        thawed, frozen = state.thaw(days), state.frozen()
    if not thawed:
        raise UsageError(f"{days_listed(days)}: not frozen (frozen days: {days_listed(frozen) or 'none'})",
                         "name the frozen days as `logtrack status` lists them")
    return ThawReport(thawed, [d for d in days if d not in thawed], frozen)
