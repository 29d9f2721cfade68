"""How logtrack runs its Polars queries: on the in-memory engine, with the optimizations that pay, and a
worker's on the worker's own thread (``alone``).

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

from collections.abc import Callable, Iterable
from typing import Final, Literal, TypeVar

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


T = TypeVar("T")


def alone(work: Callable[[], T]) -> T:
    """``work()``, with every query it collects run on this thread alone, not split over Polars' pool.

    A batch's queries are many and short (some 70,000 rows each). Split over
    the pool, each costs 10 to 30 % more CPU than run on one thread, and two
    workers that each split theirs gain nothing by it: the workers keep the
    cores busy already. Polars runs a query from inside the Python function of
    another (a ``map_batches`` on its streaming engine) on the calling thread,
    where it cannot wait for the pool (``tests/test_frames.py`` holds it to
    that); the worker runs its batch there. Measured on a 2-core machine
    (``benchmarks/NOTES.md``): ``count_batch`` 1.39 -> 1.14 µs of CPU a heavy
    line on one worker, and two workers counting ten batches 0.53-0.70 ->
    0.38-0.47 s. Only where the work runs changes: the same queries, the same
    results. An exception ``work`` raises is raised here, as it was.
    """
    done: list[T] = []
    failed: list[BaseException] = []

    def run(frame: pl.DataFrame) -> pl.DataFrame:
        if not done and not failed:  # (once, however often Polars calls it)
            try:
                done.append(work())
            except BaseException as error:  # (raised again below, on this side of Polars)
                failed.append(error)
        return frame

    pl.LazyFrame({"_": [0]}, schema={"_": pl.Int8}).map_batches(run, schema={"_": pl.Int8}).collect(
        engine="streaming")
    if failed:
        raise failed[0]
    return done[0]
