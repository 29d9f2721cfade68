"""Unattended runs: exactly-once ingest, the lock, rules, and uploads to the sandbox."""

from __future__ import annotations

import fcntl
import gzip
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from logtrack.errors import ExitCode
from logtrack.jobs.thaw import days_named
from logtrack.read import parts

import loggen
from conftest import sqlite_db, xml_counts
from procs import kill_mid_run, lines_read, signal_mid_run
from sites import KEY, TZ, Sandbox, counts_of, upload_config, write

LOGTRACK = [sys.executable, "-m", "logtrack"]


def test_twice_renamed_compressed_and_half_lines(cli, site, state_at: str, tmp_path: Path) -> None:
    logs, conf, gen = site
    state = state_at
    run = ("run", str(logs), "--config", str(conf), "--state", str(state), "--no-upload")
    lines = gen.lines
    log = logs / "access.log"
    # 1: a file that ends in the middle of a line
    write(log, lines[:1000], partial=lines[1000][:40])
    assert cli(*run)[0] == 0
    # 2: the same files again change nothing
    before = counts_of(state, cli)
    code, _, err = cli(*run)
    assert code == 0 and "nothing new" in err
    assert counts_of(state, cli) == before
    # 3: the half line is completed, more lines follow; then rename rotation
    write(log, [lines[1000][40:], *lines[1001:2000]])
    os.rename(log, logs / "access.log.1")
    write(logs / "access.log.1", lines[2000:2100])  # the server still writes to the renamed file
    write(log, lines[2100:3000])  # ... until it reopens
    assert cli(*run)[0] == 0
    # 4: delaycompress: .1 becomes .2.gz, access.log becomes .1
    with open(logs / "access.log.1", "rb") as src, gzip.open(logs / "access.log.2.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    os.unlink(logs / "access.log.1")
    os.rename(log, logs / "access.log.1")
    write(log, lines[3000:4000])
    assert cli(*run)[0] == 0
    # 5: copytruncate: the content is copied away, the file emptied and written again
    shutil.copyfile(log, logs / "access.log.1.tmp")
    os.rename(logs / "access.log.1", logs / "access.log.2")
    os.rename(logs / "access.log.1.tmp", logs / "access.log.1")
    with open(log, "r+b") as fh:
        fh.truncate(0)
    write(log, lines[4000:])
    assert cli(*run)[0] == 0
    assert cli(*run)[0] == 0
    assert counts_of(state, cli) == gen.expected



def test_a_file_name_not_utf8_is_no_bug(cli, state_at: str, tmp_path: Path) -> None:
    """A log whose name is not UTF-8 (a byte of Latin-1 in it) reached the state as Python's lone surrogate, which
    neither SQLite's text nor PostgreSQL's takes: the run stopped there with exit 1, and so did every run after it,
    the views of the files after it never counted. The state keeps the name as its bytes are shown."""
    logs = tmp_path / "logs"
    logs.mkdir()
    line = '203.0.113.7 - - [01/Nov/2026:10:{:02}:00 -0500] "GET /listing/42 HTTP/1.1" 200 5 "-" "Mozilla/5.0"\n'
    for minute, (name, views) in enumerate(((b"access\xff.log", 3), ("access-\u00e9t\u00e9.log".encode(), 2),
                                            (b"access.log", 1))):  # (each file its own lines: known by them)
        (logs / os.fsdecode(name)).write_text(line.format(minute) * views)
    run = ("run", str(logs), "--listing-pattern", r"^/listing/(?P<id>[0-9]+)$", "--state", state_at, "--no-upload")
    code, _, err = cli(*run)
    assert code == ExitCode.OK, err
    code, out, err = cli("export", "--state", state_at)
    assert code == ExitCode.OK, err
    assert xml_counts(out) == {("2026-11-01", "", "42"): 6}
    with open(logs / os.fsdecode(b"access\xff.log"), "a") as fh:
        fh.write(line.format(0))
    code, _, err = cli(*run)
    assert code == ExitCode.OK, err
    assert f": known (as {logs}/access\\xff.log), resumed at line 4; now at line 4\n" in err  # (its name in the state)
    assert xml_counts(cli("export", "--state", state_at)[1]) == {("2026-11-01", "", "42"): 7}


VIEW = re.compile(rb'"GET /listing/[0-9]+ HTTP/1\.1" 200 .*Mozilla/5\.0 \((?!.*[Bb]ot)')  # (a browser's view)


def _as_runtime_writes(runtime: str, lines: list[bytes], *, whole_at: tuple[int, ...] = (),
                       split_at: int | None = None) -> list[bytes]:
    """Access lines as a container runtime files them (Docker's daemon cannot hold a byte that is not UTF-8).

    Every 37th line is filed in two parts, as the runtime files a line
    longer than its buffer, with another stream's line between them now and
    then; but not across ``whole_at`` (where the test moves to another
    file), and with one part the last line before ``split_at`` (where a run
    stops reading): the first view from there on.
    """
    import json

    def filed(text: bytes, last: bool, stream: bytes = b"stdout") -> bytes:
        if runtime == "cri":
            return b"2026-11-30T05:39:06.1Z %s %s %s" % (stream, b"F" if last else b"P", text)
        return json.dumps({"log": text.decode() + ("\n" if last else ""), "stream": stream.decode(),
                           "time": "2026-11-30T05:39:06.1Z"}, separators=(",", ":")).encode()

    out: list[bytes] = []
    for i, line in enumerate(lines):
        if runtime == "docker" and not _utf8(line):
            continue
        # (its parts and a line between them are out[n:n + 3] at most: not across a change of file)
        first = split_at is not None and len(out) + 1 >= split_at and VIEW.search(line) is not None
        if first:
            split_at = None
        split = first or (i % 37 == 5 and not {len(out) + 1, len(out) + 2} & set(whole_at))
        if not split or len(line) < 2 or (runtime == "docker" and not _utf8(line[:len(line) // 2])):
            out.append(filed(line, True))
            continue
        out.append(filed(line[:len(line) // 2], False))
        if i % 2:
            out.append(filed(b"2026/11/30 05:39:06 [notice] 1#1: signal process started", True, b"stderr"))
        out.append(filed(line[len(line) // 2:], True))
    return out


def _utf8(line: bytes) -> bool:
    try:
        line.decode()
    except UnicodeDecodeError:
        return False
    return True


@pytest.mark.parametrize(("runtime", "current", "rotated"), [
    ("cri", "0.log", "0.log.20261130-053906"),  # the kubelet's names: it renames, then compresses
    ("docker", "abc123-json.log", "abc123-json.log.1"),  # Docker's (max-size, max-file, compress)
])
def test_a_container_log_rotated_by_its_runtime_counts_each_view_once(cli, site, tmp_path: Path, runtime: str,
                                                                     current: str, rotated: str) -> None:
    """The README's way for container logs: a glob over the current file and its rotated ones, each known by its
    content, read again and again as the runtime renames, writes on and compresses."""
    logs, conf, gen = site
    state = tmp_path / "state.db"
    # (some lines filed in parts: one split where the first run stops reading, none where the file changes)
    wrapped = _as_runtime_writes(runtime, gen.lines, whole_at=(2100, 4000), split_at=1980)
    stop = next(i for i, line in enumerate(wrapped) if i >= 1979 and parts.is_part(line)) + 1
    assert stop < 2090
    run = ("run", str(logs / f"{current}*"), "--config", str(conf), "--format", f"{runtime}:combined",
           "--state", str(state), "--no-upload")
    write(logs / current, wrapped[:stop])  # (its last line a part of a view's line, the rest written later)
    assert cli(*run)[0] == 0
    os.rename(logs / current, logs / rotated)
    write(logs / rotated, wrapped[stop:2100])  # the container's last lines before the runtime reopened
    write(logs / current, wrapped[2100:4000])
    assert cli(*run)[0] == 0
    with open(logs / rotated, "rb") as src, gzip.open(logs / f"{rotated}.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    os.unlink(logs / rotated)
    write(logs / current, wrapped[4000:])
    assert cli(*run)[0] == 0
    code, _, err = cli(*run)
    assert code == 0 and "nothing new" in err
    assert counts_of(state, cli) == gen.expected

@pytest.mark.parametrize("named", ["access.log", "access.lo[g]"], ids=["file", "glob"])
def test_a_log_named_by_its_file_is_followed_through_its_rotation(cli, site, tmp_path: Path, named: str) -> None:
    """``run /var/log/nginx/access.log`` (a file, not its directory) from cron, and logrotate between two runs:
    the lines written after the first run are in access.log.1 now. They count, as they do when the directory
    is named: the file's rotated copies come along (they were left unread, a loss every rotation). ``xml``
    reads the file named, alone."""
    logs, conf, gen = site
    state = tmp_path / "state.db"
    log = logs / "access.log"
    run = ("run", str(logs / named), "--config", str(conf), "--state", str(state), "--no-upload")
    write(log, gen.lines[:2000])
    assert cli(*run)[0] == 0
    write(log, gen.lines[2000:4000])  # after the run, before the rotation
    log.rename(logs / "access.log.1")  # logrotate: rename, create, the server reopens
    write(log, gen.lines[4000:])
    code, _, err = cli(*run)
    assert code == 0, err
    assert f"{logs}/access.log.1: " in err
    assert counts_of(state, cli) == gen.expected
    code, _, err = cli("xml", str(log), "--config", str(conf))
    assert code == 0, err
    assert "read 2,000 lines from 1 file" in err
    if named == "access.log":  # a run between logrotate's rename and its new file: the file named is its copies
        log.rename(logs / "access.log.0")
        code, _, err = cli(*run)
        assert code == 0 and "warning" not in err, err
        assert f"{logs}/access.log.0: nothing new" in err
        assert counts_of(state, cli) == gen.expected


def test_a_crash_hole_loses_only_the_lost_lines(cli, site, tmp_path: Path) -> None:
    """After a power cut the log holds NUL bytes where its unwritten blocks were,
    and the server, restarted, appends after them: every line around the hole
    counts once, whether it was read before the crash or after."""
    logs, conf, gen = site
    state = tmp_path / "state.db"
    run = ("run", str(logs), "--config", str(conf), "--state", str(state), "--no-upload")
    log = logs / "access.log"
    # The crash cut this line in its user agent: all it needs to count is there (formats take a last
    # field cut short), so it counts, as the view it logs was served.
    cut = b'203.0.113.9 - - [01/Nov/2026:10:00:00 -0600] "GET /listing/1234567 HTTP/1.1" 200 5 "-" "Mozil'
    write(log, gen.lines[:2000], partial=cut)
    assert cli(*run)[0] == 0
    with open(log, "ab") as fh:
        fh.write(b"\x00" * 6000)  # the lines between were lost with their blocks
    assert cli(*run)[0] == 0  # read up to the hole; nothing after it yet
    first = (b'198.51.100.23 - - [02/Nov/2026:06:00:00 -0600] "GET /listing/7654321 HTTP/1.1" 200 9 '
             b'"https://zillow.com/" "' + loggen.HUMAN_AGENTS[0].encode() + b'"')
    write(log, [first, *gen.lines[2000:]])  # restarted, the server appends
    expected = gen.expected + Counter({("2026-11-02", "Zillow", "7654321"): 1, ("2026-11-01", "", "1234567"): 1})
    code, _, err = cli(*run)
    assert code == 0, err
    assert cli(*run)[0] == 0
    assert counts_of(state, cli) == expected
    code, out, err = cli("xml", str(log), "--config", str(conf))
    assert code == 0, err
    assert xml_counts(out) == expected
    assert "1 NUL bytes (lines lost in a crash) (first: " in err


@pytest.mark.parametrize("older_state", [False, True], ids=["tail hash", "state without it"])
def test_a_file_cut_back_by_a_crash_counts_every_view_once(cli, site, tmp_path: Path, older_state: bool) -> None:
    """A filesystem can lose a file's last writes in a crash and cut it back to an earlier size; the
    restarted server then writes new lines where counted ones were. The lines lost were counted
    (they were read before the crash), and the new ones, all timed after the latest line read, are
    counted when the file is read again. A state made before tail hashes were kept sees the cut by
    the line end that is no longer there."""
    logs, conf, _ = site
    before = loggen.generate(41, 3000, "combined", "nginx", [-6, -5, 0], TZ, loggen.START, 2, chronological=True)
    after = loggen.generate(42, 2000, "combined", "nginx", [-6, 0], TZ, loggen.START + timedelta(days=3), 1,
                            chronological=True)
    state = tmp_path / "state.db"
    run = ("run", str(logs), "--config", str(conf), "--state", str(state), "--no-upload")
    log = logs / "access.log"
    write(log, before.lines)
    assert cli(*run)[0] == 0
    if older_state:
        with sqlite_db(state) as db:
            db.execute("UPDATE files SET tail_hash = NULL")
    with open(log, "r+b") as fh:
        fh.truncate(log.stat().st_size - 5000 - 37)  # back into the middle of a line
    write(log, after.lines)
    code, _, err = cli(*run)
    assert code == 0, err
    assert "cut back below the position read (a crash lost its last writes?): read again from line 1" in err
    assert cli(*run)[0] == 0
    assert counts_of(state, cli) == before.expected + after.expected


def test_a_cut_back_that_leaves_a_line_end_in_place_is_seen(cli, site, tmp_path: Path) -> None:
    """The crash took the last line, and the server's first line after it is just as long: a line
    still ends where the last run stopped, and only the bytes before it tell the change."""
    logs, conf, _ = site
    before = loggen.generate(41, 500, "combined", "nginx", [-6], TZ, loggen.START, 1, chronological=True)
    state = tmp_path / "state.db"
    run = ("run", str(logs), "--config", str(conf), "--state", str(state), "--no-upload")
    log = logs / "access.log"
    write(log, before.lines)
    assert cli(*run)[0] == 0
    last = before.lines[-1]
    new = (b'198.51.100.23 - - [05/Nov/2026:06:00:00 -0600] "GET /listing/7654321 HTTP/1.1" 200 9 '
           b'"https://zillow.com/" "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/132.0')
    assert len(new) < len(last)
    new += b" " * (len(last) - len(new) - 1) + b'"'
    with open(log, "r+b") as fh:
        fh.truncate(log.stat().st_size - len(last) - 1)
    write(log, [new])
    code, _, err = cli(*run)
    assert code == 0, err
    assert "read again from line 1" in err
    assert counts_of(state, cli) == before.expected + Counter({("2026-11-05", "Zillow", "7654321"): 1})


def _recounted(state: Path | str) -> int:
    """Lines committed of a file being read again (0 before its first commit)."""
    try:
        with sqlite_db(f"file:{state}?mode=ro", uri=True, timeout=1) as db:
            row = db.execute("SELECT lines FROM files WHERE recount_since IS NOT NULL").fetchone()
    except sqlite3.Error:
        return 0
    return int(row[0]) if row else 0


def test_killed_while_reading_a_cut_back_file_again(site, tmp_path: Path, cli) -> None:
    logs, conf, _ = site
    before = loggen.generate(33, 160_000, "combined", "apache", [-6, 0], TZ, loggen.START, 2, chronological=True)
    after = loggen.generate(34, 20_000, "combined", "apache", [-6, 0], TZ, loggen.START + timedelta(days=3), 1,
                            chronological=True)
    log = logs / "access.log"
    write(log, before.lines)
    state = tmp_path / "state.db"
    cmd = [*LOGTRACK, "run", str(logs), "--config", str(conf), "--state", str(state), "--no-upload", "-q"]
    assert subprocess.run(cmd, env={**os.environ, "TZ": "UTC"}).returncode == 0
    with open(log, "r+b") as fh:
        fh.truncate(log.stat().st_size - 20_000 - 11)
    write(log, after.lines)
    killed = sum(kill_mid_run(cmd, state, delay, _recounted) for delay in (0.0, 0.05))
    assert killed == 2, "the runs finished before they could be killed; the test proves nothing"
    assert subprocess.run(cmd, env={**os.environ, "TZ": "UTC"}).returncode == 0
    assert counts_of(state, cli) == before.expected + after.expected


def test_sigkill_at_any_moment_loses_and_doubles_nothing(site, tmp_path: Path, cli, state_at: str) -> None:
    logs, conf, _ = site
    big = loggen.generate(33, 160_000, "combined", "apache", [-6, 0], TZ, loggen.START, 4, chronological=True)
    write(logs / "access.log", big.lines)
    state = state_at
    cmd = [*LOGTRACK, "run", str(logs), "--config", str(conf), "--state", str(state), "--no-upload", "-q"]
    # killed just after a commit, and inside the next batch: both must lose and double nothing
    killed = sum(kill_mid_run(cmd, state, delay) for delay in (0.0, 0.15, 0.0, 0.1))
    assert killed >= 2, "the runs finished before they could be killed; the test proves nothing"
    assert subprocess.run(cmd, env={**os.environ, "TZ": "UTC"}).returncode == 0
    assert counts_of(state, cli) == big.expected


@pytest.mark.parametrize(("sig", "said"), [(signal.SIGTERM, "logtrack: error: stopped by SIGTERM"),
                                          (signal.SIGINT, "logtrack: error: interrupted")])
def test_sigterm_or_ctrl_c_mid_run_says_so_and_loses_and_doubles_nothing(site, cli, state_at: str, sig: int,
                                                                          said: str) -> None:
    """systemd's stop, `timeout` or Ctrl-C: the run ends, says why with the shell's code (128 + the signal),
    and keeps what it committed, in SQLite and in PostgreSQL. SIGTERM ended it without a word, as its default
    does."""
    logs, conf, _ = site
    big = loggen.generate(36, 160_000, "combined", "nginx", [-6, 0], TZ, loggen.START, 4, chronological=True)
    write(logs / "access.log", big.lines)
    state = state_at
    cmd = [*LOGTRACK, "run", str(logs), "--config", str(conf), "--state", str(state), "--no-upload", "-q"]
    stopped = signal_mid_run(cmd, state, 0.0, sig=signal.Signals(sig))
    assert stopped is not None, "the run finished before the signal came; the test proves nothing"
    status, err = stopped
    assert (status, err.strip()) == (128 + sig, said)
    assert 0 < sum(counts_of(state, cli).values()) < sum(big.expected.values())  # it stopped part way
    assert subprocess.run(cmd, env={**os.environ, "TZ": "UTC"}).returncode == 0
    assert counts_of(state, cli) == big.expected


def test_sigterm_mid_dry_run_leaves_no_copy_of_the_state(site, tmp_path: Path, cli) -> None:
    """A dry run counts into a copy of the state in the temporary directory, as large as the state: stopped by
    SIGTERM, it removes the copy. Left to SIGTERM's default, each stopped dry run left one behind."""
    logs, conf, _ = site
    big = loggen.generate(37, 160_000, "combined", "nginx", [-6, 0], TZ, loggen.START, 4, chronological=True)
    write(logs / "access.log", big.lines)
    state, scratch = tmp_path / "state.db", tmp_path / "scratch"
    scratch.mkdir()
    cmd = [*LOGTRACK, "run", str(logs), "--config", str(conf), "--state", str(state), "--dry-run", "-q"]

    def copied(_: Path | str) -> int:
        return sum(lines_read(copy) for copy in scratch.glob("logtrack-dry-*/state.db"))

    stopped = signal_mid_run(cmd, state, 0.0, copied, signal.SIGTERM, env={"TMPDIR": str(scratch)})
    assert stopped is not None, "the dry run finished before the signal came; the test proves nothing"
    assert (stopped[0], stopped[1].strip()) == (128 + signal.SIGTERM, "logtrack: error: stopped by SIGTERM")
    assert list(scratch.iterdir()) == []
    assert not state.exists()  # (a dry run never makes the state it would copy)


def test_sigkill_over_many_small_files_loses_and_doubles_nothing(site, tmp_path: Path, cli, state_at: str) -> None:
    """Files matched ahead of their reading, counted several to a batch, commits of several files written in
    one transaction: a kill anywhere leaves each file at one of its commits. (Enough small files that a run
    is still at work when the kill comes, however many are counted together: some eight batches of them.)"""
    logs, conf, _ = site
    gen = loggen.generate(35, 30_000, "combined", "nginx", [-6, -5, 0], TZ, loggen.START, 4, damaged_every=151,
                          chronological=True)
    for n, start in enumerate(range(0, len(gen.lines), 50)):
        write(logs / f"access-{n:03d}.log", gen.lines[start:start + 50])
    state = state_at
    cmd = [*LOGTRACK, "run", str(logs), "--config", str(conf), "--state", str(state), "--no-upload", "-q"]
    killed = sum(kill_mid_run(cmd, state, delay) for delay in (0.0, 0.05, 0.0, 0.1, 0.02))
    assert killed >= 2, "the runs finished before they could be killed; the test proves nothing"
    assert subprocess.run(cmd, env={**os.environ, "TZ": "UTC"}).returncode == 0
    assert counts_of(state, cli) == gen.expected


def test_lock_keeps_a_second_run_out(cli, site, tmp_path: Path) -> None:
    logs, conf, gen = site
    write(logs / "access.log", gen.lines[:100])
    state = tmp_path / "state.db"
    assert cli("run", str(logs), "-c", str(conf), "--state", str(state), "--no-upload")[0] == 0
    with open(tmp_path / "state.db.lock", "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        code, _, err = cli("run", str(logs), "-c", str(conf), "--state", str(state), "--no-upload",
                           "--lock-wait", "0.3")
    assert code == ExitCode.STATE
    assert err.splitlines()[-1] == (
        f"logtrack: error: another logtrack run holds {state}.lock (waited 0 s); let it finish "
        "(a cron run and the logrotate hook overlapped), or raise --lock-wait"
    )


def test_changed_rules_are_refused_then_rebuilt(cli, site, state_at: str, tmp_path: Path) -> None:
    logs, conf, gen = site
    write(logs / "access.log", gen.lines[:3000])
    write(logs / "old_access.log", gen.lines[3000:])
    state = state_at
    assert cli("run", str(logs), "-c", str(conf), "--state", str(state), "--no-upload")[0] == 0
    assert counts_of(state, cli) == gen.expected
    changed = tmp_path / "changed.toml"
    changed.write_text(conf.read_text().replace('status = [200, 304]', 'status = [200]'))
    code, _, err = cli("run", str(logs), "-c", str(changed), "--state", str(state), "--no-upload")
    assert code == ExitCode.STATE
    assert "were made under other rules" in err and "logtrack rebuild" in err
    named = err[err.index("the counts in "):err.index(" were made")]
    code, _, err = cli("run", str(logs), "-c", str(changed), "--state", str(state), "--dry-run")
    assert code == ExitCode.STATE  # (the dry run works on a copy, and names the state it copied)
    assert f"{named} were made under other rules" in err
    (logs / "old_access.log").unlink()
    code, _, err = cli("rebuild", str(logs), "-c", str(changed), "--state", str(state))
    assert code == 0, err
    assert "can no longer be rebuilt" in err
    after = counts_of(state, cli)
    assert sum(after.values()) < sum(gen.expected.values())
    assert cli("run", str(logs), "-c", str(changed), "--state", str(state), "--no-upload")[0] == 0


@pytest.mark.parametrize("kind", ["plain, last written two minutes ago", "plain, written just now", "gzip"])
def test_a_last_line_left_without_its_newline_is_counted_once_it_cannot_be_finished(cli, site, tmp_path: Path,
                                                                                      kind: str) -> None:
    """Servers write a line whole: a last line without its newline is one being written only for a moment.
    ``run`` held it back for ever (``xml`` counts it), even in a compressed copy, which it then marked read to
    its end. It is counted once the file cannot grow (compressed) or was last written a minute ago; and a
    server that appends later starts its line where that one ended, read whole from there."""
    logs, conf, gen = site
    state = str(tmp_path / "s.db")
    probe = tmp_path / "probe.log"
    for at in range(len(gen.lines) - 1, -1, -1):  # a view as the last line, so that it shows
        probe.write_bytes(gen.lines[at] + b"\n")
        if b"<View>" in cli("xml", str(probe), "-c", str(conf), "-q")[1]:
            break
    lines = gen.lines[:at] + gen.lines[at + 1:] + [gen.lines[at]]
    text = b"\n".join(lines)  # (no newline after the last)
    log = logs / ("access.log.1.gz" if kind == "gzip" else "access.log.1")
    log.write_bytes(gzip.compress(text) if kind == "gzip" else text)
    if kind.endswith("two minutes ago"):
        os.utime(log, (time.time() - 120, time.time() - 120))
    run = ("run", str(logs), "-c", str(conf), "--state", state, "--no-upload")
    assert xml_counts(cli("xml", str(log), "-c", str(conf), "-q")[1]) == gen.expected  # (a preview counts it)
    assert cli(*run)[0] == 0
    if kind.endswith("just now"):  # held back: it may be a line being written
        held = counts_of(state, cli)
        assert held != gen.expected and sum(held.values()) == sum(gen.expected.values()) - 1
        os.utime(log, (time.time() - 120, time.time() - 120))
        assert cli(*run)[0] == 0
    assert counts_of(state, cli) == gen.expected
    code, _, err = cli(*run)
    assert code == 0 and "read 0 lines" in err and counts_of(state, cli) == gen.expected
    if kind != "gzip":  # the server writes again: its first line starts where the unfinished one ended
        late = loggen.generate(77, 300, "combined", "nginx", [-6], TZ, loggen.START, 2)
        write(log, late.lines)
        assert cli(*run)[0] == 0
        assert counts_of(state, cli) == gen.expected + late.expected


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(fail_first=2)
    yield box
    box.close()


def test_end_to_end_against_the_sandbox(cli, site, state_at: str, sandbox: Sandbox, tmp_path: Path, monkeypatch) -> None:
    logs, conf, gen = site
    write(logs / "access.log", gen.lines)
    state = state_at
    conf = upload_config(conf, sandbox.port)
    monkeypatch.setenv("LOGTRACK_API_KEY", KEY)
    code, out, err = cli("run", str(logs), "-c", str(conf), "--state", str(state), "--now")
    assert code == 0, err
    assert sandbox.state.requests > 2  # the first two got a 500 and were retried
    assert sandbox.views() == gen.expected
    assert KEY not in out.decode() + err
    code, out, _ = cli("status", "-c", str(conf), "--state", str(state))
    assert code == 0
    assert "days pending:   0\n" in out.decode()
    assert "last accepted:  " in out.decode() and "last attempt" not in out.decode()
    # late lines for a day already posted: the day goes again, with its full total
    late = loggen.generate(77, 300, "combined", "nginx", [-6], TZ, loggen.START, 2)
    write(logs / "access.log", late.lines)
    assert cli("run", str(logs), "-c", str(conf), "--state", str(state), "--now")[0] == 0
    assert sandbox.views() == gen.expected + late.expected


def test_a_supplier_renamed_after_its_days_went_up_never_counts_them_twice(cli, site, state_at: str,
                                                                          sandbox: Sandbox, monkeypatch) -> None:
    """flexmls keeps the last post for each (day, supplier) and no post can empty one: the days it holds
    "Zillow" for, posted again as "Zillow Group" after a rebuild, would carry those views twice there. They are
    said and left as flexmls has them; a day first posted after the change goes under the new name."""
    logs, conf, gen = site
    write(logs / "access.log", gen.lines)
    conf = upload_config(conf, sandbox.port)
    monkeypatch.setenv("LOGTRACK_API_KEY", KEY)
    run = ("run", str(logs), "--state", state_at, "--now")
    assert cli(*run, "-c", str(conf))[0] == 0
    assert sandbox.views() == gen.expected
    renamed = conf.with_name("renamed.toml")
    renamed.write_text(conf.read_text().replace('name = "Zillow"', 'name = "Zillow Group"'))
    code, _, err = cli("rebuild", str(logs), "-c", str(renamed), "--state", state_at)
    assert code == 0, err
    later = loggen.generate(78, 400, "combined", "nginx", [-6], TZ, loggen.START + timedelta(days=10), 2)
    write(logs / "access.log", later.lines)

    code, _, err = cli(*run, "-c", str(renamed))
    assert code == 0, err
    days = sorted({day for day, supplier, _ in gen.expected if supplier == "Zillow"})
    assert days
    for day in days:
        assert f"logtrack: warning: {day} is not posted again: flexmls holds views of 'Zillow' for it" in err
    assert sandbox.views() == gen.expected + Counter(
        {(d, "Zillow Group" if s == "Zillow" else s, listing): n for (d, s, listing), n in later.expected.items()})
    code, _, err = cli(*run, "-c", str(renamed))  # said once: the days stay as flexmls has them
    assert code == 0 and "not posted again" not in err, err


def test_logtracks_own_files_beside_the_logs_are_never_read_as_logs(cli, site) -> None:
    """A config and a SQLite state kept in the folder of logs, read with ``[logs] glob = "*"``: each run read
    the state (and its journal, its lock) as logs, "looks binary" three times over, exit 4; xml the config."""
    logs, conf, gen = site
    write(logs / "access.log", gen.lines)
    inside = logs / "logtrack.toml"
    inside.write_text(conf.read_text().replace("[logs]\n", '[logs]\nglob = "*"\n', 1) + '[state]\npath = "state.db"\n')
    assert 'glob = "*"' in inside.read_text()
    for command in (("run", "--no-upload"), ("run", "--no-upload"), ("run", "--dry-run"), ("rebuild",), ("xml",)):
        code, out, err = cli(command[0], str(logs), "-c", str(inside), *command[1:])
        assert code == 0, (command, err)
        assert "warning" not in err and "state.db" not in err and "logtrack.toml:" not in err, (command, err)
    assert xml_counts(out) == gen.expected
    assert counts_of(logs / "state.db", cli) == gen.expected


@pytest.mark.parametrize("named", [["{logs}", "{logs}/../lgos"], [], ["{logs}/../empty"]],
                         ids=["a path mistyped", "none", "an empty directory"])
def test_a_rebuild_that_cannot_read_every_log_named_changes_nothing(cli, site, state_at: str,
                                                                    named: list[str]) -> None:
    """A rebuild forgets every count and recounts from the logs it reads: with a path mistyped beside the right
    one, or none named, it froze every day (never posted again) and the state held no count, exit 0."""
    logs, conf, gen = site
    write(logs / "access.log", gen.lines)
    (logs.parent / "empty").mkdir()
    assert cli("run", str(logs), "-c", str(conf), "--state", state_at, "--no-upload")[0] == 0
    before = counts_of(state_at, cli)
    assert sum(before.values()) > 0
    paths = [path.format(logs=logs) for path in named]
    code, _, err = cli("rebuild", *paths, "-c", str(conf), "--state", state_at)
    assert code == ExitCode.INPUT, err
    assert "logtrack: error: rebuild stopped before changing the state: " in err
    assert "the days of a log it does not read are frozen, their counts gone" in err
    assert counts_of(state_at, cli) == before
    code, out, _ = cli("status", "-c", str(conf), "--state", state_at)
    assert "days frozen" not in out.decode()
    assert cli("rebuild", str(logs), "-c", str(conf), "--state", state_at)[0] == 0  # named right, it rebuilds
    assert counts_of(state_at, cli) == before


def test_frozen_days_are_posted_again_once_thawed(cli, site, state_at: str, sandbox: Sandbox, monkeypatch) -> None:
    """A rebuild without some logs freezes their days (flexmls keeps what it was sent), and a rebuild once they
    are back does not thaw them (nothing tells that every log is back): ``state thaw``, given the days as
    ``status`` lists them, lets the next run post them from the counts the state holds."""
    logs, conf, gen = site
    write(logs / "access.log", gen.lines[:3000])
    write(logs / "old_access.log", gen.lines[3000:])
    conf = upload_config(conf, sandbox.port)
    monkeypatch.setenv("LOGTRACK_API_KEY", KEY)
    run = ("run", str(logs), "--state", state_at, "--now")
    assert cli(*run, "-c", str(conf))[0] == 0
    assert sandbox.views() == gen.expected
    more = conf.with_name("more.toml")  # HEAD requests count too now: more views, the same suppliers
    more.write_text(conf.read_text().replace('methods = ["GET"]', 'methods = ["GET", "HEAD"]'))
    assert more.read_text() != conf.read_text()
    aside = logs.parent / "old_access.log"
    (logs / "old_access.log").rename(aside)
    code, _, err = cli("rebuild", str(logs), "-c", str(more), "--state", state_at)
    assert code == 0 and "can no longer be rebuilt" in err, err
    aside.rename(logs / "old_access.log")  # the logs are back
    code, _, err = cli("rebuild", str(logs), "-c", str(more), "--state", state_at)
    assert code == 0, err
    assert cli(*run, "-c", str(more))[0] == 0
    code, out, _ = cli("status", "-c", str(more), "--state", state_at)
    frozen_line = next(line for line in out.decode().splitlines() if line.startswith("days frozen:"))
    listed = frozen_line.removeprefix("days frozen:").split(" (not posted again")[0].strip()
    assert listed and "state thaw" in frozen_line
    counts = counts_of(state_at, cli)  # every log counted under the new rules
    held = sandbox.views()
    assert held != gen.expected  # the days not frozen went up under the new rules,
    assert held != counts  # the frozen ones did not
    assert {d for d, _, _ in counts - held} <= set(days_named(listed.replace(",", "").split()))

    code, _, err = cli("state", "thaw", *listed.replace(",", "").split(), "2099-01-01", "-c", str(more),
                       "--state", state_at)
    assert code == 0, err
    assert "logtrack: warning: 2099-01-01: not frozen, left as they are" in err
    assert f"logtrack: thawed {listed}: the next run in the posting window posts them" in err
    code, out, _ = cli("status", "-c", str(more), "--state", state_at)
    assert "days frozen:" not in out.decode()
    assert cli(*run, "-c", str(more))[0] == 0
    after = sandbox.views()
    assert after == counts and sum(after.values()) > sum(held.values())
    code, _, err = cli("state", "thaw", "2026-01-01", "-c", str(more), "--state", state_at)
    assert code == ExitCode.USAGE and "2026-01-01: not frozen (frozen days: none)" in err, err


def test_wrong_key_exits_and_never_shows_the_key(cli, site, sandbox: Sandbox, tmp_path: Path, monkeypatch) -> None:
    logs, conf, gen = site
    write(logs / "access.log", gen.lines[:500])
    conf = upload_config(conf, sandbox.port)
    wrong = "WRONG-key-1234567"
    monkeypatch.setenv("LOGTRACK_API_KEY", wrong)
    sandbox.state.fail_first = 0
    code, out, err = cli("run", str(logs), "-c", str(conf), "--state", str(tmp_path / "s.db"), "--now")
    assert code == ExitCode.AUTH
    assert "flexmls refused the API key (403" in err
    assert wrong not in out.decode() + err
    assert sandbox.views() == Counter()
    assert wrong not in (tmp_path / "s.db").read_bytes().decode("latin-1")


def test_outside_the_window_nothing_is_posted(cli, site, sandbox: Sandbox, tmp_path: Path, monkeypatch) -> None:
    logs, conf, gen = site
    write(logs / "access.log", gen.lines[:500])
    now = datetime.now(ZoneInfo("America/Chicago"))
    window = f"{(now + timedelta(hours=2)):%H:00}-{(now + timedelta(hours=3)):%H:00}"
    conf = upload_config(conf, sandbox.port, window)
    monkeypatch.setenv("LOGTRACK_API_KEY", KEY)
    code, _, err = cli("run", str(logs), "-c", str(conf), "--state", str(tmp_path / "s.db"))
    assert code == 0, err
    assert "outside the posting window" in err
    assert sandbox.state.requests == 0


def test_dry_run_changes_nothing(cli, site, sandbox: Sandbox, tmp_path: Path, monkeypatch) -> None:
    logs, conf, gen = site
    write(logs / "access.log", gen.lines)
    conf = upload_config(conf, sandbox.port)
    state = tmp_path / "s.db"
    monkeypatch.setenv("LOGTRACK_API_KEY", KEY)
    code, out, err = cli("run", str(logs), "-c", str(conf), "--state", str(state), "--dry-run", "--now")
    assert code == 0, err
    docs = out.split(b'<?xml version="1.0" encoding="UTF-8"?>\n')[1:]
    got: Counter[tuple[str, str, str]] = Counter()
    for doc in docs:
        got += xml_counts(b'<?xml version="1.0" encoding="UTF-8"?>\n' + doc)
    assert got == gen.expected
    assert sandbox.state.requests == 0
    assert not state.exists()


@contextmanager
def scripted(*answers: tuple[int, dict[str, str], bytes]) -> Iterator[tuple[int, list[int]]]:
    """A stub endpoint answering posts from a script (the last answer repeats): (port, statuses sent)."""
    sent: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            status, headers, body = answers[min(len(sent), len(answers) - 1)]
            sent.append(status)
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], sent
    finally:
        server.shutdown()
        server.server_close()


def test_a_refusal_repeated_for_every_day_is_said_once(cli, site, tmp_path: Path, monkeypatch) -> None:
    """A proxy in front of flexmls answering 401 to every post: the reason once, with how many days it holds."""
    logs, conf, gen = site
    write(logs / "access.log", gen.lines)
    with scripted((401, {}, b"Unauthorized\n")) as (port, sent):
        conf = upload_config(conf, port, window="00:00-23:59")
        monkeypatch.setenv("LOGTRACK_API_KEY", KEY)
        code, _, err = cli("run", str(logs), "-c", str(conf), "--state", str(tmp_path / "s.db"), "--now")
    days = len(sent)
    assert code == ExitCode.UPLOAD and days > 1
    last = err.splitlines()[-1]
    assert last.startswith(f"logtrack: error: {days} day(s) could not be posted: flexmls answered 401 at ")
    assert last.count("flexmls answered 401") == 1 and f"Unauthorized ({days} days)" in last
    assert KEY not in err


def test_refused_document_is_saved_and_stays_pending(cli, site, tmp_path: Path, monkeypatch) -> None:
    logs, conf, gen = site
    write(logs / "access.log", gen.lines[:500])
    with scripted((400, {}, b"Bad Request: ViewCount must be positive\n")) as (port, _):
        conf = upload_config(conf, port)
        monkeypatch.setenv("LOGTRACK_API_KEY", KEY)
        state = tmp_path / "s.db"
        code, _, err = cli("run", str(logs), "-c", str(conf), "--state", str(state), "--now")
    assert code == ExitCode.UPLOAD
    assert "flexmls refused the document for" in err and "(400)" in err
    saved = sorted((tmp_path / "rejected").iterdir())
    assert saved and any(p.suffix == ".xml" for p in saved)
    assert "ViewCount must be positive" in next(p for p in saved if p.suffix == ".txt").read_text()
    _, out, _ = cli("status", "-c", str(conf), "--state", str(state))
    assert "days pending:   0" not in out.decode()


def test_tracker_tag(cli, monkeypatch) -> None:
    code, out, _ = cli("tracker-tag", "20231234")
    assert code == 0
    assert out.decode() == (
        '<img src="https://retsgw.flexmls.com/tracking/v1/listings/views/listing/20231234/YOUR_API_KEY/'
        'tracker.gif" width="1" height="1" alt="" style="position:absolute;left:-9999px">\n'
    )
    monkeypatch.setenv("LOGTRACK_API_KEY", KEY)
    assert f"/20231234/{KEY}/tracker.gif" in cli("tracker-tag", "20231234", "--reveal-key")[1].decode()


def test_key_file_readable_by_others_is_refused(cli, site, tmp_path: Path, monkeypatch) -> None:
    logs, conf, gen = site
    write(logs / "access.log", gen.lines[:200])
    key_file = tmp_path / "key"
    key_file.write_text(KEY)
    key_file.chmod(0o644)
    conf.write_text(conf.read_text() + f'\n[upload]\napi_key_file = "{key_file}"\n')
    monkeypatch.delenv("LOGTRACK_API_KEY", raising=False)
    code, _, err = cli("run", str(logs), "-c", str(conf), "--state", str(tmp_path / "s.db"), "--now")
    assert code == ExitCode.CONFIG
    assert f"[upload] api_key_file {key_file} can be read by others (mode 644); chmod 600 {key_file}" in err


def test_429_is_retried_after_its_retry_after(cli, site, tmp_path: Path, monkeypatch) -> None:
    logs, conf, gen = site
    write(logs / "access.log", gen.lines[:300])
    with scripted((429, {"Retry-After": "1"}, b""), (200, {}, b"")) as (port, sent):
        conf = upload_config(conf, port)
        monkeypatch.setenv("LOGTRACK_API_KEY", KEY)
        started = time.monotonic()
        code, _, err = cli("run", str(logs), "-c", str(conf), "--state", str(tmp_path / "s.db"), "--now")
        took = time.monotonic() - started
    assert code == 0, err
    assert sent[:2] == [429, 200]
    assert took >= 1.0  # it waited as the server asked


def test_unreachable_endpoint_keeps_days_and_the_key_secret(cli, site, tmp_path: Path, monkeypatch) -> None:
    logs, conf, gen = site
    write(logs / "access.log", gen.lines[:300])
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    conf = upload_config(conf, port)
    conf.write_text(conf.read_text() + "retries = 1\nbackoff = 0.1\n")
    monkeypatch.setenv("LOGTRACK_API_KEY", KEY)
    code, out, err = cli("run", str(logs), "-c", str(conf), "--state", str(tmp_path / "s.db"), "--now")
    assert code == ExitCode.UPLOAD
    assert "cannot reach flexmls at http://127.0.0.1:" in err and "[api-key]" in err
    assert KEY not in out.decode() + err
    _, out, _ = cli("status", "-c", str(conf), "--state", str(tmp_path / "s.db"))
    text = out.decode()
    assert "days pending:   0" not in text
    assert KEY not in text
    assert "last accepted:  never\nlast attempt:   " in text and "failed" in text
    assert "warning" not in text  # the state is new: nothing was due for long


def test_sandbox_endpoints() -> None:
    box = Sandbox()
    base = f"http://127.0.0.1:{box.port}/tracking/v1/listings/views"

    def call(method: str, url: str, body: bytes | None = None) -> tuple[int, bytes]:
        req = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/xml"})
        try:
            with urllib.request.urlopen(req) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    try:
        assert call("GET", f"{base}/listing/123/{KEY}/tracker.gif")[0] == 200
        assert call("GET", f"{base}/listing/123/{KEY}/tracker.gif")[1].startswith(b"GIF89a")
        assert call("GET", f"{base}/listing/123/nope/tracker.gif")[0] == 403
        doc = (b'<?xml version="1.0" encoding="UTF-8"?><Views><View><ViewDate>2026-11-01</ViewDate>'
               b"<ViewSupplierName>Z</ViewSupplierName><Listings><Listing><ListingId>1</ListingId>"
               b"<ViewCount>3</ViewCount></Listing></Listings></View></Views>")
        assert call("POST", f"{base}/nope/", doc)[0] == 403
        code, body = call("POST", f"{base}/{KEY}/", doc.replace(b">3<", b">0<"))
        assert code == 400 and b"ViewCount" in body
        xxe = (b'<?xml version="1.0"?><!DOCTYPE v [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
               + doc.split(b"?>", 1)[1].replace(b">Z<", b">&x;<"))
        code, body = call("POST", f"{base}/{KEY}/", xxe)
        assert b"root:" not in body
        assert call("POST", f"{base}/{KEY}/", doc)[0] == 200
        assert call("POST", f"{base}/{KEY}/", doc.replace(b">3<", b">5<"))[0] == 200  # replaces, not adds
        assert box.views() == {("2026-11-01", "Z", "1"): 5}
        big = urllib.request.Request(f"{base}/{KEY}/", data=b"x", method="POST",
                                     headers={"Content-Length": str(64 * 1024 * 1024)})
        try:
            urllib.request.urlopen(big)
            status = 200
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, ConnectionError):
            status = 413  # the server answered and closed before the body was sent
        assert status == 413
    finally:
        box.close()


def test_run_refuses_a_bad_pattern_before_reading(cli, site, tmp_path: Path) -> None:
    logs, conf, gen = site
    write(logs / "access.log", gen.lines[:100])
    bad = tmp_path / "bad.toml"
    bad.write_text(conf.read_text().replace("(?P<id>[0-9]{6,10})(?:/[0-9]", "(?P<id>[0-9]{6,10})(?:/[0-9", 1))
    state = tmp_path / "s.db"
    code, _, err = cli("run", str(logs), "-c", str(bad), "--state", str(state), "--no-upload")
    assert code == ExitCode.CONFIG
    assert f"logtrack: error: {bad}: [listings] patterns[0]: invalid regular expression" in err
    with sqlite_db(state) as db:
        assert db.execute("SELECT COUNT(*) FROM files").fetchone() == (0,)


def test_each_agent_is_asked_about_once_a_run(cli, site, tmp_path: Path, monkeypatch) -> None:
    from logtrack.count.bots import BotDetector
    from logtrack.read import sources

    asked: list[str] = []
    threads: set[str] = set()
    original = BotDetector.verdicts

    def counting(self: BotDetector, user_agents: list[str]) -> dict[str, bool]:
        asked.extend(user_agents)
        threads.add(threading.current_thread().name)
        return original(self, user_agents)

    monkeypatch.setattr(BotDetector, "verdicts", counting)
    monkeypatch.setattr(sources, "BATCH_BYTES", 16 * 1024)  # many batches, the same agents in each
    logs, conf, gen = site
    write(logs / "access.log", gen.lines)
    state = tmp_path / "s.db"
    assert cli("run", str(logs), "-c", str(conf), "--state", str(state), "--no-upload")[0] == 0
    assert asked and len(set(asked)) == len(asked)  # each agent asked once, however many batches hold it
    # on one thread, whichever worker counts the batch: Polars compiles the crawler regex once per thread
    assert len(threads) == 1 and threads.pop().startswith("logtrack-bots")
    assert counts_of(state, cli) == gen.expected
