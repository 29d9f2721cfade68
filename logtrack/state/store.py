"""State: what was read, what it counted, and what flexmls accepted (SQLite).

Why SQLite: one file, transactions that survive SIGKILL, and nothing to run.
Every batch of lines commits its counts and the file's new read position in
one transaction, so a killed run leaves either both or neither.

A log file is known by its content, not its name: the hash of its first
bytes (after decompression) and how many bytes that hash covers. A rotated
``access.log.1`` or ``access.log.2.gz`` has the same first bytes as the
``access.log`` it was, so it resumes where that one stopped; a truncated
(copytruncate) ``access.log`` starts with new bytes and is a new file. Device
and inode, size and mtime are kept as hints, to skip a compressed file that
was read to its end without decompressing it again.

Counts are kept per file and day, so that the total is their sum, a file is
never counted twice, and a rebuild knows which days lost their source.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import StateError, StateStorageError

if TYPE_CHECKING:
    import polars as pl

FINGERPRINT_BYTES = 4096

# The tables as the first release made them; every later change is a numbered migration below.
_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    fp_len INTEGER NOT NULL,          -- bytes the fingerprint covers
    fp_hash TEXT NOT NULL,            -- sha256 of those first bytes (decompressed)
    offset INTEGER NOT NULL,          -- decompressed bytes read, always at a line end
    lines INTEGER NOT NULL,           -- lines read
    last_name TEXT NOT NULL,
    dev INTEGER, inode INTEGER, raw_size INTEGER, mtime_ns INTEGER,
    complete INTEGER NOT NULL DEFAULT 0,  -- a compressed file read to its end
    first_seen REAL NOT NULL, last_read REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS files_fp ON files (fp_len, fp_hash);
CREATE TABLE IF NOT EXISTS counts (
    file_id INTEGER NOT NULL, day TEXT NOT NULL, supplier TEXT NOT NULL, listing TEXT NOT NULL,
    views INTEGER NOT NULL,
    PRIMARY KEY (file_id, day, supplier, listing)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS posted (
    day TEXT NOT NULL, supplier TEXT NOT NULL, listing TEXT NOT NULL, views INTEGER NOT NULL,
    PRIMARY KEY (day, supplier, listing)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uploads (
    id INTEGER PRIMARY KEY, at REAL NOT NULL, days TEXT NOT NULL, ok INTEGER NOT NULL,
    http_status INTEGER, message TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS frozen_days (day TEXT PRIMARY KEY, reason TEXT NOT NULL);
"""


def _add_columns(table: str, columns: Sequence[tuple[str, str]]) -> Callable[[sqlite3.Connection], None]:
    """A migration that adds columns, each only where it is missing (a state made before numbering had some)."""
    def migrate(db: sqlite3.Connection) -> None:
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for name, kind in columns:
            if name not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
    return migrate


def _script(sql: str) -> Callable[[sqlite3.Connection], None]:
    def migrate(db: sqlite3.Connection) -> None:
        for statement in sql.split(";"):
            if statement.strip():
                db.execute(statement)
    return migrate


