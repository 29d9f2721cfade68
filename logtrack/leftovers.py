"""Temporary files and folders in use, to be removed if the process is stopped before it removes them.

A command that is told to stop (SIGTERM: ``cli.signals``) ends at once,
as a crash would, and what it had committed stays committed. What it
cannot leave is its scratch: an output's temporary file beside the output,
or the copy of the state a dry run counts into (as large as the state).
Each is made and named here under one lock, so that a stop between the
two cannot miss it, and removed by whoever stops the process.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

_PENDING: set[str] = set()
_LOCK = threading.Lock()


def new_file(path: str | os.PathLike[str]) -> int:
    """Make ``path`` (it must not exist: ``O_EXCL``) to write, scratch until ``forget``: its descriptor."""
    with _LOCK:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
        _PENDING.add(os.fspath(path))
    return fd


@contextmanager
def scratch_dir(prefix: str) -> Iterator[str]:
    """A new directory in the temporary directory, removed with all it holds at the block's end."""
    with _LOCK:
        name = tempfile.mkdtemp(prefix=prefix)
        _PENDING.add(name)
    try:
        yield name
    finally:
        forget(name)
        shutil.rmtree(name, ignore_errors=True)


def forget(path: str | os.PathLike[str]) -> None:
    """``path`` is no scratch any more: renamed into place, or removed by its own code."""
    with _LOCK:
        _PENDING.discard(os.fspath(path))


def remove_all() -> None:
    """Remove every scratch file and folder: the process is about to end without its own code cleaning up.
    The lock is kept to the end, so nothing is made after this. Best effort: one that cannot be removed is left."""
    _LOCK.acquire()  # (never released: the caller ends the process)
    for name in sorted(_PENDING):
        if os.path.isdir(name) and not os.path.islink(name):
            shutil.rmtree(name, ignore_errors=True)
        else:
            with suppress(OSError):
                os.unlink(name)
