"""The commands of unattended use: run, export, status, rebuild, tracker-tag, sandbox.

They register on the one ``app`` of ``cli`` and share its error boundary and
options; this module only keeps cli.py a size one can read in one sitting.
"""

from __future__ import annotations

import html
import math
import os
import re
import sys
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import quote

import typer

from .. import config as config_mod
from ..errors import InputError, OutputError, StateError, UploadError, UsageError, days_listed
from ..flexmls.upload import TRACKER, in_url, key_status, load_api_key
from ..jobs.report import summary_lines
from ..jobs.report_data import period
from ..output import STDOUT, write_file, write_into
from ..output import check as check_output
from ..read.inputs import Hooks
from ..state.locate import Location, open_state, parse
from .app import (
    ConfigOpt,
    FormatOpt,
    NginxConfOpt,
    OutputOpt,
    PathsArg,
    PatternOpt,
    QuietOpt,
    SupplierOpt,
    TimezoneOpt,
    _config,
    _kept,
    _say_config,
    _state_location,
    _stderr,
    _width,
    app,
    boundary,
    fail_if_suspect,
)

if TYPE_CHECKING:
    from ..jobs import runner
    from ..jobs.ingest import IngestReport

StateOpt = Annotated[
    str | None,
    typer.Option("--state", help="State: a SQLite file or sqlite:///PATH, or postgresql://USER@HOST/DB for a fleet "
                 "(default: [state] url or path, /var/lib/logtrack/state.db for root, "
                 "else ~/.local/share/logtrack/state.db)."),
]
SinceOpt = Annotated[str | None, typer.Option(
    "--since", help="First day: YYYY-MM-DD, today, yesterday, 7d, this-week, last-month, ...")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="Last day, written as --since.")]


def _seconds(value: float) -> float:
    """A wait: a number of seconds, 0 or more (NaN waited forever, a negative one was said as "waited -1 s")."""
    if not math.isfinite(value) or value < 0:
        raise typer.BadParameter(f"{value} is not a number of seconds; give 0 or more, e.g. 60")
    return value


LockWaitOpt = Annotated[float, typer.Option("--lock-wait", help="Seconds to wait for another run to finish.",
                                            callback=_seconds)]


def _require(where: Location, fix: str = "run `logtrack run` first, or pass --state") -> Location:
    """``where``, if a state is there (a PostgreSQL one is asked when it is opened)."""
    if not where.exists():
        raise StateError(f"no state at {where.shown}", fix)
    return where


