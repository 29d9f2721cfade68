"""The commands of unattended use: run, export, status, rebuild, tracker-tag, sandbox.

They register on the one ``app`` of ``cli`` and share its error boundary and
options; this module only keeps cli.py a size one can read in one sitting.
"""

from __future__ import annotations

import html
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

import typer

from . import config as config_mod
from . import runner
from .cli import (
    ConfigOpt,
    FormatOpt,
    NginxConfOpt,
    PathsArg,
    PatternOpt,
    QuietOpt,
    SupplierOpt,
    TimezoneOpt,
    _config,
    _stderr,
    app,
    boundary,
)
from .config import Config
from .errors import ConfigError, InputError, StateError, UploadError
from .inputs import Hooks
from .report import summary_lines
from .state import State
from .upload import TRACKER, load_api_key

StateOpt = Annotated[
    Path | None,
    typer.Option("--state", help="State database (default: [state] path, /var/lib/logtrack/state.db for root, "
                 "else ~/.local/share/logtrack/state.db)."),
]
LockWaitOpt = Annotated[float, typer.Option("--lock-wait", help="Seconds to wait for another run to finish.")]


def _state_path(cli_value: Path | None, cfg: Config) -> Path:
    if cli_value:
        return cli_value
    if cfg.state_path:
        return Path(cfg.state_path)
    if os.geteuid() == 0:
        return Path("/var/lib/logtrack/state.db")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "logtrack" / "state.db"


