"""Parse: a batch of raw lines -> one row per line with its fields, in Polars.

Every line keeps its row. A line that cannot be used gets a ``reason`` (why
it was skipped) instead of being dropped, so the summary can account for
every line read.

Output columns: ``idx``, ``line_no``, ``line``, the format's fields,
``method`` and ``target`` (from the request line, or from the method and
URI fields a format logs apart), ``status`` (Int16), ``ts`` (the instant,
UTC), ``local_day`` (the date as the server wrote it) and ``reason``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

import polars as pl

from .. import formats as f
from .. import frames
from ..formats import LogFormat, containers
from ..formats.w3c import TIME_OF_DAY
from ..read import parts
from ..read.sources import Batch
from ..verdicts.decide import skip_reason
from ..verdicts.reasons import Skip
from . import split
from .encodings import decoded
from .json_lines import extract_json, whole_text
from .lines import batch_lines, read_lines
from .times import time_columns

# An HTTP request line: method, target, and (absent in HTTP/0.9) the protocol.
_REQUEST = r"^[A-Za-z][A-Za-z0-9_.-]* \S+(?: HTTP/[0-9.]+)?$"

OPTIONAL_FIELDS = (f.CLIENT, f.REFERRER, f.USER_AGENT, f.VHOST)


T = TypeVar("T")


def rejoined(batch: Batch, fmt: LogFormat) -> Batch:
    """The batch with the lines its container runtime split put back together (``read.parts``).

    Asked of a batch known to hold such a line (its first reading found
    one): looking for them in every batch's bytes cost more than reading
    them all (10 ms of a 16 MiB batch).
    """
    data = parts.rejoined(batch.data, fmt.parts) if fmt.parts else None
    return batch if data is None else replace(batch, data=data)


def read_joined(batch: Batch, fmt: LogFormat, read: Callable[[Batch], T],
                found_parts: Callable[[T], bool]) -> tuple[Batch, T]:
    """``read(batch)``; where it ``found_parts`` of split lines, the batch ``rejoined`` and read again.

    Reading first and joining only when needed keeps the cost off the
    batches that hold no such line: nearly all of them.
    """
    result = read(batch)
    if fmt.parts and found_parts(result) and (joined := rejoined(batch, fmt)) is not batch:
        return joined, read(joined)
    return batch, result


def lines_frame(batch: Batch) -> pl.DataFrame:
    """Split a batch into rows: ``line_no`` and ``line`` (CR of CRLF removed).

    By Polars (``lines.read_lines``); a batch it does not take is split by
    Python instead.
    """
    frame = read_lines(batch.utf8)
    if frame is None:
        lines = pl.Series(batch.text.split("\n"), dtype=pl.String)
        frame = pl.DataFrame({"line": lines.str.strip_suffix("\r")})  # the CSV reader drops it itself
        frame = frame.with_row_index("idx")
    return numbered(frame, batch)


def numbered(frame: pl.DataFrame, batch: Batch) -> pl.DataFrame:
    """``read_lines``' rows with their ``line_no`` in the file."""
    return frame.with_columns(line_no=(pl.col("idx") + batch.first_line).cast(pl.Int64))


