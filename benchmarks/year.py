"""A long-lived site: a year of daily logs (logrotate's dateext) and the state they leave.

    python benchmarks/year.py [--days 365] [--lines 20000] [--listings 8000]

Writes one log a day (access.log-YYYYMMDD, ``--lines`` views each, spread
over ``--listings`` listings and five referrers), then measures, each as a
process of its own: the first `run` over all of them (wall, CPU, peak RSS),
the state's size, runs with nothing new (the cron case, on a state that has
grown for a year), `xml` over the last 60 days (a preview whose document
holds some 16,000 listings a day) and over the whole year (a first look at
a server that keeps a year of logs), and `export` of the whole year from
the state. Deterministic for a given --seed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generate import CONFIG  # (this folder is the script's: sys.path[0])

AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.{} Safari/537.36"
FIRST_DAY = dt.date(2025, 12, 1)
REFERRERS = ("https://www.zillow.com/homedetails/x", "https://www.realtor.com/x", "https://www.google.com/", "-",
             "https://www.trulia.com/p")


def write_logs(logs: Path, days: int, lines: int, listings: int, seed: int) -> None:
    rng = random.Random(seed)
    for d in range(days):
        day = FIRST_DAY + dt.timedelta(days=d)
        rows = []
        for i in range(lines):
            s = i * 86400 // lines
            stamp = dt.datetime(day.year, day.month, day.day, s // 3600, s // 60 % 60, s % 60)
            rows.append(f'203.0.113.{i % 250} - - [{stamp:%d/%b/%Y:%H:%M:%S} -0600] "GET /listing/'
                        f'{1_000_000 + rng.randrange(listings)} HTTP/1.1" 200 512 "{rng.choice(REFERRERS)}" '
                        f'"{AGENT.format(i % 300)}"\n')
        (logs / f"access.log-{day:%Y%m%d}").write_text("".join(rows))


def timed(cmd: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user+sys) and peak RSS (MiB) of one command: its own, a process of its own
    waited for by ``os.wait4`` (RUSAGE_CHILDREN would keep the largest child's peak so far)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # (waited for: Popen must not wait again)
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--lines", type=int, default=20_000, help="views a day")
    parser.add_argument("--listings", type=int, default=8_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    logtrack = shutil.which("logtrack") or sys.exit("logtrack is not installed (pip install -e .)")
    with tempfile.TemporaryDirectory(prefix="logtrack-year-") as tmp:
        work = Path(tmp)
        logs = work / "logs"
        logs.mkdir()
        conf = work / "logtrack.toml"
        conf.write_text(CONFIG)
        write_logs(logs, args.days, args.lines, args.listings, args.seed)
        state = work / "state.db"
        base = ["--config", str(conf), "-q"]
        run = [logtrack, "run", str(logs), "--state", str(state), "--no-upload", *base]
        wall, cpu, rss = timed(run)
        total = args.days * args.lines
        print(f"{args.days} files, {total:,} lines: first run {wall:.2f} s, {cpu / total * 1e6:.2f} µs CPU a line, "
              f"peak {rss} MiB; state {state.stat().st_size / 2**20:.0f} MiB")
        walls = sorted(timed(run)[0] for _ in range(args.repeat))
        print(f"runs with nothing new: best {walls[0]:.2f} s, median {walls[len(walls) // 2]:.2f} s")
        views = work / "views.xml"
        for recent in (sorted(logs.iterdir())[-60:], sorted(logs.iterdir())):
            wall, cpu, rss = timed([logtrack, "xml", *map(str, recent), *base, "-o", str(views)])
            print(f"xml over {'the last ' if len(recent) < args.days else ''}{len(recent)} days "
                  f"({len(recent) * args.lines:,} lines): {wall:.2f} s, {cpu:.2f} s CPU, peak {rss} MiB, "
                  f"document {views.stat().st_size / 2**20:.0f} MiB")
        last = FIRST_DAY + dt.timedelta(days=args.days - 1)
        wall, cpu, rss = timed([logtrack, "export", "--state", str(state), "--since", FIRST_DAY.isoformat(), "--until",
                                last.isoformat(), *base[:2], "-o", str(views)])
        print(f"export of all {args.days} days from the state: {wall:.2f} s, {cpu:.2f} s CPU, peak {rss} MiB, "
              f"document {views.stat().st_size / 2**20:.0f} MiB")

if __name__ == "__main__":
    main()
