"""Bots: crawlerdetect's verdict on many user agents at once, run by Polars.

crawlerdetect is the list we trust (1,400-odd crawler patterns, a list of
exclusions, kept up to date by its maintainers), but its Python regex costs
about half a millisecond per user agent, and a busy site's day holds tens
of thousands of distinct agents. Its algorithm is small: strip the agent,
delete every exclusion match, and call it a crawler when what is left is
not empty and a crawler pattern is found in it. Here the same steps run as
Rust regexes over the whole column of distinct agents. The few patterns
the Rust engine cannot run (a look-ahead) are kept in one small Python
regex, asked only about agents the Rust patterns did not already call bots.
No pattern matches the empty string, so "some alternative matches" is
exactly what crawlerdetect's one big alternation decides.
``tests/test_bots.py`` checks the verdicts against crawlerdetect itself.

Polars keeps compiled regexes per thread, and the crawler alternation takes
some 18 ms to compile: asked from whichever worker thread counts a batch,
it was compiled once per worker, in the first batches, under the lock that
keeps each agent asked once. All asking is done on one thread of its own
(``ask``), which also builds the detector ahead of the first batch
(``warm``): compiled once a run, while the first batch is read.
"""

from __future__ import annotations

import re
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache

import polars as pl

# What Python's str.strip() removes (crawlerdetect strips first); Rust's
# notion of whitespace is different, so the set is spelled out.
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
              "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
_LOOKAROUND = re.compile(r"\(\?<?[=!][^()]*\)")
_LOOKAROUND_START = re.compile(r"\(\?<?[=!]|\\[1-9]")  # and back-references: what Rust regex lacks


class BotDetector:
    """crawlerdetect's patterns, sorted once into the ones Rust runs and the rest."""

    def __init__(self) -> None:
        from crawlerdetect.providers.crawlers import data as crawlers
        from crawlerdetect.providers.exclusions import data as exclusions

        rust_runs_all = _compiles("(?i)(?:" + "|".join(p for p in crawlers if not _LOOKAROUND_START.search(p)) + ")")
        rust, python, hints = [], [], []
        for pattern in crawlers:
            # A later crawlerdetect may bring syntax Rust lacks besides look-arounds:
            # then each pattern is tried on its own (slower, once a run).
            if not _LOOKAROUND_START.search(pattern) and (rust_runs_all or _compiles("(?i)" + pattern)):
                rust.append(pattern)
                continue
            python.append(pattern)
            # The pattern without its look-arounds matches wherever it does:
            # a cheap Rust pass picks the few agents worth asking Python about.
            hint = _LOOKAROUND.sub("", pattern)
            hints.append(hint if not _LOOKAROUND_START.search(hint) and _compiles("(?i)" + hint) else "")
        self.crawlers = "(?i)(?:" + "|".join(rust) + ")"
        self.exclusions = "(?i)(?:" + "|".join(exclusions) + ")"
        if not _compiles(self.exclusions):
            raise RuntimeError("crawlerdetect's exclusions no longer compile as a Rust regex; "
                               "pin the crawlerdetect version logtrack was tested with")
        self.leftover = re.compile("(?:" + "|".join(python) + ")", re.IGNORECASE) if python else None
        self.hint = "(?i)(?:" + "|".join(hints) + ")" if python and all(hints) else ""

    def remains(self, agent: pl.Expr) -> pl.Expr:
        """What crawlerdetect looks for crawlers in: the agent stripped, every exclusion match deleted."""
        return agent.str.strip_chars(WHITESPACE).str.replace_all(self.exclusions, "")

    def crawler(self, remains: pl.Expr) -> pl.Expr:
        """Whether the Rust-run patterns find a crawler in an agent's ``remains`` (the rest: ``verdicts``)."""
        return (remains != "") & remains.str.contains(self.crawlers)

    def verdicts(self, agents: list[str]) -> dict[str, bool]:
        """Each agent -> whether crawlerdetect calls it a crawler."""
        if not agents:
            return {}
        frame = pl.DataFrame({"ua": agents}, schema={"ua": pl.String}).with_columns(
            _agent=self.remains(pl.col("ua"))).with_columns(bot=self.crawler(pl.col("_agent")))
        verdicts = dict(zip(agents, frame.get_column("bot").to_list(), strict=True))
        if self.leftover is not None:
            rest = frame.filter(~pl.col("bot") & (pl.col("_agent") != ""))
            if self.hint:
                rest = rest.filter(pl.col("_agent").str.contains(self.hint))
            for ua, agent in rest.select("ua", "_agent").iter_rows():
                verdicts[ua] = self.leftover.search(agent) is not None
        return verdicts


@cache
def detector() -> BotDetector:
    return BotDetector()


@cache
def _asker() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="logtrack-bots")


def warm() -> Future[BotDetector]:
    """Build the detector on the asking thread now, so that its regexes are compiled before a batch asks."""
    return _asker().submit(detector)


def ask(agents: list[str]) -> dict[str, bool]:
    """``detector().verdicts(agents)``, on the asking thread, where the regexes are compiled already."""
    return _asker().submit(lambda: detector().verdicts(agents)).result()


def _compiles(regex: str) -> bool:
    try:
        pl.Series([""], dtype=pl.String).str.contains(regex)
    except pl.exceptions.ComputeError:
        return False
    return True

