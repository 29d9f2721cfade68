"""The stateless preview: every input read and counted, nothing kept (``logtrack xml``, ``report``, ``explain``).

``count`` is the one library call behind ``logtrack xml`` and ``report``;
the batches are counted by ``count.batch``, as the unattended run counts them.
"""

from __future__ import annotations

import functools
import glob
import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import polars as pl

from .. import formats, frames
from ..config import Config
from ..count.aggregate import day_expr
from ..count.batch import count_again, count_batch, count_files, held_to_alone, judged
from ..count.classify import Classifier
from ..count.tally import BatchSummary, DateDoubts, FileAccount, Tally
from ..errors import InputError, UnrecognisedError
from ..formats import LogFormat
from ..parse.detect import FilesJudge, checked, defers_misfit, detect, file_format, sample_frame
from ..parse.fields import lines_frame, parse_lines
from ..read import files, sources, twins, w3c_sections
from ..read.ahead import Held, InTurn, Opened, Place, read_ahead, through
from ..read.inputs import AUTO, WORKERS, Hooks, Input, in_order, plan
from ..read.joined import Joining, one_of
from ..verdicts.reasons import Skip


@dataclass(frozen=True)
class _Job:
    """A piece of the work, handed out and back in the files' order."""


@dataclass(frozen=True)
class _Batch(_Job):
    """A batch of a file and its format; or, closing the file, no batch, and the error that ended it if one did."""

    item: Input
    batch: sources.Batch | None = None
    fmt: LogFormat | None = None
    error: InputError | None = None


@dataclass(frozen=True)
class _Joined(_Job):
    """Whole files, each read in one batch, in one format: counted as one batch (``count_files``).

    ``data``: their lines, joined; their batches keep no data of their own (the memory of one batch, not two).
    """

    files: list[tuple[Input, sources.Batch]]
    fmt: LogFormat
    data: bytes


@dataclass
class Result:
    tally: Tally
    formats: dict[str, str] = field(default_factory=dict)  # file -> format chosen
    problems: list[str] = field(default_factory=list)  # inputs that could not be read (whole or part)
    suspect: list[str] = field(default_factory=list)  # files read whole, most of their lines damaged
    files: int = 0  # files read, whole or in part (an empty one too: it was read, and held nothing)

    @property
    def counts(self) -> pl.DataFrame:
        return self.tally.counts()


