"""Property-based tests: no input crashes a parser; what a server writes parses back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logtrack import formats
from logtrack.parse import parse_batch
from logtrack.sources import _decode

import loggen

PRESETS = list(formats.PRESETS)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=20), st.sampled_from(PRESETS))
def test_any_bytes_parse_or_skip(lines: list[bytes], preset: str) -> None:
    data = b"\n".join(line.replace(b"\n", b" ") for line in lines)
    df = parse_batch(_decode("fuzz.log", 1, data), formats.get(preset))
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
)
def test_written_lines_parse_back(preset: str, style: str, client: str, when: datetime, method: str,
                                  target: str, status: int, referrer: str, agent: str, vhost: str) -> None:
    hit = loggen.Hit(when, method, target, status, referrer, agent, vhost, client, 123)
    line = loggen.render(hit, preset, style)
    row = parse_batch(_decode("t.log", 1, line.encode()), formats.get(preset)).row(0, named=True)
    assert row["reason"] is None, line
    assert row["client"] == client
    assert row["method"] == method
    assert row["target"] == target
    assert row["status"] == status
    assert row["ts"] == when.astimezone(UTC)
    assert row["local_day"] == when.date()
    if preset != "common":
        assert row["referrer"] == loggen.escape(referrer, style)
        assert row["user_agent"] == loggen.escape(agent, style)
    if preset == "vhost_combined":
        assert row["vhost"] == vhost
