"""JSON lines: each line decoded by Polars, its keys mapped to fields through the template.

Slice by slice, so memory stays that of the quote split's batches. nginx's
``escape=default`` writes ``\\xHH``, which JSON does not know; a line that
looks like JSON and is not, or holds an object where text is wanted, is found
by Python (the only per-line Python, and only in a batch that has one) and
skipped, never dropped.
"""

from __future__ import annotations

import json
import math
import re

import polars as pl

from .. import formats as f
from ..formats import LogFormat

_PAIR = "\ue000"  # stands in for an escaped backslash while \xHH escapes are rewritten


JSON_SLICE = 4096  # lines decoded at a time: Polars' decoder needs many times a slice's text in memory


def extract_json(frame: pl.DataFrame, fmt: LogFormat) -> pl.DataFrame:
    """Decode JSON lines, a slice at a time (so memory stays that of the split path's batches)."""
    if frame.height <= JSON_SLICE:
        return decode_slice(frame, fmt)
    return pl.concat([decode_slice(frame.slice(start, JSON_SLICE), fmt)
                      for start in range(0, frame.height, JSON_SLICE)])


def decode_slice(frame: pl.DataFrame, fmt: LogFormat) -> pl.DataFrame:
    """Decode JSON lines with Polars; keys map to fields through the template.

    nginx's escape=default writes ``\\xHH``, which JSON does not know: such
    lines get ``\\u00HH`` first. Numbers are read as text like everything else.
    """
    line = pl.col("_body")
    text = (
        pl.when(~looks_json(line, fmt.regex))
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
    prepared = _bodies(frame, fmt).select("idx", text.alias("_json"))
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


def looks_json(text: pl.Expr, regex: str) -> pl.Expr:
    """Whether ``text`` matches ``regex``; for ``JSON_LINE`` (every JSON format's) the same yes or no asked
    at its two ends: the regex's ``.*`` walked the whole line, a quarter of what decoding it costs."""
    if regex != f.JSON_LINE:
        return text.str.contains(regex)
    # (``\s`` and ``strip_chars`` are both Unicode's White_Space, line breaks too; ``.`` is any character but
    # a line break: none between the braces)
    inner = text.str.strip_chars()
    return inner.str.starts_with("{") & inner.str.ends_with("}") & ~inner.str.contains("\n", literal=True)


def _bodies(frame: pl.DataFrame, fmt: LogFormat) -> pl.DataFrame:
    """``idx`` and ``_body``: each line's JSON text as the server wrote it, out of what another writer put
    around it (``LogFormat.envelope``, ``LogFormat.within``); null where a line is not so wrapped."""
    line = pl.col("line")
    if fmt.envelope is not None:
        body = behind(line, fmt.envelope)
        if fmt.envelope_time:  # the time in front (Caddy's console format), given to the object as its "ts"
            body = with_time(body, line.str.extract(r"^([^\t]*)\t", 1))
        return frame.select("idx", _body=body)
    if fmt.within is None:
        return frame.select("idx", _body=line)
    outer = line.str.json_decode(pl.Struct({fmt.within: pl.String})).struct.field(fmt.within)
    try:
        texts = frame.select("idx", _body=pl.when(looks_json(line, f.JSON_LINE)).then(outer))
    except pl.exceptions.ComputeError:  # a line cut short, or not the writer's: Python finds it, in this slice only
        texts = frame.select("idx", _body=pl.Series([_within(t, fmt.within) for t in frame.get_column("line")],
                                                     dtype=pl.String))
    return texts.with_columns(_body=whole_text(pl.col("_body")))


def whole_text(text: pl.Expr) -> pl.Expr:
    """A line's text as Docker files it, its closing newline taken off; null for a part of a line the
    runtime split (no newline yet: no line of its own)."""
    return pl.when(text.str.ends_with("\n")).then(text.str.strip_suffix("\n"))


def behind(text: pl.Expr, envelope: str) -> pl.Expr:
    """The text after ``envelope`` (a regex), null where it does not start so.

    (The prefix replaced by nothing: finding where it ends is a DFA's
    work, where a capture of the rest ran the slower engine over the whole
    line, five times the cost.)
    """
    start = f"^(?:{envelope})"
    return pl.when(text.str.contains(start)).then(text.str.replace(start, ""))


def with_time(body: pl.Expr, time: pl.Expr) -> pl.Expr:
    """A JSON object's text with ``"ts"`` (the time's text, as a JSON string) as its first member.

    The time is text of the writer's own format (Caddy's wall time, RFC
    3339, an epoch): its quotes and backslashes, which none of those holds,
    are escaped all the same, so that the object stays JSON.
    """
    rest = body.str.strip_chars_start().str.slice(1)  # (after its "{")
    ts = time.str.replace_all("\\", "\\\\", literal=True).str.replace_all('"', '\\"', literal=True)
    joiner = pl.when(rest.str.strip_chars_start().str.starts_with("}")).then(pl.lit("")).otherwise(pl.lit(","))
    return pl.when(body.str.strip_chars_start().str.starts_with("{")).then(
        pl.concat_str([pl.lit('{"ts":"'), ts, pl.lit('"'), joiner, rest])).otherwise(body)


def _within(text: str | None, key: str) -> str | None:
    """The text at ``key`` of a JSON object (None where ``text`` is none, or that is no text)."""
    try:
        value = json.loads(text, strict=False) if text is not None else None
    except (ValueError, RecursionError):
        return None
    inner = value.get(key) if isinstance(value, dict) else None
    return inner if isinstance(inner, str) else None


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
