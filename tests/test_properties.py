"""Property-based tests: no input crashes a parser; what a server writes parses back."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from logtrack import formats
from logtrack.config import CountingRules, SupplierRule
from logtrack.count.batch import count_batch
from logtrack.count.classify import Classifier
from logtrack.parse import fields as parse
from logtrack.parse import split
from logtrack.parse.fields import parse_batch
from logtrack.read.sources import batch_of, holds

import loggen

PRESETS = list(formats.PRESETS)
NGINX_MAIN = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent" "$http_x_forwarded_for"'
)
NGINX_JSON = (
    '{"time":"$time_iso8601","remote_addr":"$remote_addr","host":"$host","request":"$request",'
    '"status":$status,"referer":"$http_referer","ua":"$http_user_agent"}'
)
# keys holding several variables and text: each cut by a regex of its own once decoded
NGINX_JSON_PARTS = (
    '{"time":"[$time_local]","client":"$remote_addr","host":"$host",'
    '"request":"$request_method $request_uri $server_protocol","status":$status,"referer":"$http_referer",'
    '"ua":"$http_user_agent"}'
)
APACHE_CUSTOM = '%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\" %{Host}i %D'
EVERY_FORMAT = [*PRESETS, NGINX_MAIN, NGINX_JSON, NGINX_JSON_PARTS, APACHE_CUSTOM, "syslog:combined"]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=20), st.sampled_from(EVERY_FORMAT))
@example(lines=[b"\xef\xbb\xbf"], preset="vhost_combined")  # (a batch of a byte order mark alone lost its line)
def test_any_bytes_parse_or_skip(lines: list[bytes], preset: str) -> None:
    data = b"\n".join(line.replace(b"\n", b" ") for line in lines)
    df = parse_batch(batch_of("fuzz.log", 1, data), formats.get(preset))
    assert df.height == len(lines)
    assert df.get_column("line_no").to_list() == list(range(1, len(lines) + 1))
    ok = df.filter(df.get_column("reason").is_null())
    assert ok.get_column("status").null_count() == 0
    assert ok.get_column("ts").null_count() == 0
    assert ok.get_column("target").null_count() == 0


field_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
token = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='"\\'), min_size=1,
                max_size=40)
clients = st.one_of(
    st.ip_addresses().map(str),
    st.lists(st.ip_addresses().map(str), min_size=2, max_size=4).map(", ".join),
    st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z0-9-]{1,10}){0,3}", fullmatch=True),
)
# Basic auth's login: none, sent empty, one word or several (a word of them never starts with "-": formats.LOGIN)
logins = st.one_of(st.just("-"), st.just(""),
                   st.from_regex(r"[A-Za-z0-9._@+][A-Za-z0-9._@+-]{0,11}( [A-Za-z0-9._@+][A-Za-z0-9._@+-]{0,11}){0,3}",
                                 fullmatch=True))
times = st.builds(
    lambda dt, minutes: dt.replace(microsecond=0, tzinfo=UTC).astimezone(timezone(timedelta(minutes=minutes))),
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 30)),
    st.integers(-12 * 60, 14 * 60).map(lambda m: m - m % 15),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    preset=st.sampled_from(PRESETS),
    style=st.sampled_from(["apache", "nginx"]),
    client=clients,
    when=times,
    method=st.sampled_from(["GET", "HEAD", "POST", "PROPFIND", "M-SEARCH"]),
    target=token.map(lambda t: "/" + t),
    status=st.integers(100, 599),
    referrer=field_text,
    agent=field_text,
    vhost=st.from_regex(r"[a-z0-9]([a-z0-9-]{0,15}\.){0,3}[a-z]{2,6}", fullmatch=True),
    login=logins,
)
def test_written_lines_parse_back(preset: str, style: str, client: str, when: datetime, method: str,
                                  target: str, status: int, referrer: str, agent: str, vhost: str,
                                  login: str) -> None:
    hit = loggen.Hit(when, method, target, status, referrer, agent, vhost, client, 123, login)
    line = loggen.render(hit, preset, style)
    row = parse_batch(batch_of("t.log", 1, line.encode()), formats.get(preset)).row(0, named=True)
    assert row["reason"] is None, line
    assert row["client"] == client
    assert row["method"] == method
    assert row["target"] == target
    assert row["status"] == status
    assert row["ts"] == when.astimezone(UTC)
    assert row["local_day"] == when.date()
    if not preset.endswith("common"):
        assert row["referrer"] == loggen.escape(referrer, style)
        assert row["user_agent"] == loggen.escape(agent, style)
    if "host" in preset:
        assert row["vhost"] == vhost


def render_other(fmt: str, hit: loggen.Hit, style: str) -> str:
    """A line as nginx `main`, nginx JSON (escape=json) or the custom Apache format writes it."""
    req = f"{hit.method} {hit.target} HTTP/1.1"
    if fmt == NGINX_JSON:
        return json.dumps({
            "time": hit.when.isoformat(), "remote_addr": hit.client, "host": hit.vhost, "request": req,
            "status": hit.status, "referer": hit.referrer, "ua": hit.agent,
        }, ensure_ascii=False)
    if fmt == NGINX_JSON_PARTS:
        return json.dumps({
            "time": f"[{loggen.clf_time(hit.when)}]", "client": hit.client, "host": hit.vhost, "request": req,
            "status": hit.status, "referer": hit.referrer, "ua": hit.agent,
        }, ensure_ascii=False, separators=(",", ":"))
    def esc(text: str) -> str:
        return loggen.escape(text, style)

    stamp = loggen.clf_time(hit.when)
    if fmt == NGINX_MAIN:
        return (f'{hit.client} - - [{stamp}] "{esc(req)}" {hit.status} 5 "{esc(hit.referrer)}" '
                f'"{esc(hit.agent)}" "10.0.0.1, 10.0.0.2"')
    return (f'{hit.client} - - [{stamp}] "{esc(req)}" {hit.status} 5 "{esc(hit.referrer)}" '
            f'"{esc(hit.agent)}" {hit.vhost} 1234')


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    fmt=st.sampled_from([NGINX_MAIN, NGINX_JSON, NGINX_JSON_PARTS, APACHE_CUSTOM]),
    style=st.sampled_from(["apache", "nginx"]),
    client=clients,
    when=times,
    method=st.sampled_from(["GET", "HEAD", "POST"]),
    target=token.map(lambda t: "/" + t),
    status=st.integers(100, 599),
    referrer=field_text,
    agent=field_text,
    vhost=st.from_regex(r"[a-z0-9]([a-z0-9-]{0,15}\.){0,3}[a-z]{2,6}", fullmatch=True),
)
def test_custom_formats_parse_back(fmt: str, style: str, client: str, when: datetime, method: str, target: str,
                                   status: int, referrer: str, agent: str, vhost: str) -> None:
    hit = loggen.Hit(when, method, target, status, referrer, agent, vhost, client, 5)
    line = render_other(fmt, hit, style)
    row = parse_batch(batch_of("t.log", 1, line.encode()), formats.get(fmt)).row(0, named=True)
    assert row["reason"] is None, line
    assert (row["method"], row["target"], row["status"]) == (method, target, status)
    assert row["ts"] == when.astimezone(UTC)
    assert row["local_day"] == when.date()
    if fmt in (NGINX_JSON, NGINX_JSON_PARTS):
        assert (row["referrer"], row["user_agent"], row["vhost"]) == (referrer, agent, vhost)
    else:
        assert (row["referrer"], row["user_agent"]) == (loggen.escape(referrer, style), loggen.escape(agent, style))
    if fmt == APACHE_CUSTOM:
        assert row["vhost"] == vhost


# Lines as the formats write them, to be bent out of shape by the test below.
SPLIT_SEEDS = {
    "combined": '10.0.0.2, 10.0.0.1 - bob [01/Nov/2026:10:00:00 -0500] "GET /listing/1 HTTP/1.1" 200 5 "-" "ua"',
    "vhost_combined": 'x.example:443 10.0.0.1 - - [01/Nov/2026:10:00:00 -0500] "GET /a HTTP/1.1" 200 5 "r" "ua"',
    "common": '10.0.0.1 - - [01/Nov/2026:10:00:00 -0500] "GET /a HTTP/1.1" 200 5',
    NGINX_MAIN: '10.0.0.1 - - [01/Nov/2026:10:00:00 -0500] "GET /a HTTP/1.1" 200 5 "r" "ua" "10.0.0.3"',
    APACHE_CUSTOM: '10.0.0.1 - - [01/Nov/2026:10:00:00 -0500] "GET /a HTTP/1.1" 200 5 "r" "ua" x.example 12',
    NGINX_JSON: '{"time":"2026-11-01T10:00:00-05:00","remote_addr":"10.0.0.1","host":"x.example",'
                '"request":"GET /a HTTP/1.1","status":200,"referer":"r","ua":"ua"}',
    NGINX_JSON_PARTS: '{"time":"[01/Nov/2026:10:00:00 -0500]","client":"10.0.0.1","host":"x.example",'
                      '"request":"GET /a HTTP/1.1","status":200,"referer":"r","ua":"ua"}',
    "syslog:combined": 'Nov 29 16:25:14 web1 nginx[7]: 10.0.0.1 - - [01/Nov/2026:10:00:00 -0500] "GET /a HTTP/1.1" 200 5 '
                       '"r" "ua"',
    # quoted fields after the format's last one: the split takes them too
    "alb": 'h2 2015-11-07T18:45:33.575333Z app/lb/50dc 10.0.1.252:48160 10.0.0.66:9000 0.000 0.002 0.000 200 200 '
           '5 257 "GET https://x.example:443/a HTTP/2.0" "ua" ECDHE TLSv1.2 arn:x "Root=1" "-" "-" 1 "forward"',
    "traefik": '10.0.0.1 - - [01/Nov/2026:10:00:00 -0500] "GET /a HTTP/1.1" 200 5 "r" "ua" 42 "rt" "http://s" 3ms',
    "haproxy:Host,Referer,User-Agent": '<134>Nov 29 16:25:14 haproxy[1]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] '
                                       'fe be/s1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {x.example|r|ua} '
                                       '"GET /a HTTP/1.1"',
}
# What breaks a quote-split: quotes, escapes, spaces, brackets, CR, control bytes (the line reader's separator
# among them), non-ASCII.
awkward = st.lists(st.sampled_from(['"', "\\", " ", "a", "-", "[", "]", "\r", "\t", "é", '\\"', '""', "\x1e", "\x1f",
                                    "5"]),
                   max_size=4).map("".join)
edits = st.lists(st.tuples(st.floats(0, 1), st.integers(0, 3), awkward), max_size=4)


def bent(line: str, line_edits: list[tuple[float, int, str]]) -> str:
    """``line`` with each edit made: at a place (a fraction of its length), so many characters replaced by text."""
    for where, drop, text in line_edits:
        at = int(where * len(line))
        line = line[:at] + text + line[at + drop:]
    return line


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(list(SPLIT_SEEDS)), st.lists(edits, min_size=1, max_size=12), st.booleans())
def test_split_agrees_with_the_line_regex(fmt_spec: str, per_line: list[list[tuple[float, int, str]]],
                                          cut: bool) -> None:
    """Both parse paths give every line the same fields and reason, however it is bent."""
    lines = [bent(SPLIT_SEEDS[fmt_spec], line_edits) for line_edits in per_line]
    if cut:
        lines[-1] = lines[-1][: len(lines[-1]) // 2]
    fmt = formats.get(fmt_spec)
    batch = batch_of("t.log", 1, "\n".join(lines).encode())
    fields = parse.split_fields(batch, fmt)
    text = "\n".join(lines)
    if "\x1f" not in text:  # (the line reader's separator: such a batch is left to the regex whole)
        assert fields is not None
    if fields is None:
        return
    by_split = parse.with_skip_reasons(fields, fmt).sort("idx")
    by_regex = parse.parse_lines(parse.lines_frame(batch), fmt)
    columns = [c for c in by_regex.columns if c != "line"]
    assert by_split.select(columns).to_dicts() == by_regex.select(columns).to_dicts()
    assert by_split.filter(pl.col("line").is_not_null()).get_column("line").to_list() == [
        lines[i].removesuffix("\r") for i in by_split.filter(pl.col("line").is_not_null()).get_column("idx")
    ]


def test_split_takes_the_lines_servers_write() -> None:
    """The seeds, untouched, are cut by split itself, not handed to the regex."""
    for spec, line in SPLIT_SEEDS.items():
        fields = parse.split_fields(batch_of("t.log", 1, f"{line}\n{line}\r".encode()), formats.get(spec))
        assert fields is not None, spec
        assert fields.get_column("line").null_count() == 2, spec


LISTINGS = CountingRules(patterns=(r"^/listing/(?P<id>[0-9]+)$",), suppliers=(SupplierRule("R", referrer=("r",)),),
                  exclude_bots=True)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(list(SPLIT_SEEDS)), st.lists(edits, min_size=1, max_size=12),
       st.sampled_from([None, "America/Chicago"]))
def test_the_count_is_the_same_however_a_batch_is_cut(fmt_spec: str, per_line: list[list[tuple[float, int, str]]],
                                                      zone: str | None) -> None:
    """count_batch's own cut (the time cut, not captured) counts as the line regex alone would, line by line."""
    lines = []
    for line_edits in per_line:
        line = SPLIT_SEEDS[fmt_spec].replace("/a ", "/listing/7 ")
        for where, drop, text in line_edits:
            at = int(where * len(line))
            line = line[:at] + text + line[at + drop:]
        lines.append(line)
    by_split, by_regex = _by_split_and_by_regex("\n".join(lines), formats.get(fmt_spec), zone, since=SINCE)
    assert by_split == by_regex


