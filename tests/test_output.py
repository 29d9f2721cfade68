"""Writing output never replaces what it must not, and every mistake a person makes is not a bug."""

from __future__ import annotations

import os
import re
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from logtrack.errors import ExitCode, UsageError, days_listed
from logtrack.jobs.thaw import days_named

from conftest import xml_counts

PATTERN = r"^/listing/(?P<id>[0-9]+)$"
LINE = '203.0.113.7 - - [01/Nov/2026:10:00:00 -0500] "GET /listing/42 HTTP/1.1" 200 5 "-" "Mozilla/5.0"'
EXPECTED = {("2026-11-01", "", "42"): 1}


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "access.log"
    path.write_text(LINE + "\n")
    return path


def xml_to(cli, log: Path, target: str) -> tuple[int, bytes, str]:
    return cli("xml", str(log), "--listing-pattern", PATTERN, "-q", "-o", target)


def test_a_device_is_written_in_place(cli, log: Path, tmp_path: Path) -> None:
    # A null device of the test's own, so that a regression replaces it rather than the machine's
    # /dev/null; without the right to make one (not root), /dev/null cannot be replaced either.
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except OSError:
        device = Path(os.devnull)
    code, _, err = xml_to(cli, log, str(device))
    assert code == 0, err
    assert stat.S_ISCHR(os.stat(device).st_mode)
    assert device.read_bytes() == b""  # still the null device: what was written went nowhere
    # read from too: written in place, it is no log the output replaces (`xml /dev/null -o /dev/null` was refused)
    code, _, err = cli("xml", str(log), str(device), "--listing-pattern", PATTERN, "-q", "-o", str(device))
    assert code == 0, err
    assert stat.S_ISCHR(os.stat(device).st_mode)


def test_a_symlink_is_followed(cli, log: Path, tmp_path: Path) -> None:
    target = tmp_path / "real.xml"
    target.write_text("old")
    link = tmp_path / "link.xml"
    link.symlink_to(target)
    code, _, err = xml_to(cli, log, str(link))
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert xml_counts(target.read_bytes()) == EXPECTED


