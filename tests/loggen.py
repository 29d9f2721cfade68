"""Access logs with known ground truth, written the way nginx and Apache write them.

The generator decides what every request *is* (a listing view by a person,
a photo of a listing, a bot, a HEAD, a 404, a damaged line, ...) and records
the expected count of each view by construction. It shares no code with
logtrack, so a bug in logtrack's parsing or classification cannot hide in
the expected numbers.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

HUMAN_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
    # a quote inside the user agent: Apache writes \", nginx \x22
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64; "quoted" build) Gecko/20100101 Firefox/128.0',
]
BOT_AGENTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "curl/8.5.0",
    "python-requests/2.32.3",
]

# supplier name -> referrer hosts that must map to it
SUPPLIERS = {
    "Zillow": ["https://www.zillow.com/homedetails/x/", "https://zillow.com/", "https://m.trulia.com/p/"],
    "Realtor.com": ["https://www.realtor.com/realestateandhomes-detail/x"],
    "Homes & Land <HL>": ["http://homes.example-portal.net/search?a=1&b=2"],
}
# referrers that must fall to the default supplier ("Other")
OTHER_REFERRERS = [
    "-",
    "https://www.google.com/",
    "https://notzillow.com/listing",  # lookalike of zillow.com
    "https://zillow.com.evil.example/",  # zillow.com as a label, not the domain
    "https://www.bing.com/search?q=homes",
    'https://example.org/page?q="quoted"',
]
VHOST_SUPPLIER = ("Partner IDX", "idx.partner-homes.example")
OWN_VHOST = "www.brokerage.example"

CONFIG_TOML = """\
[logs]
format = "{format}"
{timezone_line}

[listings]
patterns = [
    '^/listing/(?P<id>[0-9]{{6,10}})(?:/[0-9][a-z0-9-]*)?/?(?:\\?.*)?$',
    '^/homes/[A-Za-z0-9-]+-(?P<id>[0-9]{{6,10}})/?(?:\\?.*)?$',
    '^/idx/detail\\.php\\?(?:[^#]*&)?mls=(?P<id>[0-9]{{6,10}})(?:&.*)?$',
]

[[suppliers]]
name = "Zillow"
referrer = ["zillow.com", "trulia.com"]

[[suppliers]]
name = "Realtor.com"
referrer = ["realtor.com"]

[[suppliers]]
name = "Homes & Land <HL>"
referrer = ["homes.example-portal.net"]

[[suppliers]]
name = "Partner IDX"
host = ["idx.partner-homes.example"]

[filters]
status = [200, 304]
methods = ["GET"]
exclude_bots = true

