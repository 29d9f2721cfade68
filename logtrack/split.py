"""Split: the fast way to cut lines whose free-text fields sit between quotes.

combined, vhost_combined, nginx's ``main`` and most custom formats are runs
of space-separated tokens with the free text (request, referrer, user agent)
in double quotes. Polars' CSV reader, told that ``"`` separates fields and
that nothing is quoted, cuts every line at its quotes in Rust on every core;
that costs a third of one whole-line regex. What lies between the quotes is
then short, and the small expressions that check and cut it are cheap.

It is exact by construction. A line takes this path only when it has exactly
as many quotes as the format writes, none of them escaped (no piece before
a quote ends in a backslash), and every unquoted piece matches its part of
the format, anchored (``formats.build`` compiles those checks in the same
walk as the whole-line regex). Then each quote of the format can only be matched by
the line's quote of the same rank, so the whole-line regex of ``formats``
would capture the very same fields. Every other line (an escaped quote, a
line cut short, an empty user agent, junk) goes through that whole-line
regex as before, so both paths agree on every line. Batches that are not
valid UTF-8, hold the marker byte, or hold a CR anywhere but at a line's
end are left to the regex path whole.

To know how many quotes a line had, the reader appends ``"\\x1e`` to every
line (``sources.MARK``): the marker lands in the column just after the
line's last piece, and a control byte that servers always escape cannot be
mistaken for text.
"""

from __future__ import annotations

import polars as pl

from .formats import LogFormat, Segment
from .sources import MARK, Batch, csv_safe

SENTINEL = MARK[1:].decode()
SPARE = 3  # columns read past the format's own, so most odd lines can be put back together


def cut(batch: Batch, fmt: LogFormat) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """(the fields of the lines split takes, the text of the lines it leaves to the regex).

    Both have ``idx`` and ``line_no``; the fields are those ``parse`` would
    capture, with ``line`` null. None when the batch is not for this path
    (no plan, not valid UTF-8, the marker byte or a stray CR in it): the
    caller parses it line by regex instead.
    """
    layout = fmt.segments
    if layout is None or not batch.marked or not csv_safe(batch.data):
        return None
    data = batch.data
    if SENTINEL.encode() in data or (b"\r" in data and (b'\r"' in data or b"\r\r" in data)):
        # The CSV reader drops a CR that ends a piece (a CRLF line end, as
        # wanted); one before a quote, or a second one, would go missing too.
        return None
    width = len(layout)
    names = [f"s{i}" for i in range(width + SPARE)]
    try:
        df = pl.read_csv(
            batch.marked, separator='"', quote_char=None, has_header=False,
            schema={name: pl.String for name in names}, truncate_ragged_lines=True,
            missing_columns="insert", extra_columns="ignore", raise_if_empty=False,
        )
    except (pl.exceptions.ComputeError, OSError):  # not valid UTF-8: the regex path finds the lines
        return None
    if df.height != batch.lines:
        return None
    df = df.with_row_index("idx").with_columns(line_no=(pl.col("idx") + batch.first_line).cast(pl.Int64))
    # Most batches hold no backslash before a quote: then no piece can end in an escape.
    escapes = b'\\"' in data
    captured = [c for seg in layout for c in seg.captures]
    quoted = [s.field for s in layout if s.regex is None and s.literal is None and s.field]
    keep = ["idx", *quoted, *captured, "line_no"]
    df = _cut(df, layout, wide=False, escapes=escapes)
    if df.get_column("_ok").all():  # the usual batch: no filter, no copy
        return df.select(keep).with_columns(line=pl.lit(None, dtype=pl.String)), _lines_of(batch, df.clear(), names)
    odd = df.lazy().filter(~pl.col("_ok")).select("idx", "line_no", *names).collect()
    parts = [df.lazy().filter(pl.col("_ok")).select(keep).collect()]
    if odd.height and any(seg.wide for seg in layout):
        # A lazy field narrowed to one token missed (a client list "a, b"): the wide form, on those lines.
        again = _cut(odd.select("idx", "line_no", *names), layout, wide=True, escapes=escapes)
        parts.append(again.filter(pl.col("_ok")).select(keep))
        odd = again.filter(~pl.col("_ok"))
    fast = pl.concat(parts) if len(parts) > 1 else parts[0]
    return fast.with_columns(line=pl.lit(None, dtype=pl.String)), _lines_of(batch, odd, names)


def _cut(df: pl.DataFrame, layout: tuple[Segment, ...], *, wide: bool, escapes: bool = True) -> pl.DataFrame:
    """The pieces checked against the format and cut into fields; ``_ok`` says which lines passed."""
    width = len(layout)
    lf = df.lazy()
    ok = pl.col(f"s{width}") == SENTINEL  # exactly the format's quotes
    fields: list[pl.Expr] = []
    for i, seg in enumerate(layout):
        col = pl.col(f"s{i}")  # an empty piece reads as null
        if escapes and i < width - 1:
            ok = ok & ~col.str.ends_with("\\").fill_null(False)  # an escaped quote: leave it to the regex
        if seg.literal is not None:
            ok = ok & (col.fill_null("") == seg.literal)
        elif seg.regex is None:
            if seg.field is not None:
                fields.append(col.fill_null("").alias(seg.field))
        else:
            regex = (seg.wide or seg.regex) if wide else seg.regex
            if seg.matches_empty:
                col = col.fill_null("")
            if seg.captures:
                lf = lf.with_columns(col.str.extract_groups(regex).alias(f"_g{i}")).unnest(f"_g{i}")
                ok = ok & pl.col(seg.captures[0]).is_not_null()
            else:
                ok = ok & col.str.contains(regex).fill_null(False)
    return lf.with_columns(*fields, _ok=ok.fill_null(False)).collect()


def _lines_of(batch: Batch, odd: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """The text of the lines the split could not take: put back together, or read again.

    Joined at quotes up to the marker, a line is whole again. A line with
    more quotes than the columns read lost its end; it is read from the
    batch's bytes (rare: several escaped quotes in one line).
    """
    joined = pl.concat_str([pl.col(n).fill_null("") for n in names], separator='"')
    rows = odd.select(
        "idx", "line_no",
        line=pl.when(joined.str.contains(MARK.decode(), literal=True))
        .then(joined.str.split_exact(MARK.decode(), 1).struct.field("field_0").str.strip_suffix("\r")),
    )
    lost = rows.filter(pl.col("line").is_null()).get_column("idx").to_list()
    if lost:
        texts = batch.text.split("\n")
        found = pl.DataFrame({"idx": lost, "_text": [texts[i].removesuffix("\r") for i in lost]},
                             schema={"idx": pl.UInt32, "_text": pl.String})
        rows = rows.join(found, on="idx", how="left").with_columns(
            line=pl.coalesce("line", "_text")
        ).drop("_text")
    return rows
