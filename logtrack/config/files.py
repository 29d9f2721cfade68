"""Where a config file is looked for, and its TOML into a ``Config``, checked key by key."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .checks import (
    amount,
    check_format,
    check_keys,
    check_method,
    check_some,
    check_status,
    check_timezone,
    check_window,
    domain_names,
    expect_str,
    fleet_of,
    namespace_uri,
    relative_path,
    state_url_of,
    supplier_name,
    supplier_rules,
    xml_text,
)
from .model import Config
from .rules import DEFAULT_ENDPOINT, DEFAULT_METHODS, DEFAULT_STATUS, CountingRules, Settings

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


ENV_VAR = "LOGTRACK_CONFIG"
LOCAL_CONFIG = Path("logtrack.toml")
SYSTEM_CONFIG = Path("/etc/logtrack.toml")


def search_path(env: Mapping[str, str]) -> list[Path]:
    """Where a config is looked for when none is named, first match wins (after LOGTRACK_CONFIG).

    A user with no home (below) has no config of their own to look for.
    """
    base = env.get("XDG_CONFIG_HOME") or ((home := user_home(env)) and str(home / ".config"))
    return [LOCAL_CONFIG, *([Path(base) / "logtrack" / "logtrack.toml"] if base else []), SYSTEM_CONFIG]


def user_home(env: Mapping[str, str]) -> Path | None:
    """``HOME``, or the password database's home of this user; None where neither is there.

    A container run under a user ID the image does not know (OpenShift,
    ``docker run --user 12345``) may have neither, and Python's
    ``Path.home()`` then raises RuntimeError, which would end the run as a bug.
    """
    if env.get("HOME"):
        return Path(env["HOME"])
    try:
        return Path.home()
    except RuntimeError:
        return None


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
        data = tomllib.loads(_text(path.read_bytes(), where))
    except FileNotFoundError:
        raise ConfigError(
            f"config file {where} does not exist", f"create it with `logtrack init {where}`"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {where}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        # (a regex in double quotes is the commonest: TOML reads its backslashes as escapes)
        fix = ("write a regex in single quotes, '^/listing/(?P<id>\\d+)$': TOML reads a backslash in double "
               "quotes as an escape" if "Unescaped '\\'" in str(exc) else None)
        raise ConfigError(f"{where}: invalid TOML: {exc}", fix) from None
    return from_mapping(data, where, check_patterns=check_patterns)


def _text(raw: bytes, where: str) -> str:
    """The file's text: UTF-8 as TOML is, a leading byte order mark (Windows' Notepad writes one) left out."""
    try:
        return raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{where}: line {line} is not UTF-8 text (byte 0x{raw[exc.start]:02x})",
                          "save the file as UTF-8, as TOML wants") from None


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
        check_keys(body, _SCHEMA[section], f"[{section}]", where)

    logs = data.get("logs", {})
    listings = data.get("listings", {})
    filters = data.get("filters", {})
    vt = data.get("viewtracking", {})

    patterns = tuple(
        expect_str(p, f"{where}: [listings] patterns[{i}]") for i, p in enumerate(listings.get("patterns", []))
    )
    status = check_some(tuple(
        check_status(s, f"{where}: [filters] status[{i}]")
        for i, s in enumerate(filters.get("status", DEFAULT_STATUS))
    ), f"{where}: [filters] status", "200 and 304")
    methods = check_some(tuple(
        check_method(m, f"{where}: [filters] methods[{i}]")
        for i, m in enumerate(filters.get("methods", DEFAULT_METHODS))
    ), f"{where}: [filters] methods", "GET")
    tz = logs.get("timezone")
    log_tz = logs.get("log_timezone")
    upload = data.get("upload", {})
    endpoint = upload.get("endpoint", DEFAULT_ENDPOINT)
    if "{api_key}" not in endpoint:
        raise ConfigError(f"{where}: [upload] endpoint has no {{api_key}}",
                          "the key goes in the URL path, e.g. https://host/tracking/v1/listings/views/{api_key}/")
    if not re.match(r"https?://[^/]", endpoint, re.IGNORECASE):
        raise ConfigError(f"{where}: [upload] endpoint is not an http:// or https:// URL",
                          "e.g. https://host/tracking/v1/listings/views/{api_key}/")
    window = upload.get("window", "22:00-06:00")
    check_window(window, f"{where}: [upload] window")
    max_listings = upload.get("max_listings_per_post", 5000)
    if max_listings < 1:
        raise ConfigError(f"{where}: [upload] max_listings_per_post must be at least 1")
    rules = CountingRules(
        format=check_format(logs.get("format", "auto"), f"{where}: [logs] format"),
        timezone=check_timezone(tz, f"{where}: [logs] timezone") if tz is not None else None,
        log_timezone=check_timezone(log_tz, f"{where}: [logs] log_timezone") if log_tz is not None else None,
        patterns=patterns,
        suppliers=supplier_rules(data.get("suppliers", []), where),
        status=status,
        methods=methods,
        exclude_bots=filters.get("exclude_bots", True),
        default_supplier=supplier_name(vt.get("default_supplier", ""), f"{where}: [viewtracking] default_supplier"),
        # a port written after a host is dropped, as it is from the logged one
        vhosts=domain_names([re.sub(r":[0-9]*$", "", h) if isinstance(h, str) else h
                             for h in filters.get("vhosts", [])], f"{where}: [filters] vhosts"),
    )
    settings = Settings(
        glob=logs.get("glob"),
        nginx_conf=relative_path(logs.get("nginx_conf"), where, f"{where}: [logs] nginx_conf"),
        namespace=namespace_uri(vt.get("namespace", ""), f"{where}: [viewtracking] namespace"),
        schema_location=xml_text(vt.get("schema_location", "ViewTracking.xsd"),
                                  f"{where}: [viewtracking] schema_location"),
        state_path=relative_path(data.get("state", {}).get("path"), where, f"{where}: [state] path"),
        state_url=state_url_of(data.get("state", {}), where),
        fleet=fleet_of(data.get("fleet", {}), where),
        endpoint=endpoint,
        api_key_file=relative_path(upload.get("api_key_file"), where, f"{where}: [upload] api_key_file"),
        max_listings_per_post=max_listings,
        window=window,
        window_timezone=check_timezone(upload.get("window_timezone", "America/Chicago"),
                                        f"{where}: [upload] window_timezone"),
        upload_timeout=amount(upload.get("timeout", 30.0), f"{where}: [upload] timeout", least=0, most=3600,
                              above=True),
        upload_retries=int(amount(upload.get("retries", 5), f"{where}: [upload] retries", least=0, most=100)),
        upload_backoff=amount(upload.get("backoff", 1.0), f"{where}: [upload] backoff", least=0, most=3600),
    )
    config = Config(rules, settings, source=where)
    if check_patterns:
        config.check_patterns()
    return config
