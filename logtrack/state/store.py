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
import os
import socket
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from pathlib import Path
from typing import Any

from ..errors import StateError, StateStorageError
from .records import DEFAULT_SITE, FINGERPRINT_BYTES, FileRecord, Upload, fingerprint
from .sql import SqlStore

__all__ = ["FINGERPRINT_BYTES", "MIGRATIONS", "SCHEMA_VERSION", "FileRecord", "State", "Upload", "fingerprint"]

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


def _rebuilt(db: sqlite3.Connection, table: str, create: str, copy: str) -> None:
    """A table made anew (SQLite cannot change a primary key in place), its rows copied over."""
    db.execute(f"ALTER TABLE {table} RENAME TO {table}_old")
    db.execute(create)
    db.execute(f"INSERT INTO {table} {copy} FROM {table}_old")
    db.execute(f"DROP TABLE {table}_old")


def _fleet(db: sqlite3.Connection) -> None:
    """Key every row by site, and files by host: what was there is the default site's, on this machine."""
    home = machine_host()
    site = DEFAULT_SITE
    _rebuilt(db, "meta", "CREATE TABLE meta (site TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, "
             "PRIMARY KEY (site, key)) WITHOUT ROWID", f"SELECT '{site}', key, value")
    db.execute("DELETE FROM meta WHERE key='schema'")
    db.execute("INSERT INTO meta VALUES ('', 'home_host', ?)", (home,))
    db.execute(f"ALTER TABLE files ADD COLUMN site TEXT NOT NULL DEFAULT '{site}'")
    db.execute("ALTER TABLE files ADD COLUMN host TEXT NOT NULL DEFAULT ''")
    db.execute("UPDATE files SET host=?", (home,))
    db.execute("DROP INDEX IF EXISTS files_fp")
    db.execute("CREATE INDEX files_fp ON files (site, host, fp_len, fp_hash)")
    for table in ("counts", "outcomes", "uploads"):
        db.execute(f"ALTER TABLE {table} ADD COLUMN site TEXT NOT NULL DEFAULT '{site}'")
    db.execute("ALTER TABLE uploads ADD COLUMN host TEXT")
    db.execute("DROP INDEX IF EXISTS counts_day")
    db.execute("CREATE INDEX counts_day ON counts (site, day, supplier, listing)")
    _rebuilt(db, "posted", "CREATE TABLE posted (site TEXT NOT NULL, day TEXT NOT NULL, supplier TEXT NOT NULL, "
             "listing TEXT NOT NULL, views INTEGER NOT NULL, PRIMARY KEY (site, day, supplier, listing)) WITHOUT ROWID",
             f"SELECT '{site}', day, supplier, listing, views")
    _rebuilt(db, "frozen_days", "CREATE TABLE frozen_days (site TEXT NOT NULL, day TEXT NOT NULL, "
             "reason TEXT NOT NULL, PRIMARY KEY (site, day)) WITHOUT ROWID", f"SELECT '{site}', day, reason")
    _rebuilt(db, "dirty_days", "CREATE TABLE dirty_days (site TEXT NOT NULL, day TEXT NOT NULL, "
             "mark INTEGER NOT NULL, PRIMARY KEY (site, day)) WITHOUT ROWID", f"SELECT '{site}', day, 0")
    db.execute("CREATE TABLE hosts (site TEXT NOT NULL, host TEXT NOT NULL, rules TEXT, first_run REAL NOT NULL, "
               "run_started REAL, run_finished REAL, read_all_started REAL, PRIMARY KEY (site, host)) WITHOUT ROWID")
    # the counts so far were this machine's, under the rules the state kept
    db.execute("INSERT INTO hosts (site, host, rules, first_run) SELECT ?, ?, value, "
               "(SELECT COALESCE(MIN(first_seen), ?) FROM files) FROM meta WHERE site=? AND key='rules'",
               (site, home, time.time(), site))


