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

import json
import math
import re
from collections.abc import Callable
from typing import TypeVar

import polars as pl

from .. import formats as f
from .. import frames
from ..formats import LogFormat
from ..formats.nginx import GLUED_ARGS
from ..formats.w3c import TIME_OF_DAY
from ..read.sources import Batch, csv_safe
from ..verdicts.decide import skip_reason
from . import split

# An HTTP request line: method, target, and (absent in HTTP/0.9) the protocol.
_REQUEST = r"^[A-Za-z][A-Za-z0-9_.-]* \S+(?: HTTP/[0-9.]+)?$"

OPTIONAL_FIELDS = (f.CLIENT, f.REFERRER, f.USER_AGENT, f.VHOST)
_PAIR = "\ue000"  # stands in for an escaped backslash while \xHH escapes are rewritten


_NO_SEPARATOR = "\x1f"  # a control byte servers escape, so never in a real line


def lines_frame(batch: Batch) -> pl.DataFrame:
    """Split a batch into rows: ``line_no`` and ``line`` (CR of CRLF removed).

    Polars' CSV reader, told there is no quoting and a separator that does
    not occur, splits lines in Rust on every core and keeps blank lines as
    rows. A batch that holds that byte after all is split by Python instead.
    """
    data = batch.utf8
    if data and _NO_SEPARATOR.encode() not in data and csv_safe(data):
        frame = pl.read_csv(
            data + b"\n", separator=_NO_SEPARATOR, quote_char=None, has_header=False,
            new_columns=["line"], schema={"line": pl.String},
            row_index_name="idx",  # in the lines' own chunks (see split.read)
        ).with_columns(pl.col("line").fill_null(""))
    else:
        lines = pl.Series(batch.text.split("\n"), dtype=pl.String)
        frame = pl.DataFrame({"line": lines.str.strip_suffix("\r")})  # the CSV reader drops it itself
        frame = frame.with_row_index("idx")
    return frame.with_columns(line_no=(pl.col("idx") + batch.first_line).cast(pl.Int64))


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
    return frames.collect(derive(df.lazy(), fmt, timezone, log_timezone).with_columns(reason=skip_reason(bad_utf8)))


def derive(lf: pl.LazyFrame, fmt: LogFormat, timezone: str | None = None,
           log_timezone: str | None = None) -> pl.LazyFrame:
    """The columns a verdict reads, from the format's raw fields: lazy, so a caller's query sees them whole.

    ``timezone`` is the reporting time zone: when set, ``local_day`` is left
    empty since days then come from the instant. Times logged without an
    offset (a custom ``%{format}t`` without ``%z``) are read in
    ``log_timezone``, else in ``timezone``, else in UTC.
    """
    names = lf.collect_schema().names()
    lf = lf.with_columns(
        pl.lit(None, dtype=pl.String).alias(name) for name in OPTIONAL_FIELDS if name not in names
    )
    if fmt.captured:
        values = pl.col(f.CAPTURED).str.extract(r"^\{([^}]*)\}", 1).str.split("|")
        lf = lf.with_columns(values.list.get(i, null_on_oob=True).alias(name)
                             for i, name in enumerate(fmt.captured) if name)
    if fmt.encoded:
        lf = lf.with_columns(decoded(pl.col(name), how).alias(name) for name, how in fmt.encoded.items())
    # (only for a line the format does not read: a request line can look like a notice too)
    notice = (pl.col(f.STATUS).is_null() & pl.col("line").str.contains(fmt.notice)).fill_null(False) \
        if fmt.notice else pl.lit(False)
    lf = lf.with_columns(request=_request_line(fmt), notice=notice)
    # The request line's shape is checked by a plain yes/no (a DFA) and cut at its spaces:
    # where it matches, the method and target are its first two space-free words.
    request = pl.col(f.REQUEST)
    well_formed = request.str.contains(_REQUEST)
    words = request.str.splitn(" ", 3)
    lf = lf.with_columns(method=pl.when(well_formed).then(words.struct.field("field_0")),
                         target=pl.when(well_formed).then(words.struct.field("field_1")))
    if fmt.absolute_targets:
        lf = _from_absolute(lf, fmt)
    ts, local_day = _time(fmt, log_timezone or timezone)
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


