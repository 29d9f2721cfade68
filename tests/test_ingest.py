"""jobs.ingest on its own: new lines of every log into the state, exactly once, called as a library."""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import threading

import pytest

from logtrack import config as config_mod
from logtrack.config import Fleet
from logtrack.jobs.ingest import ingest_paths
from logtrack.jobs.site_rules import check_rules
from logtrack.state.locate import open_state, parse

from sites import counts_of, files_per_count, write


def test_each_line_counts_once_however_often_and_under_whatever_name(cli, site, state_at: str) -> None:
    logs, conf, gen = site
    cfg = config_mod.load(conf)
    log = logs / "access.log"
    write(log, gen.lines[:2500])
    state_path = state_at
    with open_state(parse(state_at), Fleet()) as state:
        check_rules(state, cfg)
        first = ingest_paths(state, cfg, [str(logs)])
        assert first.tally.lines == 2500
        again = ingest_paths(state, cfg, [str(logs)])
        assert again.tally.lines == 0  # nothing new
        os.rename(log, logs / "access.log.1")  # rotated: the same file under another name, and a new one
        write(logs / "access.log.1", gen.lines[2500:4000])
        write(log, gen.lines[4000:])
        rotated = ingest_paths(state, cfg, [str(logs)])
        assert rotated.tally.lines == len(gen.lines) - 2500
    assert counts_of(state_path, cli) == gen.expected


def test_a_runs_tally_sums_the_views_and_keeps_no_counts(site, state_at: str) -> None:
    """The counts are the state's: a run's summary says how many views, read and counted. Keeping them per
    key too summed a first run's keys again and again and held them (a busy site's year of logs: 5 million
    keys, 1.2 GB at the run's end, 410 MB without)."""
    logs, conf, gen = site
    cfg = config_mod.load(conf)
    write(logs / "access.log", gen.lines)
    with open_state(parse(state_at), Fleet()) as state:
        check_rules(state, cfg)
        report = ingest_paths(state, cfg, [str(logs)])
        total = int(state.totals().get_column("views").sum())
    assert report.tally.counted == total == sum(gen.expected.values())
    assert report.tally.lines == len(gen.lines)
    with pytest.raises(ValueError, match="keeping them per key"):
        report.tally.counts()


def test_a_file_that_cannot_be_read_is_its_own_problem(site, state_at: str) -> None:
    logs, conf, gen = site
    cfg = config_mod.load(conf)
    write(logs / "access.log", gen.lines[:100])
    (logs / "other_access.log").write_bytes(b"\x00\x01\x02binary\x00" * 100)
    with open_state(parse(state_at), Fleet()) as state:
        report = ingest_paths(state, cfg, [str(logs)])
    assert report.tally.lines == 100
    assert any("other_access.log" in problem for problem in report.problems)


def test_each_host_has_its_own_positions_and_the_site_sums_them(site, state_at: str) -> None:
    """The same log content on two hosts is two files: each host reads its own, and the totals are their sum."""
    import polars as pl

    logs, conf, gen = site
    cfg = config_mod.load(conf)
    write(logs / "access.log", gen.lines[:1000])
    for site_name, hosts in (("fleet", ("web1", "web2")), ("solo", ("web1",))):
        for host in hosts:
            with open_state(parse(state_at), Fleet(site=site_name, host=host)) as state:
                check_rules(state, cfg)
                assert ingest_paths(state, cfg, [str(logs)]).tally.lines == 1000
                assert ingest_paths(state, cfg, [str(logs)]).tally.lines == 0  # its own position, kept
                assert [f.lines for f in state.files()] == [1000]
    with open_state(parse(state_at), Fleet(site="fleet"), readonly=True) as state:
        both = state.totals()
        assert [h.host for h in state.hosts()] == ["web1", "web2"]
    with open_state(parse(state_at), Fleet(site="solo"), readonly=True) as state:
        one = state.totals()
    assert one.height > 0
    assert both.equals(one.with_columns(pl.col("views") * 2))  # another site's counts are not summed in


def _parts(logs, lines: list[bytes], size: int) -> list[str]:
    """The lines as files of ``size`` lines each, access-00.log on, in the order a directory lists them."""
    names = []
    for n, start in enumerate(range(0, len(lines), size)):
        name = f"access-{n:02d}.log"
        write(logs / name, lines[start:start + size])
        names.append(name)
    return names


# Names the state cannot tell apart by content, read in one run with other files: each line counts once,
# the second name is matched only once the first one's counts and position are committed (the files
# before and after it are matched ahead, a group at a time, and committed together).
@pytest.mark.parametrize("case", ["copy beside it", "copy far after it", "compressed beside its plain self",
                                  "a longer copy first", "a longer copy after"])
