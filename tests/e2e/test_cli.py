"""The CLI in-process: exit codes and the exact words people read."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import IO

import pytest

from logtrack import __version__
from logtrack.errors import ExitCode

from conftest import ROOT, xml_counts
from procs import as_the_signals_are_meant
from sites import counts_of, files_per_count, write

PATTERN = r"^/listing/(?P<id>[0-9]+)$"
LINES = [
    '203.0.113.7 - - [01/Nov/2026:10:00:00 -0500] "GET /listing/42 HTTP/1.1" 200 5 "https://www.zillow.com/" "Mozilla/5.0"',
    '203.0.113.7 - - [01/Nov/2026:10:00:01 -0500] "GET /listing/42 HTTP/1.1" 304 0 "-" "Mozilla/5.0"',
    '203.0.113.7 - - [01/Nov/2026:10:00:02 -0500] "GET /listing/7 HTTP/1.1" 200 5 "-" "curl/8.5.0"',
    '203.0.113.7 - - [01/Nov/2026:10:00:03 -0500] "GET /about HTTP/1.1" 200 5 "-" "Mozilla/5.0"',
    "garbage",
    '203.0.113.7 - - [01/Nov/2026:10:00:04 -0500] "-" 408 0 "-" "-"',
]


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "access.log"
    path.write_text("\n".join(LINES) + "\n")
    return path


def test_xml_stdout_and_summary(cli, log: Path) -> None:
    code, out, err = cli("xml", str(log), "--listing-pattern", PATTERN, "--supplier", "Zillow=zillow.com")
    assert code == ExitCode.OK
    assert xml_counts(out) == {("2026-11-01", "Zillow", "42"): 1, ("2026-11-01", "", "42"): 1}
    assert err.splitlines() == [
        f"logtrack: {log}: format combined",
        "logtrack: read 6 lines from 1 file; 2 views counted",
        "logtrack: not counted: 1 not a listing page, 1 bot",
        f"logtrack: skipped: 1 does not match the log format (first: {log}:5), "
        f"1 request names no page (first: {log}:6)",
    ]


def test_xml_output_file_and_quiet(cli, log: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "views.xml"
    code, out, err = cli("xml", str(log), "--listing-pattern", PATTERN, "-o", str(out_file), "-q")
    assert (code, out, err) == (0, b"", "")
    assert xml_counts(out_file.read_bytes()) == {("2026-11-01", "", "42"): 2}
    assert not list(tmp_path.glob("*.tmp"))


def test_stdin_and_explicit_format(cli, log: Path) -> None:
    code, out, _ = cli("xml", "-", "--format", "combined", "--listing-pattern", PATTERN,
                       "--timezone", "UTC", input=log.read_bytes())
    assert code == 0
    assert xml_counts(out) == {("2026-11-01", "", "42"): 2}


@pytest.mark.parametrize("compress", [False, True])
def test_a_pipe_is_read_as_stdin_is(cli, log: Path, tmp_path: Path, compress: bool) -> None:
    """`logtrack xml <(zcat ...)` or a FIFO: read once from its start (it cannot seek; it crashed before)."""
    fifo = tmp_path / "access.fifo"
    os.mkfifo(fifo)
    data = gzip.compress(log.read_bytes()) if compress else log.read_bytes()

    def feed() -> None:
        with open(fifo, "wb") as writer:
            writer.write(data)

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        code, out, err = cli("xml", str(fifo), "--listing-pattern", PATTERN, "-q")
    finally:
        feeder.join(timeout=10)
    assert (code, err) == (ExitCode.OK, "")
    assert xml_counts(out) == {("2026-11-01", "", "42"): 2}


@pytest.mark.parametrize(("sig", "said"), [(signal.SIGTERM, "logtrack: error: stopped by SIGTERM"),
                                          (signal.SIGHUP, "logtrack: error: stopped by SIGHUP"),
                                          (signal.SIGINT, "logtrack: error: interrupted")])
def test_a_signal_while_the_input_stalls_ends_xml_with_a_word_and_no_output(tmp_path: Path, sig: int,
                                                                           said: str) -> None:
    """A pipe whose writer stalls, and systemd's stop, `timeout`, a closed terminal or Ctrl-C: xml ends, says
    why, with the shell's code, and leaves neither the output nor a temporary file of it. SIGTERM ended it
    without a word; Ctrl-C did nothing until more input came (the main thread waited on the reading worker,
    and never saw it)."""
    with _xml_of_a_stalled_pipe(tmp_path) as (proc, _):
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err.decode().strip()) == (128 + sig, said)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["access.fifo"]


def test_under_nohup_a_closed_terminal_changes_nothing(tmp_path: Path) -> None:
    """SIGHUP ignored by the parent (nohup) stays ignored: the count goes on to its end."""
    with _xml_of_a_stalled_pipe(tmp_path, ignore_hup=True) as (proc, writer):
        proc.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        assert proc.poll() is None
        writer.close()
        _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (0, b"")
    assert len(xml_counts((tmp_path / "views.xml").read_bytes())) == 4000


def test_a_stop_while_the_output_is_written_leaves_the_old_output_whole(tmp_path: Path) -> None:
    """SIGTERM while `xml -o` writes its document (made as it is written, into a temporary file beside the
    output): the output named keeps what it held, byte for byte, and the temporary file goes with the process.
    The document is large (200,000 listings: a few tenths of a second of writing), and the signal is sent as
    soon as the temporary file appears; where the write won the race (replaced before the signal came), the
    run is made again."""
    log = tmp_path / "access.log"
    log.write_bytes(b"".join(b'1.2.3.4 - - [01/Nov/2026:10:00:00 +0000] "GET /listing/%d HTTP/1.1" 200 5 "-" '
                             b'"Mozilla/5.0"\n' % n for n in range(200_000)))
    out = tmp_path / "views.xml"
    old = b"<old/>\n"
    cmd = [sys.executable, "-m", "logtrack", "xml", str(log), "-o", str(out), "-q", "--format", "combined",
           "--listing-pattern", PATTERN]
    for _ in range(5):
        out.write_bytes(old)
        proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, env={**os.environ, "TZ": "UTC"})
        try:
            while proc.poll() is None and not list(tmp_path.glob(".views.xml.*.tmp")):
                time.sleep(0.001)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
            proc.wait()
        if out.read_bytes() != old:  # written whole before the signal came: its document is the new one
            assert proc.returncode in (0, 128 + signal.SIGTERM)
            assert len(xml_counts(out.read_bytes())) == 200_000
            continue
        assert (proc.returncode, err.decode().strip()) == (128 + signal.SIGTERM, "logtrack: error: stopped by SIGTERM")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["access.log", "views.xml"]
        return
    pytest.fail("the document was written whole before SIGTERM came, five times out of five")


@contextmanager
def _xml_of_a_stalled_pipe(folder: Path, ignore_hup: bool = False) -> Iterator[tuple[subprocess.Popen[bytes], IO[bytes]]]:
    """`logtrack xml` reading a FIFO whose writer has written 4,000 lines and stalls, with the writer."""
    fifo = folder / "access.fifo"
    os.mkfifo(fifo)
    lines = b"".join(b'1.2.3.4 - - [01/Nov/2026:10:00:00 +0000] "GET /listing/%d HTTP/1.1" 200 5 "-" "Mozilla/5.0"\n'
                     % n for n in range(4000))
    def dispositions() -> None:
        as_the_signals_are_meant()
        if ignore_hup:
            signal.signal(signal.SIGHUP, signal.SIG_IGN)

    proc = subprocess.Popen([sys.executable, "-m", "logtrack", "xml", str(fifo), "-o", str(folder / "views.xml"),
                             "-q", "--format", "combined", "--listing-pattern", PATTERN], stderr=subprocess.PIPE,
                            preexec_fn=dispositions)
    try:
        with open(fifo, "wb") as writer:
            writer.write(lines)  # more than a pipe holds: once written, logtrack is reading
            writer.flush()
            yield proc, writer
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize(("args", "does"), [(["--no-upload"], "does nothing"),
                                           (["--dry-run"], "only shows what is due"),
                                           ([], "only posts what is due")])
def test_a_run_with_no_logs_named_says_so(cli, tmp_path: Path, monkeypatch, args: list[str], does: str) -> None:
    """`logtrack run` with no path (a variable left empty in a cron line) reads nothing: said, not an error (a
    fleet's host that only posts runs so), and not under --quiet."""
    monkeypatch.setenv("LOGTRACK_API_KEY", "k")
    run = ("run", "--listing-pattern", PATTERN, "--state", str(tmp_path / "s.db"), *args)
    code, _, err = cli(*run)
    assert code == 0, err
    assert (f"logtrack: no logs named, so none are read: this run {does} (name the access logs, their directory, or "
            "--nginx-conf, to count them)") in err.splitlines()
    code, _, err = cli(*run, "-q")
    assert (code, err) == (0, "")


def test_run_leaves_a_pipe_to_xml(cli, tmp_path: Path) -> None:
    """A pipe has no identity to resume from: `run` says so and reads the rest, never opening it."""
    fifo = tmp_path / "access.fifo"
    os.mkfifo(fifo)  # nobody writes: opening it would hang the run
    code, _, err = cli("run", str(fifo), "--listing-pattern", PATTERN, "--state", str(tmp_path / "s.db"),
                       "--no-upload")
    assert code == ExitCode.INPUT
    assert (f"logtrack: warning: {fifo}: a pipe, not a file, cannot be read incrementally (it has no identity "
            f"to resume); use `logtrack xml {fifo}`") in err.splitlines()


@pytest.mark.parametrize(("wall", "day"), [
    ("2026-11-01 01:30:00", "2026-11-01"),  # the hour Chicago's clocks go through twice: its date either way
    ("2026-11-01 00:59:59", "2026-11-01"),
    ("2026-03-08 01:59:59", "2026-03-08"),
    ("2026-03-08 03:00:00", "2026-03-08"),
    ("2026-03-08 02:30:00", None),  # the hour they skip: no server in Chicago wrote it
])
def test_a_time_without_an_offset_around_daylight_saving_changes(cli, tmp_path: Path, wall: str,
                                                                  day: str | None) -> None:
    log = tmp_path / "access.log"
    log.write_text(f'203.0.113.7 [{wall}] "GET /listing/42 HTTP/1.1" 200 "-" "Mozilla/5.0"\n'
                   '203.0.113.7 [2026-11-02 12:00:00] "GET /listing/7 HTTP/1.1" 200 "-" "Mozilla/5.0"\n')
    code, out, err = cli("xml", str(log), "--format", '%h [%{%Y-%m-%d %H:%M:%S}t] "%r" %>s "%{Referer}i" '
                         '"%{User-Agent}i"', "--listing-pattern", PATTERN, "--timezone", "America/Chicago")
    assert code == ExitCode.OK, err
    assert xml_counts(out) == {("2026-11-02", "", "7"): 1, **({(day, "", "42"): 1} if day else {})}
    assert (f"logtrack: skipped: 1 bad timestamp (first: {log}:1)" in err.splitlines()) is (day is None)


def test_gzip_file(cli, log: Path, tmp_path: Path) -> None:
    gz = tmp_path / "access.log.2.gz"
    gz.write_bytes(gzip.compress(log.read_bytes()))
    code, out, _ = cli("xml", str(gz), "--listing-pattern", PATTERN, "-q")
    assert code == 0
    assert xml_counts(out) == {("2026-11-01", "", "42"): 2}


def test_strict_names_file_and_line(cli, log: Path) -> None:
    code, out, err = cli("xml", str(log), "--listing-pattern", PATTERN, "--strict")
    assert code == ExitCode.INPUT
    assert out == b""
    assert err.splitlines()[-1] == (
        f"logtrack: error: {log}:5: does not match the log format: 'garbage'; fix the line, "
        "set the right [logs] format, or run without --strict to skip such lines and count them in the summary"
    )


def test_strict_shows_the_line_as_the_file_holds_it(cli, tmp_path: Path) -> None:
    """nginx's \\x22 shown as it is in the file (Python's repr showed \\\\x22, which no grep finds there); a tab and
    a terminal's escape sequence written out, never sent to the terminal."""
    log = tmp_path / "access.log"
    log.write_bytes(b'127.0.0.1 - - [01/Nov/2026:10:00:00 -0500] "GET /a\\x22b\t\x1b[31mred HTTP/1.1" 200 5 "-\n')
    code, _, err = cli("xml", str(log), "--listing-pattern", PATTERN, "--format", "combined", "--strict")
    assert code == ExitCode.INPUT
    assert err.splitlines()[-1].startswith(
        f"logtrack: error: {log}:1: does not match the log format: '127.0.0.1 - - [01/Nov/2026:10:00:00 -0500] "
        '"GET /a\\x22b\\t\\x1b[31mred HTTP/1.1" 200 5 "-\'; fix the line')


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["xml", "{log}"], ExitCode.CONFIG,
         "logtrack: error: no listing URL patterns: no config file was found (--config, LOGTRACK_CONFIG, "
         "./logtrack.toml, ~/.config/logtrack/logtrack.toml, /etc/logtrack.toml); write one with `logtrack init` "
         "and set [listings] patterns, or pass --listing-pattern"),
        (["xml", "{log}", "--config", "{tmp}/none.toml"], ExitCode.CONFIG,
         "logtrack: error: config file {tmp}/none.toml does not exist; create it with `logtrack init {tmp}/none.toml`"),
        (["xml", "{tmp}/missing.log", "--listing-pattern", PATTERN], ExitCode.INPUT,
         "logtrack: error: no log files to read: {tmp}/missing.log: no such file or directory; "
         "name access logs, a directory holding them, or --nginx-conf"),
        (["xml", "{log}", "--listing-pattern", "^/listing/(?P<id>[0-9]+"], ExitCode.CONFIG,
         "logtrack: error: --listing-pattern '^/listing/(?P<id>[0-9]+': invalid regular expression: "
         "unclosed group; patterns use Rust regex syntax (as Python's re, without look-around)\n"
         "    ^/listing/(?P<id>[0-9]+\n"
         "              ^"),
        (["xml", "{log}", "--listing-pattern", PATTERN, "--format", "nginx"], ExitCode.CONFIG,
         "logtrack: error: --format: unknown log format 'nginx'; nginx's and Apache's own access log is 'combined' "
         "(which auto finds); a format of your own is its string, or for nginx --nginx-conf"),
        (["xml", "{log}", "--listing-pattern", PATTERN, "--format", "Combined "], ExitCode.CONFIG,
         "logtrack: error: --format: unknown log format 'Combined '; write it 'combined'"),
        (["xml", "{log}", "--listing-pattern", PATTERN, "--format", "main"], ExitCode.CONFIG,
         "logtrack: error: --format: unknown log format 'main'; use one of auto, vhost_combined, host_combined, "
         "traefik, combined, vhost_common, common, nginx_proxy_manager, nginx_proxy_manager_standard, alb, "
         "elb, haproxy, haproxy_clf, envoy, istio, w3c, cloudfront, caddy, "
         "traefik_json, "
         "cloudflare, gcp, akamai, azure_front_door, caddy_console, an nginx log_format template "
         "or an Apache LogFormat string; if 'main' is a name your server's config gives a format (nginx's "
         "log_format main, Apache's LogFormat ... combinedio), give the format string itself, or for nginx read "
         "its config with --nginx-conf"),
        (["xml", "{log}", "--listing-pattern", PATTERN, "--timezone", "Central"], ExitCode.CONFIG,
         "logtrack: error: --timezone: unknown time zone 'Central'; use an IANA name such as "
         "'America/Chicago' or 'UTC'"),
    ],
)
def test_errors(cli, log: Path, tmp_path: Path, args: list[str], code: int, message: str) -> None:
    fill = {"log": str(log), "tmp": str(tmp_path)}
    got_code, out, err = cli(*[a.format(**fill) if a.startswith("{") else a for a in args])
    assert got_code == code
    assert out == b""
    assert err.splitlines() == message.format(**fill).splitlines()


