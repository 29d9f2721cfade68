"""Write a large, realistic nginx combined access log for benchmarks.

    python benchmarks/generate.py OUT.log --lines 5000000 [--gzip]

About a third of the lines are listing detail views; the rest are photos,
assets, search pages, bots and errors, with referrers from portals (most
naming the listing, so there are nearly as many referrers as listings) and
search engines, as a listing site sees them. 50,000 clients use some
20,000 distinct browser versions and a few bots. One line in 5,000 is odd
(an escaped quote, a "-" request, an empty user agent). Lines are in time
order over a few days. Deterministic for a given --seed.
"""

from __future__ import annotations

import argparse
import gzip
import random
from datetime import UTC, datetime, timedelta

BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    "curl/8.5.0", "python-requests/2.32.3", "Go-http-client/1.1",
]
DEVICES = ["Pixel 8", "Pixel 7a", "SM-S918B", "SM-A546B", "moto g power (2023)", "CPH2449", "2201116SG"]
REFERRERS = ["-", "-", "-", "https://www.google.com/", "https://www.bing.com/", "https://duckduckgo.com/"]


def agent_pool(rng: random.Random, n: int) -> list[str]:
    """Browser agents as a real day's log holds them: thousands of distinct versions and devices."""
    pool = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.45:
            major = rng.randrange(109, 132)
            pool.append(f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                        f"Chrome/{major}.0.{rng.randrange(5000, 6800)}.{rng.randrange(0, 200)} Safari/537.36")
        elif kind < 0.7:
            ios = f"{rng.randrange(15, 18)}_{rng.randrange(0, 7)}"
            pool.append(f"Mozilla/5.0 (iPhone; CPU iPhone OS {ios} like Mac OS X) AppleWebKit/605.1.15 "
                        f"(KHTML, like Gecko) Version/{ios.replace('_', '.')} Mobile/15E{rng.randrange(100, 300)} "
                        "Safari/604.1")
        elif kind < 0.9:
            pool.append(f"Mozilla/5.0 (Linux; Android {rng.randrange(10, 15)}; {rng.choice(DEVICES)}) "
                        f"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{rng.randrange(109, 132)}.0.0.0 "
                        "Mobile Safari/537.36")
        else:
            pool.append(f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_{rng.randrange(0, 8)}) AppleWebKit/605.1.15 "
                        f"(KHTML, like Gecko) Version/{rng.randrange(15, 18)}.{rng.randrange(0, 6)} "
                        "Safari/605.1.15")
    return pool


def referrer(rng: random.Random, listing: str, light: bool = False) -> str:
    """Portals link to the listing itself, so referrers are nearly as many as listings (light: to their home)."""
    r = rng.random()
    if light:
        return ["https://www.zillow.com/", "https://www.realtor.com/", "https://www.trulia.com/"][int(r * 3)] \
            if r < 0.25 else rng.choice(REFERRERS)
    if r < 0.15:
        return f"https://www.zillow.com/homedetails/{rng.randrange(1, 9999)}-main-st/{listing}_zpid/"
    if r < 0.22:
        return f"https://www.realtor.com/realestateandhomes-detail/M{listing}"
    if r < 0.25:
        return f"https://www.trulia.com/home/{listing}"
    if r < 0.45:
        return f"https://www.brokerage.example/search?city=springfield&page={rng.randrange(1, 50)}"
    return rng.choice(REFERRERS)


# Now and then what real logs hold besides well-formed requests: a scanner's
# escaped quote, a request never sent, an empty user agent.
ODD = [
    '"GET /search?q=\\"or 1=1-- HTTP/1.1" 400 150 "-" "sqlmap/1.7"',
    '"-" 408 0 "-" "-"',
    '"GET /listing/{listing} HTTP/1.1" 200 5120 "-" ""',
]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

CONFIG = """\
[logs]
format = "combined"
timezone = "America/Chicago"

[listings]
patterns = ['^/listing/(?P<id>[0-9]{6,10})(?:/[0-9][a-z0-9-]*)?/?(?:\\?.*)?$']

[[suppliers]]
name = "Zillow"
referrer = ["zillow.com", "trulia.com"]

[[suppliers]]
name = "Realtor.com"
referrer = ["realtor.com"]
"""


def lines(first: int, n: int, total: int, seed: int, agents: int = 20_000, light: bool = False) -> list[str]:
    """Lines first .. first+n of a log of ``total`` lines over three days.

    Listings and clients come from the seed alone, so every chunk of a large
    log shares them, and the clock runs on across chunks.
    """
    base = random.Random(seed)
    listings = [str(base.randrange(10_000_000, 99_999_999)) for _ in range(20_000)]
    ips = [f"{base.randrange(1, 224)}.{base.randrange(256)}.{base.randrange(256)}.{base.randrange(256)}"
           for _ in range(50_000)]
    browsers = agent_pool(base, agents)
    agent_of = [base.choice(BOTS) if base.random() < 0.08 else base.choice(browsers) for _ in ips]
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
        client = rng.randrange(len(ips))
        if rng.random() < 0.0002:
            out.append(f"{ips[client]} - - [{stamp}] {rng.choice(ODD).format(listing=listing)}\n")
            continue
        out.append(
            f'{ips[client]} - - [{stamp}] "GET {target} HTTP/1.1" {status} {rng.randrange(200, 90000)} '
            f'"{referrer(rng, listing, light)}" "{agent_of[client]}"\n'
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--lines", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gzip", action="store_true")
    parser.add_argument("--config", help="also write a logtrack config for this log here")
    parser.add_argument("--agents", type=int, default=20_000, help="distinct browser agents to draw from")
    parser.add_argument("--light", action="store_true", help="referrers name portals, not listings")
    args = parser.parse_args()
    opener = gzip.open if args.gzip else open
    chunk = 500_000
    with opener(args.out, "wt") as fh:
        for first in range(0, args.lines, chunk):
            fh.writelines(lines(first, min(chunk, args.lines - first), args.lines, args.seed, args.agents,
                                args.light))
    if args.config:
        with open(args.config, "w") as fh:
            fh.write(CONFIG)


if __name__ == "__main__":
    main()
