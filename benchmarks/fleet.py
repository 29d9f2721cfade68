"""Three hosts of one site against one PostgreSQL: concurrent ingest, one upload of the sums, checked.

    python benchmarks/fleet.py [--lines 1000000] [--workdir /tmp/logtrack-fleet] [--url postgresql://...]

It writes one generated log (benchmarks/generate.py) of 3 x --lines lines
and deals its lines to three hosts in turn, starts a PostgreSQL of its own
(initdb/pg_ctl in the work directory, as tests/servers.py does; or uses
--url) and a flexmls sandbox on 127.0.0.1, then:

- the three hosts' first `logtrack run --no-upload` at the same time, each
  under GNU time (wall, CPU user+sys per line, peak RSS), against one host's
  share ingested into SQLite alone;
- one host's `logtrack run --now`, which posts the sums of all three;
- the sandbox's totals against `logtrack xml` over the whole log: views,
  and (day, supplier, listing) rows that differ (must be 0).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from generate import CONFIG  # noqa: E402
from targets import TIME, Measured  # noqa: E402

KEY = "bench-key-7f3a"
HOSTS = ("web1", "web2", "web3")


def timed(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([TIME, "-f", "%U %S %M", *cmd], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def result(proc: subprocess.Popen[bytes], started: float) -> Measured:
    _, err = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"failed: {err.decode()}")
    user, system, rss = err.decode().split()[-3:]
    return Measured(wall, float(user) + float(system), int(rss) // 1024)


def counts(document: bytes) -> Counter[tuple[str, str, str]]:
    from lxml import etree

    got: Counter[tuple[str, str, str]] = Counter()
    for view in etree.fromstring(document).iter("View"):
        for listing in view.iter("Listing"):
            got[(view.findtext("ViewDate") or "", view.findtext("ViewSupplierName") or "",
                 listing.findtext("ListingId") or "")] += int(listing.findtext("ViewCount") or 0)
    return got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines per host")
    parser.add_argument("--workdir", default="/tmp/logtrack-fleet")
    parser.add_argument("--url", help="an existing, empty PostgreSQL database (default: start one)")
    args = parser.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    full = work / f"all-{args.lines}.log"
    if not full.exists():
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(full), "--lines", str(3 * args.lines)],
                       check=True)
    for h in HOSTS:
        (work / h).mkdir(exist_ok=True)
    outs = [open(work / h / "access.log", "wb") for h in HOSTS]  # noqa: SIM115
    with open(full, "rb") as fh:
        for n, line in enumerate(fh):
            outs[n % 3].write(line)
    for out in outs:
        out.close()

    from logtrack.flexmls.sandbox import SandboxState, make_server

    box = SandboxState(KEY)
    server = make_server("127.0.0.1", 0, box)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"} | {"LOGTRACK_API_KEY": KEY, "TZ": "UTC"}

    def config(host: str, state: str, tag: str = "fleet") -> Path:
        path = work / f"{host}-{tag}.toml"
        path.write_text(CONFIG + f'\n[state]\nurl = "{state}"\n\n[fleet]\nhost = "{host}"\n\n[upload]\n'
                        f'endpoint = "http://127.0.0.1:{port}/tracking/v1/listings/views/{{api_key}}/"\n'
                        'window = "00:00-23:59"\n')
        return path

    def fleet(url: str) -> None:
        configs = {h: config(h, url) for h in HOSTS}
        solo = work / "solo.db"
        for stale in (solo, solo.with_name("solo.db.lock"), solo.with_name("solo.db-wal")):
            stale.unlink(missing_ok=True)
        logtrack = [sys.executable, "-m", "logtrack"]
        started = time.perf_counter()
        solo_config = config("web1", f"sqlite:///{solo}", "solo")
        alone = result(timed([*logtrack, "run", str(work / "web1"), "-c", str(solo_config), "--no-upload", "-q"], env),
                       started)
        started = time.perf_counter()
        procs = {h: timed([*logtrack, "run", str(work / h), "-c", str(configs[h]), "--no-upload", "-q"], env)
                 for h in HOSTS}
        ingests = {h: result(p, started) for h, p in procs.items()}
        started = time.perf_counter()
        upload = result(timed([*logtrack, "run", str(work / "web1"), "-c", str(configs["web1"]), "--now", "-q"], env),
                        started)
        xml = subprocess.run([*logtrack, "xml", str(full), "-c", str(configs["web1"])], env=env, check=True,
                             capture_output=True).stdout
        truth, got = counts(xml), Counter[tuple[str, str, str]]()
        for (day, supplier), listings in box.views.items():
            for listing, views in listings.items():
                got[(day, supplier, listing)] = views
        lines = args.lines
        print(f"{lines:,} lines per host, 3 hosts ({3 * lines:,} lines), one PostgreSQL")
        print(f"{'run':<34} {'wall s':>7} {'CPU µs/line':>12} {'peak RSS':>9}")
        print(f"{'web1 alone into SQLite':<34} {alone.wall:7.2f} {alone.cpu / lines * 1e6:12.2f} "
              f"{alone.rss_mib:6d} MiB")
        for h, m in ingests.items():
            print(f"{h + ' into PostgreSQL, 3 at once':<34} {m.wall:7.2f} {m.cpu / lines * 1e6:12.2f} "
                  f"{m.rss_mib:6d} MiB")
        print(f"{'web1 uploads the sums':<34} {upload.wall:7.2f} {'':>12} {upload.rss_mib:6d} MiB")
        print(f"posts: {box.requests}; (day, supplier) documents: {len(box.views)}")
        print(f"sandbox: {sum(got.values()):,} views in {len(got):,} rows; xml over all 3 logs: "
              f"{sum(truth.values()):,} views in {len(truth):,} rows; rows that differ: "
              f"{sum(1 for k in truth.keys() | got.keys() if truth[k] != got[k])}")

    if args.url:
        fleet(args.url)
    else:
        import servers  # type: ignore[import-not-found]  # tests/servers.py, found through sys.path

        with servers.postgres() as pg:
            fleet(pg.new_database())
    server.shutdown()


if __name__ == "__main__":
    main()