def test_unknown_config_key_before_reading_logs(cli, tmp_path: Path) -> None:
    conf = tmp_path / "c.toml"
    conf.write_text("[listings]\npatterns = ['^/(?P<id>x)']\npatern = 1\n")
    code, _, err = cli("xml", str(tmp_path / "never-read.log"), "--config", str(conf))
    assert code == ExitCode.CONFIG
    assert err == f"logtrack: error: {conf}: unknown key [listings] patern; known keys in [listings]: patterns\n"


def test_no_format_fits(cli, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text("2026-11-01 10:00:00 GET /listing/1 200\n" * 10)
    code, out, err = cli("xml", str(log), "--listing-pattern", PATTERN)
    assert code == ExitCode.INPUT  # that file's problem: others would still be counted
    assert xml_counts(out) == {}
    assert err.splitlines()[0] == (
        f"logtrack: warning: {log}: no known log format fits this file: none of the 14 formats tried matches any "
        "of its first 10 lines; set [logs] format "
        "(or --format) to the server's log_format or LogFormat string, or leave the file out of the paths"
    )


def test_debug_shows_the_traceback_and_keeps_the_errors_exit_code(cli, log: Path) -> None:
    """A person's mistake is never exit 1, the code of a bug, with --debug either."""
    code, _, err = cli("--debug", "xml", str(log))
    assert code == ExitCode.CONFIG
    assert err.startswith("Traceback (most recent call last):\n")
    assert "logtrack.errors.ConfigError: no listing URL patterns" in err
    assert err.splitlines()[-1].startswith("logtrack: error: no listing URL patterns")


def test_unexpected_error_is_one_line(cli, log: Path, monkeypatch) -> None:
    from logtrack.jobs import preview as pipeline

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(pipeline, "count", boom)
    code, _, err = cli("xml", str(log), "--listing-pattern", PATTERN)
    assert code == ExitCode.ERROR
    assert err == (
        "logtrack: error: unexpected RuntimeError: disk on fire; "
        "this is a bug, please report it with the output of --debug\n"
    )


def test_explain_counted(cli) -> None:
    code, out, _ = cli("explain", LINES[0], "--listing-pattern", PATTERN, "--supplier", "Zillow=zillow.com",
                       "--timezone", "America/Chicago")
    assert code == 0
    assert out.decode().splitlines() == [
        "format:     combined",
        "client:     203.0.113.7",
        "vhost:      -",
        "time:       01/Nov/2026:10:00:00 -0500",
        "request:    GET /listing/42 HTTP/1.1",
        "method:     GET",
        "target:     /listing/42",
        "status:     200",
        "referrer:   https://www.zillow.com/",
        "user_agent: Mozilla/5.0",
        "listing:    42",
        "supplier:   Zillow",
        "verdict:    counted as a view of listing 42 on 2026-11-01",
    ]


@pytest.mark.parametrize(
    ("line", "verdict"),
    [
        (LINES[2], "not counted: bot"),
        (LINES[3], "not counted: not a listing page"),
        (LINES[5], "not counted: request names no page"),
        ("garbage", "not counted: does not match the log format"),
    ],
)
def test_explain_not_counted(cli, line: str, verdict: str) -> None:
    code, out, _ = cli("explain", line, "--listing-pattern", PATTERN)
    assert code == 0
    assert out.decode().splitlines()[-1] == f"verdict:    {verdict}"


SKIPPED = ("2026-03-08 02:30:00 never happened in America/Chicago: the clocks there skipped it (as when daylight "
           "saving time begins), so no server there wrote it; if the server's clock runs in another zone, set [logs] "
           "log_timezone to it")


@pytest.mark.parametrize(
    ("wall", "zone", "tail"),
    [
        ("2026-03-08 02:30:00", "America/Chicago", ["verdict:    not counted: bad timestamp", f"why:        {SKIPPED}"]),
        ("2026-03-08 02:30:00", "UTC", ["verdict:    counted as a view of listing 42 on 2026-03-08"]),
        ("2026-03-08 03:30:00", "America/Chicago", ["verdict:    counted as a view of listing 42 on 2026-03-08"]),
        ("2026-11-01 01:30:00", "America/Chicago", ["verdict:    counted as a view of listing 42 on 2026-11-01"]),
        ("2026-02-30 10:00:00", "America/Chicago", [
            "verdict:    not counted: bad timestamp",
            "why:        2026-02-30 10:00:00 is not a real time (a day its month does not have, an hour or minute "
            "out of range) or lies before 1970 or after 9999"]),
    ],
)
def test_explain_says_why_a_time_is_bad(cli, wall: str, zone: str, tail: list[str]) -> None:
    line = f'203.0.113.7 [{wall}] "GET /listing/42 HTTP/1.1" 200 "-" "Mozilla/5.0"'
    code, out, err = cli("explain", line, "--format", '%h [%{%Y-%m-%d %H:%M:%S}t] "%r" %>s "%{Referer}i" '
                         '"%{User-Agent}i"', "--listing-pattern", PATTERN, "--timezone", zone)
    assert (code, err) == (0, "")
    assert out.decode().splitlines()[-len(tail):] == tail


def test_explain_says_why_each_time_of_stdin_is_bad(cli) -> None:
    lines = "".join(f'203.0.113.7 [{wall}] "GET /listing/42 HTTP/1.1" 200 "-" "Mozilla/5.0"\n'
                    for wall in ("2026-03-08 01:59:59", "2026-03-08 02:30:00", "2026-04-31 10:00:00"))
    code, out, _ = cli("explain", "-", "--format", '%h [%{%Y-%m-%d %H:%M:%S}t] "%r" %>s "%{Referer}i" '
                       '"%{User-Agent}i"', "--listing-pattern", PATTERN, "--timezone", "America/Chicago", input=lines)
    assert code == 0
    whys = [line for line in out.decode().splitlines() if line.startswith(("verdict:", "why:"))]
    assert whys == [
        "verdict:    counted as a view of listing 42 on 2026-03-08",
        "verdict:    not counted: bad timestamp", f"why:        {SKIPPED}",
        "verdict:    not counted: bad timestamp",
        "why:        2026-04-31 10:00:00 is not a real time (a day its month does not have, an hour or minute out of "
        "range) or lies before 1970 or after 9999",
    ]


# nginx writes "-" for an absent $http_x_forwarded_for; a format that starts with it logs such lines.
DASH_LINE = '- - - [01/Nov/2026:10:00:00 -0500] "GET /listing/42 HTTP/1.1" 200 5 "-" "Mozilla/5.0"'


@pytest.mark.parametrize(
    "args",
    [
        [DASH_LINE, "--listing-pattern", PATTERN],
        ["--listing-pattern", PATTERN, DASH_LINE, "--timezone", "UTC"],
        ["--listing-pattern", PATTERN, "--", DASH_LINE],
    ],
)
def test_explain_a_line_that_starts_with_a_dash(cli, args: list[str]) -> None:
    code, out, err = cli("explain", *args)
    assert (code, err) == (0, "")
    assert out.decode().splitlines()[1:2] == ["client:     -"]
    assert out.decode().splitlines()[-1] == "verdict:    counted as a view of listing 42 on 2026-11-01"


def test_explain_an_option_value_that_starts_with_a_dash_stays_a_value(cli) -> None:
    code, _, err = cli("explain", "--listing-pattern", "- no id", LINES[0])
    assert code == ExitCode.CONFIG
    assert "--listing-pattern '- no id': pattern '- no id' has no group named 'id'" in err


def test_explain_given_a_file_name_says_how_to_explain_its_lines(cli, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """`logtrack explain access.log` explained the name as a line: "does not match the log format", and no word
    of why. The verdict stands; a warning says how to give the file's lines."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "access.log").write_text(LINES[0] + "\n")
    code, out, err = cli("explain", "access.log", "--listing-pattern", PATTERN)
    assert code == 0, err
    assert out.decode().splitlines()[-1] == "verdict:    not counted: does not match the log format"
    assert err == ("logtrack: warning: 'access.log' is a file's name, explained here as a log line; to explain the "
                   "file's lines: logtrack explain - < access.log, or tail -n 5 access.log | logtrack explain -\n")
    code, _, err = cli("explain", "elsewhere.log", "--listing-pattern", PATTERN)  # (no such file: a line)
    assert code == 0 and err == ""


def test_explain_each_line_of_stdin(cli) -> None:
    lines = [LINES[0], LINES[2], "garbage", DASH_LINE, ""]
    code, out, _ = cli("explain", "-", "--listing-pattern", PATTERN, input="\r\n".join(lines) + "\n")
    assert code == 0
    blocks = out.decode().split("\n\n")
    assert [block.splitlines()[0] for block in blocks] == [f"line:       {n}" for n in range(1, 6)]
    assert [block.splitlines()[-1] for block in blocks] == [
        "verdict:    counted as a view of listing 42 on 2026-11-01",
        "verdict:    not counted: bot",
        "verdict:    not counted: does not match the log format",
        "verdict:    counted as a view of listing 42 on 2026-11-01",
        "verdict:    not counted: blank line",
    ]


def test_explain_says_of_each_line_what_a_run_says(cli, tmp_path: Path) -> None:
    """The lines of stdin are read as a file's (a line not UTF-8, a run of NUL bytes, a CRLF), and a line
    given as an argument is its bytes as the shell passed them: the verdicts are the reasons ``xml`` gives."""
    data = b"".join([
        LINES[0].encode() + b"\r\n",
        LINES[0].replace("Mozilla/5.0", "Mozilla/5.0 \xff\xfe").encode("latin-1") + b"\n",  # not UTF-8
        b"\x00" * 300 + b"\n",  # a hole a crash left
        LINES[2].encode() + b"\n",
        b"\n",
        LINES[1].encode(),  # the last line, without its newline
    ])
    code, out, _ = cli("explain", "-", "--listing-pattern", PATTERN, input=data)
    assert code == 0
    verdicts = [block.splitlines()[-1].removeprefix("verdict:    ") for block in out.decode().split("\n\n")]
    assert verdicts == ["counted as a view of listing 42 on 2026-11-01", "not counted: invalid UTF-8",
                        "not counted: NUL bytes (lines lost in a crash)", "not counted: bot",
                        "not counted: blank line", "counted as a view of listing 42 on 2026-11-01"]
    log = tmp_path / "access.log"
    log.write_bytes(data)
    code, _, err = cli("xml", str(log), "--listing-pattern", PATTERN, "-o", str(tmp_path / "v.xml"))
    assert code == 0
    assert "2 views counted" in err and "1 bot" in err
    assert "1 invalid UTF-8" in err and "1 NUL bytes" in err and "1 blank line" in err
    # (a shell passes a line's bytes on as they are; Python's argv holds them as os.fsdecode makes them)
    code, out, _ = cli("explain", os.fsdecode(data.splitlines()[1]), "--listing-pattern", PATTERN)
    assert code == 0
    assert out.decode().splitlines()[-1] == "verdict:    not counted: invalid UTF-8"


def test_explain_a_word_of_several_lines_explains_each(cli) -> None:
    """``logtrack explain "$(tail -n 3 access.log)"``: each line, as stdin's are (it was one line that matched
    no format)."""
    code, out, _ = cli("explain", "\n".join([LINES[0], LINES[2], DASH_LINE]) + "\r\n", "--listing-pattern", PATTERN)
    assert code == 0
    blocks = out.decode().split("\n\n")
    assert [block.splitlines()[0] for block in blocks] == [f"line:       {n}" for n in range(1, 4)]
    assert [block.splitlines()[-1] for block in blocks] == [
        "verdict:    counted as a view of listing 42 on 2026-11-01", "verdict:    not counted: bot",
        "verdict:    counted as a view of listing 42 on 2026-11-01"]


@pytest.mark.parametrize("compress", ["gzip", "bz2", "lzma"])
def test_compressed_stdin_is_read_as_a_compressed_file_is(cli, tmp_path: Path, compress: str) -> None:
    """The README: ``-`` (stdin) works as a path, compressed or not."""
    import importlib

    data = ("\n".join(LINES) + "\n").encode()
    log = tmp_path / "access.log"
    log.write_bytes(data)
    packed = importlib.import_module(compress).compress(data)
    code, from_file, _ = cli("xml", str(log), "--listing-pattern", PATTERN, "-q")
    assert code == 0
    code, from_stdin, err = cli("xml", "-", "--listing-pattern", PATTERN, "-q", input=packed)
    assert (code, err) == (0, "")
    assert from_stdin == from_file
    code, out, _ = cli("explain", "-", "--listing-pattern", PATTERN, input=packed)
    assert out.decode().count("verdict:") == len(LINES)


def test_compressed_stdin_through_a_real_pipe(tmp_path: Path) -> None:
    """A pipe cannot seek: the compression is told from what the first read gives."""
    import subprocess
    import sys

    data = ("\n".join(LINES) + "\n").encode() * 2000
    log = tmp_path / "access.log"
    log.write_bytes(data)
    cmd = [sys.executable, "-m", "logtrack", "xml", "-", "--listing-pattern", PATTERN, "-q"]
    expected = subprocess.run([*cmd[:3], "xml", str(log), *cmd[5:]], capture_output=True, check=True).stdout
    writer = subprocess.Popen(["gzip", "-c", str(log)], stdout=subprocess.PIPE)
    got = subprocess.run(cmd, stdin=writer.stdout, capture_output=True)
    assert writer.stdout is not None
    writer.stdout.close()
    assert writer.wait() == 0
    assert (got.returncode, got.stderr) == (0, b"")
    assert got.stdout == expected and xml_counts(expected)


@pytest.mark.parametrize("command", ["xml", "explain"])
def test_stdin_closed_is_an_input_error(command: str) -> None:
    """Started with stdin closed (``<&-``), Python has no sys.stdin: reading "-" was an AttributeError, exit 1."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "logtrack", command, "-", "--listing-pattern", PATTERN],
                          capture_output=True, text=True, preexec_fn=lambda: os.close(0))
    assert proc.returncode == ExitCode.INPUT, proc.stderr
    assert "-: stdin is closed, so there is nothing to read; pipe the logs in, or name the files" in proc.stderr
    assert "Traceback" not in proc.stderr and "bug" not in proc.stderr


