"""Whole small files counted as one batch (``count_files``) give each file the summary it would get alone.

A directory of small files (a CDN's five-minute logs) is counted a batch
of several files at a time; each file's lines, reasons, line numbers,
example lines, latest time, counts, lines per day and ``--strict`` error
must still be its own (``run`` commits each file's counts with its read
position).
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_properties import APACHE_CUSTOM, NGINX_JSON, NGINX_JSON_PARTS, NGINX_MAIN, render_other

from logtrack import formats
from logtrack.config import CountingRules
from logtrack.count.batch import count_batch, count_files, joins_files
from logtrack.count.classify import Classifier
from logtrack.count.tally import BatchSummary
from logtrack.errors import InputError
from logtrack.read.sources import Batch, batch_of

import loggen

RULES = CountingRules(patterns=(r"^/listing/(?P<id>[0-9]+)$",))

VIEW = '203.0.113.{i} - - [01/Nov/2026:{h:02d}:30:00 -0500] "GET /listing/{i} HTTP/1.1" 200 5 "https://www.zillow.com/x" ' \
       '"Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"'
ASSET = '203.0.113.9 - - [01/Nov/2026:23:59:00 -0500] "GET /style.css HTTP/1.1" 200 5 "-" "Mozilla/5.0"'
BOT = '66.249.66.1 - - [02/Nov/2026:00:10:00 -0500] "GET /listing/7 HTTP/1.1" 200 5 "-" ' \
      '"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"'
ESCAPED = '203.0.113.7 - - [01/Nov/2026:10:00:00 -0500] "GET /listing/8 HTTP/1.1" 200 5 "-" "Mozilla \\"quoted\\" x"'
BAD_TIME = '203.0.113.9 - - [31/Nov/2026:10:00:00 -0500] "GET /listing/3 HTTP/1.1" 200 5 "-" "Mozilla/5.0"'
JUNK = "not a log line at all"
UTF8 = b'203.0.113.9 - - [01/Nov/2026:10:00:00 -0500] "GET /listing/4 HTTP/1.1" 200 5 "-" "\xff\xfe"'
CRLF = VIEW.format(i=5, h=11) + "\r"

# Each case: the files' lines (bytes or text), in order.
FILES: dict[str, list[list[str | bytes]]] = {
    "views in each": [[VIEW.format(i=1, h=1), ASSET], [VIEW.format(i=2, h=2)], [VIEW.format(i=1, h=3), BOT]],
    "damage in the second": [[VIEW.format(i=1, h=1)], [ASSET, JUNK, VIEW.format(i=2, h=4), JUNK], [ASSET]],
    # a timeless line first in a file takes the time of the line after it in its own file, not the file before
    "timeless at a file's start": [[VIEW.format(i=1, h=23), ASSET], [BAD_TIME, JUNK, BOT], [JUNK]],
    "nothing timed in a file": [[VIEW.format(i=1, h=1)], [JUNK, BAD_TIME], [VIEW.format(i=6, h=5)]],
    "escaped quotes, invalid UTF-8, blank, CRLF": [[ESCAPED, "", CRLF], [UTF8, VIEW.format(i=2, h=2)], [""]],
    "one line each": [[VIEW.format(i=i, h=i)] for i in range(1, 9)],
}


def batches(files: list[list[str | bytes]]) -> list[Batch]:
    return [batch_of(f"access-{n}.log", 1, b"\n".join(x if isinstance(x, bytes) else x.encode() for x in lines))
            for n, lines in enumerate(files)]


def alone(summary: BatchSummary) -> tuple[object, ...]:
    """What a file's summary says of it (its reasons with their first line's number and text, its counts
    and lines per day)."""
    return (summary.source, summary.lines, [(reason, n, line_no, summary.line_text(idx))
                                            for reason, n, line_no, idx in summary.reasons], summary.last_ts,
            summed([summary.counts], ["day", "supplier", "listing"], "views"),
            summed([summary.outcomes], ["day", "outcome"], "lines"))


def summed(frames: list[pl.DataFrame | None], keys: list[str], value: str) -> Counter[tuple[object, ...]]:
    total: Counter[tuple[object, ...]] = Counter()
    for frame in frames:
        if frame is not None:
            for *key, n in frame.select(*keys, value).iter_rows():
                total[tuple(key)] += n
    return total


@pytest.mark.parametrize("timezone", [None, "America/Chicago"])
@pytest.mark.parametrize("case", FILES)
def test_each_file_gets_its_own_summary(case: str, timezone: str | None) -> None:
    parts = batches(FILES[case])
    fmt = formats.get("combined")
    one_by_one = [count_batch(part, fmt, Classifier(RULES), timezone) for part in parts]
    together = count_files(parts, fmt, Classifier(RULES), timezone)
    assert [alone(s) for s in together] == [alone(s) for s in one_by_one]
    for joined, single in zip(together, one_by_one, strict=True):  # each file's own counts and lines per day
        assert summed([joined.counts], ["day", "supplier", "listing"], "views") == \
            summed([single.counts], ["day", "supplier", "listing"], "views")
        assert summed([joined.outcomes], ["day", "outcome"], "lines") == \
            summed([single.outcomes], ["day", "outcome"], "lines")
        assert joined.counts.schema == single.counts.schema


def test_strict_names_the_file_and_its_own_line() -> None:
    parts = batches(FILES["damage in the second"])
    with pytest.raises(InputError) as raised:
        count_files(parts, formats.get("combined"), Classifier(RULES), None, strict=True)
    assert str(raised.value).startswith("access-1.log:2: does not match the log format: 'not a log line at all'")


@pytest.mark.parametrize(("name", "joins"), [("combined", True), ("vhost_combined", True), ("docker:combined", False),
                                             ("cri:combined", False), ("w3c", True), ("cloudfront", True)])
def test_which_formats_join(name: str, joins: bool) -> None:
    """Lines a container runtime split are put back together within their file: such files are counted each on
    its own. A W3C log's files join (a header that changes the fields cuts its file's batch, which is then
    not held whole)."""
    assert joins_files(formats.get(name)) is joins


def test_w3c_files_with_their_headers_on_top_get_their_own_summaries() -> None:
    """CloudFront's small files, each with its header on top: their header lines are notice lines, joined or
    alone, and each file's lines, reasons and counts are its own."""
    from test_vendor_formats import CLOUDFRONT

    header, line = CLOUDFRONT[:2], CLOUDFRONT[2]
    other = line.replace("/listing/1004", "/listing/77").replace("2019-12-04\t21", "2019-12-05\t03")
    files: list[list[str | bytes]] = [[*header, line], [*header, other, line, "junk"], header, [*header, other],
                                      ["", *header, line]]
    for timezone in (None, "America/Chicago"):
        compare(files, formats.get("cloudfront"), timezone)


