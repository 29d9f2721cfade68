"""How logtrack runs its Polars queries: on the in-memory engine, with the optimizations that pay.

A batch is a few queries over some 70,000 rows already in memory. Polars'
default ("auto") picks its streaming engine for some of them, whose setup
costs more than such a query gains from it: measured on the hot path
(``benchmarks/stages.py``), the in-memory engine takes about a tenth less
CPU per line and a quarter less per query. Of the optimizer's passes, the
ones that pay on such plans are projection pushdown (columns no stage
reads are never made) and common sub-plans and sub-expressions (a plan
that reads a column twice computes it once); the others (predicate and
slice pushdown, expression simplification, ordering checks, ...) find
nothing to do in plans written stage by stage, and cost a millisecond a
batch looking: off, a batch takes about 3 % less CPU. Turning a pass off
never changes a result. Both are chosen per call, not through
``pl.Config``, so that logtrack used as a library changes nothing for its
caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal

import polars as pl

ENGINE: Final[Literal["in-memory"]] = "in-memory"
OPTIMIZATIONS = pl.QueryOptFlags(
    predicate_pushdown=False, simplify_expression=False, slice_pushdown=False, cluster_with_columns=False,
    check_order_observe=False, sort_collapse=False, pre_partition_hive=False, join_order=False,
    row_estimate=False,
)


def collect(lf: pl.LazyFrame) -> pl.DataFrame:
    return lf.collect(engine=ENGINE, optimizations=OPTIMIZATIONS)


def collect_all(lfs: Iterable[pl.LazyFrame]) -> list[pl.DataFrame]:
    return pl.collect_all(lfs, engine=ENGINE, optimizations=OPTIMIZATIONS)
