"""Where the state is (a SQLite file or a PostgreSQL URL) and opening it for one site and host."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..config import Fleet
from ..errors import ConfigError
from .interface import Store

POSTGRES_SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True)
class Location:
    """A state's place: ``path`` for SQLite, ``url`` for PostgreSQL (never with a password)."""

    path: Path | None = None
    url: str | None = None
    local_dir: Path | None = None  # a PostgreSQL state's local files (refused documents); default: the cwd

    @property
    def shown(self) -> str:
        from .postgres import shown

        return shown(self.url) if self.url else str(self.path)

    def own_files(self) -> list[tuple[str, str]]:
        """The files of a SQLite state, each with what it is (none for PostgreSQL's): never a log to read, nor
        an output to replace (``export -o state.db`` replaced a site's history)."""
        if self.path is None:
            return []
        return [(f"{self.path}{end}", what) for end, what in (
            ("", "the state"), ("-wal", "the state's journal"), ("-journal", "the state's journal"),
            ("-shm", "the state's shared memory"), (".lock", "the state's lock"))]

    def exists(self) -> bool:
        """Whether there is a state to read (a PostgreSQL one is asked when opened)."""
        return self.url is not None or (self.path is not None and self.path.exists())


def parse(text: str | Path, where: str = "--state") -> Location:
    """``sqlite:///ABSOLUTE/PATH`` (four slashes work too), ``postgresql://...`` or a plain path."""
    if isinstance(text, Path):
        return Location(path=text)
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme in POSTGRES_SCHEMES:
        from .postgres import check_url

        return Location(url=check_url(text, where))
    if scheme == "sqlite":
        path = unquote(urlsplit(text).path)
        path = "/" + path.lstrip("/") if path.startswith("/") else path  # sqlite:////abs as sqlite:///abs
        if not path:
            raise ConfigError(f"{where}: {text!r} names no file", "write sqlite:////var/lib/logtrack/state.db")
        return Location(path=Path(path))
    if scheme:
        raise ConfigError(f"{where}: {scheme}:// is not a state logtrack keeps",
                          "use a path, sqlite:///PATH, or postgresql://USER@HOST/DB")
    return Location(path=Path(text))


@contextmanager
def open_state(where: Location, fleet: Fleet, *, lock_wait: float = 60.0, readonly: bool = False) -> Iterator[Store]:
    """The state at ``where``, for ``fleet``'s site and host, its lock held (unless ``readonly``)."""
    if where.url is not None:
        from .postgres import PgState
        from .store import machine_host

        with PgState.open(where.url, host=fleet.host or machine_host(), site=fleet.site, lock_wait=lock_wait,
                          readonly=readonly, local_dir=where.local_dir or Path.cwd()) as pg:
            yield pg
        return
    assert where.path is not None
    from .store import State

    with State.open(where.path, lock_wait=lock_wait, readonly=readonly, site=fleet.site, host=fleet.host) as db:
        yield db
