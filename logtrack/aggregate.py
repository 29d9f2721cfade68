"""Aggregate: views per (day, supplier, listing), and an account of every line.

Batches are reduced as they come (a few thousand rows of counts each) and
summed at the end, so memory depends on the number of distinct
(day, supplier, listing) keys, not on the number of lines.
"""

from __future__ import annotations

import polars as pl

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
                        batch.line)
