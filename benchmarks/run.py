"""Measure logtrack on a generated log: whole-process lines/s and peak RSS.

    python benchmarks/run.py [--lines 1000000] [--workdir /tmp/logtrack-bench] [--gzip]

For the same input it prints, in one run:
- logtrack xml, whole process (start-up, reading, parsing, classifying,
  aggregating, writing and validating the XML): wall time, lines/s, peak RSS;
- a naive baseline: one Python regex per line, counting the same views
  (no bot detection, no supplier rules; it is a floor for "per-line Python");
- with --gzip, `gzip -dc FILE | wc -l` on the compressed file, the cost of
  merely decompressing it.
Each logtrack figure is the best of --repeat runs.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASELINE_LINE = re.compile(
    r'^(?P<client>\S+) \S+ \S+ \[(?P<time>[^\]]+)\] "(?P<method>\S+) (?P<target>\S+)[^"]*" (?P<status>\d{3}) '
    r'\S+ "(?P<referrer>[^"]*)" "(?P<agent>[^"]*)"'
)
BASELINE_LISTING = re.compile(r"^/listing/(?P<id>[0-9]{6,10})(?:/[0-9][a-z0-9-]*)?/?(?:\?.*)?$")


def run_measured(cmd: list[str]) -> tuple[float, int, int, float]:
    """Wall seconds, peak RSS in MiB, exit code and CPU seconds (user + sys) of a child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        assert proc.stderr is not None
        sys.exit(f"{' '.join(cmd)} failed ({code}): {proc.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss // 1024, code, usage.ru_utime + usage.ru_stime


def rewritten_setup(doc: str, script: str, rewrite: Callable[[Path, Path], object]) -> tuple[argparse.Namespace, Path,
                                                                                            Path, Path, str]:
    """For the scripts that write the generated log again in other formats: (args, work dir, log, config, logtrack).

    The log is generated when missing; the rewriting runs in a process of its
    own (``--rewrite-only``), whose memory the measured runs would otherwise inherit.
    """
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--workdir", default="/tmp/logtrack-bench")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--rewrite-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    log = work / f"access-{args.lines}.log"
    conf = work / "logtrack.toml"
    if not log.exists() or not conf.exists():
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(log), "--lines", str(args.lines),
                        "--config", str(conf)], check=True)
    if args.rewrite_only:
        rewrite(log, work)
        sys.exit(0)
    subprocess.run([sys.executable, script, "--lines", str(args.lines), "--workdir", str(work), "--rewrite-only"],
                   check=True)
    logtrack = shutil.which("logtrack") or sys.exit("logtrack is not installed (pip install -e .)")
    return args, work, log, conf, logtrack


def naive_baseline(path: Path, limit: int) -> float:
    """Lines/s of a per-line Python regex over the first ``limit`` lines."""
    counts: Counter[tuple[str, str]] = Counter()
    start = time.perf_counter()
    n = 0
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            n += 1
            m = BASELINE_LINE.match(line)
            if m and m["method"] == "GET" and m["status"] in ("200", "304"):
                listing = BASELINE_LISTING.search(m["target"])
                if listing:
                    counts[(m["time"][:11], listing["id"])] += 1
            if n >= limit:
                break
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--workdir", default="/tmp/logtrack-bench")
    parser.add_argument("--gzip", action="store_true", help="also measure a gzip-compressed copy")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--baseline-lines", type=int, default=300_000)
    args = parser.parse_args()

    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    log = work / f"access-{args.lines}.log"
    conf = work / "logtrack.toml"
    if not log.exists():
        print(f"generating {log} ...", flush=True)
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(log), "--lines", str(args.lines),
                        "--config", str(conf)], check=True)
    size_mb = log.stat().st_size / 2**20
    logtrack = shutil.which("logtrack") or sys.exit("logtrack is not installed (pip install -e .)")
    print(f"input: {args.lines:,} lines, {size_mb:,.0f} MiB, nginx combined; {os.cpu_count()} CPUs")

    cmd = [logtrack, "xml", str(log), "--config", str(conf), "-q", "-o", str(work / "out.xml")]
    best = min(run_measured(cmd) for _ in range(args.repeat))
    rate = args.lines / best[0]
    print(f"logtrack xml:        {best[0]:7.2f} s  {rate:12,.0f} lines/s  peak RSS {best[1]:,} MiB")

    base = naive_baseline(log, args.baseline_lines)
    print(f"naive Python regex:  {args.lines / base:7.2f} s  {base:12,.0f} lines/s  "
          f"(extrapolated from {args.baseline_lines:,} lines; logtrack is {rate / base:.1f}x)")

    if args.gzip:
        gz = work / f"access-{args.lines}.log.gz"
        if not gz.exists():
            subprocess.run(f"gzip -c {log} > {gz}", shell=True, check=True)
        gcmd = [logtrack, "xml", str(gz), "--config", str(conf), "-q", "-o", str(work / "out-gz.xml")]
        gbest = min(run_measured(gcmd) for _ in range(args.repeat))
        start = time.perf_counter()
        subprocess.run(f"gzip -dc {gz} | wc -l", shell=True, check=True, stdout=subprocess.DEVNULL)
        plain = time.perf_counter() - start
        print(f"logtrack xml (.gz):  {gbest[0]:7.2f} s  {args.lines / gbest[0]:12,.0f} lines/s  "
              f"peak RSS {gbest[1]:,} MiB")
        print(f"gzip -dc | wc -l:    {plain:7.2f} s  (logtrack takes {gbest[0] / plain:.1f}x)")


if __name__ == "__main__":
    main()
