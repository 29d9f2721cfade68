"""Ingest: read what is new in each log into the state, exactly once.

For each file: recognise it by its first bytes (state.match), skip what was
read before, and count only complete lines; each batch's counts and the new
read position commit together. A line without its newline yet is left for
the next run. Whatever logrotate did in between (rename, delaycompress,
compress, copytruncate), and wherever a SIGKILL landed, the next run picks
up at the last committed line end.

Files are matched a group at a time, ahead of their reading, and each
one's commits are written on the state's own thread (``state.keeper``)
while the next file is counted; a file whose first bytes could be a file
still being read (a copy, a file being compressed beside its plain self)
waits for that file's last commit first.

Parsing and classification (Polars, crawlerdetect) are loaded when a file
has new lines, so the daily run that finds nothing new stays quick.
"""

from __future__ import annotations

import functools
import itertools
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .. import formats
from ..config import Config
from ..count.tally import BatchSummary, DateDoubts, FileAccount, Tally, merge_counts, merge_outcomes
from ..errors import InputError, VanishedError
from ..read import compressed, files, sources
from ..read.ahead import Held, Opened, read_ahead, through
from ..read.holes import HOLE
from ..read.inputs import AUTO, DRAIN, WORKERS, Drain, Hooks, Input, in_order, plan
from ..read.joined import one_of
from ..state.interface import Store
from ..state.keeper import Keeper
from ..state.records import FINGERPRINT_BYTES, Advance, FileRecord, fingerprint
from . import gone

if TYPE_CHECKING:
    from ..count.classify import Classifier
    from ..formats import LogFormat
    from ..parse.detect import FilesJudge


@dataclass
class IngestReport:
    tally: Tally = field(default_factory=lambda: Tally(keeps_counts=False))  # (the counts are the state's)
    files: list[tuple[str, str]] = field(default_factory=list)  # (name, what happened)
    problems: list[str] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)  # listed, then gone before they were read
    suspect: list[str] = field(default_factory=list)  # files read, most of their new lines damaged
    seen: set[int] = field(default_factory=set)  # the records of the files matched (``jobs.gone``)
    unmatched: list[str] = field(default_factory=list)  # files that could not be told, unreadable before their match


RELIST_ROUNDS = 3


def ingest_paths(state: Store, config: Config, paths: Sequence[str], hooks: Hooks | None = None,
                 leave_out: Sequence[str] = ()) -> IngestReport:
    """List the files, with the state's lock held, and ingest them.

    A file renamed between the listing and its reading (logrotate running
    at the same moment) is not an error: the files are listed again and the
    ones not read yet are read, so the renamed file is read under its new
    name (it is known by its content, and goes on where it stopped). A file
    still missing after that is left to the next run. ``leave_out``: files never read (logtrack's own:
    ``read.inputs.plan``).
    """
    hooks = hooks or Hooks()
    inputs, problems = plan(config, paths, siblings=True, note=hooks.on_warning, leave_out=leave_out)
    for problem in problems:
        if hooks.on_warning:
            hooks.on_warning(problem)
    report = ingest(state, config, inputs, hooks)
    report.problems[:0] = problems
    names = {item.name for item in inputs}
    for _ in range(RELIST_ROUNDS):
        if not report.vanished:
            break
        done = {name for name, _ in report.files}
        again, _ = plan(config, paths, siblings=True, leave_out=leave_out)
        names.update(item.name for item in again)
        renamed = report.vanished
        more = ingest(state, config, [i for i in again if i.name not in done], hooks)
        report.tally.merge(more.tally)
        report.files.extend(more.files)
        report.problems.extend(more.problems)
        report.suspect.extend(more.suspect)
        report.seen.update(more.seen)
        report.unmatched.extend(more.unmatched)
        report.vanished = more.vanished
        report.files.extend((n, "gone since it was listed (rotated?); read again under the names the files have now")
                            for n in renamed)
    report.files.extend((n, "gone since it was listed; left to the next run") for n in report.vanished)
    if not report.vanished and not report.unmatched:
        for message in gone.left(state, names, report.seen):
            report.problems.append(message)
            if hooks.on_warning:
                hooks.on_warning(message)
    return report