[viewtracking]
default_supplier = ""
"""


def config_toml(fmt: str = "auto", tz: str | None = "America/Chicago") -> str:
    tz_line = f'timezone = "{tz}"' if tz else ""
    return CONFIG_TOML.format(format=fmt, timezone_line=tz_line)


def listing_url(rng: random.Random, listing: str) -> str:
    """One of the URL shapes a listing detail page has on real sites."""
    shape = rng.randrange(6)
    if shape == 0:
        return f"/listing/{listing}"
    if shape == 1:
        return f"/listing/{listing}/123-main-st-springfield"
    if shape == 2:
        return f"/listing/{listing}/?utm_source=zillow&utm_medium=feed"
    if shape == 3:
        return f"/homes/123-Oak-Ave-Springfield-IL-{listing}/"
    if shape == 4:
        return f"/idx/detail.php?mls={listing}"
    return f"/idx/detail.php?agent=7&mls={listing}&ref=%22x%22"


def non_view_url(rng: random.Random, listing: str) -> str:
    """Pages and assets that are not a listing detail view."""
    return rng.choice([
        f"/listing/{listing}/photos/{rng.randrange(1, 30)}.jpg",
        f"/listing/{listing}/photos/",
        f"/listing/{listing}/contact",
        f"/homes/123-Oak-Ave-Springfield-IL-{listing}/virtual-tour",
        f"/idx/detail.php?mls={listing}x",
        "/search?city=Springfield&beds=3",
        "/assets/app.3f9a1c.js",
        "/assets/site.css",
        "/favicon.ico",
        "/",
        "/robots.txt",
        f"/api/listings/{listing}.json",
        "/listing/",
    ])


@dataclass
class Hit:
    when: datetime  # aware
    method: str
    target: str
    status: int
    referrer: str
    agent: str
    vhost: str
    client: str
    size: int
    login: str = "-"  # Basic auth's login; "" one sent empty (Apache writes it as "", nginx as nothing)


@dataclass
class Generated:
    lines: list[bytes] = field(default_factory=list)
    # (day iso, supplier, listing) -> views, with the day in the report time zone
    expected: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    # the same with the day in each line's own offset
    expected_local: Counter[tuple[str, str, str]] = field(default_factory=Counter)


def clf_time(when: datetime) -> str:
    off = when.utcoffset() or timedelta(0)
    sign = "-" if off < timedelta(0) else "+"
    minutes = abs(int(off.total_seconds())) // 60
    return (
        f"{when.day:02d}/{MONTHS[when.month - 1]}/{when.year}:"
        f"{when:%H:%M:%S} {sign}{minutes // 60:02d}{minutes % 60:02d}"
    )


_APACHE_NAMED = {"\b": "\\b", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
                 '"': '\\"', "\\": "\\\\"}


def escape(text: str, style: str) -> str:
    """Escape a field as the server writes it.

    Apache (ap_escape_logitem): \\" and \\\\, \\n-style names for common control
    characters, \\xhh for any other byte that is not printable ASCII. nginx
    (escape=default): \\xHH for ", \\, control characters and bytes >= 0x7F.
    """
    out = []
    for ch in text:
        if style == "apache" and ch in _APACHE_NAMED:
            out.append(_APACHE_NAMED[ch])
        elif ch in '"\\' or ord(ch) < 0x20 or ord(ch) >= 0x7F:
            hexfmt = "\\x{:02x}" if style == "apache" else "\\x{:02X}"
            out.extend(hexfmt.format(b) for b in ch.encode())
        else:
            out.append(ch)
    return "".join(out)


def render(hit: Hit, fmt: str, style: str) -> str:
    req = escape(f"{hit.method} {hit.target} HTTP/1.1", style)
    ref, ua = escape(hit.referrer, style), escape(hit.agent, style)
    login = hit.login or ('""' if style == "apache" else "")
    base = f'{hit.client} - {login} [{clf_time(hit.when)}] "{req}" {hit.status} {hit.size}'
    if fmt == "common":
        return base
    if fmt == "combined":
        return f'{base} "{ref}" "{ua}"'
    if fmt == "combined_xff":  # nginx `main`: an extra "$http_x_forwarded_for"
        return f'{base} "{ref}" "{ua}" "10.1.2.3, 192.0.2.7"'
    if fmt == "traefik":  # Traefik's "common": combined, then its request count, router, server and duration
        return f'{base} "{ref}" "{ua}" 42 "listing@docker" "http://10.0.0.2:80" 3ms'
    if fmt == "host_combined":
        return f'{hit.vhost} {base} "{ref}" "{ua}"'
    if fmt == "vhost_common":
        return f"{hit.vhost} {base}"
    assert fmt == "vhost_combined"
    return f'{hit.vhost}:443 {base} "{ref}" "{ua}"'


DAMAGED_LINES = [
    b"",  # blank
    b"this is not an access log line",
    b'203.0.113.9 - - [31/Nov/2026:10:00:00 -0600] "GET /listing/1234567 HTTP/1.1" 200 5 "-" "x"',
    b'203.0.113.9 - - [01/Nov/2026:10:00:00 -0600] "GET /listing/1234567 HTTP/1.1" 200 5 "-" "\xff\xfe"',
    b'203.0.113.9 - - [01/Nov/2026:10:00:00 -0600] "GET /listing/1234567',  # cut short
]
ODD_REQUESTS = [('"-"', 408), ('""', 400), ('"hello"', 400), ('"\\x16\\x03\\x01"', 400)]


def generate(
    seed: int,
    n: int,
    fmt: str,
    style: str,
    offsets_hours: list[float],
    report_tz: str | None,
    start: datetime,
    days: int,
    damaged_every: int = 0,
    chronological: bool = False,
) -> Generated:
    """``n`` requests spread over ``days`` days, a quarter of them within a
    minute of a midnight; expected counts by construction."""
    rng = random.Random(seed)
    out = Generated()
    listings = [str(rng.randrange(1_000_000, 99_999_999)) for _ in range(40)]
    zone = ZoneInfo(report_tz) if report_tz else None
    with_vhost = fmt == "vhost_combined"
    with_referrer = fmt != "common"
    stamped: list[tuple[datetime, bytes]] = []
    when = start
    for i in range(n):
        if damaged_every and i % damaged_every == damaged_every - 1:
            stamped.append((when, rng.choice(DAMAGED_LINES)))
            continue
        offset = timezone(timedelta(hours=rng.choice(offsets_hours)))
        if rng.random() < 0.25:
            day = start + timedelta(days=rng.randrange(days + 1))
            local_midnight = datetime(day.year, day.month, day.day, tzinfo=offset)
            when = local_midnight + timedelta(seconds=rng.randrange(-60, 60))
        else:
            when = (start + timedelta(seconds=rng.randrange(days * 86400))).astimezone(offset)
        listing = rng.choice(listings)
        kind = rng.random()
        if with_vhost and rng.random() < 0.2:
            vhost, supplier, referrer = VHOST_SUPPLIER[1], VHOST_SUPPLIER[0], rng.choice(OTHER_REFERRERS)
        elif with_referrer and rng.random() < 0.6:
            supplier = rng.choice(list(SUPPLIERS))
            referrer = rng.choice(SUPPLIERS[supplier])
            vhost = OWN_VHOST
        else:
            supplier, referrer, vhost = "", rng.choice(OTHER_REFERRERS), OWN_VHOST
        hit = Hit(when, "GET", listing_url(rng, listing), 200, referrer,
                  rng.choice(HUMAN_AGENTS), vhost, rng.choice(CLIENTS), rng.randrange(0, 90000))
        counted = True
        line = None
        if kind < 0.15:
            hit.target, counted = non_view_url(rng, listing), False
        elif kind < 0.22 and with_referrer:
            hit.agent, counted = rng.choice(BOT_AGENTS), False
        elif kind < 0.26:
            hit.method, counted = rng.choice(["HEAD", "POST", "OPTIONS"]), False
        elif kind < 0.32:
            hit.status, counted = rng.choice([404, 301, 302, 500, 206, 403]), False
        elif kind < 0.36:
            hit.status = 304
        elif kind < 0.38:
            req, status = rng.choice(ODD_REQUESTS)
            good = f'"{escape(f"GET {hit.target} HTTP/1.1", style)}" 200'
            line = render(hit, fmt, style).replace(good, f"{req} {status}")
            counted = False
        stamped.append((when, (line or render(hit, fmt, style)).encode()))
        if counted:
            local = hit.when.date().isoformat()
            day = hit.when.astimezone(zone).date().isoformat() if zone else local
            out.expected[(day, supplier, listing)] += 1
            out.expected_local[(local, supplier, listing)] += 1
    if chronological:
        stamped.sort(key=lambda pair: pair[0])
    out.lines = [line for _, line in stamped]
    return out


CLIENTS = [
    "203.0.113.7",
    "198.51.100.23",
    "2001:db8::1f",
    "::1",
    "10.0.0.2, 10.0.0.1, 127.0.0.1",  # an X-Forwarded-For list as the client
    "crawl-66-249-66-1.googlebot.com",
]

START = datetime(2026, 11, 1, tzinfo=UTC)
