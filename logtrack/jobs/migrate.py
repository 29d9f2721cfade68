"""``state migrate``: a single server's SQLite state into the fleet's PostgreSQL, under a host name.

Why a copy and not a fresh start: the files already read must stay read
(their views were counted, and maybe posted), and flexmls's last posts must
stay known, so that only what changes is posted again.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Fleet
from ..errors import StateError, UsageError
from ..state.locate import Location, open_state
from .site_rules import rules_hash


@dataclass(frozen=True)
class MigrateReport:
    host: str
    site: str
    files: int
    days: int
    views: int
    same_export: bool | None  # the target's totals equal the source's (None: the site had other hosts' counts)


def migrate(source: Location, target: Location, fleet: Fleet, host: str | None,
            lock_wait: float = 60.0) -> MigrateReport:
    """Copy ``source``'s site into ``target`` under ``host``: files, counts, outcomes, posts, uploads, frozen days.

    The target must not hold that host's files yet (a second migration
    would count its logs twice). Into a site other hosts already use, the
    source's posts and frozen days are kept only where the site has none of
    its own for that day; the next upload then posts the new sums.
    """
    if source.path is None:
        raise UsageError(f"the state to migrate from is {source.shown}, not a SQLite file",
                         "name the SQLite state with --state")
    if not source.exists():
        raise StateError(f"no state at {source.shown}", "name the SQLite state to migrate with --state")
    if target.path is not None and target.path.resolve() == source.path.resolve():
        raise UsageError("the state to migrate to is the one to migrate from", "name the PostgreSQL state with --to")
    with open_state(source, Fleet(site=fleet.site), lock_wait=lock_wait) as old:
        name = host or fleet.host or old.host
        with open_state(target, Fleet(site=fleet.site, host=name), lock_wait=lock_wait) as new:
            if new.has_files(name):
                raise StateError(f"{target.shown} holds files of host {name!r} (site {fleet.site!r}) already",
                                 "migrate each host's state once; to start over, pick another --host")
            others = bool(new.totals().height)
            rules, theirs = old.rules(), new.rules()
            if rules and theirs and rules_hash(rules) != rules_hash(theirs):
                raise StateError(f"the site {fleet.site!r} in {target.shown} counts under other rules "
                                 f"({rules_hash(theirs)}) than {source.shown} ({rules_hash(rules)})",
                                 "use the site's configuration and `logtrack rebuild` the old state first, "
                                 "or migrate into another [fleet] site")
            new.load(old, host=name)
            before, after = old.totals(), new.totals()
            return MigrateReport(name, fleet.site, len(old.files()), before.get_column("day").n_unique(),
                                 int(before.get_column("views").sum()), None if others else before.equals(after))
