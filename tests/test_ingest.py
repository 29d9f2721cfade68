"""jobs.ingest on its own: new lines of every log into the state, exactly once, called as a library."""

from __future__ import annotations

import os
from pathlib import Path

from logtrack import config as config_mod
from logtrack.jobs.ingest import check_rules, ingest_paths
from logtrack.state.store import State

from sites import counts_of, write


def test_each_line_counts_once_however_often_and_under_whatever_name(cli, site, tmp_path: Path) -> None:
    logs, conf, gen = site
    cfg = config_mod.load(conf)
    log = logs / "access.log"
    write(log, gen.lines[:2500])
    state_path = tmp_path / "state.db"
    with State.open(state_path) as state:
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


def test_a_file_that_cannot_be_read_is_its_own_problem(site, tmp_path: Path) -> None:
    logs, conf, gen = site
    cfg = config_mod.load(conf)
    write(logs / "access.log", gen.lines[:100])
    (logs / "other_access.log").write_bytes(b"\x00\x01\x02binary\x00" * 100)
    with State.open(tmp_path / "state.db") as state:
        report = ingest_paths(state, cfg, [str(logs)])
    assert report.tally.lines == 100
    assert any("other_access.log" in problem for problem in report.problems)
