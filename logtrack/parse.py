"""Parse: a batch of raw lines -> one row per line with its fields, in Polars.

Every line keeps its row. A line that cannot be used gets a ``reason`` (why
it was skipped) instead of being dropped, so the summary can account for
every line read.
"""

from __future__ import annotations

from enum import StrEnum

import polars as pl

from . import formats
from .formats import LogFormat
from .sources import Batch

CLF_TIME = "%d/%b/%Y:%H:%M:%S %z"


class Skip(StrEnum):
    """Why a line is not a usable record. Values are what the summary prints."""

    INVALID_UTF8 = "invalid UTF-8"
    BLANK = "blank line"
    UNPARSABLE = "does not match the log format"
    BAD_TIME = "bad timestamp"
    NO_REQUEST = "request names no page"
    MALFORMED_REQUEST = "malformed request line"


# Reasons that mean the log itself is damaged or in another format; --strict
# fails on them. A "-" 408 or a garbage request line is something the server
# really received and logged faithfully, so those are skipped quietly.
DAMAGED = frozenset({Skip.INVALID_UTF8, Skip.UNPARSABLE, Skip.BAD_TIME})

# An HTTP request line: method, target, and (absent in HTTP/0.9) the protocol.
_REQUEST = r"^(?P<method>[A-Za-z][A-Za-z0-9_.-]*) (?P<target>\S+)(?: HTTP/[0-9.]+)?$"

OPTIONAL_FIELDS = (formats.CLIENT, formats.REFERRER, formats.USER_AGENT, formats.VHOST)


def lines_frame(batch: Batch) -> pl.DataFrame:
    """Split a batch into rows: ``line_no`` and ``line`` (CR of CRLF removed)."""
    # str.split is one C call and beats Polars' split + explode here.
    frame = pl.DataFrame({"line": pl.Series(batch.text.split("\n"), dtype=pl.String)})
    frame = frame.with_row_index("idx")
    return frame.with_columns(
        line_no=(pl.col("idx") + batch.first_line).cast(pl.Int64),
        line=pl.col("line").str.strip_suffix("\r"),
    )


def parse_lines(frame: pl.DataFrame, fmt: LogFormat, bad_utf8: tuple[int, ...] = ()) -> pl.DataFrame:
    """Extract the fields of ``fmt`` from ``frame['line']`` and set ``reason``."""
    df = _extract(frame, fmt)
    df = df.with_columns(
        pl.lit(None, dtype=pl.String).alias(name)
        for name in OPTIONAL_FIELDS
        if name not in fmt.fields
    )
    request = pl.col(formats.REQUEST).str.extract_groups(_REQUEST).alias("_r")
    df = df.with_columns(request).unnest("_r")
    time = pl.col(formats.TIME)
    df = df.with_columns(
        status=pl.col(formats.STATUS).cast(pl.Int16, strict=False),
        ts=time.str.strptime(pl.Datetime("us", "UTC"), CLF_TIME, strict=False),
        local_day=time.str.slice(0, 11).str.strptime(pl.Date, "%d/%b/%Y", strict=False),
    )
    return df.with_columns(reason=_reason(bad_utf8))


def _extract(frame: pl.DataFrame, fmt: LogFormat) -> pl.DataFrame:
    """The format's fields as columns: the fast expression first, the full one for what it missed."""
    df = frame.with_columns(pl.col("line").str.extract_groups(fmt.fast_regex).alias("_f")).unnest("_f")
    if fmt.fast_regex == fmt.regex:
        return df
    missed = df.filter(pl.col(formats.STATUS).is_null()).select("idx", "line")
    if missed.height == 0:
        return df
    retry = missed.select("idx", pl.col("line").str.extract_groups(fmt.regex).alias("_f")).unnest("_f")
    return df.update(retry, on="idx")


def _reason(bad_utf8: tuple[int, ...]) -> pl.Expr:
    request = pl.col(formats.REQUEST)
    return (
        pl.when(pl.col("idx").is_in(list(bad_utf8)))
        .then(pl.lit(Skip.INVALID_UTF8.value))
        .when(pl.col("line").str.strip_chars() == "")
        .then(pl.lit(Skip.BLANK.value))
        .when(pl.col("status").is_null())
        .then(pl.lit(Skip.UNPARSABLE.value))
        .when(pl.col("ts").is_null())
        .then(pl.lit(Skip.BAD_TIME.value))
        .when(request.is_in(["-", ""]))
        .then(pl.lit(Skip.NO_REQUEST.value))
        .when(pl.col("method").is_null())
        .then(pl.lit(Skip.MALFORMED_REQUEST.value))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def parse_batch(batch: Batch, fmt: LogFormat) -> pl.DataFrame:
    return parse_lines(lines_frame(batch), fmt, batch.bad_utf8)
