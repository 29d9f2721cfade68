"""flexmls.upload on its own: posts never split a View, the window, the key kept out of every message."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from logtrack.errors import ConfigError
from logtrack.flexmls.upload import in_window, load_api_key, redact, split_posts


def test_posts_never_split_a_view() -> None:
    day = datetime(2026, 11, 1).date()
    counts = pl.DataFrame(
        {"day": [day] * 7, "supplier": ["", "", "", "Z", "Z", "Y", "Y"], "listing": list("abcdefg"),
         "views": [1] * 7})
    posts = list(split_posts(counts, 3))
    assert [p.get_column("supplier").to_list() for p in posts] == [["", "", ""], ["Z", "Z"], ["Y", "Y"]]
    assert sum(p.height for p in posts) == 7


@pytest.mark.parametrize(("utc", "window", "inside"), [
    ("2026-11-02T04:30", "22:00-06:00", True),   # 22:30 in Chicago (CST): inside a window across midnight
    ("2026-11-02T03:59", "22:00-06:00", False),  # 21:59
    ("2026-11-02T11:59", "22:00-06:00", True),   # 05:59
    ("2026-11-02T12:00", "22:00-06:00", False),  # 06:00: the end is outside
    ("2026-07-02T03:30", "22:00-06:00", True),   # 22:30 in CDT: the zone's summer time is followed
    ("2026-11-02T15:00", "09:00-17:00", True),   # a window within one day
])
def test_the_posting_window_is_in_its_zone(utc: str, window: str, inside: bool) -> None:
    now = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert in_window(now, window, "America/Chicago") is inside


def test_the_key_comes_from_the_environment_or_a_private_file(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("s3cr3t\n")
    key_file.chmod(0o644)
    with pytest.raises(ConfigError, match="can be read by others") as err:
        load_api_key(None, str(key_file))
    assert "s3cr3t" not in str(err.value)
    key_file.chmod(0o600)
    assert load_api_key(None, str(key_file)) == "s3cr3t"
    assert load_api_key(" from-env ", str(key_file)) == "from-env"
    with pytest.raises(ConfigError, match="no flexmls API key"):
        load_api_key(None, None)
    assert redact("GET /views/s3cr3t/ failed", "s3cr3t") == "GET /views/[api-key]/ failed"
