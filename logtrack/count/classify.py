"""Classify: which parsed lines are listing views, of which listing and supplier.

Everything here is a whole-column Polars expression. Bots are decided per
distinct user agent (``bots``: crawlerdetect's patterns run by Polars), the
answer kept for the run.
"""

from __future__ import annotations

import threading

import polars as pl

from .. import formats, frames
from ..config import CountingRules, SupplierRule
from ..verdicts import decide
from ..verdicts.decide import Rules, passed_parse_and_since, vhost_name
from ..verdicts.reasons import NotCounted
from . import bots

# scheme://[userinfo@]host[:port]... -> host (an IPv6 literal keeps its brackets)
_REFERRER_HOST = r"^[A-Za-z][A-Za-z0-9+.\-]*://(?:[^@/?#\s]*@)?(\[[^\]/]*\]|[^/:?#\s\\]+)"


# Two seeds of Polars' 64-bit string hash: an agent is "asked before" when both its hashes were seen.
_SEEDS = (0x6C6F67, 0x747261636B)


class Classifier:
    """Holds the compiled rules and the bot verdicts for one run.

    Each distinct agent is asked about once a run (``agents`` finds the new
    ones, ``learn`` asks); the crawlers among them are kept, and a row's
    verdict is whether its agent is one of them: an exact string match, on
    the (few) crawlers only. Whether an agent was asked before is told by
    two independent 64-bit hashes of it, in Polars: no Python object per
    agent and batch. An agent would be missed only if both its hashes
    equalled those of another agent, a chance of about n/2^128 for n agents
    seen (n = 10^6 gives 10^-32). Verdicts are not kept between runs: asking
    costs a few microseconds an agent, less than looking one up in the
    state database did.
    """

    def __init__(self, rules: CountingRules) -> None:
        self.rules = rules
        self._asked = tuple(pl.Series([], dtype=pl.UInt64) for _ in _SEEDS)  # the hashes of the agents asked
        self._bot_agents = pl.Series("ua", [], dtype=pl.String)  # the crawlers among them
        self._lock = threading.Lock()
        if rules.exclude_bots:
            # The detector's regexes compile on the asking thread (some 25 ms) while the first batch is
            # read and cut, not in its critical path, with the other worker waiting on the lock.
            bots.warm()

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
        df = df.with_columns(listing=pl.when(hit).then(listing_expr(self.rules.patterns))).with_columns(
            listing=xml_listing())
        return self.judge(df, rules).drop("_bot")

    def judge(self, df: pl.DataFrame, rules: Rules) -> pl.DataFrame:
        """Rows with ``listing`` (null: not a listing page) -> their ``supplier``, ``_bot`` and final reason.

        A supplier is kept only on a counted row.
        """
        lf = frames.collect(self.with_suppliers(df.lazy().with_columns(_head=referrer_head()))).lazy()
        self.learn(frames.collect(self.agents(lf, rules)))
        judged = self.verdicts(lf, rules).with_columns(supplier=pl.when(pl.col("reason").is_null()).then("supplier"))
        return frames.collect(judged)

    def with_suppliers(self, lf: pl.LazyFrame) -> pl.LazyFrame:
        """Rows with the referrer's head (``_head``: ``referrer_head``) -> their ``supplier``, instead of it.

        The supplier depends only on the referrer's scheme and authority
        (all before its third slash) and on the virtual host: worked out
        once per distinct pair and joined back.
        """
        cfg = self.rules
        keys = ["_head", formats.VHOST]
        suppliers = (
            lf.select(keys).unique()
            .with_columns(_host=referrer_host("_head"), _vhost=vhost_name())
            .select(*keys, supplier=supplier_expr(cfg.suppliers, cfg.default_supplier))
        )
        return lf.join(suppliers, on=keys, how="left", nulls_equal=True, maintain_order="left").drop("_head")

    def agents(self, lf: pl.LazyFrame, rules: Rules) -> pl.LazyFrame:
        """The distinct agents of the rows that are views unless a crawler sent them, not asked before.

        Which rows those are is ``decide``'s table up to its bot step (``decide.reaches``).

        (``ua``, and ``_h0``, ``_h1``, their hashes), for ``learn``.
        """
        if not self.rules.exclude_bots:
            return pl.LazyFrame(schema={"ua": pl.String, **{f"_h{i}": pl.UInt64 for i, _ in enumerate(_SEEDS)}})
        could = decide.reaches(NotCounted.BOT, rules)
        ua = pl.col("ua")
        asked = self._asked  # as now: another batch may add to it before ``learn``, which looks again
        # Hashed row by row and told apart before any agent is made distinct: once the site's agents
        # have been seen, no batch compares a string.
        return (
            lf.filter(could.fill_null(False)).select(pl.col(formats.USER_AGENT).alias("ua")).drop_nulls()
            .with_columns(ua.hash(seed).alias(f"_h{i}") for i, seed in enumerate(_SEEDS))
            .filter(~self._seen(asked))
            .unique(subset=[f"_h{i}" for i, _ in enumerate(_SEEDS)])
        )

    def learn(self, agents: pl.DataFrame) -> None:
        """Ask crawlerdetect about these agents (from ``agents``), and keep the crawlers among them.

        Batches are classified on worker threads: under a lock, the agents
        another batch asked about since are left out, so each is asked once.
        """
        if agents.is_empty():
            return
        with self._lock:
            agents = agents.filter(~self._seen(self._asked))
            if agents.is_empty():
                return
            verdicts = bots.ask(agents.get_column("ua").to_list())
            self._asked = tuple(pl.concat([seen, agents.get_column(f"_h{i}")]).rechunk()
                                for i, seen in enumerate(self._asked))
            crawlers = [agent for agent, bot in verdicts.items() if bot]
            if crawlers:
                self._bot_agents = pl.concat([self._bot_agents, pl.Series("ua", crawlers, dtype=pl.String)])

    @staticmethod
    def _seen(asked: tuple[pl.Series, ...]) -> pl.Expr:
        """Whether an agent (its hashes ``_h0``, ``_h1``) was asked about: both hashes seen."""
        return pl.all_horizontal(pl.col(f"_h{i}").is_in(seen.implode()) for i, seen in enumerate(asked))

    def verdicts(self, lf: pl.LazyFrame, rules: Rules) -> pl.LazyFrame:
        """Candidate rows, their agents learned (``learn``) -> ``_bot`` and the final reason."""
        return (
            lf.with_columns(_bot=pl.col(formats.USER_AGENT).is_in(self._bot_agents.implode()))
            .with_columns(reason=decide.reason(rules))
        )