@app.command("run")
def run_command(
    paths: PathsArg = None,
    config: ConfigOpt = None,
    state: StateOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the XML it would post; change nothing.")] = False,
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
    or [upload] api_key_file, never from the command line.

    Example: logtrack run /var/log/nginx --config /etc/logtrack.toml
    """
    with boundary():
        # the run compiles the listing patterns only if its state has not counted with them
        cfg = _config(config, format, timezone, listing_pattern, supplier, nginx_conf, check_patterns=False)
        options = runner.RunOptions(
            dry_run=dry_run, upload=not no_upload, ignore_window=now, include_today=include_today,
            api_key=os.environ.get("LOGTRACK_API_KEY"), lock_wait=lock_wait,
        )

        def warning(message: str) -> None:
            _stderr(f"logtrack: warning: {message}")

        report = runner.run(cfg, paths or [], _state_path(state, cfg), options, Hooks(on_warning=warning))
        if dry_run:
            for document in report.dry_run_documents:
                sys.stdout.buffer.write(document)
            sys.stdout.flush()
        if not quiet:
            for name, what in report.ingest.files:
                _stderr(f"logtrack: {name}: {what}")
            for line in summary_lines(report.ingest.tally, len(report.ingest.files)):
                _stderr(f"logtrack: {line.strip()}")
            if dry_run:
                _stderr(f"logtrack: dry run: {len(report.due)} day(s) due, {len(report.dry_run_documents)} "
                        "document(s) on stdout; nothing was changed or sent")
            elif report.deferred:
                _stderr(f"logtrack: {report.deferred}")
            elif report.posted:
                _stderr(f"logtrack: posted {len(report.posted)} day(s): {', '.join(report.posted)}")
            elif not report.due:
                _stderr("logtrack: nothing due for upload")
        if report.failures:
            raise UploadError(
                f"{len(report.failures)} day(s) could not be posted: {report.failures[0]}",
                "they stay pending and go with the next run",
            )
        _fail_if_partial_ingest(report.ingest.problems)


def _fail_if_partial_ingest(problems: list[str]) -> None:
    if problems:
        raise InputError(f"{len(problems)} input(s) could not be read in full (see the warnings above)")


@app.command()
def export(
    config: ConfigOpt = None,
    state: StateOpt = None,
    since: Annotated[str | None, typer.Option("--since", help="First day, YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Last day, YYYY-MM-DD.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
) -> None:
    """Write the cumulative counts in the state as ViewTracking XML.

    Example: logtrack export --since 2026-11-01 --until 2026-11-07 -o week.xml
    """
    with boundary():
        cfg = config_mod.load(config)
        first, last = _day(since, "--since"), _day(until, "--until")
        path = _state_path(state, cfg)
        if not path.exists():
            raise StateError(f"no state at {path}", "run `logtrack run` first, or pass --state")
        with State.open(path, readonly=True) as st:
            counts = st.totals(first, last)
        from . import viewtracking

        document = viewtracking.build(counts, cfg)
        if output is None:
            sys.stdout.buffer.write(document)
            sys.stdout.flush()
        else:
            output.write_bytes(document)


def _day(text: str | None, flag: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{flag} {text!r} is not a date", "write it as YYYY-MM-DD") from None


@app.command()
def status(config: ConfigOpt = None, state: StateOpt = None) -> None:
    """Files tracked, days pending upload, and the last upload with its result.

    Example: logtrack status --config /etc/logtrack.toml
    """
    with boundary():
        cfg = config_mod.load(config)
        path = _state_path(state, cfg)
        if not path.exists():
            raise StateError(f"no state at {path}", "run `logtrack run` first, or pass --state")
        st = runner.status(path, cfg, datetime.now(UTC))
        print(f"state:          {path}")
        print(f"files tracked:  {st.files}")
        print(f"days pending:   {len(st.pending)}" + (f" ({', '.join(st.pending)})" if st.pending else ""))
        if st.frozen:
            print(f"days frozen:    {', '.join(st.frozen)} (rebuilt without all their logs; not posted again)")
        if st.last_upload is None:
            print("last upload:    never")
        else:
            up = st.last_upload
            when = datetime.fromtimestamp(up.at, UTC).strftime("%Y-%m-%d %H:%M UTC")
            print(f"last upload:    {when}, {'accepted' if up.ok else 'failed'}: {up.message}")
        if st.stale:
            print("warning:        nothing was accepted by flexmls for more than 3 days; it asks for data "
                  "every 1 to 3 days")


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
        report = runner.rebuild(cfg, paths or [], _state_path(state, cfg), lock_wait)
        for line in summary_lines(report.ingest.tally, len(report.ingest.files)):
            _stderr(f"logtrack: {line.strip()}")
        if report.lost_days:
            _stderr(f"logtrack: warning: {len(report.lost_days)} day(s) can no longer be rebuilt (their logs are "
                    f"gone): {', '.join(report.lost_days)}; they will not be posted again")


@app.command("tracker-tag")
def tracker_tag(
    listing_id: Annotated[str, typer.Argument(help="The listing's id.")],
    config: ConfigOpt = None,
    reveal_key: Annotated[bool, typer.Option("--reveal-key", help="Put the real key in the tag.")] = False,
) -> None:
    """Print the <img> tag of the flexmls tracking image for a listing.

    The key is a placeholder unless --reveal-key puts the real one in (from
    LOGTRACK_API_KEY or [upload] api_key_file): the tag is for your page
    template, and logtrack prints the key nowhere else.

    Example: logtrack tracker-tag 20231234 --reveal-key >> listing-footer.html
    """
    with boundary():
        cfg = config_mod.load(config)
        key = load_api_key(os.environ.get("LOGTRACK_API_KEY"), cfg.api_key_file) if reveal_key else "YOUR_API_KEY"
        src = TRACKER.format(listing_id=quote(listing_id, safe=""), api_key=quote(key, safe=""))
        print(f'<img src="{html.escape(src)}" width="1" height="1" alt="" style="position:absolute;left:-9999px">')


@app.command()
def sandbox(
    api_key: Annotated[str, typer.Option("--api-key", help="The key the sandbox accepts.")],
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0: any free one).")] = 8089,
    fail_first: Annotated[int, typer.Option("--fail-first", help="Answer 500 to the first N posts.")] = 0,
    data: Annotated[Path | None, typer.Option("--data", help="Keep what was posted in this folder.")] = None,
) -> None:
    """Run a local server that behaves like the flexmls ViewTracking endpoint.

    Point [upload] endpoint at it to try a setup: http://127.0.0.1:8089/tracking/v1/listings/views/{api_key}/

    Example: logtrack sandbox --api-key test-key --fail-first 2
    """
    from .sandbox import SandboxState, make_server  # only this command needs http.server

    with boundary():
        st = SandboxState(api_key, fail_first, data)
        st.load()
        server = make_server(host, port, st)
        bound = server.server_address[1]
        print(f"logtrack sandbox on http://{host}:{bound}/ (views at /_sandbox/views); Ctrl-C stops it", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
