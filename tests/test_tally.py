"""A run's tally sums its batches' counts in two levels; whatever the batches' sizes, the total is exact."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

import polars as pl
import pytest

from logtrack.count import tally
from logtrack.count.tally import BatchSummary, Tally


def _summary(rows: list[tuple[date, str, str, int]]) -> BatchSummary:
    counts = pl.DataFrame(rows, schema={"day": pl.Date, "supplier": pl.String, "listing": pl.String,
                                        "views": pl.Int64}, orient="row")
    return BatchSummary("f.log", sum(r[3] for r in rows), counts, [], lambda idx: "")


@pytest.mark.parametrize(("batches", "rows_each", "part_rows"), [
    (5000, 3, 50_000),  # a directory of small files: summed once 4,096 pile up, and at the end
    (300, 40, 500),  # 16 at a time once they hold 500 rows; the sums summed again when 8 pile up
    (40, 2000, 50_000),  # a large file's batches: every 16
    (1, 0, 50_000),  # nothing counted
])
def test_the_total_is_every_batch_summed(monkeypatch, batches: int, rows_each: int, part_rows: int) -> None:
    monkeypatch.setattr(tally, "PART_ROWS", part_rows)
    rng = random.Random(batches)
    want: Counter[tuple[date, str, str]] = Counter()
    run = Tally()
    for _ in range(batches):
        rows = [(date(2026, 11, rng.randint(1, 3)), rng.choice(["", "Zillow"]), str(rng.randint(1, 500)),
                 rng.randint(1, 4)) for _ in range(rows_each)]
        summed: Counter[tuple[date, str, str]] = Counter()
        for day, supplier, listing, views in rows:
            summed[(day, supplier, listing)] += views
        want.update(summed)
        run.add(_summary([(*key, views) for key, views in summed.items()]))
    got = run.counts()
    assert {(d, s, listing): v for d, s, listing, v in got.iter_rows()} == dict(want)
    assert got.select("day", "supplier", "listing").rows() == sorted(want)  # in key order, as the XML lists them
    assert run.counted == sum(want.values())