def ingest(state: Store, config: Config, inputs: list[Input], hooks: Hooks | None = None) -> IngestReport:
    """Count what is new in every input into the state.

    The files are read in turn, but not waited for one by one: the next
    file is matched and its lines counted while the last batches of the
    one before are counted and committed. Its match waits only for what
    was asked of the state before it (``Keeper``), and, when its first
    bytes could be those of a file still being read (a copy, a file being
    compressed beside its plain self), for that file's last commit: so two
    names with the same content are never both read from the old position.
    Over a directory of small files (a CDN's five-minute logs), this keeps
    both cores counting instead of one file's count, commit and match
    after another.
    """
    hooks = hooks or Hooks()
    report = IngestReport()
    # One pool and one state thread for all the files: a pool made for each file started its threads
    # afresh, and what Polars keeps on a thread with them (288 files of 3,500 lines: 9.5 s, 8.1 s so).
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="logtrack-ingest") as pool, \
            Keeper(state) as keeper:
        reader = _Reader(state, config, report, hooks, keeper)
        for group in in_order(pool, reader.joined(reader.jobs(inputs)), reader.work,
                              holds=lambda job: job.batch is not None or isinstance(job, _Joined)):
            reader.take(group)
        keeper.settle()
    for rest in reader.doubts.rest():
        reader.say(rest)
    return report


@dataclass(eq=False)
class _File:
    """One input as this run reads it: where it stands, and what is counted and not committed yet."""

    name: str
    format: LogFormat | None
    packed: bool = False
    st: os.stat_result | None = None
    head: bytes = b""
    record: FileRecord | None = None
    how: str = ""  # "new", or how it was known
    offset: int = 0  # read up to here (bytes of the plain text), counted or queued for its commit
    lines: int = 0
    tail_hash: str | None = None  # of the bytes before ``offset``, as read (``sources.Batch.tail_hash``)
    last_ts: int | None = None
    since: int | None = None  # lines timed up to it were counted before (read again after a cut back)
    account: FileAccount = field(default_factory=FileAccount)  # the lines read this run, and the damaged ones
    pending: list[BatchSummary] = field(default_factory=list)  # counted, not committed yet
    pending_bytes: int = 0
    committed_at: float = float("-inf")  # the first group commits at once: progress shows early
    problems: int = 0  # warnings said of it: a file with one is not read whole
    cut_back: bool = False  # it no longer held what it held before its read position (said; read on from there)
    outcome: str | None = None  # what happened, when nothing was to be read
    error: InputError | None = None  # what ended its reading early

    def absorb(self, batch: sources.Batch, summary: BatchSummary, known: set[str]) -> None:
        """A counted batch, in file order: the position moves on, its counts wait for their commit."""
        self.offset, self.lines = batch.end_offset, batch.first_line - 1 + summary.lines
        self.tail_hash = batch.tail_hash
        self.last_ts = max((t for t in (self.last_ts, summary.last_ts) if t is not None), default=None)
        if self.since is not None and self.last_ts is not None and self.last_ts > self.since:
            self.since = None  # past the cut: every line from here on was written after it
        self.account.add(summary)
        self.pending.append(summary.detached(known))
        self.pending_bytes += len(batch.data)


@dataclass(frozen=True)
class _Job:
    file: _File
    batch: sources.Batch | None  # None: the file's end
    format: LogFormat | None = None
    classifier: Classifier | None = None
    since: int | None = None
    judge: bool = False  # the file's named format to be judged (``misfit``) with this, its first batch
    trusted: bool = False  # its format given on trust (``detect_files``), to be held to its counting (``take``)


@dataclass(frozen=True)
class _Joined(_Job):
    """Files whose new lines are one batch each, in one format, counted as one batch (``count_files``).

    ``parts``: each file's batch job (its batch without data of its own), in
    file order; ``data``: their lines joined. Each file's end job follows it.
    """

    parts: tuple[_Job, ...] = ()
    data: bytes = b""