def _counts_by_day(db: sqlite3.Connection) -> None:
    """The counts kept in day order (site, day, file, supplier, listing) with no second index; the days each
    file has counts on in a table of their own, for the questions asked by file.

    Why: the index by day held every key a second time, half of a busy
    site's state (220 of 446 MB after a year) and half of each count's
    writing. Copied in key order, so that the new table is written page
    after page; a large state takes a while, once.
    """
    db.execute("ALTER TABLE counts RENAME TO counts_old")
    db.execute("DROP INDEX IF EXISTS counts_day")
    db.execute("CREATE TABLE counts (site TEXT NOT NULL, day TEXT NOT NULL, file_id INTEGER NOT NULL, "
               "supplier TEXT NOT NULL, listing TEXT NOT NULL, views INTEGER NOT NULL, "
               "PRIMARY KEY (site, day, file_id, supplier, listing)) WITHOUT ROWID")
    db.execute("INSERT INTO counts SELECT site, day, file_id, supplier, listing, views FROM counts_old "
               "ORDER BY site, day, file_id, supplier, listing")
    db.execute("DROP TABLE counts_old")
    # (its key's columns first: SQLite 3.40's quick_check says "NULL value" of a NOT NULL column before them)
    db.execute("CREATE TABLE file_days (file_id INTEGER NOT NULL, day TEXT NOT NULL, site TEXT NOT NULL, "
               "PRIMARY KEY (file_id, day)) WITHOUT ROWID")
    db.execute("INSERT INTO file_days SELECT DISTINCT file_id, day, site FROM counts ORDER BY file_id, day")


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
    (8, "sites and hosts: one state may hold a fleet's counts, per host, and many sites", _fleet),
    (9, "counts by day kept together per file: a file's new counts land side by side, not one page a row",
     _script("DROP INDEX IF EXISTS counts_day; "
             "CREATE INDEX counts_day ON counts (site, day, file_id)")),
    (10, "counts kept by day, without a second copy of every key; each file's days apart", _counts_by_day),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


