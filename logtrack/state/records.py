"""What a state hands the jobs: rows as frozen records, independent of the backend that kept them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

FINGERPRINT_BYTES = 4096
DEFAULT_SITE = "default"


@dataclass(frozen=True)
class FileRecord:
    id: int
    fp_len: int
    fp_hash: str
    offset: int
    lines: int
    last_name: str
    dev: int | None
    inode: int | None
    raw_size: int | None
    mtime_ns: int | None
    complete: bool
    last_ts: int | None = None
    recount_since: int | None = None
    tail_hash: str | None = None


@dataclass(frozen=True)
class Advance:
    """One file's commit: a batch's counts (and lines per outcome) with the read position after them.

    ``last_ts`` is the latest line time read from the file so far;
    ``recount_since`` stays set while a file cut back is read again;
    ``tail_hash`` is what the file holds just before the new position.
    """

    record_id: int
    offset: int
    lines: int
    name: str
    counts: pl.DataFrame
    last_ts: int | None = None
    recount_since: int | None = None
    tail_hash: str | None = None
    outcomes: pl.DataFrame | None = None


@dataclass(frozen=True)
class Upload:
    at: float
    days: list[str]
    ok: bool
    http_status: int | None
    message: str
    host: str | None = None  # the host that posted (None: a state from before hosts were kept)


@dataclass(frozen=True)
class HostRecord:
    """One server of a site, as its runs left it.

    ``read_all_started`` is when the latest run that read every one of its
    logs to the end began: every line that host wrote before then is
    counted, which is what tells the uploader a day is finished there.
    """

    host: str
    rules: str | None  # the signature of the rules its counts were made under (None: none yet)
    first_run: float
    run_started: float | None
    run_finished: float | None
    read_all_started: float | None
    last_line_ts: int | None  # the latest line time read (µs since 1970), over its files
    has_counts: bool = False


def fingerprint(head: bytes, length: int) -> str:
    return hashlib.sha256(head[:length]).hexdigest()
