"""The whole stateless path: sources -> parse -> classify -> aggregate.

``count`` is the one library call behind ``logtrack xml`` and ``report``.
"""

from __future__ import annotations

import glob
import itertools
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import polars as pl

from . import decide, formats, sources, split, w3c_format
from .aggregate import count_views, day_expr, groups_of, line_key, summarize
from .classify import Classifier, listing_expr
from .config import Config
from .decide import passed_parse_and_since, skip_reason
from .detect import detect, misfit
from .errors import InputError, UnrecognisedError
from .formats import LogFormat
from .inputs import AUTO, WORKERS, Hooks, Input, in_order, plan
from .parse import derive, fields_of_lines, line_fields, lines_frame, parse_lines
from .reasons import DAMAGED, NotCounted, Skip
from .tally import BatchSummary, FileAccount, Tally


@dataclass
class Result:
    tally: Tally
    formats: dict[str, str] = field(default_factory=dict)  # file -> format chosen
    problems: list[str] = field(default_factory=list)  # inputs that could not be read (whole or part)
    suspect: list[str] = field(default_factory=list)  # files read whole, most of their lines damaged

    @property
    def counts(self) -> pl.DataFrame:
        return self.tally.counts()


def no_method_note(fmt: LogFormat, source: str) -> str | None:
    """What to say once per file whose format logs no request method (None when it does)."""
    if fmt.logs_method:
        return None
    return (f"{source}: the format {fmt.name!r} logs no request method: every line counts as a GET, "
            "so [filters] methods cannot tell a HEAD or POST from a view")


def count(config: Config, paths: Sequence[str], *, strict: bool = False, hooks: Hooks | None = None) -> Result:
    """Read every input and count listing views; raise on damaged lines if strict.

    Batches are parsed and classified on a small thread pool (Polars releases
    the GIL, so both cores work) and folded into the tally in file order, with
    at most ``WORKERS + 1`` batches in flight so memory stays flat. A file that
    cannot be read is reported in ``Result.problems`` and the others go on.
    """
    hooks = hooks or Hooks()
    config.require_patterns()
    if config.format != AUTO:
        formats.get(config.format)  # a bad format is an error before any log is read
    inputs, problems = plan(config, paths)
    if not inputs and config.nginx_conf and not paths:
        raise _nothing_from_nginx_conf(config.nginx_conf)
    if not inputs:
        raise InputError(
            "no log files to read" + (f": {'; '.join(problems)}" if problems else ""),
            "name access logs, a directory holding them, or --nginx-conf",
        )
    result = Result(Tally())
    classifier = Classifier(config)

    def work(job: tuple[sources.Batch, LogFormat]) -> BatchSummary:
        batch, fmt = job
        return count_batch(batch, fmt, classifier, config.timezone, strict=strict, log_timezone=config.log_timezone)

    def read(item: Input) -> Iterator[tuple[sources.Batch, LogFormat]]:
        """The file's batches, each with the file's format (detected from the first one)."""
        fmt = item.format
        batches = sources.batches(item.name, warn=warn)
        for batch in batches:
            if fmt is None:
                fmt = detect(lines_frame(batch), item.name)
            elif hooks.on_warning:
                hint = misfit(lines_frame(batch), fmt, item.name)
                if hint:
                    hooks.on_warning(hint)  # said, not a problem: the lines were read as the config says
            result.formats[item.name] = fmt.name
            if hooks.on_format:
                hooks.on_format(item.name, fmt)
            if hooks.on_warning and (note := no_method_note(fmt, item.name)):
                hooks.on_warning(note)
            # the first batch has told the format; a W3C log's headers may change it further on
            yield from w3c_format.follow(itertools.chain([batch], batches), fmt)
            return

    def warn(message: str) -> None:
        result.problems.append(message)
        if hooks.on_warning:
            hooks.on_warning(message)

    for problem in problems:
        warn(problem)
    if hooks.on_plan:
        hooks.on_plan(inputs)

    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="logtrack") as pool:
        for item in inputs:
            done_bytes = 0  # of this file, counted: progress is what was counted, not what was read ahead
            account = FileAccount()
            try:
                for group in in_order(pool, read(item), work):
                    for (batch, _), summary in group:
                        result.tally.add(summary)
                        account.add(summary)
                        if hooks.on_progress:
                            hooks.on_progress(item.name, max(batch.end_offset - done_bytes, 0), summary.lines)
                        done_bytes = max(done_bytes, batch.end_offset)
            except InputError as exc:  # what was read before it was counted
                if strict:
                    raise
                warn(str(exc))
            if note := account.mostly_damaged(item.name):
                result.suspect.append(note)  # exit 4 too: such a file's counts are not to be trusted quietly
                if hooks.on_warning:
                    hooks.on_warning(note)
            if hooks.on_file_done:
                hooks.on_file_done(item.name)
    if config.nginx_conf and not paths and result.tally.lines == 0:
        raise _nothing_from_nginx_conf(config.nginx_conf)
    return result


def _nothing_from_nginx_conf(conf: str) -> InputError:
    return InputError(
        f"--nginx-conf {conf}: no line was read; its access_log entries: " + "; ".join(nginx_conf_entries(conf)),
        "point access_log at the files nginx writes (and run where they are), or name the logs as paths",
    )


def nginx_conf_entries(conf: str) -> list[str]:
    """Each access_log of an nginx config, and why it gave no line: for when none did."""
    from pathlib import Path

    from . import nginx_conf

    logs, skipped = nginx_conf.read_all(Path(conf))
    out = []
    for log in logs:
        names = sources.rotated_siblings(log.path) if not glob.has_magic(log.path) else glob.glob(log.path)
        if not names:
            why = "no such file"
        elif all(os.path.getsize(n) == 0 for n in names):
            why = "empty"
        else:
            why = f"{len(names)} file(s), no line read from them"
        out.append(f"{log.path} (access_log at {log.where}): {why}")
    out.extend(f"{target} (access_log at {where}): {why}" for target, where, why in skipped)
    return out