# The state's history: (number, what it adds, how). A database's PRAGMA user_version is the
# last one applied; opening it applies the rest, in order, each in its own transaction. Each is
# safe to run on a state made before the numbering (its parts may be there already).
# A new state column: a migration at the end (``_add_columns``), and the reads and writes that use it.
MIGRATIONS: tuple[tuple[int, str, Callable[[sqlite3.Connection], None]], ...] = (
    (1, "the tables", _script(_TABLES)),
    (2, "per-file latest time and recount time: a file a crash cut back is read again, exactly once",
     _add_columns("files", [("last_ts", "INTEGER"), ("recount_since", "INTEGER")])),
    (3, "per-file tail hash: a file cut back below the position read is seen",
     _add_columns("files", [("tail_hash", "TEXT")])),
    (4, "counts by day, for reports and posts",
     _script("CREATE INDEX IF NOT EXISTS counts_day ON counts (day, supplier, listing)")),
    (5, "lines per file, day and outcome, for the report's lines by outcome",
     _script("CREATE TABLE IF NOT EXISTS outcomes (file_id INTEGER NOT NULL, day TEXT NOT NULL, "
             "outcome TEXT NOT NULL, lines INTEGER NOT NULL, PRIMARY KEY (file_id, day, outcome)) WITHOUT ROWID")),
    (6, "days whose counts changed since flexmls last accepted them",
     _script("CREATE TABLE IF NOT EXISTS dirty_days (day TEXT PRIMARY KEY) WITHOUT ROWID")),
    (7, "bot verdicts are no longer kept (checking became cheaper than looking up)",
     _script("DROP TABLE IF EXISTS agents")),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


@dataclass(frozen=True)
class FileRecord:
    id: int
    fp_len: int
    fp_hash: str
    offset: int
    lines: int
    last_name: str
    dev: int | None
    inode: int | None
    raw_size: int | None
    mtime_ns: int | None
    complete: bool
    last_ts: int | None = None
    recount_since: int | None = None
    tail_hash: str | None = None


@dataclass(frozen=True)
class Upload:
    at: float
    days: list[str]
    ok: bool
    http_status: int | None
    message: str


def fingerprint(head: bytes, length: int) -> str:
    return hashlib.sha256(head[:length]).hexdigest()


class State:
    """An open state database. Use ``State.open`` as a context manager."""

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        self.path = path
        self.db = db

    @classmethod
    @contextmanager
    def open(cls, path: Path, *, lock_wait: float = 60.0, readonly: bool = False) -> Iterator[State]:
        """Open (creating) the database, holding its lock for the whole run, and check it is intact.

        The lock is a separate ``.lock`` file with flock, so two runs
        (logrotate's and cron's) never work at once; the second waits up to
        ``lock_wait`` seconds and then gives up with a clear message.

        SQLite's own ``quick_check`` runs on every open: a state damaged by
        a failing disk or a bad restore would otherwise read as "nothing
        new" until an export or upload fails days later. It reads every
        page once (see the README for its cost). A file system that turned
        read-only, a full disk or a damaged file is a ``StateStorageError``
        naming the file and the fix.
        """
        if path.is_dir():
            raise StateStorageError(f"the state {path} is a directory", "name a file, e.g. --state "
                                    f"{path / 'state.db'}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _storage_error(path, exc) from None
        lock_path = path.with_name(path.name + ".lock")
        try:
            lock = open(lock_path, "r" if readonly and lock_path.exists() else "a+")  # noqa: SIM115
        except OSError as exc:
            raise _storage_error(lock_path, exc) from None
        with lock:
            _acquire(lock, lock_path, lock_wait, shared=readonly)
            try:
                db = _connect_readonly(path, lock_wait) if readonly else sqlite3.connect(
                    path, isolation_level=None, timeout=lock_wait, check_same_thread=False)
            except sqlite3.Error as exc:
                raise _database_error(path, exc) from None
            try:
                if not readonly:
                    db.execute("PRAGMA journal_mode=WAL")
                    db.execute("PRAGMA synchronous=FULL")
                _check_intact(db, path)
                current = readonly and _current(db)
                if readonly and not current:  # made by an older version: bring it up to date first
                    db.close()
                    db = sqlite3.connect(path, isolation_level=None, timeout=lock_wait, check_same_thread=False)
                if not current:
                    _prepare(db, path)
                yield cls(path, db)
            except sqlite3.Error as exc:
                raise _database_error(path, exc) from None
            except OSError as exc:
                raise _storage_error(path, exc) from None
            finally:
                db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _named(self, sql: str, args: Sequence[object] = ()) -> sqlite3.Cursor:
        """A query whose rows are read by column name (``sqlite3.Row``), not by position."""
        cursor = self.db.cursor()
        cursor.row_factory = sqlite3.Row
        return cursor.execute(sql, args)

    def copy_to(self, path: Path) -> None:
        """A consistent copy of the whole database at ``path`` (SQLite's online backup)."""
        target = sqlite3.connect(path)
        try:
            self.db.backup(target)
        finally:
            target.close()

    # --- rules -----------------------------------------------------------------
    def rules(self) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key='rules'").fetchone()
        return None if row is None else str(row[0])

    def set_rules(self, signature: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('rules', ?)", (signature,))

    # --- files -----------------------------------------------------------------
    def match(self, head: bytes) -> FileRecord | None:
        """The known file whose first bytes this content starts with, if any.

        The longest fingerprint wins; among equals, the one read furthest.
        """
        lengths = [r[0] for r in self.db.execute("SELECT DISTINCT fp_len FROM files ORDER BY fp_len DESC")]
        for length in lengths:
            if length > len(head):
                continue
            rows = self._named(
                "SELECT * FROM files WHERE fp_len=? AND fp_hash=? ORDER BY offset DESC LIMIT 1",
                (length, fingerprint(head, length)),
            ).fetchall()
            if rows:
                return _record(rows[0])
        return None

    def by_hints(self, dev: int, inode: int, raw_size: int, mtime_ns: int) -> FileRecord | None:
        row = self._named(
            "SELECT * FROM files WHERE dev=? AND inode=? AND raw_size=? AND mtime_ns=? AND complete=1",
            (dev, inode, raw_size, mtime_ns),
        ).fetchone()
        return None if row is None else _record(row)

    def add_file(self, head: bytes, name: str) -> FileRecord:
        length = min(len(head), FINGERPRINT_BYTES)
        now = time.time()
        cur = self.db.execute(
            "INSERT INTO files (fp_len, fp_hash, offset, lines, last_name, first_seen, last_read) "
            "VALUES (?, ?, 0, 0, ?, ?, ?)",
            (length, fingerprint(head, length), name, now, now),
        )
        assert cur.lastrowid is not None
        return self.file(cur.lastrowid)

    def file(self, file_id: int) -> FileRecord:
        return _record(self._named("SELECT * FROM files WHERE id=?", (file_id,)).fetchone())

    def widen_fingerprint(self, record: FileRecord, head: bytes) -> None:
        """A file first seen short gets the full-length fingerprint once it has the bytes."""
        length = min(len(head), FINGERPRINT_BYTES)
        if length > record.fp_len:
            self.db.execute("UPDATE files SET fp_len=?, fp_hash=? WHERE id=?",
                            (length, fingerprint(head, length), record.id))

    def advance(self, record_id: int, offset: int, lines: int, name: str, counts: pl.DataFrame,
                last_ts: int | None = None, recount_since: int | None = None, tail_hash: str | None = None,
                outcomes: pl.DataFrame | None = None) -> None:
        """Add a batch's counts and move the read position: call inside ``transaction``.

        ``last_ts`` is the latest line time read from the file so far;
        ``recount_since`` stays set while a file cut back is read again;
        ``tail_hash`` is what the file holds just before the new position.
        """
        import polars as pl

        if counts.height:
            rows = counts.select(
                pl.lit(record_id), pl.col("day").dt.to_string("%Y-%m-%d"), "supplier", "listing", "views"
            ).iter_rows()
            self.db.executemany(
                "INSERT INTO counts VALUES (?, ?, ?, ?, ?) ON CONFLICT (file_id, day, supplier, listing) "
                "DO UPDATE SET views = views + excluded.views",
                rows,
            )
            days = counts.get_column("day").unique().dt.to_string("%Y-%m-%d").to_list()
            self.db.executemany("INSERT OR IGNORE INTO dirty_days VALUES (?)", [(d,) for d in days])
        if outcomes is not None and outcomes.height:
            self.db.executemany(
                "INSERT INTO outcomes VALUES (?, ?, ?, ?) ON CONFLICT (file_id, day, outcome) "
                "DO UPDATE SET lines = lines + excluded.lines",
                outcomes.select(pl.lit(record_id), pl.col("day").dt.to_string("%Y-%m-%d").fill_null(""),
                                "outcome", "lines").iter_rows(),
            )
        self.db.execute(
            "UPDATE files SET offset=?, lines=?, last_name=?, last_read=?, last_ts=?, recount_since=?, tail_hash=? "
            "WHERE id=?",
            (offset, lines, name, time.time(), last_ts, recount_since, tail_hash, record_id),
        )

    def recount(self, record: FileRecord) -> FileRecord:
        """A file cut back below its read position (a crash lost its last writes, and the server went
        on from there) is read again from its start; what it had up to its latest line time was counted."""
        with self.transaction():
            self.db.execute("UPDATE files SET offset=0, lines=0, recount_since=? WHERE id=?",
                            (record.last_ts, record.id))
        return self.file(record.id)

    def set_hints(self, record_id: int, st: os.stat_result, complete: bool) -> None:
        self.db.execute(
            "UPDATE files SET dev=?, inode=?, raw_size=?, mtime_ns=?, complete=? WHERE id=?",
            (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, int(complete), record_id),
        )

    def files(self) -> list[FileRecord]:
        return [_record(r) for r in self._named("SELECT * FROM files ORDER BY id")]

    # --- counts ----------------------------------------------------------------
    def totals(self, since: date | None = None, until: date | None = None,
               days: Sequence[str] | None = None) -> pl.DataFrame:
        """Cumulative views per (day, supplier, listing), in XML order."""
        where, args = _day_filter(since, until, days)
        rows = self.db.execute(
            f"SELECT day, supplier, listing, SUM(views) FROM counts {where} "
            "GROUP BY day, supplier, listing ORDER BY day, supplier, listing", args
        ).fetchall()
        return _frame(rows)

    def outcomes(self, since: date | None = None, until: date | None = None) -> pl.DataFrame:
        """Lines per (day, outcome) over every file ever read (day null: lines with no time)."""
        import polars as pl

        where, args = _day_filter(since, until, None)
        rows = self.db.execute(f"SELECT day, outcome, SUM(lines) FROM outcomes {where} GROUP BY day, outcome "
                               "ORDER BY day, outcome", args).fetchall()
        return pl.DataFrame(rows, schema={"day": pl.String, "outcome": pl.String, "lines": pl.Int64},
                            orient="row").with_columns(pl.col("day").replace("", None).str.to_date("%Y-%m-%d"))

    def uploads_between(self, since: float) -> list[Upload]:
        """Every upload attempt since ``since`` (seconds since 1970), oldest first."""
        rows = self._named("SELECT at, days, ok, http_status, message FROM uploads WHERE at >= ? ORDER BY id",
                               (since,)).fetchall()
        return [_upload(r) for r in rows]

    def posted(self, days: Sequence[str]) -> pl.DataFrame:
        where, args = _day_filter(None, None, days)
        rows = self.db.execute(
            f"SELECT day, supplier, listing, views FROM posted {where} ORDER BY day, supplier, listing", args
        ).fetchall()
        return _frame(rows)

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
        rows = self.db.execute(_PENDING, (before.isoformat() if before else "9999-12-31",)).fetchall()
        return [r[0] for r in rows]

    def settle(self) -> list[str]:
        """Forget the dirty days that turned out to hold what flexmls has (or nothing postable).

        Returns every pending day, today's too, so the caller need not ask again.
        """
        keep = self.pending_days(None)
        with self.transaction():
            self.db.execute(
                f"DELETE FROM dirty_days WHERE day NOT IN ({','.join('?' * len(keep))})", keep
            )
        return keep

    def clean(self, day: str) -> None:
        """The day's totals are what flexmls holds now."""
        self.db.execute("DELETE FROM dirty_days WHERE day=?", (day,))

    def mark_posted(self, counts: pl.DataFrame) -> None:
        """Record what flexmls accepted: these (day, supplier) groups, whole."""
        import polars as pl

        groups = counts.select(pl.col("day").dt.to_string("%Y-%m-%d"), "supplier").unique().iter_rows()
        with self.transaction():
            self.db.executemany("DELETE FROM posted WHERE day=? AND supplier=?", list(groups))
            self.db.executemany(
                "INSERT INTO posted VALUES (?, ?, ?, ?)",
                counts.select(pl.col("day").dt.to_string("%Y-%m-%d"), "supplier", "listing", "views").iter_rows(),
            )

    def log_upload(self, days: Sequence[str], ok: bool, http_status: int | None, message: str) -> None:
        self.db.execute("INSERT INTO uploads (at, days, ok, http_status, message) VALUES (?, ?, ?, ?, ?)",
                        (time.time(), json.dumps(list(days)), int(ok), http_status, message))

    def uploads(self, limit: int = 1) -> list[Upload]:
        rows = self._named(
            "SELECT at, days, ok, http_status, message FROM uploads ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [_upload(r) for r in rows]

    def last_accepted(self) -> Upload | None:
        row = self._named(
            "SELECT at, days, ok, http_status, message FROM uploads WHERE ok=1 ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return None if row is None else _upload(row)

    def created(self) -> float:
        """When the state was made (seconds since 1970)."""
        row = self.db.execute("SELECT value FROM meta WHERE key='created'").fetchone()
        return float(row[0]) if row else time.time()

    # --- bot verdicts ---------------------------------------------------------
    # --- rebuild ---------------------------------------------------------------
    def days_by_file(self) -> dict[int, set[str]]:
        out: dict[int, set[str]] = {}
        for file_id, day in self.db.execute("SELECT DISTINCT file_id, day FROM counts"):
            out.setdefault(file_id, set()).add(day)
        return out

    def forget_counts(self) -> None:
        """Drop every count and read position (the rules changed); keep what was posted."""
        with self.transaction():
            self.db.execute("DELETE FROM counts")
            self.db.execute("DELETE FROM outcomes")
            self.db.execute("DELETE FROM files")
            self.db.execute("INSERT OR IGNORE INTO dirty_days SELECT DISTINCT day FROM posted")
            self.db.execute("DELETE FROM meta WHERE key='rules'")

    def freeze(self, days: Sequence[str], reason: str) -> None:
        self.db.executemany("INSERT OR REPLACE INTO frozen_days VALUES (?, ?)", [(d, reason) for d in days])

    def frozen(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT day FROM frozen_days ORDER BY day")]


# The dirty, unfrozen days the next upload posts. A day flexmls never got is
# pending when it has counts (an index look-up); only days posted before are
# compared row by row with what was posted, per (day, supplier) (t: totals).
_PENDING = """
WITH dd AS (SELECT day FROM dirty_days WHERE day NOT IN (SELECT day FROM frozen_days) AND day < ?),
sent AS (SELECT DISTINCT day FROM posted WHERE day IN dd),
fresh AS (SELECT day FROM dd WHERE day NOT IN sent AND EXISTS (SELECT 1 FROM counts c WHERE c.day = dd.day)),
t AS (SELECT day, supplier, listing, SUM(views) AS views FROM counts WHERE day IN sent
      GROUP BY day, supplier, listing),
p AS (SELECT day, supplier, listing, views FROM posted WHERE day IN sent),
t_not_p AS (SELECT * FROM t EXCEPT SELECT * FROM p),
p_not_t AS (SELECT * FROM p EXCEPT SELECT * FROM t),
changed AS (SELECT day, supplier FROM t_not_p UNION SELECT day, supplier FROM p_not_t)
SELECT day FROM fresh
UNION SELECT c.day FROM changed c WHERE EXISTS (SELECT 1 FROM t WHERE t.day = c.day AND t.supplier = c.supplier)
ORDER BY 1
"""


def _connect_readonly(path: Path, timeout: float) -> sqlite3.Connection:
    """A connection that never writes, so that ``status`` works on a file system gone read-only.

    A WAL database needs its shared-memory file to be read; where that
    cannot be made (a read-only file system), it is opened as immutable,
    which is safe here: the shared lock keeps every writer out.
    """
    from urllib.parse import quote

    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=timeout)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:
        return sqlite3.connect(uri + "&immutable=1", uri=True, isolation_level=None, timeout=timeout)


def _current(db: sqlite3.Connection) -> bool:
    """Whether every migration was applied (a read-only open then changes nothing)."""
    return int(db.execute("PRAGMA user_version").fetchone()[0]) == SCHEMA_VERSION


def _prepare(db: sqlite3.Connection, path: Path) -> None:
    """Apply the migrations this database has not had, and note when the state was made.

    A state from before the numbering (user_version 0, a ``schema`` row in
    ``meta``) gets them all: each finds what it adds already there, or adds it.
    """
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise StateError(f"{path}: the state was made by a newer logtrack (schema {version}, this one knows "
                         f"{SCHEMA_VERSION})", "upgrade logtrack, or point --state at another file")
    for number, _what, migrate in MIGRATIONS:
        if number <= version:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            migrate(db)
            db.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    # states made before 'created' was kept: their first file is as old as they are
    db.execute("INSERT OR IGNORE INTO meta SELECT 'created', COALESCE(MIN(first_seen), ?) FROM files",
               (time.time(),))
    os.chmod(path, 0o600)


def _check_intact(db: sqlite3.Connection, path: Path) -> None:
    try:
        problems = [str(row[0]) for row in db.execute("PRAGMA quick_check(3)")]
    except sqlite3.DatabaseError as exc:
        if not any(word in str(exc).lower() for word in _DAMAGED):
            raise
        problems = [str(exc)]
    if problems != ["ok"]:
        raise StateStorageError(
            f"the state {path} is damaged (SQLite's check: {'; '.join(problems)[:300]})",
            "restore it from a backup, or move it aside and run `logtrack rebuild` with the logs still "
            "present (days whose logs are gone cannot be recounted)",
        )


_DAMAGED = ("malformed", "not a database", "corrupt", "encrypted")
_UNWRITABLE = ("readonly", "read-only", "disk i/o error", "unable to open", "database or disk is full",
               "disk is full")


def _database_error(path: Path, exc: sqlite3.Error) -> StateError:
    text = str(exc)
    low = text.lower()
    if "locked" in low or "busy" in low:
        return StateError(f"the state {path} is busy: {text}",
                          "another program holds it; let it finish, or raise --lock-wait")
    if any(word in low for word in _DAMAGED):
        return StateStorageError(
            f"the state {path} is damaged: {text}",
            "restore it from a backup, or move it aside and run `logtrack rebuild` with the logs still present",
        )
    if any(word in low for word in _UNWRITABLE):
        return StateStorageError(
            f"cannot write the state {path}: {text}",
            "check that its file system is mounted read-write, has space, and that this user may write "
            "the file and its directory; or point --state / [state] path elsewhere",
        )
    return StateStorageError(f"the state {path} cannot be used: {text}",
                             "move it aside and run `logtrack rebuild` with the logs still present")


def _storage_error(path: Path, exc: OSError) -> StateStorageError:
    return StateStorageError(
        f"cannot use the state at {path}: {exc.strerror or exc}",
        "check that its file system is mounted read-write, has space, and that this user may write there; "
        "or point --state / [state] path elsewhere",
    )


def _upload(row: sqlite3.Row) -> Upload:
    """An ``uploads`` row."""
    return Upload(row["at"], json.loads(row["days"]), bool(row["ok"]), row["http_status"], row["message"])


def _record(row: sqlite3.Row) -> FileRecord:
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


def _frame(rows: list[tuple[object, ...]]) -> pl.DataFrame:
    import polars as pl

    return pl.DataFrame(
        rows, schema={"day": pl.String, "supplier": pl.String, "listing": pl.String, "views": pl.Int64},
        orient="row",
    ).with_columns(pl.col("day").str.to_date("%Y-%m-%d"))


def _day_filter(since: date | None, until: date | None, days: Sequence[str] | None) -> tuple[str, list[str]]:
    clauses, args = [], []
    if since:
        clauses.append("day >= ?")
        args.append(since.isoformat())
    if until:
        clauses.append("day <= ?")
        args.append(until.isoformat())
    if days is not None:
        clauses.append(f"day IN ({','.join('?' * len(days))})" if days else "0")
        args.extend(days)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", args


def _acquire(lock: object, lock_path: Path, wait: float, shared: bool) -> None:
    fd = lock.fileno()  # type: ignore[attr-defined]
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise StateError(
                    f"another logtrack run holds {lock_path} (waited {wait:.0f} s)",
                    "let it finish (a cron run and the logrotate hook overlapped), or raise --lock-wait",
                ) from None
            time.sleep(0.1)

