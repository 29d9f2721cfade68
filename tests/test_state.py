"""The state database on its own: numbered migrations, rows read by name, the rules it guards."""

from __future__ import annotations

from pathlib import Path

import pytest

from logtrack.config import CountingRules
from logtrack.errors import StateError
from logtrack.jobs.site_rules import check_rules
from logtrack.state.store import MIGRATIONS, SCHEMA_VERSION, State

from conftest import sqlite_db

# A state as logtrack wrote it before its migrations were numbered: a 'schema' row, user_version 0,
# the files columns added over time in the order they came, and no outcomes or dirty_days tables.
BEFORE_NUMBERING = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('schema', '1');
CREATE TABLE files (
    id INTEGER PRIMARY KEY, fp_len INTEGER NOT NULL, fp_hash TEXT NOT NULL, offset INTEGER NOT NULL,
    lines INTEGER NOT NULL, last_name TEXT NOT NULL, dev INTEGER, inode INTEGER, raw_size INTEGER,
    mtime_ns INTEGER, complete INTEGER NOT NULL DEFAULT 0, first_seen REAL NOT NULL, last_read REAL NOT NULL,
    tail_hash TEXT
);
CREATE TABLE counts (file_id INTEGER NOT NULL, day TEXT NOT NULL, supplier TEXT NOT NULL, listing TEXT NOT NULL,
    views INTEGER NOT NULL, PRIMARY KEY (file_id, day, supplier, listing)) WITHOUT ROWID;
CREATE TABLE posted (day TEXT NOT NULL, supplier TEXT NOT NULL, listing TEXT NOT NULL, views INTEGER NOT NULL,
    PRIMARY KEY (day, supplier, listing)) WITHOUT ROWID;
CREATE TABLE uploads (id INTEGER PRIMARY KEY, at REAL NOT NULL, days TEXT NOT NULL, ok INTEGER NOT NULL,
    http_status INTEGER, message TEXT NOT NULL);
CREATE TABLE frozen_days (day TEXT PRIMARY KEY, reason TEXT NOT NULL);
CREATE TABLE agents (ua TEXT PRIMARY KEY, bot INTEGER NOT NULL);
INSERT INTO files (id, fp_len, fp_hash, offset, lines, last_name, dev, inode, raw_size, mtime_ns, complete,
                   first_seen, last_read, tail_hash)
    VALUES (7, 4096, 'abc', 1234, 10, '/var/log/nginx/access.log', 1, 2, 3, 4, 0, 1000.0, 2000.0, 'tail');
