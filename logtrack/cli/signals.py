"""SIGTERM and Ctrl-C: the process ends, says why, and leaves no scratch, even while its input stalls.

Left to its default, SIGTERM (systemd's stop, ``timeout``, a shutdown),
or SIGHUP (the terminal closed), ended logtrack without a word, and left its scratch behind
(``leftovers``: a dry run's copy of the state, as large as the state, in
the temporary directory; an output's temporary file beside the output).
Now the process ends at once, as a crash would, after removing its
scratch. Ending at once is safe: logtrack is built for crashes, a run's
counts and read positions are committed together, a batch at a time, so
the next run goes on from the last commit.

Neither end is left to the main thread alone. The signal may reach
another thread, and the main thread may be waiting for a worker that
reads a pipe whose writer stalled (``xml -`` with nothing typed, a FIFO):
it would not see the signal until more input came. Ctrl-C, Python's
KeyboardInterrupt, hung so. A thread of its own waits on the signals'
wake-up descriptor: SIGTERM and SIGHUP end the process there; Ctrl-C is the main
thread's to handle (it rolls back, closes, and says "interrupted"), and
only if the process is still there ``GRACE`` seconds later does the
thread end it the same way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

from .. import leftovers

GRACE = 3.0  # seconds the main thread has to end on Ctrl-C before the watcher ends the process
INTERRUPTED = (128 + signal.SIGINT, "interrupted")  # Ctrl-C's exit code and words, whichever thread ends it
_CODES = {signal.SIGTERM: (128 + signal.SIGTERM, "stopped by SIGTERM"),
          signal.SIGHUP: (128 + signal.SIGHUP, "stopped by SIGHUP"),  # (its terminal closed)
          signal.SIGINT: INTERRUPTED}
_AT_ONCE = (signal.SIGTERM, signal.SIGHUP)
_ENDING = threading.Lock()  # taken by whichever ends the process: the main thread's boundary, or the watcher
_watching = False


def watch() -> None:
    """Install the watcher. Only the console script asks for it (the process's signals are not a library's
    to take), from the main thread. A signal the parent set to be ignored stays ignored."""
    global _watching
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)  # (as set_wakeup_fd wants: a full pipe must not block the handler)
    for signum in _AT_ONCE:
        if signal.getsignal(signum) == signal.SIG_DFL:  # (nohup's SIGHUP stays ignored)
            signal.signal(signum, _noted)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    threading.Thread(target=_watch, args=(read_end,), name="logtrack-signals", daemon=True).start()
    _watching = True


def ending() -> bool:
    """Whether the caller (the main thread, on Ctrl-C) may end the process; False if the watcher is already
    ending it. Without the watcher (the library used in-process) always True."""
    return not _watching or _ENDING.acquire(blocking=False)


def _noted(_signum: int, _frame: object) -> None:
    """The main thread's part of SIGTERM and SIGHUP: nothing (``_watch`` ends the process). A handler must be Python's
    for the signal to be written to the wake-up descriptor."""


def _watch(fd: int) -> None:
    while True:
        try:
            got = os.read(fd, 64)
        except InterruptedError:
            continue
        if not got:
            return
        if at_once := [signum for signum in _AT_ONCE if signum in got]:
            _end(at_once[0])
        elif signal.SIGINT in got:
            timer = threading.Timer(GRACE, _end, (signal.SIGINT,))
            timer.daemon = True
            timer.start()


def _end(signum: signal.Signals) -> None:
    if not _ENDING.acquire(blocking=False):
        return  # the main thread is ending the process
    leftovers.remove_all()
    code, said = _CODES[signum]
    message = f"logtrack: error: {said}\n".encode()
    if sys.stderr is not None and sys.stderr.isatty():
        message = b"\r\x1b[K\x1b[?25h" + message  # over the progress bar's line, its hidden cursor shown again
    with contextlib.suppress(OSError):
        os.write(2, message)
    os._exit(code)
