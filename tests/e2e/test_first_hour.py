"""The first hour of a deployment: what a sysadmin does by habit neither breaks nor stops the count.

One test (or table) per defect of that first hour: odd files in the log
directory, a wrong format, the key, failing uploads, status, dry runs, the
config's place, logrotate racing a run, and a state database gone bad.
"""

from __future__ import annotations

import fcntl
import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest
from test_vendor_formats import CLOUDFRONT, IIS

from logtrack.errors import ExitCode

from conftest import ROOT, sqlite_db, xml_counts
from sites import KEY, Sandbox, counts_of, upload_config, write

PATTERN = r"^/listing/(?P<id>[0-9]+)$"
COMBINED = [
    '203.0.113.7 - - [01/Nov/2026:10:00:00 -0500] "GET /listing/42 HTTP/1.1" 200 5 "https://www.zillow.com/x" "Mozilla/5.0"',
    '203.0.113.8 - - [01/Nov/2026:10:00:01 -0500] "GET /listing/42 HTTP/1.1" 200 5 "-" "Googlebot/2.1 (+http://www.google.com/bot.html)"',
    '203.0.113.9 - - [01/Nov/2026:10:00:02 -0500] "GET /listing/7 HTTP/1.1" 200 5 "-" "Mozilla/5.0"',
]
COMBINED_COUNTS = {("2026-11-01", "Zillow", "42"): 1, ("2026-11-01", "", "7"): 1}

def _archived(kind: str) -> bytes:
    """The combined lines as access.log in an archive, as a person packs old logs (tar, gzipped; zip)."""
    import io
    import tarfile
    import zipfile

    data, out = ("\n".join(COMBINED) + "\n").encode(), io.BytesIO()
    if kind == "zip":
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("access.log", data)
        return out.getvalue()
    with tarfile.open(fileobj=out, mode="w") as archive:
        info = tarfile.TarInfo("access.log.1")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return gzip.compress(out.getvalue())


# What else lives in a log directory (lines as nginx, Apache and others write them).
ODD_FILES = {
    "nginx error log": (
        b'2026/11/22 03:14:07 [error] 812#812: *1 open() "/var/www/html/wp-login.php" failed (2: No such file '
        b'or directory), client: 198.51.100.4, server: www.example.com, request: "GET /wp-login.php HTTP/1.1"\n'
        b"2026/11/22 09:41:55 [warn] 812#812: *2 an upstream response is buffered to a temporary file\n",
        "it looks like an nginx error log"),
    "Apache error log": (
        b"[Sun Nov 22 03:14:07.123456 2026] [core:error] [pid 812:tid 140] [client 198.51.100.4:5234] "
        b"AH00126: Invalid URI in request GET /../../etc/passwd HTTP/1.1\n"
        b"[Sun Nov 22 03:15:00.000001 2026] [mpm_event:notice] [pid 800:tid 139] AH00489: resuming\n",
        "it looks like an Apache error log"),
    "another server's JSON": (
        b'{"level":"info","ts":1764000000.1,"logger":"admin","msg":"admin endpoint started"}\n' * 3,
        "it looks like JSON lines of another server (keys: level, ts, logger, msg); if it is an access log, set "
        "[logs] format (or --format) to the log_format or LogFormat that writes it"),
    "another container's output": (  # a Kubernetes container log of an application, no server
        b"2026-11-22T03:14:07.123456789Z stdout F Listening on port 8080\n"
        b"2026-11-22T03:14:08.000000001Z stderr F WARNING: cache directory missing, using /tmp\n",
        "it looks like a container's output as Kubernetes files it; if its messages are access lines, set "
        "[logs] format (or --format) to cri: and the log_format or LogFormat that writes them"),
    "another container's JSON": (  # the same, as Docker's json-file driver files it
        b'{"log":"Listening on port 8080\\n","stream":"stdout","time":"2026-11-22T03:14:07.123456789Z"}\n'
        b'{"log":"WARNING: cache directory missing\\n","stream":"stderr","time":"2026-11-22T03:14:08.1Z"}\n',
        "it looks like a container's output as Docker files it; if its messages are access lines, set "
        "[logs] format (or --format) to docker: and the log_format or LogFormat that writes them"),
    "HAProxy's own log-format": (  # as syslog files it, and as HAProxy sends it in RFC 5424
        b'Nov 22 03:14:07 lb1 haproxy[812]: 198.51.100.4 "GET /listing/42 HTTP/1.1" 200 fe/be 12ms\n'
        b'<134>1 2026-11-22T03:14:08.123456+00:00 lb1 haproxy 812 - - 198.51.100.5 "GET / HTTP/1.1" 200 fe/be 3ms\n',
        "it looks like HAProxy's log in a log-format of its own; set [logs] format (or --format) to "
        '"haproxy:HEADERS log-format ..." with the log-format line of haproxy.cfg'),
    "Caddy's console log, a time layout of its own": (  # (time_format "02.01.2006 15:04:05", a Go layout)
        b'01.12.2026 09:53:39\t\x1b[34mINFO\x1b[0m\thttp.log.access.log0\thandled request\t{"request": '
        b'{"remote_ip": "127.0.0.1", "method": "GET", "host": "www.site.example", "uri": "/listing/42", "headers": '
        b'{"User-Agent": ["Mozilla/5.0"]}}, "status": 200}\n' * 2,
        "it looks like Caddy's log in its console format; caddy_console reads Caddy's access log in console format "
        "with one of Caddy's named time_formats"),
    # old logs packed in an archive: their lines were read with the tar's headers as holes and junk (and,
    # where the same logs are beside it, counted twice)
    "a tar archive": (_archived("tar"), "a tar archive, not a log: its files are not read; take the logs out of "
                                        "it (tar -xf"),
    "a zip archive": (_archived("zip"), "a zip archive, not a log: its files are not read; take the logs out of "
                                        "it (unzip"),
    # a rotated log logrotate compressed with lz4 (compresscmd /usr/bin/lz4), as lz4 1.9 wrote it
    "an lz4-compressed log": (
        b'\x04"M\x18d@\xa7`\x00\x00\x80203.0.113.7 - - [01/Nov/2026:10:00:00 -0500] "GET /listing/42 HTTP/1.1" '
        b'200 5 "-" "Mozilla/5.0"\n\x00\x00\x00\x00k\xfa\xd4\x85',
        "lz4-compressed, which logtrack does not read (it reads gzip, bzip2, xz and zstd); decompress it first "
        "(lz4 -d)"),
    "binary": (b"SQLite format 3\x00\x10\x00\x01\x01\x00@  \x00\x00\x00\x02" + bytes(range(256)) * 40,
               "looks binary"),
    # a log a Windows tool saved (PowerShell's `Get-Content access.log > copy.log`): was "looks binary"
    "UTF-16 text": (b"\xff\xfe" + "\n".join(COMBINED).encode("utf-16-le"),
                    "other.log: UTF-16 text, which no server writes; convert it first (iconv -f UTF-16LE -t UTF-8 "),
}


@pytest.mark.parametrize("kind", list(ODD_FILES))
def test_a_file_no_format_fits_is_that_files_problem(cli, tmp_path: Path, kind: str) -> None:
    data, words = ODD_FILES[kind]
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "access.log").write_text("\n".join(COMBINED) + "\n")
    odd = logs / "other.log"
    odd.write_bytes(data)
    args = [str(logs / "access.log"), str(odd), "--listing-pattern", PATTERN, "--supplier", "Zillow=zillow.com"]
    code, out, err = cli("xml", *args)
    assert code == ExitCode.INPUT, err
    assert xml_counts(out) == COMBINED_COUNTS  # the good file still counted
    assert f"logtrack: warning: {odd}" in err and words in err
    assert "this is a bug" not in err
    code, out, err = cli("xml", *args, "--strict")  # strict keeps failing on it
    assert code == ExitCode.INPUT and out == b""
    assert f"logtrack: error: {odd}" in err
    state = tmp_path / "s.db"
    code, _, err = cli("run", *args, "--state", str(state), "--no-upload")
    assert code == ExitCode.INPUT, err
    assert counts_of(state, cli) == COMBINED_COUNTS


