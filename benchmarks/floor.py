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
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import CONFIG  # (the generated log's own listing pattern and time zone)

if TYPE_CHECKING:
    import polars as pl

VARIANTS = ("quotes", "lines", "timed", "bots")


def query(path: str, variant: str) -> list[pl.DataFrame]:
    """The variant's query on ``path``: counts per (day, referrer host, listing), and (``timed``, ``bots``)
    lines per (quarter hour, reason). Each check is the combined format's own, as ``formats`` compiles it."""
    import polars as pl  # (in the child only: the parent times whole processes)

    from logtrack import formats
    from logtrack.config.rules import DEFAULT_METHODS, DEFAULT_STATUS
    from logtrack.count.bots import detector

    config = tomllib.loads(CONFIG)
    pattern, timezone = config["listings"]["patterns"][0], config["logs"]["timezone"]
    layout = formats.get("combined").segments
    assert layout is not None
    width = len(layout)
    names = [f"s{i}" for i in range(width + 1)]
    if variant == "quotes":
        lf = pl.scan_csv(path, separator='"', quote_char=None, has_header=False, schema=dict.fromkeys(names, pl.String),
                         truncate_ragged_lines=True, missing_columns="insert", row_index_name="idx"
                         ).with_columns(pl.col(names).fill_null(""))  # (an empty piece reads as null)
    else:
        lf = pl.scan_csv(path, separator="\x1f", quote_char=None, has_header=False, schema={"line": pl.String},
                         row_index_name="idx")
        lf = lf.with_columns(_p=pl.col("line").str.split_exact('"', width).struct.rename_fields(names)).unnest("_p")
    # (the quote count is told only by the pieces of a line read whole: the CSV reader's are null when empty)
    exact = pl.col(f"s{width - 1}").is_not_null() & pl.col(f"s{width}").is_null()
    fits = pl.lit(True) if variant == "quotes" else exact
    sliced: dict[str, pl.Expr] = {}
    for i, seg in enumerate(layout):
        piece = pl.col(f"s{i}")
        if seg.literal is not None:
            fits = fits & (piece == seg.literal)
        elif seg.regex is not None:
            fits = fits & piece.str.contains(seg.regex)
            sliced.update({c.field: piece.str.slice(c.start, c.width) for c in seg.slices})
        elif seg.field is not None:
            sliced[seg.field] = piece
    request, referrer, agent = (sliced[f] for f in (formats.REQUEST, formats.REFERRER, formats.USER_AGENT))
    words = request.str.splitn(" ", 3)
    well_formed = request.str.contains(r"^[A-Za-z][A-Za-z0-9_.-]* \S+(?: HTTP/[0-9.]+)?$")
    lf = lf.with_columns(_ok=fits, time=sliced[formats.TIME], referrer=referrer, agent=agent,
                         status=sliced[formats.STATUS].cast(pl.Int16, strict=False),
                         target=pl.when(well_formed).then(words.struct.field("field_1")),
                         method=pl.when(well_formed).then(words.struct.field("field_0")))
    ts = pl.col("time").str.strptime(pl.Datetime("us", "UTC"), formats.CLF_FORMAT, strict=False)
    outputs: list[pl.LazyFrame] = []
    if variant in ("quotes", "lines"):
        candidates = lf.filter(pl.col("_ok") & pl.col("target").str.contains(pattern)).with_columns(ts=ts)
    else:
        lf = lf.with_columns(ts=ts).with_columns(reason=(
            pl.when(~pl.col("_ok")).then(pl.lit("odd")).when(pl.col("ts").is_null()).then(pl.lit("bad time"))
            .when(pl.col("method").is_null()).then(pl.lit("malformed"))
            .when(~pl.col("target").str.contains(pattern)).then(pl.lit("not a listing page"))))
        outputs.append(lf.group_by(_key=pl.col("ts").dt.epoch("s") // 900, reason=pl.col("reason")).agg(
            len=pl.len(), first=pl.col("idx").min(), last=pl.col("ts").dt.epoch("us").max()))
        candidates = lf.filter(pl.col("reason").is_null())
    if variant == "bots":
        bots = detector()
        candidates = candidates.filter(~bots.crawler(bots.remains(pl.col("agent"))))
    outputs.insert(0, candidates.with_columns(
        listing=pl.col("target").str.extract(pattern, 1), host=pl.col("referrer").str.extract(r"^[a-z]+://([^/:]+)", 1))
        .filter(pl.col("status").is_in(list(DEFAULT_STATUS)) & pl.col("method").is_in(list(DEFAULT_METHODS)))
        .group_by(day=pl.col("ts").dt.convert_time_zone(timezone).dt.date(), host="host", listing="listing")
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