def test_a_dangling_symlink_makes_its_target(cli, log: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.xml"
    link.symlink_to(tmp_path / "made.xml")
    assert xml_to(cli, log, str(link))[0] == 0
    assert link.is_symlink() and xml_counts((tmp_path / "made.xml").read_bytes()) == EXPECTED


def test_a_fifo_is_written_to_its_reader(cli, log: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "views.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    code, _, err = xml_to(cli, log, str(fifo))
    reader.join(10)
    assert code == 0, err
    assert not reader.is_alive(), "the FIFO's reader never saw an end of file"
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert xml_counts(got[0]) == EXPECTED


def test_an_existing_file_keeps_its_mode_and_owner(cli, log: Path, tmp_path: Path) -> None:
    out = tmp_path / "views.xml"
    out.write_text("old")
    out.chmod(0o640)
    owner = (os.getuid(), os.getgid())
    if os.geteuid() == 0:
        owner = (65534, 65534)  # nobody: the file is not ours, and must stay not ours
        os.chown(out, *owner)
    assert xml_to(cli, log, str(out))[0] == 0
    st = os.stat(out)
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o640, *owner)
    assert xml_counts(out.read_bytes()) == EXPECTED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["access.log", "views.xml"]  # no temporary left


def test_a_new_file_gets_the_umask(cli, log: Path, tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        assert xml_to(cli, log, str(tmp_path / "new.xml"))[0] == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.xml").st_mode) == 0o640


def test_dash_is_stdout(cli, log: Path) -> None:
    code, out, _ = xml_to(cli, log, "-")
    assert code == 0 and xml_counts(out) == EXPECTED


@pytest.mark.parametrize("how", ["pipe", "append", "fd 3"])
def test_a_descriptor_named_is_written_through_it(log: Path, tmp_path: Path, how: str) -> None:
    """``-o /dev/stdout`` (or ``/dev/fd/N``) is the descriptor the shell gave, whatever it is: a pipe (its name
    leads to no file: "No such file or directory" before), or a file opened for appending (replaced before)."""
    import subprocess
    import sys

    args = [sys.executable, "-m", "logtrack", "xml", str(log), "--listing-pattern", PATTERN, "-q", "-o"]
    if how == "pipe":
        done = subprocess.run([*args, "/dev/stdout"], capture_output=True)
        written = done.stdout
    elif how == "append":
        out = tmp_path / "out.txt"
        out.write_bytes(b"before\n")
        with out.open("ab") as sink:
            done = subprocess.run([*args, "/dev/stdout"], stdout=sink, stderr=subprocess.PIPE)
        assert out.read_bytes().startswith(b"before\n<?xml")
        written = out.read_bytes().removeprefix(b"before\n")
    else:
        read, write = os.pipe()
        done = subprocess.run([*args, f"/dev/fd/{write}"], capture_output=True, pass_fds=(write,))
        os.close(write)
        with os.fdopen(read, "rb") as pipe:
            written = pipe.read()
    assert done.returncode == 0, done.stderr
    assert xml_counts(written) == EXPECTED


def test_export_and_init_write_the_same_way(cli, log: Path, tmp_path: Path) -> None:
    state = tmp_path / "s.db"
    assert cli("run", str(log), "--listing-pattern", PATTERN, "--state", str(state), "--no-upload", "-q")[0] == 0
    link = tmp_path / "export-link.xml"
    link.symlink_to(tmp_path / "export.xml")
    assert cli("export", "--state", str(state), "-o", str(link))[0] == 0
    assert link.is_symlink() and xml_counts((tmp_path / "export.xml").read_bytes()) == EXPECTED
    conf_dir = tmp_path / "etc"
    conf_dir.mkdir()
    code, _, err = cli("init", str(conf_dir))  # a directory: the file goes in it
    assert code == 0, err
    assert (conf_dir / "logtrack.toml").is_file()
    assert cli("init", str(conf_dir))[0] == ExitCode.OUTPUT  # exists, no --force


def _busy_port() -> socket.socket:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s


# Mistakes a person makes, each with the exit code and the words that name the fix.
MISTAKES = [
    (["init", "{tmp}/etc/logtrack/"], ExitCode.OUTPUT, "{tmp}/etc/logtrack does not exist; create it first"),
    (["init", "{tmp}/missing/logtrack.toml"], ExitCode.OUTPUT, "the directory {tmp}/missing does not exist"),
    (["xml", "{log}", "-o", "{tmp}/missing/views.xml"], ExitCode.OUTPUT, "the directory {tmp}/missing does not exist"),
    (["xml", "{log}", "-o", "{tmp}"], ExitCode.OUTPUT, "cannot write {tmp}: it is a directory; name a file"),
    # (the XML in place of the log it was read from, every line of it lost)
    (["xml", "{log}", "-o", "{log}"], ExitCode.OUTPUT,
     "cannot write {log}: it is {log}, a log read, which the output would replace; name another file, e.g. views.xml"),
    (["xml", "{tmp}", "-o", "{log}"], ExitCode.OUTPUT, "cannot write {log}: it is {log}, a log read"),
    (["report", "{log}", "--listing-pattern", PATTERN, "--html", "{log}"], ExitCode.OUTPUT,
     "cannot write {log}: it is {log}, a log read, which the output would replace; name another file, e.g. "
     "report.html"),
    (["xml", "{log}", "-o", "/dev/fd/57"], ExitCode.OUTPUT, "cannot write /dev/fd/57: no such descriptor is open"),
    (["export", "--state", "{state}", "-o", "{tmp}"], ExitCode.OUTPUT, "it is a directory"),
    (["report", "--state", "{state}", "--html", "{tmp}"], ExitCode.OUTPUT, "name a file, e.g. {tmp}/report.html"),
    (["report", "--state", "{state}", "--format", "csv", "-o", "{tmp}"], ExitCode.OUTPUT, "e.g. {tmp}/report.csv"),
    (["export", "--state", "{state}", "--since", "2026-13-01"], ExitCode.USAGE, "--since '2026-13-01' is not a date"),
    (["export", "--state", "{state}", "--since", "today", "--until", "yesterday"], ExitCode.USAGE,
     "is after --until 'yesterday'"),
    (["export", "--state", "{tmp}/none.db"], ExitCode.STATE, "no state at {tmp}/none.db"),
    (["run", "{log}", "--state", "{tmp}", "--no-upload"], ExitCode.STATE_STORAGE, "{tmp}"),
    (["run", "{log}", "--state", "{log}/sub/state.db", "--no-upload"], ExitCode.STATE_STORAGE,
     "cannot make the state {log}/sub/state.db: {log} is a file, not a directory; point --state"),  # (was "File exists")
    (["status", "--state", "/dev/null"], ExitCode.STATE_STORAGE,
     "the state /dev/null is not a regular file (a device, FIFO or socket); name a file"),  # (was "disk I/O error")
    (["run", "{log}", "--state", "{state}", "--dry-run", "-o", "{log}"], ExitCode.OUTPUT, "not a directory"),
    (["sandbox", "--api-key", "k", "--port", "{port}"], ExitCode.USAGE, "cannot listen on 127.0.0.1:{port}"),
    (["sandbox", "--api-key", "k", "--port", "0", "--data", "{log}"], ExitCode.USAGE, "is not a directory"),
    (["xml", "{tmp}/nothing-here.log"], ExitCode.INPUT, "no such file or directory"),
    (["xml", "{log}", "-c", "{tmp}"], ExitCode.CONFIG, "cannot read config file {tmp}"),
    (["xml", "{log}", "-c", "{tmp}/none.toml"], ExitCode.CONFIG, "config file {tmp}/none.toml does not exist"),
    (["validate", "{tmp}"], ExitCode.INPUT, "{tmp}: cannot read"),
    (["tracker-tag", ""], ExitCode.USAGE, "the listing id is empty"),
]


@pytest.mark.parametrize(("args", "code", "words"), MISTAKES, ids=[" ".join(m[0][:2]) + f" {i}"
                                                                   for i, m in enumerate(MISTAKES)])
def test_a_mistake_is_named_and_never_called_a_bug(cli, log: Path, tmp_path: Path, args: list[str], code: int,
                                                   words: str) -> None:
    state = tmp_path / "s.db"
    original = log.read_bytes()
    assert cli("run", str(log), "--listing-pattern", PATTERN, "--state", str(state), "--no-upload", "-q")[0] == 0
    busy = _busy_port()
    port = str(busy.getsockname()[1])
    try:
        values = {"tmp": str(tmp_path), "log": str(log), "state": str(state), "port": port}
        filled = [a.format(**values) for a in args]
        if filled[0] in ("xml", "run"):
            filled += ["--listing-pattern", PATTERN]
        got, _, err = cli(*filled)
    finally:
        busy.close()
    assert "this is a bug" not in err
    assert got == code, err
    assert words.format(**values) in err
    assert len([line for line in err.splitlines() if line.startswith("logtrack: error:")]) == 1
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))
    assert log.read_bytes() == original  # (no mistake touches a log)