def count(config: Config, paths: Sequence[str], *, strict: bool = False, hooks: Hooks | None = None,
          leave_out: Sequence[str] = ()) -> Result:
    """Read every input and count listing views; raise on damaged lines if strict.

    Batches are parsed and classified on a small thread pool (Polars releases
    the GIL, so both cores work) and folded into the tally in file order, with
    at most ``READ_AHEAD`` batches waiting, so memory stays flat. A file that
    cannot be read is reported in ``Result.problems`` and the others go on.
    ``leave_out``: files never read (``read.inputs.plan``).
    """
    hooks = hooks or Hooks()
    config.require_patterns()
    if config.rules.format != AUTO:
        formats.get(config.rules.format)  # a bad format is an error before any log is read
    planned: list[str] = []  # (said once the messages' order is kept, below)
    inputs, problems = plan(config, paths, note=planned.append, leave_out=leave_out)
    if (copied := twins.copies([item.name for item in inputs])):
        left = {name for _, name in copied}
        inputs = [item for item in inputs if item.name not in left]
        planned += [f"{name}: not read: a copy of {kept} (its lines are all {kept}'s, or the first of them), so "
                    f"they are counted once, from {kept}" for kept, name in copied]
    if not inputs and config.settings.nginx_conf and not paths:
        raise _nothing_from_nginx_conf(config.settings.nginx_conf)
    if not inputs:
        raise InputError(
            "no log files to read" + (f": {'; '.join(problems)}" if problems else ""),
            "name access logs, a directory holding them, or --nginx-conf",
        )
    result = Result(Tally())
    classifier = Classifier(config.rules)
    # ``auto`` gives small files read ahead their formats on trust, each confirmed by its own counting (not
    # under --strict, which stops at a file's first damaged line); what is said waits for their format lines
    judge = FilesJudge(trust=not strict)
    turn = InTurn()
    pending: dict[str, tuple[LogFormat, Place]] = {}  # file -> its format on trust, and its format line's place
    read_as: dict[str, LogFormat] = {}  # file -> the format its lines are read in
    doubts = DateDoubts()
    zones = config.rules.timezone, config.rules.log_timezone

    def work(job: _Job) -> BatchSummary | list[BatchSummary] | None:
        rules = config.rules
        if isinstance(job, _Joined):
            parts = [batch for _, batch in job.files]
            return judged(count_files(parts, job.fmt, classifier, rules.timezone, strict=strict,
                                      log_timezone=rules.log_timezone, data=job.data),
                          job.fmt, parts, job.data, [judged_later(item, job.fmt, batch) for item, batch in job.files])
        assert isinstance(job, _Batch)
        if job.batch is None or job.fmt is None:  # (a file's end: nothing to count)
            return None
        summary = count_batch(job.batch, job.fmt, classifier, rules.timezone, strict=strict,
                              log_timezone=rules.log_timezone)
        return judged([summary], job.fmt, [job.batch], None, [judged_later(job.item, job.fmt, job.batch)])[0]

    def counted(job: _Job) -> BatchSummary | list[BatchSummary] | None:
        """``work`` on the job, its queries on the worker's own thread (``frames.alone``); a file's end as it is."""
        if isinstance(job, _Batch) and (job.batch is None or job.fmt is None):
            return None  # (a file's end: nothing to count, and no query to run)
        return frames.alone(lambda: work(job))

    def judged_later(item: Input, fmt: LogFormat, batch: sources.Batch) -> bool:
        """Whether the file's format was named (not detected) and whether it reads what the lines hold
        (``misfit``) is judged with the counting of its first batch, on the pool, rather than when it is
        opened, on the main thread (``count.batch.judged``). Not under ``--strict``, which may stop at
        the file's first damaged line: that note then comes first, as it may tell why."""
        return item.format is not None and not strict and batch.first_line == 1 and defers_misfit(fmt)

    def jobs() -> Iterator[_Job]:
        """Every file's batches in turn, each file closed by a job without one (with the error that ended it,
        if one did): the pool works ahead across files, so a directory of small files (one batch each: five
        minutes of an ALB, an hour of Azure Front Door) keeps both cores busy, not one file at a time.

        Files read whole in one batch are counted together, as one batch of up to a batch's size, while
        their format is the same (``_Joined``): a batch costs its queries some 8 ms however few its lines,
        most of a small file's time. A file's first batch, when short enough to be its last, is held until
        its reader says whether it was the whole file; everything goes out in the files' order."""
        joining: Joining[Input] = Joining()

        def flush() -> Iterator[_Job]:
            if (taken := joining.take()) is not None:
                yield _Joined(*taken)

        for item, opened in read_ahead(inputs, open_, auto, judge):
            held: tuple[sources.Batch, LogFormat] | None = None  # the file's first batch, while it may be all
            try:
                for batch, fmt in read(item, opened):
                    if held is None and batch.first_line == 1 and joining.may_hold(batch, fmt):
                        held = batch, fmt
                        continue
                    yield from flush()
                    if held is not None:
                        yield _Batch(item, *held)
                        held = None
                    yield _Batch(item, batch, fmt)
            except InputError as exc:  # what was read before it still counts
                yield from flush()
                if held is not None:
                    yield _Batch(item, *held)
                yield _Batch(item, error=exc)
                continue
            if held is None:
                yield from flush()
                yield _Batch(item)
                continue
            if not joining.fits(*held):
                yield from flush()
            joining.add(item, *held)
        yield from flush()

    def auto(item: Input) -> bool:
        """Whether the file is read ahead: its format is for ``auto`` to judge (a stream is read as it comes)."""
        return item.format is None and not files.is_stream(item.name)

    def open_(item: Input, held: Held | None = None) -> Iterator[sources.Batch]:
        return sources.batches(item.name, warn=through(held, warn), note=through(held, note))

    def read(item: Input, opened: Opened | None) -> Iterator[tuple[sources.Batch, LogFormat]]:
        """The file's batches, each with the file's format (detected from the first one, or with the files
        read ahead with it)."""
        fmt = item.format
        batches = opened.batches if opened is not None else open_(item)
        for batch in batches:
            if fmt is None and opened is not None and opened.format is not None:  # judged with the files read ahead
                fmt = opened.format
                if batch.source in judge.trusted:  # on trust: said once its counting holds it to it (``confirmed``)
                    pending[item.name] = fmt, turn.hold()
                else:
                    chosen(item, fmt, checked(fmt, item.name, config.rules.vhosts, from_start=True))
            elif fmt is not None and judged_later(item, fmt, batch):
                chosen(item, fmt, checked(fmt, item.name, config.rules.vhosts, from_start=True))
            else:
                fmt, notes = file_format(fmt, sample_frame(batch), item.name, config.rules.vhosts, from_start=True)
                chosen(item, fmt, notes)
            # the first batch has told the format; a W3C log's headers may change it further on
            yield from w3c_sections.follow(itertools.chain([batch], batches), fmt)
            return

    def chosen(item: Input, fmt: LogFormat, notes: Sequence[str], place: Place | None = None) -> None:
        """The file's format line and notes said: now, or in ``place`` (held when the file was read)."""
        result.formats[item.name] = fmt.name
        read_as[item.name] = fmt
        said: list[Callable[[], None]] = []
        if hooks.on_format:
            said.append(functools.partial(hooks.on_format, item.name, fmt))
        if hooks.on_warning:  # notes: said, not problems: the lines are read as the config says
            said.extend(functools.partial(hooks.on_warning, message) for message in notes)
        if place is not None:
            turn.fill(place, said)
            return
        for say in said:
            turn.say(say)

    def confirmed(item: Input, batch: sources.Batch, summary: BatchSummary,
                  whole: Callable[[], sources.Batch]) -> list[tuple[sources.Batch, BatchSummary]]:
        """A file given its format on trust (``FilesJudge``), counted, held to what ``detect`` alone gives it
        (``held_to_alone``): kept, counted again in another format, or refused. Its format line, or what
        refuses it, is said in its place."""
        fmt, place = pending.pop(item.name)
        try:
            found, notes, again = held_to_alone(fmt, summary, whole, item.name, config.rules.vhosts)
        except InputError as exc:
            result.problems.append(str(exc))
            turn.fill(place, [functools.partial(hooks.on_warning, str(exc))] if hooks.on_warning else [])
            return []
        chosen(item, found, notes, place)
        if again is None:
            return [(batch, summary)]
        return [(part, part_summary) for part, _, part_summary in count_again(
            again, found, classifier, config.rules.timezone, strict=strict, log_timezone=config.rules.log_timezone)]

    def note(message: str) -> None:
        if hooks.on_warning:
            turn.say(functools.partial(hooks.on_warning, message))

    def warn(message: str) -> None:
        result.problems.append(message)
        note(message)

    for problem in problems:
        warn(problem)
    for message in planned:
        note(message)
    if hooks.on_plan:
        hooks.on_plan(inputs)

    done_bytes = 0  # of this file, counted: progress is what was counted, not what was read ahead
    account = FileAccount()

    def fold(item: Input, batch: sources.Batch, summary: BatchSummary) -> None:
        nonlocal done_bytes
        for message in summary.notes:  # (said, as ``read`` says its notes)
            note(message)
        result.tally.add(summary)
        account.add(summary)
        if hooks.on_progress:
            hooks.on_progress(item.name, max(batch.end_offset - done_bytes, 0), summary.lines)
        done_bytes = max(done_bytes, batch.end_offset)

    def close(item: Input, error: InputError | None) -> None:
        nonlocal done_bytes, account
        if error is None or item.name in result.formats:
            result.files += 1
        if error is not None:  # what was read before it was counted
            if strict:
                raise error
            warn(str(error))
        if damaged := account.mostly_damaged(item.name):
            result.suspect.append(damaged)  # exit 4 too: such a file's counts are not to be trusted quietly
            note(damaged)
        if item.name in read_as:  # (counted as dated: said, not a problem of reading)
            for message in doubts.of(account, item.name, functools.partial(files.last_written, item.name),
                                     read_as[item.name].naive_zone(*zones)):
                note(message)
        if hooks.on_file_done:
            hooks.on_file_done(item.name)
        done_bytes, account = 0, FileAccount()

    def holds(job: _Job) -> bool:
        return not isinstance(job, _Batch) or job.batch is not None

    def folded(item: Input, batch: sources.Batch, summary: BatchSummary,
               whole: Callable[[], sources.Batch]) -> None:
        counted = confirmed(item, batch, summary, whole) if item.name in pending else [(batch, summary)]
        for part, part_summary in counted:
            fold(item, part, part_summary)

    try:
        with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="logtrack") as pool:
            for group in in_order(pool, jobs(), counted, holds=holds):
                for job, summary in group:
                    if isinstance(job, _Joined):
                        assert isinstance(summary, list)
                        batches = [batch for _, batch in job.files]
                        for n, ((item, batch), part) in enumerate(zip(job.files, summary, strict=True)):
                            folded(item, batch, part, functools.partial(one_of, job.data, batches, n))
                            close(item, None)
                        continue
                    assert isinstance(job, _Batch)
                    if job.batch is not None:
                        assert isinstance(summary, BatchSummary)
                        folded(job.item, job.batch, summary, functools.partial(replace, job.batch))
                    else:
                        close(job.item, job.error)
    finally:
        turn.flush()
    for rest in doubts.rest():
        if hooks.on_warning:
            hooks.on_warning(rest)
    if config.settings.nginx_conf and not paths and result.tally.lines == 0:
        raise _nothing_from_nginx_conf(config.settings.nginx_conf)
    return result


