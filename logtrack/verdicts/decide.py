"""Why a line is not counted, decided in one place, in the order the README's reason table gives.

Every check is a whole-column condition; the first that holds names the
line's reason, and a line none of them holds is a view. The table below is
that order. Parsing stops after the ``Skip`` rows (``skip_reason``), the
count goes on through the ``NotCounted`` rows (``reason``): both read the
same table, so the order cannot differ between ``xml``, ``run``, ``report``
and ``explain``.

The columns the conditions read: ``idx``, ``line`` (null for a line the
quote split cut, which is never blank, a hole or a misfit), ``request``,
``method``, ``status``, ``ts``; then ``listing`` (null: no pattern found an
id), and ``_bot`` (null or false: not a crawler).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl

from .. import formats as f
from ..read.holes import HOLE
from .reasons import NotCounted, Skip


@dataclass(frozen=True)
class Rules:
    """What a line must pass, beyond being well formed, to count."""

    # (Tuples: the expressions made from a Rules are kept per Rules, ``reason`` and the others, so it hashes.)
    methods: tuple[str, ...] = ()
    status: tuple[int, ...] = ()
    vhosts: tuple[str, ...] = ()  # empty: any virtual host
    since: int | None = None  # µs since 1970 (UTC): lines timed up to it were counted before


Condition = Callable[[tuple[int, ...], Rules], pl.Expr]

# The order in which a line is judged. A condition may assume the ones above it were false.
# Request lines that name no page: nginx's and Apache's "-" (a 408) and "" (a 400), and "- - - ", what AWS's
# load balancers write for a request they could not read (and for every line of a TCP listener)
NO_PAGE = ["-", "", "- - - "]

ORDER: Sequence[tuple[Skip | NotCounted, Condition]] = (
    (Skip.INVALID_UTF8, lambda bad, _: pl.col("idx").is_in(list(bad)) if bad else pl.lit(False)),
    (Skip.HOLE, lambda *_: pl.col("line") == HOLE.decode()),  # a run of NUL bytes, as the reader leaves it
    # (stripped, not matched by ^\s*$: a regex costs as much on the null lines, the quote split's, as on the others)
    (Skip.BLANK, lambda *_: pl.col("line").str.strip_chars() == ""),
    # a W3C log's headers, HAProxy's "Proxy site stopped": lines of the format's own ``LogFormat.notice`` shape
    (Skip.NOTICE, lambda *_: pl.col("notice") & pl.col("status").is_null()),
    # a line a container runtime split: its parts, read whole at the last (``read.parts``)
    (Skip.PART, lambda *_: pl.col("part") & pl.col("status").is_null()),
    # Azure Front Door's origin shield answering its edge: the client's request has a record of its own
    (Skip.HOP, lambda *_: pl.col("hop")),
    (Skip.UNPARSABLE, lambda *_: pl.col("status").is_null() | pl.col(f.REQUEST).is_null()),
    (Skip.BAD_TIME, lambda *_: pl.col("ts").is_null()),
    (Skip.NO_REQUEST, lambda *_: pl.col(f.REQUEST).is_in(NO_PAGE)),
    (Skip.MALFORMED_REQUEST, lambda *_: pl.col("method").is_null()),
    (NotCounted.COUNTED_BEFORE,
     lambda _, r: pl.lit(False) if r.since is None else pl.col("ts").dt.epoch("us") <= r.since),
    (NotCounted.NOT_LISTING, lambda *_: pl.col("listing").is_null()),
    (NotCounted.VHOST, lambda _, r: ~vhost_name().is_in(list(r.vhosts)) if r.vhosts else pl.lit(False)),
    (NotCounted.METHOD, lambda _, r: ~pl.col("method").is_in(list(r.methods))),
    (NotCounted.STATUS, lambda _, r: ~pl.col("status").is_in(list(r.status))),
    (NotCounted.BOT, lambda *_: pl.col("_bot").fill_null(False)),
)
PARSE_STEPS = sum(1 for reason, _ in ORDER if isinstance(reason, Skip))


def vhost_name(column: str = f.VHOST) -> pl.Expr:
    """The logged virtual host as rules name it: lower-cased, without a trailing dot or :port."""
    return pl.col(column).str.to_lowercase().str.replace(r":[0-9]*$", "").str.strip_suffix(".")


def _chain(steps: Sequence[tuple[Skip | NotCounted, Condition]], bad_utf8: tuple[int, ...], rules: Rules) -> pl.Expr:
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for reason, condition in reversed(steps):
        expr = pl.when(condition(bad_utf8, rules).fill_null(False)).then(pl.lit(reason.value)).otherwise(expr)
    return expr


def skip_reason(bad_utf8: tuple[int, ...] = (), *, through: Skip | None = None) -> pl.Expr:
    """Why a line is not a usable record (a ``Skip``), or null.

    ``through``: judged up to that step only, so that a query reading the
    reason leaves out the columns only later steps read (a line one of them
    would stop is null): ``auto`` asks which lines are damaged.
    """
    return _chain(_parse_steps(through), bad_utf8, Rules()) if bad_utf8 else _skip_reason_valid(through)


@functools.cache
def _skip_reason_valid(through: Skip | None = None) -> pl.Expr:
    """``skip_reason`` of a batch that is valid UTF-8, the usual one: made once (see ``reason``)."""
    return _chain(_parse_steps(through), (), Rules())


def _parse_steps(through: Skip | None) -> Sequence[tuple[Skip | NotCounted, Condition]]:
    steps = ORDER[:PARSE_STEPS]
    return steps if through is None else steps[: [r for r, _ in steps].index(through) + 1]


@functools.lru_cache(maxsize=64)
def reason(rules: Rules, *, through: NotCounted | None = None) -> pl.Expr:
    """The verdict on parsed rows (their ``Skip`` already in ``reason``): the rest of the table.

    ``through``: rows known to stop at that step (say, rows no listing
    pattern finds in) are judged up to it only, so the columns the later
    steps read need not exist.
    """
    steps = ORDER[PARSE_STEPS:]
    if through is not None:
        steps = steps[: [r for r, _ in steps].index(through) + 1]
    return pl.coalesce(pl.col("reason"), _chain(steps, (), rules))


@functools.lru_cache(maxsize=64)
def passed_parse_and_since(rules: Rules) -> pl.Expr:
    """Rows whose reason, if any, comes after ``COUNTED_BEFORE``: the ones a listing test may count."""
    since = dict(ORDER)[NotCounted.COUNTED_BEFORE]((), rules)
    return pl.col("reason").is_null() & ~since.fill_null(False)


@functools.lru_cache(maxsize=64)
def reaches(step: NotCounted, rules: Rules) -> pl.Expr:
    """Rows (their ``Skip`` in ``reason``) that no step before ``step`` stops: the ones ``step`` judges.

    The bot check asks crawlerdetect only about the agents of such rows:
    the rest are not counted whatever their agent.
    """
    steps = ORDER[PARSE_STEPS:]
    before = steps[: [r for r, _ in steps].index(step)]
    stopped = pl.any_horizontal(condition((), rules).fill_null(False) for _, condition in before) if before \
        else pl.lit(False)
    return pl.col("reason").is_null() & ~stopped