_YEAR_10000_US = 253_402_300_800_000_000  # 10000-01-01T00:00:00Z, µs since 1970
_YEAR_10000_DAYS = 2_932_897  # ... in days


def parse_batch(batch: Batch, fmt: LogFormat, timezone: str | None = None,
                log_timezone: str | None = None) -> pl.DataFrame:
    """A batch's rows: split at its quotes where the format allows, else line by regex."""
    fields, bad_utf8 = fields_of(batch, fmt)
    return with_skip_reasons(fields, fmt, bad_utf8, timezone, log_timezone)


def fields_of(batch: Batch, fmt: LogFormat) -> tuple[pl.DataFrame, tuple[int, ...]]:
    """The format's raw fields of every line, and the indices of lines that were not valid UTF-8.

    Split at the quotes where the format and the batch allow, else line by regex (or JSON).
    """
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
        return _extract_json(frame, fmt)
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


JSON_SLICE = 4096  # lines decoded at a time: Polars' decoder needs many times a slice's text in memory


def _extract_json(frame: pl.DataFrame, fmt: LogFormat) -> pl.DataFrame:
    """Decode JSON lines, a slice at a time (so memory stays that of the split path's batches)."""
    if frame.height <= JSON_SLICE:
        return _extract_json_slice(frame, fmt)
    return pl.concat([_extract_json_slice(frame.slice(start, JSON_SLICE), fmt)
                      for start in range(0, frame.height, JSON_SLICE)])


def _extract_json_slice(frame: pl.DataFrame, fmt: LogFormat) -> pl.DataFrame:
    """Decode JSON lines with Polars; keys map to fields through the template.

    nginx's escape=default writes ``\\xHH``, which JSON does not know: such
    lines get ``\\u00HH`` first. Numbers are read as text like everything else.
    """
    line = pl.col("line")
    text = (
        pl.when(~line.str.contains(fmt.regex))
        .then(pl.lit(None, dtype=pl.String))
        .when(line.str.contains("\\x", literal=True))
        .then(
            line.str.replace_all("\\\\", _PAIR, literal=True)  # an escaped backslash is not an escape
            .str.replace_all(r"\\x([0-9A-Fa-f]{2})", r"\u00$1")
            .str.replace_all(_PAIR, "\\\\", literal=True)
        )
        .otherwise(line)
    )
    paths = fmt.json_paths
    dtype = _json_dtype(list(paths.values()))
    prepared = frame.select("idx", text.alias("_json"))
    try:
        decoded = prepared.select("idx", pl.col("_json").str.json_decode(dtype).alias("_f"))
    except pl.exceptions.ComputeError:
        # A line that looks like JSON but is not, or holds an object where text is wanted: find it
        # (the only per-line Python here, and only for a batch that has such a line) and skip it; a raw
        # control character in a string is escaped instead.
        fitted = [_fitted(t, list(paths.values())) for t in prepared.get_column("_json").to_list()]
        prepared = prepared.with_columns(_json=pl.Series(fitted, dtype=pl.String))
        try:
            decoded = prepared.select("idx", pl.col("_json").str.json_decode(dtype).alias("_f"))
        except pl.exceptions.ComputeError:  # what Python's decoder takes and Polars' does not: line by line
            decoded = pl.concat([_decoded_or_null(prepared.slice(i, 1), dtype) for i in range(prepared.height)])
    fields = decoded.select("idx", *(_pluck(pl.col("_f"), path).alias(name) for name, path in paths.items()))
    for key, regex in fmt.json_parts.items():  # a key's text that holds several fields: cut by its own regex
        part = f.json_part(key)
        fields = fields.with_columns(pl.col(part).str.extract_groups(regex).alias(part)).unnest(part)
    return frame.join(fields, on="idx", how="left", maintain_order="left")


def _json_dtype(paths: list[tuple[str | int, ...]]) -> pl.DataType:
    """The Polars type that decodes just these paths, every value read as text."""
    tree: dict[str, object] = {}
    for path in paths:
        node = tree
        for i, step in enumerate(path):
            if isinstance(step, int):
                break
            last = i == len(path) - 1 or isinstance(path[i + 1], int)
            if last:
                node[step] = pl.List(pl.String) if i < len(path) - 1 else pl.String
            else:
                node = node.setdefault(step, {})  # type: ignore[assignment]

    def build(node: dict[str, object]) -> pl.DataType:
        return pl.Struct({k: build(v) if isinstance(v, dict) else v for k, v in node.items()})  # type: ignore[misc]

    return build(tree)


