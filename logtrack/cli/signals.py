"""SIGTERM (systemd's stop, ``timeout``, a shutdown): the process ends at once, says why, and leaves no scratch.

Left to its default, SIGTERM ended logtrack without a word, and left its
scratch behind (``leftovers``: a dry run's copy of the state, as large as
the state, in the temporary directory; an output's temporary file beside
the output). Ending at once is what a crash does, and logtrack is built
for crashes: a run's counts and read positions are committed together, a
batch at a time, so the next run goes on from the last commit.

The end is not left to the main thread (a Python handler raising there,
as Ctrl-C does): the signal may reach another thread, and the main thread
may be waiting for a worker that reads a pipe whose writer has stalled,
which would keep it from ever seeing the signal. A thread of its own
waits on the signal's wake-up descriptor instead, and ends the process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

from .. import leftovers

STOPPED_BY_SIGTERM = 128 + signal.SIGTERM  # the shell's code for a process ended by SIGTERM


def stop_on_sigterm() -> None:
    """Install the SIGTERM watcher. Only the console script asks for it (the process's signals are not a
    library's to take), from the main thread. A SIGTERM the parent set to be ignored stays ignored."""
    if signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        return
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)  # (as set_wakeup_fd wants: a full pipe must not block the handler)
    signal.signal(signal.SIGTERM, _noted)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    threading.Thread(target=_watch, args=(read_end,), name="logtrack-signals", daemon=True).start()


def _noted(_signum: int, _frame: object) -> None:
    """The main thread's part: nothing (``_watch`` ends the process). A handler must be Python's for the
    signal to be written to the wake-up descriptor."""


def _watch(fd: int) -> None:
    while True:
        try:
            got = os.read(fd, 64)
        except InterruptedError:
            continue
        if not got:
            return
        if signal.SIGTERM in got:  # (Ctrl-C's SIGINT is written here too: it is the main thread's)
            _stop()


def _stop() -> None:
    leftovers.remove_all()
    message = b"logtrack: error: stopped by SIGTERM\n"
    if sys.stderr is not None and sys.stderr.isatty():
        message = b"\r\x1b[K\x1b[?25h" + message  # over the progress bar's line, its hidden cursor shown again
    with contextlib.suppress(OSError):
        os.write(2, message)
    os._exit(STOPPED_BY_SIGTERM)
