"""Encodings: a field's text as the client sent it, from how a log encodes it (HAProxy's ``#XX``, CloudFront's
percent-encoding, IIS's ``+``, Akamai's both, nginx's ``$args`` "-", a load balancer's status "-")."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import polars as pl

from ..formats.haproxy import BACKSLASHED, JSON_ESCAPED
from ..formats.nginx import GLUED_ARGS
from ..formats.proxies import NO_RESPONSE


def decoded(text: pl.Expr, how: str) -> pl.Expr:
    """A field's text as the client sent it, from how the log encodes it.

    ``haproxy``: HAProxy writes ``"``, ``#``, ``{``, ``|``, ``}``, control
    and non-ASCII bytes of captured headers as ``#`` and two hex digits.
    ``backslash``: a character after a backslash is itself (HAProxy's
    ``%{+E}``). ``json_string``: a JSON string's text without its quotes
    (HAProxy's ``json`` converter: ``\\"``, ``\\/``, ``\\u00e9``), decoded
    once per distinct value that holds a backslash (one JSON would not
    take is left as it is). Several, comma-separated: decoded in that order.
    ``url``: percent-encoded (CloudFront). Both are decoded once per distinct
    value that holds an escape. ``plus``: a space written as ``+`` (IIS; a
    ``+`` the client sent reads as a space too, as IIS leaves no way to
    tell them apart). ``form``: both, as HTML forms encode (Akamai; a ``+``
    the client sent is written ``%2B``). ``nginx_args``: nginx's ``$uri$is_args$args``, whose
    ``$args`` is a "-" after a path without a query string. ``no_response``:
    AWS's load balancers write a status of "-" where they sent no response
    (a TCP listener's line, a client gone before it): 0, a status that is
    never counted, so that such a line is no damage.
    """
    if "," in how:  # encoded twice: decoded in the order given (HAProxy's %{+E} over its #XX)
        for one in how.split(","):
            text = decoded(text, one)
        return text
    if how == BACKSLASHED:
        return text.str.replace_all(r"\\(.)", "$1")
    if how == JSON_ESCAPED:
        return text.map_batches(_json_strings, return_dtype=pl.String)
    if how == "plus":
        return text.str.replace_all("+", " ", literal=True)
    if how == "form":  # an HTML form's encoding: + for a space, %XX for the rest (Akamai's agents)
        return decoded(text.str.replace_all("+", " ", literal=True), "url")
    if how == NO_RESPONSE:
        return pl.when(text == "-").then(pl.lit("0")).otherwise(text)
    if how == GLUED_ARGS:  # nginx's "$uri$is_args$args" without a query string: the path, then "-"
        return pl.when(~text.str.contains("?", literal=True)).then(text.str.strip_suffix("-")).otherwise(text)
    if how in _DECODERS:
        return text.map_batches(lambda values: _decode_distinct(values, how), return_dtype=pl.String)
    raise ValueError(f"unknown encoding {how!r}")


def _json_strings(values: pl.Series) -> pl.Series:
    distinct = values.filter(values.str.contains("\\", literal=True).fill_null(False)).unique()
    if distinct.len() == 0:
        return values
    return values.replace(distinct, pl.Series([_json_string(v) for v in distinct.to_list()], dtype=pl.String))


def _json_string(value: str) -> str:
    try:
        text = json.loads(f'"{value}"', strict=False)
    except ValueError:
        return value
    return text if isinstance(text, str) else value


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
