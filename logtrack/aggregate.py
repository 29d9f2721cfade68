"""Aggregate: views per (day, supplier, listing), and an account of every line.

Batches are reduced as they come (a few thousand rows of counts each) and
summed at the end, so memory depends on the number of distinct
(day, supplier, listing) keys, not on the number of lines.
"""

from __future__ import annotations

import polars as pl

from .reasons import NotCounted, Outcome, Skip, outcome
from .sources import Batch
from .tally import KEYS, BatchSummary


def day_expr(timezone: str | None) -> pl.Expr:
    """The reporting day of each line.

    With a time zone, the instant is converted to it; without one, the day is
    the wall-clock date the server wrote, in the line's own UTC offset.
    """
    if timezone is None:
        return pl.col("local_day")
    return pl.col("ts").dt.convert_time_zone(timezone).dt.date()


def count_views(df: pl.DataFrame, timezone: str | None) -> pl.DataFrame:
    """Counted rows (those without a reason) -> views per key."""
    return (
        df.lazy()
        .filter(pl.col("reason").is_null())
        .select(day_expr(timezone).alias("day"), "supplier", "listing")
        .group_by(KEYS)
        .agg(views=pl.len().cast(pl.Int64))
        # Strings sliced from the batch are views that keep the whole batch's
        # text alive; fresh copies let it go, so memory stays flat.
        .with_columns(supplier=pl.col("supplier") + "", listing=pl.col("listing") + "")
        .collect()
    )


def summarize(batch: Batch, candidates: pl.DataFrame, rest: pl.DataFrame, timezone: str | None) -> BatchSummary:
    """A classified batch -> its counts, and lines per reason with the first of each.

    Only the first line of each reason in the whole run is shown, so the
    summary keeps indices and the tally fetches just those lines' text.
    """
    groups, outcomes = outcomes_per_day(candidates, rest, timezone)
    by_reason = (
        groups.filter(pl.col("reason").is_not_null())
        .group_by("reason")
        .agg(n=pl.col("len").sum(), idx=pl.col("first").min())
        .sort("idx")
    )
    reasons = [(reason, n, batch.first_line + idx, idx) for reason, n, idx in by_reason.iter_rows()]
    return BatchSummary(batch.source, candidates.height + rest.height, count_views(candidates, timezone), reasons,
                        batch.line, outcomes=outcomes)


def outcomes_per_day(candidates: pl.DataFrame, rest: pl.DataFrame,
                     timezone: str | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Lines per (quarter hour, reason) with the first of each, and per (day, outcome).

    The second is so that a report shows a log going bad on the day it did;
    the first serves the summary's reasons too, from one pass over the batch.

    A line without a readable time (a damaged one) takes the day of the
    line before it (or after it, at a batch's start). Lines are counted per
    (quarter hour, reason) first, and days and outcomes worked out on those
    few groups: every UTC offset in use is a multiple of 15 minutes.
    """
    key = pl.col("local_day") if timezone is None else pl.col("ts").dt.epoch("s") // _QUARTER
    frame = pl.concat([candidates.select("idx", "reason", _key=key), rest.select("idx", "reason", _key=key)])
    groups = frame.group_by("_key", "reason").agg(pl.len(), first=pl.col("idx").min())
    lost = groups.filter(pl.col("_key").is_null())
    if lost.height:  # lines without a time: the key of the line before them (after, at the start)
        known = frame.filter(pl.col("_key").is_not_null()).select("idx", "_key").sort("idx")
        timeless = frame.filter(pl.col("_key").is_null()).select("idx", "reason").sort("idx")
        if known.height:
            timeless = timeless.join_asof(known, on="idx", strategy="backward").with_columns(
                pl.col("_key").fill_null(known.get_column("_key")[0]))
        else:
            timeless = timeless.with_columns(_key=pl.lit(None, dtype=frame.schema["_key"]))
        groups = pl.concat([groups.filter(pl.col("_key").is_not_null()),
                            timeless.group_by("_key", "reason").agg(pl.len(), first=pl.col("idx").min())],
                           how="vertical_relaxed")
    if timezone is None:
        day = pl.col("_key")
    else:
        day = (pl.col("_key") * _QUARTER).cast(pl.Int64).mul(1_000_000).cast(pl.Datetime("us", "UTC")) \
            .dt.convert_time_zone(timezone).dt.date()
    outcome = pl.when(pl.col("reason").is_null()).then(pl.lit(Outcome.VIEW.value)).otherwise(
        pl.col("reason").replace_strict(_OUTCOMES, default=Outcome.NOT_LISTING.value, return_dtype=pl.String))
    per_day = groups.lazy().group_by(day=day, outcome=outcome).agg(lines=pl.col("len").sum().cast(pl.Int64))
    return groups, per_day.collect()


_QUARTER = 900  # seconds

_OUTCOMES = {r.value: outcome(r.value).value for r in [*NotCounted, *Skip]}
