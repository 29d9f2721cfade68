"""jobs.runner on its own: a run as a library call (dry run, the window, no key), without the CLI."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from logtrack import config as config_mod
from logtrack.jobs.runner import RunOptions, run

from sites import write


def test_a_dry_run_changes_nothing_and_shows_the_posts(site, tmp_path: Path) -> None:
    logs, conf, gen = site
    write(logs / "access.log", gen.lines)
    cfg = config_mod.load(conf)
    state = tmp_path / "state.db"
    report = run(cfg, [str(logs)], state, RunOptions(dry_run=True, include_today=True))
    assert not state.exists()
    assert report.ingest.tally.lines == len(gen.lines)
    posted = sum(post.listings for post in report.dry_run_posts)
    assert posted == len(gen.expected)  # one entry a day, supplier and listing
    assert {day for post in report.dry_run_posts for day in post.days} == {day for day, _, _ in gen.expected}


def test_outside_the_window_the_days_wait_and_without_a_key_the_counts_are_kept(site, tmp_path: Path) -> None:
    logs, conf, gen = site
    write(logs / "access.log", gen.lines)
    cfg = config_mod.load(conf)
    noon = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # 12:00 in Chicago: outside 22:00-06:00
    report = run(cfg, [str(logs)], tmp_path / "a.db",
                 RunOptions(api_key="k3y", clock=lambda: noon, include_today=True))
    assert report.due and not report.posted
    assert report.deferred is not None and "outside the posting window 22:00-06:00 America/Chicago" in report.deferred
    keyless = replace(cfg, settings=replace(cfg.settings, api_key_file=None))
    report = run(keyless, [str(logs)], tmp_path / "b.db", RunOptions(include_today=True))
    assert report.ingest.tally.lines == len(gen.lines)  # counted all the same
    assert report.upload_error is not None and "no flexmls API key" in str(report.upload_error)
