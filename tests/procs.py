"""Processes for crash tests: kill a run in the middle of its work."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from pathlib import Path


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
    try:
        with sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=1) as db:
            return int(db.execute("SELECT COALESCE(SUM(lines), 0) FROM files").fetchone()[0])
    except sqlite3.Error:
        return 0


def kill_mid_run(cmd: list[str], state: Path | str, delay: float) -> bool:
    """Start a run, SIGKILL it `delay` s after it first commits progress; False if it ended first."""
    before = lines_read(state)
    proc = subprocess.Popen(cmd, env={**os.environ, "TZ": "UTC"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        while proc.poll() is None:
            if lines_read(state) > before:
                time.sleep(delay)
                if proc.poll() is None:
                    proc.kill()
                    return True
                break
            time.sleep(0.01)
        return False
    finally:
        proc.wait()