def _by_split_and_by_regex(text: str, fmt: formats.LogFormat, zone: str | None,
                           since: int | None = None) -> tuple[tuple[object, ...], tuple[object, ...]]:
    """count_batch's summary of ``text`` as it cuts the batch, and with the quote split turned off (the line regex).

    (lines, reasons with their first line, latest time, counts, outcomes per day)
    """
    batch = batch_of("t.log", 1, text.encode())

    def summary() -> tuple[object, ...]:
        got = count_batch(batch, fmt, Classifier(LISTINGS), zone, since=since)
        return (got.lines, got.reasons and [r[:3] for r in got.reasons], got.last_ts,
                got.counts.sort(["day", "supplier", "listing"]).rows(),
                got.outcomes.sort(["day", "outcome"]).rows() if got.outcomes is not None else None)

    by_split = summary()
    original = split.read
    try:
        split.read = lambda *a, **k: None  # type: ignore[assignment]
        return by_split, summary()
    finally:
        split.read = original


# Lines with more quotes than the format writes (escaped ones), beside lines the split takes: read by the line
# regex from their text, they count as the line regex alone would count them.
_LISTING = '10.0.0.1 - - [01/Nov/2026:10:00:00 -0500] "GET /listing/7 HTTP/1.1" 200 5 "r" "{agent}"'


