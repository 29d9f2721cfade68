"""Reading ahead: the next whole small files read before their turn, so that ``auto`` judges their formats together.

Over a directory of small files (a CDN's five-minute logs), judging each
file's format on its own cost more than counting it: some 5 ms a file on
the main thread, where counting a joined group costs well under one
(``parse.detect.detect_files`` says why). ``xml`` and ``run`` both open
their files through ``read_ahead``: while the files waiting for ``auto``
are each read whole in one short batch, they are read ahead, half a
batch's worth at a time, and their formats judged in one go (on a thread
of its own, while the next group is read); a file that is not
(a large one, one named in a format, one ``run`` resumes mid-way) ends
the group and is opened by the caller as before.

Reading ahead changes nothing a user sees but the time: what reading a
file said (a truncated gzip member, a line too long) is held until the
file's turn and said then, each message where it came between the file's
batches; an error that ended its reading is raised in its place, after
the batches read before it. Neither Polars nor the detection itself is
imported here: the caller passes its ``judge``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from ..errors import InputError
from ..formats import LogFormat
from .sources import Batch, batch_bytes_wanted

T = TypeVar("T")
Say = Callable[[str], None]
Handed = tuple[T, "Opened | None"]  # an item, and its file where it was read ahead


class Held:
    """What reading one file ahead said (through ``through``), held until the file's turn, then said as it comes."""

    def __init__(self) -> None:
        self._said: list[tuple[Say, str]] = []
        self._told = 0  # of them said already
        self._live = False

    def through(self, say: Say | None) -> Say | None:
        """``say``, held while the file waits for its turn."""
        if say is None:
            return None

        def held(message: str) -> None:
            if self._live:
                say(message)
            else:
                self._said.append((say, message))

        return held

    @property
    def count(self) -> int:
        return len(self._said)

    def release(self, upto: int | None = None) -> None:
        """Say what was held, up to the ``upto``-th message (all of it, and from now on as it comes, by default)."""
        end = len(self._said) if upto is None else upto
        for say, message in self._said[self._told:end]:
            say(message)
        self._told = max(self._told, end)
        if upto is None:
            self._said, self._told, self._live = [], 0, True


class InTurn:
    """Messages said in the order they were made, where some wait for a place (``hold``) to be filled.

    A file whose format ``auto`` gave on trust (``parse.detect.detect_files``)
    is said to be in it only once its counting confirms it, after later
    files' messages were made: its format line keeps its place, and what
    comes after it waits (a few files' worth: the counting's read-ahead).
    """

    def __init__(self) -> None:
        self._waiting: deque[Callable[[], None] | Place] = deque()

    def say(self, said: Callable[[], None]) -> None:
        """``said()`` now, or once what was held before it is said."""
        if self._waiting:
            self._waiting.append(said)
        else:
            said()

    def hold(self) -> Place:
        """A place for what is to be said later, there."""
        place = Place()
        self._waiting.append(place)
        return place

    def fill(self, place: Place, said: list[Callable[[], None]]) -> None:
        place.said = said
        self._release()

    def flush(self) -> None:
        """Say everything waiting, places not filled left out (the count ended before their files were)."""
        for place in self._waiting:
            if isinstance(place, Place) and place.said is None:
                place.said = []
        self._release()

    def _release(self) -> None:
        while self._waiting:
            first = self._waiting[0]
            if isinstance(first, Place):
                if first.said is None:
                    return
                self._waiting.popleft()
                for say in first.said:
                    say()
            else:
                self._waiting.popleft()
                first()


@dataclass
class Place:
    """Where ``InTurn`` holds what is to be said later (``said``: None until filled)."""

    said: list[Callable[[], None]] | None = None


def through(held: Held | None, say: Say | None) -> Say | None:
    """``say``, held by ``held`` where the file is read ahead, else as it is (``open_`` of ``read_ahead``)."""
    return say if held is None else held.through(say)