def _pluck(value: pl.Expr, path: tuple[str | int, ...]) -> pl.Expr:
    for step in path:
        value = value.list.get(step, null_on_oob=True) if isinstance(step, int) else value.struct.field(step)
    return value


WRONG_KIND = object()  # ``json_value``: a step of the path met a value of another kind


def json_value(value: object, path: tuple[str | int, ...]) -> object:
    """The value at ``path`` in a decoded JSON line: None where it is absent, ``WRONG_KIND`` where a
    step meets a value of another kind (text where an object or a list should be)."""
    for step in path:
        if value is None:
            return None
        if isinstance(step, int):
            if not isinstance(value, list):
                return WRONG_KIND
            value = value[step] if len(value) > step else None
        else:
            if not isinstance(value, dict):
                return WRONG_KIND
            value = value.get(step)
    return value


def is_text(value: object) -> bool:
    """Whether a JSON value can be read as one field's text (absent counts: the field is then null)."""
    return value is not WRONG_KIND and not isinstance(value, dict | list)


def _fitted(text: str | None, paths: list[tuple[str | int, ...]]) -> str | None:
    """The line, as Polars' decoder reads it, if it is a JSON object whose values at ``paths`` are text,
    numbers or absent; else None.

    A control character written raw inside a string (nginx's ``escape=none``
    does; JSON wants it escaped) is taken as the character it is, as the
    quote split takes it: Python's decoder is told to (``strict=False``),
    and the line is given to Polars' with it escaped.
    """
    if text is None:
        return None
    try:
        value = json.loads(text, strict=False, parse_constant=_not_json, parse_float=_finite)
    except (ValueError, RecursionError):  # (nested deeper than Python's stack: no log line is)
        return None
    if not (isinstance(value, dict) and all(is_text(json_value(value, path)) for path in paths)):
        return None
    return _escape_raw_controls(text) if _RAW_CONTROL.search(text) else text


_RAW_CONTROL = re.compile(r"[\x00-\x1f]")


def _not_json(constant: str) -> float:
    """NaN and Infinity, which Python's decoder reads and JSON (and Polars') does not."""
    raise ValueError(f"{constant} is not JSON")


def _finite(number: str) -> float:
    """A number Polars' decoder reads too: one past a float's range (1e999) it refuses."""
    value = float(number)
    if not math.isfinite(value):
        raise ValueError(f"{number} is out of range")
    return value


def _decoded_or_null(row: pl.DataFrame, dtype: pl.DataType) -> pl.DataFrame:
    """One line decoded by Polars, or null where it refuses it."""
    try:
        return row.select("idx", pl.col("_json").str.json_decode(dtype).alias("_f"))
    except pl.exceptions.ComputeError:
        return row.select("idx", pl.lit(None, dtype=dtype).alias("_f"))


def _escape_raw_controls(text: str) -> str:
    """Control characters inside the strings of a JSON text as ``\\u00XX``; the white space between its
    tokens (a tab, a CR) left as it is. A walk over the characters, for the rare line that has them."""
    out: list[str] = []
    inside = escaped = False
    for ch in text:
        if inside:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                inside = False
            elif ch < " ":
                ch = f"\\u{ord(ch):04x}"
        elif ch == '"':
            inside = True
        out.append(ch)
    return "".join(out)


def _request_line(fmt: LogFormat) -> pl.Expr:
    """The request line, logged whole or put together from method and URI fields.

    A format that logs no method (only the URI) gives every line the method
    GET: the page was asked for, and a GET is what a browser's view is.
    """
    if f.REQUEST in fmt.fields:
        return pl.col(f.REQUEST)
    method = pl.col(f.METHOD) if f.METHOD in fmt.fields else pl.lit("GET")
    if f.TARGET in fmt.fields:
        target = pl.col(f.TARGET)
    else:
        query = pl.col(f.QUERY) if f.QUERY in fmt.fields else pl.lit(None, dtype=pl.String)
        # (Apache's %q is the query with its "?", nginx's $args without)
        target = pl.col(f.PATH) + pl.when(query.is_in(["", "-"]) | query.is_null()).then(
            pl.lit("")
        ).otherwise("?" + query.str.strip_prefix("?"))
    return pl.when(method.is_in(["", "-"])).then(pl.lit("-")).otherwise(method + " " + target)


