"""A run's tally sums its batches' counts in two levels; whatever the batches' sizes, the total is exact."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

import polars as pl
import pytest

from logtrack.count import tally
from logtrack.count.tally import BatchSummary, Tally


def _summary(rows: list[tuple[date, str, str, int]]) -> BatchSummary:
    counts = pl.DataFrame(rows, schema={"day": pl.Date, "supplier": pl.String, "listing": pl.String,
                                        "views": pl.Int64}, orient="row")
    return BatchSummary("f.log", sum(r[3] for r in rows), counts, [], lambda idx: "")


@pytest.mark.parametrize(("batches", "rows_each", "part_rows", "days"), [
    (5000, 3, 50_000, 3),  # a directory of small files: summed once 4,096 pile up, and at the end
    (300, 40, 500, 3),  # 16 at a time once they hold 500 rows; a day's sums summed again when 8 pile up
    (40, 2000, 50_000, 3),  # a large file's batches: every 16
    (1, 0, 50_000, 3),  # nothing counted
    (400, 60, 300, 90),  # a season of daily logs: each batch of a day or three, in time order (below)
])
def test_the_total_is_every_batch_summed(monkeypatch, batches: int, rows_each: int, part_rows: int,
                                         days: int) -> None:
    """Exact whatever the days: kept by day, summed at the end a few days at a time (``SUM_ROWS``)."""
    monkeypatch.setattr(tally, "PART_ROWS", part_rows)
    monkeypatch.setattr(tally, "SUM_ROWS", 1_000)
    rng = random.Random(batches)
    want: Counter[tuple[date, str, str]] = Counter()
    run = Tally()
    for n in range(batches):
        first = 1 + n * (days - 2) // batches  # (the days move on as a log's do, a batch reaching a day or two on)
        rows = [(date(2026, 1, 1) + timedelta(days=rng.randint(first, first + 2) - 1), rng.choice(["", "Zillow"]),
                 str(rng.randint(1, 500)), rng.randint(1, 4)) for _ in range(rows_each)]
        summed: Counter[tuple[date, str, str]] = Counter()
        for day, supplier, listing, views in rows:
            summed[(day, supplier, listing)] += views
        want.update(summed)
        run.add(_summary([(*key, views) for key, views in summed.items()]))
    got = run.counts()
    assert {(d, s, listing): v for d, s, listing, v in got.iter_rows()} == dict(want)
    assert got.select("day", "supplier", "listing").rows() == sorted(want)  # in key order, as the XML lists them
    assert run.counted == sum(want.values())


def _tally_of(rows: list[tuple[date, str, str, int]]) -> Tally:
    run = Tally()
    run.add(_summary(rows))
    return run


def test_counts_asked_again_or_added_to_after_are_the_whole_total(monkeypatch) -> None:
    """``counts`` lets go of the sums as it makes the total, and keeps the total: asked twice, or with batches
    added after it, or folded into another tally, it still holds every view once."""
    monkeypatch.setattr(tally, "SUM_ROWS", 1)
    d1, d2, d3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)
    run = _tally_of([(d2, "", "7", 1), (d1, "Zillow", "7", 2)])
    first = run.counts()
    assert first.rows() == [(d1, "Zillow", "7", 2), (d2, "", "7", 1)]
    assert run.counts().rows() == first.rows()
    run.add(_summary([(d2, "", "7", 3), (d3, "", "8", 1)]))
    assert run.counts().rows() == [(d1, "Zillow", "7", 2), (d2, "", "7", 4), (d3, "", "8", 1)]
    other = _tally_of([(d1, "Zillow", "7", 5)])
    other.merge(run)
    assert other.counts().rows() == [(d1, "Zillow", "7", 7), (d2, "", "7", 4), (d3, "", "8", 1)]
    assert other.counted == 12
