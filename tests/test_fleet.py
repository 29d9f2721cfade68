"""A fleet: several hosts of one site share a state (SQLite or a real PostgreSQL) and post the sums.

Every test runs on both backends (``state_at``). flexmls keeps the last post
per (day, supplier), so what the sandbox holds at the end must be exactly
the corpus's counts, whichever host posted and whatever happened between.
"""

from __future__ import annotations

import gzip
import itertools
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logtrack import config as config_mod
from logtrack.config import Fleet
from logtrack.errors import ExitCode, days_listed
from logtrack.jobs.runner import RunOptions, run
from logtrack.read.inputs import Hooks

import loggen
from conftest import SITE_TZ, xml_counts
from sites import KEY, Sandbox, write

HOSTS = ("web1", "web2", "web3")
EXAMPLES = itertools.count()


def host_config(base: Path, host: str, state: str, port: int | None, site: str | None = None) -> Path:
    """The config one host runs with: the site's rules, the shared state, its own name."""
    url = state if "://" in state else f"sqlite:///{state}"
    text = base.read_text() + f'\n[state]\nurl = "{url}"\n\n[fleet]\nhost = "{host}"\n'
    if site:
        text += f'site = "{site}"\n'
    if port is not None:
        text += (f'\n[upload]\nendpoint = "http://127.0.0.1:{port}/tracking/v1/listings/views/{{api_key}}/"\n'
                 'window = "00:00-23:59"\nretries = 0\n')
    out = base.with_name(f"{host}-{site or 'default'}.toml")
    out.write_text(text)
    return out