@dataclass(frozen=True)
class _Commit:
    """A file's counted batches and where it stands after them, until the state's thread writes them."""

    record_id: int
    name: str
    packed: bool
    done: list[BatchSummary]
    offset: int
    lines: int
    last_ts: int | None
    since: int | None
    hints: tuple[os.stat_result, bool] | None
    tail_hash: str | None = None

    def advance(self) -> Advance:
        """Its counts merged (in key order, when there are many: ``SORTED_ROWS``), on the state's thread."""
        parts = [s.counts for s in self.done]
        by_key = sum(part.height for part in parts) > SORTED_ROWS
        return Advance(self.record_id, self.offset, self.lines, self.name, merge_counts(parts, sort=by_key),
                       self.last_ts, self.since, None if self.packed else self.tail_hash,
                       merge_outcomes([s.outcomes for s in self.done if s.outcomes is not None]))


class _Reader:
    """The files' batches for the pool (``jobs``, on the main thread), and the counted ones into the state
    (``take``, in file order)."""

    def __init__(self, state: Store, config: Config, report: IngestReport, hooks: Hooks, keeper: Keeper) -> None:
        self.state, self.config, self.report, self.hooks, self.keeper = state, config, report, hooks, keeper
        self._classifier: Classifier | None = None
        self._known = set(report.tally.examples)  # reasons whose first example is kept already
        self._reading: list[_File] = []  # matched, their end not taken yet
        self.doubts = DateDoubts()
        self._commits: deque[int] = deque()  # the state thread's ``asked`` after each group's commits
        self._to_write: list[_Commit] = []  # this ``take``'s commits
        self._match_ahead = MATCH_AHEAD
        self._files_judge: FilesJudge | None = None

    def say(self, message: str) -> None:
        if self.hooks.on_warning:
            self.hooks.on_warning(message)

    def warn(self, message: str, file: _File | None = None) -> None:
        """A problem: exit 4, and the file it is about is not read whole."""
        if file is not None:
            file.problems += 1
        self.report.problems.append(message)
        self.say(message)

    def classifier(self) -> Classifier:
        """Made on first use, so that Polars is loaded only once there is a line to read; its bot cache
        serves every file."""
        if self._classifier is None:
            from ..count.classify import Classifier

            self._classifier = Classifier(self.config.rules)
        return self._classifier

    # --- the main thread, ahead of the pool ------------------------------------------------------
    def jobs(self, inputs: list[Input]) -> Iterator[_Job | Drain]:
        """Every file's new batches, each file closed by a job without one (after it, the file is done).

        Files are matched a group at a time (one wait for the state's
        thread per group, not per file, so commits queue up meanwhile and
        are written together). A file that matches a file still being read
        (a copy, a file being compressed beside its plain self) starts the
        next group, which waits until everything before it is committed.
        """
        waiting = deque(inputs)
        while waiting:
            group = self._stat(waiting)
            matched = self._match(group)
            if matched == 0:  # the first matches a file still being read: match it once that one is committed
                yield DRAIN
                matched = self._match(group)
            for file in reversed(group[matched:]):  # to be matched again, in a group of their own
                waiting.appendleft(Input(file.name, file.format))
            for file, opened in read_ahead(group[:matched], self._open, _auto_from_start, self._judge):
                if file.record is not None and file.error is None:
                    try:
                        yield from self._batches(file, opened)
                    except InputError as exc:  # (VanishedError too) what was read before it still counts
                        file.error = exc
                yield _Job(file, None)

    def _stat(self, waiting: deque[Input]) -> list[_File]:
        """The next files to match (at most ``MATCH_AHEAD``); a stream is said and left out."""
        group: list[_File] = []
        while waiting and len(group) < self._match_ahead:
            item = waiting.popleft()
            if files.is_stream(item.name):
                what = "stdin" if item.name == files.STDIN else f"{item.name}: a pipe, not a file,"
                self.warn(f"{what} cannot be read incrementally (it has no identity to resume); "
                          f"use `logtrack xml {item.name}`")
                continue
            file = _File(item.name, item.format)
            try:
                file.st, file.packed = compressed.opened_as(item.name)
            except FileNotFoundError:
                file.error = VanishedError(f"{item.name}: gone since it was listed")
            except OSError as exc:
                file.error = compressed.unreadable(item.name, exc)
            group.append(file)
        self._match_ahead = min(2 * self._match_ahead, MATCH_MOST)
        return group

    def _match(self, group: list[_File]) -> int:
        """Which known file each one is, in order, and where to go on from; how many were matched
        before the first that matches a file still being read (its match waits for that one's end)."""
        packed = [file for file in group if file.packed and file.error is None and file.outcome is None]
        if packed:  # (a compressed file read whole before is not opened at all)
            stats = [file.st for file in packed if file.st is not None]
            read_before = self.keeper.call(lambda: [
                self.state.by_hints(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) for st in stats])
            for file, known in zip(packed, read_before, strict=True):
                if known is not None:
                    file.outcome = "unchanged (read before)"
                    self.report.seen.add(known.id)
        for file in group:
            if file.error is None and file.outcome is None and not file.head:
                try:
                    file.head = compressed.head(file.name, FINGERPRINT_BYTES, same_as=_identity(file))
                except InputError as exc:  # (VanishedError too: renamed since it was listed)
                    file.error = exc
                if not file.head and file.error is None:
                    file.outcome = "empty"
        todo = [file for file in group if file.error is None and file.outcome is None and file.record is None]
        busy = list(self._reading)
        found = self.keeper.call(lambda: _known_as_together(self.state, todo, busy))
        for file, (record, how, cut) in zip(todo, found, strict=False):
            if cut is not None:
                self.warn(cut, file)
                file.cut_back = True
            file.record, file.how = record, how
            self.report.seen.add(record.id)
            if file.format is None and self.config.rules.format != AUTO:
                file.format = formats.get(self.config.rules.format)
            file.offset, file.lines, file.tail_hash = record.offset, record.lines, record.tail_hash
            file.last_ts, file.since = record.last_ts, record.recount_since
            self._reading.append(file)
        if len(found) == len(todo):
            return len(group)
        return group.index(todo[len(found)])

    def _open(self, file: _File, held: Held | None = None) -> Iterator[sources.Batch]:
        """The file's new batches, from where it was matched (raising VanishedError if it is another file now)."""
        _still_the_one(file)
        yield from sources.batches(file.name, warn=through(held, lambda message: self.warn(message, file)),
                                   note=through(held, self.say), skip=file.offset, first_line=file.lines + 1,
                                   partial_tail=False, same_as=_identity(file), head=file.head)

    def _judge(self, parts: list[sources.Batch]) -> list[LogFormat | None]:
        """The formats of new whole files read ahead (``read_ahead``), judged together."""
        from ..parse import detect

        if self._files_judge is None:
            self._files_judge = detect.FilesJudge(trust=True)
        return self._files_judge(parts)

    def _batches(self, file: _File, opened: Opened | None) -> Iterator[_Job]:
        """The new batches, each with what parsing it takes (format, classifier, recount time); ``opened``:
        the file read ahead, with its format where that was judged with the others."""
        from ..read import w3c_sections

        name, skip = file.name, file.offset
        batches = opened.batches if opened is not None else self._open(file)
        for batch in batches:
            classifier = self.classifier()  # (made now: its bot detector warms up while the format is judged)
            from ..parse import detect  # (Polars: only once there is a line to read)

            # whether a named format reads what the lines hold (``misfit``) is judged with the first batch's
            # counting, on the pool (a group of small files counted together: in one query), not here
            # (resumed mid-file, a named format is not judged at all: it was when the file's start was read)
            from_start = batch.first_line == 1
            judge = file.format is not None and from_start and detect.defers_misfit(file.format)
            trusted = opened is not None and self._files_judge is not None and batch.source in self._files_judge.trusted
            if trusted:  # ``auto``'s, given on trust: what is said of it waits for its counting (``_confirmed``)
                assert opened is not None and opened.format is not None
                fmt, notes = opened.format, []
            elif opened is not None and opened.format is not None:  # ``auto``'s, judged with the files read ahead
                fmt, notes = opened.format, detect.checked(opened.format, name, self.config.rules.vhosts,
                                                           from_start=True)
            elif file.format is not None and (judge or not from_start):
                fmt, notes = file.format, detect.checked(file.format, name, self.config.rules.vhosts,
                                                         from_start=from_start)
            else:
                # a run resuming mid-file judges the format by the file's first lines, not the new ones
                sample = detect.sample_frame(batch if skip == 0 or file.format is not None else _head_batch(file.head))
                fmt, notes = detect.file_format(file.format, sample, name, self.config.rules.vhosts,
                                                from_start=from_start)
            for note in notes:
                self.say(note)
            if fmt.w3c_separator is not None and skip > 0:
                fmt = _w3c_resumed(fmt, file, skip, batch)
            file.format = fmt
            # the first batch has told the format; a W3C log's headers may change it further on
            for part, part_fmt in w3c_sections.follow(itertools.chain([batch], batches), fmt, skip):
                yield _Job(file, part, part_fmt, classifier, file.since, judge=judge and part.first_line == 1,
                           trusted=trusted)
            return

    def joined(self, jobs: Iterator[_Job | Drain]) -> Iterator[_Job | Drain]:
        """``jobs``, with files whose new lines are one batch each counted together (``_Joined``).

        A batch costs its queries some 8 ms however few its lines: over a
        directory of small files (a CDN's five-minute logs) that was most
        of the run. A file's first batch is held until its end says it was
        the only one; files so held join while their format is the same and
        their lines fit in a batch. Each file keeps its own summary, counts
        and commit (its counts with its read position, in file order, as
        before); a file read after a cut back (``since``) is counted alone.
        """
        from ..read.joined import Joining

        joining: Joining[_Job] = Joining()
        ends: list[_Job] = []  # the ends of the files gathered
        held: _Job | None = None  # a file's first batch, while it may be its only one

        def flush() -> Iterator[_Job]:
            nonlocal ends, held
            if (taken := joining.take()) is not None:
                files, fmt, data = taken
                first = files[0][0]
                yield _Joined(first.file, None, fmt, first.classifier, data=data,
                              parts=tuple(replace(job, batch=batch) for job, batch in files))
            yield from ends
            ends = []
            if held is not None:
                yield held
                held = None

        for job in jobs:
            if isinstance(job, Drain):
                yield from flush()
                yield job
            elif job.batch is not None:
                if held is None and job.since is None and job.format is not None \
                        and joining.may_hold(job.batch, job.format):
                    held = job
                    continue
                yield from flush()
                yield job
            elif held is not None and held.file is job.file and job.file.error is None:  # its only batch
                whole, held = held, None
                assert whole.batch is not None and whole.format is not None
                if not joining.fits(whole.batch, whole.format):
                    yield from flush()
                joining.add(whole, whole.batch, whole.format)
                ends.append(job)
            else:
                yield from flush()
                yield job
        yield from flush()

    # --- the pool -------------------------------------------------------------------------------
    def work(self, job: _Job) -> BatchSummary | list[BatchSummary] | None:
        if not isinstance(job, _Joined) and (job.batch is None or job.format is None or job.classifier is None):
            return None  # (a file's end: nothing to count, and Polars not loaded for it)
        from .. import frames

        return frames.alone(lambda: self._count(job))

    def _count(self, job: _Job) -> BatchSummary | list[BatchSummary]:
        rules = self.config.rules
        if isinstance(job, _Joined):
            from ..count.batch import count_files, judged

            assert job.format is not None and job.classifier is not None
            parts = [part.batch for part in job.parts if part.batch is not None]
            assert len(parts) == len(job.parts)  # (each a file's one batch)
            return judged(count_files(parts, job.format, job.classifier, rules.timezone,
                                      log_timezone=rules.log_timezone, data=job.data),
                          job.format, parts, job.data, [part.judge for part in job.parts])
        assert job.batch is not None and job.format is not None and job.classifier is not None
        from ..count.batch import count_batch, judged

        return judged([count_batch(job.batch, job.format, job.classifier, rules.timezone,
                                   log_timezone=rules.log_timezone, since=job.since)],
                      job.format, [job.batch], None, [job.judge])[0]

    # --- the main thread, in file order ---------------------------------------------------------
    def take(self, group: list[tuple[_Job, BatchSummary | list[BatchSummary] | None]]) -> None:
        """Counted batches into their files, committed once a commit's worth waits (or at a file's end)."""
        touched: list[_File] = []
        for job, summary in group:
            if isinstance(job, _Joined):
                assert isinstance(summary, list)
                batches = [part.batch for part in job.parts if part.batch is not None]
                counted = [confirmed for n, (part, part_summary) in enumerate(zip(job.parts, summary, strict=True))
                           for confirmed in self._confirmed(part, part_summary, functools.partial(
                               one_of, job.data, batches, n))]
            elif job.batch is None:
                self._finish(job.file)
                continue
            else:
                assert isinstance(summary, BatchSummary)
                counted = self._confirmed(job, summary, functools.partial(replace, job.batch))
            for part, part_summary in counted:
                assert part.batch is not None
                for note in part_summary.notes:  # (a named format's misfit, judged with its first batch)
                    self.say(note)
                part.file.absorb(part.batch, part_summary, self._known)
                if part.file not in touched:
                    touched.append(part.file)
        for file in touched:
            if file in self._reading and (file.pending_bytes >= COMMIT_BYTES
                                          or time.monotonic() - file.committed_at >= COMMIT_SECONDS):
                self._commit(file)
        if self._write():
            self._commits.append(self.keeper.asked)
        # By groups, not by commits: the files counted together (``joined``) are each committed on the
        # state's thread while this one goes on with the next group (their summaries wait in memory).
        while len(self._commits) > QUEUED_COMMITS:
            self.keeper.settle_through(self._commits.popleft())

    def _confirmed(self, job: _Job, summary: BatchSummary,
                   whole: Callable[[], sources.Batch]) -> list[tuple[_Job, BatchSummary]]:
        """A counted batch; where its file's format was given on trust, held to what ``detect`` alone gives it
        (``held_to_alone``) before anything of it is committed: kept, counted again in another format, or
        refused (its end says why)."""
        if not job.trusted:
            return [(job, summary)]
        from ..count.batch import count_again, held_to_alone

        assert job.format is not None and job.classifier is not None
        try:
            found, notes, again = held_to_alone(job.format, summary, whole, job.file.name, self.config.rules.vhosts)
        except InputError as exc:  # as when it is judged alone on opening: said at its end
            job.file.error = exc
            return []
        for note in notes:
            self.say(note)
        job.file.format = found
        if again is None:
            return [(job, summary)]
        rules = self.config.rules
        return [(replace(job, batch=part, format=part_fmt, trusted=False), part_summary)
                for part, part_fmt, part_summary in count_again(again, found, job.classifier, rules.timezone,
                                                                log_timezone=rules.log_timezone, since=job.since)]

    def _commit(self, file: _File, hints: tuple[os.stat_result, bool] | None = None) -> None:
        """Its counted batches and the position after them, to be committed in one transaction on the
        state's thread (``_write``, at the end of the ``take``); with ``hints``, the file's stat hints in
        the same one (its end)."""
        record = file.record
        assert record is not None
        if not file.pending and hints is None:
            return
        self._to_write.append(_Commit(record.id, file.name, file.packed, file.pending, file.offset, file.lines,
                                      file.last_ts, file.since, hints, file.tail_hash))
        file.pending, file.pending_bytes, file.committed_at = [], 0, time.monotonic()

    def _write(self) -> bool:
        """The commits of a ``take`` as one job of the state's thread: each whole (its counts with its
        position), their rows written together (``advance_many``: a group of small files counted
        together pays for its statements once, not once a file). False when there were none."""
        commits, self._to_write = self._to_write, []
        if not commits:
            return False
        state, tally = self.state, self.report.tally

        def write() -> None:
            if advances := [commit.advance() for commit in commits if commit.done]:
                state.advance_many(advances)
            for commit in commits:
                if commit.hints is not None:
                    state.set_hints(commit.record_id, *commit.hints, commit.name)

        def written() -> None:
            for commit in commits:
                for summary in commit.done:
                    tally.add(summary)

        self.keeper.write(write, written)  # (``take`` waits for the queue once its group is in)
        return True

    def _finish(self, file: _File) -> None:
        """A file's end: its last commit, and what the report says of it."""
        if file in self._reading:
            self._reading.remove(file)
        if file.error is not None:
            if file.record is not None:
                self._commit(file)  # what was read before the error counts
            else:
                self.report.unmatched.append(file.name)
            if isinstance(file.error, VanishedError):
                self.report.vanished.append(file.name)
            else:
                self.warn(str(file.error))
            return
        if file.outcome is not None:
            self.report.files.append((file.name, file.outcome))
            return
        assert file.record is not None and file.st is not None
        if note := file.account.mostly_damaged(file.name):
            self.report.suspect.append(note)  # read whole all the same: not a problem of reading
            self.say(note)
        if file.format is not None:  # (counted as dated; said by the run that reads the lines, once)
            rules = self.config.rules
            for message in self.doubts.of(file.account, file.name,
                                          functools.partial(files.last_written, file.name, file.st),
                                          file.format.naive_zone(rules.timezone, rules.log_timezone)):
                self.say(message)
        self._commit(file, hints=(file.st, file.packed and file.problems == 0))  # read to its end, no warning
        if file.how != "new" and file.lines == file.record.lines:
            self.report.files.append((file.name, f"nothing new (at line {file.lines})"))
        else:
            self.report.files.append((file.name, f"{file.how}; now at line {file.lines}"))