@pytest.mark.parametrize("agent", [
    'a \\"b\\" c',  # two escaped quotes
    'a \\"b\\" \\"c\\" \\"d\\" e',  # six
])
def test_a_line_the_split_cannot_put_back_is_read_from_the_text(agent: str) -> None:
    lines = [_LISTING.format(agent="ua"), _LISTING.format(agent=agent), _LISTING.format(agent="ua") + ' "x"']
    by_split, by_regex = _by_split_and_by_regex("\n".join(lines), formats.get("combined"), None)
    assert by_split == by_regex
    lines_read, _, _, counts, _ = by_split
    assert lines_read == 3 and counts == [(date(2026, 11, 1), "", "7", 3)]  # every line read, each a view


# Seeds of formats ``auto`` scores on plain lines, and JSON lines nginx writes (``detect_files`` judges files in
# them together).
JUDGED_SEEDS = ["combined", "vhost_combined", "common", "alb", "traefik", NGINX_JSON, NGINX_JSON_PARTS]


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.tuples(st.sampled_from(JUDGED_SEEDS), st.lists(edits, min_size=1, max_size=6)), min_size=2,
                max_size=5),
       st.sampled_from([None, "combined", "common", "alb", "vhost_combined"]))
def test_files_judged_together_get_what_each_gets_alone(files: list[tuple[str, list[list[tuple[float, int, str]]]]],
                                                        likely: str | None) -> None:
    """``detect_files`` (several files' samples screened and read together, the candidates before ``likely``
    screened first) gives each file what ``detect`` gives it alone, or leaves it to ``detect`` (None); a
    file of lines as its format writes them is always given the format ``detect`` finds in them. On trust
    (``trusted``), a format it gives is what ``detect`` gives wherever that format reads every line (the
    counting's test: ``jobs.preview``), and any other it gives is exact."""
    from logtrack.errors import UnrecognisedError
    from logtrack.parse.detect import detect, detect_files, sample_frame, sample_lines, score

    parts = [batch_of(f"f{n}.log", 1, "\n".join(bent(SPLIT_SEEDS[spec], e) for e in per_line).encode())
             for n, (spec, per_line) in enumerate(files)]
    trusted: set[int] = set()
    on_trust = detect_files(parts, likely, trusted=trusted)
    for n, (part, found, (_, per_line)) in enumerate(zip(parts, detect_files(parts, likely), files, strict=True)):
        try:
            alone: str | None = detect(sample_frame(part), part.source).name
        except UnrecognisedError:
            alone = None
        assert found is None or found.name == alone
        if not any(per_line) and alone is not None \
                and all("\x1f" not in bent(SPLIT_SEEDS[s], e) for s, lines in files for e in lines):
            assert found is not None and found.name == alone
        given = on_trust[n]
        if n not in trusted:
            assert given is None or given.name == alone
        elif score(given, lines := sample_lines(sample_frame(part))).read == lines.len():
            assert given.name == alone


