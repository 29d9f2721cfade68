"""``Config``: the counting rules and the settings, apart, and the file they came from; flags applied over it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import ConfigError, quoted
from .checks import (
    check_format,
    check_pattern,
    check_timezone,
    fixed_zone_doubt,
    shadowed_suppliers,
    supplier_flag,
)
from .rules import DEFAULTS, CountingRules, Settings


@dataclass(frozen=True)
class Config:
    """The whole configuration: the counting rules and the settings, apart; and the file it came from."""

    rules: CountingRules = field(default_factory=CountingRules)
    settings: Settings = field(default_factory=Settings)
    source: str = field(default=DEFAULTS, compare=False)  # the file it came from

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
            changes["format"] = check_format(format, "--format")
        if nginx_conf is not None:
            settings = replace(settings, nginx_conf=nginx_conf)
        if timezone is not None:
            changes["timezone"] = check_timezone(timezone, "--timezone")
        if patterns:
            changes["patterns"] = tuple(
                check_pattern(p, f"--listing-pattern {quoted(p)}") for p in patterns
            )
        if suppliers:
            changes["suppliers"] = tuple(supplier_flag(s) for s in suppliers)
        if not changes and settings is self.settings:
            return self
        return replace(self, rules=replace(self.rules, **changes), settings=settings)

    def own_files(self) -> list[tuple[str, str]]:
        """The files this config is made of, each with what it is: never a log to read (``glob = "*"`` over a
        folder that holds them), nor an output to replace."""
        named = [(self.source, "the config file")] if self.source != DEFAULTS else []
        if self.settings.api_key_file:
            named.append((self.settings.api_key_file, "the API key's file"))
        if self.settings.nginx_conf:
            named.append((self.settings.nginx_conf, "the nginx config read"))
        return named

    def doubts(self) -> list[str]:
        """What is valid but most likely not meant, to be said as a warning (``fixed_zone_doubt``)."""
        said = [fixed_zone_doubt(self.rules.timezone, "the time zone of the days ([logs] timezone, --timezone)"),
                fixed_zone_doubt(self.settings.window_timezone, "[upload] window_timezone")]
        return [doubt for doubt in said if doubt] + shadowed_suppliers(self.rules.suppliers)

    def check_patterns(self) -> None:
        """Compile every listing pattern with the engine that runs them; name the bad one."""
        for i, pattern in enumerate(self.rules.patterns):
            check_pattern(pattern, f"{self.source}: [listings] patterns[{i}]")

    def require_patterns(self) -> None:
        if not self.rules.patterns:
            if self.source == DEFAULTS:
                raise ConfigError(
                    "no listing URL patterns: no config file was found (--config, LOGTRACK_CONFIG, "
                    "./logtrack.toml, ~/.config/logtrack/logtrack.toml, /etc/logtrack.toml)",
                    "write one with `logtrack init` and set [listings] patterns, or pass --listing-pattern",
                )
            raise ConfigError(
                f"no listing URL patterns configured ({self.source})",
                "set [listings] patterns in the config file or pass --listing-pattern",
            )