@pytest.mark.parametrize("closed", [1, 2])
def test_stdout_or_stderr_closed_is_no_bug(tmp_path: Path, closed: int) -> None:
    """Started with stdout or stderr closed: was an AttributeError (exit 1), the traceback on what was left;
    now what would go there is dropped, as a daemon's /dev/null would, and everything else is done."""
    import subprocess
    import sys

    log = tmp_path / "access.log"
    log.write_text("\n".join(LINES) + "\n")
    out = tmp_path / "views.xml"
    proc = subprocess.run([sys.executable, "-m", "logtrack", "xml", str(log), "--listing-pattern", PATTERN,
                           *(["-o", str(out)] if closed == 2 else [])], capture_output=True, text=True,
                          preexec_fn=lambda: os.close(closed))
    assert proc.returncode == 0, proc.stderr
    if closed == 1:
        assert "logtrack: read 6 lines from 1 file; 2 views counted" in proc.stderr.splitlines()
    else:
        assert (proc.stdout, proc.stderr) == ("", "")
        assert sum(xml_counts(out.read_bytes()).values()) == 2



def test_time_zones_without_the_systems_database(tmp_path: Path) -> None:
    """A slim container (Alpine, Ubuntu's base image) has no /usr/share/zoneinfo: every zone was "unknown time
    zone 'America/Chicago'" (exit 3), for a name that is right. The IANA database comes with logtrack (the
    ``tzdata`` package, which Python's zoneinfo reads where the system has none)."""
    import subprocess
    import sys

    log = tmp_path / "access.log"
    log.write_text('203.0.113.7 - - [02/Nov/2026:04:30:00 +0000] "GET /listing/42 HTTP/1.1" 200 5 "-" "Mozilla/5.0"\n')
    empty = tmp_path / "no-zoneinfo"
    empty.mkdir()
    proc = subprocess.run([sys.executable, "-m", "logtrack", "xml", str(log), "--listing-pattern", PATTERN,
                           "--timezone", "America/Chicago"], capture_output=True,
                          env={**os.environ, "PYTHONTZPATH": str(empty)})
    assert proc.returncode == 0, proc.stderr
    assert xml_counts(proc.stdout) == {("2026-11-01", "", "42"): 1}  # 04:30 UTC is the evening before in Chicago