def _nothing_from_nginx_conf(conf: str) -> InputError:
    entries = nginx_conf_entries(conf)
    found = (f"its access_log entries: {'; '.join(entries)}" if entries else
             "it names no access_log (nginx then writes its built-in one, /var/log/nginx/access.log as Debian's "
             "nginx is built: `nginx -V` says --http-log-path)")
    return InputError(
        f"--nginx-conf {conf}: no line was read; {found}",
        "point access_log at the files nginx writes (and run where they are), or name the logs as paths",
    )


def nginx_conf_entries(conf: str) -> list[str]:
    """Each access_log of an nginx config, and why it gave no line: for when none did."""
    from pathlib import Path

    from ..formats import nginx_conf

    read = nginx_conf.read_all(Path(conf))
    out = []
    for log in [*read.logs, *(other for others in read.twins.values() for other in others)]:
        names = files.rotated_siblings(log.path) if not glob.has_magic(log.path) else glob.glob(log.path)
        if not names:
            why = "no such file"
        elif all(os.path.getsize(n) == 0 for n in names):
            why = "empty"
        else:
            why = f"{len(names)} file(s), no line read from them"
        out.append(f"{log.path} (access_log at {log.where}): {why}")
    out.extend(f"{target} (access_log at {where}): {why}" for target, where, why in read.skipped)
    return out


