"""Each value of a config file or a flag, checked before any log is read, its file and key named in the error."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ConfigError, quoted, shown
from .rules import DEFAULTS, Fleet, SupplierRule

_T = TypeVar("_T")

_SUPPLIER_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "referrer": (list, str),
    "host": (list, str),
}


def check_keys(
    body: Mapping[str, Any],
    schema: Mapping[str, type | tuple[type, ...]],
    label: str,
    where: str,
) -> None:
    for key, value in body.items():
        if key not in schema:
            raise ConfigError(
                f"{where}: unknown key {label} {key}",
                f"known keys in {label}: {', '.join(sorted(schema))}",
            )
        expected = schema[key]
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            names = expected if isinstance(expected, tuple) else (expected,)
            kinds = " or ".join(_TOML_NAMES[t] for t in names)
            raise ConfigError(f"{where}: {label} {key} must be {kinds}")


_TOML_NAMES = {str: "a string", list: "an array", bool: "true or false", int: "an integer", float: "a number"}


def check_window(window: str, label: str) -> None:
    if not re.fullmatch(r"\s*([01][0-9]|2[0-3]):[0-5][0-9]\s*-\s*([01][0-9]|2[0-3]):[0-5][0-9]\s*", window):
        raise ConfigError(f"{label}: {window!r} is not HH:MM-HH:MM", 'e.g. window = "22:00-06:00"')


def supplier_rules(raw: Any, where: str) -> tuple[SupplierRule, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: suppliers must be written as [[suppliers]] tables")
    rules = []
    for i, entry in enumerate(raw):
        label = f"[[suppliers]] #{i + 1}"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}: {label} must be a table")
        check_keys(entry, _SUPPLIER_KEYS, label, where)
        if "name" not in entry:
            raise ConfigError(f"{where}: {label} has no name", 'add name = "..."')
        referrer = domain_names(entry.get("referrer", []), f"{where}: {label} referrer", under=True)
        host = domain_names(entry.get("host", []), f"{where}: {label} host")
        if not referrer and not host:
            raise ConfigError(
                f"{where}: {label} ({entry['name']}) matches nothing",
                "give it referrer = [...] domains or host = [...] virtual hosts",
            )
        rules.append(SupplierRule(supplier_name(entry["name"], f"{where}: {label} name"), referrer, host))
    return tuple(rules)


def shadowed_suppliers(rules: tuple[SupplierRule, ...]) -> list[str]:
    """Each domain or virtual host of a supplier rule that an earlier rule of another supplier always takes
    first (the first matching rule wins), said: its views go to the earlier supplier, which is most likely not
    what was meant (two rules for one portal, or a subdomain listed after its domain)."""
    def takes(other: SupplierRule, kind: str, name: str) -> str | None:
        """The domain or host of ``other`` that matches all ``name`` does, if one does."""
        if kind == "host":
            return name if name in other.host else None
        return next((under for under in other.referrer if name == under or name.endswith("." + under)), None)

    said = []
    for i, rule in enumerate(rules):
        for kind, name in [*(("referrer", n) for n in rule.referrer), *(("host", n) for n in rule.host)]:
            earlier = next(((j, other, under) for j, other in enumerate(rules[:i])
                            if other.name != rule.name and (under := takes(other, kind, name))), None)
            if earlier is not None:
                j, other, under = earlier
                said.append(f"[[suppliers]] #{i + 1} ({shown(rule.name) or 'Other'}) {kind} {quoted(name)} "
                            f"never decides: #{j + 1} ({shown(other.name) or 'Other'}) takes "
                            f"{'it' if name == under else 'every host under ' + quoted(under)} first (the first "
                            "matching rule wins); take it out of one of them, or put the rule meant first")
    return said


def supplier_name(value: Any, label: str) -> str:
    """A ViewSupplierName as written: flexmls keeps its white space, so ' Zillow' would be a supplier of its own
    beside 'Zillow', with the day's views split between them (and each post keeps only its own)."""
    name = xml_text(value, label)
    if name != name.strip():
        end = "its start" if name[0].isspace() else "its end"
        raise ConfigError(f"{label}: {quoted(name)} has white space at {end}, which flexmls would keep as part of "
                          "the supplier's name",
                          f"write {quoted(name.strip())}" if name.strip() else 'write "" for "Other"')
    return name