def test_an_error_log_found_by_a_glob_is_named(cli, tmp_path: Path) -> None:
    shutil.copy(ROOT / "sample_logs" / "error.log", tmp_path / "error.log")
    (tmp_path / "access.log").write_text("\n".join(COMBINED) + "\n")
    code, out, err = cli("xml", str(tmp_path / "*.log"), "--listing-pattern", PATTERN)
    assert code == ExitCode.INPUT
    assert sum(xml_counts(out).values()) == 2
    assert f"{tmp_path}/error.log: no known log format fits this file" in err
    assert "it looks like an nginx error log; leave it out of the paths" in err


def said_once_per_file(cli, state: Path, log: Path, args: list[str], words: str,  # type: ignore[no-untyped-def]
                       line: str) -> None:
    """``run`` says ``words`` when it reads the file from its start, not again when it reads what was added."""
    assert words in cli("run", *args, "--state", str(state), "--no-upload")[2]
    with open(log, "a") as fh:
        fh.write(line + "\n")
    code, _, err = cli("run", *args, "--state", str(state), "--no-upload")
    assert code == 0 and words not in err  # once per file, not once per run


@pytest.mark.parametrize(("configured", "lines", "fits"), [
    ("common", COMBINED, "combined"),
    ("vhost_common", [f"www.example.com:443 {line}" for line in COMBINED], "vhost_combined"),
])
def test_a_format_that_reads_less_than_the_lines_hold_is_said_once(cli, tmp_path: Path, configured: str,
                                                                     lines: list[str], fits: str) -> None:
    log = tmp_path / "access.log"
    log.write_text("\n".join(lines) + "\n")
    args = [str(log), "--listing-pattern", PATTERN, "--format", configured]
    code, _, err = cli("xml", *args)
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("logtrack: warning:")]
    assert len(warnings) == 1
    assert f"the preset '{fits}' fits them: set [logs] format = \"{fits}\"" in warnings[0]
    said_once_per_file(cli, tmp_path / "s.db", log, args, "fits them", lines[0])
    right = cli("xml", str(log), "--listing-pattern", PATTERN, "--format", fits)[2]
    assert "warning" not in right


def test_among_small_files_counted_together_the_one_the_format_misreads_is_named_once(cli, tmp_path: Path) -> None:
    """Small files are counted (and their named format judged) a group at a time: the note names the file
    whose lines the format misreads, once, in ``xml`` and in ``run``, and no other file."""
    logs = tmp_path / "logs"
    logs.mkdir()
    common = [line.rsplit(' "', 2)[0] for line in COMBINED]  # the same lines without referrer and agent
    for n in range(6):  # (each file its own clients: no file is taken for a copy of another)
        lines = [line.replace("203.0.113.", f"198.51.{n}.") for line in (COMBINED if n == 3 else common)]
        (logs / f"access-{n}.log").write_text("\n".join(lines) + "\n")
    args = [str(logs), "--listing-pattern", PATTERN, "--format", "common"]
    for command in (["xml"], ["run", "--state", str(tmp_path / "s.db"), "--no-upload"]):
        code, out, err = cli(*command, *args)
        assert code == 0, err
        warnings = [line for line in err.splitlines() if line.startswith("logtrack: warning:")]
        assert len(warnings) == 1 and f"{logs}/access-3.log: most lines carry" in warnings[0], err
        assert "the preset 'combined' fits them" in warnings[0]
        if command == ["xml"]:  # every line of each file counted: its bot but in the file the format misreads
            assert sum(xml_counts(out).values()) == 5 * 3 + 3


def test_auto_over_small_files_judged_together_says_and_counts_each_as_alone(cli, tmp_path: Path,
                                                                             monkeypatch) -> None:
    """Under ``auto`` small files are read ahead and their formats judged a group at a time: each file's
    format line and its warnings (each in the files' order) and its counts are what it gets counted
    alone, in ``xml`` (and but for the format lines, in ``run``). (A format is said as a file is read, a warning as it is counted: the
    two kinds interleave as the reading runs ahead of the counting, with or without reading ahead.)"""
    from logtrack.parse import detect

    logs = tmp_path / "logs"
    logs.mkdir()

    def lines(n: int, tail: str = "") -> list[str]:  # each file its own clients: none is a copy of another
        return [line.replace("203.0.113.", f"198.51.{n}.") + tail for line in COMBINED]

    gz = gzip.compress(("\n".join(lines(4)) + "\n").encode())
    files = {
        "access-0.log": "\n".join(lines(0)) + "\n",
        "access-1.log": "\n".join(line.rsplit(' "', 2)[0] for line in lines(1)) + "\n",  # common
        "access-2.log": "\n".join("www.example.com:443 " + line for line in lines(2)) + "\n",  # vhost_combined
        "access-3.log": "\n".join(lines(3)) + "\nnot a log line\n",  # mostly combined: judged alone
        "access-4.log.gz": gz[: len(gz) - 12],  # ends early: its complete lines, and a warning
        "access-5.log": ODD_FILES["nginx error log"][0],  # no format fits
        "access-6.log": "",
        "access-7.log": "\n".join(lines(7)) + "\n",
        "access-8.log": "\n".join(CLOUDFRONT) + "\n",  # a W3C log: its header on top, joined with others
        "access-9.log": "\n".join(IIS) + "\n",  # one whose header changes its fields mid-file: alone
    }
    for name, data in files.items():
        (logs / name).write_bytes(data if isinstance(data, bytes) else data.encode())
    hour_ago = time.time() - 3600  # (cut for good: a run takes one written to a minute ago for one being written)
    os.utime(logs / "access-4.log.gz", (hour_ago, hour_ago))
    args = ["--listing-pattern", PATTERN, "--supplier", "Zillow=zillow.com"]
    def said(err: str) -> tuple[list[str], list[str]]:
        lines = err.splitlines()
        return [line for line in lines if ": format " in line], [line for line in lines if "warning:" in line]

    formats: list[str] = []
    warnings: list[str] = []
    alone: Counter[tuple[str, str, str]] = Counter()
    for name in sorted(files):
        _, out, err = cli("xml", str(logs / name), *args)
        formats += said(err)[0]
        warnings += said(err)[1]
        alone.update(xml_counts(out) if out else Counter())
    judged: list[int] = []
    original = detect.detect_files
    monkeypatch.setattr(detect, "detect_files",
                        lambda parts, *a, **kw: judged.append(len(parts)) or original(parts, *a, **kw))
    for command in (["xml"], ["run", "--state", str(tmp_path / "s.db"), "--no-upload"]):
        judged.clear()
        code, out, err = cli(*command, str(logs), *args)
        assert code == ExitCode.INPUT, err  # (the file no format fits)
        assert said(err) == (formats if command == ["xml"] else [], warnings)  # (``run`` names no format)
        assert judged and sum(judged) >= 5  # read ahead and judged together, not one by one
        assert (xml_counts(out) if command == ["xml"] else counts_of(tmp_path / "s.db", cli)) == alone
    assert sum(alone.values()) == 2 * 6 + 1 + 1 and "compressed data ends early" in "\n".join(warnings)
    assert [line.rsplit(" ", 1)[1] for line in formats] == \
        ["combined", "common", "vhost_combined", "combined", "combined", "combined", "cloudfront", "w3c"]


