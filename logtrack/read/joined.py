"""Whole small files waiting to be counted as one batch (``count.batch.count_files``): which may wait, and when
a group is full.

``xml`` and ``run`` both hold a file's first batch until its reader says it
was the file's last, and join such files while their format is the same and
their lines fit in a batch: the rule lives here, once; what each pipeline
does around it (its jobs, their order) stays its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Generic, TypeVar

from ..formats import LogFormat
from . import sources

T = TypeVar("T")


def joins_files(fmt: LogFormat) -> bool:
    """Whether whole files in ``fmt`` can be counted together (``count_files``).

    Not a format whose lines a container runtime splits, or that wraps
    another's (their lines are put back together within a file). A W3C
    log's files are, where each is one batch in one format: a header that
    changes the fields cuts a file's batch there (``w3c_sections.follow``),
    so such a file is never held whole, and its header lines are notice
    lines in the format they set, alone or joined (CloudFront writes a
    small file, its header on top, every few minutes).
    """
    return not fmt.parts and fmt.inner is None


class Joining(Generic[T]):
    """Files (each ``T``, with its one batch) gathered to be counted as one batch of at most a batch's size."""

    def __init__(self) -> None:
        self.limit = sources.batch_bytes_wanted()
        self._files: list[tuple[T, sources.Batch]] = []
        self._fmt: LogFormat | None = None
        self._size = 0

    def may_hold(self, batch: sources.Batch, fmt: LogFormat) -> bool:
        """Whether a file's first batch is worth holding until its end: short enough to be its last.

        (A batch of half a batch's size or more is a large file's first,
        which is not held back while the next is read.)
        """
        return joins_files(fmt) and 2 * len(batch.data) < self.limit

    def fits(self, batch: sources.Batch, fmt: LogFormat) -> bool:
        """Whether a whole file's batch can join the files gathered (else they are taken first)."""
        return not self._files or (fmt == self._fmt and self._size + len(batch.data) <= self.limit)

    def add(self, item: T, batch: sources.Batch, fmt: LogFormat) -> None:
        self._files.append((item, batch))
        self._fmt, self._size = fmt, self._size + len(batch.data) + 1

    def take(self) -> tuple[list[tuple[T, sources.Batch]], LogFormat, bytes] | None:
        """The files gathered (their batches without data of their own), their format and their lines joined;
        None when there are none. The memory of one batch, not two."""
        if not self._files:
            return None
        assert self._fmt is not None
        data = b"\n".join(batch.data for _, batch in self._files)
        files = [(item, replace(batch, data=b"")) for item, batch in self._files]
        self._files, self._size = [], 0
        return files, self._fmt, data


def one_of(data: bytes, batches: Sequence[sources.Batch], n: int) -> sources.Batch:
    """The ``n``-th of whole files counted together (``take``'s batches, without data of their own), with its
    lines, taken from ``data``, the files' lines joined: for the rare file judged again alone."""
    start, count = sum(batch.lines for batch in batches[:n]), batches[n].lines
    return replace(batches[n], data=b"\n".join(data.split(b"\n", start + count)[start: start + count]))