def test_a_user_with_no_home_is_no_bug(cli, log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A container run under a user ID its image does not know (OpenShift, ``docker run --user 12345``) may have
    no HOME and no home in the password database: ``Path.home()`` raised RuntimeError, and every command, ``xml``
    too, ended as a bug (exit 1). Now there is no config of the user's to look for, and a state kept at the
    user's default place says where else to keep it."""
    def no_home(cls: type[Path]) -> Path:
        raise RuntimeError("Could not determine home directory.")

    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(Path, "home", classmethod(no_home))
    code, out, err = cli("xml", str(log), "--listing-pattern", PATTERN)
    assert code == ExitCode.OK, err
    assert sum(xml_counts(out).values()) == 2
    monkeypatch.setattr(os, "geteuid", lambda: 12345)  # (root's state is in /var/lib/logtrack, home or not)
    code, _, err = cli("status")
    assert code == ExitCode.STATE
    assert err == ("logtrack: error: no place for the state: HOME is not set, and this user (ID 12345) has no home "
                   "in the password database; set [state] path in the config, or pass --state (or set HOME)\n")


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_text_stdout_cannot_take_is_escaped_not_a_bug(cli, log: Path, tmp_path: Path, encoding: str) -> None:
    """A report's table printed where stdout is not UTF-8 (a Latin-1 locale, PYTHONIOENCODING): a supplier named
    "Zillöw ☃" was a UnicodeEncodeError, exit 1. What the encoding cannot take is escaped, as on stderr."""
    import subprocess
    import sys

    state = tmp_path / "state.db"
    code, _, err = cli("run", str(log), "--listing-pattern", PATTERN, "--supplier", "Zill\u00f6w \u2603=zillow.com",
                       "--state", str(state), "--no-upload")
    assert code == ExitCode.OK, err
    proc = subprocess.run([sys.executable, "-m", "logtrack", "report", "--state", str(state)], capture_output=True,
                          env={**os.environ, "PYTHONIOENCODING": encoding})
    assert proc.returncode == 0, proc.stderr
    shown = "Zill\\xf6w \\u2603" if encoding == "ascii" else "Zill\u00f6w \\u2603"
    assert shown.encode(encoding) in proc.stdout


def test_a_file_name_not_utf8_is_shown_by_its_bytes(tmp_path: Path) -> None:
    """The OS hands a name that is not UTF-8 over with its odd byte as a lone surrogate, which stderr showed as
    ``\\udcff``; it is the byte ``\\xff``, as the state keeps the name."""
    import subprocess
    import sys

    (tmp_path / os.fsdecode(b"access\xff.log")).write_text("\n".join(LINES) + "\n")
    proc = subprocess.run([sys.executable, "-m", "logtrack", "xml", str(tmp_path), "--listing-pattern", PATTERN],
                          capture_output=True)
    assert proc.returncode == 0, proc.stderr
    assert f"logtrack: {tmp_path}/access\\xff.log: format combined\n".encode() in proc.stderr

def test_explain_lines_of_stdin_in_the_format_they_make_together(cli) -> None:
    """Under ``auto`` the lines of stdin are judged as a file's are: a W3C log's data lines need its header
    (each alone, a CloudFront line fits no format)."""
    from test_vendor_formats import CLOUDFRONT

    code, out, _ = cli("explain", "-", "--listing-pattern", PATTERN, input="\n".join(CLOUDFRONT) + "\n")
    assert code == 0
    blocks = [block.splitlines() for block in out.decode().split("\n\n")]
    assert [block[1] for block in blocks] == ["format:     cloudfront"] * 3
    assert [block[-1] for block in blocks] == ["verdict:    not counted: no request: a log header or the server's "
                                               "own message"] * 2 + ["verdict:    counted as a view of listing "
                                                                     "1004 on 2019-12-04"]
    code, out, _ = cli("explain", CLOUDFRONT[2], "--listing-pattern", PATTERN)
    assert out.decode().splitlines()[0] == "format:     auto: no preset matches; shown as combined"


def test_report(cli, log: Path, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = cli("report", str(log), "--listing-pattern", PATTERN)
    assert code == 0
    rows = [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in out.decode().splitlines()
        if line.startswith("│")
    ]
    assert rows == [
        ["2026-11-01", "(Other)", "1", "2"],
        ["total", "", "1", "2"],
        ["42", "2", "1"],
        ["counted as a view", "2", ""],
        ["not a listing page", "1", f"{log}:4"],
        ["bot", "1", f"{log}:3"],
        ["does not match the log format", "1", f"{log}:5"],
        ["request names no page", "1", f"{log}:6"],
        ["total", "6", ""],
    ]


def test_init_writes_a_working_config(cli, tmp_path: Path) -> None:
    path = tmp_path / "logtrack.toml"
    code, out, _ = cli("init", str(path))
    assert code == 0
    assert out.decode().startswith(f"wrote {path}")
    code, out, _ = cli("explain", LINES[0], "--config", str(path))
    assert code == 0
    assert out.decode().splitlines()[-1] == "verdict:    counted as a view of listing 42 on 2026-11-01"
    code, _, err = cli("init", str(path))
    assert code == ExitCode.OUTPUT
    assert err == f"logtrack: error: {path} already exists; pass --force to overwrite it\n"
    assert cli("init", str(path), "--force")[0] == 0


def test_version(cli) -> None:
    assert cli("--version")[1].decode() == f"logtrack {__version__}\n"


def test_every_command_has_an_example(cli) -> None:
    for command in ["xml", "report", "explain", "validate", "init"]:
        code, out, _ = cli(command, "--help")
        assert code == 0
        assert "Example: logtrack " in out.decode(), command


def test_quick_start_config_is_in_the_repo() -> None:
    assert (ROOT / "sample_logs" / "logtrack.toml").is_file()


def test_unreadable_input_is_reported_and_the_rest_counted(cli, log: Path, tmp_path: Path) -> None:
    secret = tmp_path / "binary_access.log"
    secret.write_bytes(b"\x00\x01\x02" * 100)
    code, out, err = cli("xml", str(log), str(secret), str(tmp_path / "gone.log"), "--listing-pattern", PATTERN)
    assert code == ExitCode.INPUT
    assert xml_counts(out) == {("2026-11-01", "", "42"): 2}
    lines = err.splitlines()
    assert f"logtrack: warning: {tmp_path}/gone.log: no such file or directory" in lines
    assert (f"logtrack: warning: {secret}: looks binary (NUL and control bytes no server writes), not an access log; leave it out "
            "of the paths, or set [logs] glob to pick the access logs") in lines
    assert lines[-1] == ("logtrack: error: 2 inputs could not be read in full (see the warnings above); "
                         "the counts leave out what was not read")


def test_truncated_gzip_counts_what_it_has(cli, log: Path, tmp_path: Path) -> None:
    gz = tmp_path / "access.log.3.gz"
    gz.write_bytes(gzip.compress(log.read_bytes() * 300)[:-500])
    code, out, err = cli("xml", str(gz), "--listing-pattern", PATTERN)
    assert code == ExitCode.INPUT
    assert sum(xml_counts(out).values()) > 0
    assert f"logtrack: warning: {gz}: compressed data ends early" in err


def test_a_crash_hole_is_counted_apart_and_the_format_still_found(cli, tmp_path: Path) -> None:
    """A log that starts with a hole (copytruncate under a writer that does not append), and a line
    a crash cut: holes are no lines of any format, so detection sees three lines, two of which fit."""
    hole = tmp_path / "access.log"
    hole.write_bytes(b"\x00" * 10_000 + "\n".join(LINES[:2]).encode() + b"\n" + LINES[3][:60].encode()
                     + b"\x00" * 9 + b"\n")
    code, out, err = cli("xml", str(hole), "--listing-pattern", PATTERN, "--supplier", "Zillow=zillow.com")
    assert code == ExitCode.OK, err
    assert xml_counts(out) == {("2026-11-01", "Zillow", "42"): 1, ("2026-11-01", "", "42"): 1}
    assert err.splitlines() == [
        f"logtrack: {hole}: format combined",
        "logtrack: read 5 lines from 1 file; 2 views counted",
        f"logtrack: skipped: 2 NUL bytes (lines lost in a crash) (first: {hole}:1), "
        f"1 does not match the log format (first: {hole}:4)",
    ]
    code, _, err = cli("xml", str(hole), "--listing-pattern", PATTERN, "--strict")
    assert code == ExitCode.INPUT
    assert f"{hole}:1: NUL bytes (lines lost in a crash)" in err


def test_json_lines_are_detected(cli, tmp_path: Path) -> None:
    log = tmp_path / "access.json.log"
    log.write_text(
        '{"time_local":"01/Nov/2026:10:00:00 -0500","remote_addr":"1.2.3.4","request":"GET /listing/42 HTTP/1.1",'
        '"status":"200","http_referer":"https://www.zillow.com/","http_user_agent":"Mozilla/5.0"}\n'
        '{"time_local":"01/Nov/2026:10:00:01 -0500","remote_addr":"1.2.3.4","request":"GET /listing/42 HTTP/1.1",'
        '"status":"200","http_referer":"-","http_user_agent":"Googlebot/2.1 (+http://www.google.com/bot.html)"}\n'
    )
    code, out, err = cli("xml", str(log), "--listing-pattern", PATTERN, "--supplier", "Zillow=zillow.com")
    assert code == 0, err
    assert f"logtrack: {log}: format json" in err
    assert xml_counts(out) == {("2026-11-01", "Zillow", "42"): 1}


def test_nginx_conf_names_logs_and_formats(cli, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (tmp_path / "nginx.conf").write_text(f"""
http {{
    log_format main '$remote_addr - $remote_user [$time_local] "$request" '
                    '$status $body_bytes_sent "$http_referer" '
                    '"$http_user_agent" "$http_x_forwarded_for"';
    log_format json escape=json '{{"t":"$time_iso8601","r":"$request","s":$status,"ua":"$http_user_agent"}}';
    access_log {logs}/access.log;
    include sites/*.conf;
}}
""")
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites" / "a.conf").write_text(
        f"server {{ access_log {logs}/main.log main; }}\nserver {{ access_log {logs}/json.log json; }}\n"
        "server { access_log off; }\n")
    (logs / "access.log").write_text(LINES[0] + "\n")
    (logs / "main.log").write_text(LINES[1].replace('"Mozilla/5.0"', '"Mozilla/5.0" "10.0.0.1, 10.0.0.2"') + "\n")
    (logs / "main.log.1").write_text(LINES[1].replace('"Mozilla/5.0"', '"Mozilla/5.0" "-"') + "\n")
    (logs / "json.log").write_text(
        '{"t":"2026-11-02T10:00:00-05:00","r":"GET /listing/7 HTTP/1.1","s":200,"ua":"Mozilla/5.0"}\n')
    code, out, err = cli("xml", "--nginx-conf", str(tmp_path / "nginx.conf"), "--listing-pattern", PATTERN)
    assert code == 0, err
    assert err.splitlines()[:4] == [
        f"logtrack: {logs}/access.log: format combined",
        f"logtrack: {logs}/main.log: format main",
        f"logtrack: {logs}/main.log.1: format main",
        f"logtrack: {logs}/json.log: format json",
    ]
    assert xml_counts(out) == {("2026-11-01", "", "42"): 3, ("2026-11-02", "", "7"): 1}



def test_nginx_conf_server_writing_to_the_built_in_log_is_said(cli, tmp_path: Path, monkeypatch) -> None:
    """A server block with no access_log, its http block with none: nginx writes its requests to its built-in log,
    which the config does not name. Said, until that file is named too (then read, its views counted)."""
    from logtrack.formats import nginx_conf

    built_in = tmp_path / "built-in" / "access.log"  # (nginx's --http-log-path, here)
    built_in.parent.mkdir()
    built_in.write_text(LINES[1] + "\n")
    monkeypatch.setattr(nginx_conf, "BUILT_IN", str(built_in))
    (tmp_path / "a.log").write_text(LINES[0] + "\n")
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"http {{\n  server {{ access_log {tmp_path}/a.log; }}\n  server {{ listen 8080; }}\n}}\n")
    code, out, err = cli("xml", "--nginx-conf", str(conf), "--listing-pattern", PATTERN)
    assert code == 0, err
    assert (f"logtrack: warning: the server block at {conf}:3 names no access_log, nor does its http block: nginx "
            f"writes its requests to its own log, {built_in} as most systems build it") in err
    assert sum(xml_counts(out).values()) == 1
    code, out, err = cli("xml", str(built_in), "--nginx-conf", str(conf), "--listing-pattern", PATTERN)
    assert code == 0, err
    assert "names no access_log" not in err
    assert sum(xml_counts(out).values()) == 2


def test_nginx_conf_logging_each_request_twice_counts_it_once(cli, tmp_path: Path) -> None:
    """nginx writes a request to every access_log of the block that serves it: a combined log and a JSON one for a
    shipper hold the same requests, and both were counted, every view twice. The first of a block is read, the
    others said and left out; where an ``if=`` may part them, all are read."""
    logs = tmp_path / "logs"
    logs.mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"""
http {{
    log_format json escape=json '{{"t":"$time_iso8601","r":"$request","s":$status,"ua":"$http_user_agent"}}';
    map $status $ok {{ ~^2 1; default 0; }}
    server {{
        listen 80;
        access_log {logs}/access.log;
        location /api {{ access_log off; }}
        access_log {logs}/access.json.log json;
    }}
    server {{
        listen 8080;
        include logs.conf;
    }}
    server {{
        listen 8081;
        access_log {logs}/access.log;
        access_log {logs}/access.json.log json;
    }}
}}
""")
    (tmp_path / "logs.conf").write_text(f"access_log {logs}/b.log combined if=$ok;\naccess_log {logs}/b-rest.log;\n")
    (logs / "access.log").write_text(LINES[0] + "\n")
    (logs / "access.json.log").write_text(
        '{"t":"2026-11-01T10:00:00-05:00","r":"GET /listing/42 HTTP/1.1","s":200,"ua":"Mozilla/5.0"}\n')
    (logs / "b.log").write_text(LINES[0].replace("/listing/42", "/listing/7") + "\n")
    (logs / "b-rest.log").write_text(LINES[0].replace("/listing/42", "/listing/8") + "\n")
    at = {"access.log": f"{conf}:7", "access.json.log": f"{conf}:9"}
    for read, left in (("access.log", "access.json.log"), ("access.json.log", "access.log")):
        if read == "access.json.log":  # where the block's first file is not there (shipped alone), its twin is read
            (logs / "access.log").unlink()
        code, out, err = cli("xml", "--nginx-conf", str(conf), "--listing-pattern", PATTERN)
        assert code == 0, err
        assert xml_counts(out) == {("2026-11-01", "", "42"): 1, ("2026-11-01", "", "7"): 1,
                                   ("2026-11-01", "", "8"): 1}
        assert (f"logtrack: warning: {logs}/{left}: not read: access_log at {at[left]} writes the requests that "
                f"access_log at {at[read]} writes to {logs}/{read} (one block logs each request to both): counted "
                "from that one") in err.splitlines()
        assert err.count(": not read: ") == 1  # (not b.log nor b-rest.log; the second server's twins said once)


