"""How logtrack runs its Polars queries: on the in-memory engine.

A batch is a few queries over some 70,000 rows already in memory. Polars'
default ("auto") picks its streaming engine for some of them, whose setup
costs more than such a query gains from it: measured on the hot path
(``benchmarks/stages.py``), the in-memory engine takes about a tenth less
CPU per line and a quarter less per query. The engine is chosen per call,
not through ``pl.Config``, so that logtrack used as a library changes
nothing for its caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal

import polars as pl

ENGINE: Final[Literal["in-memory"]] = "in-memory"


def collect(lf: pl.LazyFrame) -> pl.DataFrame:
    return lf.collect(engine=ENGINE)


def collect_all(lfs: Iterable[pl.LazyFrame]) -> list[pl.DataFrame]:
    return pl.collect_all(lfs, engine=ENGINE)