def logtrack(*args: str | Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "logtrack", *map(str, args)],
                            env={**os.environ, "TZ": "UTC", "LOGTRACK_API_KEY": KEY},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finished(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    _, err = proc.communicate(timeout=300)
    return proc.returncode, err.decode()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox()
    yield box
    box.close()


def rotate(logs: Path) -> None:
    """What logrotate with delaycompress and compress does: .1 gzipped to .2.gz, the log renamed to .1."""
    one, log = logs / "access.log.1", logs / "access.log"
    if one.exists():
        n = 2
        while (logs / f"access.log.{n}.gz").exists():
            n += 1
        with open(one, "rb") as src, gzip.open(logs / f"access.log.{n}.gz", "wb") as dst:
            dst.write(src.read())
        one.unlink()
    if log.exists():
        log.rename(one)


def busy_span(folders: dict[str, Path], configs: dict[str, Path]) -> float:
    """How long one host's process lasts while all three run: the scale the kill times are drawn on.

    Measured with ``xml`` (no state, no post) on the first round's files, so
    that the kills land inside the runs on a slow machine and on a fast one;
    fixed kill times let every run finish once startup got faster.
    """
    started = time.monotonic()
    procs = [logtrack("xml", folders[h], "-c", configs[h]) for h in HOSTS]
    for proc in procs:
        code, err = finished(proc)
        assert code == 0, err
    return time.monotonic() - started


def test_three_hosts_killed_at_random_and_rotated_post_exactly_the_corpus(site, state_at: str, sandbox: Sandbox,
                                                                          tmp_path: Path) -> None:
    _, conf, gen = site
    rng = random.Random(14)
    shares: dict[str, list[bytes]] = {h: [] for h in HOSTS}
    for line in gen.lines:
        shares[rng.choice(HOSTS)].append(line)
    folders = {h: tmp_path / h for h in HOSTS}
    configs = {h: host_config(conf, h, state_at, sandbox.port) for h in HOSTS}
    for folder in folders.values():
        folder.mkdir()
    rounds, killed, span = 4, 0, 0.0
    for r in range(rounds):
        procs = {}
        for h in HOSTS:
            share = shares[h]
            if r and rng.random() < 0.5:
                rotate(folders[h])
            write(folders[h] / "access.log", share[len(share) * r // rounds: len(share) * (r + 1) // rounds])
        # (the shorter of two: one slowed by a moment of load drew kill times past every run's end)
        span = span or min(busy_span(folders, configs), busy_span(folders, configs))
        last = r == rounds - 1 and not killed  # none killed yet: this round's kills come early, all of them
        for h in HOSTS:
            procs[h] = (time.monotonic(), logtrack("run", folders[h], "-c", configs[h], "--now", "-q"))
        for started, proc in procs.values():
            if rng.random() < 0.6 or last:
                try:
                    at = rng.uniform(0.1, 0.4 if last else 1.1) * span
                    proc.wait(timeout=max(0.0, started + at - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
                    killed += 1
            finished(proc)
    assert killed, "no run was killed: the test proved nothing"
    for h in HOSTS:  # every host reads the rest; the last one's run finds every day finished everywhere
        code, err = finished(logtrack("run", folders[h], "-c", configs[h], "--now"))
        assert code == 0, err
    assert sandbox.views() == +gen.expected


def down_for_two_days(rng_seed: int) -> tuple[loggen.Generated, dict[str, list[bytes]]]:
    gen = loggen.generate(rng_seed, 900, "combined", "nginx", [-6], SITE_TZ, loggen.START, 3, chronological=True)
    rng = random.Random(rng_seed)
    shares: dict[str, list[bytes]] = {h: [] for h in HOSTS}
    for line in gen.lines:
        shares[rng.choice(HOSTS)].append(line)
    return gen, shares


def configured(conf: Path, state_at: str, host: str, port: int, site: str = "default") -> config_mod.Config:
    cfg = config_mod.load(host_config(conf, host, state_at, port))
    return replace(cfg, settings=replace(cfg.settings, fleet=Fleet(site=site, host=host)))


def end_of(day: str) -> datetime:
    """The midnight that ends ``day`` in the site's zone."""
    return datetime.combine(date.fromisoformat(day) + timedelta(days=1), datetime.min.time(), ZoneInfo(SITE_TZ))


def test_a_host_down_for_two_days_goes_out_without_and_then_with_the_full_sums(state_at: str, sandbox: Sandbox,
                                                                               tmp_path: Path) -> None:
    conf = tmp_path / "site.toml"
    conf.write_text(loggen.config_toml("combined", SITE_TZ))
    gen, shares = down_for_two_days(3)
    days = sorted({d for d, _, _ in gen.expected})
    first, rest = days[:2], days[2:]
    assert len(rest) >= 2 and date.fromisoformat(rest[0]) == date.fromisoformat(first[-1]) + timedelta(days=1)
    cfgs = {h: configured(conf, state_at, h, sandbox.port) for h in HOSTS}
    folders = {h: tmp_path / h for h in HOSTS}
    for h in HOSTS:
        folders[h].mkdir()
        write(folders[h] / "access.log", [ln for ln in shares[h] if _day_of(ln) in first])

    def go(h: str, clock: datetime, upload: bool = True) -> tuple[list[str], list[str]]:
        warnings: list[str] = []
        report = run(cfgs[h], [str(folders[h])], state_at,
                     RunOptions(api_key=KEY, ignore_window=True, upload=upload, clock=lambda: clock),
                     Hooks(on_warning=warnings.append))
        assert report.upload_error is None and not report.failures
        return report.posted, warnings

    t1 = end_of(first[-1]) + timedelta(hours=6)
    for h in HOSTS:
        go(h, t1, upload=False)
    assert go("web1", t1)[0] == first
    for h in HOSTS:  # the later days are written everywhere; web3 is down and reads none of them
        write(folders[h] / "access.log", [ln for ln in shares[h] if _day_of(ln) in rest])
    t2 = t1 + timedelta(hours=20)  # rest[0] is over, and web3 last read all of its logs 20 h ago
    go("web2", t2, upload=False)
    assert go("web1", t2) == ([], [])  # within [fleet] host_timeout (26 h): web3 is waited for
    waiting = run(cfgs["web1"], [str(folders["web1"])], state_at,
                  RunOptions(api_key=KEY, ignore_window=True, upload=False, clock=lambda: t2))
    assert waiting.held == {rest[0]: ["web3"]} and waiting.due == []
    t3 = end_of(rest[-1]) + timedelta(hours=1)
    go("web2", t3, upload=False)
    posted, warnings = go("web1", t3)
    assert posted == rest
    assert any(w.startswith("host web3 has not read all of its logs since") and days_listed(rest) in w
               for w in warnings), warnings
    without = Counter({k: v for k, v in gen.expected.items() if k[0] in first})
    without.update(xml_of([ln for h in ("web1", "web2") for ln in shares[h] if _day_of(ln) in rest], conf, tmp_path))
    assert sandbox.views() == +without  # the later days as web1 and web2 saw them
    posted, warnings = go("web3", t3 + timedelta(hours=1))  # web3 catches up, and posts the full sums itself
    assert posted and set(posted) <= set(rest) and not warnings
    assert sandbox.views() == +gen.expected


def _day_of(line: bytes) -> str:
    """The day of a generated line in the site's zone."""
    m = re.search(rb"\[([^]]+)\]", line)
    assert m is not None
    return datetime.strptime(m[1].decode(), "%d/%b/%Y:%H:%M:%S %z").astimezone(ZoneInfo(SITE_TZ)).date().isoformat()


def test_two_uploaders_at_once_post_each_document_once(site, state_at: str, sandbox: Sandbox, tmp_path: Path) -> None:
    _, conf, gen = site
    configs = {h: host_config(conf, h, state_at, sandbox.port) for h in HOSTS[:2]}
    for i, h in enumerate(configs):
        (tmp_path / h).mkdir()
        write(tmp_path / h / "access.log", gen.lines[i::2])
        code, err = finished(logtrack("run", tmp_path / h, "-c", configs[h], "--no-upload"))
        assert code == 0, err
    racing = [logtrack("run", tmp_path / h, "-c", configs[h], "--now") for h in configs]
    results = [finished(p) for p in racing]
    assert all(code == 0 for code, _ in results), results
    posted = [err for _, err in results if "posted" in err]
    assert len(posted) == 1, results  # one uploader posted every due day; the other found them done
    assert sandbox.views() == +gen.expected
    posts = sandbox.posts()
    assert set(posts.values()) == {1}, posts


def test_a_host_with_other_rules_is_refused_and_a_rebuild_changes_the_site(site, state_at: str, sandbox: Sandbox,
                                                                           tmp_path: Path, cli,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGTRACK_API_KEY", KEY)
    _, conf, gen = site
    web1, web2 = (host_config(conf, h, state_at, sandbox.port) for h in HOSTS[:2])
    for i, h in enumerate(HOSTS[:2]):
        (tmp_path / h).mkdir()
        write(tmp_path / h / "access.log", gen.lines[i::2])
    code, _, err = cli("run", str(tmp_path / "web1"), "-c", str(web1), "--no-upload")
    assert code == 0, err
    other = web2.read_text().replace("[filters]\nstatus = [200, 304]", "[filters]\nstatus = [200]")
    web2.write_text(other)
    code, _, err = cli("run", str(tmp_path / "web2"), "-c", str(web2), "--no-upload")
    assert code == ExitCode.STATE, err
    signatures = re.findall(r"(?:rules|are) ([0-9a-f]{16})", err)
    assert len(set(signatures)) == 2, err  # both named: the site's and this configuration's
    assert "changed" in err and "status" in err and "(web1)" in err and "logtrack rebuild" in err
    # web2 rebuilds under the new rules: they are the site's now, and web1 must follow before anything is posted
    code, _, err = cli("rebuild", str(tmp_path / "web2"), "-c", str(web2))
    assert code == 0, err
    code, _, err = cli("run", str(tmp_path / "web2"), "-c", str(web2), "--now")
    assert code == ExitCode.STATE and "web1" in err and "logtrack rebuild" in err, err
    web1.write_text(web1.read_text().replace("[filters]\nstatus = [200, 304]", "[filters]\nstatus = [200]"))
    code, _, err = cli("run", str(tmp_path / "web1"), "-c", str(web1), "--now")
    assert code == ExitCode.STATE and "run `logtrack rebuild` on this host" in err, err
    assert cli("rebuild", str(tmp_path / "web1"), "-c", str(web1))[0] == 0
    code, _, err = cli("run", str(tmp_path / "web1"), "-c", str(web1), "--now")
    assert code == 0, err
    changed = tmp_path / "changed.toml"  # the corpus counted by xml with 304s left out: what the site holds now
    changed.write_text(conf.read_text().replace("[filters]\nstatus = [200, 304]", "[filters]\nstatus = [200]"))
    assert sandbox.views() == +xml_of(gen.lines, changed, tmp_path)


def xml_of(lines: list[bytes], conf: Path, tmp: Path) -> Counter[tuple[str, str, str]]:
    """These lines as ``logtrack xml`` counts them under ``conf``: one source of truth for expectations."""
    from typer.testing import CliRunner

    from logtrack.cli.main import app

    from conftest import xml_counts

    log = tmp / "expected" / "all.log"
    log.parent.mkdir(exist_ok=True)
    log.write_bytes(b"")
    write(log, lines)
    result = CliRunner().invoke(app, ["xml", str(log), "-c", str(conf)])
    assert result.exit_code == 0, result.stderr
    return xml_counts(result.stdout_bytes)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000),
       steps=st.lists(st.tuples(st.sampled_from(["ingest", "upload"]), st.integers(0, 2), st.integers(0, 60)),
                      max_size=10))
def test_whatever_the_interleaving_the_last_post_of_each_day_and_supplier_is_the_total(
        state_at: str, seed: int, steps: list[tuple[str, int, int]]) -> None:
    gen = loggen.generate(seed, 150, "combined", "nginx", [-6], SITE_TZ, loggen.START, 3, chronological=True)
    rng = random.Random(seed)
    shares: dict[str, list[bytes]] = {h: [] for h in HOSTS}
    for line in gen.lines:
        shares[rng.choice(HOSTS)].append(line)
    box = Sandbox()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        conf = root / "site.toml"
        conf.write_text(loggen.config_toml("combined", SITE_TZ))
        where = state_at if "://" in state_at else str(root / "state.db")
        site = f"example-{next(EXAMPLES)}"  # a site of its own in the test's database, new for every example
        cfgs = {h: configured(conf, where, h, box.port, site) for h in HOSTS}
        sent = dict.fromkeys(HOSTS, 0)
        clock = datetime(2026, 11, 20, 12, tzinfo=UTC)

        def step(h: str, more: int, upload: bool) -> None:
            folder = root / h
            folder.mkdir(exist_ok=True)
            write(folder / "access.log", shares[h][sent[h]: sent[h] + more])
            sent[h] += more
            report = run(cfgs[h], [str(folder)], where,
                         RunOptions(api_key=KEY, ignore_window=True, upload=upload, clock=lambda: clock))
            assert report.upload_error is None and not report.failures

        try:
            for what, host, more in steps:
                step(HOSTS[host], more if what == "ingest" else 0, what == "upload")
            for h in HOSTS:
                step(h, len(shares[h]), upload=False)
            step(HOSTS[0], 0, upload=True)
            assert box.views() == +gen.expected
        finally:
            box.close()


def test_migrate_copies_a_sqlite_state_into_postgresql_and_export_stays_the_same(site, pg_server, sandbox: Sandbox,
                                                                                 tmp_path: Path, cli,
                                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    logs, conf, gen = site
    monkeypatch.setenv("LOGTRACK_API_KEY", KEY)
    old = tmp_path / "old.db"
    upload = host_config(conf, "web1", str(old), sandbox.port)
    write(logs / "access.log", gen.lines[:4000])
    code, _, err = cli("run", str(logs), "-c", str(upload), "--now")  # counted and posted on one server
    assert code == 0, err
    code, before, _ = cli("export", "--state", str(old))
    assert code == 0
    url = pg_server.new_database()
    code, _, err = cli("state", "migrate", "--state", str(old), "--to", url, "--host", "web1")
    assert code == 0, err
    assert "as host web1 of site default" in err and "export gives the same XML from both" in err
    code, after, _ = cli("export", "--state", url)
    assert code == 0 and after == before
    code, _, err = cli("state", "migrate", "--state", str(old), "--to", url, "--host", "web1")
    assert code == ExitCode.STATE and "holds files of host 'web1'" in err  # never twice
    # on the shared state web1 goes on where it stopped, and only what changed is posted again
    fleet = host_config(conf, "web1", url, sandbox.port)
    write(logs / "access.log", gen.lines[4000:])
    requests = sandbox.state.requests
    code, _, err = cli("run", str(logs), "-c", str(fleet), "--now")
    assert code == 0, err
    assert "resumed at line 4001" in err
    assert sandbox.views() == +gen.expected
    assert sandbox.state.requests - requests <= len({d for d, _, _ in gen.expected})


def test_a_dry_run_on_a_shared_state_changes_nothing(site, state_at: str, sandbox: Sandbox, tmp_path: Path,
                                                     cli, monkeypatch: pytest.MonkeyPatch) -> None:
    _, conf, gen = site
    monkeypatch.setenv("LOGTRACK_API_KEY", KEY)
    configs = {h: host_config(conf, h, state_at, sandbox.port) for h in HOSTS[:2]}
    for i, h in enumerate(configs):
        (tmp_path / h).mkdir()
        write(tmp_path / h / "access.log", gen.lines[i::2])
    assert cli("run", str(tmp_path / "web1"), "-c", str(configs["web1"]), "--no-upload")[0] == 0
    code, out, err = cli("run", str(tmp_path / "web2"), "-c", str(configs["web2"]), "--dry-run", "--now")
    assert code == 0, err
    docs = out.split(b'<?xml version="1.0" encoding="UTF-8"?>\n')[1:]
    got: Counter[tuple[str, str, str]] = Counter()
    for doc in docs:
        got += xml_counts(b'<?xml version="1.0" encoding="UTF-8"?>\n' + doc)
    assert got == +gen.expected  # web1's counts from the shared state, and web2's read in the dry run
    assert sandbox.state.requests == 0
    code, _, err = cli("run", str(tmp_path / "web2"), "-c", str(configs["web2"]), "--no-upload")
    assert code == 0 and "new; now at line" in err  # the dry run recorded nothing of web2's


def test_a_password_in_the_url_is_refused_and_never_shown(site, tmp_path: Path, cli) -> None:
    logs, conf, _ = site
    secret = "hunter2-Secret"
    for url in (f"postgresql://logtrack:{secret}@127.0.0.1/logtrack", f"postgresql:///logtrack?password={secret}"):
        code, out, err = cli("run", str(logs), "-c", str(conf), "--state", url, "--no-upload")
        assert code == ExitCode.CONFIG, err
        assert "holds a password" in err and "PGPASSWORD" in err and ".pgpass" in err
        assert secret not in out.decode() + err
    with_url = tmp_path / "with-url.toml"
    with_url.write_text(conf.read_text() + f'\n[state]\nurl = "postgresql://u:{secret}@db.internal/x"\n')
    code, _, err = cli("status", "-c", str(with_url))
    assert code == ExitCode.CONFIG and secret not in err and "[state] url" in err


def test_an_unreachable_postgresql_is_a_state_error_that_names_the_fix(site, tmp_path: Path, cli) -> None:
    logs, conf, _ = site
    url = f"postgresql://nobody@/x?host={tmp_path}&connect_timeout=2"  # no server listens there
    code, _, err = cli("run", str(logs), "-c", str(conf), "--state", url, "--no-upload")
    assert code == ExitCode.STATE, err
    assert err.splitlines()[-1].startswith(f"logtrack: error: the state {url} cannot be used")
    assert "check the server runs" in err and "Traceback" not in err


def test_status_shows_each_host_and_warns_of_a_silent_one(site, state_at: str, tmp_path: Path) -> None:
    from logtrack.jobs.runner import status

    _, conf, gen = site
    cfgs = {h: configured(conf, state_at, h, 9) for h in HOSTS[:2]}
    start = datetime(2026, 11, 10, 12, tzinfo=UTC)
    for i, h in enumerate(cfgs):
        (tmp_path / h).mkdir()
        write(tmp_path / h / "access.log", gen.lines[i::2])
        report = run(cfgs[h], [str(tmp_path / h)], state_at,
                     RunOptions(upload=False, clock=lambda i=i: start + timedelta(days=2 * i)))
        assert report.ingest.tally.lines == len(gen.lines[i::2])
    seen = status(state_at, cfgs["web2"], start + timedelta(days=2, hours=1))
    assert (seen.site, seen.host) == ("default", "web2")
    web1, web2 = seen.hosts
    assert (web1.host, web1.silent, web2.host, web2.silent) == ("web1", True, "web2", False)
    assert web1.last_line is not None and web1.lag is not None and web1.lag > 0
    assert web1.last_full_read == start.timestamp()


def test_a_day_changed_while_it_was_posted_stays_pending(site, state_at: str) -> None:
    """The uploader clears a day only if no host counted more of it since it read the day (the day's mark)."""
    import polars as pl

    from logtrack.jobs.site_rules import check_rules
    from logtrack.state.locate import open_state, parse
    from logtrack.state.store import State

    _, conf, _ = site
    cfg = config_mod.load(conf)
    day = date(2026, 11, 3)

    def views(n: int) -> pl.DataFrame:
        return pl.DataFrame({"day": [day], "supplier": ["Zillow"], "listing": ["42"], "views": [n]})

    with open_state(parse(state_at), Fleet(host="web1")) as web1, \
            (open_state(parse(state_at), Fleet(host="web2")) if "://" in state_at else nullcontext(
                # SQLite lets one run in at a time: web2 shares web1's connection, its queries are what is tested
                State(web1.path, web1.db, host="web2"))) as web2:  # type: ignore[attr-defined]
        for state in (web1, web2):
            check_rules(state, cfg)
        one = web1.add_file(b"web1's log\n", "access.log")
        two = web2.add_file(b"web2's log\n", "access.log")
        with web1.transaction():
            web1.advance(one.id, 11, 1, "access.log", views(1))
        assert web1.settle() == ["2026-11-03"]
        sent = web1.totals(days=["2026-11-03"])
        with web2.transaction():  # web2 counts more of the day while web1 posts it
            web2.advance(two.id, 11, 1, "access.log", views(2))
        web1.mark_posted(sent)
        web1.clean("2026-11-03")
        assert web1.settle() == ["2026-11-03"]  # still pending: flexmls has 1, the site 3
        web1.mark_posted(web1.totals(days=["2026-11-03"]))
        web1.clean("2026-11-03")
        assert web1.settle() == [] and web2.pending_days(None) == []


def test_hosts_ingest_side_by_side_and_one_host_runs_once(site, pg_server, tmp_path: Path, cli) -> None:
    """PostgreSQL: a run of web1 in progress keeps a second web1 run out, and lets web2 in."""
    from logtrack.state.locate import open_state, parse

    _, conf, gen = site
    url = pg_server.new_database()
    configs = {h: host_config(conf, h, url, None) for h in HOSTS[:2]}
    for i, h in enumerate(configs):
        (tmp_path / h).mkdir()
        write(tmp_path / h / "access.log", gen.lines[i::2])
    with open_state(parse(url), Fleet(host="web1")):  # web1's run, holding its host's lock
        code, _, err = cli("run", str(tmp_path / "web1"), "-c", str(configs["web1"]), "--no-upload",
                           "--lock-wait", "0.5")
        assert code == ExitCode.STATE and "another logtrack run of host web1 (site default)" in err, err
        code, _, err = cli("run", str(tmp_path / "web2"), "-c", str(configs["web2"]), "--no-upload",
                           "--lock-wait", "0.5")
        assert code == 0, err


def test_an_uploader_killed_while_posting_blocks_no_one(site, pg_server, sandbox: Sandbox, tmp_path: Path) -> None:
    """PostgreSQL: the upload lock is the dead uploader's connection's, and goes with it."""
    _, conf, gen = site
    url = pg_server.new_database()
    web1 = host_config(conf, "web1", url, sandbox.port)
    (tmp_path / "web1").mkdir()
    write(tmp_path / "web1" / "access.log", gen.lines)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from logtrack.config import Fleet\nfrom logtrack.state.locate import open_state, parse\n"
         f"with open_state(parse({url!r}), Fleet(host='web2')) as state, state.uploading():\n"
         "    print('posting', flush=True)\n    time.sleep(600)\n"],
        stdout=subprocess.PIPE, env={**os.environ, "TZ": "UTC"})
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"posting\n"
        holder.kill()  # SIGKILL while it holds the site's upload lock
    finally:
        holder.wait()
    code, err = finished(logtrack("run", tmp_path / "web1", "-c", web1, "--now"))
    assert code == 0, err
    assert sandbox.views() == +gen.expected


def test_a_day_waits_for_the_grace_after_midnight_on_every_host(state_at: str, sandbox: Sandbox,
                                                                  tmp_path: Path) -> None:
    conf = tmp_path / "site.toml"
    conf.write_text(loggen.config_toml("combined", SITE_TZ))
    gen, shares = down_for_two_days(5)
    last = max(d for d, _, _ in gen.expected)
    cfgs = {h: configured(conf, state_at, h, sandbox.port) for h in HOSTS[:2]}

    def go(h: str, clock: datetime) -> list[str]:
        folder = tmp_path / h
        folder.mkdir(exist_ok=True)
        if not (folder / "access.log").exists():
            write(folder / "access.log", shares[h])
        report = run(cfgs[h], [str(folder)], state_at,
                     RunOptions(api_key=KEY, ignore_window=True, clock=lambda: clock))
        assert report.upload_error is None
        return [d for d, hosts in report.held.items() if d == last for _ in hosts]

    early = end_of(last) + timedelta(minutes=2)  # inside [fleet] grace (5 min): lines may still be written
    go("web2", early)
    assert go("web1", early) == [last, last]  # both hosts began their runs too soon after the day's end
    later = end_of(last) + timedelta(minutes=6)
    assert go("web2", later) == [last]  # web1's latest run is still the early one
    assert go("web1", later) == []
    assert sandbox.views() == +xml_of(shares["web1"] + shares["web2"], conf, tmp_path)


def test_a_dry_run_or_status_on_an_empty_database_makes_nothing(site, pg_server, cli) -> None:
    import psycopg

    logs, conf, gen = site
    write(logs / "access.log", gen.lines[:500])
    url = pg_server.new_database()
    code, out, err = cli("run", str(logs), "-c", str(conf), "--state", url, "--dry-run", "--include-today")
    assert code == 0, err
    assert out.count(b"<Views ") >= 1
    code, _, err = cli("status", "-c", str(conf), "--state", url)
    assert code == ExitCode.STATE and f"no state at {url}" in err
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)


def test_a_host_gone_for_good_is_retired_and_its_views_stay(site, state_at: str, sandbox: Sandbox, tmp_path: Path,
                                                            cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGTRACK_API_KEY", KEY)
    _, conf, gen = site
    web1, web2 = (host_config(conf, h, state_at, sandbox.port) for h in HOSTS[:2])
    halves = {"web1": gen.lines[0::2], "web2": gen.lines[1::2]}
    for h, lines in halves.items():
        (tmp_path / h).mkdir()
        write(tmp_path / h / "access.log", lines)
    assert cli("run", str(tmp_path / "web1"), "-c", str(web1), "--no-upload")[0] == 0
    # web1 is decommissioned; the site's rules change, and web2 is rebuilt under them
    new_rules = "[filters]\nstatus = [200]"
    web2.write_text(web2.read_text().replace("[filters]\nstatus = [200, 304]", new_rules))
    assert cli("rebuild", str(tmp_path / "web2"), "-c", str(web2))[0] == 0
    code, _, err = cli("run", str(tmp_path / "web2"), "-c", str(web2), "--now")
    assert code == ExitCode.STATE and "web1" in err
    code, _, err = cli("state", "retire", "web9", "-c", str(web2))
    assert code == ExitCode.USAGE and "its hosts: web1, web2" in err
    code, _, err = cli("state", "retire", "web1", "-c", str(web2))
    assert code == 0 and "host web1 retired" in err, err
    code, _, err = cli("run", str(tmp_path / "web2"), "-c", str(web2), "--now")
    assert code == 0, err
    changed = tmp_path / "changed.toml"
    changed.write_text(conf.read_text().replace("[filters]\nstatus = [200, 304]", new_rules))
    expected = xml_of(halves["web1"], conf, tmp_path) + xml_of(halves["web2"], changed, tmp_path)
    assert sandbox.views() == +expected  # web1's views as it counted them, web2's under the new rules
    out = cli("status", "-c", str(web2))[1].decode()
    assert "  web1:" not in out and "  web2:" in out


def test_a_server_that_goes_down_mid_run_loses_and_doubles_nothing(site, pg_server, cli,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL stops dead while a run commits: the run ends with exit 6 and the fix, and the next run,
    once the server is back, goes on from the last commit."""
    from logtrack.read.sources import BATCH_ENV

    import servers
    from procs import lines_read

    logs, conf, _ = site  # (pg_server: skipped with its reason where PostgreSQL is missing)
    big = loggen.generate(34, 120_000, "combined", "nginx", [-6], SITE_TZ, loggen.START, 3, chronological=True)
    write(logs / "access.log", big.lines)
    monkeypatch.setenv(BATCH_ENV, "1")  # small batches: many commits
    with servers.postgres() as own:  # a server of this test's own, to stop
        url = own.new_database()
        run_cmd = ["run", str(logs), "-c", str(conf), "--state", url, "--no-upload"]
        proc = logtrack(*run_cmd)
        while lines_read(url) == 0 and proc.poll() is None:
            time.sleep(0.01)
        own.crash()
        code, err = finished(proc)
        assert code == ExitCode.STATE, err
        assert f"logtrack: error: the state {url} cannot be used" in err and "Traceback" not in err
        own.start()
        code, err = finished(logtrack(*run_cmd))
        assert code == 0, err
        code, out, err = cli("export", "--state", url)
        assert code == 0, err
        assert xml_counts(out) == big.expected


# A state as the versions before counts were kept by day left it (SQLite's migration 9, PostgreSQL's schema 1):
# the counts keyed by file, and a second index of every key by day.
_BY_FILE = {
    "sqlite": """
ALTER TABLE counts RENAME TO counts_new;
CREATE TABLE counts (file_id INTEGER NOT NULL, day TEXT NOT NULL, supplier TEXT NOT NULL, listing TEXT NOT NULL,
    views INTEGER NOT NULL, site TEXT NOT NULL DEFAULT 'default', PRIMARY KEY (file_id, day, supplier, listing))
    WITHOUT ROWID;
INSERT INTO counts (file_id, day, supplier, listing, views, site)
    SELECT file_id, day, supplier, listing, views, site FROM counts_new;
DROP TABLE counts_new;
CREATE INDEX counts_day ON counts (site, day, file_id);
DROP TABLE file_days;
PRAGMA user_version = 9
""",
    "postgres": """
ALTER TABLE counts DROP CONSTRAINT counts_pkey;
ALTER TABLE counts ADD PRIMARY KEY (file_id, day, supplier, listing);
CREATE INDEX counts_day ON counts (site, day, supplier, listing);
DROP TABLE file_days;
UPDATE logtrack_schema SET version = 1
""",
}


def test_a_state_made_before_counts_were_kept_by_day_keeps_every_count(site, state_at: str) -> None:
    """The counts moved to a table keyed by day and file (``sql.COUNT_KEY``), each file's days apart: a state
    of the layout before is brought over whole on its next open, on both backends, and works on."""
    import sqlite3

    import polars as pl

    from logtrack.jobs.site_rules import check_rules
    from logtrack.state.locate import open_state, parse

    _, conf, _ = site
    cfg = config_mod.load(conf)

    def views(rows: list[tuple[int, str, str, int]]) -> pl.DataFrame:
        return pl.DataFrame({"day": [date(2026, 11, d) for d, _, _, _ in rows], "supplier": [s for _, s, _, _ in rows],
                             "listing": [n for _, _, n, _ in rows], "views": [v for _, _, _, v in rows]})

    def seen(state) -> tuple[list[tuple[object, ...]], dict[int, set[str]], list[bool], list[str]]:
        return (state.totals().rows(), state.days_by_file(), [h.has_counts for h in state.hosts()],
                state.pending_days(None))

    with open_state(parse(state_at), Fleet(host="web1")) as state:
        check_rules(state, cfg)
        one, two = state.add_file(b"one\n", "access.log.1"), state.add_file(b"two\n", "access.log")
        with state.transaction():
            state.advance(one.id, 4, 1, "access.log.1", views([(1, "Zillow", "42", 2), (2, "", "7", 1)]))
            state.advance(two.id, 4, 1, "access.log", views([(2, "", "7", 3), (2, "Zillow", "9", 1), (3, "", "1", 1)]))
        before = seen(state)
    assert before[0] == [(date(2026, 11, 1), "Zillow", "42", 2), (date(2026, 11, 2), "", "7", 4),
                         (date(2026, 11, 2), "Zillow", "9", 1), (date(2026, 11, 3), "", "1", 1)]
    assert before[1] == {one.id: {"2026-11-01", "2026-11-02"}, two.id: {"2026-11-02", "2026-11-03"}}
    if "://" in state_at:
        import psycopg

        with psycopg.connect(state_at, autocommit=True) as conn:
            for statement in _BY_FILE["postgres"].split(";"):
                conn.execute(statement)
    else:
        with sqlite3.connect(state_at) as db:
            db.executescript(_BY_FILE["sqlite"])
    with open_state(parse(state_at), Fleet(host="web1"), readonly=True) as state:  # (a read-only open too)
        assert seen(state) == before
    with open_state(parse(state_at), Fleet(host="web1")) as state:
        with state.transaction():  # it counts on
            state.advance(two.id, 8, 2, "access.log", views([(3, "", "1", 2)]))
        assert state.totals(days=["2026-11-03"]).rows() == [(date(2026, 11, 3), "", "1", 3)]
        state.forget_counts()  # and forgets a host's counts (a rebuild) by its files' days
        assert state.totals().height == 0 and state.days_by_file() == {} and not state.hosts()[0].has_counts
