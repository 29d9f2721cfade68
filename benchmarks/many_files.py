"""A directory of small files (a CDN's five-minute logs): `xml` against a first `run`, and a run with nothing new.

    python benchmarks/many_files.py [--files 250] [--lines-each 4000] [--workdir /tmp/logtrack-bench] [--repeat 3]
                                    [--format combined|auto]

Splits the heavy log of `targets.py` (its first --files x --lines-each
lines) into --files files in a directory of their own, then times, each
the best of --repeat runs, whole process: `logtrack xml` on the directory,
a first `logtrack run --no-upload` into a new state, and a run again with
nothing new; and checks that the run's counts (`export`) are the XML's.
Wall time, CPU seconds (user+sys) per line, peak RSS. `--format auto`
leaves the format to `auto` (the configuration's default) instead of
naming it: each file's format is then judged from its lines.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import CONFIG  # noqa: E402
from targets import generate, measure  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=250)
    parser.add_argument("--lines-each", type=int, default=4000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/logtrack-bench"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--format", default="combined", help="the [logs] format to count in (auto: judged)")
    args = parser.parse_args()
    logtrack = shutil.which("logtrack") or sys.exit("logtrack is not installed (pip install -e .)")
    work: Path = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    conf = work / "logtrack.toml"
    conf.write_text(CONFIG)  # (the generator's own: it names the format)
    total = args.files * args.lines_each
    source = work / f"heavy-{max(total, 1_000_000)}.log"
    generate(source, max(total, 1_000_000), conf, "--agents", "30000")
    with tempfile.TemporaryDirectory(prefix="logtrack-many-") as tmp:
        logs = Path(tmp) / "logs"
        logs.mkdir()
        with open(source, "rb") as src:
            for n in range(args.files):
                with open(logs / f"access-{n:04d}.log", "wb") as dst:
                    dst.writelines(src.readline() for _ in range(args.lines_each))
        xml_out, state = Path(tmp) / "xml.xml", Path(tmp) / "state.db"
        conf = Path(tmp) / "logtrack.toml"
        conf.write_text(CONFIG.replace('format = "combined"', f'format = "{args.format}"'))

        def new_state() -> None:
            for stale in Path(tmp).glob("state.db*"):
                stale.unlink()

        xml = measure([logtrack, "xml", str(logs), "-c", str(conf), "-q", "-o", str(xml_out)], args.repeat)
        run_cmd = [logtrack, "run", str(logs), "-c", str(conf), "--state", str(state), "--no-upload", "-q"]
        run = measure(run_cmd, args.repeat, before=new_state)
        again = measure(run_cmd, args.repeat)
        exported = subprocess.run([logtrack, "export", "-c", str(conf), "--state", str(state)], check=True,
                                  capture_output=True).stdout
        same = exported == xml_out.read_bytes()
    print(f"{args.files} files of {args.lines_each:,} lines ({total:,}), format {args.format}; best of {args.repeat}")
    for label, m in (("xml", xml), ("run, first", run), ("run, nothing new", again)):
        print(f"{label:<18}{m.wall:7.2f} s {m.cpu / total * 1e6:6.2f} µs CPU/line {m.rss_mib:6,} MiB")
    print(f"first run / xml: {run.wall / xml.wall:.2f}x; the run's counts {'are' if same else 'ARE NOT'} the XML's")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
