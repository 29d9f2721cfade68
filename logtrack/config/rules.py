"""The counting rules and the settings, as frozen data: what the counts depend on, and what they do not.

``CountingRules`` holds every option a count depends on, and its signature
covers every field, so that an option added here is in it by construction.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from typing import Any

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


DEFAULTS = "defaults"  # the source of a Config read from no file
