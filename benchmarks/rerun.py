"""Time `logtrack run` over files it has already read (the every-day cron case).

    python benchmarks/rerun.py [--lines 1000000] [--rotated 5]

Writes an access.log and gzip-rotated siblings, runs `logtrack run --no-upload`
once to read them, then times further runs, which must find nothing new.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines in each file")
    parser.add_argument("--rotated", type=int, default=5, help="gzip-rotated siblings besides access.log")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    logtrack = shutil.which("logtrack") or sys.exit("logtrack is not installed (pip install -e .)")
    with tempfile.TemporaryDirectory(prefix="logtrack-rerun-") as tmp:
        work = Path(tmp)
        logs = work / "logs"
        logs.mkdir()
        conf = work / "logtrack.toml"
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(logs / "access.log"),
                        "--lines", str(args.lines), "--config", str(conf)], check=True)
        data = (logs / "access.log").read_bytes()
        for i in range(1, args.rotated + 1):
            older = data.replace(b"Nov/2026", f"Oct/20{i:02d}".encode())  # another file, by content
            (logs / f"access.log.{i}.gz").write_bytes(gzip.compress(older, 1))
        state = work / "state.db"
        cmd = [logtrack, "run", str(logs), "--config", str(conf), "--state", str(state), "--no-upload", "-q"]
        start = time.perf_counter()
        subprocess.run(cmd, check=True)
        first = time.perf_counter() - start
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            subprocess.run(cmd, check=True)
            times.append(time.perf_counter() - start)
        total = args.lines * (args.rotated + 1)
        print(f"{args.rotated + 1} files, {total:,} lines: first run {first:.2f} s; "
              f"runs with nothing new: best {min(times):.2f} s, median {sorted(times)[len(times) // 2]:.2f} s")


if __name__ == "__main__":
    main()