SINCE = int(datetime(2026, 11, 1, 14, 0, tzinfo=UTC).timestamp() * 1_000_000)


@settings(max_examples=300)
@given(st.lists(st.sampled_from([b"\\", b'"', b"a", b"\n", b"\\\\", b'\\"', b"#", b"#Fields:", b"x" * 50]),
                max_size=400))
def test_holds_agrees_with_a_plain_search(pieces: list[bytes]) -> None:
    """sources.holds, memchr first and a regex past 64 of the needle's first byte, says what ``in`` says."""
    data = b"".join(pieces)
    for needle in (b'\\"', b"\\", b"#Fields:", b'"\n'):
        assert holds(data, needle) == (needle in data)


@pytest.mark.parametrize(("data", "heads"), [
    (b'1.2.3.4 - - [t] "GET / HTTP/1.1" 200 5 "-" "ua"', []),  # no escaped quote
    (b'a "GET /q=\\"x HTTP/1.1" 200 5 "-" "ua"\nb "GET /" 200', ["a "]),  # in the request: the line's first piece
    (b'a "-" 200\nb "GET /" 200 5 "-" "say \\"hi\\""', ["b "]),  # two in one line: the line once
    (b'c\\" "x"', ["c\\"]),  # before the line's first quote: the first piece ends at it
    (b'"\\"" 200', [""]),  # a line that starts with a quote: an empty first piece
    (b'a "x\\\\" 200 "y"', ["a "]),  # an escaped backslash before a quote: Apache's "\\", left to the regex too
    (b'a "x\\y" 200', []),  # a backslash before no quote
])
def test_escaped_heads_names_the_first_piece_of_each_line_with_an_escaped_quote(data: bytes,
                                                                               heads: list[str]) -> None:
    assert split.escaped_heads(data) == heads


