"""Where a line's time goes, and the floor under it: what 2 million lines/s would leave.

    python benchmarks/stages.py [--lines 1000000] [--workdir /tmp/logtrack-bench]

On the generated combined log (made by run.py's generator if missing) it prints:
- the floor: the reader alone (Python, the main thread), and the reader with
  Polars' quote split, and with the split plus one listing search, on every
  core (what no parse of this design can go below);
- on one Polars thread, in µs of CPU a line: the cut at the quotes and its
  checks alone, then the whole of ``count_batch`` with listing patterns that
  find nothing, with the configured ones, and with one that finds in every
  line: what a line costs that is not a candidate, and what one that is.

2 million lines/s on 2 cores leaves at most 1 µs of CPU a line for all of it.
Each figure is the best of --repeat passes over the first 10 batches (the
floor: over the whole file).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent


def best(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/logtrack-bench"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if "POLARS_MAX_THREADS" not in os.environ:  # stages are measured on one thread: set it before Polars loads
        os.environ["POLARS_MAX_THREADS"] = "1"
        os.execv(sys.executable, [sys.executable, *sys.argv])
    import subprocess

    import polars as pl

    from logtrack import config, formats
    from logtrack.count import classify
    from logtrack.count.batch import count_batch
    from logtrack.parse import split
    from logtrack.parse.lines import read_lines
    from logtrack.read import sources

    args.workdir.mkdir(parents=True, exist_ok=True)
    log = args.workdir / f"access-{args.lines}.log"
    conf = args.workdir / "logtrack.toml"
    if not log.exists():
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(log), "--lines", str(args.lines),
                        "--config", str(conf)], check=True)
    cfg = config.load(conf)
    fmt = formats.get("combined")
    layout = fmt.segments
    assert layout is not None
    pattern = cfg.rules.patterns[0]

    def quote_split(batch: sources.Batch) -> pl.DataFrame:
        lines = read_lines(batch.data)
        assert lines is not None
        return lines.select(pl.col("line").str.split_exact('"', len(layout)).struct.rename_fields(
            [f"s{i}" for i in range(len(layout) + 1)])).unnest("line")

    def split_and_search(batch: sources.Batch) -> object:
        return quote_split(batch).select(pl.col("s1").str.contains(pattern).sum())

    lines = sum(b.lines for b in sources.batches(str(log)))
    print(f"input: {lines:,} lines, {log.stat().st_size / 2**20:,.0f} MiB, nginx combined; "
          f"{os.cpu_count()} CPUs; Polars {pl.__version__}")
    reader = best(args.repeat, lambda: sum(1 for _ in sources.batches(str(log))))
    print(f"{'reader alone (Python, serial):':<42} {lines / reader:>12,.0f} lines/s")
    # The floor with Polars on every core: a fresh process would get its own pool; here the
    # one-thread setting only limits Polars inside each worker, as the pipeline runs it.
    cores = os.cpu_count() or 2

    def on_every_core(work: Callable[[sources.Batch], object]) -> Callable[[], object]:
        def run() -> object:
            with ThreadPoolExecutor(max_workers=cores) as pool:
                return list(pool.map(work, sources.batches(str(log))))
        return run

    for label, work in (("reader + quote split", quote_split), ("reader + split + one search", split_and_search)):
        took = best(args.repeat, on_every_core(work))
        print(f"{label + f' ({cores} threads):':<42} {lines / took:>12,.0f} lines/s")

    batches = list(sources.batches(str(log)))[:10]
    n = sum(b.lines for b in batches)
    tz = cfg.rules.timezone

    def whole(patterns: tuple[str, ...]) -> Callable[[], object]:
        rules = replace(cfg.rules, patterns=patterns)
        classifier = classify.Classifier(rules)
        return lambda: [count_batch(b, fmt, classifier, tz) for b in batches]

    stages = [
        ("cut at the quotes, check (split.read)",
         lambda: [pl.collect_all([c.fields, c.odd]) for c in (split.read(b, fmt, counting=True) for b in batches)
                  if c is not None]),
        ("whole batch, no line a candidate", whole((r"^/nothing-matches/(?P<id>[0-9]+)$",))),
        ("whole batch, as configured", whole(cfg.rules.patterns)),
        ("whole batch, every line a candidate", whole((r"^/(?P<id>.*)$",))),
    ]
    for label, fn in stages:
        per_line = best(args.repeat, fn) / n * 1e6
        print(f"{label:<42} {per_line:>8.2f} µs a line (one thread)")


if __name__ == "__main__":
    main()