def test_auto_formats_given_on_trust_are_held_to_what_each_file_gets_alone(cli, tmp_path: Path,
                                                                          monkeypatch) -> None:
    """``xml`` and ``run`` give small files their formats on trust (the first candidate whose screen passes), each held
    to what ``detect`` alone gives by its counting: a file whose counting finds a damaged line is judged
    alone, kept where that gives the same format, counted again where it gives another, refused where none
    fits, its format line or warning said in its place. Groups of two or three files (small batches). The
    screens mislead seldom; here the judge is made to give two files a wrong format on trust."""
    from logtrack import formats
    from logtrack.parse import detect
    from logtrack.read import sources

    logs = tmp_path / "logs"
    logs.mkdir()

    def lines(n: int) -> list[str]:
        return [line.replace("203.0.113.", f"198.51.{n}.") for line in COMBINED]

    files = {
        "access-0.log": [*lines(0), "not a log line"],  # combined but for a line: judged alone, the same
        "access-1.log": lines(1), "access-2.log": lines(2),
        "access-3.log": [line.rsplit(' "', 2)[0] for line in lines(3)],  # common, given combined on trust
        "access-4.log": ["www.example.com:443 " + line for line in lines(4)],  # vhost_combined
        "access-5.log": lines(5),
        "access-6.log": ODD_FILES["nginx error log"][0].decode().splitlines(),  # given combined; none fits
        "access-7.log": lines(7),
    }
    for name, text in files.items():
        (logs / name).write_text("\n".join(text) + "\n")
    args = ["--listing-pattern", PATTERN, "--supplier", "Zillow=zillow.com"]

    def said(err: str) -> list[str]:
        return [line for line in err.splitlines() if ": format " in line or "warning:" in line]

    alone_said: list[str] = []
    alone: Counter[tuple[str, str, str]] = Counter()
    for name in sorted(files):
        _, out, err = cli("xml", str(logs / name), *args)
        alone_said += said(err)
        alone.update(xml_counts(out) if out else Counter())
    trusted: dict[str, str] = {}
    misled = {str(logs / "access-3.log"), str(logs / "access-6.log")}
    original = detect.detect_files

    def judging(parts, *a, **kw):
        found = original(parts, *a, **kw)
        for n, part in enumerate(parts):
            if part.source in misled and "trusted" in kw:
                found[n] = formats.get("combined")
                kw["trusted"].add(n)
            if n in kw.get("trusted", ()):
                trusted[part.source] = found[n].name
        return found

    monkeypatch.setattr(detect, "detect_files", judging)
    monkeypatch.setattr(sources, "BATCH_BYTES", 4 * len((logs / "access-1.log").read_bytes()))
    code, out, err = cli("xml", str(logs), *args)
    assert code == ExitCode.INPUT, err  # (the file no format fits)
    assert said(err) == alone_said  # (no warning here is said as a file is counted: the order is the reading's)
    assert xml_counts(out) == alone and sum(alone.values()) == 15
    given = {line.split(": ")[1]: line.rsplit(" ", 1)[1] for line in said(err) if ": format " in line}
    assert {name: trusted[str(logs / name)] for name in ["access-0.log", "access-3.log", "access-6.log"]} == \
        dict.fromkeys(["access-0.log", "access-3.log", "access-6.log"], "combined")
    assert given[str(logs / "access-3.log")] == "common" and str(logs / "access-6.log") not in given
    trusted.clear()  # ``run`` holds them to it too, before it commits anything of them (it names no format)
    code, _, err = cli("run", "--state", str(tmp_path / "s.db"), "--no-upload", str(logs), *args)
    assert code == ExitCode.INPUT, err
    assert [line for line in said(err) if "warning:" in line] == [line for line in alone_said if "warning:" in line]
    assert counts_of(tmp_path / "s.db", cli) == alone
    assert set(trusted) >= {str(logs / name) for name in ["access-0.log", "access-3.log", "access-6.log"]}


def test_nothing_is_pending_after_a_rebuild_to_the_same_numbers(cli, site, state_at: str, monkeypatch) -> None:
    logs, conf, gen = site
    write(logs / "access.log", gen.lines[:1500])
    box = Sandbox()
    try:
        conf = upload_config(conf, box.port, window="00:00-00:01")  # a window a test is almost never in
        monkeypatch.setenv("LOGTRACK_API_KEY", KEY)
        state = state_at
        code, _, err = cli("run", str(logs), "-c", str(conf), "--state", str(state), "--now")
        assert code == 0, err
        posts = box.state.requests
        assert posts > 0
        code, _, err = cli("rebuild", str(logs), "-c", str(conf), "--state", str(state))
        assert code == 0, err
        assert "days pending:   0\n" in cli("status", "-c", str(conf), "--state", str(state))[1].decode()
        code, _, err = cli("run", str(logs), "-c", str(conf), "--state", str(state))
        assert code == 0 and "due" not in err.replace("nothing due for upload", "")
        code, _, err = cli("run", str(logs), "-c", str(conf), "--state", str(state), "--now")
        assert code == 0
        assert err.splitlines()[-1] == "logtrack: nothing due for upload"
        assert box.state.requests == posts
    finally:
        box.close()


@pytest.mark.parametrize("problem", ["none", "readable by others"])
def test_a_key_problem_is_said_on_the_first_run(cli, site, tmp_path: Path, monkeypatch, problem: str) -> None:
    logs, conf, gen = site
    write(logs / "access.log", gen.lines[:300])
    monkeypatch.delenv("LOGTRACK_API_KEY", raising=False)
    text = conf.read_text() + '\n[upload]\nendpoint = "http://127.0.0.1:9/tracking/v1/listings/views/{api_key}/"\n'
    if problem != "none":
        key = tmp_path / "key"
        key.write_text(KEY)
        key.chmod(0o644)
        text += f'api_key_file = "{key}"\n'
    conf.write_text(text)
    state = tmp_path / "s.db"
    # --include-today off and lines days old: days are due, but what matters is that the key is checked first
    code, _, err = cli("run", str(logs), "-c", str(conf), "--state", str(state))
    assert code == ExitCode.CONFIG
    first = err.splitlines()[1]  # after the config's name
    assert first.startswith("logtrack: warning: ") and "counting the logs anyway" in first
    assert "views counted" in err  # the ingest went on, and its summary was printed
    assert counts_of(state, cli) == xml_counts(cli("xml", str(logs), "-c", str(conf), "-q")[1])
    status = cli("status", "-c", str(conf), "--state", str(state))[1].decode()
    assert "upload key:     cannot authenticate: " in status
    assert ("no flexmls API key" if problem == "none" else "can be read by others (mode 644)") in status
    code, _, err = cli("run", str(logs), "-c", str(conf), "--state", str(state), "--no-upload")
    assert code == 0 and "warning" not in err  # only counting: no key needed


def test_a_failing_upload_says_each_retry_and_ends_in_one_line(cli, site, state_at: str, monkeypatch) -> None:
    logs, conf, gen = site
    write(logs / "access.log", gen.lines[:3000])
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed: nothing listens there
    conf = upload_config(conf, port)
    conf.write_text(conf.read_text() + "retries = 2\nbackoff = 0.1\n")
    monkeypatch.setenv("LOGTRACK_API_KEY", KEY)
    state = state_at
    code, out, err = cli("run", str(logs), "-c", str(conf), "--state", str(state), "--now")
    assert code == ExitCode.UPLOAD
    lines = err.splitlines()
    retries = [line for line in lines if line.startswith("logtrack: upload: ")]
    assert len(retries) == 2
    assert all(line.startswith("logtrack: upload: connection refused; next try in ") for line in retries)
    summary = next(i for i, line in enumerate(lines) if "views counted" in line)  # the ingest summary is printed,
    assert summary < lines.index(retries[0])  # before the upload's retries
    errors = [line for line in lines if line.startswith("logtrack: error: ")]
    due = cli("status", "-c", str(conf), "--state", str(state))[1].decode().split("days pending:   ")[1].split()[0]
    assert errors == [lines[-1]]
    assert lines[-1].startswith(
        f"logtrack: error: cannot reach flexmls at http://127.0.0.1:{port}/tracking/v1/listings/views/[api-key]/: "
        f"connection refused (3 tries); {due} day(s) stay pending (")
    assert lines[-1].endswith("they go with the next run inside the posting window 22:00-06:00 America/Chicago "
                              "(or with --now)")
    assert "Max retries" not in err and "HTTPConnection" not in err and KEY not in err + out.decode()
    code, _, err = cli("run", str(logs), "-c", str(conf), "--state", str(state), "--now", "--quiet")
    assert code == ExitCode.UPLOAD
    assert err.splitlines() == [lines[-1]]  # under cron: the one line that matters, no retry chatter