@dataclass
class Opened:
    """A file read ahead: its batches from the start (those read ahead first), and its format, where judged."""

    batches: Iterator[Batch]
    format: LogFormat | None  # what ``judge`` made of it; None: judge it as a file alone


@dataclass
class _Read:
    held: Held
    batches: list[tuple[Batch, int]] = field(default_factory=list)  # each, with how much was said before it came
    rest: Iterator[Batch] | None = None  # its reader, where it has more; None: read to its end
    error: InputError | None = None  # what ended its reading

    @property
    def whole(self) -> Batch | None:
        """Its one batch, where that was the whole file, read without error."""
        return self.batches[0][0] if len(self.batches) == 1 and self.rest is None and self.error is None else None

    def replay(self) -> Iterator[Batch]:
        for batch, said in self.batches:
            self.held.release(said)
            yield batch
        self.held.release()
        if self.error is not None:
            raise self.error
        if self.rest is not None:
            yield from self.rest


def read_ahead(items: Iterable[T], open_: Callable[[T, Held], Iterator[Batch]], ahead: Callable[[T], bool],
               judge: Callable[[list[Batch]], list[LogFormat | None]]) -> Iterator[Handed[T]]:
    """Each item in order, with its file ``Opened`` where it was read ahead, else None (the caller opens it).

    ``ahead``: whether the item may be read ahead (its format is for
    ``auto`` to judge, it is read from its start); ``open_``: its batches,
    what its reader says going through the ``Held`` given; ``judge``: the
    formats of several whole files, None for one to be judged alone.

    A group is judged on a thread of its own while the next is read (and
    the one before is handed out): judging is Polars' work, which lets go
    of the GIL, and reading is this thread's. A group is at most half a
    batch's worth, so that the two held at once take a batch's memory
    (2,000 files of 500 lines: 3.1 to 3.4 s and 450 MiB peak, against 3.0
    to 3.3 s and 550 to 590 MiB with groups of a batch, and 3.4 to 3.6 s
    and 480 to 510 MiB judged on this thread).
    """
    limit = batch_bytes_wanted()
    group: list[tuple[T, _Read]] = []
    size = 0
    judging: Callable[[], Iterator[Handed[T]]] | None = None  # the group judged meanwhile

    def judged(taken: list[tuple[T, _Read]], pool: ThreadPoolExecutor) -> Callable[[], Iterator[Handed[T]]]:
        whole = [(n, batch) for n, (_, read) in enumerate(taken) if (batch := read.whole) is not None]
        found = pool.submit(judge, [batch for _, batch in whole]) if len(whole) > 1 else None  # (one: as one)

        def handed() -> Iterator[Handed[T]]:
            formats = dict(zip((n for n, _ in whole), found.result(), strict=True)) if found is not None else {}
            for n, (item, read) in enumerate(taken):
                yield item, Opened(read.replay(), formats.get(n))

        return handed

    def flush(pool: ThreadPoolExecutor, *, wait: bool) -> Iterator[Handed[T]]:
        """The group read is given to be judged, and the one judged before it handed out; with ``wait``,
        this one too."""
        nonlocal group, size, judging
        before, judging = judging, (judged(group, pool) if group else None)
        group, size = [], 0
        if before is not None:
            yield from before()
        if wait and judging is not None:
            yield from judging()
            judging = None

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="logtrack-judge") as pool:
        for item in items:
            if not ahead(item):
                yield from flush(pool, wait=True)
                yield item, None
                continue
            read = _Read(Held())
            reader = open_(item, read.held)
            try:
                for batch in reader:
                    read.batches.append((batch, read.held.count))
                    if len(read.batches) > 1 or 2 * len(batch.data) >= limit:  # not a whole small file: read on later
                        read.rest = reader
                        break
            except InputError as exc:
                read.error = exc
            group.append((item, read))
            size += sum(len(batch.data) for batch, _ in read.batches)
            if read.rest is not None:  # (a large file is handed out before the next is read)
                yield from flush(pool, wait=True)
            elif 2 * size >= limit:
                yield from flush(pool, wait=False)
        yield from flush(pool, wait=True)