_ABSOLUTE = r"^[A-Za-z][A-Za-z0-9+.-]*://(?P<authority>[^/?#\s]*)(?P<rest>.*)$"


def _from_absolute(lf: pl.LazyFrame, fmt: LogFormat) -> pl.LazyFrame:
    """Targets written as absolute URLs -> their path and query; their host the vhost if none is logged."""
    target = pl.col("target")
    parts = target.str.extract_groups(_ABSOLUTE)  # one pass: both parts, or nulls for a path
    authority, rest = parts.struct.field("authority"), parts.struct.field("rest")
    lf = lf.with_columns(
        target=pl.when(authority.is_null()).then(target).when(rest == "").then(pl.lit("/")).otherwise(rest),
        **({} if f.VHOST in fmt.fields else {f.VHOST: authority.str.replace(r"^[^@]*@", "")}),
    )
    return lf


def decoded(text: pl.Expr, how: str) -> pl.Expr:
    """A field's text as the client sent it, from how the log encodes it.

    ``haproxy``: HAProxy writes ``"``, ``#``, ``{``, ``|``, ``}``, control
    and non-ASCII bytes of captured headers as ``#`` and two hex digits.
    ``url``: percent-encoded (CloudFront). Both are decoded once per distinct
    value that holds an escape. ``plus``: a space written as ``+`` (IIS; a
    ``+`` the client sent reads as a space too, as IIS leaves no way to
    tell them apart). ``nginx_args``: nginx's ``$uri$is_args$args``, whose
    ``$args`` is a "-" after a path without a query string.
    """
    if how == "plus":
        return text.str.replace_all("+", " ", literal=True)
    if how == GLUED_ARGS:  # nginx's "$uri$is_args$args" without a query string: the path, then "-"
        return pl.when(~text.str.contains("?", literal=True)).then(text.str.strip_suffix("-")).otherwise(text)
    if how in _DECODERS:
        return text.map_batches(lambda values: _decode_distinct(values, how), return_dtype=pl.String)
    raise ValueError(f"unknown encoding {how!r}")


def _bytes_decoded(escape: str) -> Callable[[str], str]:
    """``escape`` and two hex digits -> that byte, the bytes read as UTF-8 (Python, once per value)."""
    pattern = re.compile(re.escape(escape).encode() + rb"([0-9A-Fa-f]{2})")
    return lambda value: pattern.sub(lambda m: bytes([int(m.group(1), 16)]), value.encode()).decode(
        "utf-8", "replace")


_DECODERS: dict[str, str] = {"haproxy": "#", "url": "%"}


def _decode_distinct(values: pl.Series, how: str) -> pl.Series:
    """Decode a column's ``#XX`` / ``%XX`` escapes: once per distinct value, in Polars where they stand for ASCII.

    Each escape that occurs is replaced in the distinct values as a whole
    column, the escape character's own last (so that ``%2520`` reads
    ``%20``, as one decoding does). A value with an escaped byte of a
    multi-byte character is decoded by Python (rare: a referrer with a
    non-ASCII query).
    """
    escape = _DECODERS[how]
    distinct = values.filter(values.str.contains(escape, literal=True).fill_null(False)).unique()
    if distinct.len() == 0:
        return values
    pattern = re.escape(escape) + "[0-9A-Fa-f]{2}"
    codes = distinct.str.extract_all(pattern).explode().drop_nulls().unique().to_list()
    own = f"{ord(escape):02X}"
    out = distinct
    for code in sorted(codes, key=lambda c: c[1:].upper() == own):
        byte = int(code[1:], 16)
        if byte < 0x80:
            out = out.str.replace_all(code, chr(byte), literal=True)
    wide = distinct.str.contains(re.escape(escape) + "[89A-Fa-f][0-9A-Fa-f]")
    if wide.any():  # escaped bytes of multi-byte characters: those values by Python, once each
        decode = _bytes_decoded(escape)
        out = out.zip_with(~wide, distinct.replace({v: decode(v) for v in distinct.filter(wide).to_list()}))
    return values.replace(distinct, out)


