"""Lines: Polars' CSV reader cuts a batch into the lines Python's split would, or declines it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logtrack.parse.lines import read_lines
from logtrack.read.sources import batch_of


def python_lines(data: bytes) -> list[str]:
    """The rule: a batch is its lines joined by newlines; a CRLF line end loses its CR, nothing else does."""
    return [line.removesuffix("\r") for line in data.decode().split("\n")]


@pytest.mark.parametrize("data, lines", [
    (b"a\nb", ["a", "b"]),
    (b"a\nb\n", ["a", "b", ""]),  # a batch ending in a newline ends in a blank line
    (b"\n\na", ["", "", "a"]),
    (b"\n", ["", ""]),
    (b"a\r\nb\r", ["a", "b"]),
    (b"a\r\r\nb", ["a\r", "b"]),  # one CR goes, with the newline
    (b"\r\n\r", ["", ""]),
    (b"z\rq\n\"\r\"", ["z\rq", "\"\r\""]),  # a CR inside a line is text
    (b'1.2.3.4 - - "GET / HTTP/1.1" "a\\"b"', ['1.2.3.4 - - "GET / HTTP/1.1" "a\\"b"']),  # quotes are text
    (b"#Fields: a b\n x ", ["#Fields: a b", " x "]),  # no comments, spaces kept
    (b"a\x1eb", ["a\x1eb"]),
    ("caf\u00e9 \u2603".encode(), ["caf\u00e9 \u2603"]),
])
def test_lines_as_python_splits_them(data: bytes, lines: list[str]) -> None:
    frame = read_lines(data)
    assert frame is not None
    assert frame.get_column("line").to_list() == lines == python_lines(data)
    assert frame.get_column("idx").to_list() == list(range(len(lines)))
    assert frame.height == batch_of("t.log", 1, data).lines


@pytest.mark.parametrize("data", [
    b"",
    b"a\x1fb",  # the reader's separator: split by Python instead
    b"caf\xe9",  # not UTF-8
    b"\x1f\x8b\x08 looks gzipped",  # the reader would inflate it
])
def test_what_the_reader_does_not_take_is_declined(data: bytes) -> None:
    assert read_lines(data) is None


def test_a_leading_byte_order_mark_is_not_text() -> None:
    """The reader drops a BOM at the start of a file (a Windows editor's), as a log's first line needs."""
    frame = read_lines("\ufeff1.2.3.4 - -\nb".encode())
    assert frame is not None and frame.get_column("line").to_list() == ["1.2.3.4 - -", "b"]
    # a file that holds a BOM alone (an editor's empty file): one blank line, as every batch has a line (it had none)
    for data, lines in ((b"\xef\xbb\xbf", [""]), (b"\xef\xbb\xbf\n", ["", ""])):
        frame = read_lines(data)
        assert frame is not None and frame.get_column("line").to_list() == lines
        assert frame.get_column("idx").to_list() == list(range(len(lines))) and frame.height == batch_of("t", 1, data).lines


@settings(max_examples=300)
@given(st.lists(st.text(st.sampled_from(['a', ' ', '"', "\r", "\t", "\u00e9", "\\", "#", "\x1e", ","]), max_size=8),
                min_size=1, max_size=30))
def test_any_lines_come_back_as_python_splits_them(lines: list[str]) -> None:
    data = "\n".join(lines).encode()
    frame = read_lines(data)
    if not data:  # (one blank line: nothing for the reader, Python splits it)
        assert frame is None
        return
    assert frame is not None
    assert frame.get_column("line").to_list() == python_lines(data)
