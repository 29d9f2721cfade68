"""Processes for crash tests: kill a run in the middle of its work."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from logtrack.read.sources import BATCH_ENV


def lines_read(state: Path | str) -> int:
    """How far the state says the logs were read (0 before the first commit), in SQLite or PostgreSQL."""
    if "://" in str(state):
        import psycopg

        try:
            with psycopg.connect(str(state), connect_timeout=2) as conn:
                row = conn.execute("SELECT COALESCE(SUM(lines), 0) FROM files").fetchone()
                return int(row[0]) if row else 0
        except psycopg.Error:
            return 0
    # Closed at once, not when the collector gets to it (``with`` on a connection only commits): a connection
    # this process leaves open holds POSIX locks on the state, which closing any other descriptor of the file
    # here drops, so that a run in another process takes itself for the only one and deletes the WAL from under
    # it; the next run in this process (the ``cli`` fixture's) then read the state as "malformed".
    try:
        with contextlib.closing(sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=1)) as db:
            return int(db.execute("SELECT COALESCE(SUM(lines), 0) FROM files").fetchone()[0])
    except sqlite3.Error:
        return 0


def as_the_signals_are_meant() -> None:
    """A child's SIGHUP, SIGINT and SIGTERM at their defaults (``preexec_fn``): run under nohup, or as a shell's
    background job, the tests would hand logtrack an ignored one, which it leaves ignored (as it should)."""
    for signum in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)


def kill_mid_run(cmd: list[str], state: Path | str, delay: float,
                 progress: Callable[[Path | str], int] = lines_read) -> bool:
    """Start a run, SIGKILL it `delay` s after it first commits progress; False if it ended first."""
    return signal_mid_run(cmd, state, delay, progress) is not None


def signal_mid_run(cmd: list[str], state: Path | str, delay: float,
                   progress: Callable[[Path | str], int] = lines_read,
                   sig: signal.Signals = signal.SIGKILL, env: dict[str, str] | None = None) -> tuple[int, str] | None:
    """Start a run, send it `sig` `delay` s after it first commits progress: its exit status and stderr then,
    or None if it ended first.

    The run reads in 1 MiB batches (`BATCH_ENV`), so that it commits many
    times and is still at work when the signal comes, on a fast machine too.
    `progress` says how far the state has got; the signal waits for it to grow. `env`: more of the run's
    environment.
    """
    before = progress(state)
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env={**os.environ, "TZ": "UTC", BATCH_ENV: "1", **(env or {})},
                                stdout=subprocess.DEVNULL, stderr=err, preexec_fn=as_the_signals_are_meant)
        try:
            while proc.poll() is None:
                if progress(state) > before:
                    time.sleep(delay)
                    if proc.poll() is None:
                        proc.send_signal(sig)
                        status = proc.wait()
                        err.seek(0)
                        return status, err.read().decode()
                    break
                time.sleep(0.01)
            return None
        finally:
            proc.wait()