# (the output named, what logtrack keeps there, the command): `export -o state.db` replaced a site's history
KEPT = [
    ("logtrack.toml", "the config file", ["xml", "{log}"]),
    ("logtrack.toml", "the config file", ["report", "{log}", "--html"]),
    ("key", "the API key's file", ["xml", "{log}"]),
    ("s.db", "the state", ["export"]),
    ("s.db", "the state", ["xml", "{log}"]),  # (a state named by the config: any command knows it)
    ("s.db", "the state", ["report", "--format", "csv"]),
    ("s.db.lock", "the state's lock", ["export"]),
    ("s.db", "the state", ["export", "--state", "{state}"]),  # named by --state alone
]


@pytest.mark.parametrize(("target", "what", "args"), KEPT, ids=[f"{' '.join(k[2][:1])} {k[0]} {i}"
                                                                for i, k in enumerate(KEPT)])
def test_an_output_never_replaces_a_file_logtrack_keeps(cli, log: Path, tmp_path: Path, target: str, what: str,
                                                        args: list[str]) -> None:
    (tmp_path / "key").write_text("secret-key\n")
    (tmp_path / "key").chmod(0o600)
    conf = tmp_path / "logtrack.toml"
    state = tmp_path / ("other.db" if "--state" in args else "s.db")
    conf.write_text(f"[listings]\npatterns = ['{PATTERN}']\n[state]\npath = 's.db'\n[upload]\napi_key_file = 'key'\n")
    assert cli("run", str(log), "-c", str(conf), "--state", str(state), "--no-upload", "-q")[0] == 0
    if "--state" in args:  # (the state the config names is another)
        state.rename(tmp_path / "s.db")
        (tmp_path / "other.db.lock").rename(tmp_path / "s.db.lock")
    kept = {path: path.read_bytes() for path in tmp_path.iterdir()}
    assert (tmp_path / target) in kept
    filled = [a.format(log=log, state=tmp_path / "s.db") for a in args]
    code, _, err = cli(filled[0], "-c", str(conf), *filled[1:], *([] if "--html" in args else ["-o"]),
                       str(tmp_path / target))
    assert code == ExitCode.OUTPUT, err
    assert f"cannot write {tmp_path / target}: it is {tmp_path / target}, {what}, which the output would replace; " \
           "name another file" in err
    assert {path: path.read_bytes() for path in tmp_path.iterdir()} == kept


