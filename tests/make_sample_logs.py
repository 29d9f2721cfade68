"""Write sample_logs/ and its expected counts (run from the repository root).

    python tests/make_sample_logs.py
    logtrack xml sample_logs/ -c sample_logs/logtrack.toml -o tests/golden/sample_logs.xml

The logs are made by tests/loggen.py with fixed seeds, so they are the same
on every run; the expected counts come from the generator, not from
logtrack, and tests/e2e/test_sample_logs.py holds logtrack to them.
"""

from __future__ import annotations

import gzip
import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import loggen

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "sample_logs"
GOLDEN = ROOT / "tests" / "golden"
TZ = "America/Chicago"

# (file, format, escape style, server UTC offsets, first day, days, lines, seed)
FILES = [
    ("access.log", "combined", "nginx", [-6], datetime(2026, 11, 20, tzinfo=UTC), 3, 3000, 11),
    ("access.log.1.gz", "combined", "nginx", [-6], datetime(2026, 11, 17, tzinfo=UTC), 3, 1500, 12),
    ("other_vhosts_access.log", "vhost_combined", "apache", [0], datetime(2026, 11, 17, tzinfo=UTC), 6, 3000, 13),
]

ERROR_LOG = """\
2026/11/22 03:14:07 [error] 812#812: *1 open() "/var/www/html/wp-login.php" failed (2: No such file or directory), client: 198.51.100.4, server: www.brokerage.example, request: "GET /wp-login.php HTTP/1.1", host: "www.brokerage.example"
2026/11/22 09:41:55 [warn] 812#812: *2 an upstream response is buffered to a temporary file /var/cache/nginx/proxy_temp/1/00/0000000001 while reading upstream, client: 203.0.113.7, server: www.brokerage.example, request: "GET /listing/20231234 HTTP/1.1"
"""


def main() -> None:
    OUT.mkdir(exist_ok=True)
    GOLDEN.mkdir(exist_ok=True)
    expected: Counter[tuple[str, str, str]] = Counter()
    for name, fmt, style, offsets, start, days, n, seed in FILES:
        gen = loggen.generate(seed, n, fmt, style, offsets, TZ, start, days, damaged_every=500, chronological=True)
        data = b"\n".join(gen.lines) + b"\n"
        path = OUT / name
        path.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
        expected.update(gen.expected)
    (OUT / "error.log").write_text(ERROR_LOG)
    (OUT / "logtrack.toml").write_text(
        "# Config for the sample logs: nginx combined (access.log*) and Apache\n"
        "# vhost_combined (other_vhosts_access.log), each recognised by format = \"auto\".\n"
        + loggen.config_toml("auto", TZ)
    )
    rows = [
        {"day": d, "supplier": s, "listing": listing, "views": v}
        for (d, s, listing), v in sorted(expected.items())
    ]
    (GOLDEN / "sample_logs.expected.json").write_text(json.dumps(rows, indent=0) + "\n")
    print(f"wrote {OUT} ({sum(expected.values())} views expected)")


if __name__ == "__main__":
    main()
