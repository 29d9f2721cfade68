"""The floor issue 10 measured: one Polars query over a whole file, on the streaming engine, and what exactness adds.

    python benchmarks/floor.py FILE [FILE ...]

FILE: a combined log from ``generate.py`` (plain or gzip; Polars inflates
gzip itself). Each variant runs in a process of its own, from its start
(Python and Polars loading) to the counts collected, and prints its wall
time, CPU (user+sys) and peak RSS:

- ``quotes``: the issue's throwaway query. Polars' CSV reader cuts the lines
  at their quotes; the listing pattern is tried first and only candidates
  get a time, status, method and referrer host; one ``group_by``. It keeps
  no reasons and no bot check, and cannot tell an empty last piece from a
  missing one, so it does not check the number of quotes: a line cut
  short inside its last quoted field reads as whole.
- ``lines``: each line read whole and cut with ``split_exact``, one piece
  more than the format has, so that the number of quotes is exact (what
  ``split.read`` does); otherwise as ``quotes``.
- ``timed``: ``lines`` plus every line timed and summed per (quarter hour,
  reason), what the skip summary and the report's lines per day need.
- ``bots``: ``timed`` plus crawlerdetect's patterns (as ``count.bots`` runs
  them) asked of every candidate row's agent: what one query without a
  step between the parse and the verdicts would have to do, since a
  query cannot ask about each distinct agent once and join the answers
  back without holding every candidate row until the file's end.

Compare with ``logtrack xml FILE`` (``targets.py``): the difference is the
price of per-batch queries with the bot step between them, the reasons of
every line, and the lines the split leaves to the line regex.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

VARIANTS = ("quotes", "lines", "timed", "bots")
PATTERN = r"^/listing/(?P<id>[0-9]{6,10})(?:/[0-9][a-z0-9-]*)?/?(?:\?.*)?$"
CLF = "%d/%b/%Y:%H:%M:%S %z"
WIDTH = 7  # combined's pieces between (and around) its six quotes


def query(path: str, variant: str) -> list[pl.DataFrame]:
    import polars as pl  # (in the child only: the parent times whole processes)

    names = [f"s{i}" for i in range(WIDTH + 1)]
    if variant == "quotes":
        lf = pl.scan_csv(path, separator='"', quote_char=None, has_header=False, schema=dict.fromkeys(names, pl.String),
                         truncate_ragged_lines=True, missing_columns="insert", row_index_name="idx")
    else:
        lf = pl.scan_csv(path, separator="\x1f", quote_char=None, has_header=False, schema={"line": pl.String},
                         row_index_name="idx")
        lf = lf.with_columns(_p=pl.col("line").str.split_exact('"', WIDTH).struct.rename_fields(names)).unnest("_p")
    first = pl.col("s0")
    # (the quote count is told only by the pieces of a line read whole: the CSV reader's are null when empty)
    exact = pl.col(f"s{WIDTH - 1}").is_not_null() & pl.col(f"s{WIDTH}").is_null()
    quotes = pl.lit(True) if variant == "quotes" else exact
    fits = (quotes & (pl.col("s4") == " ")
            & first.str.contains(r'^[^\s,"]+ \S+ \S* \[[0-9]{2}/[A-Za-z]{3}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} '
                                 r'[+-][0-9]{4}\] $')
            & pl.col("s2").str.contains(r"^ [0-9]{3} (?:-|[0-9]+) $"))
    words = pl.col("s1").str.splitn(" ", 3)
    well_formed = pl.col("s1").str.contains(r"^[A-Za-z][A-Za-z0-9_.-]* \S+(?: HTTP/[0-9.]+)?$")
    lf = lf.with_columns(_ok=fits, time=first.str.slice(-28, 26),
                         status=pl.col("s2").str.slice(1, 3).cast(pl.Int16, strict=False),
                         target=pl.when(well_formed).then(words.struct.field("field_1")),
                         method=pl.when(well_formed).then(words.struct.field("field_0")))
    ts = pl.col("time").str.strptime(pl.Datetime("us", "UTC"), CLF, strict=False)
    outputs: list[pl.LazyFrame] = []
    if variant in ("quotes", "lines"):
        candidates = lf.filter(pl.col("_ok") & pl.col("target").str.contains(PATTERN)).with_columns(ts=ts)
    else:
        lf = lf.with_columns(ts=ts).with_columns(reason=(
            pl.when(~pl.col("_ok")).then(pl.lit("odd")).when(pl.col("ts").is_null()).then(pl.lit("bad time"))
            .when(pl.col("method").is_null()).then(pl.lit("malformed"))
            .when(~pl.col("target").str.contains(PATTERN)).then(pl.lit("not a listing page"))))
        outputs.append(lf.group_by(_key=pl.col("ts").dt.epoch("s") // 900, reason=pl.col("reason")).agg(
            len=pl.len(), first=pl.col("idx").min(), last=pl.col("ts").dt.epoch("us").max()))
        candidates = lf.filter(pl.col("reason").is_null())
    if variant == "bots":
        from logtrack.count.bots import WHITESPACE, detector

        bots = detector()
        agent = pl.col("s5").str.strip_chars(WHITESPACE).str.replace_all(bots.exclusions, "")
        candidates = candidates.filter(~((agent != "") & agent.str.contains(bots.crawlers)))
    outputs.insert(0, candidates.with_columns(
        listing=pl.col("target").str.extract(PATTERN, 1), host=pl.col("s3").str.extract(r"^[a-z]+://([^/:]+)", 1))
        .filter(pl.col("status").is_in([200, 304]) & (pl.col("method") == "GET"))
        .group_by(day=pl.col("ts").dt.convert_time_zone("America/Chicago").dt.date(), host="host", listing="listing")
        .agg(views=pl.len()))
    return pl.collect_all(outputs, engine="streaming")


def child(path: str, variant: str) -> None:
    counts = query(path, variant)[0]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"{usage.ru_utime + usage.ru_stime:.2f} {usage.ru_maxrss // 1024} {counts.get_column('views').sum()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--child", metavar="VARIANT", help=argparse.SUPPRESS)  # (one variant, in a process of its own)
    args = parser.parse_args()
    if args.child:
        child(args.files[0], args.child)
        return
    for path in args.files:
        print(path)
        for variant in VARIANTS:
            start = time.perf_counter()
            out = subprocess.run([sys.executable, __file__, path, "--child", variant],
                                 capture_output=True, text=True, check=True).stdout.split()
            wall = time.perf_counter() - start
            cpu, rss, views = float(out[0]), int(out[1]), int(out[2])
            print(f"  {variant:7s} {wall:6.2f} s wall  {cpu:6.2f} s CPU  {rss:5d} MiB peak  {views:>10,} views")


if __name__ == "__main__":
    main()