@dataclass(frozen=True)
class Explanation:
    format: str
    fields: dict[str, object]
    counted: bool
    reason: str | None
    day: object
    why: str | None = None  # what about the line gave it its reason, where the reason alone does not say


def explain(config: Config, line: bytes) -> Explanation:
    """Parse and classify one line, its bytes as the server wrote them, exactly as a run would.

    Bytes, not text: a line that is not UTF-8 (a shell hands its bytes on
    as they are) is skipped as such by a run, and so here.
    """
    frame, bad = _lines(line, "the line")
    label = None
    if config.rules.format == AUTO:
        try:
            fmt = detect(frame, "the line")
        except UnrecognisedError:
            fmt = formats.get("combined")
            label = "auto: no preset matches; shown as combined"
    else:
        fmt = formats.get(config.rules.format)
    return _explained(config, frame, fmt, label, bad)[0]


def explain_lines(config: Config, source: str = files.STDIN, *,
                  warn: Callable[[str], None] | None = None) -> list[Explanation]:
    """Each line of a log (``explain -``: stdin), parsed and classified as a run would.

    The lines are read as a file's are (``read.sources``), so that what a
    run does with a line, here it does too: one not UTF-8 is skipped as
    such, a run of NUL bytes is a hole, a line past ``LINE_MAX`` is read
    from its start. Under ``auto`` their format is judged by all of them,
    as a file's is by its first lines (a W3C log's lines need their header,
    an odd line its neighbours), and one query explains them all; lines no
    format fits together are each explained alone. ``warn`` hears what the
    reader says (a compressed stream cut short, a line read from its start).
    """
    read = [batch.data for batch in sources.batches(source, warn=warn, note=warn)]
    return explain_data(config, b"\n".join(read), "stdin" if source == files.STDIN else source) if read else []


