"""The configuration, frozen: the counting rules and the settings, built from a TOML file and flags.

Everything is checked here, before any log is read: an unknown key, a regex
that does not compile, a time zone that does not exist. A mistake found after
an hour of reading logs is a mistake found too late.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError

DEFAULT_STATUS = (200, 304)
DEFAULT_ENDPOINT = "https://retsgw.flexmls.com/tracking/v1/listings/views/{api_key}/"
DEFAULT_METHODS = ("GET",)


@dataclass(frozen=True)
class SupplierRule:
    """A supplier and how to recognise its traffic.

    A rule matches when the referrer's host equals one of ``referrer`` or is
    a subdomain of it, or when the logged virtual host equals one of ``host``.
    """

    name: str
    referrer: tuple[str, ...] = ()
    host: tuple[str, ...] = ()


def _unordered() -> Any:
    """Field metadata: a tuple whose order means nothing (a set): sorted in the rules' signature."""
    return {"unordered": True}


@dataclass(frozen=True)
class CountingRules:
    """What the counts depend on: the same lines under other rules are other counts.

    The state keeps the signature of the rules it counted under and refuses
    to add counts made under others (``signature``, over every field of
    this object: a counting option added here is in it by construction).
    Everything else a run needs is ``Settings``.
    """

    format: str = "auto"
    timezone: str | None = None
    log_timezone: str | None = None  # the zone of times logged without an offset (else timezone, else UTC)
    patterns: tuple[str, ...] = ()
    suppliers: tuple[SupplierRule, ...] = ()
    status: tuple[int, ...] = field(default=DEFAULT_STATUS, metadata=_unordered())
    methods: tuple[str, ...] = field(default=DEFAULT_METHODS, metadata=_unordered())
    exclude_bots: bool = True
    default_supplier: str = ""
    # count only lines of these virtual hosts (lower-cased, no port): a log shared by several sites
    vhosts: tuple[str, ...] = field(default=(), metadata=_unordered())

    def signature(self) -> str:
        """A hash of every field and the fields as JSON: equal exactly when the rules count alike."""
        values: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.metadata.get("unordered"):
                value = sorted(value)
            values[item.name] = _plain(value)
        return _signed(values)

    def legacy_signature(self) -> str:
        """The signature states written before the rules were an object of their own hold.

        A state that holds it counted under these same rules: ``check_rules``
        then stores ``signature`` in its place.
        """
        rules: dict[str, Any] = {
            "format": self.format,
            "timezone": self.timezone,
            "patterns": list(self.patterns),
            "suppliers": [[r.name, list(r.referrer), list(r.host)] for r in self.suppliers],
            "status": sorted(self.status),
            "methods": sorted(self.methods),
            "exclude_bots": self.exclude_bots,
            "default_supplier": self.default_supplier,
        }
        if self.log_timezone is not None:
            rules["log_timezone"] = self.log_timezone
        if self.vhosts:  # no state signed the old way filtered by virtual host
            rules["vhosts"] = sorted(self.vhosts)
        return _signed(rules)


def _signed(values: dict[str, Any]) -> str:
    """A short hash of the values as JSON, then the JSON itself (so a refusal can show what differed)."""
    text = json.dumps(values, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16] + " " + text


