"""The account of a run: counts per key, lines per reason, first examples.

Polars is loaded only when counts are merged, so that a run that reads
nothing never loads it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING

from ..verdicts.reasons import DAMAGED, Skip

if TYPE_CHECKING:
    import polars as pl

KEYS = ["day", "supplier", "listing"]


@dataclass(frozen=True)
class Example:
    """The first line that got a reason, so messages can point at it."""

    source: str
    line_no: int
    line: str


@dataclass(frozen=True)
class BatchSummary:
    """What one batch contributes: small enough to keep while others are worked on."""

    source: str
    lines: int
    counts: pl.DataFrame
    reasons: list[tuple[str, int, int, int]]  # reason, lines, first line_no, its index in the batch
    line_text: Callable[[int], str]  # a line's text by its index: fetched only for a reason's first example
    last_ts: int | None = None  # the latest line time in the batch, µs since 1970 (UTC)
    outcomes: pl.DataFrame | None = None  # lines per (day, outcome)
    notes: tuple[str, ...] = ()  # what to say of its file before its lines (a misfit judged with them)

    def detached(self, known: set[str]) -> BatchSummary:
        """The same, holding only the example lines a tally can still want, not the batch's text.

        ``known``: the reasons that have their example already (or will, from
        a summary before this one); this one's new reasons are added to it.
        A summary that waits for its commit then keeps a few lines, not 16 MiB.
        """
        texts = {}
        for reason, _, _, idx in self.reasons:
            if reason not in known:
                known.add(reason)
                texts[idx] = self.line_text(idx)
        return replace(self, line_text=texts.__getitem__)


# What a file whose lines are mostly damaged most likely is, by its most common damage.
_CAUSES = {
    Skip.UNPARSABLE.value: "its lines are not in the format read: set [logs] format (or --format) to the "
                           "server's log_format or LogFormat, or leave the file out",
    Skip.BAD_TIME.value: "its times do not read as the format says (a custom time format?): set [logs] format "
                         "with the server's own time directive, e.g. %{%Y-%m-%d %H:%M:%S}t",
    Skip.INVALID_UTF8.value: "it is not UTF-8 text: another encoding, or not a log",
    Skip.HOLE.value: "it is mostly holes of NUL bytes: lines lost in crashes",
}


@dataclass
class FileAccount:
    """The lines of one file read in one go, and its damaged ones: a wrong format must not pass quietly."""

    lines: int = 0
    damaged: dict[str, int] = field(default_factory=dict)
    latest: int | None = None  # the latest line time, µs since 1970 (UTC)
    earliest_view: date | None = None  # the day of the earliest view counted

    def add(self, part: BatchSummary) -> None:
        self.lines += part.lines
        if part.last_ts is not None and (self.latest is None or part.last_ts > self.latest):
            self.latest = part.last_ts
        if part.counts.height:
            first = part.counts.get_column("day").min()
            if isinstance(first, date) and (self.earliest_view is None or first < self.earliest_view):
                self.earliest_view = first
        for reason, n, _, _ in part.reasons:
            if reason in DAMAGED:
                self.damaged[reason] = self.damaged.get(reason, 0) + n

    def mostly_damaged(self, source: str) -> str | None:
        """A warning when most lines were skipped as damaged (None otherwise).

        "Most": more than half, and at least ten lines or every line, so that
        a short file with a crash's hole in it is not called wrongly read.
        """
        total = sum(self.damaged.values())
        if total * 2 <= self.lines or (total < 10 and total < self.lines):
            return None
        reason = max(self.damaged, key=lambda r: self.damaged[r])
        return (f"{source}: {total:,} of {self.lines:,} lines skipped as damaged ({self.damaged[reason]:,} "
                f"{reason}): {_CAUSES.get(reason, 'check the file and the format')}")

    def dated_after(self, source: str, written: float, zone: str | None, *, now: bool = False) -> str | None:
        """A warning when the latest line is dated after ``written``, when the file was last written (seconds
        since 1970; ``now``: when it was read, a stream's); None otherwise.

        A server writes a line after its time, so a line dated later than
        the file's last write was timed by a wrong clock, or, where the
        format writes no offset (``zone``: the zone its times are read in),
        read in the wrong zone: a server set to UTC whose times are read in
        America/Chicago has each of its views counted six hours late, the
        evening's on the next day. Nothing tells which lines are wrong, so
        the views are counted as dated and the file is named with the fix.
        """
        if self.latest is None or self.latest / 1e6 - written <= LATE_SECONDS:
            return None
        latest = self.latest / 1e6
        said = (f"{source}: its latest line is dated {_utc_minute(latest)}, {_span(latest - written)} after "
                f"{'it was read' if now else 'the file was last written'} ({_utc_minute(written)})")
        if zone is None:
            return f"{said}: the server's clock was wrong when it wrote it; its views are counted on the days as dated"
        said += f": its times carry no offset and are read in {zone} ([logs] log_timezone, else timezone)"
        if zone != "UTC" and latest + _offset(zone, latest) <= written + LATE_SECONDS:
            return (f"{said}; read in UTC, they end before that: set [logs] log_timezone = \"UTC\" if the server "
                    "runs in UTC; its views are counted on the days as read")
        return (f"{said}: set [logs] log_timezone to the zone the server writes them in, or set the server's "
                "clock; its views are counted on the days as read")

    def dated_at_unset_clock(self, source: str) -> str | None:
        """A warning when views are dated at the start of the clock, 1970 (None otherwise): a clock not set when
        they were written.

        A machine without a battery-backed clock starts at 1970 until NTP
        sets it, and its server logs the requests of those first moments so
        dated. Counted as dated (the log says so), and said: ``run`` posts
        such a day as any other. (Not any old date: a log of 1995 is history.)
        """
        if self.earliest_view is None or self.earliest_view >= EARLIEST_PLAUSIBLE:
            return None
        return (f"{source}: views dated {self.earliest_view.isoformat()}, at the start of the clock (1970): the "
                "server's clock was not set when it wrote them (a machine with no battery-backed clock, before NTP "
                "set it); they are counted on the days as dated")


# Views dated before this were timed by a clock that was not set (``FileAccount.dated_at_unset_clock``).
EARLIEST_PLAUSIBLE = date(1971, 1, 1)
UNSET_CLOCK = "have views dated at the start of the clock (1970)"


@dataclass
class LateFiles:
    """Files whose lines are dated where their server could not have written them (``FileAccount.dated_after``,
    ``dated_at_unset_clock``): the first few said in full, then how many more. A first run over a year of
    daily logs read in the wrong zone would say it of each of them."""

    SAID = 3  # (a class constant: no field)

    what: str = "have lines dated after they were last written"
    said: int = 0
    more: int = 0

    def take(self, message: str) -> str | None:
        """The message to say now, or None once ``SAID`` were (or it is empty: nothing to say)."""
        if not message:
            return None
        if self.said < self.SAID:
            self.said += 1
            return message
        self.more += 1
        return None

    def rest(self) -> str | None:
        """What is said of the files not named, at the end."""
        if not self.more:
            return None
        return f"{self.more:,} more file(s) {self.what}, as above"


@dataclass
class DateDoubts:
    """What a run says of its files' dates (``FileAccount.dated_after``, ``dated_at_unset_clock``), each kind
    of doubt said in full for the first few files, then as how many more (``LateFiles``): one place for
    ``xml`` and ``run`` alike."""

    late: LateFiles = field(default_factory=LateFiles)
    unset: LateFiles = field(default_factory=lambda: LateFiles(UNSET_CLOCK))

    def of(self, account: FileAccount, source: str, written: Callable[[], tuple[float, bool]],
           zone: str | None) -> list[str]:
        """What to say of a file read: ``written`` (asked only when it read a time) is when it was last written
        and whether that is the time it was read (``files.last_written``); ``zone``: its naive times' zone."""
        said = []
        if account.latest is not None:
            when, now = written()
            said.append(self.late.take(account.dated_after(source, when, zone, now=now) or ""))
        said.append(self.unset.take(account.dated_at_unset_clock(source) or ""))
        return [message for message in said if message]

    def rest(self) -> list[str]:
        """What is said at the end of the files not named."""
        return [rest for rest in (self.late.rest(), self.unset.rest()) if rest]


# A line may be dated this much later than its file's last write (seconds) before it is said: clocks of the
# same machine agree, so only a wrong clock or a wrong zone (half an hour at least, mostly whole hours) is over.
LATE_SECONDS = 15 * 60


def _utc_minute(seconds: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _span(seconds: float) -> str:
    """A time span as a person reads it: "40 min", "6 h", "6 h 2 min", "3 days", "73 years"."""
    if seconds >= 2 * 365.25 * 86400:
        return f"{seconds / (365.25 * 86400):,.0f} years"
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:,.0f} days"
    hours, minutes = divmod(round(seconds / 60), 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _offset(zone: str, instant: float) -> float:
    """``zone``'s UTC offset at ``instant`` (seconds since 1970), in seconds."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    offset = datetime.fromtimestamp(instant, UTC).astimezone(ZoneInfo(zone)).utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


@dataclass
class Tally:
    """Running totals for a run: counts per key, lines per reason, first examples."""

    lines: int = 0
    counted: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    examples: dict[str, Example] = field(default_factory=dict)
    # False: the views are summed, not kept per key. ``run``'s counts are the state's, and its summary
    # says only how many: kept, a first run over a busy site's year of logs summed 5 million keys again
    # and again, and held them (1.2 GB at its end).
    keeps_counts: bool = True
    # Counts are summed in two levels, so that the run's growing total is not summed again every few
    # batches: the latest batches' counts, and sums of 16 batches' each (of as many as hold PART_ROWS
    # rows, where batches are small files' of a few dozen), kept by day and summed in turn when 8 of a
    # day pile up. By day, because a day's views come in together (a log is written in time order): a
    # preview over a year of daily logs summed its 5 million keys again every 128 batches, and all of
    # them at its end in one query, 1.6 GB at its peak; by day each sum is of the days it adds to.
    _parts: list[pl.DataFrame] = field(default_factory=list)
    _rows: int = 0  # in ``_parts``
    _days: dict[date, list[pl.DataFrame]] = field(default_factory=dict)
    _total: pl.DataFrame | None = None  # what ``counts`` gave, while nothing is added after it
    _outcomes: list[pl.DataFrame] = field(default_factory=list)

    def add(self, part: BatchSummary) -> None:
        """Fold in a batch; batches must come in file order for the examples."""
        self.lines += part.lines
        self.counted += int(part.counts.get_column("views").sum())
        if self.keeps_counts:
            self._keep(part.counts)
        if part.outcomes is not None:
            self._outcomes.append(part.outcomes)
            if len(self._outcomes) >= 64:
                self._outcomes = [merge_outcomes(self._outcomes)]
        for reason, n, line_no, idx in part.reasons:
            self.reasons[reason] = self.reasons.get(reason, 0) + n
            if reason not in self.examples:
                self.examples[reason] = Example(part.source, line_no, part.line_text(idx))

    def _keep(self, counts: pl.DataFrame) -> None:
        self._parts.append(counts)
        self._rows += counts.height
        if len(self._parts) >= 16 and (self._rows >= PART_ROWS or len(self._parts) >= 4096):
            self._file_parts()

    def _file_parts(self, *, summed: bool = True) -> None:
        """The latest batches' counts filed by day: summed first, or (``counts``, at the end) as they are.

        At the end each is summed once, in its run's sorted sum: a 1 M-line
        run's 13 batches took 34 ms there against 56 to 65 ms summed first.
        """
        if self._total is not None:
            self._file(self._total)
            self._total = None
        if self._parts and summed:
            self._file(merge_counts(self._parts))
        else:
            for counts in self._parts:
                self._file(counts, merging=False)
        self._parts, self._rows = [], 0

    def _file(self, counts: pl.DataFrame, *, merging: bool = True) -> None:
        """Counts filed by day; with ``merging``, a day's kept counts summed once 8 of them pile up."""
        for day, rows in _by_day(counts):
            kept = self._days.setdefault(day, [])
            kept.append(rows)
            if merging and len(kept) >= 8:
                self._days[day] = [merge_counts(kept)]

    def merge(self, other: Tally) -> None:
        """Fold in another tally of files read after this one's."""
        self.lines += other.lines
        self.counted += other.counted
        for reason, n in other.reasons.items():
            self.reasons[reason] = self.reasons.get(reason, 0) + n
        for reason, example in other.examples.items():
            self.examples.setdefault(reason, example)
        self._parts.extend(other._parts)
        self._rows += other._rows
        for day, kept in other._days.items():
            self._days.setdefault(day, []).extend(kept)
        if other._total is not None:
            self._file(other._total)
        self._outcomes.extend(other._outcomes)

    def counts(self) -> pl.DataFrame:
        """Views per (day, supplier, listing), sorted as the XML lists them.

        Summed a run of days at a time, each run's sums let go of as it is
        made: what the sums hold, not twice that and a query's tables on top.
        """
        import polars as pl

        if not self.keeps_counts:
            raise ValueError("this tally sums views without keeping them per key (a run's: the state has them)")
        if self._total is not None and not self._parts and not self._days:
            return self._total
        self._file_parts(summed=False)
        done: list[pl.DataFrame] = []
        run: list[pl.DataFrame] = []
        rows = 0
        for day in sorted(self._days):
            kept = self._days.pop(day)
            run.extend(kept)
            rows += sum(frame.height for frame in kept)
            if rows >= SUM_ROWS:
                done.append(merge_counts(run, sort=True))
                run, rows = [], 0
        if run or not done:
            done.append(merge_counts(run, sort=True))
        # (not made one chunk: that would hold the total twice at once)
        total = (pl.concat(done, rechunk=False) if len(done) > 1 else done[0]).select(*KEYS, "views")
        self._total = total  # (for a second call, or batches added after it)
        return total

    def outcomes(self) -> pl.DataFrame:
        """Lines per (day, outcome), by day."""
        return merge_outcomes(self._outcomes).sort("day", "outcome")


# Rows of batches' counts summed at once at the least (unless 4,096 batches pile up first): over 2,000
# small files, a sum every 16 files (some 900 rows) and the total's every 128 took a fifth of the main
# thread (0.5 s); a large file's batches hold tens of thousands each, and are summed every 16 as before.
PART_ROWS = 50_000
# Rows of kept sums summed in one query at the end, whole days at a time (a day's sum is one query's).
SUM_ROWS = 500_000


def _by_day(counts: pl.DataFrame) -> list[tuple[date, pl.DataFrame]]:
    """A sum's rows by their day (most sums are of one day or two)."""
    if not counts.height:
        return []
    days = counts.get_column("day")
    if days.n_unique() == 1:
        return [(days[0], counts)]
    return [(key[0], frame) for key, frame in counts.partition_by("day", as_dict=True).items()]


def merge_outcomes(parts: list[pl.DataFrame]) -> pl.DataFrame:
    import polars as pl

    if not parts:
        return pl.DataFrame(schema={"day": pl.Date, "outcome": pl.String, "lines": pl.Int64})
    if len(parts) == 1:  # (a batch's: one row a (day, outcome) already)
        return parts[0]
    return pl.concat(parts).group_by("day", "outcome").agg(pl.col("lines").sum())


def merge_counts(parts: list[pl.DataFrame], *, sort: bool = False) -> pl.DataFrame:
    """Counts of several batches as one: views summed per key (with ``sort``, in key order).

    A sum of many rows runs on Polars' streaming engine, whose partitioned
    group-by uses every core: twice as fast as the in-memory engine from a
    few hundred thousand rows on (a run's totals); a few batches' unsorted
    sum stays on the in-memory one, cheaper to start. The sort is part of
    the same query: 19 against 25 ms for a run's 111,000 keys, sorted
    afterwards. A sorted sum (the end of ``counts``, a large commit of
    ``run``) runs on the streaming engine whatever its size: measured on a
    1 M-line run's batches (two cores),
    17,000 rows 3.6 against 3.8 ms, 115,000 rows 16 against 25 ms, 222,000
    rows 29 against 44 to 55 ms.
    """
    import polars as pl

    from .. import frames

    if not parts:
        return pl.DataFrame(schema={"day": pl.Date, "supplier": pl.String, "listing": pl.String, "views": pl.Int64})
    if len(parts) == 1:
        return parts[0].sort(KEYS) if sort else parts[0]
    rows = sum(part.height for part in parts)
    summed = pl.concat([part.lazy() for part in parts]).group_by(KEYS).agg(views=pl.col("views").sum())
    if sort:
        summed = summed.sort(KEYS)
    return summed.collect(engine="streaming") if sort or rows > _STREAMED_ROWS else frames.collect(summed)


_STREAMED_ROWS = 200_000