INSERT INTO counts VALUES (7, '2026-11-01', 'Zillow', '42', 3);
INSERT INTO uploads (at, days, ok, http_status, message) VALUES (1500.0, '["2026-11-01"]', 1, 200, 'ok');
"""


def tables(path: Path) -> set[str]:
    with sqlite_db(path) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")}


def test_a_new_state_has_every_migration(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with State.open(path):
        pass
    with sqlite_db(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == len(MIGRATIONS)
        columns = {row[1] for row in db.execute("PRAGMA table_info(files)")}
    assert {"last_ts", "recount_since", "tail_hash"} <= columns
    assert {"files", "counts", "file_days", "outcomes", "posted", "uploads", "frozen_days", "dirty_days"} \
        <= tables(path)
    assert "counts_day" not in tables(path)
    assert [number for number, _, _ in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))


def test_a_state_from_before_the_numbering_is_brought_up_to_date_and_read_by_name(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with sqlite_db(path) as db:
        db.executescript(BEFORE_NUMBERING)
    with State.open(path) as state:
        (record,) = state.files()
        assert (record.id, record.offset, record.lines, record.last_name, record.tail_hash) == \
            (7, 1234, 10, "/var/log/nginx/access.log", "tail")  # tail_hash sits before last_ts in this table
        assert (record.last_ts, record.recount_since) == (None, None)
        assert state.totals().get_column("views").to_list() == [3]
        assert state.last_accepted() is not None
    with sqlite_db(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert "agents" not in tables(path) and {"outcomes", "dirty_days", "file_days"} <= tables(path)
    with State.open(path, readonly=True) as state:  # up to date now: a read-only open changes nothing
        assert len(state.files()) == 1


def key_columns(path: Path, table: str) -> list[str]:
    with sqlite_db(path) as db:
        return [row[1] for row in sorted(db.execute(f"PRAGMA table_info({table})"), key=lambda r: r[5]) if row[5]]


@pytest.mark.parametrize("made", ["new", "before the numbering"])
def test_counts_are_kept_by_day_and_file_so_that_a_files_rows_land_together(tmp_path: Path, made: str) -> None:
    """Migration 10: the counts keyed (site, day, file_id, supplier, listing), with no second index (migration
    9's (site, day, file_id) held every key again: half of a busy site's state), so a file's rows of a day
    land together (keyed (site, day, supplier, listing), 250 small files' inserts fell one page a row); the
    days each file has counts on kept apart, for the questions asked by file."""
    path = tmp_path / "state.db"
    if made != "new":
        with sqlite_db(path) as db:
            db.executescript(BEFORE_NUMBERING)
    with State.open(path) as state:
        totals = state.totals().get_column("views").to_list()
        by_file = state.days_by_file()
    assert totals == ([] if made == "new" else [3])
    assert by_file == ({} if made == "new" else {7: {"2026-11-01"}})
    assert key_columns(path, "counts") == ["site", "day", "file_id", "supplier", "listing"]
    assert key_columns(path, "file_days") == ["file_id", "day"]
    with sqlite_db(path) as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'counts' "
                          "AND sql IS NOT NULL").fetchall() == []


def test_a_state_from_a_newer_logtrack_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with State.open(path):
        pass
    with sqlite_db(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StateError, match="made by a newer logtrack"), State.open(path):
        pass


def test_a_state_signed_the_old_way_keeps_its_rules_and_is_signed_anew(tmp_path: Path) -> None:
    from logtrack.config import Config

    rules = CountingRules(format="combined", timezone="America/Chicago", patterns=("^/l/(?P<id>[0-9]+)$",))
    with State.open(tmp_path / "state.db") as state:
        state.set_rules(rules.legacy_signature())
        check_rules(state, Config(rules))  # the same rules: no error
        assert state.rules() == rules.signature()
        other = CountingRules(format="combined", timezone="UTC", patterns=rules.patterns)
        with pytest.raises(StateError, match="were made under other rules"):
            check_rules(state, Config(other))


def test_a_state_from_one_server_becomes_its_hosts_own_under_the_default_site(tmp_path: Path) -> None:
    """Migration 8: every row keyed by site, files by host; what was there is this machine's, in site 'default'."""
    from logtrack.state.store import machine_host

    rules = CountingRules(format="combined", timezone="America/Chicago", patterns=("^/l/(?P<id>[0-9]+)$",))
    path = tmp_path / "state.db"
    with sqlite_db(path) as db:
        db.executescript(BEFORE_NUMBERING)
        db.execute("INSERT INTO meta VALUES ('rules', ?)", (rules.signature(),))
    from logtrack.config import Config

    with State.open(path) as state:
        assert (state.site, state.host) == ("default", machine_host())
        check_rules(state, Config(rules))  # the rules it counted under are the site's and this host's
        (host,) = state.hosts()
        assert (host.host, host.rules, host.has_counts) == (machine_host(), rules.signature(), True)
        assert state.totals().get_column("views").to_list() == [3]
    with State.open(path, host="web2") as other:  # another host of the same SQLite state sees none of its files
        assert other.files() == [] and other.totals().get_column("views").to_list() == [3]
    with sqlite_db(path) as db:
        assert db.execute("SELECT site, host FROM files").fetchall() == [("default", machine_host())]
        assert db.execute("SELECT value FROM meta WHERE site='' AND key='home_host'").fetchone() == (machine_host(),)


def test_counts_add_up_on_either_backend_whatever_the_rows(state_at: str) -> None:
    """A key twice in one batch, a batch added outside a transaction, then again: the views add up."""
    from datetime import date

    import polars as pl

    from logtrack.config import Fleet
    from logtrack.state.locate import open_state, parse

    rows = pl.DataFrame({"day": [date(2026, 11, 1)] * 3, "supplier": ["", "", "Zillow"],
                         "listing": ["1", "1", "1"], "views": [2, 3, 4]})
    outcomes = pl.DataFrame({"day": [date(2026, 11, 1), None], "outcome": ["view", "no time"], "lines": [9, 1]},
                            schema={"day": pl.Date, "outcome": pl.String, "lines": pl.Int64})
    with open_state(parse(state_at), Fleet(host="web1")) as state:
        record = state.add_file(b"first line\n", "access.log")
        state.advance(record.id, 11, 1, "access.log", rows, outcomes=outcomes)
        with state.transaction():
            state.advance(record.id, 22, 2, "access.log", rows, outcomes=outcomes)
        assert state.totals().select("supplier", "views").rows() == [("", 10), ("Zillow", 8)]
        assert state.outcomes().select("outcome", "lines").sort("outcome").rows() == [("no time", 2), ("view", 18)]
        assert (state.file(record.id).offset, state.file(record.id).lines) == (22, 2)


@pytest.mark.parametrize("chunk", [1, 2, 3, 1000])
def test_the_totals_read_a_chunk_at_a_time_are_the_whole_totals(state_at: str, monkeypatch, chunk: int) -> None:
    """``totals`` sums whole days of what it reads at a time (a year of counts held as Python tuples took
    1.5 GB): the same rows, in order, whatever the chunk, on either backend; none is a frame too."""
    from datetime import date

    import polars as pl

    from logtrack.config import Fleet
    from logtrack.state import sql
    from logtrack.state.locate import open_state, parse

    monkeypatch.setattr(sql, "TOTALS_TEXT", chunk)
    rows = pl.DataFrame({"day": [date(2026, 11, d) for d in (3, 1, 2, 1, 2)], "supplier": ["Z", "", "Z", "Z", ""],
                         "listing": ["9", "1", "2", "1", "10"], "views": [1, 2, 3, 4, 5]})
    with open_state(parse(state_at), Fleet(host="web1")) as state:
        assert state.totals().height == 0 and state.totals().schema == sql._frame([]).schema
        a, b = (state.add_file(f"line of {n}\n".encode(), n) for n in ("a.log", "b.log"))
        state.advance(a.id, 11, 1, "a.log", rows)
        state.advance(b.id, 11, 1, "b.log", rows.head(2))
        assert state.totals().rows() == [
            (date(2026, 11, 1), "", "1", 4), (date(2026, 11, 1), "Z", "1", 4), (date(2026, 11, 2), "", "10", 5),
            (date(2026, 11, 2), "Z", "2", 3), (date(2026, 11, 3), "Z", "9", 2)]
        assert state.totals(days=["2026-11-02"]).get_column("views").to_list() == [5, 3]


def test_the_totals_hold_any_supplier_and_listing_text_as_it_was_counted(state_at: str) -> None:
    """``totals`` reads each file's counts of a day as one joined text: whatever a supplier's name or a
    listing id holds (what XML can: separators, quotes, a tab or a line break a decoded JSON target gave, any
    script), it comes back as it went in, and views past 2**31 too."""
    from datetime import date

    import polars as pl

    from logtrack.config import Fleet
    from logtrack.state.locate import open_state, parse

    keys = [("", "a,b;c|d"), ("Homes & Land <HL>", "42"), ("Zillöw ☃ , : ;", "x\ty\nz\r"),
            ("Realtor.com", "ÅÄÖ-東京-7"), ("Realtor.com", " "), ("\"'", "\\x1e")]
    rows = pl.DataFrame({"day": [date(2026, 11, 1)] * len(keys), "supplier": [k[0] for k in keys],
                         "listing": [k[1] for k in keys], "views": [1, 2, 3, 2**40, 5, 6]})
    with open_state(parse(state_at), Fleet(host="web1")) as state:
        a, b = (state.add_file(f"line of {n}\n".encode(), n) for n in ("a.log", "b.log"))
        state.advance(a.id, 11, 1, "a.log", rows)
        state.advance(b.id, 11, 1, "b.log", rows.head(1))
        got = state.totals()
    assert got.rows() == sorted([(date(2026, 11, 1), s, listing, v * (2 if n == 0 else 1))
                                 for n, ((s, listing), v) in enumerate(zip(keys, rows["views"], strict=True))])


def test_several_files_committed_at_once_each_get_their_own_counts_and_position(state_at: str) -> None:
    """``advance_many`` (a group of small files counted together): each file's rows, days and position are
    what its own ``advance`` writes; a file with no counts only moves on."""
    from datetime import date

    import polars as pl

    from logtrack.config import Fleet
    from logtrack.state.locate import open_state, parse
    from logtrack.state.records import Advance

    def views(day: int, listings: list[str], n: int) -> pl.DataFrame:
        return pl.DataFrame({"day": [date(2026, 11, day)] * len(listings), "supplier": ["Zillow"] * len(listings),
                             "listing": listings, "views": [n] * len(listings)})

    outcomes = pl.DataFrame({"day": [date(2026, 11, 2)], "outcome": ["view"], "lines": [5]})
    with open_state(parse(state_at), Fleet(host="web1")) as state:
        a, b, c = (state.add_file(f"line of {n}\n".encode(), n) for n in ("a.log", "b.log", "c.log"))
        with state.transaction():
            state.advance_many([
                Advance(a.id, 100, 10, "a.log", views(2, ["1", "2"], 1), last_ts=7, outcomes=outcomes),
                Advance(b.id, 200, 20, "b.log", views(2, ["2"], 3).vstack(views(3, ["9"], 4)), tail_hash="t"),
                Advance(c.id, 300, 30, "c.log", views(2, [], 0)),
            ])
        assert state.days_by_file() == {a.id: {"2026-11-02"}, b.id: {"2026-11-02", "2026-11-03"}}
        assert state.totals().select("day", "listing", "views").rows() == [
            (date(2026, 11, 2), "1", 1), (date(2026, 11, 2), "2", 4), (date(2026, 11, 3), "9", 4)]
        assert state.outcomes().select("outcome", "lines").rows() == [("view", 5)]
        assert [(r.offset, r.lines, r.last_name, r.last_ts, r.tail_hash) for r in state.files()] == [
            (100, 10, "a.log", 7, None), (200, 20, "b.log", None, "t"), (300, 30, "c.log", None, None)]
        assert state.pending_days(None) == ["2026-11-02", "2026-11-03"]


def test_a_state_brought_to_counts_by_day_gives_back_the_room_it_freed(tmp_path: Path) -> None:
    """Migration 10 frees half of a busy state (the index by day held every key again): the file is rewritten
    without it once (VACUUM), not left at its old size."""
    from datetime import date

    import polars as pl
    from test_fleet import _BY_FILE

    path = tmp_path / "state.db"
    n = 20_000
    with State.open(path) as state:
        record = state.add_file(b"a log\n", "access.log")
        with state.transaction():
            state.advance(record.id, 6, 1, "access.log", pl.DataFrame({
                "day": [date(2026, 11, 1 + i % 28) for i in range(n)], "supplier": ["Zillow"] * n,
                "listing": [f"{1_000_000 + i}" for i in range(n)], "views": [1] * n}))
        totals = state.totals()
    with sqlite_db(path) as db:
        db.executescript(_BY_FILE["sqlite"])
        db.execute("VACUUM")
        before = db.execute("PRAGMA page_count").fetchone()[0]
    with State.open(path) as state:
        assert state.totals().equals(totals)
    with sqlite_db(path) as db:
        assert db.execute("PRAGMA freelist_count").fetchone()[0] == 0
        assert db.execute("PRAGMA page_count").fetchone()[0] < before * 0.7


@pytest.mark.parametrize("chunk", [1, 1000])
def test_a_copy_is_one_snapshot_whatever_other_hosts_commit_meanwhile(pg_server, monkeypatch, chunk: int) -> None:
    """A dry run on a fleet's state copies it into SQLite table by table (``dump``, then ``load``), while the
    other hosts go on committing. Each table read as a statement of its own saw counts of a file the files'
    read had not: the copy failed on a file id it did not know, or held counts without their file. The copy
    is one snapshot now, read ``DUMP_ROWS`` rows at a time (a year of a site's counts held as Python tuples
    took gigabytes)."""
    from datetime import date

    import polars as pl

    from logtrack.config import Fleet
    from logtrack.state import sql
    from logtrack.state.locate import open_state, parse

    monkeypatch.setattr(sql, "DUMP_ROWS", chunk)
    url = pg_server.new_database()
    rows = pl.DataFrame({"day": [date(2026, 11, 1), date(2026, 11, 2)], "supplier": ["", "Z"],
                         "listing": ["1", "2"], "views": [1, 2]})
    with open_state(parse(url), Fleet(host="web1")) as web1, open_state(parse(url), Fleet(host="web2")) as web2:
        for n in ("a.log", "b.log"):
            record = web1.add_file(f"line of {n}\n".encode(), n)
            web1.advance(record.id, 11, 1, n, rows)
        dumped = web1.dump()
        first = next(dumped)
        assert first[0] == "files"
        late = web2.add_file(b"line of c.log\n", "c.log")  # web2 commits a file and its counts meanwhile
        web2.advance(late.id, 11, 1, "c.log", rows)
        tables = [first, *dumped]
    files = {row[0] for table, _, chunk_rows in tables if table == "files" for row in chunk_rows}
    counted = [row for table, columns, chunk_rows in tables if table == "counts"
               for row in chunk_rows]
    at = sql.FILE_TABLES["counts"].index("file_id")
    assert len(files) == 2 and {row[at] for row in counted} == files
    assert len(counted) == 4  # a.log's and b.log's, nothing of c.log
    assert all(len(chunk_rows) <= chunk for _, _, chunk_rows in tables)