def test_escaped_heads_gives_up_on_a_batch_full_of_them() -> None:
    """Past ``most`` lines (or four times as many backslashes) the pieces are tested instead: None."""
    assert split.escaped_heads(b"\n".join(b'%d "\\"" 1' % i for i in range(300))) is None
    assert split.escaped_heads(b"\\x20" * 2000) is None
    assert split.escaped_heads(b"\n".join(b'%d "\\"" 1' % i for i in range(200))) is not None


# White space of every kind (Unicode's, a vertical tab, NEL, the ideographic space), what is not (a file
# separator, a zero-width space), a line break, and the braces
_JSON_EDGES = " \t\r\n\x0b\x0c\x1c\x85\xa0\u2028\u3000\u200b{}\"a"


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(alphabet=_JSON_EDGES, max_size=12), min_size=1, max_size=40))
@example(["{}", " {x} ", "\u3000{a}\u3000", "{\n}", "{\r}", "{a}\u200b", "\x1c{}", "{}\x85", "{", "}", "", "\n{}", "{}\n", "{\n}"])
def test_looks_json_says_what_the_json_line_regex_says(texts: list[str]) -> None:
    """The JSON formats ask whether a line could be an object at its two ends; the answer is the line
    regex's, ``JSON_LINE``, for any text."""
    from logtrack.parse.json_lines import looks_json

    frame = pl.DataFrame({"t": texts}, schema={"t": pl.String})
    fast, regex = frame.select(looks_json(pl.col("t"), formats.JSON_LINE).alias("fast"),
                               pl.col("t").str.contains(formats.JSON_LINE).alias("regex"))
    assert fast.to_list() == regex.to_list(), texts


