"""Times: a format's time field -> (the instant in UTC, the date as the server wrote it), in Polars.

CLF, ISO 8601 / RFC 3339, epoch seconds (with a fraction), milliseconds and
microseconds, a whole number of unknown unit, and strftime formats with or
without an offset (read in the configured zone when without).
"""

from __future__ import annotations

import polars as pl

from .. import formats as f
from ..formats import LogFormat
from ..formats.model import directives


def time_columns(fmt: LogFormat, timezone: str | None, log_timezone: str | None) -> tuple[pl.Expr, pl.Expr]:
    """(instant in UTC, date as the server wrote it) for the format's kind of time.

    A time written without an offset is in ``log_timezone`` (the server's,
    where the config names it), else in ``timezone`` (the reporting one),
    else in UTC; but Caddy's, which Caddy writes in UTC unless told
    otherwise, is in ``log_timezone`` or UTC.
    """
    naive_timezone = log_timezone or timezone
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
        epoch = _utc(_sized_epoch(text))
        iso, iso_day = _iso(text)
        return pl.coalesce(iso, epoch), pl.coalesce(iso_day, epoch.dt.date())
    if fmt.time_kind == f.CADDY_TIME:
        return _caddy(text, log_timezone)
    if fmt.time_kind == f.UTC_WALL:
        assert fmt.time_format
        wall = text.str.strptime(pl.Datetime("us"), fmt.time_format, strict=False)
        return wall.dt.replace_time_zone("UTC"), wall.dt.date()
    assert fmt.time_kind == f.STRFTIME and fmt.time_format
    if "s" in directives(fmt.time_format):  # seconds since 1970 (with text around them): an instant, as an epoch
        instant = text.str.strptime(pl.Datetime("us"), fmt.time_format, strict=False).dt.replace_time_zone("UTC")
        return instant, instant.dt.date()
    if "z" in directives(fmt.time_format):  # (the zone ``LogFormat.naive_zone`` names: none)
        return text.str.strptime(utc, fmt.time_format, strict=False), _wall_date(text, fmt.time_format)
    wall = text.str.strptime(pl.Datetime("us"), fmt.time_format, strict=False)
    instant = wall.dt.replace_time_zone(
        naive_timezone or "UTC", ambiguous="earliest", non_existent="null"
    ).dt.convert_time_zone("UTC")
    return instant, wall.dt.date()


def _caddy(text: pl.Expr, wall_timezone: str | None) -> tuple[pl.Expr, pl.Expr]:
    """Caddy's time in any of its named ``time_format``s: ``wall``, ``wall_milli`` (the console's default) and
    ``wall_nano`` (2006/01/02 15:04:05.000, in ``wall_timezone``, else UTC), ``rfc3339``, ``rfc3339_nano`` and
    ``iso8601`` (2006-01-02T15:04:05.000-0700), ``common_log`` (02/Jan/2006:15:04:05 -0700), and the
    epochs (``unix_seconds_float``, the JSON's default, ``unix_milli_float``, ``unix_nano``)."""
    wall = text.str.strptime(pl.Datetime("us"), "%Y/%m/%d %H:%M:%S%.f", strict=False)
    wall_instant = wall.dt.replace_time_zone(wall_timezone or "UTC", ambiguous="earliest", non_existent="null")
    # (RFC 3339's offset has a colon, ISO 8601's as Go writes it none: "+0000" becomes "+00:00")
    iso_text = text.str.replace(r"([+-][0-9]{2})([0-9]{2})$", "$1:$2")
    iso, iso_day = _iso(iso_text)
    clf = text.str.strptime(pl.Datetime("us", "UTC"), f.CLF_FORMAT, strict=False)
    clf_day = text.str.slice(0, 11).str.strptime(pl.Date, "%d/%b/%Y", strict=False)
    epoch = _utc(_sized_epoch(text, shaped=True))  # (asked only of texts of an epoch's shape: ``shapes``)
    # Each form is read only from the texts of its shape, which no other form reads (an epoch's digits and
    # dot, "2006/", "2006-", else "02/Jan"; a year of other than four digits is no time to count, in any):
    # so this is the first form that reads a text, as the coalesce of them all was. Polars evaluates every
    # argument of a coalesce on every row, and a ``then`` only on the rows its ``when`` gives it: a Caddy
    # line's instant cost 0.30 to 0.37 µs so (one thread), 0.10 to 0.24 µs now, whatever its form.
    shapes = (text.str.contains(_EPOCH_TEXT), text.str.contains("^[0-9]{4}/"), text.str.contains("^[0-9]{4}-"))
    return _by_shape(shapes, epoch, wall_instant.dt.convert_time_zone("UTC"), iso, clf), \
        _by_shape(shapes, epoch.dt.date(), wall.dt.date(), iso_day, clf_day)


