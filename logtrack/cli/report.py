"""The report command: tables, CSV, JSON or an HTML page, from logs or from the state's whole history."""

from __future__ import annotations

import errno
import io
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..config import Config
from ..errors import UsageError
from ..jobs import report_data
from ..jobs.report_data import Period
from ..output import STDOUT, write_file
from ..output import check as check_output
from .app import (
    ConfigOpt,
    NginxConfOpt,
    OutputOpt,
    PathsArg,
    PatternOpt,
    StrictOpt,
    SupplierOpt,
    TimezoneOpt,
    _config,
    _count,
    _fail_if_partial,
    _kept,
    _logs_read,
    _state_location,
    app,
    boundary,
)
from .unattended import SinceOpt, StateOpt, UntilOpt, _require

if TYPE_CHECKING:
    import polars as pl
    from rich.console import Console

    from ..count.tally import Tally
    from ..jobs.report_html import StateFacts

FORMATS = ("table", "csv", "json")
_SUFFIX = {"table": "txt", "csv": "csv", "json": "json"}  # a file name to suggest for each


@app.command()
def report(
    paths: PathsArg = None,
    config: ConfigOpt = None,
    state: StateOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    by: Annotated[list[str] | None, typer.Option(
        "--by", help="Group by day|week|month, supplier, listing (repeatable or comma-separated).")] = None,
    top: Annotated[int | None, typer.Option("--top", min=1, help="Only the N listings (or rows) with the most "
                                                                 "views.")] = None,
    output_format: Annotated[str | None, typer.Option(
        "--format", "-f", help="table (the default), csv or json.")] = None,
    output: OutputOpt = None,
    html: Annotated[Path | None, typer.Option(
        "--html", help="Also write one self-contained HTML page of charts here.")] = None,
    log_format: Annotated[str | None, typer.Option(
        "--log-format", help="The logs' format (as --format of the other commands).")] = None,
    timezone: TimezoneOpt = None,
    listing_pattern: PatternOpt = None,
    supplier: SupplierOpt = None,
    strict: StrictOpt = False,
    nginx_conf: NginxConfOpt = None,
) -> None:
    """Views by day, week or month, supplier and listing: from logs, or from the state's whole history.

    With log PATHs it reads them (as xml does); without, it reads the state
    (--state DB, else [state] path), which holds every day ever counted,
    including days whose logs are gone, and what was posted to flexmls.

    Example: logtrack report --since this-month --by week,supplier --format csv -o month.csv
    """
    with boundary():
        if output_format is not None and output_format not in FORMATS:
            raise UsageError(f"--format {output_format!r} is not one of {', '.join(FORMATS)}",
                             "the logs' own format goes in --log-format")
        check_output(output, example=f"report.{_SUFFIX[output_format or 'table']}")
        check_output(html, example="report.html")
        grouping = report_data.parse_by(by)
        from_logs = bool(paths) or nginx_conf is not None
        if from_logs and state is not None:
            raise UsageError("a report reads either logs or the state, and both were named",
                             "leave out the log paths (the state holds every day counted) or --state")
        cfg = _config(config, log_format, timezone, listing_pattern, supplier, nginx_conf, check_patterns=from_logs)
        if output or html:
            read = _logs_read(cfg, paths or []) if from_logs else []
            kept = _kept(cfg, state)
            check_output(output, example=f"report.{_SUFFIX[output_format or 'table']}", inputs=read, kept=kept)
            check_output(html, example="report.html", inputs=read, kept=kept)
        from ..jobs import runner  # (here: a report from logs never needs the state's machinery)

        today = runner.today(cfg, datetime.now(UTC))
        period = report_data.period(since, until, today)
        facts: StateFacts | None = None
        tally: Tally | None = None
        result = None
        if from_logs:
            result = _count(cfg, paths or [], strict, quiet=True)
            counts, outcomes, tally, source = result.counts, result.tally.outcomes(), result.tally, "the logs read"
        else:
            counts, outcomes, facts, source = _from_state(cfg, state, period, today)
        counts = report_data.in_period(counts, period)
        outcomes = report_data.in_period(outcomes, period)
        if html is not None:
            from ..jobs import report_html

            by_month = "month" in grouping
            write_file(html, report_html.build(counts, outcomes, period, source, by_month, facts,
                                               top or report_html.TOP), example="report.html")
        if html is None or output_format is not None or output is not None:  # --html alone: just the page
            _show(counts, tally, grouping, top, output_format or "table", output, period)
        if result is not None:
            _fail_if_partial(result)


def _from_state(cfg: Config, state: str | None, period: Period,
                today: date) -> tuple[pl.DataFrame, pl.DataFrame, StateFacts, str]:
    from ..jobs.report_html import StateFacts
    from ..state.locate import open_state

    path = _require(_state_location(state, cfg), "run `logtrack run` first, pass --state, or name log files")
    with open_state(path, cfg.settings.fleet, readonly=True) as st:
        counts = st.totals(period.since, period.until)
        outcomes = st.outcomes(period.since, period.until)
        since = datetime.combine(period.since, datetime.min.time(), UTC).timestamp() if period.since else 0.0
        facts = StateFacts(st.uploads_between(since), st.pending_days(today), st.frozen())
    return counts, outcomes, facts, f"the state {path.shown}"


def _show(counts: pl.DataFrame, tally: Tally | None, grouping: list[str], top: int | None, output_format: str,
          output: Path | None, period: Period) -> None:
    from rich.console import Console

    from ..jobs.report import render_grouped, render_report

    if output_format == "table" and not grouping and tally is not None and top is None and output is None:
        render_report(_stdout_console(), tally, counts)  # the three tables of a log report
        return
    frame = report_data.grouped(counts, grouping, top)
    example = f"report.{_SUFFIX[output_format]}"  # what a directory named as the output is told to name
    if output_format == "csv":
        write_file(output or STDOUT, report_data.for_spreadsheets(frame).write_csv().encode(), example=example)
    elif output_format == "json":
        write_file(output or STDOUT, (frame.write_json() + "\n").encode(), example=example)
    else:
        title = f"Views by {', '.join(grouping or ['day', 'supplier'])}, {period.label()}"
        listings = counts.get_column("listing").n_unique()
        if output is None:
            render_grouped(_stdout_console(), frame, title, listings)
            return
        buffer = io.StringIO()
        render_grouped(Console(file=buffer, width=120), frame, title, listings)
        write_file(output, buffer.getvalue().encode(), example=example)


def _stdout_console() -> Console:
    """rich's Console on stdout, whose reader stopping early (`| head`) the boundary tells, as for every other write.

    rich's own answer is to exit 1 without a word, the status that means a bug in logtrack.
    """
    from rich.console import Console

    class _Stdout(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))

    return _Stdout()