class State(SqlStore):
    """An open SQLite state. Use ``State.open`` as a context manager."""

    groups_commits = True  # one writer at a time: the lock file, and BEGIN IMMEDIATE

    def __init__(self, path: Path, db: sqlite3.Connection, site: str = DEFAULT_SITE, host: str | None = None) -> None:
        super().__init__(site, host if host is not None else home_host(db), str(path), path.parent, path)
        self.db = db

    @classmethod
    @contextmanager
    def open(cls, path: Path, *, lock_wait: float = 60.0, readonly: bool = False, site: str = DEFAULT_SITE,
             host: str | None = None) -> Iterator[State]:
        """Open (creating) the database, holding its lock for the whole run, and check it is intact.

        The lock is a separate ``.lock`` file with flock, so two runs
        (logrotate's and cron's, or two hosts sharing one SQLite file) never
        work at once; the second waits up to ``lock_wait`` seconds and then
        gives up with a clear message.

        ``host`` None is the state's home host: the machine that made it
        (or first opened it after hosts were kept). A single server's state
        thus stays its own when the machine is renamed.

        SQLite's own ``quick_check`` runs on every open (``_check_intact``):
        a state damaged by a failing disk or a bad restore would otherwise
        read as "nothing new" until an export or upload fails days later. A
        file system that turned read-only, a full disk or a damaged file is
        a ``StateStorageError`` naming the file and the fix.
        """
        if path.is_dir():
            raise StateStorageError(f"the state {path} is a directory", "name a file, e.g. --state "
                                    f"{path / 'state.db'}")
        if path.exists() and not path.is_file():  # (SQLite said "disk I/O error" of /dev/null)
            raise StateStorageError(f"the state {path} is not a regular file (a device, FIFO or socket)",
                                    "name a file, e.g. --state /var/lib/logtrack/state.db")
        if not _sqlite(path):  # (before a lock file is made beside it)
            raise StateStorageError(f"{path} is not a logtrack state: it is not a SQLite database",
                                    "name the state's file (--state, or [state] path), or a new one to make")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):  # ("File exists": a file where a directory is to be)
            in_the_way = next((p for p in reversed(path.parents) if p.exists() and not p.is_dir()), path.parent)
            raise StateStorageError(f"cannot make the state {path}: {in_the_way} is a file, not a directory",
                                    "point --state / [state] path elsewhere") from None
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
                checked_large = _check_intact(db, path, whole=readonly)
                current = readonly and _current(db)
                if readonly and not current:  # made by an older version: bring it up to date first
                    db.close()
                    db = sqlite3.connect(path, isolation_level=None, timeout=lock_wait, check_same_thread=False)
                if not current:
                    _prepare(db, path)
                state = cls(path, db, site, host)
                if not readonly:
                    state._note_created()
                    if checked_large:
                        db.execute("INSERT INTO meta VALUES ('', 'checked', ?) ON CONFLICT (site, key) "
                                   "DO UPDATE SET value = excluded.value", (repr(time.time()),))
                yield state
            except sqlite3.Error as exc:
                raise _database_error(path, exc) from None
            except OSError as exc:
                raise _storage_error(path, exc) from None
            finally:
                db.close()

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """A read transaction: SQLite keeps its reads on the state as it was at the first (WAL's snapshot)."""
        if self.db.in_transaction:
            yield None
            return
        self.db.execute("BEGIN")
        try:
            yield None
        finally:
            self.db.execute("COMMIT")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction; inside another, a part of it (PostgreSQL's nests as a savepoint: a caller that
        wraps calls which open their own, as the ingest's matching does, commits them once)."""
        if self.db.in_transaction:
            yield self.db
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def uploading(self) -> AbstractContextManager[object]:
        """The state's lock is held for the whole run: no other uploader can be at work."""
        return nullcontext()

    def _fetch(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.db.execute(sql, args).fetchall()

    def _chunks(self, sql: str, args: Sequence[Any], size: int) -> Iterator[list[tuple[Any, ...]]]:
        cursor = self.db.execute(sql, args)
        while rows := cursor.fetchmany(size):
            yield rows

    def _named(self, sql: str, args: Sequence[Any] = ()) -> list[Mapping[str, Any]]:
        """Rows read by column name (``sqlite3.Row``), not by position."""
        cursor = self.db.cursor()
        cursor.row_factory = sqlite3.Row
        return cursor.execute(sql, args).fetchall()

    def _exec(self, sql: str, args: Sequence[Any] = ()) -> None:
        self.db.execute(sql, args)

    def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.db.executemany(sql, rows)

    def copy_to(self, path: Path) -> None:
        """A consistent copy of the whole database at ``path`` (SQLite's online backup)."""
        target = sqlite3.connect(path)
        try:
            self.db.backup(target)
        finally:
            target.close()


def home_host(db: sqlite3.Connection) -> str:
    """The host a SQLite state belongs to when none is named."""
    row = db.execute("SELECT value FROM meta WHERE site='' AND key='home_host'").fetchone()
    return str(row[0]) if row else machine_host()


def machine_host() -> str:
    return socket.gethostname() or "localhost"


def _connect_readonly(path: Path, timeout: float) -> sqlite3.Connection:
    """A connection that never writes, so that ``status`` works on a file system gone read-only.

    A WAL database needs its shared-memory file to be read; where that
    cannot be made (a read-only file system), it is opened as immutable,
    which is safe here: the shared lock keeps every writer out.
    """
    from urllib.parse import quote

    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=timeout)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:
        # Closed now, not when the collector gets to it: left open, it holds POSIX locks on the state that the
        # next close of any descriptor of the file in this process drops (a library caller's later open).
        db.close()
        return sqlite3.connect(uri + "&immutable=1", uri=True, isolation_level=None, timeout=timeout)


def _current(db: sqlite3.Connection) -> bool:
    """Whether every migration was applied (a read-only open then changes nothing)."""
    return int(db.execute("PRAGMA user_version").fetchone()[0]) == SCHEMA_VERSION


def _give_back(db: sqlite3.Connection) -> None:
    """After migrations that left much of the file free (migration 10 frees half of a busy state), the file
    rewritten without it (VACUUM: 1.5 s for a year's 200 MB). Where it cannot be (no room for its copy),
    the free pages stay, and are used as the state grows."""
    free, pages = (int(db.execute(f"PRAGMA {what}").fetchone()[0]) for what in ("freelist_count", "page_count"))
    if free * 4 > pages:
        with suppress(sqlite3.OperationalError):
            db.execute("VACUUM")


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
    if version and version < SCHEMA_VERSION:
        _give_back(db)
    # states made before 'created' was kept: their first file is as old as they are
    db.execute("INSERT OR IGNORE INTO meta SELECT ?, 'created', COALESCE(MIN(first_seen), ?) FROM files",
               (DEFAULT_SITE, time.time()))
    db.execute("INSERT OR IGNORE INTO meta VALUES ('', 'home_host', ?)", (machine_host(),))
    os.chmod(path, 0o600)


# A state this small is checked whole on every open (quick_check reads every page: some 1.5 ms a MB).
WHOLE_CHECK_BYTES = 64 * 2**20
# A larger one: its tables but the counts and what was posted on every open, and whole once a day.
WHOLE_CHECK_EVERY = 24 * 3600.0
_GROWING = ("counts", "posted")


def _check_intact(db: sqlite3.Connection, path: Path, *, whole: bool) -> bool:
    """Check the state with SQLite's ``quick_check``; return whether a large state was checked whole (its
    time to be kept: a small one's is not needed).

    Why not whole on every open: the counts and what was posted grow with
    days times listings (a busy site's year: 5 million rows, 450 MB, 0.65 s
    to check, read from the disk on every run, however little it brings).
    Those two tables are checked whole once a day; every other table (which
    files were read and how far, the hosts, the days pending) on every open,
    in a millisecond, and so is all of a state under ``WHOLE_CHECK_BYTES``.
    A damaged page of the counts that a run reads (the days it adds to or
    posts) is SQLite's error at once, named as this one is; one it does not
    read is found by the day's whole check, before it could be posted
    (``status`` and the commands that only read check it whole).
    """
    try:
        large = not whole and _size(path) >= WHOLE_CHECK_BYTES
        due = large and time.time() - _checked(db) >= WHOLE_CHECK_EVERY
        if whole or not large or due:
            problems = _problems(db, "(3)")  # (its first three problems: enough to name the damage)
        else:
            tables = [str(r[0]) for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            problems = [p for t in tables if t not in _GROWING for p in _problems(db, f"({t})") if p != "ok"] or ["ok"]
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
    return due


def _problems(db: sqlite3.Connection, table: str) -> list[str]:
    return [" ".join(str(row[0]).split()) for row in db.execute(f"PRAGMA quick_check{table}")]


def _size(path: Path) -> int:
    """The state's bytes, with its write-ahead log's (not yet copied into it)."""
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())


def _checked(db: sqlite3.Connection) -> float:
    """When the state was last checked whole (0: never, or a state from before this was kept)."""
    try:
        row = db.execute("SELECT value FROM meta WHERE site = '' AND key = 'checked'").fetchone()
    except sqlite3.OperationalError:  # (a state made before meta was keyed by site, or a new one)
        return 0.0
    return float(row[0]) if row else 0.0


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


def _sqlite(path: Path) -> bool:
    """Whether ``path`` may be a state, damaged or not: a text file named by mistake (the config, a log,
    /etc/passwd) is not one, and is no state to restore or move aside. A SQLite database starts with
    "SQLite format 3" and a NUL; a state whose first page a failing disk wiped (NULs, junk) is a damaged one."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:
        return True
    text = bool(head) and all(32 <= b < 127 or b in b"\t\r\n" for b in head)  # (SQLite's holds a NUL)
    return not text


def _storage_error(path: Path, exc: OSError) -> StateStorageError:
    return StateStorageError(
        f"cannot use the state at {path}: {exc.strerror or exc}",
        "check that its file system is mounted read-write, has space, and that this user may write there; "
        "or point --state / [state] path elsewhere",
    )


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