def _by_shape(shapes: tuple[pl.Expr, ...], *forms: pl.Expr) -> pl.Expr:
    """``forms[i]`` where ``shapes[i]`` holds (the first that does), else the last form."""
    chain = forms[-1]
    for shape, form in zip(reversed(shapes), reversed(forms[:-1]), strict=True):
        chain = pl.when(shape).then(form).otherwise(chain)
    return chain


def _iso(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """RFC 3339 / ISO 8601 with an offset or Z: (instant, the date as written)."""
    iso = text.str.replace(r"Z$", "+00:00")
    return (
        iso.str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%dT%H:%M:%S%.f%:z", strict=False),
        iso.str.slice(0, 10).str.strptime(pl.Date, "%Y-%m-%d", strict=False),
    )


# An epoch as servers write it: digits, maybe a fraction. (Anything else is no epoch: "01.12.2026" cut at its
# first dot would be 1.12 s after 1970, a day to count views on.)
_EPOCH_TEXT = r"^[0-9]+(?:\.[0-9]+)?$"


def _sized_epoch(text: pl.Expr, *, shaped: bool = False) -> pl.Expr:
    """An epoch in microseconds, its unit told by its size (Cloudflare's configurable one, Caddy's unix_*
    time formats): seconds, with a fraction or not, until the year 5138, then milliseconds (with one or
    not), then whole microseconds and nanoseconds; null where the text is no epoch. ``shaped``: the caller
    asks it only of texts shaped as an epoch (``_EPOCH_TEXT``), which are then not looked at again."""
    whole, fraction = _epoch_parts(text, shaped=shaped)
    return (pl.when(whole < 10**11).then(_scaled(whole, fraction, 1_000_000, 6))
            .when(whole < 10**14).then(_scaled(whole, fraction, 1000, 3))
            .when(fraction != "").then(pl.lit(None, dtype=pl.Int64))
            .when(whole < 10**17).then(whole).otherwise(whole // 1000))


def _epoch_micros(text: pl.Expr) -> pl.Expr:
    """Epoch seconds with an optional fraction -> microseconds (null when not a number so written)."""
    return _scaled(*_epoch_parts(text), 1_000_000, 6)


def _epoch_parts(text: pl.Expr, *, shaped: bool = False) -> tuple[pl.Expr, pl.Expr]:
    """An epoch's whole number and its fraction's digits ("" for none); both null where the text is no epoch
    (``shaped``: every text given is shaped as one)."""
    parts = (text if shaped else pl.when(text.str.contains(_EPOCH_TEXT)).then(text)).str.split_exact(".", 1)
    return parts.struct.field("field_0").cast(pl.Int64, strict=False), parts.struct.field("field_1").fill_null("")


def _scaled(whole: pl.Expr, fraction: pl.Expr, scale: int, digits: int) -> pl.Expr:
    """The epoch in microseconds: its whole number in a unit of ``scale`` µs, its fraction's first ``digits``."""
    return whole * scale + fraction.str.pad_end(digits, "0").str.slice(0, digits).cast(pl.Int64, strict=False)


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
