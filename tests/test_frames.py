"""How logtrack runs its queries: ``frames.alone`` runs a worker's queries on the worker's own thread."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import polars as pl
import pytest

from logtrack import formats, frames
from logtrack.parse.fields import parse_batch
from logtrack.read.sources import Batch

LINES = [  # nginx combined, as the sample logs hold them
    b'203.0.113.7 - - [02/Mar/2026:10:15:32 -0600] "GET /listing/20231234 HTTP/1.1" 200 5123 '
    b'"https://www.zillow.com/homedetails/x/20231234_zpid/" "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"',
    b'198.51.100.4 - - [02/Mar/2026:10:15:40 -0600] "GET /assets/app.css HTTP/1.1" 304 0 "-" "curl/8.5.0"',
    b'66.249.66.1 - - [02/Mar/2026:23:59:59 -0600] "GET /listing/20239999?x=\\"1\\" HTTP/1.1" 200 51 "-" '
    b'"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"',
]


def _threads_of_a_query() -> tuple[int, set[int]]:
    """This thread, and the threads a query collected here evaluated its expressions on."""
    seen: set[int] = set()

    def note(s: pl.Series) -> pl.Series:
        seen.add(threading.get_ident())
        return s

    frame = pl.DataFrame({"a": list(range(50_000)), "b": [str(i) for i in range(50_000)]})
    frames.collect(frame.lazy().with_columns(
        pl.col("a").map_batches(note, return_dtype=pl.Int64),
        pl.col("b").str.len_bytes().map_batches(note, return_dtype=pl.UInt32).alias("c"),
    ))
    return threading.get_ident(), seen


def test_a_workers_queries_run_on_its_own_thread() -> None:
    caller, seen = frames.alone(_threads_of_a_query)
    assert caller == threading.get_ident()
    assert seen == {caller}  # not on Polars' pool: what the counting's speed rests on (benchmarks/NOTES.md)


def test_workers_side_by_side_each_on_its_own_thread() -> None:
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: frames.alone(_threads_of_a_query), range(6)))
    for caller, seen in results:
        assert seen == {caller}
    assert len({caller for caller, _ in results}) > 1


def test_the_work_runs_once_and_its_value_comes_back() -> None:
    calls: list[int] = []

    def work() -> dict[str, int]:
        calls.append(1)
        return {"views": 3}

    assert frames.alone(work) == {"views": 3}
    assert calls == [1]


@pytest.mark.parametrize("error", [ValueError("bad line"), KeyError("x"), SystemExit(4)])
def test_what_the_work_raises_is_raised_as_it_was(error: BaseException) -> None:
    def work() -> None:
        raise error

    with pytest.raises(type(error)) as raised:
        frames.alone(work)
    assert raised.value is error
    assert raised.value.__traceback__ is not None  # (--debug shows where it came from)


def test_a_batch_reads_the_same_alone() -> None:
    fmt = formats.get("combined")
    batch = Batch("access.log", 1, b"\n".join(LINES), lines=len(LINES))
    direct = parse_batch(batch, fmt, "America/Chicago")
    alone = frames.alone(lambda: parse_batch(batch, fmt, "America/Chicago"))
    assert alone.equals(direct, null_equal=True)
    assert direct.get_column("target").to_list()[0] == "/listing/20231234"