# What XML 1.0 cannot hold (outside its Char production): a control character, a lone surrogate, U+FFFE/F.
_NOT_XML = r"[^\t\n\r\x20-\x{D7FF}\x{E000}-\x{FFFD}\x{10000}-\x{10FFFF}]"


def listing_expr(patterns: tuple[str, ...]) -> pl.Expr:
    """The listing id from the first pattern that matches the target, else null (then ``xml_listing``)."""
    target = pl.col("target")
    ids = []
    for pattern in patterns:
        found = target.str.extract_groups(pattern).struct.field("id")
        ids.append(pl.when(found.str.len_bytes() > 0).then(found))
    if not ids:
        return pl.lit(None, dtype=pl.String)
    return pl.coalesce(ids)


def xml_listing() -> pl.Expr:
    """``listing`` where XML can hold it, else null: applied to the column once ``listing_expr`` made it.

    An id XML cannot hold (a control character a pattern's ``[^/]+`` took
    from a target logged unescaped, or decoded from JSON's ``\\u0001``) is no
    listing id: such a line is not a listing page, as the README's reason
    table says, rather than a document lxml refuses at the run's end.
    (A step of its own: written around ``listing_expr`` in one expression,
    the ids were captured twice, 3 % of a run's CPU.)
    """
    listing = pl.col("listing")
    return pl.when(~listing.str.contains(_NOT_XML)).then(listing)


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
