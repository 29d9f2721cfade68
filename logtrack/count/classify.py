"""Classify: which parsed lines are listing views, of which listing and supplier.

Everything here is a whole-column Polars expression. Bots are decided per
distinct user agent (``bots``: crawlerdetect's patterns run by Polars), the
answer cached for the run, and joined back.
"""

from __future__ import annotations

import threading

import polars as pl

from .. import formats
from ..config import CountingRules, SupplierRule
from ..verdicts import decide
from ..verdicts.decide import Rules, passed_parse_and_since, vhost_name
from .bots import detector

# scheme://[userinfo@]host[:port]... -> host (an IPv6 literal keeps its brackets)
_REFERRER_HOST = r"^[A-Za-z][A-Za-z0-9+.\-]*://(?:[^@/?#\s]*@)?(\[[^\]/]*\]|[^/:?#\s\\]+)"


class Classifier:
    """Holds the compiled rules and the bot cache for one run.

    Each distinct agent is asked about once a run. Verdicts are not kept
    between runs: asking costs a few microseconds an agent, less than
    looking one up in the state database did.
    """

    def __init__(self, rules: CountingRules) -> None:
        self.rules = rules
        self._verdicts = pl.DataFrame(schema={"ua": pl.String, "_bot": pl.Boolean})  # every agent seen so far
        self._bot_agents = pl.Series("ua", [], dtype=pl.String)  # the bots among them
        self._lock = threading.Lock()

    def verdict_rules(self, since: int | None = None) -> Rules:
        return Rules(methods=self.rules.methods, status=self.rules.status, vhosts=self.rules.vhosts, since=since)

    def hit(self) -> pl.Expr:
        """Whether a listing pattern finds in the target: a plain yes/no (a DFA), cheap on every row."""
        found = [pl.col("target").str.contains(p) for p in self.rules.patterns]
        return pl.any_horizontal(found).fill_null(False) if found else pl.lit(False)

    def classify(self, df: pl.DataFrame, since: int | None = None) -> pl.DataFrame:
        """Every parsed row, all its fields kept, with ``listing``, ``supplier`` and its reason."""
        rules = self.verdict_rules(since)
        hit = passed_parse_and_since(rules) & self.hit()
        df = df.with_columns(listing=pl.when(hit).then(listing_expr(self.rules.patterns)))
        return self.judge(df, rules).drop("_bot")

    def judge(self, df: pl.DataFrame | pl.LazyFrame, rules: Rules) -> pl.DataFrame:
        """Rows with ``listing`` (null: not a listing page) -> their ``supplier``, ``_bot`` and final reason.

        The supplier depends only on the referrer's scheme and authority
        (all before its third slash) and on the virtual host: worked out once
        per distinct pair and joined back. The bot verdict depends only on
        the agent: asked once per distinct agent a run, looked up per row in
        the (small) set of the bots among them. Two queries in all: a batch
        pays Polars' cost per query a few times, not per step.
        """
        cfg = self.rules
        could = (pl.col("reason").is_null() & pl.col("listing").is_not_null()
                 & pl.col("method").is_in(list(cfg.methods)) & pl.col("status").is_in(list(cfg.status)))
        lf = df.lazy().with_columns(_could=could.fill_null(False), _head=referrer_head())
        bots = self._bots(lf) if cfg.exclude_bots else pl.Series("ua", [], dtype=pl.String)
        keys = ["_head", formats.VHOST]
        suppliers = (
            lf.select(keys).unique()
            .with_columns(_host=referrer_host("_head"), _vhost=vhost_name())
            .select(*keys, supplier=supplier_expr(cfg.suppliers, cfg.default_supplier))
        )
        return (
            lf.with_columns(_bot=pl.col(formats.USER_AGENT).is_in(bots.implode()))
            .join(suppliers, on=keys, how="left", nulls_equal=True, maintain_order="left")
            .with_columns(reason=decide.reason(rules))
            .with_columns(supplier=pl.when(pl.col("reason").is_null()).then("supplier"))
            .drop("_could", "_head")
            .collect()
        )

    def _bots(self, lf: pl.LazyFrame) -> pl.Series:
        """The agents among these rows' (those that could be views) that crawlerdetect calls crawlers."""
        agents = lf.filter(pl.col("_could")).select(pl.col(formats.USER_AGENT).drop_nulls().unique().alias("ua"))
        with self._lock:  # batches are classified on worker threads; each agent is asked once
            new = agents.join(self._verdicts.lazy(), on="ua", how="anti").collect().get_column("ua").to_list()
            if new:
                verdicts = detector().verdicts(new)
                table = pl.DataFrame({"ua": list(verdicts), "_bot": list(verdicts.values())},
                                     schema=self._verdicts.schema)
                self._verdicts = pl.concat([self._verdicts, table])
                self._bot_agents = self._verdicts.filter(pl.col("_bot")).get_column("ua")
            return self._bot_agents


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


def referrer_head() -> pl.Expr:
    """The referrer up to its third slash: all that ``referrer_host`` reads.

    ``scheme://`` holds the first two slashes and neither userinfo nor host
    may hold one, so the host found in the head is the host of the whole.
    (One leftmost match, no capture: cheaper than cutting at the slashes.)
    """
    return pl.col(formats.REFERRER).str.extract(r"^[^/]*(?:/[^/]*(?:/[^/]*)?)?", 0)


def referrer_host(column: str = formats.REFERRER) -> pl.Expr:
    return (
        pl.col(column)
        .str.extract(_REFERRER_HOST, 1)
        .str.to_lowercase()
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