def _time(fmt: LogFormat, naive_timezone: str | None) -> tuple[pl.Expr, pl.Expr]:
    """(instant in UTC, date as the server wrote it) for the format's kind of time."""
    text = pl.col(f.TIME)
    utc = pl.Datetime("us", "UTC")
    if fmt.time_kind == f.CLF:
        return (
            text.str.strptime(utc, f.CLF_FORMAT, strict=False),
            text.str.slice(0, 11).str.strptime(pl.Date, "%d/%b/%Y", strict=False),
        )
    if fmt.time_kind == f.ISO8601:
        return _iso(text)
    if fmt.time_kind in (f.EPOCH, f.EPOCH_MS, f.EPOCH_US):
        if fmt.time_kind == f.EPOCH:
            micros = _epoch_micros(text)
        else:
            scale = 1000 if fmt.time_kind == f.EPOCH_MS else 1
            micros = text.cast(pl.Int64, strict=False) * scale
        instant = _utc(micros)
        # an epoch carries no offset: the day the server wrote is the UTC day
        return instant, instant.dt.date()
    if fmt.time_kind == f.INSTANT:
        # A whole number's unit by its size: seconds until the year 5138, then ms, us, ns.
        whole = text.cast(pl.Int64, strict=False)
        micros = (pl.when(whole < 10**11).then(whole * 1_000_000).when(whole < 10**14).then(whole * 1000)
                  .when(whole < 10**17).then(whole).otherwise(whole // 1000))
        epoch = _utc(pl.coalesce(micros, _epoch_micros(text)))
        iso, iso_day = _iso(text)
        return pl.coalesce(iso, epoch), pl.coalesce(iso_day, epoch.dt.date())
    if fmt.time_kind == f.UTC_WALL:
        assert fmt.time_format
        wall = text.str.strptime(pl.Datetime("us"), fmt.time_format, strict=False)
        return wall.dt.replace_time_zone("UTC"), wall.dt.date()
    assert fmt.time_kind == f.STRFTIME and fmt.time_format
    if "%z" in fmt.time_format:
        return text.str.strptime(utc, fmt.time_format, strict=False), _wall_date(text, fmt.time_format)
    wall = text.str.strptime(pl.Datetime("us"), fmt.time_format, strict=False)
    instant = wall.dt.replace_time_zone(
        naive_timezone or "UTC", ambiguous="earliest", non_existent="null"
    ).dt.convert_time_zone("UTC")
    return instant, wall.dt.date()


def _iso(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """RFC 3339 / ISO 8601 with an offset or Z: (instant, the date as written)."""
    iso = text.str.replace(r"Z$", "+00:00")
    return (
        iso.str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%dT%H:%M:%S%.f%:z", strict=False),
        iso.str.slice(0, 10).str.strptime(pl.Date, "%Y-%m-%d", strict=False),
    )


def _epoch_micros(text: pl.Expr) -> pl.Expr:
    """Epoch seconds with an optional fraction -> microseconds (null when not a number so written)."""
    parts = text.str.split_exact(".", 1)
    seconds = parts.struct.field("field_0").cast(pl.Int64, strict=False)
    fraction = parts.struct.field("field_1").fill_null("").str.pad_end(6, "0").str.slice(0, 6)
    return seconds * 1_000_000 + fraction.cast(pl.Int64, strict=False)


def _utc(micros: pl.Expr) -> pl.Expr:
    return micros.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def _wall_date(text: pl.Expr, time_format: str) -> pl.Expr:
    """The wall-clock date of an aware strftime time: parse it, keep the local fields."""
    aware = text.str.strptime(pl.Datetime("us", "UTC"), time_format, strict=False)
    offset = text.str.extract(r"([+-][0-9]{4})[^0-9]*$", 1)  # (text may follow it: "[%t]" in Apache's JSON)
    sign = pl.when(offset.str.slice(0, 1) == "-").then(-1).otherwise(1)
    minutes = offset.str.slice(1, 2).cast(pl.Int64, strict=False) * 60 + offset.str.slice(3, 2).cast(
        pl.Int64, strict=False
    )
    return (aware + pl.duration(minutes=sign * minutes)).dt.date()