def count_batch(batch: sources.Batch, fmt: LogFormat, classifier: Classifier, timezone: str | None, *,
                strict: bool = False, log_timezone: str | None = None, since: int | None = None) -> BatchSummary:
    """One batch into its counts and reasons (xml and run alike), as one query.

    Polars sees the whole of it at once: the cut at the quotes and its
    checks, the request, status and time, every line's parse verdict and
    the listing patterns as a plain yes/no; the lines no pattern finds in
    are only counted per (key, reason), and just the candidates are given a
    listing id. The lines the quote split leaves (an escaped quote, a line
    cut short) come out of the same query and go through the line regex.
    Suppliers and bot verdicts are then worked out per distinct value.

    ``since`` (µs since 1970, UTC): lines timed up to it were counted before
    (a file read again after a crash cut it back), so they are not again.
    """
    rules = classifier.rules(since)

    def judged(fields: pl.LazyFrame, bad_utf8: tuple[int, ...],
               time_wrap: tuple[str, str] | None = None) -> tuple[pl.LazyFrame, pl.LazyFrame, pl.LazyFrame]:
        """(lines per key and reason of the non-candidates, the candidates, every line's key): lazy."""
        lf = derive(fields, fmt, timezone, log_timezone, time_wrap).with_columns(reason=skip_reason(bad_utf8))
        lf = lf.with_columns(_cand=passed_parse_and_since(rules) & classifier.hit())
        rest = groups_of(lf.filter(~pl.col("_cand")).with_columns(listing=pl.lit(None, dtype=pl.String))
                         .with_columns(reason=decide.reason(rules, through=NotCounted.NOT_LISTING)), timezone)
        wanted = ["idx", "reason", "method", "status", "ts", "local_day",
                  formats.REFERRER, formats.VHOST, formats.USER_AGENT]
        candidates = lf.filter(pl.col("_cand")).select(*wanted, listing=listing_expr(classifier.config.patterns))
        return rest, candidates, lf.select("idx", "reason", _key=line_key(timezone))

    cut = split.read(batch, fmt, counting=True)
    glued = since is not None  # read again after a cut back: a line may be glued to a cut one's remains
    if cut is None:
        fields, bad_utf8 = line_fields(batch, fmt, glued=glued)
        parts = [judged(fields.lazy(), bad_utf8)]
        rest, found = pl.collect_all(parts[0][:2])
    else:
        parts = [judged(cut.fields, (), cut.time_wrap)]
        rest, found, odd = pl.collect_all([*parts[0][:2], cut.odd])
        if odd.height:  # the lines the split left: the line regex, and the same query
            parts.append(judged(fields_of_lines(split.lines_of(batch, odd, cut.names), fmt, glued=glued).lazy(), ()))
            more_rest, more_found = pl.collect_all(parts[1][:2])
            rest = pl.concat([rest, more_rest], how="vertical_relaxed")
            found = pl.concat([found, more_found], how="vertical_relaxed")
    judged_rows = classifier.judge(found, rules)
    groups = pl.concat([rest, groups_of(judged_rows, timezone).collect()], how="vertical_relaxed")
    if strict:
        _fail_on_damage(groups, batch)

    def line_keys() -> pl.DataFrame:
        """Every line's key and reason: the query again, for the rare batch with lines that have no time."""
        every = pl.concat(pl.collect_all([keys for _, _, keys in parts]), how="vertical_relaxed")
        return every.update(judged_rows.select("idx", "reason"), on="idx")

    return summarize(batch, groups, count_views(judged_rows, timezone), timezone, line_keys)


def _fail_on_damage(groups: pl.DataFrame, batch: sources.Batch) -> None:
    bad = groups.filter(pl.col("reason").is_in([r.value for r in DAMAGED])).sort("first").head(1)
    if bad.height:
        idx = int(bad.item(0, "first"))
        raise InputError(
            f"{batch.source}:{batch.first_line + idx}: {bad.item(0, 'reason')}: {batch.line(idx)[:200]!r}",
            "fix the line, set the right [logs] format, or run without --strict "
            "to skip such lines and count them in the summary",
        )


@dataclass(frozen=True)
class Explanation:
    format: str
    fields: dict[str, object]
    counted: bool
    reason: str | None
    day: object


def explain(config: Config, line: str) -> Explanation:
    """Parse and classify one line, exactly as a run would."""
    frame = pl.DataFrame({"line": [line]}).with_row_index("idx").with_columns(line_no=pl.lit(1, dtype=pl.Int64))
    label = None
    if config.format == AUTO:
        try:
            fmt = detect(frame, "the line")
        except UnrecognisedError:
            fmt = formats.get("combined")
            label = "auto: no preset matches; shown as combined"
    else:
        fmt = formats.get(config.format)
    df = Classifier(config).classify(parse_lines(frame, fmt, (), config.timezone, config.log_timezone))
    df = df.with_columns(day=day_expr(config.timezone))
    row = df.row(0, named=True)
    shown = ["client", "vhost", "time", "request", "method", "target", "status",
             "referrer", "user_agent", "listing", "supplier"]
    fields = {k: row[k] for k in shown if k in row}
    if row["reason"] in (Skip.UNPARSABLE.value, Skip.BLANK.value):
        fields = {}
    return Explanation(label or fmt.name, fields, row["reason"] is None, row["reason"], row["day"])
