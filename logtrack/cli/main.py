"""The console script: every command registered on the one app, then run.

To add a command, write it in the module of its group (``preview``,
``report``, ``unattended``, or a new one imported here) with ``@app.command()``.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import sys
from typing import NoReturn

from ..errors import ExitCode
from . import preview, report, unattended  # noqa: F401  (importing them registers their commands)
from .app import app, stdout_error
from .signals import watch


def run() -> NoReturn:
    """The console script. ``--debug`` works before or after the command, as in httpie."""
    from . import allocator

    _output_streams()
    watch()  # (SIGTERM and a Ctrl-C the main thread is too stuck to see)
    allocator.tune()
    argv = sys.argv[1:]
    if "--debug" in argv[1:]:
        argv = ["--debug", *[a for a in argv if a != "--debug"]]
    try:
        app(args=argv, prog_name="logtrack")
    except SystemExit as exc:
        leave(exc.code)
    except OSError as exc:  # from writing stdout outside any command's boundary (Typer's --help)
        if (error := stdout_error(exc)) is None:
            raise
        print(f"logtrack: error: {error}", file=sys.stderr)
        leave(int(error.exit_code))
    leave(0)


def _output_streams() -> None:
    """Started with stdout or stderr closed (``>&-``, ``2>&-``, a careless daemon), Python has none.

    Every message would then fail ("NoneType has no attribute...", exit 1),
    or, for stderr, go to stdout among the XML; and the next file opened
    would take the free descriptor, where a library's own message to it
    would land. A closed one is /dev/null, as a daemon's is: what goes
    there is not wanted. (A closed stdin stays closed: reading ``-`` says so.)
    An open stdout that can't encode all text escapes what it can't, as stderr does.
    """
    codecs.register_error(_ESCAPED, _escaped)
    for fd, name in ((1, "stdout"), (2, "stderr")):
        stream = getattr(sys, name)
        if stream is not None:
            if stream.errors in ("strict", "backslashreplace") and hasattr(stream, "reconfigure"):
                # (a supplier's "ö" under a Latin-1 locale or PYTHONIOENCODING=ascii, a file name's odd byte:
                # was a UnicodeEncodeError on stdout, exit 1)
                stream.reconfigure(errors=_ESCAPED)
            continue
        null = os.open(os.devnull, os.O_WRONLY)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
        setattr(sys, name, open(fd, "w", encoding="utf-8", errors=_ESCAPED, closefd=False))  # noqa: SIM115


_ESCAPED = "logtrack-escaped"


def _escaped(exc: UnicodeError) -> tuple[str, int]:
    """Python's ``backslashreplace``, but a byte of a file name that is not UTF-8 (which the OS hands over as a
    lone surrogate, U+DC80 to U+DCFF) is shown as the byte it is, ``\\xff``, as the state keeps the name."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text = exc.object[exc.start:exc.end]
    return "".join(f"\\x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF
                   else c.encode("ascii", "backslashreplace").decode() for c in text), exc.end


def leave(code: object) -> NoReturn:
    """Exit with ``code`` as ``sys.exit`` would, without tearing the interpreter down.

    By the time a command returns, everything it writes is written and
    closed, its state committed: the boundary and the commands' own
    ``with`` blocks saw to that. What Python's exit would still do is free
    every object one by one (the modules, Polars' frames and caches, the
    threads' pools), some 0.1 s of a run's wall time and CPU, more than
    a whole batch of lines. Only the standard streams are left to flush.
    (An exception other than SystemExit, a bug shown with ``--debug``, is
    not caught here: Python prints it and exits as usual.)
    """
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): the message on stderr, status 1
        print(code, file=sys.stderr)
        status = 1
    try:
        sys.stdout.flush()
    except OSError as exc:  # after the last write the boundary saw: its reader stopped early (`| head`), or a full disk
        why = ("was closed before everything was written (its reader stopped)" if isinstance(exc, BrokenPipeError)
               else f"could not be written: {exc.strerror or exc}")
        print(f"logtrack: error: stdout {why}", file=sys.stderr)
        status = status or int(ExitCode.OUTPUT)
    with contextlib.suppress(OSError):
        sys.stderr.flush()
    os._exit(status)