def unwrapped_fields(batch: Batch, fmt: LogFormat, *, counting: bool = False,
                     glued: bool = False) -> pl.DataFrame | None:
    """Lines that each hold another format's line (``LogFormat.inner``: Docker's ``log``), cut at its quotes.

    The texts are the server's lines as it wrote them: one batch of them,
    each in its line's place, is cut at the quotes as the server's own file
    would be (``split.read``), at a fraction of a regex's cost. A line the
    cut leaves (a part of a split line, the server's own news, junk in the
    text) is read from its own text as any JSON line is, so its reason is
    what it was. None where a line does not decode (cut short, junk, not
    UTF-8) or the texts do not suit the split: the caller reads the batch
    line by line. ``counting``, ``glued``: as ``split.read``, ``line_fields``.
    """
    if fmt.inner is None or (lines := batch_lines(batch)) is None:
        return None
    key = containers.DOCKER_KEYS[0]  # (Docker's "log")
    try:
        texts = lines.select(pl.col("line").str.json_decode(pl.Struct({key: pl.String})).struct.field(key))
    except pl.exceptions.ComputeError:
        return None
    del lines  # (memory: read again below for the few lines the split leaves, where there are any)
    # A part of a line the runtime split has no line of its own yet (``read.parts``): it stays empty here.
    inner = texts.select(whole_text(pl.col(key)).fill_null("").str.join("\n")).item().encode()
    del texts
    # (A text holding a newline of its own makes more lines than the batch has: the split declines it.)
    cut = split.read(replace(batch, data=inner), fmt.inner, counting=counting)
    del inner
    if cut is None:
        return None
    taken, odd = frames.collect_all([cut.fields, cut.odd.select("idx")])
    if odd.is_empty():
        return taken
    lines = batch_lines(batch)
    assert lines is not None  # (it read them above)
    left = numbered(lines.join(odd, on="idx", how="semi"), batch)
    return pl.concat([taken, fields_of_lines(left, fmt, glued=glued).select(taken.columns)], how="vertical_relaxed")


def parse_lines(
    frame: pl.DataFrame,
    fmt: LogFormat,
    bad_utf8: tuple[int, ...] = (),
    timezone: str | None = None,
    log_timezone: str | None = None,
) -> pl.DataFrame:
    """Extract the fields of ``fmt`` from ``frame['line']`` and set ``reason``.

    ``timezone`` is the reporting time zone: when set, ``local_day`` is left
    empty since days then come from the instant. Times logged without an
    offset (a custom ``%{format}t`` without ``%z``) are read in
    ``log_timezone``, else in ``timezone``, else in UTC.
    """
    df = fields_of_lines(frame, fmt)
    return with_skip_reasons(df, fmt, bad_utf8, timezone, log_timezone)


def with_skip_reasons(
    df: pl.DataFrame,
    fmt: LogFormat,
    bad_utf8: tuple[int, ...] = (),
    timezone: str | None = None,
    log_timezone: str | None = None,
) -> pl.DataFrame:
    """From the format's raw fields to request parts, status, instant and reason."""
    return frames.collect(derive(df.lazy(), fmt, timezone, log_timezone).with_columns(reason=reasons(fmt, bad_utf8)))


def reasons(fmt: LogFormat, bad_utf8: tuple[int, ...]) -> pl.Expr:
    """Each line's skip reason (null: parsed); ``bad_utf8``, the lines that are not UTF-8 text.

    Such a line is damage ("invalid UTF-8") where the server escapes the
    bytes it does not write as they are (nginx's default, Apache): it holds
    bytes no such server wrote. A server that writes them raw
    (``LogFormat.raw_bytes``: nginx's escape=json, a browser's Latin-1
    agent) wrote the line as it is: it is read as any other, its odd bytes
    as U+FFFD, and counts as the same request does in the server's other logs.
    """
    return skip_reason(() if fmt.raw_bytes else bad_utf8)