def test_the_same_content_under_two_names_in_one_run_counts_once(cli, site, state_at: str, case: str) -> None:
    logs, conf, gen = site
    cfg = config_mod.load(conf)
    names = _parts(logs, gen.lines, 250)  # 24 files, three groups of files matched at once
    copied = "access-03.log"
    with open_state(parse(state_at), Fleet()) as state:
        if case == "copy beside it":
            shutil.copyfile(logs / copied, logs / "access-03.log.copy")
            twin = "access-03.log.copy"
        elif case == "copy far after it":
            shutil.copyfile(logs / copied, logs / "access-99.log")
            twin = "access-99.log"
        elif case == "compressed beside its plain self":  # (logrotate's compress, caught half way)
            with open(logs / copied, "rb") as src, gzip.open(logs / "access-03.log.gz", "wb") as dst:
                shutil.copyfileobj(src, dst)
            twin = "access-03.log.gz"
        else:  # a copy taken later, with the lines written since: the two start alike, one goes further
            longer = logs / ("access-02.log.copy" if case == "a longer copy first" else "access-03.log.copy")
            write(longer, gen.lines[750:1000] + gen.lines[1000:1100])
            os.truncate(logs / "access-04.log", 0)  # (its first 100 lines are in the copy now)
            write(logs / "access-04.log", gen.lines[1100:1250])
            twin = longer.name
        check_rules(state, cfg)
        report = ingest_paths(state, cfg, [str(logs)])
    assert not report.problems
    said = dict((os.path.basename(name), what) for name, what in report.files)
    assert set(said) == {*names, twin}
    if case in ("copy beside it", "copy far after it", "compressed beside its plain self"):
        assert said[twin] == "nothing new (at line 250)", said[twin]
    assert counts_of(state_at, cli) == gen.expected


def test_settling_through_a_mark_waits_for_the_jobs_before_it_only() -> None:
    """``take`` waits for the groups of commits before the last ones, not for the group it just asked."""
    from logtrack.state.keeper import Keeper

    gate = threading.Event()
    done: list[str] = []
    with Keeper(None) as keeper:  # type: ignore[arg-type]
        keeper.submit(lambda: done.append("first"))
        mark = keeper.asked
        keeper.submit(lambda: (gate.wait(10), done.append("second")))
        keeper.settle_through(mark)
        assert done == ["first"] and keeper.asked == 2
        gate.set()
        keeper.settle()
        assert done == ["first", "second"]


def test_commits_queued_behind_a_failed_one_are_not_written() -> None:
    """A later read position committed over a failed commit's counts would lose them for good."""
    from logtrack.state.keeper import Keeper

    class Failing:
        groups_commits = True

        def __init__(self) -> None:
            self.written: list[str] = []

        @contextlib.contextmanager
        def transaction(self):
            yield

    state = Failing()
    gate = threading.Event()
    after: list[str] = []

    def first() -> None:
        gate.wait()
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"), Keeper(state) as keeper:  # type: ignore[arg-type]
        keeper.submit(first)
        keeper.write(lambda: state.written.append("second"), lambda: after.append("second"))
        keeper.write(lambda: state.written.append("third"), lambda: after.append("third"))
        gate.set()
        keeper.settle()
    assert state.written == [] and after == []


def test_a_run_with_nothing_new_does_not_load_polars(site, tmp_path) -> None:
    """The daily run that finds nothing new stays quick: importing Polars alone costs it 0.1 s."""
    import subprocess
    import sys

    logs, conf, gen = site
    _parts(logs, gen.lines[:1000], 250)
    with gzip.open(logs / "access-09.log.gz", "wb") as fh:
        fh.write(b"".join(line + b"\n" for line in gen.lines[1000:1200]))
    state = tmp_path / "state.db"
    script = ("import sys\nfrom logtrack.cli.main import run\nimport atexit\n"
              "sys.argv = ['logtrack', 'run', *sys.argv[1:]]\n"
              "import os\n_exit = os._exit\n"
              "def leave(code):\n    print('polars' in sys.modules, file=sys.stderr, flush=True)\n    _exit(code)\n"
              "os._exit = leave\nrun()\n")
    cmd = [sys.executable, "-c", script, str(logs), "--config", str(conf), "--state", str(state), "--no-upload",
           "-q"]
    first, again = (subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "TZ": "UTC"})
                    for _ in range(2))
    assert first.returncode == 0 and first.stderr.strip().splitlines()[-1] == "True", first.stderr
    assert again.returncode == 0 and again.stderr.strip().splitlines()[-1] == "False", again.stderr


