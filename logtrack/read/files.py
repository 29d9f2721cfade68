"""Which files to read: the paths a user names, expanded, and a log's rotated siblings.

A directory means the access logs in it: by default names containing
``access`` (or ``varnishncsa``, Varnish's) and not ``error`` (``[logs] glob``
to choose), rotated siblings
included (``access.log.1``, ``access.log.2.gz``, ``access.log-20261101.gz``),
for ``run`` those of the files a glob matches too.
"""

from __future__ import annotations

import bisect
import fnmatch
import glob
import itertools
import os
import re
import stat
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

STDIN = "-"


@dataclass
class Expanded:
    files: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def expand(paths: Sequence[str], pattern: str | None = None, *, siblings: bool = False) -> Expanded:
    """Turn the command line's paths into files to read, in a stable order.

    A path that names nothing is a problem to report, not a reason to stop:
    logrotate may have moved a file between the listing and the run.
    ``siblings``: a file named (or matched by a glob) brings its rotated
    copies along, as a directory's logs do (``rotated_siblings``): what
    ``run`` reads. The lines a server wrote after the last run are in
    ``access.log.1`` once logrotate renamed it, and a run that read
    ``access.log`` alone never counted them. (``xml`` reads the file named.)
    """
    out = Expanded()
    for raw in paths:
        if raw == STDIN:
            out.files.append(STDIN)
            continue
        path = Path(raw)
        try:
            if path.is_dir():
                found = sorted(str(p) for p in path.iterdir() if p.is_file() and _is_access_log(p.name, pattern))
                if not found:
                    out.problems.append(_none_found(raw, path, pattern))
                # (a glob's matches bring their copies too: with glob = "*.log", site.log.1, which holds the
                # lines written since the last run, was left out, those views lost)
                out.files.extend(with_siblings(found) if siblings else found)
            elif path.exists():
                out.files.extend(rotated_siblings(str(path)) if siblings and path.is_file() else [str(path)])
            elif glob.has_magic(raw):
                # ("**" is any depth of folders, as a shell with globstar reads it: a CDN's logs by date)
                matched = sorted(p for p in glob.glob(raw, recursive=True) if os.path.isfile(p))
                if not matched:
                    out.problems.append(f"{raw}: no file matches this pattern")
                out.files.extend(with_siblings(matched) if siblings else matched)
            elif siblings and (moved := rotated_siblings(raw)):  # renamed by logrotate, the new one not made yet
                out.files.extend(moved)
            else:
                out.problems.append(f"{raw}: no such file or directory")
        except OSError as exc:  # a name too long for the file system, a directory that cannot be listed
            out.problems.append(f"{shortened(raw)}: {exc.strerror or exc}")
    out.files = once(out.files)
    return out


def shortened(name: str) -> str:
    """A name as a message shows it: whole, unless it is longer than any sensible path (one too long for the
    file system is a mistake, thousands of characters, that would bury the message)."""
    return name if len(name) <= 80 else f"{name[:60]}...({len(name):,} characters)"


def once(names: Sequence[str]) -> list[str]:
    """Each file once, under the first name it was given: a file named twice (``dir`` and ``dir/access.log``,
    ``./access.log`` and ``access.log``, a symlink or a hard link beside it) is one file, its views counted once."""
    seen: set[object] = set()
    out: list[str] = []
    for name in names:
        try:
            st = os.stat(name)
            key: object = (st.st_dev, st.st_ino) if stat.S_ISREG(st.st_mode) else name
        except OSError:
            key = name  # (gone, or not ours to look at: said when it is read)
        if key not in seen:
            seen.add(key)
            out.append(name)
    return out