def _known_as_together(state: Store, group: list[_File],
                       busy: list[_File]) -> list[tuple[FileRecord, str, str | None]]:
    """``_known_as``, its new records and changes committed once for the group where the state groups commits.

    Each new file's record was a transaction of its own, and SQLite syncs
    each (``synchronous=FULL``): 2,000 small files spent a second of the
    state's thread in those syncs alone. Within the group the files still
    see the state as the files before them left it (one connection sees
    its own writes); a crash before the commit loses only records of files
    not read yet, which the next run makes again. (PostgreSQL's state is
    shared by a fleet: its matching is left as it was, a statement at a
    time.)
    """
    if not state.groups_commits:
        return _known_as(state, group, busy)
    with state.transaction():
        return _known_as(state, group, busy)


def _known_as(state: Store, group: list[_File], busy: list[_File]) -> list[tuple[FileRecord, str, str | None]]:
    """Each file's record (a new one if its first bytes are new), how it was known, and what to warn of
    a file cut back below where it was read when nothing tells its old lines from new ones; in order, up
    to the first file whose match is the record of a ``busy`` file (one still being read: its position
    is not committed), or ties with one.

    Run on the state's thread: each file sees the state as the files before it left it (their records
    made, widened, recounted), as if the run had read each to its end before matching the next.
    """
    out: list[tuple[FileRecord, str, str | None]] = []
    # A busy file's record has its whole first bytes as its fingerprint (made or widened so): a record
    # with the same one is a tie, which the state breaks by read position, not committed yet.
    ids = {file.record.id for file in busy if file.record is not None}
    prints = {(len(file.head), fingerprint(file.head, len(file.head))) for file in busy}
    for file in group:
        name, head, packed = file.name, file.head, file.packed
        record = state.match(head)
        if record is not None and (record.id in ids or (record.fp_len, record.fp_hash) in prints):
            break
        prints.add((len(head), fingerprint(head, len(head))))
        if record is None:
            record = state.add_file(head, name)
            ids.add(record.id)
            out.append((record, "new", None))
            continue
        ids.add(record.id)
        state.widen_fingerprint(record, head)
        how = f"known (as {record.last_name}), resumed at line {record.lines + 1}"
        cut = None
        # (False only of the file matched: another by its name now is left to ``_still_the_one``, which says so)
        if not packed and _still_there(file, record) is False:
            if record.last_ts is None:  # nothing to tell old lines from new ones by
                cut = (f"{name}: the file changed before the position read last time (line {record.lines}, "
                       f"byte {record.offset}): a crash cut it back, or it was rewritten; reading goes on from "
                       "that position, and lines written in its place since may be missed")
            else:
                record = state.recount(record)
        if record.recount_since is not None:
            when = datetime.fromtimestamp(record.recount_since / 1e6, UTC).isoformat(timespec="seconds")
            how = (f"cut back below the position read (a crash lost its last writes?): read again from line "
                   f"{record.lines + 1}, lines timed up to {when} were counted before")
        out.append((record, how, cut))
    return out


