"""Classify: which parsed lines are listing views, of which listing and supplier.

Everything here is a whole-column Polars expression. Bots are decided per
distinct user agent (``bots``: crawlerdetect's patterns run by Polars), the
answer cached for the run, and joined back.
"""

from __future__ import annotations

import threading

import polars as pl

from . import formats
from .bots import detector
from .config import Config, SupplierRule
from .reasons import NotCounted

# scheme://[userinfo@]host[:port]... -> host (an IPv6 literal keeps its brackets)
_REFERRER_HOST = r"^[A-Za-z][A-Za-z0-9+.\-]*://(?:[^@/?#\s]*@)?(\[[^\]/]*\]|[^/:?#\s\\]+)"


# What counting reads of a parsed row (summary, day, supplier, listing, filters, bots).
_COUNTING = frozenset({"idx", "reason", "target", "method", "status", "ts", "local_day",
                       formats.REFERRER, formats.VHOST, formats.USER_AGENT})


class Classifier:
    """Holds the compiled rules and the bot cache for one run.

    Each distinct agent is asked about once a run. Verdicts are not kept
    between runs: asking costs a few microseconds an agent, less than
    looking one up in the state database did.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self._verdicts = pl.DataFrame(schema={"ua": pl.String, "bot": pl.Boolean})  # every agent seen so far
        self._lock = threading.Lock()

    def classify(self, df: pl.DataFrame) -> pl.DataFrame:
        """Every parsed row, all its fields kept, with ``listing``, ``supplier`` and its not-counted reason."""
        candidates, rest = self.sort(df, whole=True)
        rest = rest.with_columns(listing=pl.lit(None, dtype=pl.String), supplier=pl.lit(None, dtype=pl.String))
        return pl.concat([candidates, rest.select(candidates.columns)])

    def sort(self, df: pl.DataFrame, *, whole: bool = False) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Parsed rows -> (listing-page rows, with listing, supplier and reason; every other row).

        The first are the rows a listing pattern finds in; the views among
        them have no reason. The others keep the reason they came with, or
        get "not a listing page". Patterns are first tried as a plain yes/no
        (a DFA, cheap), so ids are cut out, and suppliers and bots worked
        out, only for the few rows that can be views.

        Unless ``whole``, only what counting reads is kept (the others with
        just ``idx`` and ``reason``): splitting the batch in two copies every
        column it keeps.
        """
        cfg = self.config
        hit = pl.col("reason").is_null() & pl.any_horizontal(
            [pl.col("target").str.contains(p) for p in cfg.patterns] or [pl.lit(False)]
        )
        if not whole:
            df = df.select(c for c in df.columns if c in _COUNTING)
        df = df.with_columns(_hit=hit.fill_null(False))
        rest = df.filter(~pl.col("_hit")).select(
            pl.exclude("_hit", "reason") if whole else pl.col("idx", "ts", "local_day"),
            reason=pl.coalesce("reason", pl.lit(NotCounted.NOT_LISTING.value)),
        )
        candidates = df.filter(pl.col("_hit")).drop("_hit").with_columns(listing=listing_expr(cfg.patterns))
        candidates = candidates.with_columns(
            reason=pl.when(pl.col("listing").is_null())
            .then(pl.lit(NotCounted.NOT_LISTING.value))
            .when(~pl.col("method").is_in(list(cfg.methods)))
            .then(pl.lit(NotCounted.METHOD.value))
            .when(~pl.col("status").is_in(list(cfg.status)))
            .then(pl.lit(NotCounted.STATUS.value))
            .otherwise(pl.lit(None, dtype=pl.String))
        )
        # Referrers repeat: work out the supplier once per distinct (referrer, vhost).
        keys = [formats.REFERRER, formats.VHOST]
        views = candidates.filter(pl.col("reason").is_null())
        suppliers = (
            views.select(keys)
            .unique()
            .with_columns(_host=referrer_host(), _vhost=vhost_name())
            .with_columns(supplier=supplier_expr(cfg.suppliers, cfg.default_supplier))
            .drop("_host", "_vhost")
        )
        candidates = candidates.join(suppliers, on=keys, how="left", nulls_equal=True, maintain_order="left")
        candidates = candidates.with_columns(supplier=pl.when(pl.col("reason").is_null()).then("supplier"))
        if cfg.exclude_bots:
            candidates = self._mark_bots(candidates)
        return candidates, rest

    def _mark_bots(self, df: pl.DataFrame) -> pl.DataFrame:
        """Views whose agent crawlerdetect calls a crawler get the reason "bot"."""
        agent = pl.col(formats.USER_AGENT)
        agents = df.filter(pl.col("reason").is_null() & agent.is_not_null()).select(agent.unique().alias("ua"))
        with self._lock:  # batches are classified on worker threads; each agent is asked once
            new = agents.join(self._verdicts, on="ua", how="anti").get_column("ua").to_list()
            if new:
                verdicts = detector().verdicts(new)
                table = pl.DataFrame({"ua": list(verdicts), "bot": list(verdicts.values())},
                                     schema=self._verdicts.schema)
                self._verdicts = pl.concat([self._verdicts, table])
            bots = self._verdicts.filter(pl.col("bot")).get_column("ua")
        return df.with_columns(
            reason=pl.when(pl.col("reason").is_null() & agent.is_in(bots.implode()))
            .then(pl.lit(NotCounted.BOT.value))
            .otherwise(pl.col("reason"))
        )


def listing_expr(patterns: tuple[str, ...]) -> pl.Expr:
    """The listing id from the first pattern that matches the target, else null."""
    target = pl.col("target")
    ids = []
    for pattern in patterns:
        found = target.str.extract_groups(pattern).struct.field("id")
        ids.append(pl.when(found.str.len_bytes() > 0).then(found))
    if not ids:
        return pl.lit(None, dtype=pl.String)
    return pl.coalesce(ids)


def referrer_host() -> pl.Expr:
    return (
        pl.col(formats.REFERRER)
        .str.extract(_REFERRER_HOST, 1)
        .str.to_lowercase()
        .str.strip_suffix(".")
    )


def vhost_name() -> pl.Expr:
    """The logged virtual host, lower-cased, without a trailing dot or :port."""
    return (
        pl.col(formats.VHOST)
        .str.to_lowercase()
        .str.replace(r":[0-9]*$", "")
        .str.strip_suffix(".")
    )


def _rule_matches(rule: SupplierRule) -> pl.Expr:
    host, vhost = pl.col("_host"), pl.col("_vhost")
    cond = pl.lit(False)
    for domain in rule.referrer:
        cond = cond | (host == domain) | host.str.ends_with("." + domain)
    if rule.host:
        cond = cond | vhost.is_in(list(rule.host))
    return cond.fill_null(False)


def supplier_expr(rules: tuple[SupplierRule, ...], default: str) -> pl.Expr:
    """The first rule that matches names the supplier; none gives ``default``.

    Reads the ``_host`` (referrer host) and ``_vhost`` columns, computed once.
    """
    expr = pl.lit(default, dtype=pl.String)
    for rule in reversed(rules):
        expr = pl.when(_rule_matches(rule)).then(pl.lit(rule.name)).otherwise(expr)
    return expr