@pytest.mark.parametrize("rotation", ["renamed", "copytruncate"])
def test_a_file_rotated_after_its_match_and_before_its_reading_is_read_again(cli, site, monkeypatch,
                                                                           rotation: str) -> None:
    """Files are matched a group at a time, ahead of their reading: logrotate may act in between."""
    from logtrack.jobs import ingest

    logs, conf, gen = site
    cfg = config_mod.load(conf)
    lines = gen.lines
    write(logs / "access.log", lines[:3000])
    write(logs / "access.log.1", lines[3000:4000])
    opening = ingest._Reader._open

    def rotated_meanwhile(self, file, held=None):  # logrotate, once access.log is open and access.log.1 matched
        batches = opening(self, file, held)
        first = next(batches, None)
        if file.name.endswith("access.log") and not (logs / "access.log.2").exists():
            if rotation == "renamed":
                os.rename(logs / "access.log.1", logs / "access.log.2")
                os.rename(logs / "access.log", logs / "access.log.1")
                write(logs / "access.log", lines[4000:])
            else:  # copied away, then cut back and written again: the same file, other lines
                shutil.copyfile(logs / "access.log.1", logs / "access.log.2")
                os.truncate(logs / "access.log.1", 0)
                write(logs / "access.log.1", lines[4000:])
        if first is not None:
            yield first
        yield from batches

    monkeypatch.setattr(ingest._Reader, "_open", rotated_meanwhile)
    state_path = logs.parent / "state.db"
    with open_state(parse(str(state_path)), Fleet()) as state:
        check_rules(state, cfg)
        report = ingest_paths(state, cfg, [str(logs)])
        assert any("read again under the names the files have now" in what for _, what in report.files)
        ingest_paths(state, cfg, [str(logs)])  # the next run: what was written after the rotation
    assert counts_of(str(state_path), cli) == gen.expected


def test_small_files_are_counted_together_and_each_commits_its_own(cli, site, state_at: str, monkeypatch) -> None:
    """Files whose new lines are one batch each are counted several at a time (``count_files``); each still
    commits its own counts with its own read position: lines added to every file later are counted once,
    in a batch together again, and a run after that finds nothing new."""
    from logtrack.count import batch as counting

    logs, conf, gen = site
    cfg = config_mod.load(conf)
    joined = files_per_count(monkeypatch, counting)
    names = [logs / f"access.log-{n:02d}" for n in range(20)]
    for n, name in enumerate(names):
        write(name, gen.lines[200 * n: 200 * (n + 1)])
    with open_state(parse(state_at), Fleet()) as state:
        check_rules(state, cfg)
        first = ingest_paths(state, cfg, [str(logs)])
        assert first.tally.lines == 4000
        assert joined == [20]
        for n, name in enumerate(names):
            write(name, gen.lines[4000 + 100 * n: 4000 + 100 * (n + 1)])
        second = ingest_paths(state, cfg, [str(logs)])
        assert second.tally.lines == 2000
        assert joined == [20, 20]
        assert ingest_paths(state, cfg, [str(logs)]).tally.lines == 0
        assert len(second.files) == 20 and all(what.endswith("; now at line 300") for _, what in second.files)
    assert counts_of(state_at, cli) == gen.expected


def test_new_files_are_matched_a_group_in_one_transaction(cli, site, state_at: str, monkeypatch) -> None:
    """On SQLite each new file's record was a transaction of its own, each synced to disk: a directory of
    small files spent a second on them. A group's records are made in one (PostgreSQL's, shared by a
    fleet, a statement at a time as before); the counts are the same."""
    from logtrack.state.sql import SqlStore

    logs, conf, gen = site
    cfg = config_mod.load(conf)
    for n in range(12):
        write(logs / f"access.log-{n:02d}", gen.lines[300 * n: 300 * (n + 1)])
    write(logs / "access.log", gen.lines[3600:])
    inside: list[bool] = []
    add_file = SqlStore.add_file

    def recorded(self, head: bytes, name: str):  # type: ignore[no-untyped-def]
        inside.append(self.groups_commits == _in_transaction(self))
        return add_file(self, head, name)

    monkeypatch.setattr(SqlStore, "add_file", recorded)
    with open_state(parse(state_at), Fleet()) as state:
        check_rules(state, cfg)
        assert ingest_paths(state, cfg, [str(logs)]).tally.lines == len(gen.lines)
    assert len(inside) == 13 and all(inside)
    assert counts_of(state_at, cli) == gen.expected


def _in_transaction(state: object) -> bool:
    db = getattr(state, "db", None)
    if db is not None:  # SQLite
        return bool(db.in_transaction)
    import psycopg

    return state.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE  # type: ignore[attr-defined]
