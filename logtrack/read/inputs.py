"""Inputs: the files a run reads, each with its format when the config names it.

Free of Polars, so that an unattended run with nothing new stays quick.
"""

from __future__ import annotations

import glob
import os
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .. import formats
from ..config import Config
from ..errors import InputError
from ..formats import LogFormat, nginx_conf
from . import files, twins

T = TypeVar("T")
R = TypeVar("R")

AUTO = "auto"
# Batches parsed at once: Polars releases the GIL, so each core takes one.
WORKERS = max(1, min(4, os.cpu_count() or 1))
# Batches read and not yet handed back while the next one is read. One more than the workers lets a
# worker that finishes find the next batch waiting rather than wait for the reader (a gzip batch takes
# it 20-50 ms): measured, some 20 ms off a 1 M-line gzip run, nothing on 5 M, and 30-40 MB more peak.
READ_AHEAD = WORKERS


@dataclass(frozen=True)
class Input:
    name: str
    format: LogFormat | None  # None: the configured format, or detect it


@dataclass(frozen=True)
class Hooks:
    """What the caller wants to hear about while a run goes on."""

    on_plan: Callable[[list[Input]], None] | None = None
    on_format: Callable[[str, LogFormat], None] | None = None
    on_warning: Callable[[str], None] | None = None
    on_notice: Callable[[str], None] | None = None  # news that is no problem (an upload retried)
    on_progress: Callable[[str, int, int], None] | None = None  # file, plain bytes, lines (increments)
    on_file_done: Callable[[str], None] | None = None  # a file was read to its end


def plan(config: Config, paths: Sequence[str], *, siblings: bool = False,
         note: Callable[[str], None] | None = None,
         leave_out: Collection[str] = ()) -> tuple[list[Input], list[str]]:
    """The files to read, each with its format when known, and the paths that named nothing.

    ``leave_out``: files never read, whatever names them: logtrack's own (its state, its config), which a
    directory's ``[logs] glob = "*"`` took for logs, each run warned about ("looks binary") and exit 4.

    ``siblings``: a log file named brings its rotated copies along (``files.expand``), as a directory's
    and an nginx config's logs always do: what an unattended run reads, which must not lose the lines
    logrotate moved away since the last one. ``note`` hears of an nginx config's log left out, as
    it holds the requests of another (``nginx_conf.read_all``), and of files that seem to (``twins``).
    """
    inputs: list[Input] = []
    problems: list[str] = []
    unlogged: list[str] = []
    if config.settings.nginx_conf:
        conf = nginx_conf.read_all(Path(config.settings.nginx_conf))
        for log in conf.logs:
            # the first of its block whose file is there (on a host the logs were shipped to, maybe one alone)
            candidates = [log, *conf.twins.get(log.path, [])]
            chosen, names = next(((c, found) for c in candidates if (found := _glob_siblings(c.path))), (log, []))
            for other in candidates:
                if other is not chosen and note:
                    note(f"{other.path}: not read: access_log at {other.where} writes the requests that access_log "
                         f"at {chosen.where} writes to {chosen.path} (one block logs each request to both): counted "
                         "from that one")
            if not names:
                problems.append(f"{log.path}: named by access_log at {log.where}, but no such file")
            inputs.extend(Input(name, chosen.format) for name in names)
        unlogged = conf.unlogged
    if paths:
        expanded = files.expand(paths, config.settings.glob, siblings=siblings)
        problems.extend(expanded.problems)
        fixed = None if config.rules.format == AUTO else formats.get(config.rules.format)
        inputs.extend(Input(name, fixed) for name in expanded.files)
    first: dict[str, Input] = {}
    own = {os.path.realpath(name) for name in leave_out}
    for item in inputs:
        if own and os.path.realpath(item.name) in own:
            continue
        first.setdefault(item.name, item)  # (a file the nginx config names keeps the format it gives)
    planned = [first[name] for name in files.once(list(first))]
    if unlogged and note and not any(os.path.realpath(item.name) == os.path.realpath(nginx_conf.BUILT_IN)
                                     for item in planned):
        servers = ", ".join(unlogged[:3]) + (f" and {len(unlogged) - 3:,} more" if len(unlogged) > 3 else "")
        note(f"the server block at {servers} names no access_log, nor does its http block: nginx writes its requests "
             f"to its own log, {nginx_conf.BUILT_IN} as most systems build it (`nginx -V`: --http-log-path), which "
             "the config does not name and is not read; name that file too, or give the server an access_log")
    if note:
        for first_name, second in twins.twins([item.name for item in planned]):
            note(f"{second}: begins with the same {twins.SAME} requests as {first_name}, in the same order: one "
                 "server writing each request to both (a combined log and a JSON one, say)? Both are counted, every "
                 "view twice; name the one to count, or set [logs] glob")
    return planned, problems


def _glob_siblings(pattern: str) -> list[str]:
    return files.with_siblings(sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else [pattern])


class Drain:
    """Among the items of ``in_order``: every item before it is handed back before the next is read.

    For an item that depends on what the caller does with the results
    before it (a file matched against the read positions committed).
    """


DRAIN = Drain()


def in_order(pool: Executor, items: Iterable[T | Drain], work: Callable[[T], R],
             holds: Callable[[T], bool] | None = None) -> Iterator[list[tuple[T, R]]]:
    """Work on ``items`` on ``pool``, ahead of the caller, and hand back the results in order.

    At most ``READ_AHEAD`` items wait or are worked on while the next is read, so memory stays flat; with
    ``holds``, only the items it says hold lines count (a file's end holds none: over a directory of small
    files, one batch each, the ends took half the places, and a worker waited for the next file's format
    to be judged). Each
    yield is the first item not handed back yet, with those after it that
    are already done: a caller that commits can merge them into one commit.
    A read error (InputError) from ``items`` is raised only after everything
    read before it was handed back, so what was read still counts.
    """
    pending: deque[tuple[T, Future[R], bool]] = deque()
    held = 0  # items pending that hold lines

    def first_done() -> list[tuple[T, R]]:
        nonlocal held
        group = [pending.popleft()]
        while pending and pending[0][1].done():
            group.append(pending.popleft())
        held -= sum(heavy for _, _, heavy in group)
        return [(item, future.result()) for item, future, _ in group]

    try:
        for item in items:
            if isinstance(item, Drain):
                while pending:
                    yield first_done()
                continue
            heavy = holds is None or holds(item)
            pending.append((item, pool.submit(work, item), heavy))
            held += heavy
            while held > READ_AHEAD:
                yield first_done()
    except InputError:
        while pending:
            yield first_done()
        raise
    while pending:
        yield first_done()