def test_status_shows_the_last_accepted_and_the_last_attempt_apart(cli, site, tmp_path: Path,
                                                                    monkeypatch) -> None:
    logs, conf, gen = site
    write(logs / "access.log", gen.lines[:2000])
    state = tmp_path / "s.db"
    box = Sandbox()
    monkeypatch.setenv("LOGTRACK_API_KEY", KEY)
    try:
        conf = upload_config(conf, box.port)
        assert cli("run", str(logs), "-c", str(conf), "--state", str(state), "--now")[0] == 0
    finally:
        box.close()
    write(logs / "access.log", gen.lines[2000:4000])
    conf.write_text(conf.read_text() + "retries = 0\n")
    assert cli("run", str(logs), "-c", str(conf), "--state", str(state), "--now")[0] == ExitCode.UPLOAD
    out = cli("status", "-c", str(conf), "--state", str(state))[1].decode()
    assert "accepted: accepted" not in out
    accepted = next(line for line in out.splitlines() if line.startswith("last accepted:  "))
    attempt = next(line for line in out.splitlines() if line.startswith("last attempt:   "))
    assert "UTC (2026-1" in accepted
    assert ", failed (2026-1" in attempt and "cannot reach flexmls" in attempt
    assert "warning" not in out  # nothing due for long yet
    with sqlite_db(state) as db:  # the last accepted upload, four days ago
        db.execute("UPDATE uploads SET at = at - 4 * 86400")
    out = cli("status", "-c", str(conf), "--state", str(state))[1].decode()
    assert "warning:        nothing was accepted by flexmls since the last accepted upload" in out


def test_a_new_state_warns_only_once_days_were_due_for_long(cli, site, tmp_path: Path) -> None:
    logs, conf, gen = site
    write(logs / "access.log", gen.lines[:500])
    state = tmp_path / "s.db"
    assert cli("run", str(logs), "-c", str(conf), "--state", str(state), "--no-upload")[0] == 0
    out = cli("status", "-c", str(conf), "--state", str(state))[1].decode()
    assert "last accepted:  never\n" in out and "warning" not in out
    with sqlite_db(state) as db:
        db.execute("UPDATE meta SET value = value - 4 * 86400 WHERE key = 'created'")
    out = cli("status", "-c", str(conf), "--state", str(state))[1].decode()
    assert "warning:        nothing was accepted by flexmls since the state was made" in out


def test_dry_run_shows_each_post_apart(cli, site, tmp_path: Path) -> None:
    logs, conf, gen = site
    write(logs / "access.log", gen.lines)
    conf.write_text(conf.read_text() + "\n[upload]\nmax_listings_per_post = 700\n")
    state = tmp_path / "s.db"
    code, out, err = cli("run", str(logs), "-c", str(conf), "--state", str(state), "--dry-run", "--now")
    assert code == 0, err
    separators = [line for line in err.splitlines() if line.startswith("logtrack: ---- dry run: post ")]
    declaration = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    documents = [declaration + d for d in out.split(declaration)[1:]]
    assert len(separators) == len(documents) > 1
    assert separators[0].startswith(f"logtrack: ---- dry run: post 1 of {len(documents)}: 2026-1")
    got: Counter[tuple[str, str, str]] = Counter()
    for doc in documents:
        got += xml_counts(doc)
    assert got == gen.expected
    folder = tmp_path / "posts"
    code, out, err = cli("run", str(logs), "-c", str(conf), "--state", str(state), "--dry-run", "--now",
                         "-o", str(folder))
    assert code == 0 and out == b""
    files = sorted(folder.iterdir())
    assert [p.name for p in files][:1] == [f"post-001-{min(d for d, _, _ in gen.expected)}.xml"]
    from logtrack.flexmls import viewtracking

    got = Counter()
    for path in files:
        viewtracking.validate(path.read_bytes(), str(path), None)
        got += xml_counts(path.read_bytes())
    assert got == gen.expected and len(files) == len(documents)
    assert not state.exists()


def _conf(path: Path, pattern: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"[listings]\npatterns = ['{pattern}']\n")
    return path


def test_the_config_is_found_where_the_readme_says(cli, tmp_path: Path, monkeypatch) -> None:
    import logtrack.config.files

    log = tmp_path / "access.log"
    log.write_text("\n".join(COMBINED) + "\n")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    system = _conf(tmp_path / "etc" / "logtrack.toml", "^/listing/(?P<id>7)$")
    monkeypatch.setattr(logtrack.config.files, "SYSTEM_CONFIG", system)
    user = _conf(Path(os.environ["XDG_CONFIG_HOME"]) / "logtrack" / "logtrack.toml", "^/listing/(?P<id>42)$")
    local = _conf(work / "logtrack.toml", "^/listing/(?P<id>4?[27])$")
    named = _conf(tmp_path / "named.toml", "^/listing/(?P<id>42)$")
    env = _conf(tmp_path / "env.toml", "^/listing/(?P<id>7)$")

    def used() -> tuple[str, set[str]]:
        code, out, err = cli("xml", str(log))
        assert code == 0, err
        return err.splitlines()[0], {listing for _, _, listing in xml_counts(out)}

    assert used() == ("logtrack: config logtrack.toml", {"42", "7"})
    local.unlink()
    assert used() == (f"logtrack: config {user}", {"42"})
    user.unlink()
    assert used() == (f"logtrack: config {system}", {"7"})
    monkeypatch.setenv("LOGTRACK_CONFIG", str(env))
    assert used() == (f"logtrack: config {env}", {"7"})
    _, _, err = cli("xml", str(log), "-c", str(named))
    assert err.splitlines()[0] == f"logtrack: config {named}"
    monkeypatch.setenv("LOGTRACK_CONFIG", str(tmp_path / "gone.toml"))
    code, _, err = cli("xml", str(log))
    assert code == ExitCode.CONFIG and f"LOGTRACK_CONFIG={tmp_path}/gone.toml: no such config file" in err


@pytest.mark.parametrize(("args", "code", "expected"), [
    (["{{ listing.id }}", "--template"], 0, "/listing/{{ listing.id }}/YOUR_API_KEY/tracker.gif"),
    (["<?= $id ?>", "--template"], 0, "/listing/<?= $id ?>/YOUR_API_KEY/tracker.gif"),
    (["2023 12/34"], 0, "/listing/2023%2012%2F34/YOUR_API_KEY/tracker.gif"),
    (["{{ listing.id }}"], ExitCode.USAGE, "looks like a template placeholder, and would be percent-encoded; "
                                          "add --template"),
    (["  "], ExitCode.USAGE, "the listing id is empty"),
])
def test_tracker_tag_placeholders_and_empty_ids(cli, args: list[str], code: int, expected: str) -> None:
    got, out, err = cli("tracker-tag", *args)
    assert got == code
    assert expected in (out.decode() if code == 0 else err)


