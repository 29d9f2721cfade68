"""Keep the reader's large buffers in the heap instead of mapping them afresh for every batch.

glibc serves an allocation above its mmap threshold (at most 32 MiB) with a
fresh ``mmap`` and gives it back with ``munmap`` when it is freed. The
reader allocates a few such buffers per batch (the batch's bytes, the
marked copy the quote split reads), so every batch paid for page faults
and for the kernel zeroing tens of MiB: about a fifth of a run's CPU, all
of it system time. Raising the threshold (and keeping freed memory rather
than trimming it) lets the same memory be reused batch after batch. Peak
memory is unchanged: the buffers are the same size, only no longer unmapped.

Called by the command line only, not on import: a program that uses the
library keeps its own allocator settings. Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
_LARGE = 1 << 30  # above any buffer a batch needs


def keep_large_buffers() -> bool:
    """Ask glibc to serve large allocations from the heap and keep what is freed; True if it agreed."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt), or no libc to load
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, _LARGE)) and bool(mallopt(M_TRIM_THRESHOLD, 2 * _LARGE))
