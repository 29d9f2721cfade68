"""The configuration, frozen: the counting rules and the settings, built from a TOML file and flags.

Everything is checked here, before any log is read: an unknown key, a regex
that does not compile, a time zone that does not exist. A mistake found after
an hour of reading logs is a mistake found too late.

- ``rules``: what the counts depend on (``CountingRules``, ``SupplierRule``)
  and what they do not (``Settings``, ``Fleet``): frozen data.
- ``checks``: each value of the file or of a flag checked, the file and key
  named in its error.
- ``model``: ``Config``, the rules and settings apart, with the flags applied.
- ``files``: where a config file is looked for, and its TOML into a ``Config``.

May import: ``errors``, ``formats``.
"""

from .files import ENV_VAR, LOCAL_CONFIG, find, from_mapping, load, search_path, user_home
from .model import Config
from .rules import (
    DEFAULT_ENDPOINT,
    DEFAULT_METHODS,
    DEFAULT_STATUS,
    DEFAULTS,
    CountingRules,
    Fleet,
    Settings,
    SupplierRule,
)

__all__ = [
    "DEFAULTS", "DEFAULT_ENDPOINT", "DEFAULT_METHODS", "DEFAULT_STATUS", "ENV_VAR", "LOCAL_CONFIG", "Config",
    "CountingRules", "Fleet", "Settings", "SupplierRule", "find", "from_mapping", "load", "search_path",
    "user_home",
]
