"""Aggregate: views per (day, supplier, listing), and an account of every line.

Batches are reduced as they come (a few thousand rows of counts each) and
summed at the end, so memory depends on the number of distinct
(day, supplier, listing) keys, not on the number of lines.
"""

from __future__ import annotations

import polars as pl

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


def summarize(source: str, df: pl.DataFrame, timezone: str | None) -> BatchSummary:
    by_reason = (
        df.filter(pl.col("reason").is_not_null())
        .group_by("reason")
        .agg(n=pl.len(), line_no=pl.col("line_no").first(), line=pl.col("line").first())
        .sort("line_no")
    )
    return BatchSummary(source, df.height, count_views(df, timezone), list(by_reason.iter_rows()))
