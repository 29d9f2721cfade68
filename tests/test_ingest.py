"""jobs.ingest on its own: new lines of every log into the state, exactly once, called as a library."""

from __future__ import annotations

import os

from logtrack import config as config_mod
from logtrack.config import Fleet
from logtrack.jobs.ingest import check_rules, ingest_paths
from logtrack.state.locate import open_state, parse

from sites import counts_of, write


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