def test_a_bad_format_in_the_file_names_the_file_and_key(cli, tmp_path: Path) -> None:
    conf = tmp_path / "logtrack.toml"
    conf.write_text("[logs]\nformat = \"nginx\"\n[listings]\npatterns = ['^/listing/(?P<id>[0-9]+)$']\n")
    code, _, err = cli("xml", "-", "-c", str(conf), input=b"")
    assert code == ExitCode.CONFIG
    assert err.startswith(f"logtrack: error: {conf}: [logs] format: unknown log format 'nginx'")


def test_the_starter_config_has_every_section(cli, tmp_path: Path) -> None:
    conf = tmp_path / "logtrack.toml"
    assert cli("init", str(conf))[0] == 0
    text = conf.read_text()
    for section in ("[logs]", "[listings]", "[[suppliers]]", "[filters]", "[viewtracking]", "[state]", "[fleet]",
                    "[upload]"):
        assert f"\n{section}\n" in text
    assert "api_key_file" in text and "window" in text
    _, _, err = cli("run", str(tmp_path / "none.log"), "-c", str(conf), "--state", str(tmp_path / "s.db"))
    assert "unknown" not in err and "this is a bug" not in err


def test_nginx_conf_that_reads_nothing_says_what_it_found(cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty_access.log"
    empty.write_text("")
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        "http {\n"
        f"  access_log {tmp_path}/missing_access.log;\n"
        f"  server {{ access_log {empty} combined; }}\n"
        "  server { access_log syslog:server=unix:/dev/log; }\n"
        "  server { access_log off; }\n"
        "}\n"
    )
    code, _, err = cli("xml", "--nginx-conf", str(conf), "--listing-pattern", PATTERN)
    assert code == ExitCode.INPUT
    assert f"{tmp_path}/missing_access.log (access_log at {conf}:2): no such file" in err
    assert f"{empty} (access_log at {conf}:3): empty" in err
    assert f"syslog:server=unix:/dev/log (access_log at {conf}:4): not a file" in err


@pytest.mark.parametrize("how", ["conf", "format"])
def test_an_escape_nginx_does_not_know_is_named(cli, tmp_path: Path, how: str) -> None:
    template = '$remote_addr [$time_local] "$request" $status'
    if how == "conf":
        conf = tmp_path / "nginx.conf"
        conf.write_text(f"http {{\n  log_format a escape=jsn '{template}';\n  access_log {tmp_path}/a.log a;\n}}\n")
        args, where = ["--nginx-conf", str(conf)], f"{conf}:2: log_format a"
    else:
        args, where = ["--format", f"escape=jsn {template}"], f"log format 'escape=jsn {template}'"
    code, _, err = cli("xml", *args, "--listing-pattern", PATTERN)
    assert code == ExitCode.CONFIG
    assert f"{where}: unknown escape=jsn; nginx knows escape=default, escape=json, escape=none" in err
    assert "Traceback" not in err


