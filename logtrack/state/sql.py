"""The state's queries, once, for both backends: SQLite (one server) and PostgreSQL (a fleet).

Every row is keyed by site; read positions and counts belong to a host (a
file is a host's file, and counts are kept per file). A store is opened for
one (site, host): what it reads and writes of files is that host's, what it
sums and posts is the site's, over every host.

The SQL here is the dialect both engines speak (``ON CONFLICT``,
``RETURNING``, ``EXCEPT``, CTEs); a backend only runs it, with ``?`` for
its parameters, and says how it locks. Sums are cast to BIGINT, since
PostgreSQL's SUM of a BIGINT is NUMERIC.

Why a "mark" on each dirty day: a day whose counts changed since flexmls
last accepted them is kept in ``dirty_days``, and an uploader clears it
after posting. In a fleet another host may count more of that day while
the uploader posts; every ingest gives the day a new random mark, and the
uploader clears a day only if its mark is still the one it read, so a
change made meanwhile is never cleared unposted.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .records import FINGERPRINT_BYTES, Advance, FileRecord, HostRecord, Upload, fingerprint

if TYPE_CHECKING:
    import polars as pl

    from .interface import Store

# (table, its columns, the columns a copy renumbers or rewrites) in the order a copy writes them
FILE_COLUMNS = ("id", "site", "host", "fp_len", "fp_hash", "offset", "lines", "last_name", "dev", "inode",
                "raw_size", "mtime_ns", "complete", "first_seen", "last_read", "last_ts", "recount_since",
                "tail_hash")
SITE_TABLES: dict[str, tuple[str, ...]] = {
    "meta": ("site", "key", "value"),
    "hosts": ("site", "host", "rules", "first_run", "run_started", "run_finished", "read_all_started"),
    "posted": ("site", "day", "supplier", "listing", "views"),
    "uploads": ("site", "host", "at", "days", "ok", "http_status", "message"),
    "frozen_days": ("site", "day", "reason"),
    "dirty_days": ("site", "day", "mark"),
}
FILE_TABLES: dict[str, tuple[str, ...]] = {
    "counts": ("site", "file_id", "day", "supplier", "listing", "views"),
    "file_days": ("file_id", "day", "site"),
    "outcomes": ("site", "file_id", "day", "outcome", "lines"),
}
# The counts' key, in the order both backends keep them: by day, and within a day by file, so that a file's
# rows land side by side (a CDN's small files of one day each write their own stretch, not one page a row);
# the days each file has counts on are kept apart (``file_days``), small, for the questions asked by file.
COUNT_KEY = ("site", "day", "file_id", "supplier", "listing")


def _q(column: str) -> str:
    """A column name as SQL: ``offset`` is a reserved word in PostgreSQL."""
    return '"offset"' if column == "offset" else column


class SqlStore(ABC):
    """A state opened for one (site, host); the backend subclasses run the SQL and say how they lock."""

    # A group's counts as one text (``totals``): each "supplier US listing US views", joined by RS. The
    # aggregate is the one thing the two engines name differently.
    _JOINED = "group_concat(supplier || char(31) || listing || char(31) || views, char(30))"

    def __init__(self, site: str, host: str, name: str, local_dir: Path, path: Path) -> None:
        self.site = site
        self.host = host
        self.name = name  # where it is, for messages (a URL without its password)
        self.local_dir = local_dir  # where files kept beside the state go (documents flexmls refused)
        self.path = path  # the SQLite file, or ``local_dir`` for PostgreSQL
        self._seen_marks: dict[str, int] = {}  # day -> its mark, as the last ``settle`` read it

    # --- what a backend provides ---------------------------------------------------------
    @abstractmethod
    def _fetch(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows as tuples."""

    @abstractmethod
    def _chunks(self, sql: str, args: Sequence[Any], size: int) -> Iterator[list[tuple[Any, ...]]]:
        """Rows as tuples, ``size`` at a time: what is read of a large result need not be held whole as
        Python objects."""

    @abstractmethod
    def _named(self, sql: str, args: Sequence[Any] = ()) -> list[Mapping[str, Any]]:
        """Rows read by column name."""

    @abstractmethod
    def _exec(self, sql: str, args: Sequence[Any] = ()) -> None:
        """One statement, no rows back."""

    @abstractmethod
    def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """One statement for each of ``rows``."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[object]:
        """All the calls inside it land together, or none does."""

    @abstractmethod
    def _snapshot(self) -> AbstractContextManager[object]:
        """The reads inside it see the state as it was at their first: none of what others commit meanwhile."""

    @abstractmethod
    def uploading(self) -> AbstractContextManager[object]:
        """Held while posting: one uploader at a time per site."""

    @abstractmethod
    def copy_to(self, path: Path) -> None:
        """A consistent copy of the site's state as a SQLite file at ``path`` (a dry run works on it)."""

    def _insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
                keep_existing: bool) -> None:
        """New rows into ``table``; with ``keep_existing``, a row whose key the table holds is left out."""
        conflict = " ON CONFLICT DO NOTHING" if keep_existing else ""
        self._many(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}){conflict}",
                   rows)

    def _add(self, table: str, rows: pl.DataFrame, key: tuple[str, ...], total: str) -> None:
        """Add ``rows`` to ``table``: ``total`` summed into the row of the same ``key``, or a new row."""
        columns = rows.columns
        self._many(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
                   f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {total} = {table}.{total} + excluded.{total}",
                   rows.iter_rows())

    # --- rules -----------------------------------------------------------------
    def rules(self) -> str | None:
        """The signature of the rules the site counts under."""
        rows = self._fetch("SELECT value FROM meta WHERE site=? AND key='rules'", (self.site,))
        return str(rows[0][0]) if rows else None

    def host_rules(self) -> str | None:
        """The signature of the rules this host's counts were made under."""
        rows = self._fetch("SELECT rules FROM hosts WHERE site=? AND host=?", (self.site, self.host))
        return None if not rows or rows[0][0] is None else str(rows[0][0])

    def set_rules(self, signature: str, *, site: bool = True) -> None:
        """This host counts under ``signature``; with ``site``, so does the whole site from now on."""
        self._exec("INSERT INTO hosts (site, host, rules, first_run) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT (site, host) DO UPDATE SET rules = excluded.rules",
                   (self.site, self.host, signature, time.time()))
        if site:
            self._exec("INSERT INTO meta (site, key, value) VALUES (?, 'rules', ?) "
                       "ON CONFLICT (site, key) DO UPDATE SET value = excluded.value", (self.site, signature))

    # --- files -----------------------------------------------------------------
    def _where_mine(self) -> tuple[str, tuple[str, str]]:
        return "site=? AND host=?", (self.site, self.host)

    def match(self, head: bytes) -> FileRecord | None:
        """This host's known file whose first bytes this content starts with, if any.

        The longest fingerprint wins; among equals, the one read furthest.
        """
        mine, args = self._where_mine()
        lengths = [r[0] for r in self._fetch(
            f"SELECT DISTINCT fp_len FROM files WHERE {mine} ORDER BY fp_len DESC", args)]
        for length in lengths:
            if length > len(head):
                continue
            rows = self._named(
                f'SELECT * FROM files WHERE {mine} AND fp_len=? AND fp_hash=? ORDER BY "offset" DESC LIMIT 1',
                (*args, length, fingerprint(head, length)),
            )
            if rows:
                return _record(rows[0])
        return None

    def by_hints(self, dev: int, inode: int, raw_size: int, mtime_ns: int) -> FileRecord | None:
        mine, args = self._where_mine()
        rows = self._named(
            f"SELECT * FROM files WHERE {mine} AND dev=? AND inode=? AND raw_size=? AND mtime_ns=? AND complete=1",
            (*args, dev, inode, raw_size, mtime_ns),
        )
        return _record(rows[0]) if rows else None

    def add_file(self, head: bytes, name: str) -> FileRecord:
        length = min(len(head), FINGERPRINT_BYTES)
        now = time.time()
        rows = self._fetch(
            'INSERT INTO files (site, host, fp_len, fp_hash, "offset", lines, last_name, complete, first_seen, '
            "last_read) VALUES (?, ?, ?, ?, 0, 0, ?, 0, ?, ?) RETURNING id",
            (self.site, self.host, length, fingerprint(head, length), shown_name(name), now, now),
        )
        return self.file(int(rows[0][0]))

    def file(self, file_id: int) -> FileRecord:
        return _record(self._named("SELECT * FROM files WHERE id=?", (file_id,))[0])

    def widen_fingerprint(self, record: FileRecord, head: bytes) -> None:
        """A file first seen short gets the full-length fingerprint once it has the bytes."""
        length = min(len(head), FINGERPRINT_BYTES)
        if length > record.fp_len:
            self._exec("UPDATE files SET fp_len=?, fp_hash=? WHERE id=?",
                       (length, fingerprint(head, length), record.id))

    def advance(self, record_id: int, offset: int, lines: int, name: str, counts: pl.DataFrame,
                last_ts: int | None = None, recount_since: int | None = None, tail_hash: str | None = None,
                outcomes: pl.DataFrame | None = None) -> None:
        """Add a batch's counts and move the read position: call inside ``transaction`` (see ``Advance``)."""
        self.advance_many([Advance(record_id, offset, lines, name, counts, last_ts, recount_since, tail_hash,
                                   outcomes)])

    def advance_many(self, commits: Sequence[Advance]) -> None:
        """Several files' commits, each whole (its counts with its position): call inside ``transaction``.

        Their rows go in as one statement each: over a directory of small
        files counted together, the per-file statements and frame
        operations cost more than the rows (250 files of 4,000 lines: two
        thirds of the state thread's time). Each day counted gets a new
        mark (see the module's docstring); days are written in order, so
        two hosts' commits never wait on each other in a cycle.
        """
        import polars as pl

        day = pl.col("day").dt.to_string("%Y-%m-%d")
        site = pl.lit(self.site).alias("site")
        counts = _with_file_ids([(c.record_id, c.counts) for c in commits])
        if counts is not None:
            rows = counts.select(site, day, "file_id", "supplier", "listing", "views")
            self._add("counts", rows, COUNT_KEY, "views")
            self._many("INSERT INTO file_days (file_id, day, site) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                       rows.select("file_id", "day", "site").unique().sort("file_id", "day").iter_rows())
            days = sorted(rows.get_column("day").unique().to_list())
            self._many("INSERT INTO dirty_days (site, day, mark) VALUES (?, ?, ?) "
                       "ON CONFLICT (site, day) DO UPDATE SET mark = excluded.mark",
                       [(self.site, d, _mark()) for d in days])
        outcomes = _with_file_ids([(c.record_id, c.outcomes) for c in commits if c.outcomes is not None])
        if outcomes is not None:
            self._add("outcomes", outcomes.select(site, "file_id", day.fill_null(""), "outcome", "lines"),
                      ("file_id", "day", "outcome"), "lines")
        now = time.time()
        self._many(
            'UPDATE files SET "offset"=?, lines=?, last_name=?, last_read=?, last_ts=?, recount_since=?, '
            "tail_hash=? WHERE id=?",
            [(c.offset, c.lines, shown_name(c.name), now, c.last_ts, c.recount_since, c.tail_hash, c.record_id)
             for c in commits],
        )

    def recount(self, record: FileRecord) -> FileRecord:
        """A file cut back below its read position (a crash lost its last writes, and the server went
        on from there) is read again from its start; what it had up to its latest line time was counted."""
        with self.transaction():
            self._exec('UPDATE files SET "offset"=0, lines=0, recount_since=? WHERE id=?',
                       (record.last_ts, record.id))
        return self.file(record.id)

    def set_hints(self, record_id: int, st: os.stat_result, complete: bool, name: str) -> None:
        """A file read to its end: its stat, and the name it has and the time it was read now (even with no
        new line: a log seen by a run and gone by the next is told by them, ``jobs.gone``)."""
        self._exec("UPDATE files SET dev=?, inode=?, raw_size=?, mtime_ns=?, complete=?, last_name=?, last_read=? "
                   "WHERE id=?", (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, int(complete), shown_name(name),
                                  time.time(), record_id))

    def read_by_last_run(self) -> list[FileRecord]:
        """This host's files that may still grow (all but compressed ones read whole) read by its last run
        (before this one: a run's start is kept as it finishes)."""
        return [_record(r) for r in self._named(
            "SELECT f.* FROM files f JOIN hosts h ON h.site = f.site AND h.host = f.host "
            "WHERE f.site=? AND f.host=? AND f.complete=0 AND f.last_read >= h.run_started ORDER BY f.id",
            (self.site, self.host))]

    def files(self) -> list[FileRecord]:
        """This host's files."""
        mine, args = self._where_mine()
        return [_record(r) for r in self._named(f"SELECT * FROM files WHERE {mine} ORDER BY id", args)]

    # --- hosts -----------------------------------------------------------------
    def finish_run(self, started: float, read_all: bool) -> None:
        """A run of this host that began at ``started`` has ingested (every log to its end, if ``read_all``)."""
        now = time.time()
        self._exec(
            "INSERT INTO hosts (site, host, first_run, run_started, run_finished, read_all_started) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (site, host) DO UPDATE SET run_started = excluded.run_started, "
            "run_finished = excluded.run_finished, "
            "read_all_started = COALESCE(excluded.read_all_started, hosts.read_all_started)",
            (self.site, self.host, now, started, now, started if read_all else None),
        )

    def retire(self, host: str) -> bool:
        """Stop waiting for ``host`` and checking its rules; its files and counts stay. False: no such host.

        Should it run again, it is a host of the site again (its first run
        re-enters it), and goes on where it stopped.
        """
        with self.transaction():
            known = bool(self._fetch("SELECT 1 FROM hosts WHERE site=? AND host=?", (self.site, host)))
            self._exec("DELETE FROM hosts WHERE site=? AND host=?", (self.site, host))
        return known

    def hosts(self) -> list[HostRecord]:
        """Every host of the site that ever ran, by name."""
        rows = self._named(
            "SELECT h.host, h.rules, h.first_run, h.run_started, h.run_finished, h.read_all_started, "
            "(SELECT MAX(f.last_ts) FROM files f WHERE f.site = h.site AND f.host = h.host) AS last_line_ts, "
            "(SELECT COUNT(*) FROM files f WHERE f.site = h.site AND f.host = h.host AND EXISTS "
            " (SELECT 1 FROM file_days d WHERE d.file_id = f.id)) AS counted "
            "FROM hosts h WHERE h.site = ? ORDER BY h.host", (self.site,))
        return [HostRecord(r["host"], r["rules"], float(r["first_run"]), _float(r["run_started"]),
                           _float(r["run_finished"]), _float(r["read_all_started"]),
                           None if r["last_line_ts"] is None else int(r["last_line_ts"]), bool(r["counted"]))
                for r in rows]

    # --- counts ----------------------------------------------------------------
    def totals(self, since: date | None = None, until: date | None = None,
               days: Sequence[str] | None = None, *, whole: bool = True) -> pl.DataFrame:
        """Cumulative views per (day, supplier, listing) over every host of the site, in XML order.

        One statement: a snapshot that holds each ingest's commit whole or not at all.
        It reads one text per (day, file), the file's keys and views of the
        day joined (``_JOINED``), in the order the counts are kept, and
        Polars sums them, whole days at a time: a row per count read into
        Python, summed by the database's GROUP BY (a sort of every row), took
        a year's ``report`` 10 s, 8 of them the database and Python; held
        as Python tuples it had taken 1.5 GB.

        ``whole``: made one chunk, which a report's queries over it want (a
        year's report held 250 MB more over its parts); a document written
        View by View needs no such copy (the year's export, 90 MB less).
        """
        import polars as pl

        where, args = _day_filter(self.site, since, until, days)
        summed: list[pl.DataFrame] = []
        run: list[tuple[str, str]] = []  # (day, text): whole days
        size = 0
        for rows in self._chunks(f"SELECT day, {self._JOINED} FROM counts {where} GROUP BY day, file_id "
                                 "ORDER BY day, file_id", args, 64):
            for day, text in rows:
                if size >= TOTALS_TEXT and day != run[-1][0]:
                    summed.append(_summed(run))
                    run, size = [], 0
                run.append((day, text))
                size += len(text)
        summed.append(_summed(run))
        return pl.concat(summed, rechunk=whole)

    def outcomes(self, since: date | None = None, until: date | None = None) -> pl.DataFrame:
        """Lines per (day, outcome) over every file ever read (day null: lines with no time)."""
        import polars as pl

        where, args = _day_filter(self.site, since, until, None)
        rows = self._fetch(f"SELECT day, outcome, CAST(SUM(lines) AS BIGINT) FROM outcomes {where} "
                           "GROUP BY day, outcome ORDER BY day, outcome", args)
        return pl.DataFrame(rows, schema={"day": pl.String, "outcome": pl.String, "lines": pl.Int64},
                            orient="row").with_columns(pl.col("day").replace("", None).str.to_date("%Y-%m-%d"))

    def days_by_file(self) -> dict[int, set[str]]:
        """The days each of this host's files has counts on."""
        out: dict[int, set[str]] = {}
        for file_id, day in self._fetch("SELECT d.file_id, d.day FROM file_days d JOIN files f "
                                        "ON f.id = d.file_id WHERE f.site=? AND f.host=?", (self.site, self.host)):
            out.setdefault(int(file_id), set()).add(day)
        return out

    def forget_counts(self) -> None:
        """Drop this host's counts and read positions (the rules changed); keep what was posted.

        Every day flexmls was sent becomes dirty, so that a rebuild that
        changed it is posted again.
        """
        mine = "file_id IN (SELECT id FROM files WHERE site=? AND host=?)"
        with self.transaction():
            # (by the days its files have counts on: the counts are kept by day)
            self._exec(f"DELETE FROM counts WHERE site=? AND day IN (SELECT day FROM file_days WHERE {mine}) "
                       f"AND {mine}", (self.site, self.site, self.host, self.site, self.host))
            self._exec(f"DELETE FROM file_days WHERE {mine}", (self.site, self.host))
            self._exec(f"DELETE FROM outcomes WHERE {mine}", (self.site, self.host))
            self._exec("DELETE FROM files WHERE site=? AND host=?", (self.site, self.host))
            days = [r[0] for r in self._fetch("SELECT DISTINCT day FROM posted WHERE site=? ORDER BY day",
                                              (self.site,))]
            self._many("INSERT INTO dirty_days (site, day, mark) VALUES (?, ?, ?) "
                       "ON CONFLICT (site, day) DO UPDATE SET mark = excluded.mark",
                       [(self.site, d, _mark()) for d in days])
            self._exec("UPDATE hosts SET rules=NULL WHERE site=? AND host=?", (self.site, self.host))

    # --- posts -----------------------------------------------------------------
    def pending_days(self, before: date | None) -> list[str]:
        """The days the next upload posts, oldest first: exactly those whose totals differ from what
        flexmls last accepted, in a (day, supplier) that has views to post.

        ``dirty_days`` (kept with the counts) narrows the search to days whose
        counts changed, so this costs the same after years of data as after
        a day; a day made dirty by a rebuild that came to the same numbers is
        not pending. A (day, supplier) whose views all went (a rebuild
        without them) cannot be posted (a View holds at least one listing),
        so it alone does not make its day pending.
        """
        limit = before.isoformat() if before else "9999-12-31"
        return [r[0] for r in self._fetch(_PENDING, (self.site, self.site, limit, *[self.site] * 4))]

    def settle(self) -> list[str]:
        """Forget the dirty days that turned out to hold what flexmls has (or nothing postable).

        Returns every pending day, today's too, so the caller need not ask
        again. The marks read here are the ones ``clean`` checks.
        """
        marks = {str(d): int(m) for d, m in self._fetch("SELECT day, mark FROM dirty_days WHERE site=?",
                                                         (self.site,))}
        keep = self.pending_days(None)
        gone = sorted(set(marks) - set(keep))
        with self.transaction():
            self._many("DELETE FROM dirty_days WHERE site=? AND day=? AND mark=?",
                       [(self.site, d, marks[d]) for d in gone])
        self._seen_marks = {d: marks[d] for d in keep if d in marks}
        return keep

    def clean(self, day: str) -> None:
        """The day's totals, as read after the last ``settle``, are what flexmls holds now.

        Unless some host counted more of it since then (its mark changed):
        then it stays dirty, and the next upload compares it again.
        """
        mark = self._seen_marks.pop(day, None)
        if mark is not None:
            self._exec("DELETE FROM dirty_days WHERE site=? AND day=? AND mark=?", (self.site, day, mark))

    def posted(self, days: Sequence[str]) -> pl.DataFrame:
        where, args = _day_filter(self.site, None, None, days)
        return _frame(self._fetch(
            f"SELECT day, supplier, listing, views FROM posted {where} ORDER BY day, supplier, listing", args))

    def stranded(self, days: Sequence[str]) -> list[tuple[str, str]]:
        """The (day, supplier) pairs of these days that flexmls accepted views for and the counts now give none
        (``jobs.runner._unstranded``); plain SQL, so a run with nothing to post loads no Polars."""
        where, args = _day_filter(self.site, None, None, days)
        return [(str(d), str(s)) for d, s in self._fetch(
            f"SELECT day, supplier FROM (SELECT DISTINCT day, supplier FROM posted {where}) p WHERE NOT EXISTS "
            "(SELECT 1 FROM counts c WHERE c.site = ? AND c.day = p.day AND c.supplier = p.supplier) "
            "ORDER BY day, supplier", [*args, self.site])]

    def mark_posted(self, counts: pl.DataFrame) -> None:
        """Record what flexmls accepted: these (day, supplier) groups, whole."""
        import polars as pl

        day = pl.col("day").dt.to_string("%Y-%m-%d")
        site = pl.lit(self.site).alias("site")
        groups = counts.select(site, day, "supplier").unique().sort("day", "supplier").iter_rows()
        with self.transaction():
            self._many("DELETE FROM posted WHERE site=? AND day=? AND supplier=?", list(groups))
            self._many("INSERT INTO posted (site, day, supplier, listing, views) VALUES (?, ?, ?, ?, ?)",
                       counts.select(site, day, "supplier", "listing", "views").iter_rows())

    def log_upload(self, days: Sequence[str], ok: bool, http_status: int | None, message: str) -> None:
        self._exec("INSERT INTO uploads (site, host, at, days, ok, http_status, message) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (self.site, self.host, time.time(), json.dumps(list(days)), int(ok), http_status, message))

    def uploads(self, limit: int = 1) -> list[Upload]:
        return [_upload(r) for r in self._named(f"SELECT {_UPLOAD} FROM uploads WHERE site=? ORDER BY id DESC "
                                                "LIMIT ?", (self.site, limit))]

    def uploads_between(self, since: float) -> list[Upload]:
        """Every upload attempt since ``since`` (seconds since 1970), oldest first."""
        return [_upload(r) for r in self._named(f"SELECT {_UPLOAD} FROM uploads WHERE site=? AND at >= ? "
                                                "ORDER BY id", (self.site, since))]

    def last_accepted(self) -> Upload | None:
        rows = self._named(f"SELECT {_UPLOAD} FROM uploads WHERE site=? AND ok=1 ORDER BY id DESC LIMIT 1",
                           (self.site,))
        return _upload(rows[0]) if rows else None

    def freeze(self, days: Sequence[str], reason: str) -> None:
        self._many("INSERT INTO frozen_days (site, day, reason) VALUES (?, ?, ?) "
                   "ON CONFLICT (site, day) DO UPDATE SET reason = excluded.reason",
                   [(self.site, d, reason) for d in days])

    def thaw(self, days: Sequence[str]) -> list[str]:
        """Let these frozen days be posted again, from the counts as they stand; returns those that were frozen.

        Each is marked dirty, so the next upload compares it with what
        flexmls was sent and posts it where they differ.
        """
        with self.transaction():
            frozen = set(self.frozen())
            thawed = sorted({d for d in days if d in frozen})
            self._many("DELETE FROM frozen_days WHERE site=? AND day=?", [(self.site, d) for d in thawed])
            self._many("INSERT INTO dirty_days (site, day, mark) VALUES (?, ?, ?) "
                       "ON CONFLICT (site, day) DO UPDATE SET mark = excluded.mark",
                       [(self.site, d, _mark()) for d in thawed])
        return thawed

    def frozen(self) -> list[str]:
        return [r[0] for r in self._fetch("SELECT day FROM frozen_days WHERE site=? ORDER BY day", (self.site,))]

    def created(self) -> float:
        """When the site's state was made (seconds since 1970)."""
        rows = self._fetch("SELECT value FROM meta WHERE site=? AND key='created'", (self.site,))
        return float(rows[0][0]) if rows else time.time()

    def _note_created(self) -> None:
        self._exec("INSERT INTO meta (site, key, value) VALUES (?, 'created', ?) ON CONFLICT (site, key) DO NOTHING",
                   (self.site, repr(time.time())))

    # --- copies ----------------------------------------------------------------
    def dump(self) -> Iterator[tuple[str, tuple[str, ...], list[tuple[Any, ...]]]]:
        """The site's rows, table by table (files first, with their ids; then what refers to them), at most
        ``DUMP_ROWS`` at a time, all of one snapshot.

        One snapshot: a fleet's other hosts commit while a dry run copies
        the state, and a table read as a statement of its own held counts of
        a file the files' read had not. ``DUMP_ROWS`` at a time: a year of
        a busy site's counts, held as Python tuples, took gigabytes.
        """
        with self._snapshot():
            for table, columns in {"files": FILE_COLUMNS, **SITE_TABLES, **FILE_TABLES}.items():
                order = "ORDER BY id" if table in ("files", "uploads") else ""
                for rows in self._chunks(f"SELECT {', '.join(map(_q, columns))} FROM {table} WHERE site=? {order}",
                                         (self.site,), DUMP_ROWS):
                    yield table, columns, rows

    def load(self, source: Store, host: str | None = None) -> None:
        """Copy ``source``'s site into this store's site, in one transaction.

        ``host`` (a migration) puts every file, count and upload under that
        host; without it, hosts are kept (a dry run's copy). Files get new
        ids here, and their counts follow them.
        """
        ids: dict[int, int] = {}
        hosts = 0  # rows of the hosts table loaded
        with self.transaction():
            for table, columns, rows in source.dump():
                site_at = columns.index("site")
                host_at = columns.index("host") if "host" in columns else None
                fixed = []
                for row in rows:
                    values = list(row)
                    values[site_at] = self.site
                    if host is not None and host_at is not None and values[host_at] is not None:
                        values[host_at] = host
                    fixed.append(values)
                if table == "files":
                    for values in fixed:
                        new = self._fetch(
                            f"INSERT INTO files ({', '.join(map(_q, FILE_COLUMNS[1:]))}) "
                            f"VALUES ({', '.join('?' * (len(FILE_COLUMNS) - 1))}) RETURNING id", values[1:])
                        ids[int(values[0])] = int(new[0][0])
                    continue
                if table in FILE_TABLES:
                    at = columns.index("file_id")
                    for values in fixed:
                        values[at] = ids[int(values[at])]
                if table == "hosts":
                    if host is not None:  # every host of the source is this one now
                        fixed = [] if hosts else fixed[:1]
                    hosts += len(fixed)
                # rows the site has already (a migration into a site other hosts use) stay as they are
                self._insert(table, columns, fixed, keep_existing=table not in ("uploads", *FILE_TABLES))

    def has_files(self, host: str) -> bool:
        return bool(self._fetch("SELECT 1 FROM files WHERE site=? AND host=? LIMIT 1", (self.site, host)))


def _with_file_ids(frames: Sequence[tuple[int, pl.DataFrame]]) -> pl.DataFrame | None:
    """The frames' rows as one, each with its file's id (``file_id``); None when there are none."""
    import polars as pl

    frames = [(record_id, frame) for record_id, frame in frames if frame.height]
    if not frames:
        return None
    if len(frames) == 1:
        record_id, frame = frames[0]
        return frame.with_columns(file_id=pl.lit(record_id, pl.Int64))
    ids = pl.DataFrame({"file_id": [record_id for record_id, _ in frames], "n": [frame.height for _, frame in frames]},
                       schema={"file_id": pl.Int64, "n": pl.Int64})
    return pl.concat([frame for _, frame in frames]).with_columns(
        ids.select(pl.col("file_id").repeat_by("n").explode()).to_series())


def _mark() -> int:
    return secrets.randbits(62)


_UPLOAD = "at, days, ok, http_status, message, host"

# The dirty, unfrozen days the next upload posts. A day flexmls never got is
# pending when it has counts (an index look-up); only days posted before are
# compared row by row with what was posted, per (day, supplier) (t: totals).
_PENDING = """
WITH dd AS (SELECT day FROM dirty_days WHERE site = ? AND day NOT IN (SELECT day FROM frozen_days WHERE site = ?)
            AND day < ?),
sent AS (SELECT DISTINCT day FROM posted WHERE site = ? AND day IN (SELECT day FROM dd)),
fresh AS (SELECT day FROM dd WHERE day NOT IN (SELECT day FROM sent)
          AND EXISTS (SELECT 1 FROM counts c WHERE c.site = ? AND c.day = dd.day)),
t AS (SELECT day, supplier, listing, CAST(SUM(views) AS BIGINT) AS views FROM counts
      WHERE site = ? AND day IN (SELECT day FROM sent) GROUP BY day, supplier, listing),
p AS (SELECT day, supplier, listing, views FROM posted WHERE site = ? AND day IN (SELECT day FROM sent)),
t_not_p AS (SELECT * FROM t EXCEPT SELECT * FROM p),
p_not_t AS (SELECT * FROM p EXCEPT SELECT * FROM t),
changed AS (SELECT day, supplier FROM t_not_p UNION SELECT day, supplier FROM p_not_t)
SELECT day FROM fresh
UNION SELECT c.day FROM changed c WHERE EXISTS (SELECT 1 FROM t WHERE t.day = c.day AND t.supplier = c.supplier)
ORDER BY 1
"""


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _upload(row: Mapping[str, Any]) -> Upload:
    return Upload(float(row["at"]), json.loads(row["days"]), bool(row["ok"]), row["http_status"], row["message"],
                  row["host"])


def shown_name(name: str) -> str:
    """A file's name as the state keeps it: only to be shown (a file is known by its content and inode).

    A name that is not UTF-8 comes from the OS with its odd bytes as lone
    surrogates (``access\\udcff.log``), which neither SQLite's text nor
    PostgreSQL's takes: the run that met one stopped there, every time. It
    is kept as its bytes are shown, ``access\\xff.log``.
    """
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _record(row: Mapping[str, Any]) -> FileRecord:
    """A ``files`` row, by column name."""
    def opt(name: str) -> int | None:
        return None if row[name] is None else int(row[name])

    return FileRecord(
        id=int(row["id"]), fp_len=int(row["fp_len"]), fp_hash=str(row["fp_hash"]), offset=int(row["offset"]),
        lines=int(row["lines"]), last_name=str(row["last_name"]), dev=opt("dev"), inode=opt("inode"),
        raw_size=opt("raw_size"), mtime_ns=opt("mtime_ns"), complete=bool(row["complete"]),
        last_ts=opt("last_ts"), recount_since=opt("recount_since"),
        tail_hash=None if row["tail_hash"] is None else str(row["tail_hash"]),
    )


DUMP_ROWS = 50_000  # rows of a table a copy reads and writes at a time (``dump``)
# Characters of the counts' joined text summed at once (some 30 a count): whole days, of about 300,000 counts.
TOTALS_TEXT = 10_000_000
# Between a count's supplier, listing and views, and between counts, in ``totals``' joined text: control
# characters, which XML cannot hold, so neither a supplier's name (the config refuses one) nor a listing id
# (a line whose id holds one is not counted) does.
_FIELD, _COUNT = "\x1f", "\x1e"


def _summed(rows: list[tuple[str, str]]) -> pl.DataFrame:
    """(day, the joined text of a file's counts of the day) -> views per (day, supplier, listing), in key order."""
    import polars as pl

    parts = pl.col("text").str.split_exact(_FIELD, 2).struct
    return (
        pl.DataFrame(rows, schema={"day": pl.String, "text": pl.String}, orient="row").lazy()
        .with_columns(pl.col("day").str.to_date("%Y-%m-%d"), pl.col("text").str.split(_COUNT))
        .explode("text")
        .select("day", supplier=parts.field("field_0"), listing=parts.field("field_1"),
                views=parts.field("field_2").cast(pl.Int64))
        .group_by("day", "supplier", "listing").agg(pl.col("views").sum())
        .sort("day", "supplier", "listing")
        .collect()
    )


def _frame(rows: list[tuple[Any, ...]]) -> pl.DataFrame:
    import polars as pl

    return pl.DataFrame(
        rows, schema={"day": pl.String, "supplier": pl.String, "listing": pl.String, "views": pl.Int64},
        orient="row",
    ).with_columns(pl.col("day").str.to_date("%Y-%m-%d"))


def _day_filter(site: str, since: date | None, until: date | None,
                days: Sequence[str] | None) -> tuple[str, list[str]]:
    clauses, args = ["site = ?"], [site]
    if since:
        clauses.append("day >= ?")
        args.append(since.isoformat())
    if until:
        clauses.append("day <= ?")
        args.append(until.isoformat())
    if days is not None:
        clauses.append(f"day IN ({','.join('?' * len(days))})" if days else "1 = 0")
        args.extend(days)
    return "WHERE " + " AND ".join(clauses), args