def derive(lf: pl.LazyFrame, fmt: LogFormat, timezone: str | None = None,
           log_timezone: str | None = None, *, absolute: bool = True) -> pl.LazyFrame:
    """The columns a verdict reads, from the format's raw fields: lazy, so a caller's query sees them whole.

    ``timezone`` is the reporting time zone: when set, ``local_day`` is left
    empty since days then come from the instant. Times logged without an
    offset (a custom ``%{format}t`` without ``%z``) are read in
    ``log_timezone``, else in ``timezone``, else in UTC.

    ``absolute``: a target in absolute form is read as its path and query
    (``from_absolute``) in every format. False leaves that to the caller
    where the format does not always log one (the counting: ``is_absolute``
    tells the few batches that hold such a line, and only those pay for it).
    """
    names = lf.collect_schema().names()
    lf = lf.with_columns(
        pl.lit(None, dtype=pl.String).alias(name) for name in OPTIONAL_FIELDS if name not in names
    )
    if fmt.captured:  # HAProxy's "{a|b|c}" (%hr), or '"a" "b" "c"' (%hrl quoted, as option httplog clf writes it)
        block = pl.col(f.CAPTURED)
        values = pl.when(block.str.starts_with('"')).then(block.str.slice(1, block.str.len_chars() - 2)
                                                           .str.split('" "')) \
            .otherwise(block.str.extract(r"^\{([^}]*)\}", 1).str.split("|"))
        lf = lf.with_columns(values.list.get(i, null_on_oob=True).alias(name)
                             for i, name in enumerate(fmt.captured) if name)
    if fmt.encoded:
        lf = lf.with_columns(decoded(pl.col(name), how).alias(name) for name, how in fmt.encoded.items())
    # (only for a line the format does not read: a request line can look like a notice too)
    notice = (pl.col(f.STATUS).is_null() & pl.col("line").str.contains(fmt.notice)).fill_null(False) \
        if fmt.notice else pl.lit(False)
    hop = (pl.col(f.HOP) == fmt.hop[1]).fill_null(False) if fmt.hop else pl.lit(False)
    lf = lf.with_columns(request=_request_line(fmt), notice=notice, part=_part(fmt), hop=hop)
    lf = lf.with_columns(**_method_and_target(fmt))
    if fmt.absolute_targets or absolute:
        lf = from_absolute(lf, fmt)
    ts, local_day = time_columns(fmt, timezone, log_timezone)
    if timezone is not None:
        # With a reporting time zone the day comes from the instant; the
        # server's own date is not needed, and its parse is saved.
        local_day = pl.lit(None, dtype=pl.Date)
    lf = lf.with_columns(status=pl.col(f.STATUS).cast(pl.Int16, strict=False), ts=ts, local_day=local_day)
    # A year before the web or past 9999 is a damaged time, not a day to report.
    # (Checked on the parsed columns: an expression written twice is computed twice.)
    # (Compared as numbers since 1970: a year taken apart costs more than the strptime it checks.)
    ts, day = pl.col("ts"), pl.col("local_day")
    return lf.with_columns(ts=pl.when(ts.dt.epoch("us").is_between(0, _YEAR_10000_US - 1)).then(ts),
                           local_day=pl.when(day.cast(pl.Int32).is_between(0, _YEAR_10000_DAYS - 1)).then(day))


def _part(fmt: LogFormat) -> pl.Expr:
    """Whether a line the format does not read is a part of one its container runtime split (``read.parts``)."""
    line = pl.col("line")
    if fmt.parts == containers.CRI:
        part = line.str.contains(containers.CRI_PART)
    elif fmt.parts == containers.DOCKER:  # (the whole shape is the reader's: here every line has it)
        # (Polars asks the slow regex only where the fast one did not say: a text ending in backslashes)
        whole = pl.when(~line.str.contains(containers.DOCKER_NEWLINE)).then(
            line.str.contains(containers.DOCKER_WHOLE)).otherwise(True)
        part = line.str.starts_with(containers.DOCKER_HEAD) & ~whole
    else:
        return pl.lit(False)
    return (pl.col(f.STATUS).is_null() & part).fill_null(False)


_YEAR_10000_US = 253_402_300_800_000_000  # 10000-01-01T00:00:00Z, µs since 1970
_YEAR_10000_DAYS = 2_932_897  # ... in days


def parse_batch(batch: Batch, fmt: LogFormat, timezone: str | None = None,
                log_timezone: str | None = None) -> pl.DataFrame:
    """A batch's rows: split at its quotes where the format allows, else line by regex.

    A batch that turns out to hold parts of lines a container runtime
    split is read again with them joined (``rejoined``).
    """
    def read(batch: Batch) -> pl.DataFrame:
        fields, bad_utf8 = fields_of(batch, fmt)
        return with_skip_reasons(fields, fmt, bad_utf8, timezone, log_timezone)

    return read_joined(batch, fmt, read, lambda rows: bool((rows.get_column("reason") == Skip.PART).any()))[1]


