"""Sources: directories, compression by content, batches that never cut a line."""

from __future__ import annotations

import bz2
import errno
import gzip
import io
import lzma
import os
import re
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from logtrack.errors import InputError
from logtrack.read import compressed, files, sources
from logtrack.read.inputs import READ_AHEAD, WORKERS, in_order

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
    monkeypatch.setattr(compressed, "RAW_CHUNK", min(batch_bytes, compressed.RAW_CHUNK))
    path = tmp_path / f"access{suffix}"
    path.write_bytes(compress(DATA))
    lines, firsts = read_all(str(path), batch_bytes)
    assert lines == LINES
    if batch_bytes == 7 and suffix != ".bz2":  # bzip2 gives nothing before a whole block
        assert len(firsts) > 100


def test_zstd(tmp_path: Path) -> None:
    import zstandard  # (a dependency: logrotate's compresscmd zstd is a setup real servers have)

    path = tmp_path / "access.log.4.zst"
    half = len(DATA) // 2
    cut = DATA.rfind(b"\n", 0, half) + 1
    c = zstandard.ZstdCompressor()
    path.write_bytes(c.compress(DATA[:cut]) + c.compress(DATA[cut:]))  # two frames
    assert read_all(str(path))[0] == LINES


def test_zstd_without_its_package_is_that_files_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An install that left zstandard out (a distribution's package): the file's error says what to install."""
    import zstandard

    path = tmp_path / "access.log.2.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(DATA))
    monkeypatch.setitem(sys.modules, "zstandard", None)  # (import then raises ImportError)
    with pytest.raises(InputError, match=r"access\.log\.2\.zst: zstd-compressed, and the zstandard package is not "
                                         r"installed") as info:
        read_all(str(path))
    assert "pip install zstandard" in str(info.value.fix)


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
    found = [Path(p).name for p in files.expand([str(tmp_path)]).files]
    assert found == ["access.log", "access.log-20261101.gz", "access.log.1", "access.log.2.gz",
                     "other_vhosts_access.log"]
    mine = [Path(p).name for p in files.expand([str(tmp_path)], "*.txt").files]
    assert mine == ["notes.txt"]


def test_a_directory_glob_brings_its_matches_rotated_copies_for_run(tmp_path: Path) -> None:
    """[logs] glob = "*.log": site.log's copies (site.log.1 holds what was written since the last run) are read
    by ``run`` (``siblings``), as a default directory's are; ``xml`` reads what the glob names."""
    for name in ["site.log", "site.log.1", "site.log.2.gz", "site.log-20261101.gz", "other.txt", "other.txt.1"]:
        (tmp_path / name).write_text("x\n")
    run = [Path(p).name for p in files.expand([str(tmp_path)], "*.log", siblings=True).files]
    assert sorted(run) == ["site.log", "site.log-20261101.gz", "site.log.1", "site.log.2.gz"]
    assert [Path(p).name for p in files.expand([str(tmp_path)], "*.log").files] == ["site.log"]


def test_globs_and_duplicates(tmp_path: Path) -> None:
    for name in ["a.log", "b.log", "c.txt"]:
        (tmp_path / name).write_text("x\n")
    got = files.expand([str(tmp_path / "*.log"), str(tmp_path / "a.log")])
    assert [Path(p).name for p in got.files] == ["a.log", "b.log"]
    assert got.problems == []


def test_two_stars_are_any_depth_of_folders(tmp_path: Path) -> None:
    """A CDN's or a storage account's logs by date (``y=2026/m=11/d=29/h=22/PT1H.json``): ``**`` is any depth, as a
    shell with globstar reads it (it was one folder, as ``*``)."""
    for name in ["top.json", "y=2026/m=11/a.json", "y=2026/m=11/d=29/h=22/PT1H.json", "y=2026/notes.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    got = files.expand([str(tmp_path / "**" / "*.json")])
    assert [str(Path(p).relative_to(tmp_path)) for p in got.files] == [
        "top.json", "y=2026/m=11/a.json", "y=2026/m=11/d=29/h=22/PT1H.json"]


def test_a_file_under_two_names_is_read_once(tmp_path: Path, monkeypatch) -> None:
    """A symlink, a hard link, ``./`` or a directory beside one of its files: one file, counted once, under the
    first name given; a copy is another file."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "access.log").write_text("x\n")
    (logs / "other_access.log").write_text("x\n")
    (tmp_path / "link_access.log").symlink_to(logs / "access.log")
    os.link(logs / "access.log", tmp_path / "hard_access.log")
    (tmp_path / "copy_access.log").write_text("x\n")
    monkeypatch.chdir(tmp_path)
    got = files.expand(["logs/access.log", "./logs/access.log", "link_access.log", "hard_access.log", "logs",
                        "copy_access.log", str(tmp_path / "logs" / "other_access.log")])
    assert got.files == ["logs/access.log", "logs/other_access.log", "copy_access.log"]
    assert files.once(["-", "-", "/dev/null", "/dev/null", "gone.log"]) == ["-", "/dev/null", "gone.log"]


def test_paths_that_name_nothing_are_problems_not_crashes(tmp_path: Path) -> None:
    (tmp_path / "error.log").write_text("x\n")
    (tmp_path / "access.log").write_text("x\n")
    got = files.expand([str(tmp_path / "nope.log"), str(tmp_path / "*.gz"), str(tmp_path / "access.log")])
    assert [Path(p).name for p in got.files] == ["access.log"]
    assert got.problems == [f"{tmp_path}/nope.log: no such file or directory",
                            f"{tmp_path}/*.gz: no file matches this pattern"]
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "error.log").write_text("x\n")
    assert "no access logs in this directory" in files.expand([str(sub)]).problems[0]


NO_ACCESS = "no access logs in this directory"
BY_DEFAULT = "looked for names containing 'access' or 'varnishncsa' (and not 'error')"


@pytest.mark.parametrize(
    ("names", "pattern", "said"),
    [
        ([], None, f"{NO_ACCESS} (it holds no files)"),
        ([".DS_Store"], None, f"{NO_ACCESS} (it holds no files)"),  # (none a glob of logs would take)
        (["error.log", "error.log.1"], None, f"{NO_ACCESS} (it holds error logs alone, e.g. error.log)"),
        # a CDN's names: the glob their ending makes
        (["E2EXAMPLE.2026-11-01-12.a1b2c3d4.gz", "E2EXAMPLE.2026-11-01-13.b2c3d4e5.gz", ".DS_Store", "error.log"],
         None, f"{NO_ACCESS} ({BY_DEFAULT}; it holds 2 files such as E2EXAMPLE.2026-11-01-12.a1b2c3d4.gz); "
               'set [logs] glob = "*.gz" to read them, or name the files'),
        (["PT1H.json"], None, f'{NO_ACCESS} ({BY_DEFAULT}; it holds PT1H.json); set [logs] glob = "*.json" to read '
                              "them, or name the files"),
        (["site.log", "notes.txt", "README"], None,
         f"{NO_ACCESS} ({BY_DEFAULT}; it holds 3 files such as README); set [logs] glob to the logs' names, "
         "or name the files"),
        (["a.log", "error.log"], "*.gz", f"{NO_ACCESS} (looked for names matching '*.gz'; it holds 2 files such as "
                                        'a.log); set [logs] glob = "*.log" to read them, or name the files'),
    ],
)
def test_a_directory_without_access_logs_says_what_it_holds(tmp_path: Path, names: list[str],
                                                             pattern: str | None, said: str) -> None:
    for name in names:
        (tmp_path / name).write_text("x\n")
    (tmp_path / "subdir").mkdir()  # (a directory in it is no file it holds)
    assert files.expand([str(tmp_path)], pattern).problems == [f"{tmp_path}: {said}"]


def test_a_directory_means_its_access_logs(tmp_path: Path) -> None:
    names = ["access.log", "other_vhosts_access.log.1", "ACCESS_LOG", "varnishncsa.log", "varnishncsa.log.2.gz",
             "error.log", "access_error.log", "site.log", "varnish.log"]
    for name in names:
        (tmp_path / name).write_text("x\n")
    assert [Path(p).name for p in files.expand([str(tmp_path)]).files] == [
        "ACCESS_LOG", "access.log", "other_vhosts_access.log.1", "varnishncsa.log", "varnishncsa.log.2.gz"]


def test_rotated_siblings(tmp_path: Path) -> None:
    # (logrotate's ``extension .log`` keeps the extension last: access.1.log, access-<dateformat>.log.gz; Caddy
    # rolls its own log, through lumberjack: access-<UTC time>.log, gzipped; not another log's copies)
    for name in ["access.log", "access.log.1", "access.log.2.gz", "access.log-20261101.gz", "access.logx",
                 "access-2026-12-01T10-15-47.217.log.gz", "access-2026-12-01T11-00-02.001.log", "access-other.log",
                 "access-2026-12-01T10-15-47.217.txt", "access-2026-12-01.log.gz", "access.1.log", "access.2.log.gz",
                 "access-20261101-1793548800.log.zst", "access_20261101.log", "access.old.log", "access-v2.log",
                 "access.1.txt", "access.1.log.bak", "access.log.json", "access.log.old", "access.log.1.bak"]:
        (tmp_path / name).write_text("x\n")
    assert sorted(Path(p).name for p in files.rotated_siblings(str(tmp_path / "access.log"))) == sorted([
        "access.log", "access.log.1", "access.log.2.gz", "access.log-20261101.gz",
        "access-2026-12-01T10-15-47.217.log.gz", "access-2026-12-01T11-00-02.001.log", "access-2026-12-01.log.gz",
        "access.1.log", "access.2.log.gz", "access-20261101-1793548800.log.zst", "access_20261101.log"])


@pytest.mark.parametrize(("name", "copy"), [
    ("/l/access.log.14", True), ("/l/access.log-20261101", True), ("/l/access.1.log", True),
    ("/l/access.log", False),  # the log written to
    ("/l/other_access.log", False), ("/l/access.log.old", False), ("/elsewhere/access.log.1", False),
])
def test_a_copy_of_another_log_read(name: str, copy: bool) -> None:
    """What ``jobs.gone`` asks of a name: a rotated copy of another log read beside it (not the log written to)."""
    assert files.copy_of_another(name, ["/l/access.log", "/l/other_access.log", name]) is copy


def test_several_logs_with_their_siblings_each_file_once(tmp_path: Path) -> None:
    """What a glob gives ``run``: the logs it matched, each followed by its copies, none twice (access.log.1
    matched itself and is also access.log's copy)."""
    for name in ["access.log", "access.log.1", "other_access.log", "other_access.log-20261101.gz", "x.gz"]:
        (tmp_path / name).write_text("x\n")
    bases = [str(tmp_path / n) for n in ("access.log", "access.log.1", "other_access.log")]
    assert [Path(p).name for p in files.with_siblings(bases)] == [
        "access.log", "access.log.1", "other_access.log", "other_access.log-20261101.gz"]


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


@pytest.mark.parametrize(("age", "warned"), [(5, False), (3600, True)])
def test_a_compressed_file_being_written_is_read_on_next_time_without_a_warning(tmp_path: Path, age: int,
                                                                                 warned: bool) -> None:
    """An incremental read (``run``) of a gzip file that ends mid-member: written to seconds ago (nginx's
    ``access_log ... gzip`` between flushes, logrotate compressing it), a note, its complete lines read and
    the rest left for next time; an hour ago, cut for good, a warning (exit 4)."""
    path = tmp_path / "access.log.gz"
    first, second = gzip.compress(DATA[: len(DATA) // 2]), gzip.compress(DATA[len(DATA) // 2:])
    path.write_bytes(first + second[: len(second) // 2])
    os.utime(path, (time.time() - age, time.time() - age))
    warnings: list[str] = []
    notes: list[str] = []
    read = list(sources.batches(str(path), 1000, warn=warnings.append, note=notes.append, partial_tail=False))
    lines = [line for batch in read for line in batch.text.split("\n")]
    assert lines == LINES[: len(lines)] and len(lines) >= len(LINES) // 2 - 1
    assert (len(warnings), len(notes)) == ((1, 0) if warned else (0, 1))
    if not warned:
        assert notes[0].startswith(f"{path}: still being written (compressed data ends early): read up to line")


class _FailingDisk(io.RawIOBase):
    """A file whose reads fail with EIO past ``good`` bytes, as a failing disk's or a lost NFS mount's do."""

    def __init__(self, data: bytes, good: int) -> None:
        self.data, self.good, self.pos = data, good, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if self.pos >= self.good:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        n = min(len(buffer), self.good - self.pos)
        buffer[:n] = self.data[self.pos:self.pos + n]
        self.pos += n
        return n


@pytest.mark.parametrize("compress", [None, gzip.compress, bz2.compress])
@pytest.mark.parametrize("good", [0, 0.5])
def test_a_read_that_fails_is_the_files_input_error(tmp_path: Path, monkeypatch, compress, good: float) -> None:
    """Never an OSError out of the reader (a traceback, exit 1): the file's "cannot read", at its first
    read or later, the whole lines before it given first."""
    path = tmp_path / "access.log"
    data = DATA * 200 if compress is None else compress(DATA * 200)  # (plain: 2.8 MB, read 1 MiB at a time)
    path.write_bytes(data)
    monkeypatch.setattr(compressed, "open", lambda name, mode: io.BufferedReader(
        _FailingDisk(data, int(len(data) * good)), 1024), raising=False)
    said = f"^{re.escape(str(path))}: cannot read: Input/output error$"
    lines: list[str] = []
    with pytest.raises(InputError, match=said):
        for batch in sources.batches(str(path), 1000):
            lines.extend(batch.text.split("\n"))
    assert lines == (LINES * 200)[:len(lines)]
    assert (len(lines) > 0) == (good > 0 and compress is None)  # (compressed, it is all in its first MiB)
    with pytest.raises(InputError, match=said):
        compressed.head(str(path), len(DATA) * 200)


def test_text_with_nul_holes_is_not_binary(tmp_path: Path) -> None:
    """What a crash leaves (blocks of NUL bytes between lines) is a log, read on."""
    path = tmp_path / "access.log"
    path.write_bytes(b"\x00" * 9000 + DATA[:500] + b"\x00" * 700 + DATA[500:])
    assert [line for line in read_all(str(path))[0] if line != "\x00"] == [
        line for line in (DATA[:500] + b"\n" + DATA[500:]).decode().split("\n") if line
    ]


@pytest.mark.parametrize(
    "content",
    [
        b"SQLite format 3\x00\x10\x00\x01\x01\x00\x40\x20\x20" + bytes(4000),  # a database's first page
        b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + bytes(range(256)) * 8,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
        "203.0.113.7 - - [01/Nov/2026:10:00:00 -0600] \"GET / HTTP/1.1\" 200 5\n".encode("utf-16-le") * 20,
        b"\x00\x01\x02" * 100,
    ],
    ids=["sqlite", "elf", "png", "utf-16", "bytes"],
)
def test_binary_files_are_refused_by_name(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "access.log.bin"
    path.write_bytes(content)
    with pytest.raises(InputError, match=f"{path}: looks binary"):
        list(sources.batches(str(path)))


def _lines_around_holes(data: bytes) -> list[str]:
    """The rule, written plainly: every run of NUL bytes is a line of one NUL; text around it keeps its lines."""
    physical = data.split(b"\n")
    if physical[-1] == b"":
        physical.pop()
    out: list[str] = []
    for line in physical:
        if b"\x00" not in line:
            out.append(line.decode())
            continue
        out.extend("\x00" if piece.startswith(b"\x00") else piece.decode()
                   for piece in re.split(rb"(\x00+)", line) if piece)
    return out


HOLE_CASES = [
    (b"\x00" * 5000 + b"a\nb\n", ["\x00", "a", "b"]),  # copytruncate under a writer that does not append
    (b"a\nbro" + b"\x00" * 100 + b"c\n", ["a", "bro", "\x00", "c"]),  # a crash cut a line; c came after reboot
    (b"a\n" + b"\x00" * 100 + b"\nc\n", ["a", "\x00", "c"]),
    (b"a\n" + b"\x00" * 3, ["a", "\x00"]),  # lost lines at the end, nothing after them yet
    (b"a\x00b\n\x00\n\x00", ["a", "\x00", "b", "\x00", "\x00"]),
]


@pytest.mark.parametrize(("data", "lines"), HOLE_CASES)
@pytest.mark.parametrize("chunk", [1, 2, 3, 64, compressed.RAW_CHUNK])
def test_a_hole_is_one_line_and_read_positions_stay_the_files(tmp_path: Path, monkeypatch, data: bytes,
                                                              lines: list[str], chunk: int) -> None:
    monkeypatch.setattr(compressed, "RAW_CHUNK", chunk)
    path = tmp_path / "access.log"
    path.write_bytes(data)
    assert _lines_around_holes(data) == lines
    _check_holes(str(path), data, batch_bytes=chunk)


def _check_holes(name: str, data: bytes, batch_bytes: int) -> None:
    """Lines as the rule says; and a read resumed at any batch's end gives the same lines after it."""
    expected = _lines_around_holes(data)
    batches = list(sources.batches(name, batch_bytes))
    got = [line for batch in batches for line in batch.text.split("\n")]
    assert got == expected
    assert batches[-1].end_offset == len(data)
    for batch in batches[:-1]:
        after = batch.first_line - 1 + batch.lines
        rest = [line for b in sources.batches(name, batch_bytes, skip=batch.end_offset, first_line=after + 1)
                for line in b.text.split("\n")]
        assert rest == expected[after:], batch.end_offset


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.one_of(st.text("ab \n", min_size=1, max_size=12).map(str.encode),
                       st.integers(1, 40).map(lambda n: b"\x00" * n)), min_size=1, max_size=12),
    st.integers(1, 9),
)
def test_holes_anywhere_in_any_chunks(tmp_path: Path, monkeypatch, pieces: list[bytes], chunk: int) -> None:
    data = b"".join(pieces)
    monkeypatch.setattr(compressed, "RAW_CHUNK", chunk)
    path = tmp_path / "access.log"
    path.write_bytes(data)
    _check_holes(str(path), data, batch_bytes=chunk * 2)


def test_a_log_that_turns_binary_keeps_its_lines_and_is_reported(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(compressed, "RAW_CHUNK", 4096)
    path = tmp_path / "access.log"
    path.write_bytes(DATA + bytes(range(256)) * 64)
    got: list[str] = []
    with pytest.raises(InputError, match=f"{path}: NUL bytes all through it after line {len(LINES)}: binary"):
        for batch in sources.batches(str(path)):
            got.extend(batch.text.split("\n"))
    assert got == LINES


def test_work_ahead_comes_back_in_order_bounded_and_whole_before_a_read_error() -> None:
    got: list[tuple[int, int]] = []

    def items() -> Iterator[int]:
        for i in range(40):
            assert i - len(got) <= READ_AHEAD, "more read ahead than the pool works on"
            yield i
        raise InputError("access.log: cannot read: Input/output error")

    def work(i: int) -> int:
        time.sleep(0.002 * (i % 3))  # later items finish first now and then
        return i * i

    with ThreadPoolExecutor(max_workers=WORKERS) as pool, pytest.raises(InputError, match="Input/output"):
        for group in in_order(pool, items(), work):
            got.extend(group)
    assert got == [(i, i * i) for i in range(40)]


@pytest.mark.parametrize("holds", [None, lambda item: item[0] == "batch"])
def test_only_the_items_that_hold_lines_count_toward_the_work_ahead(holds) -> None:
    """A file's end (no lines) takes no place of a batch: with small files, one batch each, it took half."""
    from logtrack.read import inputs

    jobs = [(kind, n) for n in range(12) for kind in ("batch", "end")]
    pulled: list[int] = []  # the items read, in turn
    taken = 0

    def items() -> Iterator[tuple[str, int]]:
        for i, job in enumerate(jobs):
            held = sum(1 for kind, _ in jobs[taken:i] if holds is None or kind == "batch")
            assert held <= READ_AHEAD, "more read ahead than the pool works on"
            pulled.append(i)
            yield job

    ahead_of_the_first = None
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for group in inputs.in_order(pool, items(), lambda job: job, holds=holds):
            if ahead_of_the_first is None:
                ahead_of_the_first = len(pulled)
            assert [job for job, _ in group] == jobs[taken:taken + len(group)]
            taken += len(group)
    assert taken == len(jobs)
    # the first group comes back once one batch more than READ_AHEAD is read, with the ends between them
    # when they take no place
    assert ahead_of_the_first == (2 * READ_AHEAD + 1 if holds is not None else READ_AHEAD + 1)


@pytest.mark.parametrize(("value", "wanted"), [(None, sources.BATCH_BYTES), ("1", 1 << 20), ("64", 64 << 20)])
def test_batch_size_from_the_environment(monkeypatch: pytest.MonkeyPatch, value: str | None, wanted: int) -> None:
    if value is None:
        monkeypatch.delenv(sources.BATCH_ENV, raising=False)
    else:
        monkeypatch.setenv(sources.BATCH_ENV, value)
    assert sources.batch_bytes_wanted() == wanted


@pytest.mark.parametrize("value", ["0", "1.5", "16M", "-3", "4096"])
def test_a_batch_size_that_is_none_is_said(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    from logtrack.errors import UsageError

    monkeypatch.setenv(sources.BATCH_ENV, value)
    with pytest.raises(UsageError, match=f"LOGTRACK_BATCH_MIB='{re.escape(value)}': not a size in MiB"):
        sources.batch_bytes_wanted()


@given(st.lists(st.binary(max_size=12).map(lambda b: b.replace(b"\x00", b"")) | st.sampled_from([b"\n", b"a\n", b"\nb"]),
                max_size=8), st.integers(0, 3))
def test_a_batch_is_cut_from_its_chunks_at_the_last_newline(chunks: list[bytes], cuts: int) -> None:
    """The chunks as read, joined once: the data before the last newline is the batch, its lines counted,
    and what follows stays for the next one, wherever the chunks happen to break."""
    pending = sources._Pending()
    text = b""
    for i, chunk in enumerate(chunks):
        pending.add(chunk)
        text += chunk
        assert pending.size == len(text)
        assert pending.ends_line() == (not text or text.endswith(b"\n"))
        if i % (cuts + 1) == 0:
            cut = pending.cut()
            if b"\n" not in text:
                assert cut is None
                continue
            at = text.rfind(b"\n")
            assert cut == (text[:at], text[:at].count(b"\n") + 1)
            text = text[at + 1:]
            assert pending.size == len(text)
    assert pending.take_all() == text
    assert pending.size == 0 and pending.cut() is None


def _lines_cut_to(data: bytes, line_max: int, kept: int) -> list[bytes]:
    """The rule, written plainly: a line longer than ``line_max`` bytes is its first ``kept`` bytes."""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return [line[:kept] if len(line) > line_max else line for line in lines]


def _check_long_lines(name: str, data: bytes, batch_bytes: int, chunk: int) -> None:
    """Lines as the rule says, memory bounded, and a read resumed at any batch's end gives the lines after it."""
    expected = _lines_cut_to(data, sources.LINE_MAX, sources.LINE_KEPT)
    notes: list[str] = []
    batches = list(sources.batches(name, batch_bytes, note=notes.append))
    assert [line for batch in batches for line in batch.data.split(b"\n")] == expected
    assert max(len(batch.data) for batch in batches) <= batch_bytes + sources.LINE_MAX + chunk
    assert batches[-1].end_offset == len(data)
    assert len(notes) == sum(1 for line in data.split(b"\n") if len(line) > sources.LINE_MAX)
    for batch in batches[:-1]:
        after = batch.first_line - 1 + batch.lines
        rest = [line for b in sources.batches(name, batch_bytes, skip=batch.end_offset, first_line=after + 1)
                for line in b.data.split(b"\n")]
        assert rest == expected[after:], batch.end_offset


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.one_of(st.text("ab ", max_size=12).map(lambda t: t.encode() + b"\n"),
                       st.integers(25, 90).map(lambda n: b"j" * n + b"\n")), min_size=1, max_size=12),
    st.booleans(), st.integers(1, 9), st.integers(1, 60),
)
def test_a_line_longer_than_any_server_writes_is_kept_to_its_start(tmp_path: Path, monkeypatch, pieces: list[bytes],
                                                                  ends_in_newline: bool, chunk: int,
                                                                  batch_bytes: int) -> None:
    monkeypatch.setattr(sources, "LINE_MAX", 30)
    monkeypatch.setattr(sources, "LINE_KEPT", 8)
    monkeypatch.setattr(compressed, "RAW_CHUNK", chunk)
    data = b"".join(pieces)
    data = data if ends_in_newline else data.removesuffix(b"\n")
    assume(data)  # (an empty file has no batch)
    path = tmp_path / "access.log"
    path.write_bytes(data)
    _check_long_lines(str(path), data, batch_bytes, chunk)


def test_a_long_line_in_a_compressed_file_beside_a_hole(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sources, "LINE_MAX", 1000)
    monkeypatch.setattr(sources, "LINE_KEPT", 100)
    monkeypatch.setattr(compressed, "OUT_CHUNK", 256)  # (chunks shorter than LINE_MAX, as they are)
    data = b"a\n" + b"j" * 5000 + b"\nb\n" + b"\x00" * 300 + b"\nc " + b"k" * 3000 + b"\nd\n"
    path = tmp_path / "access.log.gz"
    path.write_bytes(gzip.compress(data))
    notes: list[str] = []
    lines = [line for batch in sources.batches(str(path), 700, note=notes.append) for line in batch.data.split(b"\n")]
    assert lines == [b"a", b"j" * 100, b"b", b"\x00", b"c " + b"k" * 98, b"d"]
    assert [note.split(": ")[0] for note in notes] == [f"{path}:2", f"{path}:5"]


def test_a_long_line_is_said_and_the_others_count(cli, tmp_path: Path, monkeypatch) -> None:
    """xml reads past it: the line is skipped by its reason, the views around it count, and the exit is 0."""
    monkeypatch.setattr(sources, "LINE_MAX", 4096)
    monkeypatch.setattr(compressed, "RAW_CHUNK", 1024)  # (chunks shorter than LINE_MAX, as they are)
    line = '203.0.113.9 - - [10/Nov/2026:14:02:11 -0600] "GET /listing/1234567 HTTP/1.1" 200 5 "-" "Mozilla/5.0"\n'
    log = tmp_path / "access.log"
    log.write_text(line * 3 + "x" * 100_000 + "\n" + line * 2)
    config = tmp_path / "logtrack.toml"
    config.write_text("[listings]\npatterns = ['^/listing/(?P<id>[0-9]+)$']\n")
    code, out, err = cli("xml", str(log), "--config", str(config))
    assert code == 0, err
    assert f"logtrack: warning: {log}:4: a line of over 0 MiB" in err
    assert "read 6 lines from 1 file; 5 views counted" in err
    assert "1 does not match the log format (first: " + f"{log}:4)" in err
    assert b"<ViewCount>5</ViewCount>" in out


def test_reading_ahead_says_yields_and_raises_as_reading_in_turn(tmp_path: Path, monkeypatch) -> None:
    """``read_ahead``: the files read ahead give their batches, messages and errors in the same order, each in
    its place, as opening every file in its turn; the whole small ones are judged together, the rest not."""
    from logtrack.read.ahead import read_ahead, through

    monkeypatch.setenv(sources.BATCH_ENV, "1")  # 1 MiB batches: a file of over half of it is not read ahead
    small = "\n".join(LINES[:20]) + "\n"
    truncated = gzip.compress(DATA)
    paths = {
        "a.log": small.encode(), "b.log": b"", "c.log.gz": truncated[: len(truncated) * 2 // 3],
        "d.log": small.encode(), "e.log": DATA * (700_000 // len(DATA)),  # large: ends a group
        "f.log": small.encode(), "h.log": small.encode(), "i.log.gz": truncated[:-20],
        # over a quarter of a batch each: two fill a group, judged while the next is read
        **{f"{n}.log": DATA * (300_000 // len(DATA)) for n in ("j", "k", "l", "m", "n")},
    }
    for name, data in paths.items():
        (tmp_path / name).write_bytes(data)
    names = [str(tmp_path / n) for n in sorted([*paths, "g.log"])]  # (g.log: gone by the time it is read)
    ahead = {name: "f.log" not in name for name in names}  # (f.log: named in a format, say)

    def events(through_ahead: bool) -> tuple[list[object], list[list[str]]]:
        seen: list[object] = []
        judged: list[list[str]] = []

        def judge(parts: list[sources.Batch]) -> list[object]:
            judged.append([part.source.rsplit("/", 1)[1] for part in parts])
            return [f"fmt of {part.source}" for part in parts]

        def open_(name: str, held=None) -> Iterator[sources.Batch]:  # type: ignore[no-untyped-def]
            return sources.batches(name, warn=through(held, lambda m: seen.append(("warn", m))),
                                   note=through(held, lambda m: seen.append(("note", m))))

        opened_all = read_ahead(names, open_, ahead.__getitem__, judge) if through_ahead \
            else ((name, None) for name in names)
        for name, opened in opened_all:
            seen.append(("file", name, None if opened is None else opened.format))
            try:
                for batch in (opened.batches if opened is not None else open_(name)):
                    seen.append(("batch", batch.first_line, batch.lines))
            except InputError as exc:
                seen.append(("error", str(exc)))
        return seen, judged

    plain, _ = events(False)
    ahead_seen, judged = events(True)
    # the same batches, messages and errors, in the same order; the formats of the files judged together
    assert [e[:2] if e[0] == "file" else e for e in ahead_seen] == [e[:2] if e[0] == "file" else e for e in plain]
    formats = {e[1]: e[2] for e in ahead_seen if e[0] == "file"}
    together = {name for group in judged for name in group}
    assert {n.rsplit("/", 1)[1] for n, f in formats.items() if f is not None} == together
    # e.log (large) ends a group; b.log (empty), f.log (not ahead), g.log (gone) are not judged, nor end one;
    # c.log.gz and i.log.gz, ended early, are whole files of their complete lines; half a batch ends a group
    assert judged == [["a.log", "c.log.gz", "d.log"], ["h.log", "i.log.gz", "j.log", "k.log"], ["l.log", "m.log"]]
    assert sum(e[0] == "warn" for e in plain) >= 2 and any(e[0] == "error" for e in plain)


def test_in_turn_says_everything_in_the_order_it_was_made_each_place_where_it_was_held() -> None:
    from logtrack.read.ahead import InTurn

    said: list[str] = []
    turn = InTurn()

    def say(message: str):
        return lambda: said.append(message)

    turn.say(say("a"))
    first = turn.hold()
    turn.say(say("b"))
    second = turn.hold()
    turn.say(say("c"))
    third = turn.hold()
    turn.say(say("d"))
    assert said == ["a"]  # (the rest waits for the first place)
    turn.fill(second, [say("second"), say("second's note")])
    assert said == ["a"]
    turn.fill(first, [say("first")])
    assert said == ["a", "first", "b", "second", "second's note", "c"]
    turn.say(say("e"))
    turn.flush()  # the count ended before the third place was filled: what follows it is said all the same
    assert said == ["a", "first", "b", "second", "second's note", "c", "d", "e"]
    turn.fill(third, [say("late")])  # (a place filled after the flush is said no more)
    turn.say(say("f"))
    assert said[-1] == "f" and "late" not in said


@pytest.mark.parametrize("lines", [[1], [1, 1], [3, 1, 2], [2, 5, 1, 1]])
def test_one_of_files_counted_together_is_its_own_lines(lines: list[int]) -> None:
    from logtrack.read.joined import one_of

    texts = [b"\n".join(b"file %d line %d" % (n, i) for i in range(count)) for n, count in enumerate(lines)]
    parts = [sources.Batch(f"f{n}", 1, b"", lines=count) for n, count in enumerate(lines)]
    data = b"\n".join(texts)
    assert [one_of(data, parts, n).data for n in range(len(lines))] == texts
    assert [one_of(data, parts, n).source for n in range(len(lines))] == [f"f{n}" for n in range(len(lines))]
