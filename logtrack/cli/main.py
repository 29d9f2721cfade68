"""The console script: every command registered on the one app, then run.

To add a command, write it in the module of its group (``preview``,
``report``, ``unattended``, or a new one imported here) with ``@app.command()``.
"""

from __future__ import annotations

import sys

from . import preview, report, unattended  # noqa: F401  (importing them registers their commands)
from .app import app


def run() -> None:
    """The console script. ``--debug`` works before or after the command, as in httpie."""
    from . import allocator

    allocator.tune()
    argv = sys.argv[1:]
    if "--debug" in argv[1:]:
        argv = ["--debug", *[a for a in argv if a != "--debug"]]
    app(args=argv, prog_name="logtrack")