def _plain(value: Any) -> Any:
    """A rules value as JSON holds it: tuples as lists, rules objects as their fields."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {item.name: _plain(getattr(value, item.name)) for item in fields(value)}
    return value


@dataclass(frozen=True)
class Fleet:
    """Which site a state is kept for, and which of its servers this one is.

    A site served by several servers keeps one state (PostgreSQL) and posts
    the sums of their logs; each server is a host of it. See the README,
    "Several servers".
    """

    site: str = "default"
    host: str | None = None  # None: a SQLite state's own host, or this machine's name in PostgreSQL
    host_timeout: float = 26 * 3600.0  # seconds: a host silent longer is not waited for
    grace: float = 300.0  # seconds after midnight that a day's lines may still be written


@dataclass(frozen=True)
class Settings:
    """Where to read and write, and how to upload: changing them changes no count."""

    glob: str | None = None  # which names in a directory are access logs
    nginx_conf: str | None = None  # read log formats and access logs from here
    namespace: str = ""
    schema_location: str = "ViewTracking.xsd"
    state_path: str | None = None  # None: the CLI's default for the user
    state_url: str | None = None  # sqlite:///PATH or postgresql://USER@HOST/DB; wins over state_path
    fleet: Fleet = field(default_factory=Fleet)
    endpoint: str = DEFAULT_ENDPOINT
    api_key_file: str | None = None
    max_listings_per_post: int = 5000
    window: str = "22:00-06:00"
    window_timezone: str = "America/Chicago"
    upload_timeout: float = 30.0
    upload_retries: int = 5
    upload_backoff: float = 1.0


@dataclass(frozen=True)
class Config:
    """The whole configuration: the counting rules and the settings, apart; and the file it came from."""

    rules: CountingRules = field(default_factory=CountingRules)
    settings: Settings = field(default_factory=Settings)
    source: str = field(default="defaults", compare=False)  # the file it came from

    def with_overrides(
        self,
        *,
        format: str | None = None,
        timezone: str | None = None,
        nginx_conf: str | None = None,
        patterns: Sequence[str] = (),
        suppliers: Sequence[str] = (),
    ) -> Config:
        """Apply command-line flags; a repeated flag replaces the file's list."""
        changes: dict[str, Any] = {}
        settings = self.settings
        if format is not None:
            changes["format"] = _check_format(format, "--format")
        if nginx_conf is not None:
            settings = replace(settings, nginx_conf=nginx_conf)
        if timezone is not None:
            changes["timezone"] = _check_timezone(timezone, "--timezone")
        if patterns:
            changes["patterns"] = tuple(
                _check_pattern(p, f"--listing-pattern {p!r}") for p in patterns
            )
        if suppliers:
            changes["suppliers"] = tuple(_parse_supplier_flag(s) for s in suppliers)
        if not changes and settings is self.settings:
            return self
        return replace(self, rules=replace(self.rules, **changes), settings=settings)

    def check_patterns(self) -> None:
        """Compile every listing pattern with the engine that runs them; name the bad one."""
        for i, pattern in enumerate(self.rules.patterns):
            _check_pattern(pattern, f"{self.source}: [listings] patterns[{i}]")

    def require_patterns(self) -> None:
        if not self.rules.patterns:
            if self.source == "defaults":
                raise ConfigError(
                    "no listing URL patterns: no config file was found (--config, LOGTRACK_CONFIG, "
                    "./logtrack.toml, ~/.config/logtrack/logtrack.toml, /etc/logtrack.toml)",
                    "write one with `logtrack init` and set [listings] patterns, or pass --listing-pattern",
                )
            raise ConfigError(
                f"no listing URL patterns configured ({self.source})",
                "set [listings] patterns in the config file or pass --listing-pattern",
            )


# The schema of the file: section -> key -> expected type(s). Data, not code,
# so that an unknown key is found by a lookup and named in the error.
_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "logs": {"format": str, "timezone": str, "log_timezone": str, "glob": str, "nginx_conf": str},
    "listings": {"patterns": list},
    "filters": {"status": list, "methods": list, "exclude_bots": bool, "vhosts": list},
    "viewtracking": {"default_supplier": str, "namespace": str, "schema_location": str},
    "state": {"path": str, "url": str},
    "fleet": {"host": str, "site": str, "host_timeout": (int, float, str), "grace": (int, float, str)},
    "upload": {
        "endpoint": str,
        "api_key_file": str,
        "max_listings_per_post": int,
        "window": str,
        "window_timezone": str,
        "timeout": (int, float),
        "retries": int,
        "backoff": (int, float),
    },
}
_SUPPLIER_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "referrer": (list, str),
    "host": (list, str),
}


DEFAULTS = "defaults"
ENV_VAR = "LOGTRACK_CONFIG"
LOCAL_CONFIG = Path("logtrack.toml")
SYSTEM_CONFIG = Path("/etc/logtrack.toml")


def search_path(env: Mapping[str, str]) -> list[Path]:
    """Where a config is looked for when none is named, first match wins (after LOGTRACK_CONFIG)."""
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return [LOCAL_CONFIG, Path(base) / "logtrack" / "logtrack.toml", SYSTEM_CONFIG]


def find(explicit: Path | None, env: Mapping[str, str]) -> Path | None:
    """The config file to use: ``--config``, then ``LOGTRACK_CONFIG``, then the search path.

    ``env`` is the process environment, passed in by the CLI (the library
    never reads it itself). A file named by ``--config`` or the variable
    must exist; the search path's files are used only where they do.
    """
    if explicit is not None:
        return explicit
    named = env.get(ENV_VAR)
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"{ENV_VAR}={named}: no such config file",
                              f"create it with `logtrack init {named}`, or unset {ENV_VAR}")
        return path
    return next((p for p in search_path(env) if p.is_file()), None)


