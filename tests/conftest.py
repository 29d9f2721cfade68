"""Shared fixtures. Time zone pinned so no test depends on the machine's."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from lxml import etree

os.environ["TZ"] = "UTC"
time.tzset()
sys.path.insert(0, str(Path(__file__).parent))

import loggen  # noqa: E402 - found through the line above

ROOT = Path(__file__).resolve().parent.parent
SITE_TZ = "America/Chicago"


def docker_line(text: str, stream: str = "stdout") -> str:
    """``text`` (with its newline) as Docker's json-file driver files it: Go's encoder escapes "&", "<" and ">"."""
    record = json.dumps({"log": text, "stream": stream, "time": "2026-11-29T22:25:14.1Z"}, separators=(",", ":"))
    return record.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


@contextmanager
def sqlite_db(target: Path | str, **kwargs: object) -> Iterator[sqlite3.Connection]:
    """A test's own connection to a state: what the block wrote committed, and the connection closed as it ends.

    (``with sqlite3.connect(...)`` only commits: the connection stays open until the collector frees it,
    holding POSIX locks on the state that closing any other descriptor of the file in this process drops. A
    run in another process then takes itself for the only one and deletes the WAL from under it, and the next
    run in this process, the ``cli`` fixture's, reads the state as "malformed".)
    """
    db = sqlite3.connect(target, **kwargs)  # type: ignore[arg-type]
    try:
        with db:
            yield db
    finally:
        db.close()


def xml_counts(document: bytes) -> Counter[tuple[str, str, str]]:
    """(day, supplier, listing) -> views, read back from a ViewTracking document."""
    root = etree.fromstring(document)
    got: Counter[tuple[str, str, str]] = Counter()
    for view in root.iter("View"):
        day = view.findtext("ViewDate")
        supplier = view.findtext("ViewSupplierName") or ""
        for listing in view.iter("Listing"):
            key = (day, supplier, listing.findtext("ListingId"))
            assert key not in got, f"listing listed twice in one View: {key}"
            got[key] = int(listing.findtext("ViewCount"))
    return got


@pytest.fixture(autouse=True)
def no_config_found_by_default(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test picks up a logtrack.toml of the machine's (the user's config dir, /etc) unless it says so."""
    import logtrack.config.files

    home = tmp_path_factory.mktemp("config-home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("LOGTRACK_CONFIG", raising=False)
    monkeypatch.setattr(logtrack.config.files, "SYSTEM_CONFIG", home / "etc-logtrack.toml")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, Path, loggen.Generated]]:
    """A log folder, a config, and 6000 generated lines with their ground truth."""
    logs = tmp_path / "logs"
    logs.mkdir()
    conf = tmp_path / "logtrack.toml"
    conf.write_text(loggen.config_toml("combined", SITE_TZ))
    gen = loggen.generate(21, 6000, "combined", "nginx", [-6, -5, 0], SITE_TZ, loggen.START, 4,
                          damaged_every=151, chronological=True)
    yield logs, conf, gen


@pytest.fixture
def cli():
    """Run logtrack in-process; returns (exit_code, stdout bytes, stderr str)."""
    from typer.testing import CliRunner

    from logtrack.cli.main import app

    runner = CliRunner()

    def run(*args: str, input: bytes | str | None = None) -> tuple[int, bytes, str]:
        result = runner.invoke(app, list(args), input=input)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout_bytes, result.stderr

    return run


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    """One real PostgreSQL for the session (Debian's postgresql package, installed by .ci/run)."""
    import servers

    if servers.PG_BIN is None:
        pytest.skip("PostgreSQL's initdb/pg_ctl are not installed (Debian package postgresql)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (pip install 'logtrack[postgres]')")
    with servers.postgres() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgres"])
def state_at(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's state is, on each backend: a SQLite file, or a database of its own in a real PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "state.db")
    server = request.getfixturevalue("pg_server")
    return str(server.new_database())
