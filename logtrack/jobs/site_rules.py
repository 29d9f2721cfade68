"""The rules a site counts under, and the refusal to mix counts made under others.

The counts mean what the rules (patterns, suppliers, filters, format, time
zone) made them mean; the state keeps the rules' signature for the site and
for each host, and a run under other rules is refused until a rebuild.
"""

from __future__ import annotations

import json

from ..config import Config
from ..errors import StateError
from ..state.interface import Store


def check_rules(state: Store, config: Config) -> None:
    """Refuse counts under other rules than the site's; rules new to a state get their patterns compiled first.

    The rules are the site's, not the host's: a fleet's sums mean something
    only if every host counted the same way. A host whose configuration
    differs from the site's is refused, as is a host whose own counts were
    made under rules the site has since left (another host's ``rebuild``
    changed them). A state that already counted with these very rules knows
    its patterns compile, so a daily run need not load the regex engine.
    """
    signature = config.rules.signature()
    legacy = rules_hash(config.rules.legacy_signature())
    site, mine = state.rules(), state.host_rules()
    if site is not None and rules_hash(site) == legacy:
        state.set_rules(signature)  # counted under these rules, signed the way older versions did
        site = mine = signature
    if mine is not None and rules_hash(mine) == legacy:
        state.set_rules(signature, site=False)
        mine = signature
    if site is None or rules_hash(site) != rules_hash(signature):
        config.check_patterns()
    if site is None:
        state.set_rules(signature)
        return
    if rules_hash(site) != rules_hash(signature):
        others = [h.host for h in state.hosts() if h.host != state.host]
        raise StateError(
            f"the counts in {state.name} were made under other rules ({_differences(site, signature)} changed): "
            f"the site {state.site!r} counts under rules {rules_hash(site)}, "
            f"this configuration's are {rules_hash(signature)}",
            ("use the configuration the other hosts use (" + ", ".join(others) + "), or change the rules of the "
             "whole site: deploy the new configuration to every host and run `logtrack rebuild` on each") if others
            else "run `logtrack rebuild` with the same paths to recount from the logs still present, "
                 "or go back to the old configuration",
        )
    if mine is not None and rules_hash(mine) != rules_hash(signature):
        raise StateError(
            f"the counts of host {state.host!r} in {state.name} were made under rules {rules_hash(mine)}; the site "
            f"{state.site!r} counts under {rules_hash(site)} since a rebuild on another host",
            "run `logtrack rebuild` on this host, with the same paths, to recount its logs under the site's rules",
        )
    if mine is None:
        state.set_rules(signature, site=False)


def _differences(old: str, new: str) -> str:
    """Which rules differ between two signatures (their JSON halves), for the refusal to name."""
    try:
        before, after = (json.loads(s.split(" ", 1)[1]) for s in (old, new))
    except (IndexError, ValueError):
        return "the rules"
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return ", ".join(keys) or "the rules"


def rules_hash(signature: str) -> str:
    """A rules signature's hash, the part that says whether two signatures are the same rules."""
    return signature.split(" ", 1)[0]
