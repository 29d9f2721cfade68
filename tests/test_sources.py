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
def test_every_line_once_whatever_the_batch(tmp_path: Path, suffix: str, compress, batch_bytes: int) -> None:
    path = tmp_path / f"access{suffix}"
    path.write_bytes(compress(DATA))
    lines, firsts = read_all(str(path), batch_bytes)
    assert lines == LINES
    if batch_bytes == 7:
        assert len(firsts) > 100


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
    for name in ["access.log", "access.log.1", "access.log.2.gz", "other_vhosts_access.log",
                 "error.log", "access_error.log", "notes.txt"]:
        (tmp_path / name).write_text("x\n")
    (tmp_path / "access.d").mkdir()
    found = [Path(p).name for p in sources.expand([str(tmp_path)])]
    assert found == ["access.log", "access.log.1", "access.log.2.gz", "other_vhosts_access.log"]


def test_missing_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=f"{tmp_path}/nope.log: no such file or directory"):
        sources.expand([str(tmp_path / "nope.log")])


def test_directory_without_access_logs(tmp_path: Path) -> None:
    (tmp_path / "error.log").write_text("x\n")
    with pytest.raises(InputError, match="no access logs in this directory"):
        sources.expand([str(tmp_path)])
