"""The whole stateless path: sources -> parse -> classify -> aggregate.

``count`` is the one library call behind ``logtrack xml`` and ``report``.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import polars as pl

from . import formats, sources
from .aggregate import BatchSummary, Tally, day_expr, summarize
from .classify import Classifier
from .config import Config
from .errors import InputError, LogFormatError
from .formats import LogFormat
from .parse import DAMAGED, Skip, lines_frame, parse_batch, parse_lines

AUTO = "auto"
WORKERS = max(1, min(4, os.cpu_count() or 1))
DETECT_SAMPLE = 1000


@dataclass
class Result:
    tally: Tally
    formats: dict[str, str] = field(default_factory=dict)  # file -> format chosen

    @property
    def counts(self) -> pl.DataFrame:
        return self.tally.counts()


def detect(sample: pl.DataFrame, source: str) -> LogFormat:
    """Pick the most specific preset that matches most of the sample's lines.

    Presets are tried from the most specific (vhost_combined, combined,
    common), and the first that matches more than half of the non-blank
    lines wins: a combined log with a few common lines stays combined (its
    referrers name the suppliers), the few are reported as unparsable. When
    no preset fits, the run stops rather than count garbage.
    """
    lines = sample.get_column("line").str.strip_suffix("\r")
    lines = lines.filter(lines.str.strip_chars() != "").head(DETECT_SAMPLE)
    tried = []
    for name in formats.PRESETS:
        fmt = formats.get(name)
        hits = int(lines.str.contains(fmt.regex).sum())
        if hits * 2 > lines.len():
            return fmt
        tried.append(f"{name} {hits}")
    raise LogFormatError(
        f"{source}: no known log format fits this file (lines matched of the first "
        f"{lines.len()}: {', '.join(tried)})",
        "set [logs] format (or --format) to the server's LogFormat string",
    )


def count(
    config: Config,
    paths: Sequence[str],
    *,
    strict: bool = False,
    on_format: Callable[[str, LogFormat], None] | None = None,
) -> Result:
    """Read every path and count listing views; raise on damaged lines if strict.

    Batches are parsed and classified on a small thread pool (Polars releases
    the GIL, so both cores work) and folded into the tally in file order, with
    at most ``WORKERS + 1`` batches in flight so memory stays flat.
    """
    config.require_patterns()
    fixed = None if config.format == AUTO else formats.get(config.format)
    files = sources.expand(paths)
    result = Result(Tally())
    classifier = Classifier(config)

    def work(name: str, batch: sources.Batch, fmt: LogFormat) -> BatchSummary:
        df = parse_batch(batch, fmt)
        if strict:
            _fail_on_damage(name, df)
        return summarize(name, classifier.classify(df), config.timezone)

    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="logtrack") as pool:
        for name in files:
            fmt = fixed
            pending: deque[Future[BatchSummary]] = deque()
            for batch in sources.batches(name):
                if fmt is None:
                    fmt = detect(lines_frame(batch), name)
                if name not in result.formats:
                    result.formats[name] = fmt.name
                    if on_format:
                        on_format(name, fmt)
                pending.append(pool.submit(work, name, batch, fmt))
                if len(pending) > WORKERS:
                    result.tally.add(pending.popleft().result())
            while pending:
                result.tally.add(pending.popleft().result())
    return result


def _fail_on_damage(name: str, df: pl.DataFrame) -> None:
    bad = df.filter(pl.col("reason").is_in([r.value for r in DAMAGED])).head(1)
    if bad.height:
        row = bad.row(0, named=True)
        raise InputError(
            f"{name}:{row['line_no']}: {row['reason']}: {row['line'][:200]!r}",
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
    frame = pl.DataFrame({"line": [line]}).with_row_index("idx").with_columns(
        line_no=pl.lit(1, dtype=pl.Int64)
    )
    label = None
    if config.format == AUTO:
        try:
            fmt = detect(frame, "the line")
        except LogFormatError:
            fmt = formats.get("combined")
            label = "auto: no preset matches; shown as combined"
    else:
        fmt = formats.get(config.format)
    df = Classifier(config).classify(parse_lines(frame, fmt))
    df = df.with_columns(day=day_expr(config.timezone))
    row = df.row(0, named=True)
    shown = ["client", "vhost", "time", "request", "method", "target", "status",
             "referrer", "user_agent", "listing", "supplier"]
    fields = {k: row[k] for k in shown if k in row}
    if row["reason"] in (Skip.UNPARSABLE.value, Skip.BLANK.value):
        fields = {}
    return Explanation(label or fmt.name, fields, row["reason"] is None, row["reason"], row["day"])
