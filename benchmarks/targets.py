"""The hot path's targets in one run: light and heavy logs, the naive baseline, gzip, formats, run.

    python benchmarks/targets.py [--lines 5000000] [--workdir /tmp/logtrack-bench] [--ten] [--repeat 2]

For the same inputs, in one run, it prints:
- a light log (50 browser agents, portal referrers) and a heavy one (30,000
  distinct agents, a portal referrer naming nearly every listing), --lines
  each: `logtrack xml` whole process, start to validated XML: wall time,
  lines/s, CPU seconds (user+sys) per line, peak RSS; and the naive
  per-line Python baseline on the same file (a regex per line, strptime
  with the time zone, the listing and bot regexes), timed on its first
  300,000 lines and extrapolated, with logtrack's ratio to it;
- the light log with its escaped quotes (one a batch, from a scanner) rewritten:
  what most logs, which hold none, read at;
- with --ten, the heavy log at twice --lines: peak RSS against --lines';
- a 1M-line gzip file against `gzip -dc FILE | wc -l`;
- the heavy log's first 1M lines as nginx `main`, nginx JSON and an Apache
  LogFormat, each against combined;
- `logtrack run` on the heavy log the first time (against `xml`) and again
  with nothing new.

CPU per line is the figure to compare across machines and hours: this
machine's wall time drifts by 20 to 30 %, user+sys far less. Each logtrack
figure is the best of --repeat runs (by wall time).
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
TIME = "/usr/bin/time"  # GNU time (Debian's package "time")
sys.path.insert(0, str(HERE))

from formats import FORMATS, rewrite  # noqa: E402
from generate import CONFIG  # noqa: E402

BASELINE_LINES = 300_000
LINE = re.compile(
    r'^(?P<client>\S+) \S+ \S+ \[(?P<time>[^\]]+)\] "(?P<method>\S+) (?P<target>\S+)[^"]*" (?P<status>\d{3}) '
    r'\S+ "(?P<referrer>[^"]*)" "(?P<agent>[^"]*)"'
)
LISTING = re.compile(r"^/listing/(?P<id>[0-9]{6,10})(?:/[0-9][a-z0-9-]*)?/?(?:\?.*)?$")
BOT = re.compile(r"bot|crawl|spider|slurp|facebookexternalhit|curl|python-requests|go-http-client", re.I)
HOST = re.compile(r"^[a-z][a-z0-9+.-]*://([^/:?#]+)", re.I)


@dataclass
class Measured:
    wall: float
    cpu: float  # user + sys of the child
    rss_mib: int


def measure(cmd: list[str], repeat: int = 1, env: dict[str, str] | None = None,
            before: Callable[[], None] | None = None) -> Measured:
    """Best of ``repeat`` runs of ``cmd`` under GNU time (``before`` called ahead of each, untimed).

    Through /usr/bin/time, not wait4 here: a child forked from this process
    starts with its resident pages (Polars, the rewritten logs) counted in
    its peak RSS; time's own child is forked from a small process.
    """
    best: Measured | None = None
    if env is None:
        # Importing Polars here set its allocator settings in this process's environment; a
        # logtrack started from a shell has none, and picks its own (logtrack/allocator.py).
        env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        proc = subprocess.run([TIME, "-f", "%U %S %M", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              env=env)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed: {proc.stderr.decode()}")
        user, system, rss = proc.stderr.decode().split()[-3:]
        got = Measured(wall, float(user) + float(system), int(rss) // 1024)
        if best is None or got.wall < best.wall:
            best = got
    assert best is not None
    return best


def naive(path: Path, limit: int) -> float:
    """Lines/s of the per-line Python a first version would write: regex, strptime, zone, listing, bot, supplier."""
    zone = ZoneInfo("America/Chicago")
    counts: Counter[tuple[object, str, str]] = Counter()
    n = 0
    start = time.perf_counter()
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            n += 1
            m = LINE.match(line)
            if m and m["method"] == "GET" and m["status"] in ("200", "304"):
                listing = LISTING.search(m["target"])
                if listing and not BOT.search(m["agent"]):
                    day = datetime.strptime(m["time"], "%d/%b/%Y:%H:%M:%S %z").astimezone(zone).date()
                    host = HOST.match(m["referrer"])
                    supplier = host.group(1).lower() if host else ""
                    counts[(day, supplier, listing["id"])] += 1
            if n >= limit:
                break
    return n / (time.perf_counter() - start)


def generate(path: Path, lines: int, conf: Path, *extra: str) -> None:
    if not path.exists():
        print(f"  (generating {path.name} ...)", flush=True)
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(path), "--lines", str(lines),
                        "--config", str(conf), *extra], check=True)


def row(label: str, m: Measured, lines: int, extra: str = "") -> None:
    print(f"{label:<28}{m.wall:7.2f} s {lines / m.wall:11,.0f} lines/s {m.cpu / lines * 1e6:6.2f} µs CPU/line "
          f"{m.rss_mib:6,} MiB{extra}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=5_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/logtrack-bench"))
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--ten", action="store_true", help="also the heavy log at twice --lines (peak RSS)")
    args = parser.parse_args()
    work: Path = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    conf = work / "logtrack.toml"
    conf.write_text(CONFIG)  # always this one: a log made earlier may have left an older config
    logtrack = shutil.which("logtrack") or sys.exit("logtrack is not installed (pip install -e .)")
    import polars as pl

    import logtrack as package

    # As installed from a wheel: its modules byte-compiled once (an editable install under
    # PYTHONDONTWRITEBYTECODE compiles them again in every process, some 0.06 s of each).
    compileall.compile_dir(Path(package.__file__).parent, quiet=1)

    print(f"{os.cpu_count()} CPUs, Polars {pl.__version__}, {args.lines:,} lines a log; best of {args.repeat}")
    logs = {
        "light": (work / f"light-{args.lines}.log", ["--agents", "50", "--light"]),
        "heavy": (work / f"heavy-{args.lines}.log", ["--agents", "30000"]),
    }
    xml = {}
    for name, (path, extra) in logs.items():
        generate(path, args.lines, conf, *extra)
        m = measure([logtrack, "xml", str(path), "-c", str(conf), "-q", "-o", str(work / f"{name}.xml")],
                    args.repeat)
        base = naive(path, BASELINE_LINES)
        row(f"xml {name}", m, args.lines,
            f"   naive {base:9,.0f} lines/s: logtrack {args.lines / m.wall / base:4.1f}x")
        xml[name] = m
    # The generated logs hold an escaped quote (a scanner's request) in every batch; most real logs go
    # without one for days. The light log with them rewritten shows what such a log reads at.
    unescaped = work / f"light-noesc-{args.lines}.log"
    if not unescaped.exists():
        with open(logs["light"][0], "rb") as src, open(unescaped, "wb") as dst:
            for line in src:
                dst.write(line.replace(b'\\"', b"%22"))
    m = measure([logtrack, "xml", str(unescaped), "-c", str(conf), "-q", "-o", str(work / "light-noesc.xml")],
                args.repeat)
    row("xml light, no \\\"", m, args.lines, "   (its escaped quotes written as %22)")
    if args.ten:
        path = work / f"heavy-{2 * args.lines}.log"
        generate(path, 2 * args.lines, conf, "--agents", "30000")
        m = measure([logtrack, "xml", str(path), "-c", str(conf), "-q", "-o", str(work / "heavy2.xml")])
        row(f"xml heavy x2 ({2 * args.lines:,})", m, 2 * args.lines,
            f"   peak RSS {m.rss_mib / xml['heavy'].rss_mib:.2f}x of {args.lines:,}")

    million = work / "heavy-1000000.log"
    generate(million, 1_000_000, conf, "--agents", "30000")
    gz = work / "heavy-1000000.log.gz"
    if not gz.exists():
        subprocess.run(f"gzip -c {million} > {gz}", shell=True, check=True)
    m = measure([logtrack, "xml", str(gz), "-c", str(conf), "-q", "-o", str(work / "gz.xml")], args.repeat)
    plain = measure(["sh", "-c", f"gzip -dc {gz} | wc -l"], args.repeat)
    row("xml 1M gzip", m, 1_000_000, f"   gzip -dc | wc -l {plain.wall:.2f} s: {m.wall / plain.wall:.2f}x")

    combined = measure([logtrack, "xml", str(million), "-c", str(conf), "-q", "-o", str(work / "c.xml")],
                       args.repeat)
    row("xml 1M combined", combined, 1_000_000)
    variants = rewrite(million, work)
    for label, path in variants.items():
        if label == "combined":
            continue
        fmt = FORMATS[label]
        out = work / f"{label.replace(' ', '-')}.xml"
        m = measure([logtrack, "xml", str(path), "-c", str(conf), "--format", fmt, "-q", "-o", str(out)],
                    args.repeat)
        same = out.read_bytes() == (work / "c.xml").read_bytes()
        row(f"xml 1M {label}", m, 1_000_000,
            f"   {m.wall / combined.wall:.2f}x combined{'' if same else '  (XML DIFFERS)'}")

    state = work / "run-state.db"
    heavy = logs["heavy"][0]
    for leftover in work.glob("run-state.db*"):
        leftover.unlink()
    first = measure([logtrack, "run", str(heavy), "-c", str(conf), "--state", str(state), "--no-upload", "-q"])
    row("run heavy, first time", first, args.lines, f"   {first.wall / xml['heavy'].wall:.2f}x xml")
    again = measure([logtrack, "run", str(heavy), "-c", str(conf), "--state", str(state), "--no-upload", "-q"],
                    max(args.repeat, 3))
    print(f"{'run heavy, nothing new':<28}{again.wall:7.2f} s", flush=True)


if __name__ == "__main__":
    main()
