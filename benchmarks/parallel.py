"""How well batches share the cores: the same batches counted on 1, 2 and 3 worker threads, and processes.

    python benchmarks/parallel.py [--lines 1000000] [--workdir /tmp/logtrack-bench]

On the heavy log of ``targets.py`` (made if missing), the batches are read
into memory first, so the reader is left out, and counted once to learn
their agents. Then each worker count counts them all again and prints the
wall time, the CPU time, how many cores that kept busy, and the CPU of each
kind of thread, read from ``/proc``: the workers themselves (Python, and the
Polars work a query runs on its caller's thread), Polars' pool, and the
threads of Polars' CSV reader.

Then the same batches are shared out among 2 worker processes (spawned,
each with its own interpreter, GIL and Polars pool; each counts its share
once to learn the agents, then again timed), for comparison.

This is the measurement behind benchmarks/NOTES.md's account of the gzip target:
a batch alone keeps some 1.2 cores busy, two threads side by side only
some 1.5 of the two, with Polars' pool idle about half the time, while two
processes keep 1.7 to 1.9 busy. (Whole runs on worker processes were no
faster, for the processes' own start and for moving the batches to them:
see NOTES.md.) A change that makes two workers keep both cores busy
shows here first.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import CONFIG  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def thread_cpu() -> dict[int, tuple[str, float]]:
    """Each thread of this process: (its name, its CPU seconds so far)."""
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            raw = Path(f"/proc/self/task/{tid}/stat").read_text()
        except OSError:  # ended meanwhile
            continue
        name = raw[raw.index("(") + 1: raw.rindex(")")]
        fields = raw.rsplit(")", 1)[1].split()
        out[int(tid)] = (name, (int(fields[11]) + int(fields[12])) / TICK)
    return out


def _process(share: int, shares: int, log: str, conf: str, ready: Barrier,
             out: Queue[tuple[float, float]]) -> None:
    """One worker process: its share of the batches counted once (to learn the agents), then timed."""
    from logtrack.cli import allocator

    allocator.tune()
    from logtrack import config, formats
    from logtrack.count.batch import count_batch
    from logtrack.count.classify import Classifier
    from logtrack.read import sources

    cfg = config.load(Path(conf))
    fmt = formats.get("combined")
    mine = [b for i, b in enumerate(sources.batches(log)) if i % shares == share]
    classifier = Classifier(cfg.rules)
    for batch in mine:
        count_batch(batch, fmt, classifier, cfg.rules.timezone)
    ready.wait()
    start, cpu = time.perf_counter(), time.process_time()
    for batch in mine:
        count_batch(batch, fmt, classifier, cfg.rules.timezone)
    out.put((time.perf_counter() - start, time.process_time() - cpu))


def _worker_id(_: int) -> int:
    """The OS id of the pool thread that runs this (each of them, when as many run at once as there are)."""
    time.sleep(0.05)
    return threading.get_native_id()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/logtrack-bench"))
    args = parser.parse_args()
    from logtrack.cli import allocator

    allocator.tune()  # as the command line runs: before Polars loads
    import polars as pl

    from logtrack import config, formats
    from logtrack.count.batch import count_batch
    from logtrack.count.classify import Classifier
    from logtrack.read import sources

    args.workdir.mkdir(parents=True, exist_ok=True)
    conf = args.workdir / "logtrack.toml"
    conf.write_text(CONFIG)
    log = args.workdir / f"heavy-{args.lines}.log"
    if not log.exists():
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(log), "--lines", str(args.lines),
                        "--config", str(conf), "--agents", "30000"], check=True)
    cfg = config.load(conf)
    fmt = formats.get("combined")
    batches = list(sources.batches(str(log)))
    lines = sum(b.lines for b in batches)
    classifier = Classifier(cfg.rules)

    def count(batch: sources.Batch) -> object:
        return count_batch(batch, fmt, classifier, cfg.rules.timezone)

    for batch in batches:  # every agent learned, as in the middle of a long run
        count(batch)
    print(f"{lines:,} heavy lines in {len(batches)} batches, read beforehand; {os.cpu_count()} CPUs, "
          f"Polars {pl.__version__}")
    for workers in (1, 2, 3):
        with ThreadPoolExecutor(max_workers=workers) as pool:
            ids = set(pool.map(_worker_id, range(workers)))
            before, start = thread_cpu(), time.perf_counter()
            list(pool.map(count, batches))
            wall, after = time.perf_counter() - start, thread_cpu()
        kinds: dict[str, float] = {}
        main_id = threading.get_native_id()
        for tid, (name, cpu) in after.items():
            kind = "workers" if tid in ids else "main" if tid == main_id else name.rstrip("-0123456789")
            kinds[kind] = kinds.get(kind, 0.0) + cpu - before.get(tid, (name, 0.0))[1]
        cpu = sum(kinds.values())
        each = ", ".join(f"{k} {v:.2f}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]) if v >= 0.01)
        print(f"{workers} worker{'s' if workers > 1 else ' '}: {wall:5.2f} s, {cpu:5.2f} s CPU "
              f"({cpu / lines * 1e6:.2f} µs a line), {cpu / wall:.2f} cores busy: {each}")
    # Spawned, not forked: a fork of a process whose Polars threads run is not safe.
    spawn = multiprocessing.get_context("spawn")
    shares = 2
    ready, out = spawn.Barrier(shares), spawn.Queue()  # (results: wall and CPU seconds)
    procs = [spawn.Process(target=_process, args=(k, shares, str(log), str(conf), ready, out)) for k in range(shares)]
    for proc in procs:
        proc.start()
    results = [out.get() for _ in procs]
    for proc in procs:
        proc.join()
    wall, cpu = max(r[0] for r in results), sum(r[1] for r in results)
    print(f"{shares} processes: {wall:5.2f} s, {cpu:5.2f} s CPU ({cpu / lines * 1e6:.2f} µs a line), "
          f"{cpu / wall:.2f} cores busy")


if __name__ == "__main__":
    main()
