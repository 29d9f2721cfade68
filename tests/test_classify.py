"""Classification: listing ids, suppliers, filters, bots, and the reporting day."""

from __future__ import annotations

import threading
from datetime import date

import polars as pl
import pytest

from logtrack import formats
from logtrack.config import CountingRules, SupplierRule
from logtrack.count.aggregate import day_expr
from logtrack.count.classify import _SEEDS, Classifier
from logtrack.parse.fields import parse_batch
from logtrack.read.sources import batch_of
from logtrack.verdicts.reasons import NotCounted

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"

CONFIG = CountingRules(
    patterns=(
        r"^/listing/(?P<id>[0-9]+)/?(?:\?.*)?$",
        r"^/homes/[a-z0-9-]+-(?P<id>[0-9]+)/?$",
        r"^/idx/detail\.php\?(?:.*&)?mls=(?P<id>[0-9]+)(?:&.*)?$",
        r"^/(?P<id>[0-9]+)$",  # never reached for /listing/..., first pattern wins
    ),
    suppliers=(
        SupplierRule("Zillow", referrer=("zillow.com", "trulia.com", "com.example.zillowapp")),
        SupplierRule("Realtor.com", referrer=("realtor.com",)),
        SupplierRule("Partner", host=("idx.partner.example",)),
    ),
)


def classify(line: str, config: CountingRules = CONFIG, fmt: str = "vhost_combined") -> dict[str, object]:
    df = parse_batch(batch_of("t.log", 1, line.encode()), formats.get(fmt))
    df = Classifier(config).classify(df).with_columns(day=day_expr(config.timezone))
    return df.row(0, named=True)


def line(target: str = "/listing/42", referrer: str = "-", agent: str = CHROME, status: int = 200,
         method: str = "GET", vhost: str = "www.site.example", stamp: str = "01/Nov/2026:10:00:00 -0500") -> str:
    return (f'{vhost}:443 203.0.113.7 - - [{stamp}] "{method} {target} HTTP/1.1" {status} 100 '
            f'"{referrer}" "{agent}"')


@pytest.mark.parametrize(
    ("target", "listing"),
    [
        ("/listing/42", "42"),
        ("/listing/42/", "42"),
        ("/listing/42?utm_source=x", "42"),
        ("/homes/12-oak-ave-springfield-77", "77"),
        ("/idx/detail.php?mls=555", "555"),
        ("/idx/detail.php?agent=1&mls=555&x=2", "555"),
        ("/listing/42/photos/1.jpg", None),
        ("/listing/abc", None),
        ("/idx/detail.php?xmls=555", None),
        ("/search?listing=42", None),
        ("/42", "42"),
    ],
)
def test_listing_id(target: str, listing: str | None) -> None:
    row = classify(line(target=target))
    assert row["listing"] == listing
    assert row["reason"] == (None if listing else NotCounted.NOT_LISTING.value)


@pytest.mark.parametrize(
    ("referrer", "vhost", "supplier"),
    [
        ("https://www.zillow.com/homedetails/1/", "www.site.example", "Zillow"),
        ("https://zillow.com/", "www.site.example", "Zillow"),
        ("http://ZILLOW.COM./x", "www.site.example", "Zillow"),
        ("https://user:pw@m.trulia.com:8443/p?x=1", "www.site.example", "Zillow"),
        ("https://www.realtor.com/realestateandhomes-detail/x", "www.site.example", "Realtor.com"),
        ("https://notzillow.com/", "www.site.example", ""),  # lookalike
        ("https://zillow.com.evil.example/", "www.site.example", ""),  # label, not domain
        ("https://evil.example/?r=https://zillow.com/", "www.site.example", ""),
        ("zillow.com", "www.site.example", ""),  # not a URL
        ("-", "www.site.example", ""),
        ("", "www.site.example", ""),
        ("-", "idx.partner.example", "Partner"),
        ("-", "IDX.Partner.Example", "Partner"),
        ("-", "sub.idx.partner.example", ""),  # host rules match exactly
        ("https://www.zillow.com/", "idx.partner.example", "Zillow"),  # first rule wins
        # an Android app's browser tab: its package name, listed beside the domains (README)
        ("android-app://com.example.zillowapp/", "www.site.example", "Zillow"),
        ("android-app://com.example.zillowapp.evil/", "www.site.example", ""),
    ],
)
def test_supplier(referrer: str, vhost: str, supplier: str) -> None:
    row = classify(line(referrer=referrer, vhost=vhost))
    assert row["supplier"] == supplier
    assert row["reason"] is None


