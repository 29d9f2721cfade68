"""Human-readable output: the run summary and the ``report`` tables (rich).

Kept apart from the CLI so that the words people read are in one place.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import polars as pl
    from rich.console import Console
    from rich.progress import Progress, TaskID

from .reasons import NotCounted, Skip
from .tally import Tally

TOP_LISTINGS = 20


PREFIX = "logtrack: "


def summary_lines(tally: Tally, files: int, width: int | None = None) -> list[str]:
    """The stderr summary, each line starting ``logtrack: ``: lines read, counted, and every other by reason.

    With ``width`` (a terminal's columns) a long line is wrapped between its
    items, never inside one (a number cut as "1,1" / "14" misleads), and
    continued with an indent; without it (cron, a log file) each part stays
    one line that grep finds whole.
    """
    groups: list[tuple[str, list[str]]] = [
        ("", [f"read {tally.lines:,} lines from {files:,} file{'s' if files != 1 else ''};",
              f"{tally.counted:,} views counted"]),
    ]
    not_counted = [f"{tally.reasons[r.value]:,} {r.value}" for r in NotCounted if r.value in tally.reasons]
    if not_counted:
        groups.append(("not counted: ", _commas(not_counted)))
    skipped = []
    for skip in Skip:
        n = tally.reasons.get(skip.value)
        if n:
            ex = tally.examples[skip.value]
            skipped.append(f"{n:,} {skip.value} (first: {ex.source}:{ex.line_no})")
    if skipped:
        groups.append(("skipped: ", _commas(skipped)))
    return [line for head, items in groups for line in wrap_items(PREFIX + head, items, width)]


def _commas(items: list[str]) -> list[str]:
    return [item + ("," if i < len(items) - 1 else "") for i, item in enumerate(items)]


def wrap_items(head: str, items: Sequence[str], width: int | None, indent: str = " " * (len(PREFIX) + 2)) -> list[str]:
    """``head`` and the items joined by spaces; with ``width``, lines break only between items.

    An item wider than a line on its own is broken at its spaces (numbers
    hold none, so they stay whole).
    """
    if width is None:
        return [head + " ".join(items)]
    import textwrap

    lines: list[str] = []
    current = head
    bare = True  # nothing but the head or indent on the current line yet
    for item in items:
        if not bare and len(current) + 1 + len(item) > width:
            lines.append(current)
            current, bare = indent, True
        if bare and len(current) + len(item) > width:
            first_room = max(width - len(current), 20)
            head_part = textwrap.wrap(item, first_room, break_long_words=False, break_on_hyphens=False)[0]
            rest = item[len(head_part):].strip()
            parts = textwrap.wrap(rest, max(width - len(indent), 20), break_long_words=False,
                                  break_on_hyphens=False) if rest else []
            lines.append(current + head_part)
            if parts:
                lines.extend(indent + p for p in parts[:-1])
                current, bare = indent + parts[-1], False
            else:
                current, bare = indent, True
            continue
        current += ("" if bare else " ") + item
        bare = False
    if not bare or not lines:
        lines.append(current)
    return lines


def render_report(console: Console, tally: Tally, counts: pl.DataFrame) -> None:
    import polars as pl
    from rich.table import Table

    per_day = (
        counts.group_by(["day", "supplier"])
        .agg(listings=pl.len(), views=pl.col("views").sum())
        .sort(["day", "supplier"])
    )
    table = Table(title="Views per day and supplier")
    for col in ("Day", "Supplier", "Listings", "Views"):
        table.add_column(col, justify="right" if col in ("Listings", "Views") else "left")
    for day, supplier, listings, views in per_day.iter_rows():
        table.add_row(str(day), supplier or "(Other)", f"{listings:,}", f"{views:,}")
    console.print(table)

    top = (
        counts.group_by("listing")
        .agg(views=pl.col("views").sum(), days=pl.col("day").n_unique())
        .sort(["views", "listing"], descending=[True, False])
        .head(TOP_LISTINGS)
    )
    table = Table(title=f"Top {TOP_LISTINGS} listings")
    table.add_column("Listing")
    table.add_column("Views", justify="right")
    table.add_column("Days", justify="right")
    for listing, views, days in top.iter_rows():
        table.add_row(listing, f"{views:,}", f"{days:,}")
    console.print(table)

    table = Table(title="Lines by outcome")
    table.add_column("Outcome")
    table.add_column("Lines", justify="right")
    table.add_column("First seen at")
    table.add_row("counted as a view", f"{tally.counted:,}", "")
    for reason in [*NotCounted, *Skip]:
        n = tally.reasons.get(reason.value)
        if n:
            ex = tally.examples[reason.value]
            table.add_row(reason.value, f"{n:,}", f"{ex.source}:{ex.line_no}")
    console.print(table)


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class ProgressBar:
    """Bytes and lines done, lines/s and time left, on stderr; silent when disabled."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._task: TaskID | None = None
        self._lines = 0
        self._started = time.monotonic()

    def start(self, inputs: Sequence[_Named]) -> None:
        if self._progress is None:
            return
        total = sum(os.path.getsize(i.name) for i in inputs if i.name != "-" and os.path.isfile(i.name))
        self._task = self._progress.add_task("reading", total=total or None, lines="0 lines")

    def advance(self, raw_bytes: int, lines: int) -> None:
        if self._progress is None or self._task is None:
            return
        self._lines += lines
        rate = self._lines / max(time.monotonic() - self._started, 1e-6)
        self._progress.update(
            self._task, advance=raw_bytes, lines=f"{self._lines:,} lines, {rate:,.0f} lines/s"
        )


@contextmanager
def progress_bar(enabled: bool) -> Iterator[ProgressBar]:
    """A progress bar for long reads; nothing at all when stderr is not a terminal."""
    if not enabled:
        yield ProgressBar(None)
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[lines]}"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with progress:
        yield ProgressBar(progress)