# Caddy's time texts: each of its time_formats around a real instant, and the same texts damaged (a character
# changed, cut short, a year of other than four digits, junk)
_CADDY_FORMS = ["{e:.6f}", "{e:.0f}", "{ms}", "{ns}", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M:%S.%f",
                "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%d/%b/%Y:%H:%M:%S %z"]


def _caddy_text(when: datetime, form: str) -> str:
    epoch = when.timestamp()
    if form.startswith("{"):
        return form.format(e=epoch, ms=int(epoch * 1000), ns=int(epoch * 1e9))
    return when.strftime(form)


caddy_texts = st.one_of(
    st.builds(_caddy_text, st.datetimes(min_value=datetime(1960, 1, 1), max_value=datetime(2100, 1, 1),
                                        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-6)),
                                                                   timezone(timedelta(hours=5, minutes=45))])),
              st.sampled_from(_CADDY_FORMS)),
    st.text(st.sampled_from("0123456789/-:.TZ+ abcNovJan"), max_size=30),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(caddy_texts, st.integers(0, 40), st.sampled_from(["", "0", "9", "x", "/", "-"])),
                min_size=1, max_size=30), st.sampled_from([None, "America/Chicago"]))
def test_caddy_time_is_the_first_of_its_forms_that_reads_it(texts: list[tuple[str, int, str]],
                                                            wall_zone: str | None) -> None:
    """Each form is asked only of the texts of its shape (``times._caddy``): the result is what asking every
    form of every text and keeping the first that reads it gives (a coalesce of them all, the oracle here)."""
    from logtrack.parse import times

    values = [text if not edit else text[:at] + edit + text[at + 1:] for text, at, edit in texts]
    frame = pl.DataFrame({"time": values}, schema={"time": pl.String})
    text = pl.col("time")
    wall = text.str.strptime(pl.Datetime("us"), "%Y/%m/%d %H:%M:%S%.f", strict=False)
    wall_instant = wall.dt.replace_time_zone(wall_zone or "UTC", ambiguous="earliest", non_existent="null")
    iso, iso_day = times._iso(text.str.replace(r"([+-][0-9]{2})([0-9]{2})$", "$1:$2"))
    clf = text.str.strptime(pl.Datetime("us", "UTC"), formats.CLF_FORMAT, strict=False)
    clf_day = text.str.slice(0, 11).str.strptime(pl.Date, "%d/%b/%Y", strict=False)
    epoch = times._utc(times._sized_epoch(text))
    oracle = frame.select(
        ts=pl.coalesce(wall_instant.dt.convert_time_zone("UTC"), iso, clf, epoch),
        day=pl.coalesce(wall.dt.date(), iso_day, clf_day, epoch.dt.date()))
    instant, day = times._caddy(text, wall_zone)
    got = frame.select(ts=instant, day=day)
    # what the counting keeps of either (``parse.fields.derive``: a time before 1970 or past 9999 is damage)
    kept = [pl.when(pl.col("ts").dt.epoch("us").is_between(0, parse._YEAR_10000_US - 1)).then("ts").alias("ts"),
            pl.when(pl.col("day").cast(pl.Int32).is_between(0, parse._YEAR_10000_DAYS - 1)).then("day").alias("day")]
    assert got.select(kept).equals(oracle.select(kept)), \
        pl.concat([frame, got.rename({"ts": "got_ts", "day": "got_day"}), oracle], how="horizontal")


