"""Human-readable output: the run summary and the ``report`` tables (rich).

Kept apart from the CLI so that the words people read are in one place.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

from ..count.tally import Tally
from ..errors import shown
from ..verdicts.reasons import NotCounted, Skip

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
        ("", [f"read {tally.lines:,} line{'s' if tally.lines != 1 else ''} from {files:,} "
              f"file{'s' if files != 1 else ''};",
              f"{tally.counted:,} view{'s' if tally.counted != 1 else ''} counted"]),
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

    An item too long for a line of its own breaks between its words, and a
    word too long (a path) after one of its slashes; numbers hold neither,
    so they stay whole.
    """
    if width is None:
        return [head + " ".join(items)]
    lines: list[str] = []
    current, bare = head, True  # bare: nothing but the head or indent on the line yet

    def put(piece: str, sep: str) -> None:
        nonlocal current, bare
        if not bare and len(current) + len(sep) + len(piece) > width:
            lines.append(current)
            current, bare, sep = indent, True, ""
        current += ("" if bare else sep) + piece
        bare = False

    for item in items:
        if len(indent) + len(item) <= width or (not bare and len(current) + 1 + len(item) <= width):
            put(item, " ")
            continue
        for piece, glued in _pieces(item, width - len(indent)):
            put(piece, "" if glued else " ")
    if not bare or not lines:
        lines.append(current)
    return lines


def _pieces(item: str, room: int) -> Iterator[tuple[str, bool]]:
    """An item's words, a word longer than ``room`` cut after its slashes (True: no space before)."""
    for word in item.split(" "):
        if len(word) <= room or "/" not in word:
            yield word, False
            continue
        parts = [p for p in re.split(r"(?<=/)", word) if p]
        yield parts[0], False
        for part in parts[1:]:
            yield part, True


def render_report(console: Console, tally: Tally, counts: pl.DataFrame) -> None:
    """The three tables; readable down to 40 columns, dates and numbers never cut.

    Days and numbers do not wrap; names wrap between words. Below 80
    columns the tables drop their side borders, and the first-seen place
    shows the file's name without its directory.
    """
    import polars as pl

    narrow = console.width < NARROW
    per_day = (
        counts.group_by(["day", "supplier"])
        .agg(listings=pl.len(), views=pl.col("views").sum())
        .sort(["day", "supplier"])
    )
    table = _table("Views per day and supplier", narrow)
    table.add_column("Day", no_wrap=True, min_width=10)
    table.add_column("Supplier", ratio=1, overflow="fold")
    table.add_column("Listings", justify="right", no_wrap=True)
    table.add_column("Views", justify="right", no_wrap=True)
    for day, supplier, listings, views in per_day.iter_rows():
        table.add_row(str(day), _cell(supplier or "(Other)"), f"{listings:,}", f"{views:,}")
    table.add_section()
    table.add_row("total", "", f"{counts.get_column('listing').n_unique():,}",
                  f"{int(counts.get_column('views').sum()):,}")
    console.print(table)

    top = (
        counts.group_by("listing")
        .agg(views=pl.col("views").sum(), days=pl.col("day").n_unique())
        .sort(["views", "listing"], descending=[True, False])
        .head(TOP_LISTINGS)
    )
    table = _table(f"Top {TOP_LISTINGS} listings", narrow)
    table.add_column("Listing", overflow="fold")
    table.add_column("Views", justify="right", no_wrap=True)
    table.add_column("Days", justify="right", no_wrap=True)
    for listing, views, days in top.iter_rows():
        table.add_row(_cell(listing), f"{views:,}", f"{days:,}")
    console.print(table)

    table = _table("Lines by outcome", narrow)
    table.add_column("Outcome", ratio=2)
    table.add_column("Lines", justify="right", no_wrap=True)
    table.add_column("First seen at", ratio=2, overflow="fold")
    table.add_row("counted as a view", f"{tally.counted:,}", "")
    for reason in [*NotCounted, *Skip]:
        n = tally.reasons.get(reason.value)
        if n:
            ex = tally.examples[reason.value]
            where = os.path.basename(ex.source) if narrow else ex.source
            table.add_row(reason.value, f"{n:,}", _cell(f"{where}:{ex.line_no}"))
    table.add_section()
    table.add_row("total", f"{tally.lines:,}", "")
    console.print(table)


def render_grouped(console: Console, frame: pl.DataFrame, title: str, listings: int) -> None:
    """A grouped report (``--by``) as one table, with a totals row; numbers and dates never wrap."""
    table = _table(title, console.width < NARROW)
    numeric = ("listings", "views")
    for name in frame.columns:
        table.add_column(name.capitalize(), justify="right" if name in numeric else "left",
                         no_wrap=name != "supplier", overflow="fold")
    for row in frame.iter_rows():
        table.add_row(*[f"{v:,}" if isinstance(v, int) else _cell(str(v)) for v in row])
    total = ["total", *[""] * (len(frame.columns) - 1)]
    for i, name in enumerate(frame.columns):
        if name == "views":
            total[i] = f"{int(frame.get_column('views').sum()):,}"
        elif name == "listings":
            total[i] = f"{listings:,}"  # distinct over the whole period, not a sum of the rows
    table.add_section()
    table.add_row(*total)
    console.print(table)


def _cell(value: str) -> Text:
    """A listing id, a supplier or a file name as a table shows it: as written, never read as Rich's markup
    (a scanner's request for ``/listing/[/red]`` gave a listing id that made ``report`` fail, and ``[b]`` in
    one was shown bold and dropped), and what a terminal acts on written out (``shown``)."""
    from rich.text import Text

    return Text(shown(value))


def _table(title: str, narrow: bool) -> Table:
    from rich import box
    from rich.table import Table

    if narrow:
        return Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    return Table(title=title)


NARROW = 80  # below this many columns the bar and tables take their compact form
