"""Lines a container runtime split in parts (CRI's ``P``, Docker's log without its newline) are read whole.

Generated access lines are filed as the kubelet's runtime and Docker's
daemon file them, some in two or three parts, with lines of the other
stream between the parts, then read back in batches of any size: every
line reads as it was written, once, and each part is skipped as such.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logtrack import formats
from logtrack.parse.fields import parse_batch
from logtrack.read import compressed, parts, sources
from logtrack.verdicts.reasons import Skip

AGENT = "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/132.0"
FIELDS = ["target", "status", "referrer", "user_agent", "ts", "reason"]


def access(i: int, pad: int) -> str:
    # (a backslash and an "n" in the query: a Docker part may end in them, and is no whole line)
    return (f'203.0.113.{i % 250} - - [29/Nov/2026:16:25:{i % 60:02d} -0600] "GET /listing/{1000 + i}?q={"a" * pad}'
            f'\\n{"x" * (i % 3)} HTTP/1.1" 200 5 "https://www.zillow.com/{i}" "{AGENT} \\"{i}\\""')


def filed(runtime: str, stream: str, text: str, *, last: bool = True) -> str:
    """One part (``last``: the line's last, or the whole line) as the runtime files it."""
    if runtime == "cri":
        return f"2026-11-29T22:25:14.123456789Z {stream} {'F' if last else 'P'} {text}"
    return json.dumps({"log": text + ("\n" if last else ""), "stream": stream, "time": "2026-11-29T22:25:14.1Z"},
                      separators=(",", ":"))


@st.composite
def split_logs(draw: st.DrawFn) -> tuple[str, list[str], list[str], int]:
    """(runtime, the access lines, the file's lines, how many of them are parts)."""
    runtime = draw(st.sampled_from(["cri", "docker"]))
    lines = [access(i, draw(st.integers(0, 60))) for i in range(draw(st.integers(1, 25)))]
    out: list[str] = []
    extra = 0
    for line in lines:
        cuts = sorted(set(draw(st.lists(st.integers(1, len(line) - 1), max_size=2))))
        pieces = [line[a:b] for a, b in zip([0, *cuts], [*cuts, len(line)], strict=True)]
        for k, piece in enumerate(pieces):
            out.append(filed(runtime, "stdout", piece, last=k == len(pieces) - 1))
            if k < len(pieces) - 1 and draw(st.booleans()):  # the other stream, between the parts
                out.append(filed(runtime, "stderr", "2026/11/29 22:25:13 [notice] 1#1: signal process started"))
        extra += len(pieces) - 1
    return runtime, lines, out, extra


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(log=split_logs(), batch_bytes=st.integers(1, 3000), chunk=st.integers(1, 400))
def test_split_lines_are_read_whole_whatever_the_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         log: tuple[str, list[str], list[str], int],
                                                         batch_bytes: int, chunk: int) -> None:
    monkeypatch.setattr(compressed, "RAW_CHUNK", chunk)  # (the file read in chunks of any size, cut anywhere)
    runtime, lines, written, extra = log
    path = tmp_path / f"{runtime}.log"
    path.write_text("\n".join(written) + "\n")
    fmt = formats.get(f"{runtime}:combined")
    got = []
    for batch in sources.batches(str(path), batch_bytes):
        assert batch.first_line == len(got) + 1
        if batch.end_offset < path.stat().st_size:  # (only the file's last batch may end in a part)
            assert parts.held_from(batch.data) is None
        got.extend(parse_batch(batch, fmt).sort("line_no").select(FIELDS).to_dicts())
    assert len(got) == len(written)
    assert sum(row["reason"] == Skip.PART for row in got) == extra
    plain = parse_batch(sources.batch_of("t", 1, "\n".join(lines).encode()), formats.get("combined"))
    read = [row for row in got if row["reason"] not in (Skip.PART, Skip.NOTICE)]
    assert read == plain.select(FIELDS).to_dicts()
    assert all(row["reason"] is None for row in read)


@pytest.mark.parametrize("runtime", ["cri", "docker"])
def test_a_line_whose_last_part_is_not_written_yet_waits_for_it(tmp_path: Path, runtime: str) -> None:
    """An incremental read leaves the first parts of a line for the next run, as it leaves a line without
    its newline: read now, they would be skipped, and the rest, read alone, damaged."""
    line = access(7, 40)
    path = tmp_path / "0.log"
    path.write_text(filed(runtime, "stdout", access(6, 0)) + "\n" + filed(runtime, "stdout", line[:50], last=False)
                    + "\n" + filed(runtime, "stdout", line[50:90], last=False) + "\n")
    first = list(sources.batches(str(path), partial_tail=False))
    assert [b.lines for b in first] == [1]
    with open(path, "a") as fh:
        fh.write(filed(runtime, "stdout", line[90:]) + "\n")
    again = list(sources.batches(str(path), partial_tail=False, skip=first[0].end_offset, first_line=2))
    assert [(b.first_line, b.lines) for b in again] == [(2, 3)]
    rows = parse_batch(again[0], formats.get(f"{runtime}:combined")).sort("line_no")
    assert rows.get_column("reason").to_list() == [Skip.PART, Skip.PART, None]
    assert rows.get_column("target").to_list()[-1] == "/listing/1007?q=" + "a" * 40 + "\\nx"


@pytest.mark.parametrize(("line", "part"), [
    (filed("cri", "stdout", "x", last=False), True),
    (filed("cri", "stderr", "x", last=False), True),
    (filed("cri", "stdout", "x"), False),
    (filed("docker", "stdout", "x", last=False), True),
    (filed("docker", "stdout", "x"), False),
    (filed("docker", "stdout", "x\\", last=False), True),  # (text ending in a backslash)
    (filed("docker", "stdout", "x\\n", last=False), True),  # (... and an "n": no newline)
    (filed("docker", "stdout", "x\\"), False),
    # other logs' lines are never taken for parts
    (access(1, 0), False),
    ('{"log":"GET /x","level":"info"}', False),
    ("2026-11-29T22:25:14Z web1 nginx: P x", False),
])
def test_what_a_part_looks_like(line: str, part: bool) -> None:
    assert parts.is_part(line.encode()) is part


@pytest.mark.parametrize("runtime", ["cri", "docker"])
def test_strict_takes_a_split_line_for_the_line_it_is(cli, tmp_path: Path, runtime: str) -> None:
    """``--strict`` fails on damage; a line split in parts is none, read whole and counted."""
    from conftest import xml_counts

    line = access(3, 20)
    log = tmp_path / f"{runtime}.log"
    log.write_text("\n".join([filed(runtime, "stdout", line[:70], last=False),
                              filed(runtime, "stderr", "2026/11/29 22:25:13 [notice] 1#1: signal process started"),
                              filed(runtime, "stdout", line[70:])]) + "\n")
    code, out, err = cli("xml", str(log), "--format", f"{runtime}:combined", "--strict",
                         "--listing-pattern", r"^/listing/(?P<id>[0-9]+)")
    assert code == 0, err
    assert xml_counts(out) == {("2026-11-29", "", "1003"): 1}
    assert "1 part of a line the container runtime split" in err
