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
    by_reason = (
        pl.concat([candidates.select("reason", "idx"), rest.select("reason", "idx")])
        .filter(pl.col("reason").is_not_null())
        .group_by("reason")
        .agg(n=pl.len(), idx=pl.col("idx").min())
        .sort("idx")
    )
    reasons = [(reason, n, batch.first_line + idx, idx) for reason, n, idx in by_reason.iter_rows()]
    return BatchSummary(batch.source, candidates.height + rest.height, count_views(candidates, timezone), reasons,
                        batch.line, outcomes=outcomes_per_day(candidates, rest, timezone))


UNKNOWN_DAY = None  # a batch whose lines carry no readable time at all


def outcomes_per_day(candidates: pl.DataFrame, rest: pl.DataFrame, timezone: str | None) -> pl.DataFrame:
    """Lines per (day, outcome), so that a report shows a log going bad on the day it did.

    A line without a readable time (a damaged one) takes the day of the
    line before it (or after it, at a batch's start). Days are worked out
    once per quarter hour, not once per line: every UTC offset in use is a
    multiple of 15 minutes.
    """
    columns = ["idx", "reason", "ts", "local_day"]
    lines = pl.concat([candidates.select(columns), rest.select(columns)]).lazy().sort("idx")
    lines = lines.with_columns(
        outcome=pl.when(pl.col("reason").is_null()).then(pl.lit(Outcome.VIEW.value)).otherwise(
            pl.col("reason").replace_strict(_OUTCOMES, default=Outcome.NOT_LISTING.value, return_dtype=pl.String)),
    )
    if timezone is None:
        per = lines.group_by(day=pl.col("local_day").forward_fill().backward_fill(), outcome="outcome").len()
    else:
        quarter = pl.col("ts").forward_fill().backward_fill().dt.truncate("15m")
        per = (
            lines.group_by(_q=quarter, outcome="outcome").len()
            .with_columns(day=pl.col("_q").dt.convert_time_zone(timezone).dt.date())
            .group_by("day", "outcome").agg(pl.col("len").sum())
        )
    return per.select("day", "outcome", lines=pl.col("len").cast(pl.Int64)).collect()


_OUTCOMES = {r.value: outcome(r.value).value for r in [*NotCounted, *Skip]}