def state_url_of(section: Mapping[str, Any], where: str) -> str | None:
    url = section.get("url")
    if url is None:
        return None
    if "path" in section:
        raise ConfigError(f"{where}: [state] has both path and url", "keep one: url = 'sqlite:///PATH' is path")
    if isinstance(url, str) and "\x00" in url:  # (as a path's: no file system or server takes one)
        raise ConfigError(f"{where}: [state] url: {url!r} holds a NUL character, which no URL can hold")
    return str(url)  # checked (no password, a scheme logtrack keeps) by state.locate.parse, before any log is read


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds_of(value: Any, label: str, unit: str) -> float:
    """A number in ``unit``, or a string like '26h', '90m', '2d'."""
    if isinstance(value, bool):
        raise ConfigError(f"{label}: {value!r} is not a duration", "write a number of hours, or '26h', '90m', '2d'")
    if isinstance(value, int | float):
        seconds = float(value) * _UNITS[unit]
    else:
        match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([smhd])\s*", str(value))
        if not match:
            raise ConfigError(f"{label}: {value!r} is not a duration", "write e.g. '26h', '90m', '2d' or '300s'")
        seconds = float(match[1]) * _UNITS[match[2]]
    if seconds < 0:
        raise ConfigError(f"{label}: a duration cannot be negative")
    if not math.isfinite(seconds) or seconds > _LONGEST:
        raise ConfigError(f"{label}: {value!r} is not a duration", "write e.g. '26h', '90m', '2d' or '300s'")
    return seconds


_LONGEST = 10 * 366 * 86400.0  # (a duration past ten years is a mistake, and past 2.7e13 s no date can hold it)


def amount(value: Any, label: str, *, least: float, most: float, above: bool = False) -> float:
    """A number from ``least`` (excluded with ``above``) to ``most``: TOML's nan and inf are numbers too, and
    a negative timeout or retry count is no setting at all, whatever a later library would make of it."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or value < least or (above and value == least) or value > most:
        span = f"more than {least:g} and at most {most:g}" if above else f"from {least:g} to {most:g}"
        raise ConfigError(f"{label}: {value!r} is out of range; it must be a number {span}")
    return float(value)


def fleet_of(section: Mapping[str, Any], where: str) -> Fleet:
    names = {}
    for key in ("site", "host"):
        if key in section:
            name = str(section[key]).strip()
            if not name or len(name) > 200 or any(ord(c) < 32 for c in name):
                raise ConfigError(f"{where}: [fleet] {key} {section[key]!r} is not a name",
                                  "use a short name of letters, digits, dots and dashes, e.g. 'web1'")
            names[key] = name
    return Fleet(
        site=names.get("site", "default"), host=names.get("host"),
        host_timeout=seconds_of(section.get("host_timeout", 26), f"{where}: [fleet] host_timeout", "h"),
        grace=seconds_of(section.get("grace", "5m"), f"{where}: [fleet] grace", "m"),
    )


def domain_names(raw: str | list[Any], label: str, *, under: bool = False) -> tuple[str, ...]:
    """Host names as the logs hold them: lower case, an international one in its ASCII form (``bücher.example``
    is ``xn--bcher-kva.example``, as a browser sends it in a Referer).

    ``under``: a name stands for every host under it too (the referrer rules), so ``*.zillow.com`` and
    ``.zillow.com`` are ``zillow.com``; elsewhere (virtual hosts, matched whole) a wildcard is refused.
    (Either was taken as it was written, and matched no host ever: every view of the supplier counted as
    "Other".)
    """
    items = [raw] if isinstance(raw, str) else raw
    out = []
    for item in items:
        text = expect_str(item, label).strip().lower().rstrip(".")
        if under and text.startswith(("*.", ".")):  # (nginx's server_name and cookies say .zillow.com so)
            text = text.lstrip("*")[1:]
        try:
            text = text if text.isascii() else text.encode("idna").decode("ascii")
        except UnicodeError:
            text = ""  # (not a name IDNA takes: refused below)
        if not all(part and all(c.isalnum() or c in "-_" for c in part) for part in text.split(".")):
            raise ConfigError(
                f"{label}: {item!r} is not a domain name",
                "write the bare host, e.g. 'zillow.com', without scheme, port or path"
                + (" (it stands for every host under it too)" if under else ", each virtual host whole"),
            )
        out.append(text)
    return tuple(out)


def supplier_flag(flag: str) -> SupplierRule:
    name, sep, domains = flag.partition("=")
    if not sep or not name.strip() or not domains.strip():
        raise ConfigError(
            f"--supplier {flag!r} is not NAME=DOMAIN[,DOMAIN]",
            "for example --supplier Zillow=zillow.com,trulia.com",
        )
    return SupplierRule(
        xml_text(name.strip(), f"--supplier {flag!r}"),
        domain_names(domains.split(","), f"--supplier {flag!r}", under=True),
    )


def relative_path(path: str | None, where: str, label: str) -> str | None:
    """A path in the config file is relative to the file, as in nginx's own; ``~`` is a home, as in a shell.

    (Left as it was, ``~/state.db`` was a directory named ``~`` beside the
    config file, made by the first run.)
    """
    if path is not None and "\x00" in path:  # (no file system takes one: every look at it would raise)
        raise ConfigError(f"{label}: {path!r} holds a NUL character, which no path can hold")
    if path is not None and path.startswith("~"):
        if (home := os.path.expanduser(path)).startswith("~"):  # (no HOME, or no such user: left as it was)
            raise ConfigError(f"{label}: {path!r}: no home directory to put in place of {path.split('/')[0]}",
                              "write the whole path")
        path = home
    if path is None or where == DEFAULTS:
        return path
    return str(Path(where).parent / path)


# What XML 1.0 lets a document hold (its Char production): a name written into the XML must be such text,
# or lxml refuses it when the document is built, after the logs were read.
# (Written as what lies outside it: the negated class takes Python's re some 4 ms to compile, at every start.)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: Any, label: str) -> str:
    text = expect_str(value, label)
    if bad := _NOT_XML.search(text):
        raise ConfigError(f"{label}: {text!r} holds {bad.group()!r}, which XML cannot hold",
                          "take the control character out")
    return text


def namespace_uri(value: Any, label: str) -> str:
    """A namespace URI's shape (a scheme, a colon, no white space); lxml checks the rest when the XML is built."""
    uri = xml_text(value, label)
    if uri and not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+", uri):
        raise ConfigError(f"{label}: {uri!r} is not a namespace URI",
                          "write the namespace the official XSD declares (its targetNamespace), or leave it empty")
    return uri


