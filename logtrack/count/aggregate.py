"""Aggregate: views per (day, supplier, listing), and an account of every line.

Batches are reduced as they come (a few thousand rows of counts each) and
summed at the end, so memory depends on the number of distinct
(day, supplier, listing) keys, not on the number of lines.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import polars as pl

from .. import frames
from ..read.sources import Batch, line_of
from ..verdicts.reasons import NotCounted, Outcome, Skip, outcome
from .tally import KEYS, BatchSummary


def day_expr(timezone: str | None) -> pl.Expr:
    """The reporting day of each line.

    With a time zone, the instant is converted to it; without one, the day is
    the wall-clock date the server wrote, in the line's own UTC offset.
    """
    if timezone is None:
        return pl.col("local_day")
    return pl.col("ts").dt.convert_time_zone(timezone).dt.date()


def count_views(df: pl.DataFrame | pl.LazyFrame, timezone: str | None, *, per_file: bool = False) -> pl.LazyFrame:
    """Counted rows (those without a reason) -> views per key (lazy); ``per_file``: per file (``_file``) and key."""
    by = ["_file"] if per_file else []
    return (
        df.lazy()
        .filter(pl.col("reason").is_null())
        .select(*by, day_expr(timezone).alias("day"), "supplier", "listing")
        .group_by([*by, *KEYS])
        .agg(views=pl.len().cast(pl.Int64))
        # Strings sliced from the batch are views that keep the whole batch's
        # text alive; fresh copies let it go, so memory stays flat.
        .with_columns(supplier=pl.col("supplier") + "", listing=pl.col("listing") + "")
    )


def line_key(timezone: str | None) -> pl.Expr:
    """What a line's outcome is grouped by: its server date, or (with a time zone) its quarter hour.

    Every UTC offset in use is a multiple of 15 minutes, so the day in the
    reporting time zone is worked out on the few quarter hours, not per line.
    """
    return pl.col("local_day") if timezone is None else pl.col("ts").dt.epoch("s") // _QUARTER


def groups_of(lf: pl.LazyFrame | pl.DataFrame, timezone: str | None, *, per_file: bool = False) -> pl.LazyFrame:
    """Lines per (key, reason): how many, the first one's index, and the latest time among them.

    ``per_file`` (files counted as one batch, each line's ``_file``:
    ``summarize_files``): per (file, key, reason).
    """
    by = ["_file"] if per_file else []
    return lf.lazy().group_by(*by, line_key(timezone).alias("_key"), "reason").agg(
        len=pl.len(), first=pl.col("idx").min(), last_ts=pl.col("ts").dt.epoch("us").max())


def summary_plans(groups: pl.LazyFrame, timezone: str | None, *, per_file: bool = False) -> list[pl.LazyFrame]:
    """What ``summarize`` reads of a batch's groups, as plans to collect in the same go as the groups.

    Lines per (day, outcome) (right when every line has a time: ``timeless``
    says how many groups have none), lines per reason with the first line's
    index, and the totals; ``per_file`` (groups by file: ``groups_of``'s
    ``per_file``), the last two per file.
    """
    by = ["_file"] if per_file else []
    by_reason = (groups.filter(pl.col("reason").is_not_null()).group_by(*by, "reason")
                 .agg(n=pl.col("len").sum(), idx=pl.col("first").min()).sort("idx"))
    sums = {"lines": pl.col("len").sum(), "last_ts": pl.col("last_ts").max(), "timeless": pl.col("_key").null_count()}
    totals = groups.group_by("_file").agg(**sums).sort("_file") if per_file else groups.select(**sums)
    return [_per_day(groups, timezone, per_file=per_file), by_reason, totals]


def summarize(batch: Batch, groups: pl.DataFrame, counts: pl.DataFrame, timezone: str | None,
              line_keys: Callable[[], pl.DataFrame], plans: list[pl.DataFrame]) -> BatchSummary:
    """A judged batch's groups and counts -> its summary: lines per reason with the first of each.

    Only the first line of each reason in the whole run is shown, so the
    summary keeps indices and the tally fetches just those lines' text.
    ``line_keys`` gives every line's (``idx``, ``_key``): asked only when
    some line has no time (see ``outcomes_per_day``). ``plans``: what
    ``summary_plans`` gave, collected with the groups.
    """
    outcomes, by_reason, totals = plans
    if totals.item(0, "timeless"):
        groups, outcomes = outcomes_per_day(groups, timezone, line_keys)
    reasons = [(reason, n, batch.first_line + idx, idx) for reason, n, idx in by_reason.iter_rows()]
    last_ts = totals.item(0, "last_ts")
    return BatchSummary(batch.source, int(totals.item(0, "lines")), counts, reasons,
                        functools.partial(line_of, batch.data),
                        last_ts=None if last_ts is None else int(last_ts), outcomes=outcomes)


def summarize_files(parts: Sequence[Batch], starts: Sequence[int], data: bytes, groups: pl.DataFrame,
                    counts: pl.DataFrame, timezone: str | None, line_keys: Callable[[], pl.DataFrame],
                    plans: list[pl.DataFrame]) -> list[BatchSummary]:
    """``summarize`` for whole files counted as one batch (``data``, their lines joined): one summary a file.

    Each file's lines, reasons (numbered by its own lines), first lines of
    each reason, latest time, counts and lines per (day, outcome) are its
    own, as if it had been counted on its own: ``run`` commits each with its
    file's read position. Groups, counts and plans are per file
    (``groups_of``', ``count_views``' and ``summary_plans``' ``per_file``).
    """
    outcomes, by_reason, totals = plans
    if totals.get_column("timeless").sum():
        groups, outcomes = outcomes_per_day(groups, timezone, line_keys)
    reasons: dict[int, list[tuple[str, int, int, int]]] = {}
    for file, reason, n, idx in by_reason.iter_rows():
        reasons.setdefault(file, []).append((reason, n, parts[file].first_line + idx - starts[file], idx))
    made = {file: (int(lines), last_ts) for file, lines, last_ts, _ in totals.iter_rows()}
    counted, lines_per_day = (_by_file(frame) for frame in (counts, outcomes))
    no_counts, no_outcomes = counts.clear().drop("_file"), outcomes.clear().drop("_file")  # (once, not a file)
    text = functools.partial(line_of, data)
    summaries = []
    for file, part in enumerate(parts):
        lines, last_ts = made[file]
        summaries.append(BatchSummary(
            part.source, lines, counted.get(file, no_counts), reasons.get(file, []), text,
            last_ts=None if last_ts is None else int(last_ts), outcomes=lines_per_day.get(file, no_outcomes)))
    return summaries


def _by_file(frame: pl.DataFrame) -> dict[int, pl.DataFrame]:
    """A frame of several files' rows (``_file``) as each file's, without that column (one operation for
    them all: a ``drop`` a file was a fifth of a group's time over 2,000 files of 500 lines)."""
    return {file: part for (file,), part in frame.partition_by("_file", as_dict=True, include_key=False).items()}


def outcomes_per_day(groups: pl.DataFrame, timezone: str | None,
                     line_keys: Callable[[], pl.DataFrame]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The groups with every line given a key, and lines per (day, outcome).

    The second is so that a report shows a log going bad on the day it did.
    A line without a readable time (a damaged one) takes the key of the
    line before it (or after it, at a batch's start).
    """
    lost = groups.filter(pl.col("_key").is_null())
    if lost.height:  # lines without a time: the key of the line before them (after, at the start)
        frame = line_keys()
        by = ["_file"] if "_file" in frame.columns else []  # (files counted as one batch: each on its own)
        known = frame.filter(pl.col("_key").is_not_null()).select(*by, "idx", "_key").sort("idx")
        timeless = frame.filter(pl.col("_key").is_null()).select(*by, "idx", "reason").sort("idx")
        if known.height:
            # (both sorted by idx above: within each file too)
            before, after = (timeless.join_asof(known, on="idx", by=by or None, strategy=strategy,
                                                check_sortedness=False).get_column("_key")
                             for strategy in ("backward", "forward"))
            timeless = timeless.with_columns(_key=before.fill_null(after))
        else:
            timeless = timeless.with_columns(_key=pl.lit(None, dtype=frame.schema["_key"]))
        found = timeless.group_by(*by, "_key", "reason").agg(pl.len(), first=pl.col("idx").min(),
                                                            last_ts=pl.lit(None, dtype=pl.Int64))
        groups = pl.concat([groups.filter(pl.col("_key").is_not_null()), found], how="vertical_relaxed")
    return groups, frames.collect(_per_day(groups.lazy(), timezone, per_file="_file" in groups.columns))


def _per_day(groups: pl.LazyFrame, timezone: str | None, *, per_file: bool = False) -> pl.LazyFrame:
    """Lines per (day, outcome) of groups (``per_file``: per file, day and outcome)."""
    if timezone is None:
        day = pl.col("_key")
    else:
        day = (pl.col("_key") * _QUARTER).cast(pl.Int64).mul(1_000_000).cast(pl.Datetime("us", "UTC")) \
            .dt.convert_time_zone(timezone).dt.date()
    outcome = pl.when(pl.col("reason").is_null()).then(pl.lit(Outcome.VIEW.value)).otherwise(
        pl.col("reason").replace_strict(_OUTCOMES, default=Outcome.NOT_LISTING.value, return_dtype=pl.String))
    by = ["_file"] if per_file else []
    return groups.group_by(*by, day.alias("day"), outcome.alias("outcome")).agg(
        lines=pl.col("len").sum().cast(pl.Int64))


_QUARTER = 900  # seconds

_OUTCOMES = {r.value: outcome(r.value).value for r in [*NotCounted, *Skip]}
