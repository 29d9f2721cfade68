"""Temporary files and folders in use, to be removed if the process is stopped before it removes them.

A command that is told to stop (SIGTERM: ``cli.signals``) ends at once,
as a crash would, and what it had committed stays committed. What it
cannot leave is its scratch: an output's temporary file beside the output,
or the copy of the state a dry run counts into (as large as the state).
Each is named here while it exists, and removed by whoever stops the process.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

_PENDING: set[str] = set()
_LOCK = threading.Lock()


@contextmanager
def kept_until_done(path: str | os.PathLike[str]) -> Iterator[None]:
    """``path`` is scratch while the block runs (its own code removes or renames it on the way out)."""
    name = os.fspath(path)
    with _LOCK:
        _PENDING.add(name)
    try:
        yield
    finally:
        with _LOCK:
            _PENDING.discard(name)


def remove_all() -> None:
    """Remove every scratch file and folder still named: the process is about to end without its own code
    cleaning up. Best effort: one that cannot be removed is left."""
    with _LOCK:
        names = sorted(_PENDING)
    for name in names:
        if os.path.isdir(name) and not os.path.islink(name):
            shutil.rmtree(name, ignore_errors=True)
        else:
            with suppress(OSError):
                os.unlink(name)