def explain_data(config: Config, data: bytes, name: str) -> list[Explanation]:
    """The lines ``data`` holds, as ``explain_lines`` explains a log's (``name``: where they came from)."""
    frame, bad = _lines(data, name)
    if config.rules.format != AUTO:
        return _explained(config, frame, formats.get(config.rules.format), None, bad)
    try:
        fmt = detect(frame, name)
    except UnrecognisedError:
        return [explain(config, line) for line in data.split(b"\n")]
    return _explained(config, frame, fmt, None, bad)


def _lines(data: bytes, name: str) -> tuple[pl.DataFrame, tuple[int, ...]]:
    """``data``'s rows, cut as a batch of a file is (``lines_frame``), and its lines that are not UTF-8."""
    batch = sources.batch_of(name, 1, data)
    return lines_frame(batch), batch.bad_utf8


def _explained(config: Config, frame: pl.DataFrame, fmt: LogFormat, label: str | None,
               bad_utf8: tuple[int, ...]) -> list[Explanation]:
    rules = config.rules
    df = Classifier(rules).classify(parse_lines(frame, fmt, bad_utf8, rules.timezone, rules.log_timezone))
    df = df.with_columns(day=day_expr(config.rules.timezone)).sort("idx")
    shown = ["client", "vhost", "time", "request", "method", "target", "status",
             "referrer", "user_agent", "listing", "supplier"]
    zone = rules.log_timezone or rules.timezone  # (where a time written without an offset is read)
    skipped = _skipped_clock_times(frame, fmt, bad_utf8, df, zone)
    out = []
    for row in df.iter_rows(named=True):
        fields = {} if row["reason"] in (Skip.UNPARSABLE.value, Skip.BLANK.value, Skip.HOLE.value) else \
            {k: row[k] for k in shown if k in row}
        why = None
        if row["reason"] == Skip.BAD_TIME:
            time = row.get("time") or "its time"
            why = (f"{time} never happened in {zone}: the clocks there skipped it (as when daylight saving time "
                   "begins), so no server there wrote it; if the server's clock runs in another zone, set [logs] "
                   "log_timezone to it") if row["idx"] in skipped else \
                (f"{time} is not a real time (a day its month does not have, an hour or minute out of range) or "
                 "lies before 1970 or after 9999")
        out.append(Explanation(label or fmt.name, fields, row["reason"] is None, row["reason"], row["day"], why))
    return out


def _skipped_clock_times(frame: pl.DataFrame, fmt: LogFormat, bad_utf8: tuple[int, ...], parsed: pl.DataFrame,
                         zone: str | None) -> set[int]:
    """The lines (``idx``) whose time is bad only because ``zone`` skipped it (written without an offset, in the
    hour daylight saving time began): read in UTC, which skips no time, those times are good."""
    if zone is None or not (bad := parsed.filter(pl.col("reason") == Skip.BAD_TIME)).height:
        return set()
    again = parse_lines(frame.filter(pl.col("idx").is_in(bad.get_column("idx").implode())), fmt, bad_utf8)
    return set(again.filter(pl.col("reason").ne_missing(Skip.BAD_TIME.value)).get_column("idx").to_list())
