"""The progress bar on stderr while logs are read: rich's, sized to the terminal."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

from ..jobs.report import NARROW
from ..read.compressed import plain_size_estimate
from ..read.files import STDIN

if TYPE_CHECKING:
    from rich.progress import Progress, ProgressColumn, TaskID


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class ProgressBar:
    """Bytes and lines done, lines/s and time left, on stderr; silent when disabled.

    Progress is in plain (decompressed) bytes, the unit the work goes by: a
    compressed file's bytes on disk take several times longer each, so a
    total mixing them would make the time left wrong whenever the run moves
    from plain files to compressed ones. A compressed file's plain size is
    estimated (gzip's trailer, else a typical ratio) and corrected once it
    was read. Standard input has no size: a line counter without a total.
    """

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._task: TaskID | None = None
        self._lines = 0
        self._started = time.monotonic()
        self._estimates: dict[str, int] = {}
        self._read: dict[str, int] = {}
        self._total = 0

    def start(self, inputs: Sequence[_Named]) -> None:
        if self._progress is None:
            return
        names = [i.name for i in inputs]
        if STDIN not in names:
            self._estimates = {n: plain_size_estimate(n) for n in names if os.path.isfile(n)}
            self._total = sum(self._estimates.values())
        known = STDIN not in names and self._total > 0
        self._progress.columns = _columns(self._progress.console.width, known)
        self._task = self._progress.add_task("reading", total=self._total if known else None,
                                             lines=_lines_text(0, 0.0, self._progress.console.width))

    def advance(self, name: str, plain_bytes: int, lines: int) -> None:
        if self._progress is None or self._task is None:
            return
        self._lines += lines
        self._read[name] = self._read.get(name, 0) + plain_bytes
        if name in self._estimates and self._read[name] > self._estimates[name]:  # the estimate was short
            self._total += self._read[name] - self._estimates[name]
            self._estimates[name] = self._read[name]
        rate = self._lines / max(time.monotonic() - self._started, 1e-6)
        self._progress.update(self._task, advance=plain_bytes, total=self._total or None,
                              lines=_lines_text(self._lines, rate, self._progress.console.width))

    def done(self, name: str) -> None:
        """A file was read to its end: its true plain size replaces the estimate."""
        if name in self._estimates and self._task is not None and self._progress is not None:
            self._total += self._read.get(name, 0) - self._estimates[name]
            self._estimates[name] = self._read.get(name, 0)
            self._progress.update(self._task, total=self._total or None)


def _lines_text(lines: int, rate: float, width: int) -> str:
    if width >= NARROW:
        return f"{lines:,} lines, {rate:,.0f} lines/s"
    return f"{_short(lines)} lines {_short(rate)}/s"


def _short(n: float) -> str:
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return f"{n:.0f}"


def _columns(width: int, known_total: bool) -> tuple[ProgressColumn, ...]:
    """The bar's fields for a terminal this wide: none of them is cut, however narrow."""
    from rich.progress import BarColumn, DownloadColumn, TaskProgressColumn, TextColumn, TimeRemainingColumn

    lines = TextColumn("{task.fields[lines]}")
    if not known_total:  # stdin: nothing to measure against
        return (TextColumn("reading stdin:"), lines)
    if width >= NARROW:
        return (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), DownloadColumn(), lines,
                TimeRemainingColumn())
    return (BarColumn(bar_width=max(6, min(20, width - 40))), TaskProgressColumn(), lines,
            TimeRemainingColumn(compact=True))


@contextmanager
def progress_bar(enabled: bool) -> Iterator[ProgressBar]:
    """A progress bar for long reads; nothing at all when stderr is not a terminal."""
    if not enabled:
        yield ProgressBar(None)
        return
    from rich.console import Console
    from rich.progress import Progress

    progress = Progress(console=Console(stderr=True), transient=True)
    with progress:
        yield ProgressBar(progress)