LINES = [VIEW.format(i=1, h=1), VIEW.format(i=2, h=23), ASSET, BOT, ESCAPED, BAD_TIME, JUNK, CRLF, ""]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from(LINES), min_size=1, max_size=6), min_size=2, max_size=5),
       st.sampled_from([None, "Asia/Kolkata"]))
def test_joining_never_changes_a_file_summary(files: list[list[str | bytes]], timezone: str | None) -> None:
    parts = batches(files)
    fmt = formats.get("combined")
    together = count_files(parts, fmt, Classifier(RULES), timezone)
    assert [alone(s) for s in together] == [alone(count_batch(p, fmt, Classifier(RULES), timezone)) for p in parts]


def compare(files: list[list[bytes]], fmt: formats.LogFormat, timezone: str | None) -> None:
    """Each file's summary, counted with the others, is what it is counted alone."""
    parts = batches(list(files))
    together = count_files(parts, fmt, Classifier(RULES), timezone)
    assert [alone(s) for s in together] == [alone(count_batch(p, fmt, Classifier(RULES), timezone)) for p in parts]


@pytest.mark.parametrize("timezone", [None, "America/Chicago"])
@pytest.mark.parametrize("style", ["apache", "nginx"])
@pytest.mark.parametrize("preset", ["combined", "combined_xff", "vhost_combined", "common"])
def test_generated_presets(preset: str, style: str, timezone: str | None) -> None:
    """Every preset as both servers escape it, damaged lines and offsets across midnight among them."""
    gen = loggen.generate(3, 600, preset, style, [-5, 0, 5.5], timezone, loggen.START, 2, damaged_every=37)
    cut = [0, 1, 50, 51, 200, 377, 600]
    fmt = formats.get("combined" if preset == "combined_xff" else preset)  # (a client list "a, b" in combined)
    compare([gen.lines[a:b] for a, b in itertools.pairwise(cut)], fmt, timezone)