def test_default_supplier_is_configurable() -> None:
    config = CountingRules(patterns=CONFIG.patterns, default_supplier="Direct")
    assert classify(line(), config)["supplier"] == "Direct"


@pytest.mark.parametrize(("target", "listing"), [
    ("/listing/12-oak", "12-oak"),
    ("/listing/12\x013", None),  # a control character, logged unescaped: no id XML can hold
    ("/listing/12\ufffe", None),
    ("/listing/12\u00e9", "12\u00e9"),
])
def test_an_id_xml_cannot_hold_is_no_listing(target: str, listing: str | None) -> None:
    config = CountingRules(patterns=(r"^/listing/(?P<id>[^/]+)$",))
    row = classify(line(target=target), config)
    assert row["listing"] == listing
    assert row["reason"] == (None if listing else NotCounted.NOT_LISTING.value)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({}, None),
        ({"status": 304}, None),
        ({"status": 404}, NotCounted.STATUS),
        ({"status": 301}, NotCounted.STATUS),
        ({"method": "HEAD"}, NotCounted.METHOD),
        ({"method": "POST"}, NotCounted.METHOD),
        ({"agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}, NotCounted.BOT),
        ({"agent": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"}, NotCounted.BOT),
        ({"agent": "curl/8.5.0"}, NotCounted.BOT),
        ({"target": "/about", "method": "HEAD"}, NotCounted.NOT_LISTING),  # first reason wins
    ],
)
def test_filters(kwargs: dict[str, object], reason: NotCounted | None) -> None:
    row = classify(line(**kwargs))  # type: ignore[arg-type]
    assert row["reason"] == (reason.value if reason else None)


def test_filters_are_configurable() -> None:
    config = CountingRules(patterns=CONFIG.patterns, status=(200,), methods=("GET", "HEAD"), exclude_bots=False)
    assert classify(line(status=304), config)["reason"] == NotCounted.STATUS.value
    assert classify(line(method="HEAD"), config)["reason"] is None
    assert classify(line(agent="curl/8.5.0"), config)["reason"] is None


@pytest.mark.parametrize(("vhost", "reason"), [
    ("www.site.example", None),
    ("WWW.Site.Example", None),  # case ignored (the port, :443, too)
    ("www.site.example.", None),  # a trailing dot
    ("other.example", NotCounted.VHOST),
    ("site.example", NotCounted.VHOST),  # a name, not a domain: no subdomain matching
])
def test_only_the_sites_virtual_hosts_count(vhost: str, reason: NotCounted | None) -> None:
    config = CountingRules(patterns=CONFIG.patterns, vhosts=("www.site.example", "idx.site.example"))
    assert classify(line(vhost=vhost), config)["reason"] == (reason.value if reason else None)
    assert classify(line(vhost=vhost, status=404), config)["reason"] == (reason or NotCounted.STATUS).value


def test_each_distinct_agent_is_classified_once() -> None:
    classifier = Classifier(CONFIG)
    text = "\n".join([line(agent="curl/8.5.0")] * 50 + [line()] * 50)
    df = classifier.classify(parse_batch(batch_of("t", 1, text.encode()), formats.get("vhost_combined")))
    assert df.get_column("reason").value_counts().sort("reason").rows() == [
        (None, 50), (NotCounted.BOT.value, 50)
    ]
    asked = pl.DataFrame({"ua": ["curl/8.5.0", CHROME]}).select(pl.col("ua").hash(seed).alias(str(seed)) for seed in _SEEDS)
    assert [sorted(seen.to_list()) for seen in classifier._asked] == [sorted(c.to_list()) for c in asked]
    assert classifier._bot_agents.to_list() == ["curl/8.5.0"]


@pytest.mark.parametrize("exclude_bots", [True, False])
def test_a_classifier_that_will_ask_builds_the_detector_on_the_asking_thread_at_once(
        exclude_bots: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Built before any batch asks (its regexes compile for some 25 ms), not in the first batch's critical path."""
    from logtrack.count import bots

    built: list[str] = []
    original = bots.BotDetector.__init__

    def recording(self: bots.BotDetector) -> None:
        built.append(threading.current_thread().name)
        original(self)

    monkeypatch.setattr(bots.BotDetector, "__init__", recording)
    bots.detector.cache_clear()
    try:
        Classifier(CountingRules(patterns=CONFIG.patterns, exclude_bots=exclude_bots))
        bots._asker().submit(lambda: None).result()  # what was handed to the asking thread is done
        assert [name.startswith("logtrack-bots") for name in built] == ([True] if exclude_bots else [])
    finally:
        bots.detector.cache_clear()  # the next test's detector is built without the recording


@pytest.mark.parametrize(("kwargs", "asked"), [
    ({}, True),
    ({"status": 304}, True),
    ({"status": 404}, False),  # not counted whatever its agent: crawlerdetect is not asked
    ({"method": "POST"}, False),
    ({"vhost": "other.example"}, False),
    ({"target": "/about"}, False),
    ({"target": "/listing/42 junk"}, False),  # a malformed request line
])
def test_only_the_agents_of_rows_that_reach_the_bot_check_are_asked(kwargs: dict[str, object],
                                                                      asked: bool) -> None:
    config = CountingRules(patterns=CONFIG.patterns, vhosts=("www.site.example",))
    classifier = Classifier(config)
    classifier.classify(parse_batch(batch_of("t", 1, line(agent="curl/8.5.0", **kwargs).encode()),  # type: ignore[arg-type]
                                    formats.get("vhost_combined")))
    assert (classifier._asked[0].len() == 1) is asked
    assert (classifier._bot_agents.to_list() == ["curl/8.5.0"]) is asked


# The reporting day: near midnight, in several offsets, with and without a zone.
@pytest.mark.parametrize(
    ("stamp", "timezone", "day"),
    [
        ("01/Nov/2026:23:59:59 -0500", None, date(2026, 11, 1)),
        ("02/Nov/2026:00:00:01 -0500", None, date(2026, 11, 2)),
        ("02/Nov/2026:04:30:00 +0000", None, date(2026, 11, 2)),
        ("02/Nov/2026:04:30:00 +0000", "America/Chicago", date(2026, 11, 1)),
        ("02/Nov/2026:06:30:00 +0000", "America/Chicago", date(2026, 11, 2)),
        ("01/Nov/2026:23:59:59 -0600", "America/Chicago", date(2026, 11, 1)),
        ("02/Nov/2026:00:00:00 -0600", "America/Chicago", date(2026, 11, 2)),
        ("02/Nov/2026:00:30:00 +0530", "UTC", date(2026, 11, 1)),
        ("31/Dec/2026:23:59:59 +1400", "America/Chicago", date(2026, 12, 31)),
        ("01/Jan/2027:00:00:00 +1400", "America/Chicago", date(2026, 12, 31)),
        ("01/Jan/2027:00:00:00 +1400", None, date(2027, 1, 1)),
        # the daylight-saving change in Chicago: 01:30 happens twice on 1 Nov 2026
        ("01/Nov/2026:06:30:00 +0000", "America/Chicago", date(2026, 11, 1)),
        ("01/Nov/2026:04:59:59 +0000", "America/Chicago", date(2026, 10, 31)),
        ("01/Nov/2026:05:00:00 +0000", "America/Chicago", date(2026, 11, 1)),
    ],
)
def test_day(stamp: str, timezone: str | None, day: date) -> None:
    config = CountingRules(patterns=CONFIG.patterns, timezone=timezone)
    assert classify(line(stamp=stamp), config)["day"] == day


# One line per row, each holding two or more reasons: the first in decide.ORDER (the README's table) wins,
# on the hot path (count_batch), as on the whole-frame path above.
BAD_TIME = "31/Nov/2026:10:00:00 -0500"
LATER = "02/Nov/2026:10:00:00 -0500"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (line(target="/about", stamp=BAD_TIME), "bad timestamp"),  # damage before "not a listing page"
        (line(target="/about", status=404, agent="curl/8.5.0", stamp=LATER), NotCounted.NOT_LISTING.value),
        (line(method="POST", status=404, agent="curl/8.5.0", stamp=LATER), NotCounted.METHOD.value),
        (line(status=404, agent="curl/8.5.0", stamp=LATER), NotCounted.STATUS.value),
        (line(agent="curl/8.5.0", stamp=LATER), NotCounted.BOT.value),
        (line(target="/about", agent="curl/8.5.0"), NotCounted.COUNTED_BEFORE.value),  # timed before ``since``
        (line().replace('"GET /listing/42 HTTP/1.1"', '"-"'), "request names no page"),
        (line().replace('"GET /listing/42 HTTP/1.1"', '"\\x16\\x03\\x01"'), "malformed request line"),
        ("garbage " + line(target="/about").replace(" 200 ", " OK "), "does not match the log format"),
        ("   ", "blank line"),
    ],
)
def test_the_first_reason_of_the_table_wins(text: str, reason: str) -> None:
    from datetime import UTC, datetime

    from logtrack.count.batch import count_batch

    since = int(datetime(2026, 11, 1, 23, 0, tzinfo=UTC).timestamp() * 1_000_000)
    batch = batch_of("t.log", 1, f"{line(stamp=LATER)}\n{text}".encode())  # a view, then the line
    summary = count_batch(batch, formats.get("vhost_combined"), Classifier(CONFIG), None, since=since)
    assert [(r, n, line_no) for r, n, line_no, _ in summary.reasons] == [(reason, 1, 2)]
    assert int(summary.counts.get_column("views").sum()) == 1


def test_a_line_glued_to_a_cut_ones_remains_is_read_by_its_tail_when_read_again() -> None:
    """After a crash cut a file back mid-line, the next line was written onto the cut one's remains."""
    from datetime import UTC, datetime

    from logtrack.count.batch import count_batch

    since = int(datetime(2026, 11, 1, 23, 0, tzinfo=UTC).timestamp() * 1_000_000)
    glued = line(target="/about")[:37] + line(stamp=LATER)
    batch = batch_of("t.log", 1, glued.encode())
    again = count_batch(batch, formats.get("vhost_combined"), Classifier(CONFIG), None, since=since)
    assert int(again.counts.get_column("views").sum()) == 1
    first = count_batch(batch, formats.get("vhost_combined"), Classifier(CONFIG), None)  # not after a cut back
    assert [r for r, *_ in first.reasons] == ["does not match the log format"]


# A request in absolute form (varnishncsa writes every one so; on nginx and Apache a client that takes the server
# for a proxy sends one): the server serves the URL's path, in the virtual host it names.
@pytest.mark.parametrize(("fmt", "target", "vhost", "listing", "supplier", "reason"), [
    ("combined", "http://idx.partner.example/listing/43", "-", "43", "Partner", None),
    ("combined", "https://www.site.example:443/listing/43?utm=x", "-", "43", "", None),
    ("combined", "HTTP://user@IDX.Partner.Example:80/listing/43/", "-", "43", "Partner", None),
    ("combined", "http://idx.partner.example", "-", None, None, NotCounted.NOT_LISTING),  # the path "/"
    ("combined", "http://h/listing/43/photos/1.jpg", "-", None, None, NotCounted.NOT_LISTING),
    ("combined", "//idx.partner.example/listing/43", "-", None, None, NotCounted.NOT_LISTING),  # no URL: a path
    ("combined", "*", "-", None, None, NotCounted.NOT_LISTING),
    ("combined", "listing/43", "-", None, None, NotCounted.NOT_LISTING),
    # a virtual host the format logs stays the one logged
    ("vhost_combined", "http://idx.partner.example/listing/43", "www.site.example", "43", "", None),
    ("vhost_combined", "http://www.site.example/listing/43", "idx.partner.example", "43", "Partner", None),
])
def test_a_target_in_absolute_form_is_its_path(fmt: str, target: str, vhost: str, listing: str | None,
                                                supplier: str | None, reason: NotCounted | None) -> None:
    from logtrack.count.batch import count_batch

    view = line(target="/listing/42", vhost=vhost)
    text = line(target=target, vhost=vhost)
    if fmt == "combined":
        view, text = view.split(" ", 1)[1], text.split(" ", 1)[1]
    # the whole-frame path (explain) and the counting's, where a batch of paths and URLs reads the URLs apart
    row = classify(text, fmt=fmt)
    assert (row["listing"], row["reason"]) == (listing, reason.value if reason else None)
    summary = count_batch(batch_of("t.log", 1, f"{view}\n{text}".encode()), formats.get(fmt), Classifier(CONFIG),
                          None)
    counted = {(r["supplier"], r["listing"]): r["views"] for r in summary.counts.iter_rows(named=True)}
    view_supplier = "Partner" if vhost == "idx.partner.example" else ""
    if reason is None:
        assert row["supplier"] == supplier
        assert counted == ({(view_supplier, "42"): 1} | {(supplier, listing): 1})
        assert summary.reasons == []
    else:
        assert counted == {(view_supplier, "42"): 1}
        assert [(r, n, line_no) for r, n, line_no, _ in summary.reasons] == [(reason.value, 1, 2)]