def load(path: Path | None, *, check_patterns: bool = True) -> Config:
    """Read a config file; ``None`` gives the defaults.

    ``check_patterns=False`` leaves compiling the listing patterns to
    ``Config.check_patterns``: an unattended run whose state already holds
    these very rules knows they compile, and need not load the regex engine.
    """
    if path is None:
        return Config()
    where = str(path)
    if path.is_dir():
        raise ConfigError(f"cannot read config file {where}: it is a directory",
                          f"name the file in it, e.g. {path / 'logtrack.toml'}")
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(
            f"config file {where} does not exist", f"create it with `logtrack init {where}`"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {where}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: invalid TOML: {exc}") from None
    return from_mapping(data, where, check_patterns=check_patterns)


def from_mapping(data: Mapping[str, Any], where: str, *, check_patterns: bool = True) -> Config:
    """Build a Config from parsed TOML, naming ``where`` in every error."""
    for section, body in data.items():
        if section == "suppliers":
            continue
        if section not in _SCHEMA:
            raise ConfigError(
                f"{where}: unknown section [{section}]",
                f"known sections: {', '.join(sorted([*_SCHEMA, 'suppliers']))}",
            )
        if not isinstance(body, Mapping):
            raise ConfigError(f"{where}: [{section}] must be a table")
        _check_keys(body, _SCHEMA[section], f"[{section}]", where)

    logs = data.get("logs", {})
    listings = data.get("listings", {})
    filters = data.get("filters", {})
    vt = data.get("viewtracking", {})

    patterns = tuple(
        _expect_str(p, f"{where}: [listings] patterns[{i}]") for i, p in enumerate(listings.get("patterns", []))
    )
    status = tuple(
        _check_status(s, f"{where}: [filters] status[{i}]")
        for i, s in enumerate(filters.get("status", DEFAULT_STATUS))
    )
    methods = tuple(
        _expect_str(m, f"{where}: [filters] methods[{i}]").upper()
        for i, m in enumerate(filters.get("methods", DEFAULT_METHODS))
    )
    tz = logs.get("timezone")
    log_tz = logs.get("log_timezone")
    upload = data.get("upload", {})
    endpoint = upload.get("endpoint", DEFAULT_ENDPOINT)
    if "{api_key}" not in endpoint:
        raise ConfigError(f"{where}: [upload] endpoint has no {{api_key}}",
                          "the key goes in the URL path, e.g. https://host/tracking/v1/listings/views/{api_key}/")
    window = upload.get("window", "22:00-06:00")
    _check_window(window, f"{where}: [upload] window")
    max_listings = upload.get("max_listings_per_post", 5000)
    if max_listings < 1:
        raise ConfigError(f"{where}: [upload] max_listings_per_post must be at least 1")
    rules = CountingRules(
        format=_check_format(logs.get("format", "auto"), f"{where}: [logs] format"),
        timezone=_check_timezone(tz, f"{where}: [logs] timezone") if tz else None,
        log_timezone=_check_timezone(log_tz, f"{where}: [logs] log_timezone") if log_tz else None,
        patterns=patterns,
        suppliers=_suppliers(data.get("suppliers", []), where),
        status=status,
        methods=methods,
        exclude_bots=filters.get("exclude_bots", True),
        default_supplier=_xml_text(vt.get("default_supplier", ""), f"{where}: [viewtracking] default_supplier"),
        # a port written after a host is dropped, as it is from the logged one
        vhosts=_domains([re.sub(r":[0-9]*$", "", h) if isinstance(h, str) else h for h in filters.get("vhosts", [])],
                        f"{where}: [filters] vhosts"),
    )
    settings = Settings(
        glob=logs.get("glob"),
        nginx_conf=_relative(logs.get("nginx_conf"), where),
        namespace=_namespace(vt.get("namespace", ""), f"{where}: [viewtracking] namespace"),
        schema_location=_xml_text(vt.get("schema_location", "ViewTracking.xsd"),
                                  f"{where}: [viewtracking] schema_location"),
        state_path=_relative(data.get("state", {}).get("path"), where),
        state_url=_state_url(data.get("state", {}), where),
        fleet=_fleet(data.get("fleet", {}), where),
        endpoint=endpoint,
        api_key_file=_relative(upload.get("api_key_file"), where),
        max_listings_per_post=max_listings,
        window=window,
        window_timezone=_check_timezone(upload.get("window_timezone", "America/Chicago"),
                                        f"{where}: [upload] window_timezone"),
        upload_timeout=float(upload.get("timeout", 30.0)),
        upload_retries=max(0, upload.get("retries", 5)),
        upload_backoff=max(0.0, float(upload.get("backoff", 1.0))),
    )
    config = Config(rules, settings, source=where)
    if check_patterns:
        config.check_patterns()
    return config


def _check_keys(
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


def _check_window(window: str, label: str) -> None:
    if not re.fullmatch(r"\s*([01][0-9]|2[0-3]):[0-5][0-9]\s*-\s*([01][0-9]|2[0-3]):[0-5][0-9]\s*", window):
        raise ConfigError(f"{label}: {window!r} is not HH:MM-HH:MM", 'e.g. window = "22:00-06:00"')


def _suppliers(raw: Any, where: str) -> tuple[SupplierRule, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: suppliers must be written as [[suppliers]] tables")
    rules = []
    for i, entry in enumerate(raw):
        label = f"[[suppliers]] #{i + 1}"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}: {label} must be a table")
        _check_keys(entry, _SUPPLIER_KEYS, label, where)
        if "name" not in entry:
            raise ConfigError(f"{where}: {label} has no name", 'add name = "..."')
        referrer = _domains(entry.get("referrer", []), f"{where}: {label} referrer")
        host = _domains(entry.get("host", []), f"{where}: {label} host")
        if not referrer and not host:
            raise ConfigError(
                f"{where}: {label} ({entry['name']}) matches nothing",
                "give it referrer = [...] domains or host = [...] virtual hosts",
            )
        rules.append(SupplierRule(_xml_text(entry["name"], f"{where}: {label} name"), referrer, host))
    return tuple(rules)


def _state_url(section: Mapping[str, Any], where: str) -> str | None:
    url = section.get("url")
    if url is None:
        return None
    if "path" in section:
        raise ConfigError(f"{where}: [state] has both path and url", "keep one: url = 'sqlite:///PATH' is path")
    return str(url)  # checked (no password, a scheme logtrack keeps) by state.locate.parse, before any log is read


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(value: Any, label: str, unit: str) -> float:
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
    return seconds


def _fleet(section: Mapping[str, Any], where: str) -> Fleet:
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
        host_timeout=_duration(section.get("host_timeout", 26), f"{where}: [fleet] host_timeout", "h"),
        grace=_duration(section.get("grace", "5m"), f"{where}: [fleet] grace", "m"),
    )


def _domains(raw: str | list[Any], label: str) -> tuple[str, ...]:
    items = [raw] if isinstance(raw, str) else raw
    out = []
    for item in items:
        text = _expect_str(item, label).strip().lower().rstrip(".")
        if not text or any(c in text for c in "/: "):
            raise ConfigError(
                f"{label}: {item!r} is not a domain name",
                "write the bare host, e.g. 'zillow.com', without scheme, port or path",
            )
        out.append(text)
    return tuple(out)


def _parse_supplier_flag(flag: str) -> SupplierRule:
    name, sep, domains = flag.partition("=")
    if not sep or not name.strip() or not domains.strip():
        raise ConfigError(
            f"--supplier {flag!r} is not NAME=DOMAIN[,DOMAIN]",
            "for example --supplier Zillow=zillow.com,trulia.com",
        )
    return SupplierRule(
        _xml_text(name.strip(), f"--supplier {flag!r}"), _domains(domains.split(","), f"--supplier {flag!r}")
    )


def _relative(path: str | None, where: str) -> str | None:
    """A path in the config file is relative to the file, as in nginx's own."""
    if path is None or where == DEFAULTS:
        return path
    return str(Path(where).parent / path)


# What XML 1.0 lets a document hold (its Char production): a name written into the XML must be such text,
# or lxml refuses it when the document is built, after the logs were read.
# (Written as what lies outside it: the negated class takes Python's re some 4 ms to compile, at every start.)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(value: Any, label: str) -> str:
    text = _expect_str(value, label)
    if bad := _NOT_XML.search(text):
        raise ConfigError(f"{label}: {text!r} holds {bad.group()!r}, which XML cannot hold",
                          "take the control character out")
    return text


def _namespace(value: Any, label: str) -> str:
    """A namespace URI's shape (a scheme, a colon, no white space); lxml checks the rest when the XML is built."""
    uri = _xml_text(value, label)
    if uri and not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+", uri):
        raise ConfigError(f"{label}: {uri!r} is not a namespace URI",
                          "write the namespace the official XSD declares (its targetNamespace), or leave it empty")
    return uri


def _expect_str(value: Any, label: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{label} must be a string, not {value!r}")
    return value


def _check_status(value: Any, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        raise ConfigError(f"{label}: {value!r} is not an HTTP status code (100-599)")
    return value


def _check_format(spec: str, label: str) -> str:
    """Compile the format now, so a mistake names the file and key (or flag) before any log is read."""
    from . import formats
    from .errors import LogFormatError

    if spec != "auto":
        try:
            formats.get(spec)
        except LogFormatError as exc:
            raise LogFormatError(f"{label}: {exc.message}", exc.fix) from None
    return spec


def _check_timezone(name: str, label: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{label}: unknown time zone {name!r}",
            "use an IANA name such as 'America/Chicago' or 'UTC'",
        ) from None
    return name


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


def _check_pattern(pattern: str, label: str) -> str:
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
            f"{label}: pattern {pattern!r} has no group named 'id'",
            "mark the listing id with (?P<id>...), e.g. '^/listing/(?P<id>[0-9]+)'",
        )
    return pattern