# What XML 1.0 may hold (its Char production), a character at a time: with the ones a parser or a serializer
# treats apart (line ends, markup, the end of a CDATA section) drawn often.
_XML_CHARS = st.one_of(
    st.sampled_from(["\r", "\n", "\t", "\r\n", "&", "<", ">", "]]>", '"', "'", " ", "&amp;", "\x85", "\u2028"]),
    st.characters(codec="utf-8", exclude_characters="\ufffe\uffff",
                  exclude_categories=("Cs", "Cc")),
)
_xml_texts = st.lists(_XML_CHARS, min_size=1, max_size=8).map("".join)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.tuples(_xml_texts, st.integers(1, 9)), min_size=1, max_size=12, unique_by=lambda kv: kv[0]),
       st.sampled_from(["", "Zillow", "A&B <x>\r"]))
def test_listing_ids_come_back_from_the_document_as_they_were_counted(listings: list[tuple[str, int]],
                                                                        supplier: str) -> None:
    """Whatever a listing pattern takes that XML can hold comes back, parsed from the document, as the very
    id that was counted (a CR went out as a line end: "a\\rb" came back as "a\\nb"), and the document made a
    View at a time is the whole tree's."""
    from lxml import etree

    from logtrack.config import Config
    from logtrack.flexmls import viewtracking

    counts = pl.DataFrame({"day": [date(2026, 11, 1)] * len(listings), "supplier": [supplier] * len(listings),
                           "listing": [listing for listing, _ in listings], "views": [n for _, n in listings]},
                          schema={"day": pl.Date, "supplier": pl.String, "listing": pl.String, "views": pl.Int64})
    document = viewtracking.render(counts, Config(), check=True)
    assert document == viewtracking.serialize(viewtracking.build_tree(counts, Config()))
    root = etree.fromstring(document)
    assert [e.text or "" for e in root.iter("ViewSupplierName")] == [supplier]
    assert sorted((e.findtext("ListingId"), int(e.findtext("ViewCount") or 0)) for e in root.iter("Listing")) \
        == sorted(listings)