def expect_str(value: Any, label: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{label} must be a string, not {value!r}")
    return value


def check_status(value: Any, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        raise ConfigError(f"{label}: {value!r} is not an HTTP status code (100-599)")
    return value


# RFC 9110's token: what a request line's method can be (nginx and Apache refuse any other before logging it
# as one). A method with a space or an empty one is never in a log, so a filter naming it counts nothing.
_METHOD = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def check_method(value: Any, label: str) -> str:
    if not isinstance(value, str) or not _METHOD.fullmatch(value):
        said = quoted(value) if isinstance(value, str) else repr(value)
        raise ConfigError(f"{label}: {said} is not an HTTP method",
                          'write each method as requests send it, e.g. methods = ["GET"]')
    return value.upper()


def check_some(values: tuple[_T, ...], label: str, example: str) -> tuple[_T, ...]:
    """A filter's list, refused when empty: a view would have to be in it, so none would be counted."""
    if not values:
        raise ConfigError(f"{label} is empty, so no view would be counted",
                          f"leave the key out for the default ({example}), or name what counts")
    return values


def check_format(spec: str, label: str) -> str:
    """Compile the format now, so a mistake names the file and key (or flag) before any log is read."""
    from .. import formats
    from ..errors import LogFormatError

    if spec != "auto":
        try:
            formats.get(spec)
        except LogFormatError as exc:
            raise LogFormatError(f"{label}: {exc.message}", exc.fix) from None
    return spec


# Zones whose name reads like a region's clock but that keep one offset all year (tzdata's EST and MST):
# a site in New York that writes EST has its summer days end at 1 AM, its views of the hour after midnight
# counted on the day before. Honolulu keeps HST all year, so
# HST is Hawaii's clock, and the zones with daylight saving time in their name (EST5EDT) have it.
_FIXED = {"EST": ("-05:00", "America/New_York", "New York", "Etc/GMT+5"),
          "MST": ("-07:00", "America/Denver", "Denver", "Etc/GMT+7")}


def fixed_zone_doubt(name: str | None, what: str) -> str | None:
    """A warning for a zone that keeps one offset all year where a region's clock was most likely meant."""
    if name not in _FIXED:
        return None
    offset, region, city, fixed = _FIXED[name]
    also = " (Arizona's, which keeps MST all year: America/Phoenix)" if name == "MST" else ""
    return (f"{what} {name!r} is UTC{offset} all year, without daylight saving time: in summer its days end an "
            f"hour after {city}'s midnight; for {city}'s clock write {region!r}{also}, for one offset all "
            f"year on purpose {fixed!r}")


# Files of the system's zone directory that zoneinfo reads as zones and Polars (which has the IANA names built
# in) does not know: a name of them passed the check and failed on the first line's day, exit 1 mid-run.
# (Listed, not asked of Polars: a run with nothing new never loads it.)
_FILE_NAMES = ("localtime", "posixrules")  # (the machine's zone, and the rules for POSIX TZ strings)
_NOT_ZONES = (*_FILE_NAMES, "Factory")
_NOT_ZONE_DIRS = ("posix/", "right/")


def _not_a_zone(name: str) -> bool:
    """A name zoneinfo reads (a file of the zone directory) that Polars does not know as a zone."""
    return name in _NOT_ZONES or name.startswith(_NOT_ZONE_DIRS)


def check_timezone(name: str, label: str) -> str:
    if not name.strip():
        raise ConfigError(f"{label} is empty", "name a zone such as 'America/Chicago' or 'UTC', or leave the key out")
    local = name in _FILE_NAMES or name.startswith("/")
    try:
        ZoneInfo(name)
        if _not_a_zone(name):
            raise ValueError(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{label}: unknown time zone {name!r}" + (" (the name of a file, not of a zone)" if local else ""),
            _zone_fix(name) or "use an IANA name such as 'America/Chicago' or 'UTC'"
            + ("; `timedatectl show -p Timezone --value` prints this machine's" if local else ""),
        ) from None
    return name


_OFFSET = re.compile(r"(?:UTC|GMT)?([+-])([0-9]{1,2}):?([0-9]{2})?")


def _zone_fix(name: str) -> str | None:
    """The fix for a zone name written almost right: in another case or with spaces around it ('utc',
    'america/chicago'), or as an offset ('-0600', 'UTC+5:30'), which is no zone (no daylight saving time)."""
    from zoneinfo import available_timezones

    wanted = name.strip().casefold()
    if wanted == "z":
        return "write it 'UTC'"
    meant = sorted(zone for zone in available_timezones()
                   if zone.casefold() == wanted and not _not_a_zone(zone))
    if meant:
        why = "without the spaces around it" if name.strip() == meant[0] else "zone names are case-sensitive"
        return f"write it {meant[0]!r} ({why})"
    if (m := _OFFSET.fullmatch(name.strip().upper())) is not None:
        hours, minutes = int(m[2]), int(m[3] or 0)
        east = m[1] == "+"
        fixed = (f"; for UTC{m[1]}{hours} all year, 'Etc/GMT{'-' if east else '+'}{hours}' (its sign is POSIX's, "
                 "the other way round)" if 0 < hours <= (14 if east else 12) and not minutes else "")
        return ("an offset is not a zone: it has no daylight saving time, so where the clocks change, half the "
                f"year's days would end an hour off; name the region's zone, such as 'America/Chicago'{fixed}")
    return None


def _regex_error(text: str) -> tuple[str, str | None]:
    """The Rust regex error's reason, and its pattern with the caret line under the mistake."""
    lines = text.splitlines()
    reason = next((ln.removeprefix("error: ") for ln in lines if ln.startswith("error: ")), None)
    if reason is None:
        return " ".join(text.split()), None
    start = next((i + 1 for i, ln in enumerate(lines) if ln.endswith("parse error:")), None)
    end = next(i for i, ln in enumerate(lines) if ln.startswith("error: "))
    caret = "\n".join(lines[start:end]) if start is not None and start < end else None
    return reason, caret


def check_pattern(pattern: str, label: str) -> str:
    """Compile the pattern with the engine that will run it (Rust regex)."""
    import polars as pl

    try:
        dtype = pl.Series([""], dtype=pl.String).str.extract_groups(pattern).dtype
    except pl.exceptions.PolarsError as exc:
        reason, caret = _regex_error(str(exc))
        raise ConfigError(
            f"{label}: invalid regular expression: {reason}",
            "patterns use Rust regex syntax (as Python's re, without look-around)",
            detail=caret,
        ) from None
    assert isinstance(dtype, pl.Struct)
    if "id" not in [f.name for f in dtype.fields]:
        raise ConfigError(
            f"{label}: pattern {quoted(pattern)} has no group named 'id'",
            "mark the listing id with (?P<id>...), e.g. '^/listing/(?P<id>[0-9]+)'",
        )
    if pattern.lower().startswith(("^http", "^www", r"^\w+://")):  # (matched no request ever: zero views, silently)
        raise ConfigError(
            f"{label}: pattern {quoted(pattern)} starts at the URL's scheme or host, which no request target "
            "holds",
            "patterns are matched against the path and query the server logged (/listing/123?x): start it at "
            "the path, e.g. '^/listing/(?P<id>[0-9]+)'",
        )
    return pattern