# After the first, a commit holds the counts and read position of this much text, or of this long's
# parsing, whichever comes first: the same listings recur from batch to batch, so merged counts mean
# fewer SQLite upserts, and a run killed meanwhile reads at most that much again (exactly once either
# way). Commits run on their own thread, so they cost CPU but not the reading's time: a first run over
# 5 M lines took 1.46x xml's time with 64 MiB commits on the main thread, 1.05 to 1.25x now.
COMMIT_BYTES = 256 * 1024 * 1024
COMMIT_SECONDS = 2.0
# Groups of commits (a ``take``'s) waiting for the state's thread while the reading goes on (each holds
# its batches' counts): waiting for each commit instead kept the main thread idle while a group of
# small files counted together was written, file by file.
QUEUED_COMMITS = 2
# A commit of more count rows than this upserts them in key order: SQLite's two B-trees (the key, and
# the per-day index) are then walked in order, not at random (a 1 M-line heavy file's commits of 62,000
# rows: 213 against 330 ms each); a small commit's sort would cost more than it saves (1.4 ms a file).
SORTED_ROWS = 20_000
# Files matched at once, ahead of their reading: the first group small, so that reading starts soon,
# then twice as many each time, up to MATCH_MOST: a match waits for every commit asked before it (the
# state's thread works in order), so over a directory of small files fewer matches wait less.
MATCH_AHEAD = 8
MATCH_MOST = 256


