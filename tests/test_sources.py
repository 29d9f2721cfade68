"""Sources: directories, compression by content, batches that never cut a line."""

from __future__ import annotations

import bz2
import gzip
import lzma
from pathlib import Path

import pytest

from logtrack import sources
from logtrack.errors import InputError

LINES = [f"line {i} " + "x" * (i % 17) for i in range(1000)]
DATA = ("\n".join(LINES) + "\n").encode()


def read_all(name: str, batch_bytes: int = sources.BATCH_BYTES) -> tuple[list[str], list[int]]:
    lines: list[str] = []
    firsts: list[int] = []
    for batch in sources.batches(name, batch_bytes):
        assert batch.first_line == len(lines) + 1
        firsts.append(batch.first_line)
        lines.extend(batch.text.split("\n"))
    return lines, firsts


@pytest.mark.parametrize(
    ("suffix", "compress"),
    [
        (".log", lambda b: b),
        (".gz", gzip.compress),
        (".bz2", bz2.compress),
        (".xz", lzma.compress),
        (".1", gzip.compress),  # compressed under a name that does not say so
    ],
)
@pytest.mark.parametrize("batch_bytes", [7, 1000, sources.BATCH_BYTES])
def test_every_line_once_whatever_the_batch(tmp_path: Path, suffix: str, compress, batch_bytes: int,
                                           monkeypatch) -> None:
    monkeypatch.setattr(sources, "RAW_CHUNK", min(batch_bytes, sources.RAW_CHUNK))
    path = tmp_path / f"access{suffix}"
    path.write_bytes(compress(DATA))
    lines, firsts = read_all(str(path), batch_bytes)
    assert lines == LINES
    if batch_bytes == 7 and suffix != ".bz2":  # bzip2 gives nothing before a whole block
        assert len(firsts) > 100


def test_zstd(tmp_path: Path) -> None:
    zstandard = pytest.importorskip("zstandard", reason="the zstd extra is not installed")
    path = tmp_path / "access.log.4.zst"
    half = len(DATA) // 2
    cut = DATA.rfind(b"\n", 0, half) + 1
    c = zstandard.ZstdCompressor()
    path.write_bytes(c.compress(DATA[:cut]) + c.compress(DATA[cut:]))  # two frames
    assert read_all(str(path))[0] == LINES


def test_concatenated_gzip_members(tmp_path: Path) -> None:
    path = tmp_path / "access.log.gz"
    half = len(LINES) // 2
    path.write_bytes(
        gzip.compress(("\n".join(LINES[:half]) + "\n").encode())
        + gzip.compress(("\n".join(LINES[half:]) + "\n").encode())
    )
    assert read_all(str(path))[0] == LINES


def test_last_line_without_newline(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_bytes(b"a\nb\nc")
    assert read_all(str(path), 2)[0] == ["a", "b", "c"]


def test_invalid_utf8_marks_only_its_line(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_bytes(b"ok 1\nbad \xff\xfe 2\nok \xc3\xa9 3\n\xc3\nok 5\nbad \xed\xa0\x80\n")
    (batch,) = sources.batches(str(path))
    assert batch.text.split("\n") == ["ok 1", "bad \ufffd\ufffd 2", "ok é 3", "\ufffd", "ok 5", "bad \ufffd\ufffd\ufffd"]
    assert batch.bad_utf8 == (1, 3, 5)


def test_directory_means_its_access_logs(tmp_path: Path) -> None:
    for name in ["access.log", "access.log.1", "access.log.2.gz", "access.log-20261101.gz",
                 "other_vhosts_access.log", "error.log", "access_error.log", "notes.txt"]:
        (tmp_path / name).write_text("x\n")
    (tmp_path / "access.d").mkdir()
    found = [Path(p).name for p in sources.expand([str(tmp_path)]).files]
    assert found == ["access.log", "access.log-20261101.gz", "access.log.1", "access.log.2.gz",
                     "other_vhosts_access.log"]
    mine = [Path(p).name for p in sources.expand([str(tmp_path)], "*.txt").files]
    assert mine == ["notes.txt"]


def test_globs_and_duplicates(tmp_path: Path) -> None:
    for name in ["a.log", "b.log", "c.txt"]:
        (tmp_path / name).write_text("x\n")
    got = sources.expand([str(tmp_path / "*.log"), str(tmp_path / "a.log")])
    assert [Path(p).name for p in got.files] == ["a.log", "b.log"]
    assert got.problems == []


def test_paths_that_name_nothing_are_problems_not_crashes(tmp_path: Path) -> None:
    (tmp_path / "error.log").write_text("x\n")
    (tmp_path / "access.log").write_text("x\n")
    got = sources.expand([str(tmp_path / "nope.log"), str(tmp_path / "*.gz"), str(tmp_path / "access.log")])
    assert [Path(p).name for p in got.files] == ["access.log"]
    assert got.problems == [f"{tmp_path}/nope.log: no such file or directory",
                            f"{tmp_path}/*.gz: no file matches this pattern"]
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "error.log").write_text("x\n")
    assert "no access logs in this directory" in sources.expand([str(sub)]).problems[0]


def test_rotated_siblings(tmp_path: Path) -> None:
    for name in ["access.log", "access.log.1", "access.log.2.gz", "access.log-20261101.gz", "access.logx"]:
        (tmp_path / name).write_text("x\n")
    assert [Path(p).name for p in sources.rotated_siblings(str(tmp_path / "access.log"))] == [
        "access.log", "access.log.1", "access.log.2.gz", "access.log-20261101.gz"]


@pytest.mark.parametrize(("compress", "streams"), [(gzip.compress, True), (lzma.compress, True),
                                                  (bz2.compress, False)])  # bzip2 works in 900 kB blocks
def test_truncated_compressed_keeps_complete_lines_and_warns(tmp_path: Path, compress, streams: bool) -> None:
    path = tmp_path / "access.log.2.gz"
    data = compress(DATA)
    path.write_bytes(data[: len(data) * 2 // 3])
    warnings: list[str] = []
    lines: list[str] = []
    for batch in sources.batches(str(path), 1000, warn=warnings.append):
        lines.extend(batch.text.split("\n"))
    assert len(lines) < len(LINES)
    assert (len(lines) > 0) == streams
    assert lines == LINES[: len(lines)]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{path}: compressed data ends early: read up to line")
    assert f"read up to line {len(lines)}" in warnings[0]


def test_binary_file_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "access.log.db"
    path.write_bytes(b"SQLite format 3\x00\x10\x00" + bytes(range(256)))
    with pytest.raises(InputError, match=f"{path}: looks binary"):
        list(sources.batches(str(path)))