@app.command("run")
def run_command(
    paths: PathsArg = None,
    config: ConfigOpt = None,
    state: StateOpt = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Show the documents it would post (stdout, or one file each with -o DIR); change nothing."
    )] = False,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="With --dry-run: a directory to write each document into, one file per post."
    )] = None,
    no_upload: Annotated[bool, typer.Option("--no-upload", help="Ingest only.")] = False,
    now: Annotated[bool, typer.Option("--now", help="Post even outside the posting window.")] = False,
    include_today: Annotated[bool, typer.Option("--include-today", help="Post today's partial counts too.")] = False,
    lock_wait: LockWaitOpt = 60.0,
    format: FormatOpt = None,
    timezone: TimezoneOpt = None,
    listing_pattern: PatternOpt = None,
    supplier: SupplierOpt = None,
    nginx_conf: NginxConfOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Count what is new in the logs, exactly once, and post the days that are due.

    For logrotate's postrotate and cron. The API key comes from LOGTRACK_API_KEY
    or [upload] api_key_file, never from the command line; it is checked at the
    start of every run (--no-upload: only count).

    Example: logtrack run /var/log/nginx --config /etc/logtrack.toml
    """
    with boundary():
        if output is not None and not dry_run:
            raise UsageError("-o/--output goes with --dry-run", "add --dry-run, or leave -o out")
        if output is not None and output.exists() and not output.is_dir():
            raise OutputError(f"cannot write into {output}: it is not a directory",
                              "name a directory for the documents (it is made if missing)")
        # the run compiles the listing patterns only if its state has not counted with them
        cfg = _config(config, format, timezone, listing_pattern, supplier, nginx_conf, check_patterns=False)
        from ..jobs import runner  # (here, not at the top: ``xml`` never needs the state's machinery)

        options = runner.RunOptions(
            dry_run=dry_run, upload=not no_upload, ignore_window=now, include_today=include_today,
            api_key=os.environ.get("LOGTRACK_API_KEY"), lock_wait=lock_wait,
        )

        def warning(message: str) -> None:
            _stderr(f"logtrack: warning: {message}")

        def notice(message: str) -> None:  # news, not problems: --quiet (cron) keeps them out of the mail
            if not quiet:
                _stderr(f"logtrack: {message}")

        _say_config(cfg, quiet)
        if not paths and not cfg.settings.nginx_conf:  # (a fleet's host that only posts may mean it; a typo not)
            does = ("only shows what is due" if dry_run else "does nothing" if no_upload
                    else "only posts what is due")
            notice(f"no logs named, so none are read: this run {does} (name the access logs, their directory, or "
                   "--nginx-conf, to count them)")

        def ingested(report: runner.RunReport) -> None:
            if quiet:
                return
            for name, what in report.ingest.files:
                _stderr(f"logtrack: {name}: {what}")
            for line in summary_lines(report.ingest.tally, len(report.ingest.files), width=_width()):
                _stderr(line)

        report = runner.run(cfg, paths or [], _state_location(state, cfg), options,
                            Hooks(on_warning=warning, on_notice=notice), on_ingested=ingested)
        if dry_run:
            _show_dry_run(report.dry_run_posts, output, quiet)
        if not quiet:
            if dry_run:
                _stderr(f"logtrack: dry run: {len(report.due)} day(s) due, {len(report.dry_run_posts)} "
                        f"document(s) {'in ' + str(output) if output else 'on stdout'}; nothing was changed or sent")
            elif report.deferred:
                _stderr(f"logtrack: {report.deferred}")
            elif report.posted:
                _stderr(f"logtrack: posted {len(report.posted)} day(s): {days_listed(report.posted)}")
            elif not report.due and not no_upload and report.upload_error is None:
                _stderr("logtrack: nothing due for upload")
            for hosts, days in _held(report.held).items():
                _stderr(f"logtrack: {days_listed(days)} wait(s) for host(s) {', '.join(hosts)} to read all of their "
                        "logs past the day's end (their next run; [fleet] host_timeout stops the wait)")
        if report.upload_error is not None:
            raise report.upload_error
        if report.failures:
            # (each reason once: a proxy that answers every post alike would fill the line with copies)
            reasons = Counter(report.failures)
            said = "; ".join(f"{why} ({n} days)" if n > 1 else why for why, n in reasons.items())
            raise UploadError(
                f"{len(report.failures)} day(s) could not be posted: {said}",
                "they stay pending and go with the next run",
            )
        _fail_if_partial_ingest(report.ingest)


def _held(held: dict[str, list[str]]) -> dict[tuple[str, ...], list[str]]:
    """The days waiting for other hosts, grouped by the hosts they wait for."""
    out: dict[tuple[str, ...], list[str]] = {}
    for day, hosts in held.items():
        out.setdefault(tuple(hosts), []).append(day)
    return out


def _fail_if_partial_ingest(report: IngestReport) -> None:
    if n := len(report.problems):
        raise InputError(f"{n} input{'s' if n != 1 else ''} could not be read in full (see the warnings above)")
    fail_if_suspect(report.suspect)


def _show_dry_run(posts: list[runner.Post], folder: Path | None, quiet: bool) -> None:
    """Each document as it would be posted: on stdout behind a separator on stderr, or one file each."""
    for n, post in enumerate(posts, 1):
        what = (f"post {n} of {len(posts)}: {days_listed(post.days)}; "
                f"{', '.join(s or '(Other)' for s in post.suppliers)}; {post.listings:,} listing(s)")
        if folder is not None:
            path = write_into(folder, f"post-{n:03d}-{post.days[0]}.xml", post.document())
            if not quiet:
                _stderr(f"logtrack: dry run: {what}: {path}")
        else:
            if not quiet:
                _stderr(f"logtrack: ---- dry run: {what} ----")
            sys.stdout.buffer.write(post.document())
            sys.stdout.flush()


@app.command()
def export(
    config: ConfigOpt = None,
    state: StateOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    output: OutputOpt = None,
) -> None:
    """Write the cumulative counts in the state as ViewTracking XML.

    Example: logtrack export --since last-week --until last-week -o week.xml
    """
    with boundary():
        cfg = config_mod.load(config_mod.find(config, os.environ))
        from ..jobs import runner

        days = period(since, until, runner.today(cfg, datetime.now(UTC)))
        path = _require(_state_location(state, cfg))
        check_output(output, kept=_kept(cfg, state))
        with open_state(path, cfg.settings.fleet, readonly=True) as st:
            counts = st.totals(days.since, days.until, whole=False)
        from ..flexmls import viewtracking

        # (written as it is made: a year of a busy site's counts is a document of 500 MB)
        write_file(output or STDOUT, viewtracking.chunks(counts, cfg, check=False))



@app.command()
def status(config: ConfigOpt = None, state: StateOpt = None) -> None:
    """Whether the state is intact, what the next upload posts, and how the last ones went.

    Example: logtrack status --config /etc/logtrack.toml
    """
    with boundary():
        cfg = config_mod.load(config_mod.find(config, os.environ))
        path = _require(_state_location(state, cfg))
        now = datetime.now(UTC)
        from ..jobs import runner

        st = runner.status(path, cfg, now)
        print(f"state:          {st.where} (intact)")
        if cfg.source != config_mod.DEFAULTS:
            print(f"config:         {cfg.source}")
        print(f"files tracked:  {st.files}")
        print(f"views today:    {st.today:,} so far; yesterday {st.yesterday:,}")
        if st.last_7_days:
            shown = ", ".join(f"{s or '(Other)'} {v:,}" for s, v in st.last_7_days)
            print(f"last 7 days:    {sum(v for _, v in st.last_7_days):,} ({shown})")
        print(f"days pending:   {len(st.pending)}" + (f" ({days_listed(st.pending)})" if st.pending else ""))
        if st.frozen:
            print(f"days frozen:    {days_listed(st.frozen)} (not posted again: flexmls keeps what it was sent; "
                  "`logtrack state thaw DAY` posts one again)")
        if st.last_accepted is None:
            print("last accepted:  never")
        else:
            up = st.last_accepted
            print(f"last accepted:  {_when(up.at)} ({days_listed(up.days)})")
        if st.last_attempt is not None:
            up = st.last_attempt
            print(f"last attempt:   {_when(up.at)}, failed ({days_listed(up.days)}): {up.message}")
        if len(st.hosts) > 1 or path.url or cfg.settings.fleet != config_mod.Fleet():  # a fleet, or set up as one
            _print_hosts(st, now)
        ok, how = key_status(os.environ.get("LOGTRACK_API_KEY"), cfg.settings.api_key_file)
        print(f"upload key:     {'ok, ' + how if ok else 'cannot authenticate: ' + how}")
        if st.stale_since is not None:
            since = "the last accepted upload" if st.last_accepted else "the state was made"
            print(f"warning:        nothing was accepted by flexmls since {since} ({_when(st.stale_since.timestamp())})"
                  "; it asks for data every 1 to 3 days")


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _print_hosts(st: runner.Status, now: datetime) -> None:
    """Each host of the site: its last run, the latest line it read and how far behind that is."""
    print(f"site:           {st.site} (this host: {st.host}; {len(st.hosts)} host(s))")
    for h in st.hosts:
        run = _when(h.last_run) if h.last_run is not None else "never finished"
        line = "no lines yet" if h.last_line is None else f"lines up to {_when(h.last_line)} (lag {_span(h.lag or 0)})"
        print(f"  {h.host}: last run {run}; {line}")
        if h.silent:
            print(f"warning:        host {h.host} has not read all of its logs since {_when(h.last_full_read)} "
                  f"({_span(now.timestamp() - h.last_full_read)} ago, past [fleet] host_timeout): days go out "
                  "without its views until it catches up")
        if h.rules_differ:
            print(f"warning:        host {h.host} counted under other rules than the site's: nothing is posted "
                  f"until `logtrack rebuild` runs on it")


def _span(seconds: float) -> str:
    minutes = int(max(0.0, seconds) // 60)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    return f"{days} d {hours} h" if days else f"{hours} h {minutes} min" if hours else f"{minutes} min"


@app.command()
def rebuild(
    paths: PathsArg = None,
    config: ConfigOpt = None,
    state: StateOpt = None,
    lock_wait: LockWaitOpt = 60.0,
    nginx_conf: NginxConfOpt = None,
) -> None:
    """Recount everything from the logs still present, under the current rules.

    Example: logtrack rebuild /var/log/nginx --config /etc/logtrack.toml
    """
    with boundary():
        cfg = _config(config, None, None, None, None, nginx_conf)
        _say_config(cfg)
        from ..jobs import runner

        report = runner.rebuild(cfg, paths or [], _state_location(state, cfg), lock_wait)
        for line in summary_lines(report.ingest.tally, len(report.ingest.files), width=_width()):
            _stderr(line)
        if report.lost_days:
            _stderr(f"logtrack: warning: {len(report.lost_days)} day(s) can no longer be rebuilt (their logs are "
                    f"gone): {days_listed(report.lost_days)}; they will not be posted again")


state_app = typer.Typer(help="Work on the state itself: copy it into PostgreSQL for a fleet, retire a host, "
                             "thaw frozen days.", no_args_is_help=True)
app.add_typer(state_app, name="state")


@state_app.command("migrate")
def state_migrate(
    to: Annotated[str, typer.Option("--to", help="The state to copy into: postgresql://USER@HOST/DB "
                                    "(the password from PGPASSWORD, ~/.pgpass or a service file).")],
    config: ConfigOpt = None,
    state: StateOpt = None,
    host: Annotated[str | None, typer.Option(
        "--host", help="The host the copied files and counts belong to (default: [fleet] host, else the "
                       "state's own host).")] = None,
    lock_wait: LockWaitOpt = 60.0,
) -> None:
    """Copy a SQLite state (files read, counts, posts, uploads, frozen days) into PostgreSQL under a host name.

    Run it once on each server that joins a fleet, before its first run on the
    shared state; export gives the same XML before and after.

    Example: logtrack state migrate --to postgresql://logtrack@db.internal/logtrack --host web1
    """
    from ..jobs.migrate import migrate

    with boundary():
        cfg = config_mod.load(config_mod.find(config, os.environ), check_patterns=False)
        source = _state_location(state, replace(cfg, settings=replace(cfg.settings, state_url=None)))
        report = migrate(source, parse(to, "--to"), cfg.settings.fleet, host, lock_wait)
        same = {True: "; export gives the same XML from both", False: "", None: ""}[report.same_export]
        if report.same_export is False:
            raise StateError(f"the copy in {parse(to).shown} does not hold the same totals as {source.shown}",
                             "this is a bug: report it, with --debug")
        _stderr(f"logtrack: copied {source.shown} into {parse(to).shown} as host {report.host} of site "
                f"{report.site}: {report.files} file(s), {report.views:,} views on {report.days} day(s){same}")
        if report.same_export is None:
            _stderr("logtrack: the site holds other hosts' counts too: the next upload posts the new sums")


@state_app.command("retire")
def state_retire(
    host: Annotated[str, typer.Argument(help="The host of the site to retire, as `logtrack status` names it.")],
    config: ConfigOpt = None,
    state: StateOpt = None,
    lock_wait: LockWaitOpt = 60.0,
) -> None:
    """Retire a host that is gone for good: uploads stop waiting for it and checking its rules.

    Its views stay in the site's sums as they were counted (they were real
    views); it is no longer waited for, warned about, or asked to rebuild
    after the rules change. Should it run again, it goes on where it stopped.

    Example: logtrack state retire web3 --config /etc/logtrack.toml
    """
    with boundary():
        cfg = config_mod.load(config_mod.find(config, os.environ), check_patterns=False)
        where = _require(_state_location(state, cfg))
        with open_state(where, cfg.settings.fleet, lock_wait=lock_wait) as st:
            if not st.retire(host):
                known = ", ".join(h.host for h in st.hosts()) or "none"
                raise UsageError(f"no host {host!r} in site {st.site!r} of {st.name} (its hosts: {known})",
                                 "name a host as `logtrack status` lists it")
        _stderr(f"logtrack: host {host} retired from site {cfg.settings.fleet.site}: its views stay in the sums as "
                "they were counted; uploads no longer wait for it")


@state_app.command("thaw")
def state_thaw(
    days: Annotated[list[str], typer.Argument(
        help="The frozen days, as `logtrack status` lists them: 2026-11-01, or 2026-11-01 to 2026-11-05.",
        show_default=False)],
    config: ConfigOpt = None,
    state: StateOpt = None,
    lock_wait: LockWaitOpt = 60.0,
) -> None:
    """Post frozen days again, from the counts the state holds now.

    A day is frozen when flexmls must keep what it was sent: a rebuild could
    not recount it (some of its logs were gone), or a post would leave a
    renamed supplier's old View beside the new one. Once its logs are back
    (restore them, then `logtrack rebuild` with them), or if you accept its
    counts as they stand, thaw it: the next run in the posting window posts
    it where it differs from what flexmls has. A day that would still count a
    renamed supplier twice is frozen again by that run, and said.

    Example: logtrack state thaw 2026-11-01 to 2026-11-05 --config /etc/logtrack.toml
    """
    from ..jobs.thaw import thaw

    with boundary():
        cfg = config_mod.load(config_mod.find(config, os.environ), check_patterns=False)
        report = thaw(_require(_state_location(state, cfg)), cfg.settings.fleet, days, lock_wait)
        if report.not_frozen:
            _stderr(f"logtrack: warning: {days_listed(report.not_frozen)}: not frozen, left as they are")
        _stderr(f"logtrack: thawed {days_listed(report.thawed)}: the next run in the posting window posts "
                "them where they differ from what flexmls has"
                + (f"; still frozen: {days_listed(report.frozen)}" if report.frozen else ""))


@app.command("tracker-tag")
def tracker_tag(
    listing_id: Annotated[str, typer.Argument(help="The listing's id, or with --template your template's "
                                                   "placeholder for it, e.g. '{{ listing.id }}'.")],
    config: ConfigOpt = None,
    reveal_key: Annotated[bool, typer.Option("--reveal-key", help="Put the real key in the tag.")] = False,
    template: Annotated[bool, typer.Option(
        "--template", help="LISTING_ID is a template placeholder: leave it exactly as written.")] = False,
) -> None:
    """Print the <img> tag of the flexmls tracking image for a listing.

    The key is a placeholder unless --reveal-key puts the real one in (from
    LOGTRACK_API_KEY or [upload] api_key_file): the tag is for your page
    template, and logtrack prints the key nowhere else. A real id is
    percent-encoded; a placeholder (--template) is left as written, for the
    template engine to fill.

    Example: logtrack tracker-tag '{{ listing.id }}' --template --reveal-key >> listing-footer.html
    """
    with boundary():
        if not listing_id.strip():
            raise UsageError("the listing id is empty", "give the listing's id, or your template's placeholder "
                             "for it with --template")
        if not template and _PLACEHOLDER.search(listing_id):
            raise UsageError(f"{listing_id!r} looks like a template placeholder, and would be percent-encoded",
                             "add --template to leave it as written")
        cfg = config_mod.load(config_mod.find(config, os.environ))
        key = (load_api_key(os.environ.get("LOGTRACK_API_KEY"), cfg.settings.api_key_file) if reveal_key
               else "YOUR_API_KEY")
        marker = "LOGTRACK-LISTING-ID"  # the placeholder goes in after escaping, so that it stays as written
        src = TRACKER.format(listing_id=marker if template else quote(listing_id, safe=""),
                             api_key=in_url(key))
        tag = f'<img src="{html.escape(src)}" width="1" height="1" alt="" style="position:absolute;left:-9999px">'
        print(tag.replace(marker, listing_id) if template else tag)


# {{ x }}, {% x %}, {{{ x }}}, <%= x %>, <?= $x ?>, ${x}, [[x]]: what template engines fill in
_PLACEHOLDER = re.compile(r"\{\{|\{%|<%|<\?|\$\{|\[\[")


@app.command()
def sandbox(
    api_key: Annotated[str, typer.Option("--api-key", help="The key the sandbox accepts.")],
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0: any free one).", min=0, max=65535)] = 8089,
    fail_first: Annotated[int, typer.Option("--fail-first", help="Answer 500 to the first N posts.", min=0)] = 0,
    data: Annotated[Path | None, typer.Option("--data", help="Keep what was posted in this folder.")] = None,
) -> None:
    """Run a local server that behaves like the flexmls ViewTracking endpoint.

    Point [upload] endpoint at it to try a setup: http://127.0.0.1:8089/tracking/v1/listings/views/{api_key}/

    Example: logtrack sandbox --api-key test-key --fail-first 2
    """
    from ..flexmls.sandbox import SandboxState, make_server  # only this command needs http.server

    with boundary():
        st = SandboxState(api_key, fail_first, data, log=lambda line: print(line, file=sys.stderr, flush=True))
        st.load()
        try:
            server = make_server(host, port, st)
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                             "choose another --port (0 takes any free one) or --host") from None
        bound = server.server_address[1]
        print(f"logtrack sandbox on http://{host}:{bound}/ (views at /_sandbox/views); Ctrl-C stops it", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
