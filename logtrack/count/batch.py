"""One batch of lines into its counts and reasons, as one Polars query: what ``xml`` and ``run`` both do.

Stateless: the caller reads the batches (``read``), knows their format
and, for a file read again after a crash cut it back, the time up to which
its lines were counted before.
"""

from __future__ import annotations

import polars as pl

from .. import formats
from ..errors import InputError
from ..formats import LogFormat
from ..parse import split
from ..parse.fields import derive, fields_of_lines, line_fields
from ..read import sources
from ..verdicts import decide
from ..verdicts.decide import passed_parse_and_since, skip_reason
from ..verdicts.reasons import DAMAGED, NotCounted
from .aggregate import count_views, groups_of, line_key, summarize
from .classify import Classifier, listing_expr
from .tally import BatchSummary


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
    rules = classifier.verdict_rules(since)

    def judged(fields: pl.LazyFrame, bad_utf8: tuple[int, ...],
               time_wrap: tuple[str, str] | None = None) -> tuple[pl.LazyFrame, pl.LazyFrame, pl.LazyFrame]:
        """(lines per key and reason of the non-candidates, the candidates, every line's key): lazy."""
        lf = derive(fields, fmt, timezone, log_timezone, time_wrap).with_columns(reason=skip_reason(bad_utf8))
        lf = lf.with_columns(_cand=passed_parse_and_since(rules) & classifier.hit())
        rest = groups_of(lf.filter(~pl.col("_cand")).with_columns(listing=pl.lit(None, dtype=pl.String))
                         .with_columns(reason=decide.reason(rules, through=NotCounted.NOT_LISTING)), timezone)
        wanted = ["idx", "reason", "method", "status", "ts", "local_day",
                  formats.REFERRER, formats.VHOST, formats.USER_AGENT]
        candidates = lf.filter(pl.col("_cand")).select(*wanted, listing=listing_expr(classifier.rules.patterns))
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
