"""What a report shows: views grouped by period, supplier and listing, from logs or from the state.

Everything is a Polars query on the counts (day, supplier, listing, views)
and the lines per (day, outcome), so a report of years from the state costs
what a report of a day does, and CSV and JSON come from Polars' own writers.
Dates may be written as ``YYYY-MM-DD`` or relative to today (see
``parse_day``); a period names whole days in the reporting time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:
    import polars as pl

BY = ("day", "week", "month", "supplier", "listing")
OTHER = "(Other)"


@dataclass(frozen=True)
class Period:
    since: date | None = None
    until: date | None = None

    def label(self) -> str:
        if self.since is None and self.until is None:
            return "all days"
        return f"{self.since or '…'} to {self.until or '…'}"


def parse_day(text: str, today: date, *, end: bool, flag: str) -> date:
    """``YYYY-MM-DD``; ``today``, ``yesterday``; ``7d`` (7 days before today); ``this-week``,
    ``last-week``, ``this-month``, ``last-month``, ``this-year``: their first day, or with ``end``
    (for --until) their last."""
    word = text.strip().lower()
    found = re.fullmatch(r"(\d+)d", word)
    if found:  # (more days than since year 1: every day there is, not an overflow)
        return today - timedelta(days=min(int(found.group(1)), (today - date.min).days))
    if word in ("today", "yesterday"):
        return today if word == "today" else today - timedelta(days=1)
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    spans = {
        "this-week": (monday, monday + timedelta(days=6)),
        "last-week": (monday - timedelta(days=7), monday - timedelta(days=1)),
        "this-month": (first, _month_end(first)),
        "last-month": (_month_start(first - timedelta(days=1)), first - timedelta(days=1)),
        "this-year": (today.replace(month=1, day=1), today.replace(month=12, day=31)),
    }
    if word in spans:
        return spans[word][1 if end else 0]
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise UsageError(
            f"{flag} {text!r} is not a date",
            "write YYYY-MM-DD, today, yesterday, 7d (7 days before today), this-week, last-week, this-month, "
            "last-month or this-year",
        ) from None


def period(since: str | None, until: str | None, today: date) -> Period:
    """``--since`` and ``--until`` as whole days (either may be left open); a span that ends before it starts
    is a mistake to name, not an empty report to show."""
    first = parse_day(since, today, end=False, flag="--since") if since else None
    last = parse_day(until, today, end=True, flag="--until") if until else None
    if first is not None and last is not None and first > last:
        raise UsageError(f"--since {since!r} ({first}) is after --until {until!r} ({last})",
                         "swap them, or leave one out")
    return Period(first, last)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _month_end(first: date) -> date:
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def parse_by(values: list[str] | None) -> list[str]:
    """``--by day --by supplier`` or ``--by day,supplier``: the grouping, in a fixed order."""
    chosen: list[str] = []
    for value in values or []:
        for part in value.split(","):
            name = part.strip().lower()
            if name not in BY:
                raise UsageError(f"--by {part!r} is not one of {', '.join(BY)}", "e.g. --by week,supplier")
            if name not in chosen:
                chosen.append(name)
    periods = [p for p in chosen if p in ("day", "week", "month")]
    if len(periods) > 1:
        raise UsageError(f"--by {' and '.join(periods)}: choose one period", "e.g. --by week,supplier")
    return sorted(chosen, key=BY.index)


def in_period(frame: pl.DataFrame, period: Period) -> pl.DataFrame:
    import polars as pl

    if period.since is not None:
        frame = frame.filter(pl.col("day") >= period.since)
    if period.until is not None:
        frame = frame.filter(pl.col("day") <= period.until)
    return frame


def period_columns() -> dict[str, pl.Expr]:
    """The period keys of a day: ``week`` is the ISO week's Monday, ``month`` is YYYY-MM."""
    import polars as pl

    return {
        "day": pl.col("day"),
        "week": pl.col("day").dt.truncate("1w"),
        "month": pl.col("day").dt.strftime("%Y-%m"),
    }


def named_supplier() -> pl.Expr:
    """The supplier as a report shows it: "(Other)" for views no rule named (kept as "" in counts and XML)."""
    import polars as pl

    return pl.col("supplier").replace("", OTHER)


def grouped(counts: pl.DataFrame, by: list[str], top: int | None = None) -> pl.DataFrame:
    """Views (and distinct listings) per the ``by`` keys, biggest first within each period.

    With ``top`` and ``listing`` among the keys, only the ``top`` listings
    with the most views over the whole period are kept; without ``listing``,
    the ``top`` rows with the most views.
    """
    import polars as pl

    by = by or ["day", "supplier"]
    # (one lazy query: the supplier's name and the period are worked out inside it, not as columns of a
    # copy of every count; a year's report from its logs held 470 MB more made so, from the state 170 MB)
    frame = counts.lazy().with_columns(supplier=named_supplier(),
                                       **{k: e for k, e in period_columns().items() if k in by and k != "day"})
    if top is not None and "listing" in by:
        best = (frame.group_by("listing").agg(pl.col("views").sum())
                .sort(["views", "listing"], descending=[True, False]).head(top).select("listing"))
        frame = frame.join(best, on="listing", how="semi")
    aggs = [pl.col("views").sum()]
    if "listing" not in by:
        aggs.insert(0, pl.col("listing").n_unique().alias("listings"))
    out = frame.group_by(by).agg(*aggs)
    periods = [k for k in by if k in ("day", "week", "month")]
    out = out.sort([*periods, "views", *[k for k in by if k not in periods]],
                   descending=[False] * len(periods) + [True] + [False] * (len(by) - len(periods)))
    if top is not None and "listing" not in by:
        out = out.sort("views", descending=True, maintain_order=True).head(top)
    return out.with_columns(pl.col(k).cast(pl.String) for k in ("day", "week") if k in by).collect()


# What a spreadsheet takes for a formula (or DDE) at the start of a cell: OWASP's list
_FORMULA_START = r"^[=+\-@\t\r]"


def for_spreadsheets(frame: pl.DataFrame) -> pl.DataFrame:
    """The report's rows for a CSV file: a text cell that starts as a formula starts with a ``'`` instead.

    A listing id is whatever the site's pattern takes from a URL anyone may
    request: with a pattern wider than the default digits, ``/listing/=HYPERLINK(...)``
    makes a cell that Excel or LibreOffice runs as a formula when the office
    opens the report. The quote is how those programs write text that looks
    like one; it shows in the cell, and a script reading the file sees it too
    (JSON keeps every value as it is, for scripts).
    """
    import polars as pl

    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(pl.when(pl.col(c).str.contains(_FORMULA_START)).then(pl.lit("'") + pl.col(c))
                              .otherwise(pl.col(c)).alias(c) for c in text)


def totals(frame: pl.DataFrame) -> dict[str, int]:
    """The sums a totals row shows."""
    return {c: int(frame.get_column(c).sum()) for c in ("listings", "views") if c in frame.columns}
