"""Parsing real log lines: every preset, both escape styles, every skip reason."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from logtrack import formats
from logtrack.errors import LogFormatError
from logtrack.parse.fields import parse_batch
from logtrack.read.sources import batch_of
from logtrack.verdicts.reasons import Skip


def parse_one(line: str | bytes, fmt: str) -> dict[str, object]:
    raw = line.encode() if isinstance(line, str) else line
    df = parse_batch(batch_of("t.log", 1, raw), formats.get(fmt))
    assert df.height == 1
    return df.row(0, named=True)


# (format, line, expected fields). Lines marked "corpus" are copied from the
# elastic/beats filebeat nginx/apache test data or elastic/examples apache_logs
# (Apache License 2.0), as collected in shared/corpora.
PARSED = [
    # corpus: plain combined, +0100
    ("combined",
     '127.0.0.1 - - [07/Dec/2016:11:04:58 +0100] "GET / HTTP/1.1" 304 0 "-" '
     '"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:49.0) Gecko/20100101 Firefox/49.0"',
     {"client": "127.0.0.1", "method": "GET", "target": "/", "status": 304, "referrer": "-",
      "local_day": date(2016, 12, 7)}),
    # corpus: X-Forwarded-For list as the client
    ("combined",
     '10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 '
     '"-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:49.0) Gecko/20100101 Firefox/49.0"',
     {"client": "10.0.0.2, 10.0.0.1, 127.0.0.1", "target": "/ocelot", "status": 200}),
    # corpus: a quoted list and then the address
    ("combined",
     '"10.5.102.222, 199.96.1.1, 204.246.1.1" 10.2.1.185 - - [22/Jan/2016:13:18:29 +0000] '
     '"GET /assets/xxxx?q=100 HTTP/1.1" 200 25507 "-" "Amazon CloudFront"',
     {"target": "/assets/xxxx?q=100", "user_agent": "Amazon CloudFront"}),
    # corpus: IPv6 list + trailing extra "-" field (nginx main's $http_x_forwarded_for)
    ("combined",
     "2a03:0000:10ff:f00f:0000:0000:0:8000, 10.225.192.17 10.2.2.121 - - [30/Dec/2016:06:47:09 +0000] "
     '"GET /test.html HTTP/1.1" 404 8571 "-" "Mozilla/5.0 (compatible; Facebot 1.0; '
     'https://developers.facebook.com/docs/sharing/webmasters/crawler)"',
     {"target": "/test.html", "status": 404}),
    ("combined",
     '172.17.0.1 - - [29/May/2017:19:02:48 +0000] "GET /stringpatch HTTP/1.1" 404 612 "-" '
     '"Mozilla/5.0 (Windows NT 6.1; rv:15.0) Gecko/20120716 Firefox/15.0a2" "-"',
     {"target": "/stringpatch", "user_agent": "Mozilla/5.0 (Windows NT 6.1; rv:15.0) Gecko/20120716 Firefox/15.0a2"}),
    ("combined",
     '::1 - - [26/Dec/2016:16:16:29 +0200] "GET /favicon.ico HTTP/1.1" 404 209 "-" "curl/7.50"',
     {"client": "::1", "status": 404}),
    # corpus: hostname as client
    ("combined",
     'monitoring-server - - [29/May/2017:19:02:48 +0000] "GET /status HTTP/1.1" 200 612 "-" "x" "-"',
     {"client": "monitoring-server", "target": "/status"}),
    # Apache escapes a quote as \" (and a backslash as \\): the field must not be cut there
    ("combined",
     '203.0.113.7 - - [01/Nov/2026:10:00:00 -0500] "GET /listing/123?q=\\"ab\\" HTTP/1.1" 200 5 '
     '"https://x.example/?q=\\"1\\"" "Mozilla/5.0 \\"quoted\\" \\\\ agent"',
     {"target": '/listing/123?q=\\"ab\\"', "referrer": 'https://x.example/?q=\\"1\\"',
      "user_agent": 'Mozilla/5.0 \\"quoted\\" \\\\ agent'}),
    # nginx escapes it as \x22
    ("combined",
     '203.0.113.7 - - [01/Nov/2026:10:00:00 -0500] "GET /listing/123?q=\\x22x\\x22 HTTP/1.1" 200 5 '
     '"https://x.example/?q=\\x221\\x22" "Mozilla/5.0 \\x22quoted\\x22"',
     {"target": "/listing/123?q=\\x22x\\x22", "referrer": "https://x.example/?q=\\x221\\x22",
      "user_agent": "Mozilla/5.0 \\x22quoted\\x22"}),
    # HTTP/0.9 has no protocol; HTTP/2.0 a different one
    ("combined",
     '203.0.113.7 - - [01/Nov/2026:10:00:00 -0500] "GET /listing/9" 200 5 "-" "-"',
     {"method": "GET", "target": "/listing/9"}),
    ("combined",
     '203.0.113.7 - - [01/Nov/2026:10:00:00 -0500] "HEAD /listing/9 HTTP/2.0" 200 5 "-" "-"',
     {"method": "HEAD", "target": "/listing/9"}),
    # corpus (elastic/examples): a line cut short inside the user agent
    ("combined",
     '46.118.127.106 - - [20/May/2015:12:05:17 +0000] "GET /scripts/grok-py-test/configlib.py HTTP/1.1" '
     '200 235 "-" "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html',
     {"status": 200, "user_agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html"}),
    # CRLF line ends
    ("combined",
     '203.0.113.7 - - [01/Nov/2026:10:00:00 -0500] "GET /a HTTP/1.1" 200 5 "-" "ua"\r',
     {"user_agent": "ua"}),
    # common
    ("common",
     '::1 - - [26/Dec/2016:16:16:29 +0200] "GET /favicon.ico HTTP/1.1" 404 209',
     {"client": "::1", "status": 404, "referrer": None, "user_agent": None}),
    ("common",
     'frank - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326',
     {"client": "frank", "local_day": date(2000, 10, 10)}),
    # vhost_combined (Apache's default other_vhosts_access.log)
    ("vhost_combined",
     'www.example.com:443 203.0.113.7 - - [01/Nov/2026:10:00:00 -0500] "GET /listing/12 HTTP/1.1" 200 '
     '5120 "https://www.zillow.com/" "Mozilla/5.0"',
     {"vhost": "www.example.com", "client": "203.0.113.7", "referrer": "https://www.zillow.com/"}),
    # corpus: host:port prefixed nginx line read as vhost_combined
    ("vhost_combined",
     'example.com:80 81.2.69.143 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" '
     '"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_0) AppleWebKit/537.36 (KHTML, like Gecko)"',
     {"vhost": "example.com", "client": "81.2.69.143"}),
    ("vhost_combined",
     '[2001:db8::1]:80 2001:db8::2 - - [01/Nov/2026:10:00:00 -0500] "GET / HTTP/1.1" 200 5 "-" "-"',
     {"vhost": "[2001:db8::1]", "client": "2001:db8::2"}),
    # corpus: "$host $remote_addr" prefixed lines, read with a format that starts with the host
    ('%v %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"',
     'example.com 10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" '
     '200 571 "-" "Mozilla/5.0"',
     {"vhost": "example.com", "client": "10.0.0.2, 10.0.0.1, 127.0.0.1", "target": "/ocelot"}),
    # a Basic-auth login of two words, as real nginx ($remote_user) and Apache (%u) write it (test_real_servers)
    ("combined",
     '127.0.0.1 - john smith [30/Nov/2026:03:07:52 -0600] "GET /listing/100007 HTTP/1.1" 200 3 "-" "Mozilla/5.0"',
     {"client": "127.0.0.1", "target": "/listing/100007", "status": 200, "local_day": date(2026, 11, 30)}),
    ("vhost_combined",
     'www.site.example:80 127.0.0.1 - john smith [30/Nov/2026:03:07:52 -0600] "GET /listing/1 HTTP/1.1" 200 3 '
     '"https://www.zillow.com/" "Mozilla/5.0"',
     {"vhost": "www.site.example", "client": "127.0.0.1", "referrer": "https://www.zillow.com/"}),
    ('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"',
     '10.0.0.2, 10.0.0.1 - Jane Q. Public [30/Nov/2026:03:07:52 -0600] "GET /listing/2 HTTP/1.1" 200 3 "-" "M"',
     {"client": "10.0.0.2, 10.0.0.1", "target": "/listing/2"}),
    # a LogFormat as written inside httpd.conf, with \"
    ('%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\" %D',
     '203.0.113.7 - - [01/Nov/2026:10:00:00 -0500] "GET /x HTTP/1.1" 200 5 "-" "ua" 1234',
     {"target": "/x", "user_agent": "ua"}),
]


@pytest.mark.parametrize(("fmt", "line", "expected"), PARSED)
def test_parsed_lines(fmt: str, line: str, expected: dict[str, object]) -> None:
    row = parse_one(line, fmt)
    assert row["reason"] is None, row
    for key, value in expected.items():
        assert row[key] == value, key


SKIPPED = [
    ("combined", "", Skip.BLANK),
    ("combined", "   ", Skip.BLANK),
    ("combined", "\t \x0b\x0c", Skip.BLANK),  # tabs, vertical tab, form feed: white space too
    ("combined", "\u00a0\u3000", Skip.BLANK),  # no-break and ideographic spaces: Unicode's white space
    ("combined", "\x1c", Skip.UNPARSABLE),  # a file separator is not white space (Python's isspace says it is)
    ("combined", "not a log line at all", Skip.UNPARSABLE),
    # a virtual host or a syslog prefix in front is no login of several words: not combined's line
    ("combined", 'www.site.example:80 127.0.0.1 - - [30/Nov/2026:03:07:52 -0600] "GET / HTTP/1.1" 200 3 "-" "M"',
     Skip.UNPARSABLE),
    ("combined", 'www.site.example 127.0.0.1 - bob [30/Nov/2026:03:07:52 -0600] "GET / HTTP/1.1" 200 3 "-" "M"',
     Skip.UNPARSABLE),
    ("host_combined", 'Nov 30 03:07:52 web1 nginx: 127.0.0.1 - bob [30/Nov/2026:03:07:52 -0600] "GET / HTTP/1.1" '
     '200 3 "-" "M"', Skip.UNPARSABLE),
    # corpus: a common line in a combined log
    ("combined", '::1 - - [26/Dec/2016:16:16:29 +0200] "GET /favicon.ico HTTP/1.1" 404 209', Skip.UNPARSABLE),
    # a line cut short inside the request
    ("combined", '203.0.113.9 - - [01/Nov/2026:10:00:00 -0600] "GET /listing/1234567', Skip.UNPARSABLE),
    ("combined", '203.0.113.9 - - [31/Nov/2026:10:00:00 -0600] "GET / HTTP/1.1" 200 5 "-" "x"', Skip.BAD_TIME),
    ("combined", '203.0.113.9 - - [01/Nov/2026:25:00:00 -0600] "GET / HTTP/1.1" 200 5 "-" "x"', Skip.BAD_TIME),
    ("combined", '203.0.113.9 - - [2026-11-01T10:00:00-06:00] "GET / HTTP/1.1" 200 5 "-" "x"', Skip.BAD_TIME),
    (
        "combined",
        b'203.0.113.9 - - [01/Nov/2026:10:00:00 -0600] "GET / HTTP/1.1" 200 5 "-" "\xff\xfe"',
        Skip.INVALID_UTF8,
    ),
    # corpus: nginx timeouts and empty requests
    ("combined", '127.0.0.1 - - [02/Feb/2019:05:38:45 +0100] "-" 408 152 "-" "-"', Skip.NO_REQUEST),
    ("combined", '127.0.0.1 - - [12/Apr/2018:09:48:40 +0200] "" 400 0 "-" "-"', Skip.NO_REQUEST),
    ("common", '::1 - - [26/Dec/2016:16:16:48 +0200] "-" 408 -', Skip.NO_REQUEST),
    ("vhost_combined", 'example.com:80 unix: - - [26/Feb/2019:15:39:42 +0100] "hello" 400 173 "-" "-"',
     Skip.MALFORMED_REQUEST),
    ("combined", '1.2.3.4 - - [01/Nov/2026:10:00:00 +0000] "\\x16\\x03\\x01\\x00" 400 157 "-" "-"',
     Skip.MALFORMED_REQUEST),
    ("combined", '1.2.3.4 - - [01/Nov/2026:10:00:00 +0000] "GET /a b HTTP/1.1" 400 157 "-" "-"',
     Skip.MALFORMED_REQUEST),
    # spaces doubled or after it: no browser's; nginx 1.22 served these (200) and logged them so, Apache refuses them
    ("combined", '127.0.0.1 - - [02/Dec/2026:06:04:30 +0000] "GET  /listing/1 HTTP/1.1" 200 3 "-" "-"',
     Skip.MALFORMED_REQUEST),
    ("combined", '127.0.0.1 - - [02/Dec/2026:06:04:30 +0000] "GET /listing/2  HTTP/1.1" 200 3 "-" "-"',
     Skip.MALFORMED_REQUEST),
    ("combined", '127.0.0.1 - - [02/Dec/2026:06:04:30 +0000] "GET /listing/6 HTTP/1.1 " 200 3 "-" "-"',
     Skip.MALFORMED_REQUEST),
]


@pytest.mark.parametrize(("fmt", "line", "reason"), SKIPPED)
def test_skipped_lines(fmt: str, line: str | bytes, reason: Skip) -> None:
    assert parse_one(line, fmt)["reason"] == reason.value


@pytest.mark.parametrize(
    ("stamp", "utc"),
    [
        ("01/Nov/2026:23:59:59 -0500", "2026-11-02 04:59:59"),
        ("02/Nov/2026:00:00:01 -0500", "2026-11-02 05:00:01"),
        ("02/Nov/2026:04:30:00 +0000", "2026-11-02 04:30:00"),
        ("02/Nov/2026:00:30:00 +0530", "2026-11-01 19:00:00"),
        ("31/Dec/2026:23:59:59 +1400", "2026-12-31 09:59:59"),
        ("02/Nov/2026:00:00:01.250 -0500", "2026-11-02 05:00:01.250000"),  # a fraction, as some setups log
        ("02/Nov/2026:00:00:01 +0545", "2026-11-01 18:15:01"),  # Nepal
        ("02/Nov/2026:00:00:01 -0930", "2026-11-02 09:30:01"),  # Marquesas
    ],
)
def test_timestamps_keep_their_offset(stamp: str, utc: str) -> None:
    row = parse_one(f'1.2.3.4 - - [{stamp}] "GET / HTTP/1.1" 200 5 "-" "-"', "combined")
    assert str(row["ts"].replace(tzinfo=None)) == utc
    assert row["local_day"].isoformat() == pl.Series([stamp[:11]]).str.strptime(
        pl.Date, "%d/%b/%Y"
    ).item().isoformat()


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("nonsense", "unknown log format 'nonsense'"),
        # a preset's name mistyped, or another name for one
        ("combinded", "unknown log format 'combinded'; did you mean 'combined'\\? Or if 'combinded' is a name your "
                      "server's config gives a format"),
        ("vhost-combined", "unknown log format 'vhost-combined'; did you mean 'vhost_combined'\\?$"),
        ("cloudfrnt", "did you mean 'cloudfront'"),
        ("clf", "the Common Log Format is 'common', and with the referrer and agent after it \\(NCSA's combined\\) "
                "'combined'"),
        ("%h %l %u", "logs no time, request, status"),
        ('%h %t "%r"', "logs no status"),
    ],
)
def test_bad_formats(template: str, message: str) -> None:
    with pytest.raises(LogFormatError, match=message):
        formats.get(template)


_GOOD = '203.0.113.{i} - - [01/Nov/2026:10:00:00 -0500] "GET /listing/{i} HTTP/1.1" 200 5 "-" "Mozilla/5.0"'


@pytest.mark.parametrize(("head", "lines"), [
    ([], 5),  # a short batch: all of it
    ([], 5000),  # a long one: its first 2,000 lines
    ([""] * 1500, 5000),  # mostly blank at its head: the whole batch, so the sample is the same
    (["\x00"] * 1200 + ["\r"] * 300, 5000),  # holes and bare CRs, which sample_lines leaves out too
    (["caf\xe9 is not UTF-8"] * 3, 5000),  # invalid UTF-8 in the head: decoded the same, line by line
    ([""] * 1500, 2000),  # a small file's batch (up to 4,000 lines): all of it
])
def test_a_format_is_judged_by_the_same_lines_from_the_head(head: list[str], lines: int) -> None:
    """``sample_frame`` reads only the head of a batch, yet gives ``sample_lines`` what the whole batch gives."""
    from logtrack.parse.detect import sample_frame, sample_lines
    from logtrack.parse.fields import lines_frame

    text = "\n".join([*head, *(_GOOD.format(i=i % 250) for i in range(lines))])
    batch = batch_of("t.log", 41, text.encode("latin-1"))
    whole, sample = lines_frame(batch), sample_frame(batch)
    assert sample_lines(sample).to_list() == sample_lines(whole).to_list()
    assert sample.get_column("line_no").to_list() == whole.get_column("line_no").head(sample.height).to_list()


@pytest.mark.parametrize("at", [10, 4500])
def test_a_line_not_utf8_in_a_batch_leaves_its_sample_the_same(at: int) -> None:
    """Polars' reader refuses a batch with a line that is not UTF-8 anywhere, past its head too: the head is
    then split in Python, and the sample (lines and their numbers) is what the whole batch gives."""
    from logtrack.parse.detect import sample_frame, sample_lines
    from logtrack.parse.fields import lines_frame

    rows = [_GOOD.format(i=i % 250) for i in range(5000)]
    rows[at] = "caf\xe9 is not UTF-8"
    batch = batch_of("t.log", 7, "\n".join(rows).encode("latin-1"))
    whole, sample = lines_frame(batch), sample_frame(batch)
    assert sample_lines(sample).to_list() == sample_lines(whole).to_list()
    assert sample.get_column("line_no").to_list() == whole.get_column("line_no").head(sample.height).to_list()


# The zone a format's times are read in when they carry no offset (said of a file whose lines end after it was
# written: ``FileAccount.dated_after``), None where each time says its own instant.
@pytest.mark.parametrize(("fmt", "timezone", "log_timezone", "zone"), [
    ("combined", "America/Chicago", None, None),
    ('%h [%{%Y-%m-%d %H:%M:%S}t] "%r" %>s %b', "America/Chicago", None, "America/Chicago"),
    ('%h [%{%Y-%m-%d %H:%M:%S}t] "%r" %>s %b', "America/Chicago", "UTC", "UTC"),
    ('%h [%{%Y-%m-%d %H:%M:%S}t] "%r" %>s %b', None, None, "UTC"),
    ('%h [%{%Y-%m-%d %H:%M:%S %z}t] "%r" %>s %b', "America/Chicago", None, None),
    ('%h [%{%s}t] "%r" %>s %b', "America/Chicago", None, None),
    ('%h [%{msec}t] "%r" %>s %b', "America/Chicago", None, None),
    ('{"t":"$time_iso8601","r":"$request","s":$status}', "America/Chicago", None, None),
])
def test_the_zone_of_times_without_an_offset(fmt: str, timezone: str | None, log_timezone: str | None,
                                             zone: str | None) -> None:
    assert formats.get(fmt).naive_zone(timezone, log_timezone) == zone