def _none_found(raw: str, path: Path, pattern: str | None) -> str:
    """Why a directory gave no file, with what it holds and a glob that would take it.

    A CDN's or load balancer's log files are named for it (CloudFront's
    ``E2EXAMPLE.2026-11-01-12.a1b2c3d4.gz``), not ``access``: showing one
    of the names and the glob their common ending makes saves a guess.
    """
    which = f"matching {pattern!r}" if pattern else "containing 'access' or 'varnishncsa' (and not 'error')"
    held = sorted(p.name for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    names = [name for name in held if pattern or "error" not in name.lower()]
    if not held:
        return f"{raw}: no access logs in this directory (it holds no files)"
    if not names:
        return f"{raw}: no access logs in this directory (it holds error logs alone, e.g. {held[0]})"
    endings = {name.rpartition(".")[2] if "." in name else None for name in names}
    ending = endings.pop() if len(endings) == 1 else None
    glob_ = f'set [logs] glob = "*.{ending}" to read them' if ending else "set [logs] glob to the logs' names"
    some = names[0] if len(names) == 1 else f"{len(names):,} files such as {names[0]}"
    return (f"{raw}: no access logs in this directory (looked for names {which}; it holds {some}); "
            f"{glob_}, or name the files")


def rotated_siblings(base: str) -> list[str]:
    """A log and its rotated copies: base, base.1, base.2.gz, base-20261101.gz, the copies logrotate makes
    of a log whose extension it keeps (access.1.log, access-20261101.log.gz), and, for a log that rolls
    itself as Caddy does, access-2026-11-01T10-00-00.000.log.gz (``_copy``)."""
    return with_siblings([base])


def with_siblings(bases: Iterable[str]) -> list[str]:
    """Each log in ``bases`` and its rotated copies (base, base.1, base.2.gz, base-20261101.gz), each file once.

    Each directory is listed once, however many of its logs are asked
    about: a glob over a CDN's 2,000 files looked for each one's copies with
    a listing of its own, 5 s before the first line was read.
    """
    listed: dict[str, list[str]] = {}  # directory -> its files' names, sorted
    names: dict[str, None] = {}
    for base in bases:
        folder, name = os.path.split(base)
        if folder not in listed:
            try:
                with os.scandir(folder or ".") as entries:
                    listed[folder] = sorted(e.name for e in entries if e.is_file())
            except OSError:
                listed[folder] = []
        found = [name] if os.path.isfile(base) else []
        for before, after in _forms(name):
            found += [n for sep in _MARKED for n in _starting(listed[folder], before + sep) if _copy(n, before, after)]
        names.update((os.path.join(folder, n), None) for n in found)
    return list(names)


# A log's copies: its name, a mark, maybe a compression's suffix (access.log.1, access.log.2.gz,
# access.log-20261101.gz), or, for a log whose extension is kept last, its stem, a mark and its extension:
# - logrotate's ``extension .log``: access.1.log, access.2.log.gz, and with ``dateext`` access-20261101.log.gz;
# - a Go server that rolls its own log (Caddy's ``output file``, through lumberjack):
#   access-2026-11-01T10-00-00.000.log, gzipped (by default) to access-...log.gz; the time is when it was
#   rolled, UTC unless the server says local.
# A mark is a number or ``dateformat``'s date (digits, maybe parted by - _ or ., as -%Y-%m-%d or -%Y%m%d-%s make
# it), or lumberjack's time: never a letter (but its T), so another log named after this one (access.log.json,
# access-other.log, access.old.log) is not taken for a copy of it.
_MARKED = (".", "-", "_")
_MARK = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}\.[0-9]{3}|[0-9]+(?:[-_.][0-9]+)*")
# what logrotate's ``compress`` (with its ``compressext``), savelog or newsyslog put last
_COMPRESSED = ("", ".gz", ".bz2", ".xz", ".zst", ".lz4", ".lz", ".lzo", ".Z")


def _copy(candidate: str, before: str, after: str) -> bool:
    """Whether ``candidate`` is ``before``, a separator, a mark, ``after`` and maybe a compression's suffix."""
    rest = candidate[len(before) + 1:]
    mark = _MARK.match(rest)
    end = rest[mark.end():] if mark else ""
    return mark is not None and end.startswith(after) and end[len(after):] in _COMPRESSED


def copy_of_another(name: str, names: Iterable[str]) -> bool:
    """Whether ``name`` is a rotated copy (``with_siblings``' sense) of another of ``names`` in its directory:
    ``access.log.14`` beside ``access.log`` is; ``access.log`` itself, the log written to, is not."""
    folder, mine = os.path.split(name)
    for other in names:
        there, base = os.path.split(other)
        if there != folder or base == mine:
            continue
        if any(mine[len(before):len(before) + 1] in _MARKED and mine.startswith(before) and _copy(mine, before, after)
               for before, after in _forms(base)):
            return True
    return False


def _forms(name: str) -> list[tuple[str, str]]:
    """What a copy of the log ``name`` starts and ends with: its name (access.log.1), or, its extension kept
    last, its stem and its extension (access.1.log).

    An extension is a word (logrotate's ``extension .log``): access.log-20261101's ".log-20261101" is a
    mark, and as an extension it made every file of a directory of dated copies a candidate copy of
    every other (365 copies: 133,000 names compared, 0.12 s of every run).
    """
    stem, ext = os.path.splitext(name)
    return [(name, ""), *([(stem, ext)] if stem and _WORD.fullmatch(ext) else [])]


_WORD = re.compile(r"\.[^\W\d_]+")


def _starting(names: list[str], prefix: str) -> list[str]:
    """The names (sorted) that start with ``prefix``: side by side in the sorted list, found by bisection."""
    at = bisect.bisect_left(names, prefix)
    return list(itertools.takewhile(lambda n: n.startswith(prefix), itertools.islice(names, at, None)))


def _is_access_log(name: str, pattern: str | None) -> bool:
    if pattern:
        return fnmatch.fnmatch(name, pattern)
    low = name.lower()
    # (Debian's varnishncsa service writes /var/log/varnish/varnishncsa.log: an access log by another name)
    return ("access" in low or "varnishncsa" in low) and "error" not in low


def last_written(name: str, same_as: os.stat_result | None = None) -> tuple[float, bool]:
    """When ``name`` was last written, in seconds since 1970: a regular file's time of modification, and False;
    for a stream (written as it is read), a name gone since, or one that is no longer ``same_as``'s file
    (renamed while read, and maybe written until then), now, and True: no line read from it was written later."""
    if name != STDIN:
        try:
            st = os.stat(name)
        except OSError:
            pass
        else:
            if stat.S_ISREG(st.st_mode) and (same_as is None or (st.st_dev, st.st_ino) == (same_as.st_dev,
                                                                                            same_as.st_ino)):
                return max(st.st_mtime, same_as.st_mtime if same_as else 0.0), False
    return time.time(), True


def is_stream(name: str) -> bool:
    """Whether ``name`` is stdin or a pipe (``<(zcat ...)``, a FIFO): read once, from its start, with no
    identity to resume from."""
    if name == STDIN:
        return True
    try:
        return not stat.S_ISREG(os.stat(name).st_mode)
    except OSError:
        return False