def fields_of(batch: Batch, fmt: LogFormat) -> tuple[pl.DataFrame, tuple[int, ...]]:
    """The format's raw fields of every line, and the indices of lines that were not valid UTF-8.

    Split at the quotes where the format and the batch allow, else line by regex (or JSON).
    """
    fields = unwrapped_fields(batch, fmt)
    if fields is None:
        fields = split_fields(batch, fmt)
    if fields is not None:
        return fields, ()
    return line_fields(batch, fmt)


def line_fields(batch: Batch, fmt: LogFormat, *, glued: bool = False) -> tuple[pl.DataFrame, tuple[int, ...]]:
    """The format's raw fields of every line by the line regex (or JSON), and the lines not valid UTF-8."""
    return fields_of_lines(lines_frame(batch), fmt, glued=glued), batch.bad_utf8


def fields_of_lines(frame: pl.DataFrame, fmt: LogFormat, *, glued: bool = False) -> pl.DataFrame:
    """The format's raw fields of the lines in ``frame['line']``: decoded as JSON, or by the line regex."""
    if fmt.is_json:
        return extract_json(frame, fmt)
    return line_regex_fields(frame, fmt, glued=glued)


def split_fields(batch: Batch, fmt: LogFormat) -> pl.DataFrame | None:
    """The format's fields, cut by ``split``, and by the line regex for the lines split leaves.

    None when split does not take this batch.
    """
    pieces = split.cut(batch, fmt)
    if pieces is None:
        return None
    fast, odd = pieces
    if odd.height == 0:
        return fast
    return pl.concat([fast, fields_of_lines(odd, fmt).select(fast.columns)], how="vertical_relaxed")


Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def line_regex_fields(frame: Frame, fmt: LogFormat, *, glued: bool = False) -> Frame:
    """The format's fields as columns: the fast expression first, the full one for what it missed.

    A lazy frame gives a lazy one, so that a caller's query can take it in
    (the lines the quote split leaves, in ``count_batch``); a collected one
    is retried only when some line was missed. ``glued``: the lines are read
    again after a crash cut the file back, and one may be the remains of a
    cut line with the next line written onto it: a line no expression takes
    is read by its tail (``LogFormat.glued_regex``).
    """
    if fmt.columns and fmt.w3c_separator:
        return _columns(frame, fmt, fmt.w3c_separator)
    df = frame.with_columns(pl.col("line").str.extract_groups(fmt.fast_regex).alias("_f")).unnest("_f")
    for regex in ([fmt.regex] if fmt.fast_regex != fmt.regex else []) + ([fmt.glued_regex] if glued else []):
        missed = df.filter(pl.col(f.STATUS).is_null()).select("idx", "line")
        if isinstance(missed, pl.DataFrame) and missed.height == 0:
            break
        retry = missed.select("idx", pl.col("line").str.extract_groups(regex).alias("_f")).unnest("_f")
        df = df.update(retry, on="idx")
    return df


def _columns(frame: Frame, fmt: LogFormat, separator: str) -> Frame:
    """A W3C line's fields, cut at its separator: what the line regex captures, cheaper.

    Whether a line fits is the line regex's plain yes/no (a DFA, no
    captures); its values are then cut at the separator, up to the last
    one read, which on a line that fits are exactly the regex's captures.
    """
    line = pl.col("line")
    ok = line.str.contains(fmt.regex)
    wanted = {i: name for i, name in enumerate(fmt.columns) if name is not None}
    parts = line.str.split_exact(separator, max(wanted))
    fields: dict[str, pl.Expr] = {name: pl.when(ok).then(parts.struct.field(f"field_{i}"))
                                  for i, name in wanted.items()}
    if f.TIME in fields:
        fields[f.TIME] = fields[f.TIME] + separator + fields.pop(TIME_OF_DAY)
    return frame.with_columns(**fields)