def test_nginx_conf_without_an_access_log_says_so(cli, tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text("events {}\nhttp {\n  server { listen 80; }\n}\n")
    code, _, err = cli("xml", "--nginx-conf", str(conf), "--listing-pattern", PATTERN)
    assert code == ExitCode.INPUT
    assert err.splitlines()[-1] == (
        f"logtrack: error: --nginx-conf {conf}: no line was read; it names no access_log (nginx then writes its "
        "built-in one, /var/log/nginx/access.log as Debian's nginx is built: `nginx -V` says --http-log-path); point "
        "access_log at the files nginx writes (and run where they are), or name the logs as paths"
    )


def test_the_readme_installs_where_contrib_looks() -> None:
    readme = (ROOT / "README.md").read_text()
    install = readme.split("## Install for production", 1)[1].split("\n## ", 1)[0]
    assert "/usr/local/bin/logtrack" in install and "pipx" in install and "venv" in install
    for name in ("logrotate-nginx", "logrotate-apache2", "logtrack.cron", "logtrack.service"):
        assert "/usr/local/bin/logtrack" in (ROOT / "contrib" / name).read_text()


def _rotate_with_compress(logs: Path, fresh: list[bytes]) -> None:
    """What logrotate does with `rotate 5` and `compress` (no delaycompress) for access.log."""
    older = sorted(logs.glob("access.log.*.gz"), reverse=True)
    for path in older:
        n = int(path.name.split(".")[2])
        path.rename(logs / f"access.log.{n + 1}.gz")
    if (logs / "access.log.1").exists():  # left plain by an earlier delaycompress
        (logs / "access.log.2.gz").write_bytes(gzip.compress((logs / "access.log.1").read_bytes()))
        (logs / "access.log.1").unlink()
    (logs / "access.log.1.gz").write_bytes(gzip.compress((logs / "access.log").read_bytes()))
    (logs / "access.log").unlink()
    write(logs / "access.log", fresh)


def _counted_then_grown(cli, logs: Path, conf: Path, lines: list[bytes], state: Path) -> Path:  # type: ignore[no-untyped-def]
    """A rotated log and the live one, both counted; then lines the live one gained since."""
    write(logs / "access.log.1", lines[:2000])
    write(logs / "access.log", lines[2000:3000])
    assert cli("run", str(logs), "-c", str(conf), "--state", str(state), "--no-upload")[0] == 0
    write(logs / "access.log", lines[3000:4000])
    return state


def test_a_file_rotated_between_listing_and_reading_is_read_under_its_new_name(cli, site, tmp_path: Path,
                                                                                 monkeypatch) -> None:
    logs, conf, gen = site
    state = _counted_then_grown(cli, logs, conf, gen.lines, tmp_path / "s.db")
    from logtrack.read import files

    listed = files.expand

    def listing_then_logrotate(paths, pattern=None, **kwargs):  # type: ignore[no-untyped-def]
        found = listed(paths, pattern, **kwargs)
        if not (logs / "access.log.1.gz").exists():
            _rotate_with_compress(logs, gen.lines[4000:])
        return found

    monkeypatch.setattr(files, "expand", listing_then_logrotate)
    code, _, err = cli("run", str(logs), "-c", str(conf), "--state", str(state), "--no-upload")
    assert code == 0, err
    assert "warning" not in err and "cannot read" not in err
    assert "access.log.1: gone since it was listed (rotated?); read again under the names the files have now" in err
    monkeypatch.undo()
    assert counts_of(state, cli) == gen.expected


def test_a_run_that_waited_for_the_lock_lists_the_files_after_it(site, tmp_path: Path, cli) -> None:
    logs, conf, gen = site
    state = _counted_then_grown(cli, logs, conf, gen.lines, tmp_path / "s.db")
    with open(f"{state}.lock", "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        proc = subprocess.Popen(
            [sys.executable, "-m", "logtrack", "run", str(logs), "-c", str(conf), "--state", str(state),
             "--no-upload"], stderr=subprocess.PIPE, text=True, env={**os.environ, "TZ": "UTC"},
        )
        time.sleep(1.5)  # it has started and waits for the lock
        _rotate_with_compress(logs, gen.lines[4000:])
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "cannot read" not in err and "gone since" not in err
    assert counts_of(state, cli) == gen.expected


def test_a_damaged_state_is_an_error_not_nothing_new(cli, site, tmp_path: Path) -> None:
    logs, conf, gen = site
    write(logs / "access.log", gen.lines)
    state = tmp_path / "s.db"
    assert cli("run", str(logs), "-c", str(conf), "--state", str(state), "--no-upload")[0] == 0
    size = state.stat().st_size
    assert size > 64 * 1024
    with open(state, "r+b") as fh:  # a failing disk: a block in the middle overwritten
        fh.seek(size // 2 // 4096 * 4096)
        fh.write(bytes(range(256)) * 16)
    for command in (["run", str(logs), "--no-upload"], ["status"]):
        code, _, err = cli(*command, "-c", str(conf), "--state", str(state))
        assert code == ExitCode.STATE_STORAGE, err
        assert err.splitlines()[-1].startswith(f"logtrack: error: the state {state} is damaged (SQLite's check: ")
        assert "restore it from a backup, or move it aside and run `logtrack rebuild`" in err
        assert "this is a bug" not in err
    with open(state, "r+b") as fh:  # its first page gone: not even a database
        fh.write(b"\0" * 100)
    code, _, err = cli("run", str(logs), "-c", str(conf), "--state", str(state), "--no-upload")
    assert code == ExitCode.STATE_STORAGE and f"the state {state} is damaged" in err


def _damage_table(state: Path, table: str) -> None:
    """Overwrite the middle of the pages of ``table`` (its root page and whatever follows it)."""
    import sqlite3

    db = sqlite3.connect(state)
    page = db.execute("PRAGMA page_size").fetchone()[0]
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    with open(state, "r+b") as fh:
        fh.seek((root - 1) * page + 8)
        fh.write(bytes(range(256)) * 2)


@pytest.mark.parametrize(("table", "last_whole_check", "whole", "by_check"), [
    ("files", "now", False, True),  # the tables that say what was read: checked on every run
    ("hosts", "now", False, True),
    ("dirty_days", "now", False, True),
    ("counts", "now", False, False),  # counts the run reads: SQLite's error as it reads them, named the same
    ("counts", "a day ago", True, True),  # the day's whole check
    ("posted", "never", True, True),
])
def test_a_large_states_counts_are_checked_whole_once_a_day(cli, site, tmp_path: Path, monkeypatch, table: str,
                                                          last_whole_check: str, whole: bool, by_check: bool) -> None:
    """A busy site's year of counts (450 MB) took 0.65 s to check on every run, reading every page from the
    disk however little the run brought: a state over ``WHOLE_CHECK_BYTES`` has its counts (and what was
    posted) checked whole once a day, every other table on every run. Damage is named either way."""
    import sqlite3

    from logtrack.state import store

    monkeypatch.setattr(store, "WHOLE_CHECK_BYTES", 0)  # every state a large one
    logs, conf, gen = site
    write(logs / "access.log", gen.lines)
    state = tmp_path / "s.db"
    assert cli("run", str(logs), "-c", str(conf), "--state", str(state), "--no-upload")[0] == 0
    db = sqlite3.connect(state)
    checked = float(db.execute("SELECT value FROM meta WHERE site = '' AND key = 'checked'").fetchone()[0])
    assert abs(checked - time.time()) < 60
    when = {"now": time.time(), "a day ago": time.time() - store.WHOLE_CHECK_EVERY - 1, "never": None}[
        last_whole_check]
    if when is None:
        db.execute("DELETE FROM meta WHERE site = '' AND key = 'checked'")
    else:
        db.execute("UPDATE meta SET value = ? WHERE site = '' AND key = 'checked'", (repr(when),))
    if table == "posted":  # (a state that posted: rows in it)
        db.execute("INSERT INTO posted SELECT site, day, supplier, listing, views FROM counts")
    db.commit()
    db.close()
    asked: list[str] = []
    problems = store._problems
    monkeypatch.setattr(store, "_problems", lambda db, which: asked.append(which) or problems(db, which))
    assert cli("run", str(logs), "-c", str(conf), "--state", str(state), "--no-upload")[0] == 0  # intact
    assert asked == ["(3)"] if whole else ("(3)" not in asked and {"(files)", "(hosts)", "(meta)"} <= set(asked)
                                        and not {"(counts)", "(posted)"} & set(asked))
    if whole:  # (checked whole now: the next run does not)
        asked.clear()
        assert cli("run", str(logs), "-c", str(conf), "--state", str(state), "--no-upload")[0] == 0
        assert asked and "(3)" not in asked
        db = sqlite3.connect(state)
        db.execute("UPDATE meta SET value = ? WHERE site = '' AND key = 'checked'", (repr(when or 0.0),))
        db.commit()
        db.close()
    _damage_table(state, table)
    code, _, err = cli("run", str(logs), "-c", str(conf), "--state", str(state), "--no-upload")
    assert code == ExitCode.STATE_STORAGE, err
    damaged = f"logtrack: error: the state {state} is damaged"
    assert (damaged + " (SQLite's check: " if by_check else damaged + ": database disk image is malformed") in err
    code, _, err = cli("status", "-c", str(conf), "--state", str(state))  # status: always whole
    assert code == ExitCode.STATE_STORAGE and f"{damaged} (SQLite's check: " in err


@pytest.mark.parametrize("command", [["run", "{logs}", "--no-upload"], ["run", "{logs}", "--dry-run"], ["status"],
                                     ["export"]])
def test_a_text_file_named_as_the_state_is_not_one_and_is_left_alone(cli, site, command: list[str]) -> None:
    """``--state logtrack.toml`` by mistake: no state, damaged or not ("restore it, or move it aside and
    rebuild" was the advice), nothing written into it nor a lock file made beside it."""
    logs, conf, gen = site
    write(logs / "access.log", gen.lines[:100])
    before = conf.read_bytes()
    code, _, err = cli(*[a.format(logs=logs) for a in command], "-c", str(conf), "--state", str(conf))
    assert code == ExitCode.STATE_STORAGE, err
    assert err.splitlines()[-1] == (f"logtrack: error: {conf} is not a logtrack state: it is not a SQLite database; "
                                    "name the state's file (--state, or [state] path), or a new one to make")
    assert conf.read_bytes() == before
    assert not Path(f"{conf}.lock").exists()


def _tmpfs_refused() -> str | None:
    """Why a tmpfs cannot be mounted here (None: it can): root without CAP_SYS_ADMIN, in a container."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        return "mounting a tmpfs needs root and mount(8) (CI runs as root)"
    with tempfile.TemporaryDirectory() as probe:
        made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", probe], capture_output=True)
        if made.returncode != 0:
            return f"cannot mount a tmpfs here: {made.stderr.decode().strip()}"
        subprocess.run(["umount", "-l", probe], check=False)
    return None


TMPFS_REFUSED = _tmpfs_refused()


@pytest.fixture
def read_only_later(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A small tmpfs that the test can turn read-only, as a failing disk's file system turns."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], check=True, capture_output=True)

    def freeze() -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)

    yield mount, freeze
    subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.skipif(TMPFS_REFUSED is not None, reason=TMPFS_REFUSED or "")
def test_a_read_only_state_is_named_with_the_fix(cli, site, read_only_later) -> None:
    logs, conf, gen = site
    mount, freeze = read_only_later
    write(logs / "access.log", gen.lines[:1000])
    state = mount / "state.db"
    assert cli("run", str(logs), "-c", str(conf), "--state", str(state), "--no-upload")[0] == 0
    write(logs / "access.log", gen.lines[1000:2000])
    freeze()
    code, _, err = cli("run", str(logs), "-c", str(conf), "--state", str(state), "--no-upload")
    assert code == ExitCode.STATE_STORAGE, err
    assert "Read-only file system" in err and "mounted read-write" in err and "this is a bug" not in err
    code, out, err = cli("status", "-c", str(conf), "--state", str(state))  # reading still works
    assert code == 0, err
    assert f"state:          {state} (intact)" in out.decode()


@pytest.mark.parametrize("width", [40, 60, 80, 120])
def test_report_tables_stay_readable_on_narrow_terminals(width: int) -> None:
    import io
    import re

    from rich.console import Console

    from logtrack.config import load
    from logtrack.jobs import preview as pipeline
    from logtrack.jobs.report import render_report

    cfg = load(ROOT / "sample_logs" / "logtrack.toml")
    result = pipeline.count(cfg, [str(ROOT / "sample_logs")])
    buffer = io.StringIO()
    render_report(Console(file=buffer, width=width, force_terminal=False), result.tally, result.counts)
    text = buffer.getvalue()
    assert max(len(line) for line in text.splitlines()) <= width
    assert "…" not in text
    days = {str(d) for d in result.counts.get_column("day").unique().to_list()}
    assert days <= set(re.findall(r"\b2026-\d\d-\d\d\b", text))  # every day, whole
    for n in (result.tally.counted, *result.tally.reasons.values()):
        assert re.search(rf"(?<![\d,]){n:,}(?![\d,])", text), n  # every number, whole


def test_the_summary_wraps_between_items_only() -> None:
    import re

    from logtrack.count.tally import Example, Tally
    from logtrack.jobs.report import summary_lines
    from logtrack.verdicts.reasons import NotCounted, Skip

    tally = Tally(lines=12_345_678, counted=4_567_890)
    for i, reason in enumerate([*NotCounted, *Skip]):
        tally.reasons[reason.value] = 1_000_003 * (i + 1)
        tally.examples[reason.value] = Example("/var/log/nginx/access.log.2.gz", 1_234_567 + i, "x")
    whole = summary_lines(tally, 3)
    assert len(whole) == 3  # cron and log files: one line each, whole
    items = [m for line in whole for m in re.findall(r"\d[\d,]*\d", line)]
    for width in (40, 60, 80):
        lines = summary_lines(tally, 3, width=width)
        assert all(len(line) <= width for line in lines), width
        assert all(line.startswith(("logtrack: ", "            ")) for line in lines)
        assert [m for line in lines for m in re.findall(r"\d[\d,]*\d", line)] == items  # no number cut
        assert "".join("".join(lines).split()) == "".join("".join(whole).split())  # nothing lost


@pytest.mark.parametrize(("lines", "files", "counted", "first"), [
    (1, 1, 1, "logtrack: read 1 line from 1 file; 1 view counted"),
    (2, 2, 0, "logtrack: read 2 lines from 2 files; 0 views counted"),
    (1_000, 1, 2, "logtrack: read 1,000 lines from 1 file; 2 views counted"),
])
def test_the_summary_counts_in_the_singular_where_it_is_one(lines: int, files: int, counted: int,
                                                          first: str) -> None:
    from logtrack.count.tally import Tally
    from logtrack.jobs.report import summary_lines

    assert summary_lines(Tally(lines=lines, counted=counted), files) == [first]


def _render_bar(width: int, names: list[str], read: list[tuple[str, int, int]]) -> tuple[str, object]:
    import io

    from rich.console import Console
    from rich.progress import Progress

    from logtrack.cli.progress import ProgressBar
    from logtrack.read.inputs import Input

    console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system=None)
    progress = Progress(console=console, auto_refresh=False)
    bar = ProgressBar(progress)
    bar.start([Input(n, None) for n in names])
    for name, size, lines in read:
        bar.advance(name, size, lines)
    console.print(progress.get_renderable())
    return console.file.getvalue(), progress  # type: ignore[attr-defined]


@pytest.mark.parametrize("width", [60, 80, 120])
def test_the_progress_bar_keeps_its_fields_on_narrow_terminals(tmp_path: Path, width: int) -> None:
    plain = tmp_path / "access.log"
    plain.write_bytes(b"x" * 100_000)
    text, _ = _render_bar(width, [str(plain)], [(str(plain), 50_000, 1234)])
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and len(lines[0]) <= width
    assert "50%" in lines[0] and "lines" in lines[0] and "…" not in lines[0]
    assert ("1,234 lines" if width >= 80 else "1.2k lines") in lines[0]


def test_stdin_gets_a_line_counter_without_a_total() -> None:
    text, _ = _render_bar(60, ["-"], [("-", 5_000_000, 20_000)])
    assert "reading stdin: 20.0k lines" in text
    assert "?" not in text and "bytes" not in text and "%" not in text


def test_time_left_counts_plain_bytes_for_compressed_files(tmp_path: Path) -> None:
    from logtrack.read import compressed

    data = b"".join(line + b"\n" for line in [c.encode() for c in COMBINED] * 3000)
    plain = tmp_path / "access.log"
    plain.write_bytes(data)
    gz = tmp_path / "access.log.2.gz"
    gz.write_bytes(gzip.compress(data))
    assert compressed.plain_size_estimate(str(gz)) == len(data)  # gzip says its plain size
    _, progress = _render_bar(120, [str(plain), str(gz)], [(str(plain), len(data), 9000)])
    task = progress.tasks[0]  # type: ignore[attr-defined]
    assert task.total == 2 * len(data) and task.completed == len(data)  # half done, in the same unit


NO_METHOD_JSON = ('{"time":"$time_iso8601","uri":"$request_uri","status":$status,"ua":"$http_user_agent"}')


@pytest.mark.parametrize("fmt", [NO_METHOD_JSON, "auto"])
def test_a_format_without_a_method_is_read_and_said_once(cli, tmp_path: Path, fmt: str) -> None:
    log = tmp_path / "access.log"
    chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"
    lines = [f'{{"time":"2026-11-01T10:00:0{i}-05:00","uri":"/listing/4{i}","status":200,"ua":"{chrome}"}}'
             for i in range(3)]
    log.write_text("\n".join(lines) + "\n")
    args = [str(log), "--listing-pattern", PATTERN, "--format", fmt]
    code, out, err = cli("xml", *args)
    assert code == 0, err
    notes = [line for line in err.splitlines() if "logs no request method" in line]
    assert len(notes) == 1 and "every line counts as a GET" in notes[0]
    assert out.count(b"<ListingId>") == 3
    said_once_per_file(cli, tmp_path / "s.db", log, args, "logs no request method", lines[0])


# A file whose lines are mostly skipped as damaged is said, with its likely cause, and exits 4.
GOOD = '203.0.113.7 - - [01/Nov/2026:10:00:00 -0500] "GET /listing/7 HTTP/1.1" 200 5'
CUSTOM_TIME = '203.0.113.7 - - [2026-11-01 10:00:{:02d}] "GET /listing/{} HTTP/1.1" 200 5'


@pytest.mark.parametrize(("lines", "fmt", "said"), [
    ([CUSTOM_TIME.format(i, i) for i in range(12)], "common", "12 of 12 lines skipped as damaged (12 bad timestamp)"),
    ([CUSTOM_TIME.format(i, i) for i in range(3)], "common", "3 of 3 lines skipped as damaged"),  # all of few
    ([GOOD.replace(' "GET', ' x "GET')] * 11 + [GOOD] * 9, "common", "does not match the log format): its lines"),
])
def test_a_file_mostly_damaged_is_said_and_exits_4(cli, tmp_path: Path, lines: list[str], fmt: str,
                                                  said: str) -> None:
    bad, good = tmp_path / "bad.log", tmp_path / "good.log"
    bad.write_text("\n".join(lines) + "\n")
    good.write_text(GOOD + "\n")
    code, out, err = cli("xml", str(bad), str(good), "--listing-pattern", PATTERN, "--format", fmt)
    assert code == ExitCode.INPUT, err
    warning = next(line for line in err.splitlines() if "skipped as damaged" in line)
    assert warning.startswith(f"logtrack: warning: {bad}: ") and said in warning
    assert b"<ListingId>7</ListingId>" in out  # the other file is counted all the same
    assert "1 file had most of its lines skipped as damaged" in err.splitlines()[-1]
    code, _, err = cli("run", str(bad), str(good), "--listing-pattern", PATTERN, "--format", fmt,
                       "--state", str(tmp_path / "s.db"), "--no-upload")
    assert code == ExitCode.INPUT and said in err


@pytest.mark.parametrize("damaged", [0, 5, 10])
def test_a_file_with_some_damage_is_not_called_wrongly_read(cli, tmp_path: Path, damaged: int) -> None:
    log = tmp_path / "access.log"
    log.write_text("\n".join([CUSTOM_TIME.format(i, i) for i in range(damaged)] + [GOOD] * 10) + "\n")
    code, _, err = cli("xml", str(log), "--listing-pattern", PATTERN, "--format", "common")
    assert code == ExitCode.OK, err
    assert "skipped as damaged" not in err


# A file whose latest line is dated after the file was last written: a wrong clock, or times without an offset
# read in the wrong zone. Said (exit 0: counted as dated), with the fix; once, by the run that reads the line.
WALL = '%h %l %u [%{%Y-%m-%d %H:%M:%S}t] "%r" %>s %b'
WALL_LINE = '203.0.113.7 - - [2026-11-01 18:00:0{}] "GET /listing/{} HTTP/1.1" 200 5'
CLF_LINE = '203.0.113.7 - - [01/Nov/{}:18:00:0{} +0000] "GET /listing/{} HTTP/1.1" 200 5'
UTC_ON_TIME = 1_793_556_060  # 2026-11-01 18:01 UTC: the file was last written a minute after its lines, in UTC
TOKYO_ON_TIME = UTC_ON_TIME - 9 * 3600  # ... in Tokyo's wall clock (UTC+9)


@pytest.mark.parametrize(("fmt", "line", "log_timezone", "written", "said"), [
    # a server in UTC, its times read in Chicago: six hours late (its last line a minute before the write)
    (WALL, WALL_LINE, None, UTC_ON_TIME, 'dated 2026-11-02 00:00 UTC, 5 h 59 min after the file was last written '
     '(2026-11-01 18:01 UTC): its times carry no offset and are read in America/Chicago ([logs] log_timezone, else '
     'timezone); read in UTC, they end before that: set [logs] log_timezone = "UTC" if the server runs in UTC'),
    (WALL, WALL_LINE, "UTC", UTC_ON_TIME, None),  # (the fix)
    # a server in Tokyo: 15 hours late; UTC would not do
    (WALL, WALL_LINE, None, TOKYO_ON_TIME, "14 h 59 min after the file was last written (2026-11-01 09:01 UTC): its times "
     "carry no offset and are read in America/Chicago ([logs] log_timezone, else timezone): set [logs] "
     "log_timezone to the zone the server writes them in, or set the server's clock"),
    (WALL, WALL_LINE, "Asia/Tokyo", TOKYO_ON_TIME, None),
    # times with an offset: a wrong clock
    ("common", CLF_LINE.replace("{}", "2099", 1), None, UTC_ON_TIME, "dated 2099-11-01 18:00 UTC, 73 years after the "
     "file was last written (2026-11-01 18:01 UTC): the server's clock was wrong when it wrote it; its views are "
     "counted on the days as dated"),
    ("common", CLF_LINE.replace("{}", "2026", 1), None, UTC_ON_TIME, None),
    ("common", CLF_LINE.replace("{}", "2026", 1), None, UTC_ON_TIME - 14 * 60, None),  # within a quarter hour
    ("common", CLF_LINE.replace("{}", "2026", 1), None, UTC_ON_TIME - 20 * 60, "19 min after"),
])
def test_lines_dated_after_their_file_was_written_are_said(cli, tmp_path: Path, fmt: str, line: str,
                                                          log_timezone: str | None, written: int,
                                                          said: str | None) -> None:
    log, config = tmp_path / "access.log", tmp_path / "logtrack.toml"
    log.write_text("".join(line.format(i, 40 + i) + "\n" for i in range(3)))
    os.utime(log, (written, written))
    config.write_text(f"[logs]\nformat = '{fmt}'\ntimezone = 'America/Chicago'\n"
                      + (f"log_timezone = '{log_timezone}'\n" if log_timezone else "")
                      + f"[listings]\npatterns = ['{PATTERN}']\n")
    args = [str(log), "-c", str(config)]
    code, out, err = cli("xml", *args, "-q")
    assert code == ExitCode.OK, err
    assert out.count(b"<ListingId>") == 3  # counted as dated
    late = [line for line in err.splitlines() if "latest line is dated" in line]
    if said is None:
        assert not late, err
        return
    assert len(late) == 1 and late[0].startswith(f"logtrack: warning: {log}: its latest line is dated "), err
    assert said in late[0]
    state = ["--state", str(tmp_path / "s.db"), "--no-upload", "-q"]
    code, _, err = cli("run", *args, *state)
    assert code == ExitCode.OK and [line for line in err.splitlines() if "latest line is dated" in line] == late
    with log.open("a") as fh:  # a line of the right time added: that run reads only it, and says nothing
        fh.write(CLF_LINE.format(2026, 9, 49) + "\n" if fmt == "common" else WALL_LINE.format(9, 49) + "\n")
    os.utime(log, (written + 86400 * 365 * 80, written + 86400 * 365 * 80))
    code, _, err = cli("run", *args, *state)
    assert code == ExitCode.OK and "latest line is dated" not in err


def test_a_stream_dated_after_it_was_read_is_said(cli) -> None:
    line = CLF_LINE.format(2099, 1, 41)
    code, out, err = cli("xml", "-", "--listing-pattern", PATTERN, "--format", "common", "-q", input=line + "\n")
    assert code == ExitCode.OK and out.count(b"<ListingId>") == 1
    assert "logtrack: warning: -: its latest line is dated 2099-11-01 18:00 UTC" in err and "after it was read (" in err


def test_many_files_dated_after_they_were_written_are_said_in_few_lines(cli, tmp_path: Path) -> None:
    """A first run over a year of daily logs read in the wrong zone: three named, then how many more."""
    logs = tmp_path / "logs"
    logs.mkdir()
    for n in range(1, 6):
        log = logs / f"access.log.{n}"
        log.write_text(CLF_LINE.format(2099, n, 40 + n) + "\n")
        os.utime(log, (UTC_ON_TIME - n * 86400, UTC_ON_TIME - n * 86400))
    args = [str(logs), "--listing-pattern", PATTERN, "--format", "common", "-q"]
    for command in (["xml", *args], ["run", *args, "--state", str(tmp_path / "s.db"), "--no-upload"]):
        code, _, err = cli(*command)
        assert code == ExitCode.OK, err
        late = [line for line in err.splitlines() if "latest line is dated" in line]
        assert len(late) == 3 and len({line.split(": ")[2] for line in late}) == 3, err  # three files named
        assert err.splitlines()[-1] == ("logtrack: warning: 2 more file(s) have lines dated after they were last "
                                        "written, as above")


@pytest.mark.parametrize(("year", "said"), [
    # a machine with no battery-backed clock, before NTP set it: 00:00:05 UTC is the day before in Chicago
    ("1970", "views dated 1969-12-31, at the start of the clock (1970): the server's clock was not set"),
    ("1995", None),  # an old log is history, not a clock unset
    ("2026", None),
])
def test_views_dated_at_the_start_of_the_clock_are_said(cli, tmp_path: Path, year: str, said: str | None) -> None:
    log = tmp_path / "access.log"
    log.write_text(f'203.0.113.7 - - [01/Jan/{year}:00:00:05 +0000] "GET /listing/41 HTTP/1.1" 200 5\n'
                   + CLF_LINE.format(2026, 1, 42) + "\n")
    args = [str(log), "--listing-pattern", PATTERN, "--format", "common", "--timezone", "America/Chicago", "-q"]
    for command in (["xml", *args], ["run", *args, "--state", str(tmp_path / "s.db"), "--no-upload"]):
        code, _, err = cli(*command)
        assert code == ExitCode.OK, err
        early = [line for line in err.splitlines() if "start of the clock" in line]
        assert early == ([] if said is None else [f"logtrack: warning: {log}: {said} when it wrote them (a machine "
                                                  "with no battery-backed clock, before NTP set it); they are "
                                                  "counted on the days as dated"]), err
    # counted on the day as dated (in Chicago, the day before the UTC date)
    assert xml_counts(cli("xml", *args)[1])[(f"{int(year) - 1}-12-31", "", "41")] == 1
