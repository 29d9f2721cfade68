"""Aggregate: views per (day, supplier, listing), and an account of every line.

Batches are reduced as they come (a few thousand rows of counts each) and
summed at the end, so memory depends on the number of distinct
(day, supplier, listing) keys, not on the number of lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from .parse import DAMAGED

KEYS = ["day", "supplier", "listing"]
COUNTS_SCHEMA = {"day": pl.Date, "supplier": pl.String, "listing": pl.String, "views": pl.Int64}


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


@dataclass(frozen=True)
class Example:
    """The first line that got a reason, so messages can point at it."""

    source: str
    line_no: int
    line: str


@dataclass(frozen=True)
class BatchSummary:
    """What one batch contributes: small enough to keep while others are worked on."""

    source: str
    lines: int
    counts: pl.DataFrame
    reasons: list[tuple[str, int, int, str]]  # reason, lines, first line_no, first line


def summarize(source: str, df: pl.DataFrame, timezone: str | None) -> BatchSummary:
    by_reason = (
        df.filter(pl.col("reason").is_not_null())
        .group_by("reason")
        .agg(n=pl.len(), line_no=pl.col("line_no").first(), line=pl.col("line").first())
        .sort("line_no")
    )
    return BatchSummary(source, df.height, count_views(df, timezone), list(by_reason.iter_rows()))


@dataclass
class Tally:
    """Running totals for a run: counts per key, lines per reason, first examples."""

    lines: int = 0
    counted: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    examples: dict[str, Example] = field(default_factory=dict)
    _parts: list[pl.DataFrame] = field(default_factory=list)

    def add(self, part: BatchSummary) -> None:
        """Fold in a batch; batches must come in file order for the examples."""
        self.lines += part.lines
        self.counted += int(part.counts.get_column("views").sum())
        self._parts.append(part.counts)
        if len(self._parts) >= 16:
            self._parts = [self._merge()]
        for reason, n, line_no, line in part.reasons:
            self.reasons[reason] = self.reasons.get(reason, 0) + n
            if reason not in self.examples:
                self.examples[reason] = Example(part.source, line_no, line)

    def _merge(self) -> pl.DataFrame:
        if not self._parts:
            return pl.DataFrame(schema=COUNTS_SCHEMA)
        return pl.concat(self._parts).group_by(KEYS).agg(views=pl.col("views").sum())

    def counts(self) -> pl.DataFrame:
        """Views per (day, supplier, listing), sorted as the XML lists them."""
        return self._merge().sort(KEYS).select(list(COUNTS_SCHEMA))

    @property
    def damaged(self) -> int:
        return sum(n for r, n in self.reasons.items() if r in DAMAGED)
