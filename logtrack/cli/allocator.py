"""Allocator settings for the command line: buffers reused, not mapped afresh for every batch.

glibc serves an allocation above its mmap threshold (at most 32 MiB) with a
fresh ``mmap`` and gives it back with ``munmap`` when it is freed. The
reader allocates a few such buffers per batch (the batch's bytes, the
chunks joined into it), so every batch paid for page faults
and for the kernel zeroing tens of MiB: about a fifth of a run's CPU, all
of it system time. Raising the threshold (and keeping freed memory rather
than trimming it) lets the same memory be reused batch after batch. Peak
memory is unchanged: the buffers are the same size, only no longer unmapped.

Polars allocates with its own jemalloc, which gives each thread an arena
of its own: the two worker threads and Polars' pool fragment memory across
four of them. One arena (``_RJEM_MALLOC_CONF=narenas:1``, which Polars adds
to its own settings when it loads) takes a sixth off a run's peak memory, and a little CPU with it.
Measured on 5 M lines with `/usr/bin/time`: 595 to 620 MB and 8.6 to 8.8 s
of CPU before, 508 to 514 MB and 8.2 s after.

Called by the command line only, before Polars loads, not on import: a
program that uses the library keeps its own allocator settings. A number
of arenas already in the environment is left as it is; elsewhere than
glibc the mallopt part does nothing.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
_LARGE = 1 << 30  # above any buffer a batch needs
_NEVER = (1 << 31) - 1  # the largest the C int takes: freed memory is never trimmed


JEMALLOC_ENV = "_RJEM_MALLOC_CONF"  # the name Polars' jemalloc reads its settings from


def tune() -> None:
    """Both settings, for this process; before Polars is imported, or the jemalloc one is too late."""
    current = os.environ.get(JEMALLOC_ENV, "")
    if "polars" not in sys.modules and "narenas" not in current:
        # (A parent that imported Polars leaves its settings here: ours are added to them.)
        os.environ[JEMALLOC_ENV] = f"{current},narenas:1" if current else "narenas:1"
    keep_large_buffers()


def keep_large_buffers() -> bool:
    """Ask glibc to serve large allocations from the heap and keep what is freed; True if it agreed."""
    try:
        # The process's own symbols, libc's among them: no search for the library (find_library
        # runs ldconfig, 10 ms at every start).
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt), or no libc to load
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, _LARGE)) and bool(mallopt(M_TRIM_THRESHOLD, _NEVER))
