"""Logs that left: the file a server was writing, read by the last run, now nowhere among the logs read.

logrotate renames the log the server writes (``access.log`` to
``access.log.1``), and the lines written between the last run and the
rename are in the renamed file: a run finds them because it reads the
log's rotated copies beside it. Where logrotate puts them elsewhere
(``olddir``), deletes them at once (``rotate 0``), or something else takes
the file away (a log shipper), those lines are not there to read, and
nothing in the files that are tells that they were lost. The state does:
a file read by the last run under a name this run reads again, which now
holds another file, while the file itself is not among the logs read.
That is said once (the run after it left), as a problem (exit 4), with the
fix; should the file come back (its directory named), it is read on from
where it stopped, as any file is.

Only the log written to is asked about: a rotated copy that leaves
(``access.log.14`` deleted by ``rotate 14``) was read to its end when it
was renamed, long before, and a compressed file read whole was whole.
A run in which some file could not be read or matched says nothing: that
file may be the one.
"""

from __future__ import annotations

from collections.abc import Collection

from ..read import files
from ..state.interface import Store
from ..state.sql import shown_name


def left(state: Store, names: Collection[str], seen: Collection[int]) -> list[str]:
    """A message for each log the last run read under one of ``names`` (the files read now), gone since."""
    shown = {shown_name(name): name for name in names}
    out = []
    for record in state.read_by_last_run():
        name = shown.get(record.last_name)
        if record.id in seen or name is None or files.copy_of_another(name, names):
            continue
        out.append(
            f"{name}: the file read under this name by the last run (to line {record.lines:,}) is gone, and is "
            "none of the logs read now: lines written to it after that run are not counted. If logrotate moves "
            "rotated logs to another directory (olddir), name that directory too; if it deletes them (rotate 0), "
            "keep one (rotate 1)"
        )
    return out