@pytest.mark.parametrize(("days", "said"), [
    ([], ""),
    (["2026-11-01"], "2026-11-01"),
    (["2026-11-01", "2026-11-02"], "2026-11-01, 2026-11-02"),
    (["2026-11-01", "2026-11-02", "2026-11-03"], "2026-11-01 to 2026-11-03"),
    (["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-03"], "2026-02-27 to 2026-03-01, 2026-03-03"),
    (["2025-12-30", "2025-12-31", "2026-01-01", "2026-01-02", "2026-01-04", "2026-01-05"],
     "2025-12-30 to 2026-01-02, 2026-01-04, 2026-01-05"),
    ([f"2026-{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, 28)],  # every month's 28th on: gaps
     ", ".join(f"2026-{m:02d}-01 to 2026-{m:02d}-27" for m in range(1, 13))),
    (["2026-11-03", "2026-11-02", "2026-11-01"], "2026-11-03, 2026-11-02, 2026-11-01"),  # as given: not a run
])
def test_days_are_listed_with_their_runs_as_first_to_last(days: list[str], said: str) -> None:
    """A year's backlog was 365 dates on one line (the summary, the pending error, ``status``)."""
    assert days_listed(days) == said


@pytest.mark.parametrize("days", [
    ["2026-11-01"],
    ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-05", "2026-11-07", "2026-11-08", "2026-11-09"],
    ["2025-12-30", "2025-12-31", "2026-01-01", "2026-03-01"],
])
def test_days_listed_read_back_as_named(days: list[str]) -> None:
    """``state thaw`` takes the days as ``status`` lists them (commas or not): the same days."""
    said = days_listed(days)
    assert days_named(said.split()) == days_named(said.replace(",", "").split()) == days


@pytest.mark.parametrize(("words", "error"), [
    (["to", "2026-11-01"], "'to' stands between two days"),
    (["2026-11-01", "to"], "'to' stands between two days"),
    (["2026-11-01", "to", "to", "2026-11-02"], "'to' stands between two days"),
    (["2026-11-05", "to", "2026-11-01"], "2026-11-05 to 2026-11-01: the first day is after the last"),
    (["11/01/2026"], "'11/01/2026' is not a day"),
    (["2026-11-31"], "'2026-11-31' is not a day"),
])
def test_days_named_wrongly_are_said(words: list[str], error: str) -> None:
    with pytest.raises(UsageError, match=re.escape(error)):
        days_named(words)


def _pieces(fail: bool = False) -> Iterator[bytes]:
    yield b"<a>"
    yield b"<b/>"
    if fail:
        raise RuntimeError("made wrongly")
    yield b"</a>\n"


@pytest.mark.parametrize("target", ["new", "existing", "fifo", "descriptor"])
def test_pieces_are_written_as_one_document(tmp_path: Path, target: str) -> None:
    """``write_file`` takes a document in pieces (``export`` writes a year's as it is made): the same bytes."""
    from logtrack.output import write_file

    path = tmp_path / "out.xml"
    if target == "existing":
        path.write_bytes(b"old")
    if target in ("new", "existing"):
        write_file(path, _pieces())
        assert path.read_bytes() == b"<a><b/></a>\n"
        return
    read, write = os.pipe()
    if target == "fifo":
        os.close(write)
        os.close(read)
        os.mkfifo(path)
        got: list[bytes] = []
        reader = threading.Thread(target=lambda: got.append(path.read_bytes()))
        reader.start()
        write_file(path, _pieces())
        reader.join()
        assert got == [b"<a><b/></a>\n"]
        return
    write_file(f"/dev/fd/{write}", _pieces())
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        assert pipe.read() == b"<a><b/></a>\n"


def test_pieces_that_fail_midway_leave_the_file_as_it_was(tmp_path: Path) -> None:
    from logtrack.output import write_file

    path = tmp_path / "out.xml"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        write_file(path, _pieces(fail=True))
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["out.xml"]  # no temporary file left


def test_pieces_go_to_stdout(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    from logtrack.output import write_file

    write_file("-", _pieces())
    assert capsysbinary.readouterr().out == b"<a><b/></a>\n"
