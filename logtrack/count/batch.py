"""One batch of lines into its counts and reasons, as one Polars query: what ``xml`` and ``run`` both do.

Stateless: the caller reads the batches (``read``), knows their format
and, for a file read again after a crash cut it back, the time up to which
its lines were counted before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import polars as pl

from .. import formats, frames
from ..errors import InputError, shown
from ..formats import LogFormat
from ..parse import detect, split
from ..parse.fields import (
    derive,
    fields_of_lines,
    from_absolute,
    is_absolute,
    line_fields,
    line_regex_fields,
    read_joined,
    reasons,
    unwrapped_fields,
)
from ..parse.lines import file_of, file_starts
from ..read import sources
from ..read.joined import joins_files
from ..verdicts import decide
from ..verdicts.decide import passed_parse_and_since
from ..verdicts.reasons import DAMAGED, NotCounted, Skip
from .aggregate import count_views, groups_of, line_key, summarize, summarize_files, summary_plans
from .classify import Classifier, listing_expr, referrer_head, xml_listing
from .tally import BatchSummary


def count_batch(batch: sources.Batch, fmt: LogFormat, classifier: Classifier, timezone: str | None, *,
                strict: bool = False, log_timezone: str | None = None, since: int | None = None) -> BatchSummary:
    """One batch into its counts and reasons (xml and run alike), in a few queries.

    The first sees the cut at the quotes, the lines the quote split leaves
    (an escaped quote, a line cut short) read by the line regex, the
    request, status and time, every line's parse verdict and the listing
    patterns as a plain yes/no. The second counts the lines no pattern finds
    in per (key, reason) and gives just the candidates a listing id. Then
    the candidates' agents not seen before are asked about, and the last
    gives the candidates their verdicts, a supplier to the counted ones (per
    distinct referrer head and virtual host), and sums everything up. Few
    queries matter: each costs Polars a fraction of a millisecond however
    few its rows.

    ``since`` (µs since 1970, UTC): lines timed up to it were counted before
    (a file read again after a crash cut it back), so they are not again.
    """
    glued = since is not None  # read again after a cut back: a line may be glued to a cut one's remains

    def counted(batch: sources.Batch) -> BatchSummary:
        return summarize(batch, *_count(batch, fmt, classifier, *_fields(batch, fmt, glued), timezone=timezone,
                                        log_timezone=log_timezone, since=since))

    batch, summary = read_joined(batch, fmt, counted, lambda summary: any(
        reason == Skip.PART for reason, *_ in summary.reasons))
    if strict:
        _fail_on_damage(summary)
    return summary


def count_files(parts: Sequence[sources.Batch], fmt: LogFormat, classifier: Classifier, timezone: str | None, *,
                strict: bool = False, log_timezone: str | None = None,
                data: bytes | None = None) -> list[BatchSummary]:
    """Whole files (each read in one batch, all in one format ``read.joined.joins_files`` takes) counted as one
    batch (gathered by ``read.joined.Joining``).

    A batch costs its queries some 8 ms however few its lines: a directory
    of small files (a CDN's five-minute logs) spent most of its time on
    that, a batch a file. Counted together, each file still gets a summary
    of its own, as ``count_batch`` would have given it: its lines, reasons,
    first line of each by its own numbers, latest time, counts and lines
    per (day, outcome); ``--strict`` names its own line.

    ``data``: the parts' data joined by newlines, where the caller joined
    them already (and let their own go: then only their other fields are read).
    """
    if data is None:
        data = b"\n".join(part.data for part in parts)
    if len(parts) == 1:
        return [count_batch(replace(parts[0], data=data), fmt, classifier, timezone, strict=strict,
                            log_timezone=log_timezone)]
    assert joins_files(fmt), fmt.name
    starts = file_starts(parts)
    batch = sources.Batch(parts[0].source, parts[0].first_line, data, lines=sum(part.lines for part in parts))
    summaries = summarize_files(parts, starts, batch.data, *_count(
        batch, fmt, classifier, *_fields(batch, fmt, False), timezone=timezone, log_timezone=log_timezone,
        since=None, starts=starts))
    if strict:
        for summary in summaries:
            _fail_on_damage(summary)
    return summaries


def judged(summaries: list[BatchSummary], fmt: LogFormat, parts: Sequence[sources.Batch], data: bytes | None,
           judge: Sequence[bool]) -> list[BatchSummary]:
    """The summaries of whole files counted together (``data``: their lines joined), or of one batch
    (``data`` None), each with the note ``detect.misfit`` gives its file where ``judge`` says so.

    A format named for a file is judged with the counting of its first
    batch, on the pool, not when the file is opened on the main thread: a
    group of files in one query (``detect.misfits``), one batch by its sample.
    """
    if not any(judge):
        return summaries
    notes = (detect.misfits(fmt, parts, data) if data is not None
             else [detect.misfit(detect.sample_frame(parts[0]), fmt, parts[0].source)])
    return [replace(summary, notes=(note,)) if note and wanted else summary
            for summary, note, wanted in zip(summaries, notes, judge, strict=True)]


def held_to_alone(fmt: LogFormat, summary: BatchSummary, whole: Callable[[], sources.Batch], source: str,
                  vhosts: tuple[str, ...]) -> tuple[LogFormat, list[str], sources.Batch | None]:
    """A whole file's format given on trust (``detect.detect_files``' ``trusted``), held to what ``detect``
    alone gives it, by its counting (``summary``): the format, what to say of it, and the file's batch
    (``whole``: with its lines) where it is to be counted again, in another format.

    Where the counting found no line damaged, the format read every line,
    which is what ``detect`` asks of the first candidate before it looks no
    further; else the file is judged alone. Raises where that refuses it
    (no format fits, ``[filters] vhosts`` cannot apply), as on opening.
    """
    if not any(reason in DAMAGED for reason, *_ in summary.reasons):
        return fmt, detect.checked(fmt, source, vhosts, from_start=True), None
    again = whole()
    found, notes = detect.file_format(None, detect.sample_frame(again), source, vhosts, from_start=True)
    return found, notes, None if found == fmt else again


def count_again(batch: sources.Batch, fmt: LogFormat, classifier: Classifier, timezone: str | None, *,
                strict: bool = False, log_timezone: str | None = None,
                since: int | None = None) -> list[tuple[sources.Batch, LogFormat, BatchSummary]]:
    """A whole file's batch counted in the format ``held_to_alone`` found: each part, the format that reads
    it (a W3C log's headers followed), and its summary."""
    from ..read import w3c_sections

    return [(part, part_fmt, count_batch(part, part_fmt, classifier, timezone, strict=strict,
                                         log_timezone=log_timezone, since=since))
            for part, part_fmt in w3c_sections.follow(iter([batch]), fmt)]


# (groups, counts, the time zone, every line's key on demand, the summary plans): what summarize takes
_Counted = tuple[pl.DataFrame, pl.DataFrame, str | None, Callable[[], pl.DataFrame], list[pl.DataFrame]]


def _count(batch: sources.Batch, fmt: LogFormat, classifier: Classifier, fields: pl.LazyFrame,
           bad_utf8: tuple[int, ...], *, timezone: str | None, log_timezone: str | None,
           since: int | None, starts: tuple[int, ...] | None = None) -> _Counted:
    """``count_batch`` on the batch's raw fields, up to what ``summarize`` makes a summary of.

    ``starts``: the batch holds whole files (``count_files``), each one's
    first line at these indices; the groups and the plans are then per file,
    for ``summarize_files``.
    """
    rules = classifier.verdict_rules(since)
    per_file = starts is not None
    wanted = ["idx", "reason", "method", "status", "ts", "local_day",
              formats.REFERRER, formats.VHOST, formats.USER_AGENT, *(["_file"] if per_file else [])]
    # Each stage is collected before the next reads it twice: Polars would not share it reliably.
    lf = derive(fields, fmt, timezone, log_timezone, absolute=False).with_columns(reason=reasons(fmt, bad_utf8))
    if starts is not None:
        lf = lf.with_columns(_file=file_of(starts))
    candidate = passed_parse_and_since(rules) & classifier.hit()
    parsed = frames.collect(lf.select(*wanted, "target", _cand=candidate, _abs=is_absolute(fmt)))
    if parsed.get_column("_abs").any():  # a request in absolute form: read here, in the few batches with one
        parsed = frames.collect(from_absolute(parsed.lazy(), fmt).with_columns(_cand=candidate))
    parsed = parsed.drop("_abs")
    rest = groups_of(parsed.lazy().filter(~pl.col("_cand")).with_columns(listing=pl.lit(None, dtype=pl.String))
                     .with_columns(reason=decide.reason(rules, through=NotCounted.NOT_LISTING)), timezone,
                     per_file=per_file)
    found = parsed.lazy().filter(pl.col("_cand")).select(
        *wanted, listing=listing_expr(classifier.rules.patterns), _head=referrer_head()).with_columns(
        listing=xml_listing())
    rest_groups, candidates = frames.collect_all([rest, found])
    classifier.learn(frames.collect(classifier.agents(candidates.lazy(), rules)))
    # (Collected: the groups and the counts both read it, and Polars' plan would work it out twice.)
    judged = frames.collect(classifier.verdicts(candidates.lazy(), rules)).lazy()
    every = pl.concat([rest_groups.lazy(), groups_of(judged, timezone, per_file=per_file)], how="vertical_relaxed")
    groups, counts, *plans = frames.collect_all([
        every, count_views(classifier.with_suppliers(judged.filter(pl.col("reason").is_null())), timezone,
                           per_file=per_file),
        *summary_plans(every, timezone, per_file=per_file),
    ])
    def line_keys() -> pl.DataFrame:
        """Every line's key and reason (and file), for the rare batch with lines that have no time."""
        every = parsed.select(*(["_file"] if per_file else []), "idx", "reason", _key=line_key(timezone))
        return every.update(frames.collect(judged.select("idx", "reason")), on="idx")

    return groups, counts, timezone, line_keys, plans


def _fields(batch: sources.Batch, fmt: LogFormat, glued: bool) -> tuple[pl.LazyFrame, tuple[int, ...]]:
    """Every line's raw fields (lazy) and the lines not valid UTF-8.

    Cut at the quotes where the format and the batch allow, the lines that
    cut leaves read by the line regex in the same plan; else by the line
    regex (or JSON) alone. A JSON format's odd lines are decoded eagerly
    (Polars' decoder stops at a bad line).
    """
    if (unwrapped := unwrapped_fields(batch, fmt, counting=True, glued=glued)) is not None:  # Docker's lines
        return unwrapped.lazy(), ()
    cut = split.read(batch, fmt, counting=True)
    if cut is None:
        fields, bad_utf8 = line_fields(batch, fmt, glued=glued)
        return fields.lazy(), bad_utf8
    columns = cut.fields.collect_schema().names()
    if fmt.is_json:
        taken, odd = frames.collect_all([cut.fields, cut.odd])
        odd_fields = fields_of_lines(odd, fmt, glued=glued)
        return pl.concat([taken, odd_fields.select(columns)], how="vertical_relaxed").lazy(), ()
    return pl.concat([cut.fields, line_regex_fields(cut.odd, fmt, glued=glued).select(columns)],
                     how="vertical_relaxed"), ()


def _fail_on_damage(summary: BatchSummary) -> None:
    """``--strict``: the batch's first damaged line is an error."""
    damaged = [(idx, line_no, reason) for reason, _, line_no, idx in summary.reasons if reason in DAMAGED]
    if damaged:
        idx, line_no, reason = min(damaged)
        raise InputError(
            f"{summary.source}:{line_no}: {reason}: '{shown(summary.line_text(idx)[:200])}'",
            "fix the line, set the right [logs] format, or run without --strict "
            "to skip such lines and count them in the summary",
        )
