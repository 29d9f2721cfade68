"""Lines: a batch's bytes -> one row per line, cut by Polars' CSV reader.

Told there is no quoting and a separator that does not occur, the reader
splits lines in Rust, on every core and without the GIL, and keeps blank
lines as rows: a few milliseconds on 16 MiB, where any split in Python
holds the GIL for longer than that.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import polars as pl

from ..read.sources import Batch, csv_safe

NO_SEPARATOR = "\x1f"  # a control byte servers escape, so never in a real line
BOM = b"\xef\xbb\xbf"  # UTF-8's byte order mark: a file an editor saved starts with it, and the reader drops it


def _readable(data: bytes) -> bool:
    """Whether ``read_lines`` reads ``data`` (Polars' CSV reader takes it as the text it is)."""
    return bool(data) and NO_SEPARATOR.encode() not in data and csv_safe(data)


def read_lines(data: bytes, rows: int | None = None) -> pl.DataFrame | None:
    """``idx`` and ``line`` of each line of ``data`` (joined by newlines, as a batch's), "" for a blank one;
    with ``rows``, of its first ``rows`` lines only.

    The CR of a CRLF line end is dropped, as the line regex path drops it;
    one before it, or anywhere else, stays. None where the reader does not
    take ``data`` (``_readable``) or it is not valid UTF-8 (all of it, even
    past ``rows``: the reader checks it whole): the caller splits it in
    Python.
    """
    if data == BOM:  # (the reader drops a leading byte order mark, and with it the one line that held only it)
        return pl.DataFrame({"idx": [0], "line": [""]}, schema={"idx": pl.UInt32, "line": pl.String})
    if not _readable(data):
        return None
    try:
        lines = pl.read_csv(
            data, separator=NO_SEPARATOR, quote_char=None, has_header=False, schema={"line": pl.String},
            raise_if_empty=False,
            # The reader's own row index comes in the same chunks as the lines: an index added
            # afterwards is one chunk against their several, and every later step realigned them all.
            row_index_name="idx", n_rows=rows,
        )
    except (pl.exceptions.ComputeError, OSError):  # not valid UTF-8
        return None
    if data.endswith(b"\n") and (rows is None or lines.height < rows):
        # the reader ends a last line at its newline: the blank line after it is a row too
        last = pl.DataFrame({"idx": [lines.height], "line": [""]}, schema=lines.schema)
        lines = pl.concat([lines, last])
    return lines.with_columns(pl.col("line").fill_null(""))  # (a blank line reads as null)


def batch_lines(batch: Batch) -> pl.DataFrame | None:
    """``read_lines`` of a batch, or None where it does not give the batch's own number of lines (the cuts
    that read them line for line in place need every line in its row)."""
    lines = read_lines(batch.data)
    return lines if lines is not None and lines.height == batch.lines else None


def file_starts(parts: Sequence[Batch]) -> tuple[int, ...]:
    """Where each of several whole files' lines begins, once they are joined as one batch (line indices)."""
    return tuple(itertools.accumulate((part.lines for part in parts[:-1]), initial=0))


def file_of(starts: Sequence[int]) -> pl.Expr:
    """Which of the files joined as one batch a line (``idx``) is of (0, 1, ...): ``starts`` from ``file_starts``."""
    return pl.lit(pl.Series(starts[1:], dtype=pl.Int64)).search_sorted(pl.col("idx").cast(pl.Int64), side="right")