def _auto_from_start(file: _File) -> bool:
    """Whether a matched file is read ahead (``read_ahead``): new, to be read whole, its format for ``auto``."""
    return file.record is not None and file.error is None and file.format is None and file.offset == 0


def _still_the_one(file: _File) -> None:
    """Raise VanishedError unless the name still holds the file matched (it was matched ahead of its reading).

    logrotate may have renamed another file to this name meanwhile, or cut
    this one back (copytruncate): read from the position matched, such a
    file would count another's lines, or its own again. Gone so, it is read
    again under the names the files have now (``ingest_paths``).
    """
    name, record = file.name, file.record
    assert record is not None
    try:
        same = compressed.head(name, len(file.head), same_as=_identity(file)) == file.head \
            and (file.packed or file.cut_back or _still_there(file, record) is True)
    except (FileNotFoundError, VanishedError):
        same = False
    if not same:
        raise VanishedError(f"{name}: another file by the time it was read (rotated?)")


def _identity(file: _File) -> tuple[int, int]:
    """The (device, inode) of the file as listed: the one matched, read and committed, whatever its name."""
    assert file.st is not None
    return file.st.st_dev, file.st.st_ino


def _still_there(file: _File, record: FileRecord) -> bool | None:
    """Whether the file matched still holds what it held just before where the last run stopped; None
    when its name holds another file now (logrotate renamed it since it was listed).

    Logs only grow, so this holds unless the file was cut back, as a
    filesystem can do to its last unwritten lines in a crash, with the
    restarted server appending from there; a rewritten file shows it too.
    States from before ``tail_hash`` was kept check that a line still ends
    there (or a hole begins or ends). Read from the file opened and checked
    to be the one matched: the bytes of another, renamed to its name since,
    made a file rotated in the middle of a run look cut back, read again
    from its start and its lines timed up to the last one read taken for
    counted.
    """
    offset = record.offset
    if offset == 0:
        return True
    try:
        fh = open(file.name, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return None
    with fh:
        st = os.fstat(fh.fileno())  # (one stat of the file opened: which file it is, and its size)
        if (st.st_dev, st.st_ino) != _identity(file):
            return None
        if st.st_size < offset:
            return False
        if record.tail_hash is not None:
            return compressed.tail_at(fh.fileno(), offset) == record.tail_hash
        fh.seek(offset - 1)
        around = fh.read(2)
    return around[:1] in (b"\n", HOLE) or around[1:] == HOLE


def _w3c_resumed(fmt: LogFormat, file: _File, offset: int, batch: sources.Batch) -> LogFormat:
    """A W3C log read from ``offset`` on: its lines follow the last header before it, not the first one."""
    from ..formats import w3c
    from ..read import w3c_sections

    header = w3c_sections.header_before(file.name, offset, same_as=_identity(file))
    if header is None:
        return fmt
    return w3c.from_header(header, batch.line(0), fmt)


def _head_batch(head: bytes) -> sources.Batch:
    """The file's first bytes as a batch of its whole first lines (a hole is no line of any format)."""
    head = head.replace(HOLE, b"\n")
    return sources.batch_of("head", 1, head[: head.rfind(b"\n")] if b"\n" in head else head)
