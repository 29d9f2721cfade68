"""The real logrotate over a growing log: every view counted exactly once.

A writer keeps its file descriptor open as nginx does (it goes on writing to
the renamed file until it reopens), logrotate (Debian's binary, run with
its own state file) rotates by rename with delaycompress and later by
copytruncate, a run is SIGKILLed in the middle, and a line is half written
when a run looks. Afterwards `logtrack export` must equal the ground truth.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.skipif(LOGROTATE is None, reason="logrotate is not installed (apt-get install logrotate)")
def test_logrotate_rename_delaycompress_sigkill_copytruncate(tmp_path: Path, cli) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "access.log"
    conf = tmp_path / "logtrack.toml"
    conf.write_text(loggen.config_toml("combined", TZ))
    state = tmp_path / "state.db"
    rotate_state = tmp_path / "logrotate.status"
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
