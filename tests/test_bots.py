"""Bot verdicts run by Polars agree with crawlerdetect itself, agent for agent."""

from __future__ import annotations

import re
from pathlib import Path

from crawlerdetect import CrawlerDetect
from crawlerdetect.providers.crawlers import data as crawler_patterns
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logtrack.count.bots import WHITESPACE, detector

import loggen

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _literal(pattern: str) -> str:
    """A string a crawler pattern is likely to match: its text without regex syntax."""
    text = re.sub(r"\(\?<?[=!][^()]*\)", "", pattern)
    text = re.sub(r"\\(.)", r"\1", text)
    return re.sub(r"[\^$()\[\]|?*+{}]", "", text)


def _agents() -> list[str]:
    agents = {_literal(p) for p in crawler_patterns}
    agents |= {f"Mozilla/5.0 (compatible; {_literal(p)}/1.0)" for p in crawler_patterns}
    agents |= set(loggen.HUMAN_AGENTS) | set(loggen.BOT_AGENTS)
    agents |= {"", " ", "Yandex", "YandexSearch/1.0", "Mozilla YandexBot", "  Googlebot  ", "\x1cbot\x1c",
               "Dalvik/2.1.0 (Linux; U; Android 13)", "-", "curl/8.5.0", "python-requests/2.31"}
    if CORPORA.is_dir():
        for path in CORPORA.rglob("*"):
            if path.is_file():
                for line in path.read_text(errors="replace").splitlines():
                    quoted = _QUOTED.findall(line)
                    if quoted:
                        agents.add(quoted[-1])
    return sorted(agents)


def test_every_known_agent_gets_crawlerdetects_verdict() -> None:
    agents = _agents()
    assert len(agents) > 2500
    ours = detector().verdicts(agents)
    reference = CrawlerDetect()
    assert len(detector().crawlers) > 15000 and detector().leftover is not None  # most patterns run in Rust
    differ = [a for a in agents if ours[a] != reference.is_crawler(a)]
    assert differ == []
    assert sum(ours.values()) > 1400  # the pattern-derived agents are bots


fragments = st.sampled_from(["bot", "Bot", "crawl", "spider", "Yandex", "Search", "Mozilla/5.0", " ", "(", ")",
                             ";", "/", "compatible", "Google", "facebookexternalhit", "Chrome/120", "Safari",
                             "http://", ".com", "ÿ", "İ", "\u017f", "\u212a", "\t", "\\x22", "-", "1.0"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(fragments, max_size=8).map("".join), min_size=1, max_size=30))
def test_made_up_agents_get_crawlerdetects_verdict(agents: list[str]) -> None:
    ours = detector().verdicts(agents)
    reference = CrawlerDetect()
    assert {a: ours[a] for a in agents} == {a: reference.is_crawler(a) for a in agents}


def test_whitespace_is_what_python_strips() -> None:
    assert "".join(c for c in map(chr, range(0x110000)) if c.isspace()) == WHITESPACE
