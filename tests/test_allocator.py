"""The command line's allocator settings: set before Polars loads, a user's own left alone."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from logtrack.cli import allocator

SHOW = "from logtrack.cli import allocator; allocator.tune(); import os; print(os.environ.get(allocator.JEMALLOC_ENV))"


@pytest.mark.parametrize(("given", "seen"), [
    (None, "narenas:1"),
    ("narenas:4", "narenas:4"),  # the user's own
    ("dirty_decay_ms:500", "dirty_decay_ms:500,narenas:1"),  # left by a parent that imported Polars
])
def test_jemalloc_setting_before_polars_loads(given: str | None, seen: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != allocator.JEMALLOC_ENV}
    if given is not None:
        env[allocator.JEMALLOC_ENV] = given
    out = subprocess.run([sys.executable, "-c", SHOW], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == seen


def test_too_late_once_polars_is_loaded() -> None:
    code = "import polars; " + SHOW
    env = {k: v for k, v in os.environ.items() if k != allocator.JEMALLOC_ENV}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert "narenas" not in out.stdout  # Polars has set its own settings by then; ours are not added


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_takes_the_thresholds() -> None:
    assert allocator.keep_large_buffers()
