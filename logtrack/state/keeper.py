"""One thread that works on a state while a run reads its files, in the order it is asked.

The ingest's commits go here, so that the database's work (upserts, the
sync) runs beside the counting rather than between one file and the next;
so does everything else the ingest asks of the state meanwhile, after the
commits asked before it. A state connection is used by one thread at a time.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from .interface import Store

R = TypeVar("R")


class _NotWritten(Exception):
    """A state job left undone because one before it failed (that one's error is the one raised)."""


class Keeper:
    """The one thread that works on the state while files are read, in the order it is asked.

    Commits (a group of batches' counts with the read position after them)
    are written here while the main thread reads on: the database's work is
    off the path the lines take. Everything else a run asks of the state
    while reading (a file's match, its hints) is asked here too, after the
    commits asked before it, so the state sees one caller, in order, and a
    crash leaves it at a commit. Once a job fails, none after it runs: a
    later read position committed over a failed commit's counts would lose
    them for good.
    """

    def __init__(self, state: Store) -> None:
        self.state = state
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="logtrack-state")
        self._queued: deque[Future[Any]] = deque()
        self._done = 0  # jobs waited for (``settle``), the oldest first
        self._failed = False
        self._writes: list[tuple[Callable[[], None], Callable[[], None]]] = []
        self._lock = threading.Lock()

    def __enter__(self) -> Keeper:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True)  # a job queued is a whole commit: finishing it loses nothing

    def submit(self, job: Callable[[], R]) -> Future[R]:
        def guarded() -> R:
            if self._failed:
                raise _NotWritten
            try:
                return job()
            except BaseException:
                self._failed = True
                raise

        future = self._pool.submit(guarded)
        self._queued.append(future)
        return future

    def write(self, inside: Callable[[], None], after: Callable[[], None]) -> None:
        """A commit: ``inside`` runs in a transaction, ``after`` once it is committed.

        Commits asked while the thread was busy are written in one
        transaction (each still whole: its counts with its position) where
        the state allows it, so a directory of small files pays for one sync
        per group of files, not one each (286 files of 3,500 lines: 7.6 ms
        of each commit's 16.7 was its sync).
        """
        with self._lock:
            self._writes.append((inside, after))
        self.submit(self._flush)

    def _flush(self) -> None:
        with self._lock:
            writes, self._writes = self._writes, []
        groups = [writes] if self.state.groups_commits else [[write] for write in writes]
        for group in groups:  # (none: an earlier flush took them)
            with self.state.transaction():
                for inside, _ in group:
                    inside()
            for _, after in group:
                after()

    def call(self, job: Callable[[], R]) -> R:
        """``job``'s result, once it and everything asked before it are done."""
        future = self.submit(job)
        self.settle()
        return future.result()

    @property
    def asked(self) -> int:
        """How many jobs were asked so far: a mark for ``settle_through``."""
        return self._done + len(self._queued)

    def settle(self, keep: int = 0) -> None:
        """Wait until at most ``keep`` jobs are left to do; the first error among them is raised here."""
        self.settle_through(self.asked - keep)

    def settle_through(self, mark: int) -> None:
        """Wait until the jobs asked before ``mark`` (an ``asked`` of earlier) are done, errors raised here."""
        while self._done < mark and self._queued:
            future = self._queued.popleft()
            self._done += 1
            future.result()