TRICKY = ['"quoted"', "back\\slash", "caf\u00e9 \u2603", "tab\there", "", "-", "Googlebot/2.1 (+http://www.google.com/bot.html)"]


@pytest.mark.parametrize("spec", [NGINX_MAIN, NGINX_JSON, NGINX_JSON_PARTS, APACHE_CUSTOM])
@pytest.mark.parametrize("style", ["apache", "nginx"])
def test_custom_formats(spec: str, style: str) -> None:
    """nginx ``main``, JSON templates and a custom Apache LogFormat, with escapes in the free text."""
    lines = []
    for i in range(60):
        when = loggen.START + timedelta(minutes=37 * i)
        hit = loggen.Hit(when, "GET", f"/listing/{i % 9}", 200 if i % 5 else 404, TRICKY[i % len(TRICKY)],
                         TRICKY[(i * 3) % len(TRICKY)], "www.example.com", f"203.0.113.{i}", 5)
        lines.append(render_other(spec, hit, style).encode())
    lines[17:17] = [b"junk", b""]
    cut = [0, 3, 4, 30, 62]
    compare([lines[a:b] for a, b in itertools.pairwise(cut)], formats.get(spec), "Asia/Kolkata")


COMMON = '203.0.113.{i} - - [01/Nov/2026:10:00:00 -0500] "GET /listing/{i} HTTP/1.1" 200 5'
VHOST = "www.site.example:443 " + VIEW


@pytest.mark.parametrize(("named", "files"), [
    # common named: combined files (a referrer and agent it does not read) and common ones side by side
    ("common", [[VIEW.format(i=i, h=1) for i in range(3)], [COMMON.format(i=4)],
                ["", JUNK, VIEW.format(i=5, h=2)], [UTF8, VIEW.format(i=2, h=2)], [JUNK, JUNK, COMMON.format(i=6)]]),
    # combined named: files whose lines lead with a virtual host, or half do, or one blank line
    ("combined", [[VHOST.format(i=1, h=1)], [VIEW.format(i=2, h=2)], [VHOST.format(i=3, h=3), VIEW.format(i=4, h=4)],
                  [""], [VHOST.format(i=i, h=5) for i in range(5)] + [VIEW.format(i=9, h=6)]]),
])
def test_a_named_format_is_judged_over_files_joined_as_each_alone(named: str, files: list[list[str | bytes]]) -> None:
    """``misfits``: the note a named format gets on each of several whole files judged in one query is the
    one ``misfit`` gives each file's own sample (the file named, not a neighbour)."""
    from logtrack.parse.detect import misfit, misfits, sample_frame

    fmt = formats.get(named)
    parts = batches(files)
    alone = [misfit(sample_frame(part), fmt, part.source) for part in parts]
    assert misfits(fmt, parts, b"\n".join(part.data for part in parts)) == alone
    assert any(alone) and not all(alone)  # both kinds in each case
