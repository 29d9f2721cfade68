"""The real logrotate over a growing log: every view counted exactly once.

A writer keeps its file descriptor open as nginx does (it goes on writing to
the renamed file until it reopens), logrotate (Debian's binary, run with
its own state file) rotates by rename with delaycompress and later by
copytruncate, a run is SIGKILLed in the middle, and a line is half written
when a run looks. Afterwards `logtrack export` must equal the ground truth.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from logtrack.read.sources import BATCH_ENV

import loggen
from conftest import xml_counts
from procs import kill_mid_run

LOGROTATE = shutil.which("logrotate") or ("/usr/sbin/logrotate" if os.path.exists("/usr/sbin/logrotate") else None)
TZ = "America/Chicago"


class Writer:
    """Appends lines through one open descriptor, like a web server."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh = open(path, "ab", buffering=0)  # noqa: SIM115

    def write(self, data: bytes) -> None:
        self.fh.write(data)

    def lines(self, lines: list[bytes]) -> None:
        self.write(b"".join(line + b"\n" for line in lines))

    def reopen(self) -> None:  # what the postrotate signal makes nginx do
        self.fh.close()
        self.fh = open(self.path, "ab", buffering=0)  # noqa: SIM115

    def close(self) -> None:
        self.fh.close()


def rotate(conf: Path, state: Path) -> None:
    assert LOGROTATE
    result = subprocess.run([LOGROTATE, "-f", "-s", str(state), str(conf)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def site(tmp_path: Path) -> tuple[Path, Path, Path, Path, Path]:
    """A log directory with its access.log, logtrack's config and state, and logrotate's own state file."""
    logs = tmp_path / "logs"
    logs.mkdir()
    conf = tmp_path / "logtrack.toml"
    conf.write_text(loggen.config_toml("combined", TZ))
    return logs, logs / "access.log", conf, tmp_path / "state.db", tmp_path / "logrotate.status"


@pytest.mark.skipif(LOGROTATE is None, reason="logrotate is not installed (apt-get install logrotate)")
def test_logrotate_rename_delaycompress_sigkill_copytruncate(tmp_path: Path, cli) -> None:
    logs, log, conf, state, rotate_state = site(tmp_path)
    rename_conf = tmp_path / "rename.conf"
    rename_conf.write_text(f"{log} {{\n  rotate 10\n  compress\n  delaycompress\n  missingok\n  create 0644\n}}\n")
    copy_conf = tmp_path / "copytruncate.conf"
    copy_conf.write_text(f"{log} {{\n  rotate 10\n  compress\n  delaycompress\n  missingok\n  copytruncate\n}}\n")

    gen = loggen.generate(8, 140_000, "combined", "nginx", [-6, -5], TZ, loggen.START, 5,
                          damaged_every=997, chronological=True)
    lines = gen.lines
    run = ("run", str(logs), "--config", str(conf), "--state", str(state), "--no-upload", "-q")

    writer = Writer(log)
    # a run sees a half-written line: it waits for the rest
    writer.lines(lines[:1000])
    writer.write(lines[1000][:30])
    assert cli(*run)[0] == 0
    writer.write(lines[1000][30:] + b"\n")
    writer.lines(lines[1001:2000])
    assert cli(*run)[0] == 0
    assert cli(*run)[0] == 0  # again: nothing new

    # rename rotation: the server writes on into access.log.1 until it reopens
    rotate(rename_conf, rotate_state)
    assert (logs / "access.log.1").exists()
    writer.lines(lines[2000:2500])
    writer.reopen()
    writer.lines(lines[2500:4000])
    assert cli(*run)[0] == 0

    # a big write, and a run killed in the middle of it
    writer.lines(lines[4000:120_000])
    cmd = [sys.executable, "-m", "logtrack", *run]
    assert kill_mid_run(cmd, state, 0.05), "the run ended before it could be killed; the test proves nothing"

    # delaycompress: .1 becomes .2.gz, access.log becomes .1
    rotate(rename_conf, rotate_state)
    assert (logs / "access.log.2.gz").exists()
    writer.reopen()
    writer.lines(lines[120_000:125_000])
    assert cli(*run)[0] == 0

    # copytruncate: copied away, emptied in place; the writer never reopens
    writer.lines(lines[125_000:130_000])
    rotate(copy_conf, rotate_state)
    writer.lines(lines[130_000:139_999])
    writer.write(lines[139_999][:10])
    assert cli(*run)[0] == 0
    writer.write(lines[139_999][10:] + b"\n")
    writer.close()
    assert cli(*run)[0] == 0
    assert cli(*run)[0] == 0

    code, out, err = cli("export", "--state", str(state))
    assert code == 0, err
    assert xml_counts(out) == gen.expected
    assert sorted(p.name for p in logs.iterdir()) == [
        "access.log", "access.log.1", "access.log.2.gz", "access.log.3.gz"]


# The other ways logrotate is set up (the test above: rename with delaycompress, copytruncate with it), each under
# a seeded run of random steps: writes (some ending inside a line), rotations, runs, runs SIGKILLed between the
# commits of two files, and rotations while a run is reading (killed at that random moment, or not).
ROTATIONS = {
    # compressed at once: the server reopens in postrotate, before logrotate compresses what it renamed
    "compress": "compress\n  create 0644",
    # dated names, one a second (logrotate's -%s), the newest kept plain
    "dateext": "compress\n  delaycompress\n  dateext\n  dateformat -%Y%m%d-%s\n  create 0644",
    # copied and compressed at once, emptied in place; the server never reopens
    "copytruncate": "compress\n  copytruncate",
    # renamed and never compressed
    "plain": "create 0644",
    # numbered and dated copies that keep the log's extension (access.1.log, access-20261101-1793548800.log.gz),
    # the run naming the log by its file, not its directory: its copies are found by their names
    "extension": "compress\n  delaycompress\n  extension .log\n  create 0644",
    "extension-dateext": "compress\n  delaycompress\n  extension .log\n  dateext\n  dateformat -%Y%m%d-%s\n  create 0644",
}


@pytest.mark.skipif(LOGROTATE is None, reason="logrotate is not installed (apt-get install logrotate)")
@pytest.mark.parametrize(("kind", "seed"), [("compress", 3), ("dateext", 4), ("copytruncate", 5), ("plain", 6),
                                          ("extension", 7), ("extension-dateext", 8)])
def test_random_rotations_runs_and_kills_count_each_view_once(tmp_path: Path, cli, kind: str, seed: int) -> None:
    rng = random.Random(seed)
    logs, log, conf, state, rotate_state = site(tmp_path)
    rotate_conf = tmp_path / "rotate.conf"
    rotate_conf.write_text(f"{log} {{\n  rotate 100\n  missingok\n  {ROTATIONS[kind]}\n}}\n")
    reopens = "create" in ROTATIONS[kind]
    lines = loggen.generate(seed, 100_000, "combined", "nginx", [-6, -5], TZ, loggen.START, 3,
                            damaged_every=997, chronological=True)
    run = ("run", str(log if "extension" in kind else logs), "--config", str(conf), "--state", str(state),
           "--no-upload", "-q")
    cmd = [sys.executable, "-m", "logtrack", *run]
    env = {**os.environ, "TZ": "UTC", BATCH_ENV: "1"}
    writer = Writer(log)
    written, rest = 0, b""  # lines written whole; the rest of one written in part
    kills = rotations = 0

    def write(n: int, *, cut: bool = False) -> None:
        nonlocal written, rest
        writer.write(rest + b"".join(line + b"\n" for line in lines.lines[written:written + n]))
        written, rest = min(written + n, len(lines.lines)), b""
        if cut and written < len(lines.lines):  # a line half written when the next step comes
            at = rng.randrange(1, len(lines.lines[written]))
            writer.write(lines.lines[written][:at])
            rest, written = lines.lines[written][at:] + b"\n", written + 1

    def rotate_now() -> None:
        nonlocal rest, rotations
        writer.write(rest)  # a server writes whole lines: none is half written when logrotate comes
        rest = b""
        if "dateext" in kind:
            time.sleep(1.05)  # (a name a second)
        rotate(rotate_conf, rotate_state)
        rotations += 1
        if reopens:
            writer.reopen()  # postrotate's signal

    for _ in range(24):
        step = rng.choices(["write", "rotate", "run", "kill", "race"], [4, 2, 2, 4, 2])[0]
        if step == "write":
            write(rng.choice([1, 50, 500, 2000]), cut=rng.random() < 0.3)
        elif step == "rotate":
            rotate_now()
        elif step == "run":
            code, _, err = cli(*run)
            assert code == 0, err
        elif step == "kill":  # a run SIGKILLed just after it committed one file, while it reads the next
            write(rng.choice([100, 1000]))
            rotate_now()
            write(8000)
            kills += kill_mid_run(cmd, state, rng.uniform(0.0, 0.01))
        else:  # a run reading while logrotate rotates and the server writes on, SIGKILLed then or left to end
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(rng.uniform(0.0, 0.5))
            rotate_now()
            write(rng.choice([10, 1000]))
            if rng.random() < 0.5 and proc.poll() is None:
                proc.kill()
            _, err = proc.communicate()
            assert proc.returncode in (0, -signal.SIGKILL), err
    write(len(lines.lines))
    writer.close()
    for _ in range(2):
        code, _, err = cli(*run)
        assert code == 0, err

    code, out, err = cli("export", "--state", str(state))
    assert code == 0, err
    assert xml_counts(out) == lines.expected
    assert rotations and kills, "no rotation, or every run ended before it could be killed: the test proved little"


SAME_SECOND, NEXT_SECOND = "01/Nov/2026:10:00:00 -0500", "01/Nov/2026:10:00:01 -0500"


def views(first: int, n: int, when: str = SAME_SECOND) -> list[bytes]:
    """Listing views, all in one second: the lines a run read and those written after, alike in time."""
    return [f'203.0.113.{i % 250} - - [{when}] "GET /listing/{1000000 + i % 7} HTTP/1.1" 200 {i} "-" '
            f'"Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/132.0 {"x" * 80}"'.encode()
            for i in range(first, first + n)]


def assert_exported(cli, state: Path | str, lines: list[bytes]) -> None:
    """The state holds each of these views once, and nothing else."""
    code, out, err = cli("export", "--state", str(state))
    assert code == 0, err
    expected: Counter[tuple[str, str, str]] = Counter()
    for line in lines:
        expected[("2026-11-01", "", line.split(b"/listing/")[1].split(b" ")[0].decode())] += 1
    assert xml_counts(out) == expected


def test_a_file_renamed_while_a_run_reads_it_keeps_its_position(tmp_path: Path, cli, monkeypatch) -> None:
    """logrotate renames the log a run is reading, and the server's new log, longer by then, takes its name
    before the run commits: the run keeps what the file it read held before its position (a commit that read
    it under the name, from the new file, stored another file's bytes; the next run took the renamed log for
    one a crash cut back, read it again and skipped its new lines timed up to the last one counted)."""
    from logtrack.read import sources

    logs, log, conf, state, _ = site(tmp_path)
    writer = Writer(log)
    writer.lines(views(0, 12_000))  # 2.3 MB: three batches of 1 MiB (BATCH_ENV below)
    read = sources.batches
    rotated = []

    def rotated_after_the_first_batch(name: str, *args: object, **kwargs: object) -> Iterator[sources.Batch]:
        for n, batch in enumerate(read(name, *args, **kwargs)):  # type: ignore[arg-type]
            yield batch
            if n == 0 and name == str(log) and not rotated:  # logrotate, while the run reads on
                os.rename(log, logs / "access.log.1")
                new = Writer(log)
                new.lines(views(20_000, 13_000, NEXT_SECOND))  # longer than the old one
                new.close()
                rotated.append(name)

    monkeypatch.setenv(BATCH_ENV, "1")
    monkeypatch.setattr(sources, "batches", rotated_after_the_first_batch)
    run = ("run", str(logs), "--config", str(conf), "--state", str(state), "--no-upload", "-q")
    assert cli(*run)[0] == 0
    assert rotated
    writer.lines(views(12_000, 300))  # the server writes on into the renamed file until it reopens
    writer.close()
    code, _, err = cli(*run)
    assert code == 0, err
    assert_exported(cli, state, [*views(0, 12_300), *views(20_000, 13_000, NEXT_SECOND)])


def test_a_file_renamed_between_its_check_and_its_opening_is_read_under_its_new_name(tmp_path: Path, cli,
                                                                                     monkeypatch) -> None:
    """logrotate renames the log just after a run has checked that the name still holds the file it matched,
    before the run opens it: the run reads the file it matched, not the new one from the old one's position
    (which counted the new log's lines past that position twice and never its first ones)."""
    from logtrack.jobs import ingest

    logs, log, conf, state, _ = site(tmp_path)
    writer = Writer(log)
    writer.lines(views(0, 2000))
    run = ("run", str(logs), "--config", str(conf), "--state", str(state), "--no-upload", "-q")
    assert cli(*run)[0] == 0
    writer.lines(views(2000, 500))
    writer.close()
    checked = ingest._still_the_one
    rotated = []

    def then_rotated(file: object) -> None:
        checked(file)  # type: ignore[arg-type]
        if not rotated:  # logrotate, between the check and the opening
            os.rename(log, logs / "access.log.1")
            new = Writer(log)
            new.lines(views(10_000, 3000, NEXT_SECOND))  # longer than the old one's position
            new.close()
            rotated.append(file)

    monkeypatch.setattr(ingest, "_still_the_one", then_rotated)
    code, _, err = cli(*run)
    assert code == 0, err
    assert rotated
    monkeypatch.undo()
    assert cli(*run)[0] == 0
    assert_exported(cli, state, [*views(0, 2500), *views(10_000, 3000, NEXT_SECOND)])


def test_a_file_renamed_between_its_listing_and_its_match_is_not_taken_for_cut_back(tmp_path: Path, cli,
                                                                                    monkeypatch) -> None:
    """logrotate renames the log after a run listed it and read its first bytes, before the run checks the bytes
    before its position: the check reads the file listed, not the new log by its name (whose other bytes made
    the renamed log look cut back by a crash: read again, its new lines timed up to the last one counted were
    taken for counted)."""
    from logtrack.jobs import ingest

    logs, log, conf, state, _ = site(tmp_path)
    writer = Writer(log)
    writer.lines(views(0, 2000))
    run = ("run", str(logs), "--config", str(conf), "--state", str(state), "--no-upload", "-q")
    assert cli(*run)[0] == 0
    writer.lines(views(2000, 500))  # the same second as the last line counted
    writer.close()
    matched = ingest._known_as_together
    rotated = []

    def rotated_first(state: object, group: list[object], busy: list[object]) -> object:
        if not rotated:  # logrotate, once the run has listed the log and read its first bytes
            os.rename(log, logs / "access.log.1")
            new = Writer(log)
            new.lines(views(10_000, 3000, NEXT_SECOND))  # longer than the old one's position
            new.close()
            rotated.append(group)
        return matched(state, group, busy)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest, "_known_as_together", rotated_first)
    code, _, err = cli(*run)
    assert code == 0, err
    assert rotated
    assert_exported(cli, state, [*views(0, 2500), *views(10_000, 3000, NEXT_SECOND)])


def test_a_file_emptied_by_copytruncate_while_a_run_reads_it_counts_once(tmp_path: Path, cli, monkeypatch) -> None:
    """logrotate's copytruncate copies the log a run is reading and empties it, and the server writes past the
    run's position before its next read: the run stops there (the text it would read next is the new lines'
    from their middle on) and reads the copy from its position and the new lines from their start."""
    from logtrack.read import sources

    logs, log, conf, state, _ = site(tmp_path)
    writer = Writer(log)
    writer.lines(views(0, 12_000))  # three batches of 1 MiB (BATCH_ENV below)
    read = sources.batches
    truncated = []

    def copytruncated_after_the_first_batch(name: str, *args: object, **kwargs: object) -> Iterator[sources.Batch]:
        for n, batch in enumerate(read(name, *args, **kwargs)):  # type: ignore[arg-type]
            yield batch
            if n == 0 and name == str(log) and not truncated:
                shutil.copyfile(log, logs / "access.log.1")
                os.truncate(log, 0)
                writer.lines(views(20_000, 13_000, NEXT_SECOND))  # (appended: from the start now, past the run)
                truncated.append(name)

    monkeypatch.setenv(BATCH_ENV, "1")
    monkeypatch.setattr(sources, "batches", copytruncated_after_the_first_batch)
    run = ("run", str(logs), "--config", str(conf), "--state", str(state), "--no-upload", "-q")
    code, _, err = cli(*run)
    assert code == 0, err
    assert truncated
    monkeypatch.undo()
    writer.close()
    assert cli(*run)[0] == 0
    assert_exported(cli, state, [*views(0, 12_000), *views(20_000, 13_000, NEXT_SECOND)])


# logrotate setups that take the log out of the run's sight: the lines written after the last run are lost to it,
# which only the state can tell (``jobs.gone``); with the directory named, they are counted after all
LEFT = {
    "olddir": "olddir {old}\n  create 0644",
    "rotate 0": "create 0644",  # (rotate 0, below: the renamed log deleted at once)
}


@pytest.mark.skipif(LOGROTATE is None, reason="logrotate is not installed (apt-get install logrotate)")
@pytest.mark.parametrize("kind", sorted(LEFT))
def test_a_log_logrotate_moves_away_or_deletes_is_said_once(tmp_path: Path, cli, state_at: str, kind: str) -> None:
    logs, log, conf, _, rotate_state = site(tmp_path)
    old = tmp_path / "old"
    old.mkdir()
    keep = 0 if kind == "rotate 0" else 5
    rotate_conf = tmp_path / "rotate.conf"
    rotate_conf.write_text(f"{log} {{\n  rotate {keep}\n  {LEFT[kind].format(old=old)}\n}}\n")
    run = ("run", str(logs), "--config", str(conf), "--state", state_at, "--no-upload")
    writer = Writer(log)
    writer.lines(views(0, 100))
    assert cli(*run)[0] == 0
    writer.lines(views(100, 30))  # after the run, before the rotation
    rotate(rotate_conf, rotate_state)
    writer.reopen()
    writer.lines(views(130, 20))

    code, _, err = cli(*run)
    assert code == 4, err
    assert (f"logtrack: warning: {log}: the file read under this name by the last run (to line 100) is gone, and is "
            "none of the logs read now: lines written to it after that run are not counted. If logrotate moves "
            "rotated logs to another directory (olddir), name that directory too; if it deletes them (rotate 0), "
            "keep one (rotate 1)\n") in err
    code, _, err = cli(*run)  # said once
    assert code == 0, err
    assert "gone" not in err
    if kind == "olddir":
        code, _, err = cli(*run[:2], str(old), *run[2:])
        assert code == 0, err
        assert f"{old}/access.log.1: known (as {log}), resumed at line 101; now at line 130" in err
        assert_exported(cli, state_at, views(0, 150))
    else:
        assert_exported(cli, state_at, views(0, 100) + views(130, 20))


@pytest.mark.skipif(LOGROTATE is None, reason="logrotate is not installed (apt-get install logrotate)")
def test_rotated_copies_deleted_in_their_turn_are_no_alarm(tmp_path: Path, cli) -> None:
    """rotate 2, never compressed: the oldest plain copy is deleted at each rotation, read to its end long before;
    quiet runs (nothing new in the log) between them: each run exits 0 and says nothing of a log gone."""
    logs, log, conf, state, rotate_state = site(tmp_path)
    rotate_conf = tmp_path / "rotate.conf"
    rotate_conf.write_text(f"{log} {{\n  rotate 2\n  create 0644\n}}\n")
    run = ("run", str(logs), "--config", str(conf), "--state", str(state), "--no-upload")
    writer = Writer(log)
    written = []
    for day in range(6):
        lines = views(100 * day, 50)
        writer.lines(lines)
        written += lines
        for _ in range(2):  # the second finds nothing new anywhere
            code, _, err = cli(*run)
            assert code == 0, err
            assert "gone" not in err
        rotate(rotate_conf, rotate_state)
        writer.reopen()
    code, _, err = cli(*run)
    assert code == 0, err
    assert "gone" not in err
    assert sorted(p.name for p in logs.iterdir()) == ["access.log", "access.log.1", "access.log.2"]
    assert_exported(cli, state, written)
