"""Write a large, realistic nginx combined access log for benchmarks.

    python benchmarks/generate.py OUT.log --lines 5000000 [--gzip]

About a third of the lines are listing detail views; the rest are photos,
assets, search pages, bots and errors, with referrers from portals and
search engines, as a listing site sees them. Lines are in time order over
a few days. Deterministic for a given --seed.
"""

from __future__ import annotations

import argparse
import gzip
import random
from datetime import UTC, datetime, timedelta

AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile "
    "Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
]
REFERRERS = [
    "-", "-", "https://www.zillow.com/homedetails/x/", "https://www.realtor.com/realestateandhomes-detail/x",
    "https://www.google.com/", "https://www.trulia.com/p/", "https://www.brokerage.example/search?city=x",
]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

CONFIG = """\
[logs]
format = "combined"
timezone = "America/Chicago"

[listings]
patterns = ['^/listing/(?P<id>[0-9]{6,10})(?:/[0-9][a-z0-9-]*)?/?(?:\\\\?.*)?$']

[[suppliers]]
name = "Zillow"
referrer = ["zillow.com", "trulia.com"]

[[suppliers]]
name = "Realtor.com"
referrer = ["realtor.com"]
"""


def lines(first: int, n: int, total: int, seed: int) -> list[str]:
    """Lines first .. first+n of a log of ``total`` lines over three days.

    Listings and clients come from the seed alone, so every chunk of a large
    log shares them, and the clock runs on across chunks.
    """
    base = random.Random(seed)
    listings = [str(base.randrange(10_000_000, 99_999_999)) for _ in range(20_000)]
    ips = [f"{base.randrange(1, 224)}.{base.randrange(256)}.{base.randrange(256)}.{base.randrange(256)}"
           for _ in range(5000)]
    rng = random.Random(seed * 1_000_003 + first)
    start = datetime(2026, 11, 1, 6, tzinfo=UTC)
    step = 3 * 86400 / total
    out = []
    for i in range(first, first + n):
        when = start + timedelta(seconds=i * step, hours=-6)
        stamp = f"{when.day:02d}/{MONTHS[when.month - 1]}/{when.year}:{when:%H:%M:%S} -0600"
        listing = rng.choice(listings)
        r = rng.random()
        if r < 0.34:
            target = f"/listing/{listing}" if r < 0.2 else f"/listing/{listing}/123-main-st"
        elif r < 0.7:
            target = f"/listing/{listing}/photos/{rng.randrange(1, 40)}.jpg"
        elif r < 0.85:
            target = rng.choice(["/assets/app.3f9a1c.js", "/assets/site.css", "/favicon.ico"])
        else:
            target = f"/search?city=springfield&page={rng.randrange(1, 50)}"
        status = 200 if rng.random() < 0.93 else rng.choice([304, 404, 301])
        out.append(
            f'{rng.choice(ips)} - - [{stamp}] "GET {target} HTTP/1.1" {status} {rng.randrange(200, 90000)} '
            f'"{rng.choice(REFERRERS)}" "{rng.choice(AGENTS)}"\n'
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--lines", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gzip", action="store_true")
    parser.add_argument("--config", help="also write a logtrack config for this log here")
    args = parser.parse_args()
    opener = gzip.open if args.gzip else open
    chunk = 500_000
    with opener(args.out, "wt") as fh:
        for first in range(0, args.lines, chunk):
            fh.writelines(lines(first, min(chunk, args.lines - first), args.lines, args.seed))
    if args.config:
        with open(args.config, "w") as fh:
            fh.write(CONFIG)


if __name__ == "__main__":
    main()