def _method_and_target(fmt: LogFormat) -> dict[str, pl.Expr]:
    """``method`` and ``target`` of a well-formed request (else null), from the line ``_request_line`` gives.

    A request line logged whole is checked by a plain yes/no (a DFA) and
    cut at its spaces: where it matches, the method and target are its
    first two space-free words. One put together from fields keeps them as
    logged: a path the server decoded (nginx's ``$uri``, Apache's ``%U``)
    holds a space where the request had ``%20``.
    """
    if f.REQUEST in fmt.fields:
        request = pl.col(f.REQUEST)
        well_formed = request.str.contains(_REQUEST)
        words = request.str.splitn(" ", 3)
        return {"method": pl.when(well_formed).then(words.struct.field("field_0")),
                "target": pl.when(well_formed).then(words.struct.field("field_1"))}
    method, target = _method(fmt), _target(fmt)
    well_formed = method.str.contains(_METHOD) & target.str.contains(r"^\S")
    return {"method": pl.when(well_formed).then(method), "target": pl.when(well_formed).then(target)}


_METHOD = r"^[A-Za-z][A-Za-z0-9_.-]*$"  # (as _REQUEST's first word)


def _method(fmt: LogFormat) -> pl.Expr:
    return pl.col(f.METHOD) if f.METHOD in fmt.fields else pl.lit("GET")


def _target(fmt: LogFormat) -> pl.Expr:
    """The target a format logs apart from its method: whole, or its path and query."""
    if f.TARGET in fmt.fields:
        return pl.col(f.TARGET)
    query = pl.col(f.QUERY) if f.QUERY in fmt.fields else pl.lit(None, dtype=pl.String)
    # (Apache's %q is the query with its "?", nginx's $args without)
    return pl.col(f.PATH) + pl.when(query.is_in(["", "-"]) | query.is_null()).then(
        pl.lit("")
    ).otherwise("?" + query.str.strip_prefix("?"))


def _request_line(fmt: LogFormat) -> pl.Expr:
    """The request line, logged whole or put together from method and URI fields.

    A format that logs no method (only the URI) gives every line the method
    GET: the page was asked for, and a GET is what a browser's view is.
    """
    if f.REQUEST in fmt.fields:
        return pl.col(f.REQUEST)
    method = _method(fmt)
    return pl.when(method.is_in(["", "-"])).then(pl.lit("-")).otherwise(method + " " + _target(fmt))


_ABSOLUTE = r"^[A-Za-z][A-Za-z0-9+.-]*://(?P<authority>[^/?#\s]*)(?P<rest>.*)$"


def is_absolute(fmt: LogFormat) -> pl.Expr:
    """Rows whose target ``from_absolute`` may change (not a path: a URL, ``*``, junk), where a caller
    left it out of ``derive``; a prefix test, cheap on every row."""
    if fmt.absolute_targets:
        return pl.lit(False)
    return ~pl.col("target").str.starts_with("/")


def from_absolute(lf: pl.LazyFrame, fmt: LogFormat) -> pl.LazyFrame:
    """Targets written as absolute URLs -> their path and query; their host the vhost if none is logged.

    The server serves such a request (``GET http://host/listing/1 HTTP/1.1``)
    as the page of its path, in the virtual host the URL names: Varnish's
    varnishncsa writes every request so, as the load balancers and CDNs do;
    on nginx and Apache it comes from a client that takes the server for a
    proxy. A target that is no URL (a path, ``*``) is left as it is.
    """
    target = pl.col("target")
    # one pass: both parts, or nulls for a path; asked only of the targets that are no path (``is_absolute``):
    # a batch holding one such request read every target through the regex
    urls = target if fmt.absolute_targets else pl.when(is_absolute(fmt)).then(target)
    parts = urls.str.extract_groups(_ABSOLUTE)
    authority, rest = parts.struct.field("authority"), parts.struct.field("rest")
    lf = lf.with_columns(
        target=pl.when(authority.is_null()).then(target).when(rest == "").then(pl.lit("/")).otherwise(rest),
        **({} if f.VHOST in fmt.fields else {f.VHOST: authority.str.replace(r"^[^@]*@", "")}),
    )
    return lf