def _requests(targets: list[str], tail: str = "") -> str:
    return "".join(f'203.0.113.7 - - [01/Nov/2026:10:00:{i % 60:02} -0500] "GET {t} HTTP/1.1" 200 5 "-" '
                   f'"Mozilla/5.0"{tail}\n' for i, t in enumerate(targets))


LISTINGS = [f"/listing/{n}" for n in range(30)]


@pytest.mark.parametrize(("second", "said"), [
    (_requests(LISTINGS, ' "-"'), True),  # the same requests in nginx's main (its X-Forwarded-For after them)
    ("".join(f'{{"request":"GET {t} HTTP/1.1","status":200}}\n' for t in LISTINGS), True),  # ... or in JSON
    (_requests(LISTINGS[1:]), False),  # other requests (one fewer at the start)
    (_requests(LISTINGS[::-1]), False),
    (_requests(LISTINGS + LISTINGS), False),  # a copy of the log that grew since (logrotate's copy): one log
])
def test_two_logs_of_the_same_requests_are_said(cli, tmp_path: Path, second: str, said: bool) -> None:
    """A site that logs each request twice (a combined log and a JSON one for a shipper) in the directory a run
    reads counts every view twice: said by the files' first requests, whatever their formats; both still read."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "access.log").write_text(_requests(LISTINGS))
    (logs / "access.main.log").write_text(second)
    _, _, err = cli("xml", str(logs), "--listing-pattern", PATTERN)
    warning = (f"logtrack: warning: {logs}/access.main.log: begins with the same 20 requests as {logs}/access.log, in "
               "the same order: one server writing each request to both (a combined log and a JSON one, say)? Both "
               "are counted, every view twice; name the one to count, or set [logs] glob")
    assert (warning in err.splitlines()) == said, err


MANY = [f"/listing/{n % 37}" for n in range(200)]  # (17 KB of lines: more than the 4 KiB the files' heads share)


def _gzip(text: str) -> bytes:
    return gzip.compress(text.encode())


@pytest.mark.parametrize(("second", "read"), [
    (_requests(MANY).encode(), ["access.log"]),  # cp access.log access.log.1
    (_gzip(_requests(MANY)), ["access.log"]),  # compressed beside its plain self
    (_gzip(_requests(MANY))[:900], ["access.log"]),  # ... and not done yet: its lines so far are the log's
    (_requests(MANY[:150]).encode(), ["access.log"]),  # logrotate's copy: the copy, then the log grew on
    (_requests(MANY[:10]).encode(), ["access.log"]),  # ... taken early: shorter than the look at a file's start
    (_requests(MANY[:1]).encode(), ["access.log"]),  # ... at its first line
    (_requests(["/listing/98", *MANY]).encode(), ["access.log", "access.log.1"]),  # a line of its own first
    (_requests(MANY[:150])[:-30].encode(), ["access.log"]),  # a copy cut inside a line
    (_requests([*MANY, "/listing/99"]).encode(), ["access.log.1"]),  # the copy taken later goes further
    (_requests([*MANY[:150], "/listing/99", *MANY[150:]]).encode(), ["access.log", "access.log.1"]),  # apart
    (_requests([*MANY[:199], "/listing/98"]).encode(), ["access.log", "access.log.1"]),  # its last line its own
])
def test_a_copy_of_a_log_is_counted_once(cli, tmp_path: Path, second: bytes, read: list[str]) -> None:
    """`run` knows a file by its content and counts a copy of a log once; `xml` counted it once a name (a
    backup beside the log, logrotate's copy, a file being compressed): every view of it twice. A file that
    begins as another does but holds a line of its own anywhere is read whole, as are both."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "access.log").write_text(_requests(MANY))
    (logs / "access.log.1").write_bytes(second)
    code, out, err = cli("xml", str(logs), "--listing-pattern", PATTERN)
    assert code == 0, err
    expected: Counter[tuple[str, str, str]] = Counter()
    for name in read:
        data = (logs / name).read_bytes()
        text = gzip.decompress(data).decode() if data[:2] == b"\x1f\x8b" else data.decode()
        expected.update(("2026-11-01", "", line.split()[6].rsplit("/", 1)[1]) for line in text.splitlines())
    assert xml_counts(out) == expected
    left = {"access.log", "access.log.1"} - set(read)
    for name in left:
        kept = read[0]
        assert (f"logtrack: warning: {logs}/{name}: not read: a copy of {logs}/{kept} (its lines are all "
                f"{logs}/{kept}'s, or the first of them), so they are counted once, from {logs}/{kept}") in err
    assert err.count(": not read: ") == len(left)


def test_logs_of_headers_alone_are_no_copies(cli, tmp_path: Path) -> None:
    """A CDN's logs of hours without requests are the same two W3C headers: nothing to count twice, and no
    file of them is said to be a copy of another."""
    logs = tmp_path / "logs"
    logs.mkdir()
    header = "#Version: 1.0\n#Fields: date time cs-method cs-uri-stem sc-status cs(Referer) cs(User-Agent)\n"
    for hour in range(3):
        (logs / f"E2EXAMPLE.2026-11-01-0{hour}.access.log").write_text(header)
    (logs / "E2EXAMPLE.2026-11-01-03.access.log").write_text(
        header + "2026-11-01 03:00:00 GET /listing/42 200 - Mozilla/5.0\n")
    code, out, err = cli("xml", str(logs), "--listing-pattern", PATTERN, "--format", "w3c")
    assert code == 0, err
    assert xml_counts(out) == {("2026-11-01", "", "42"): 1}
    assert "not read" not in err, err


def test_a_health_check_repeated_is_no_twin(cli, tmp_path: Path) -> None:
    """Two servers' logs that both begin with a load balancer's checks (the same target again and again) hold
    other requests: not said."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a-access.log").write_text(_requests(["/health"] * 25 + LISTINGS[:5]))
    (logs / "b-access.log").write_text(_requests(["/health"] * 25 + LISTINGS[5:10]))
    code, _, err = cli("xml", str(logs), "--listing-pattern", PATTERN)
    assert code == 0 and "begins with the same" not in err, err

@pytest.mark.parametrize(("code", "status", "stderr"), [
    ("None", 0, ""),
    ("4", 4, ""),
    ("'logtrack: error: stopped'", 1, "logtrack: error: stopped\n"),
])
def test_the_console_script_leaves_with_sys_exits_status_and_its_streams_flushed(code: str, status: int,
                                                                                  stderr: str) -> None:
    """``leave`` skips Python's teardown (os._exit): what sits in stdout's buffer must still come out."""
    import subprocess
    import sys

    script = f"import sys\nsys.stdout.write('x' * 100000)\nfrom logtrack.cli.main import leave\nleave({code})\n"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert (proc.returncode, len(proc.stdout), proc.stderr) == (status, 100000, stderr)


def test_debug_after_the_command_and_no_traceback_without_it(tmp_path: Path) -> None:
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "logtrack", "xml", str(tmp_path / "none.log"), "--listing-pattern", PATTERN]
    plain = subprocess.run(cmd, capture_output=True, text=True)
    assert plain.returncode == ExitCode.INPUT
    assert "Traceback" not in plain.stderr
    debug = subprocess.run([*cmd, "--debug"], capture_output=True, text=True)
    assert "Traceback (most recent call last)" in debug.stderr
    assert "InputError: no log files to read" in debug.stderr
    assert debug.returncode == ExitCode.INPUT


@pytest.mark.parametrize("command", [
    ["report"],  # rich writes these tables, and on its own exits 1 without a word when the pipe closes
    ["report", "--by", "listing"],
    ["xml", "-q"],
])
def test_a_reader_that_stops_early_is_no_bug_whatever_writes_stdout(site, command: list[str]) -> None:
    import subprocess
    import sys

    logs, conf, gen = site
    (logs / "access.log").write_bytes(b"".join(line + b"\n" for line in gen.lines))
    proc = subprocess.Popen([sys.executable, "-m", "logtrack", *command, str(logs), "-c", str(conf)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # nothing is ever read: the first write finds the pipe closed
    err = proc.stderr.read().decode()
    assert proc.wait() == ExitCode.OUTPUT, err
    assert err.splitlines()[-1] == ("logtrack: error: stdout was closed before everything was written (its reader "
                                    "stopped)")


@pytest.mark.parametrize("command", [
    ["xml", "{logs}", "-c", "{conf}", "-q"],  # the document, written by output.write_file
    ["report", "{logs}", "-c", "{conf}"],  # rich's tables
    ["explain", "-c", "{conf}", '1.2.3.4 - - [01/Nov/2026:10:00:00 -0500] "GET /listing/1 HTTP/1.1" 200 5 "-" "x"'],
    ["--help"],  # Typer's, before any command's boundary
    ["--version"],
])
def test_stdout_on_a_full_disk_is_the_users_to_fix_not_a_bug(site, command: list[str]) -> None:
    """`logtrack ... > file` on a full file system: one line naming stdout and the fix, exit 9, no traceback."""
    import subprocess
    import sys

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full (a device that is always full) on this system")
    logs, conf, gen = site
    (logs / "access.log").write_bytes(b"".join(line + b"\n" for line in gen.lines))
    args = [a.format(logs=logs, conf=conf) for a in command]
    with open("/dev/full", "wb") as full:
        proc = subprocess.run([sys.executable, "-m", "logtrack", *args], stdout=full, stderr=subprocess.PIPE,
                              text=True)
    assert proc.returncode == ExitCode.OUTPUT, proc.stderr
    assert proc.stderr.splitlines()[-1] == ("logtrack: error: cannot write standard output: No space left on "
                                            "device; free some space, or write elsewhere")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", ["xml", "run"])
def test_a_file_whose_first_read_fails_is_that_files_problem(cli, site, tmp_path: Path, command: str) -> None:
    """A read that fails (EIO: a failing disk, a network file system gone) at a file's first bytes was a
    traceback and exit 1; it is the file's warning, the other files counted, exit 4."""
    if not os.access("/proc/self/mem", os.R_OK):
        pytest.skip("no /proc/self/mem (whose first page, never mapped, fails to read with EIO) on this system")
    logs, conf, gen = site
    write(logs / "access.log", gen.lines)
    (logs / "other_access.log").symlink_to("/proc/self/mem")
    args = ["-o", str(tmp_path / "v.xml")] if command == "xml" else ["--state", str(tmp_path / "s.db"), "--no-upload"]
    code, _, err = cli(command, str(logs), "-c", str(conf), *args)
    assert code == ExitCode.INPUT, err
    assert f"logtrack: warning: {logs / 'other_access.log'}: cannot read: Input/output error" in err.splitlines()
    if command == "xml":
        assert xml_counts((tmp_path / "v.xml").read_bytes()) == gen.expected
    else:
        assert counts_of(tmp_path / "s.db", cli) == gen.expected


def test_log_timezone_reads_a_server_that_logs_local_time_in_utc(cli, tmp_path: Path) -> None:
    """An Apache %{format}t without %z is the server's local time: on a machine kept in UTC, 03:30 is
    still the previous evening in Chicago; and the state's rules know the setting."""
    log = tmp_path / "access.log"
    log.write_text('1.2.3.4 2026-11-02 03:30:00 "GET /listing/42 HTTP/1.1" 200 "-" "Mozilla/5.0"\n')
    fmt = '%h %{%Y-%m-%d %H:%M:%S}t "%r" %>s "%{Referer}i" "%{User-Agent}i"'
    conf = tmp_path / "logtrack.toml"
    base = f"[logs]\nformat = '{fmt}'\ntimezone = 'America/Chicago'\n"
    for extra, day in [("", "2026-11-02"), ("log_timezone = 'UTC'\n", "2026-11-01")]:
        conf.write_text(base + extra + f"[listings]\npatterns = ['{PATTERN}']\n")
        code, out, err = cli("xml", str(log), "--config", str(conf))
        assert code == ExitCode.OK, err
        assert xml_counts(out) == {(day, "", "42"): 1}
    state = tmp_path / "state.db"
    code, _, err = cli("run", str(log), "--config", str(conf), "--state", str(state), "--no-upload")
    assert code == ExitCode.OK, err
    conf.write_text(base + f"[listings]\npatterns = ['{PATTERN}']\n")  # the same rules but the log's zone
    code, _, err = cli("run", str(log), "--config", str(conf), "--state", str(state), "--no-upload")
    assert code == ExitCode.STATE and "were made under other rules" in err


def test_states_made_before_log_timezone_keep_their_rules() -> None:
    from logtrack.config import CountingRules

    rules = CountingRules(format="combined", timezone="America/Chicago", patterns=(PATTERN,))
    assert "log_timezone" not in rules.legacy_signature()  # what such states hold
    assert rules.legacy_signature() != replace(rules, log_timezone="UTC").legacy_signature()


# Lines with the virtual host in front of the client. The first three are from the elastic/beats
# filebeat nginx module's test data (Apache License 2.0), with the listing paths put in.
HOST_FIRST = [
    'example.com 10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET /listing/42 HTTP/1.1" 200 571 '
    '"-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:49.0) Gecko/20100101 Firefox/49.0"',
    'example.com 172.17.0.1 - - [07/Dec/2016:11:05:08 +0100] "GET /listing/42 HTTP/1.1" 200 612 "-" '
    '"Mozilla/5.0 (Windows NT 6.1; rv:15.0) Gecko/20120716 Firefox/15.0a2"',
    'example.com:80 81.2.69.143 - - [07/Dec/2016:11:05:09 +0100] "GET /listing/43 HTTP/1.1" 200 571 "-" '
    '"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0 Safari/537.36"',
]
VHOST_COMMON = [  # Apache's vhost_common: %v %h %l %u %t "%r" %>s %b
    'www.site.example 203.0.113.7 - - [07/Dec/2016:11:05:07 +0100] "GET /listing/42 HTTP/1.1" 200 571',
    'www.site.example 203.0.113.8 - - [07/Dec/2016:11:05:08 +0100] "GET /listing/43 HTTP/1.1" 200 571',
]


@pytest.mark.parametrize(("lines", "preset", "views"), [
    (HOST_FIRST, "host_combined", {("2016-12-07", "Partner", "42"): 2, ("2016-12-07", "Partner", "43"): 1}),
    # most hosts with a port: vhost_combined fits most lines, host_combined (the same fields) fits all
    ([HOST_FIRST[2], HOST_FIRST[2].replace(":80 ", ":8080 "), HOST_FIRST[1]], "host_combined",
     {("2016-12-07", "Partner", "43"): 2, ("2016-12-07", "Partner", "42"): 1}),
    (VHOST_COMMON, "vhost_common", {("2016-12-07", "Site", "42"): 1, ("2016-12-07", "Site", "43"): 1}),
])
def test_a_log_with_the_host_first_keeps_its_host(cli, tmp_path: Path, lines: list[str], preset: str,
                                                  views: dict[tuple[str, str, str], int]) -> None:
    log = tmp_path / "access.log"
    log.write_text("\n".join(lines) + "\n")
    conf = tmp_path / "logtrack.toml"
    conf.write_text(f"""[listings]\npatterns = ['{PATTERN}']\n
[[suppliers]]\nname = "Partner"\nhost = ["example.com"]\n
[[suppliers]]\nname = "Site"\nhost = ["www.site.example"]\n""")
    rules = ["--config", str(conf)]
    code, out, err = cli("xml", str(log), *rules)
    assert code == 0, err
    assert f"logtrack: {log}: format {preset}" in err
    assert xml_counts(out) == views  # the host supplier rules match: the host was read as the host
    # Named as combined (or common), no line is read (a client is no "host address" pair), and the
    # preset that fits is named: the host is never silently lost.
    named = "combined" if preset == "host_combined" else "common"
    code, out, err = cli("xml", str(log), *rules, "--format", named)
    assert code == 4 and f"the preset '{preset}' fits them" in err
    assert "most of its lines are damaged" in err or "damaged" in err
    assert xml_counts(out) == {}


def test_a_log_shared_by_several_sites_counts_only_this_sites_hosts(cli, tmp_path: Path) -> None:
    log = tmp_path / "other_vhosts_access.log"
    stamp = "01/Nov/2026:10:00:00 -0500"
    log.write_text("".join(
        f'{host}:443 203.0.113.7 - - [{stamp}] "GET /listing/{n} HTTP/1.1" 200 5 "-" "Mozilla/5.0"\n'
        for host, n in [("www.site.example", 1), ("WWW.SITE.EXAMPLE", 1), ("shop.other.example", 2),
                        ("idx.site.example", 3)]))
    conf = tmp_path / "logtrack.toml"
    conf.write_text(f"[listings]\npatterns = ['{PATTERN}']\n"
                    "[filters]\nvhosts = ['www.site.example', 'IDX.site.example:8080']\n")
    code, out, err = cli("xml", str(log), "--config", str(conf))
    assert code == 0, err
    assert xml_counts(out) == {("2026-11-01", "", "1"): 2, ("2026-11-01", "", "3"): 1}
    assert "1 virtual host not counted" in err
    plain = tmp_path / "access.log"  # a format with no virtual host: that file is refused, by name
    plain.write_text(f'203.0.113.7 - - [{stamp}] "GET /listing/9 HTTP/1.1" 200 5 "-" "Mozilla/5.0"\n')
    code, out, err = cli("xml", str(log), str(plain), "--config", str(conf))
    assert code == 4
    assert f"{plain}: the format 'combined' logs no virtual host, so [filters] vhosts cannot tell" in err
    assert xml_counts(out) == {("2026-11-01", "", "1"): 2, ("2026-11-01", "", "3"): 1}


def test_a_reader_that_stops_early_is_no_bug(site) -> None:
    """`logtrack xml ... | head`: the pipe closes under the writer; one line says so, exit 9, no traceback."""
    import subprocess
    import sys

    logs, conf, _ = site
    agent = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"
    (logs / "access.log").write_text("".join(  # 5000 listings: a document of well over a pipe's buffer
        f'192.0.2.7 - - [01/Nov/2026:10:00:00 -0500] "GET /listing/{1000000 + i} HTTP/1.1" 200 5 "-" "{agent}"\n'
        for i in range(5000)))
    proc = subprocess.Popen([sys.executable, "-m", "logtrack", "xml", str(logs), "-c", str(conf), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # as `head` does once it has read enough: what logtrack writes then has nowhere to go
    err = proc.stderr.read().decode()
    assert proc.wait() == 9, err
    assert err.splitlines() == ["logtrack: error: stdout was closed before everything was written (its reader "
                                "stopped)"]


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: logtrack works on one batch at a time")
def test_small_files_are_counted_side_by_side(cli, tmp_path: Path, monkeypatch) -> None:
    """A directory of files one batch each keeps both workers busy: the next file's batch is counted
    while the one before it is, not after (each waits here until the other has started too). (Batches of
    a line, so that each file is a batch of its own: smaller files are counted several at a time.)"""
    from logtrack.jobs import preview as pipeline
    from logtrack.read import sources

    monkeypatch.setattr(sources, "BATCH_BYTES", 1)

    met = threading.Barrier(2, timeout=10)
    calls = iter(range(1_000))
    original = pipeline.count_batch

    def count_batch(*args: object, **kwargs: object) -> object:
        if next(calls) < 2:  # the first two files' batches
            met.wait()  # raises BrokenBarrierError if the second is not counted while the first is
        return original(*args, **kwargs)

    monkeypatch.setattr(pipeline, "count_batch", count_batch)
    for i in range(4):  # (a view a second: four logs, not one log's copies, which are read once)
        (tmp_path / f"access.log-part-{i}").write_text(LINES[0].replace("10:00:00", f"10:00:0{i}") + "\n")
    code, out, err = cli("xml", str(tmp_path), "--listing-pattern", PATTERN)
    assert code == 0, err
    assert "read 4 lines from 4 files; 4 views counted" in err
    assert b"<ViewCount>4</ViewCount>" in out


@pytest.mark.parametrize(("option", "value"), [("--port", "99999"), ("--port", "-1"), ("--fail-first", "-3")])
def test_the_sandbox_refuses_a_port_no_socket_takes(cli, option: str, value: str) -> None:
    """A port past 65535 was an OverflowError from bind(), exit 1."""
    code, _, err = cli("sandbox", "--api-key", "k", option, value)
    assert code == ExitCode.USAGE and f"Invalid value for '{option}': {value} is not in the range" in err


@pytest.mark.parametrize("command", [["export", "--state", "{long}"], ["status", "--state", "{long}"],
                                     ["report", "--state", "{long}"], ["xml", "{log}", "-o", "{long}"],
                                     ["run", "{log}", "--state", "{long}", "--no-upload"], ["xml", "{log}", "-c", "{long}"]])
def test_a_name_too_long_for_the_file_system_is_a_usage_error(cli, tmp_path: Path, command: list[str]) -> None:
    """A state, output or config named past the file system's limit (255 bytes a name): an OSError at the first
    look at it, exit 1; now the name, shortened, and the fix (exit 2)."""
    log = tmp_path / "access.log"
    log.write_text(LINES[0] + "\n")
    long = str(tmp_path / ("a" * 300))
    args = [a.format(long=long, log=log) for a in command]
    takes_pattern = args[0] in ("xml", "report", "run") and "-c" not in args
    code, _, err = cli(*args, *(["--listing-pattern", PATTERN] if takes_pattern else []))
    assert code == ExitCode.USAGE, err
    assert err.splitlines()[-1] == (f"logtrack: error: {long[:60]}...({len(long):,} characters): File name too long; "
                                    "check the path")


def test_a_log_named_past_the_file_systems_limit_is_that_names_problem(cli, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(LINES[0] + "\n")
    code, out, err = cli("xml", "a" * 300, str(log), "--listing-pattern", PATTERN)
    assert code == ExitCode.INPUT
    assert f"logtrack: warning: {'a' * 60}...(300 characters): File name too long" in err.splitlines()
    assert sum(xml_counts(out).values()) == 1


@pytest.mark.parametrize("value", ["-1", "nan", "inf"])
def test_a_lock_wait_that_is_no_number_of_seconds_is_a_usage_error(cli, tmp_path: Path, value: str) -> None:
    """NaN waited forever for a held lock; -1 gave up at once, "waited -1 s"."""
    code, _, err = cli("run", str(tmp_path), "--listing-pattern", PATTERN, "--state", str(tmp_path / "s.db"),
                       "--lock-wait", value)
    assert code == ExitCode.USAGE
    assert f"Invalid value for '--lock-wait': {float(value)} is not a number of seconds" in err
    assert not (tmp_path / "s.db").exists()


@pytest.mark.parametrize("fmt", ["auto", "combined"])
def test_an_empty_file_is_a_file_read(cli, tmp_path: Path, fmt: str) -> None:
    """After logrotate's ``create``, access.log is empty: read, and said so, not "0 files"."""
    (tmp_path / "access.log").write_text("")
    code, _, err = cli("xml", str(tmp_path / "access.log"), "--listing-pattern", PATTERN, "--format", fmt)
    assert (code, err.splitlines()) == (0, ["logtrack: read 0 lines from 1 file; 0 views counted"])
    (tmp_path / "access.log.1").write_text(LINES[0] + "\n")
    code, _, err = cli("xml", str(tmp_path), "--listing-pattern", PATTERN, "--format", fmt)
    assert code == 0
    assert "logtrack: read 1 line from 2 files; 1 view counted" in err.splitlines()


def test_small_files_are_counted_together_as_each_alone(cli, tmp_path: Path, monkeypatch) -> None:
    """Small files are counted several to a batch; the XML, the summary (first lines by their own file and
    number) and a mostly damaged file's warning are what counting each alone gives."""
    from logtrack.count import batch as counting
    from logtrack.jobs import preview as pipeline

    for i in range(6):
        lines = LINES[i:] + LINES[:i]
        (tmp_path / f"access.log-{i}").write_text("\n".join(lines) + ("\n" if i % 2 else ""))
    (tmp_path / "access.log-6").write_text("garbage\nmore garbage\n" * 6)  # mostly damaged, said by name
    joined = files_per_count(monkeypatch, pipeline)
    together = cli("xml", str(tmp_path), "--listing-pattern", PATTERN, "--format", "combined")
    assert joined == [7]
    from logtrack.read import joined as joining

    monkeypatch.setattr(joining, "joins_files", lambda fmt: False)
    assert counting.joins_files(pipeline.formats.get("combined"))
    alone = cli("xml", str(tmp_path), "--listing-pattern", PATTERN, "--format", "combined")
    assert joined == [7]
    assert together == alone
    code, out, err = together
    assert code == 4, err
    assert sum(xml_counts(out).values()) == 12
    assert "read 48 lines from 7 files; 12 views counted" in err
    assert "access.log-6: 12 of 12 lines skipped as damaged" in err
    assert "(first: " + str(tmp_path / "access.log-0") + ":5)" in err


@pytest.mark.parametrize("command", ["xml", "run"])
def test_a_fixed_offset_zone_is_warned_of_and_counted_as_written(cli, site, tmp_path: Path, command: str) -> None:
    """--timezone EST counts as UTC-05:00 all year (valid, as written), and says so even with -q: the run
    that meant New York's clock learns of it in cron's mail."""
    logs, conf, gen = site
    write(logs / "access.log", gen.lines[:500])
    extra = ["--state", str(tmp_path / f"{command}.db"), "--no-upload"] if command == "run" else []
    code, out, err = cli(command, str(logs), "-c", str(conf), "--timezone", "EST", "-q", *extra)
    assert code == 0, err
    assert err.splitlines()[0].startswith("logtrack: warning: the time zone of the days ([logs] timezone, "
                                          "--timezone) 'EST' is UTC-05:00 all year")
    code, fixed, err = cli(command, str(logs), "-c", str(conf), "--timezone", "Etc/GMT+5", "-q",
                           *(["--state", str(tmp_path / "fixed.db"), "--no-upload"] if command == "run" else []))
    assert code == 0 and "warning" not in err, err
    if command == "xml":
        assert out == fixed
    else:
        assert counts_of(tmp_path / f"{command}.db", cli) == counts_of(tmp_path / "fixed.db", cli)


def test_a_name_with_characters_a_terminal_acts_on_is_shown_escaped(cli, tmp_path: Path) -> None:
    """A message names files and quotes lines: an escape sequence or a carriage return in one reaches the
    terminal as \\xNN, not as a screen cleared or a line overwritten."""
    log = tmp_path / "access\x1b[2J\r.log"
    log.write_text("not a log line\nnor this\n")
    code, _, err = cli("xml", str(log), "--listing-pattern", r"^/listing/(?P<id>[0-9]+)$", "--format", "combined")
    assert code == ExitCode.INPUT
    assert "\x1b" not in err and "\r" not in err
    assert "access\\x1b[2J\\x0d.log" in err


@pytest.mark.parametrize("command", ["xml", "run"])
def test_a_name_with_a_line_break_stays_on_its_message_line(cli, tmp_path: Path, command: str) -> None:
    """A file name may hold a line break: each message naming it is still one line (a log watcher reading
    stderr line by line, or a cron mail, sees the whole name), the break shown as \\x0a."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "access\nold.log").write_text("not a log line\nnor this\n")
    args = ["--dry-run", "--state", str(tmp_path / "s.db")] if command == "run" else []
    code, _, err = cli(command, str(logs / "access\nold.log"), *args,
                       "--listing-pattern", r"^/listing/(?P<id>[0-9]+)$", "--format", "combined")
    assert code == ExitCode.INPUT
    assert "access\\x0aold.log" in err
    assert all(line.startswith("logtrack: ") for line in err.splitlines()), err


def test_explain_shows_the_controls_a_decoded_field_holds_escaped(cli) -> None:
    """A JSON log's fields are shown decoded: an agent that holds ``\\u001b[2J`` (a client can send any bytes)
    would clear the terminal of whoever explains its line, and a ``\\n`` would start a line of its own. Each
    field stays on its one line, its controls (tabs and line breaks too) shown as \\xNN."""
    line = ('{"time":"2026-11-01T10:00:00-05:00","status":200,"request":"GET /listing/42 HTTP/1.1",'
            '"http_referer":"https://www.zillow.com/","http_user_agent":"Mozilla\\u001b[2J\\u0007\\t\\n\\r\\u009b x"}')
    code, out, err = cli("explain", line, "--listing-pattern", PATTERN)
    assert (code, err) == (0, "")
    text = out.decode()
    assert not any(c in text for c in "\x1b\x07\t\r\x9b")
    assert "user_agent: Mozilla\\x1b[2J\\x07\\x09\\x0a\\x0d\\x9b x" in text.splitlines()
    assert text.splitlines()[-1] == "verdict:    counted as a view of listing 42 on 2026-11-01"
