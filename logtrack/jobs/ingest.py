"""Ingest: read what is new in each log into the state, exactly once.

For each file: recognise it by its first bytes (state.match), skip what was
read before, and count only complete lines; each batch's counts and the new
read position commit together. A line without its newline yet is left for
the next run. Whatever logrotate did in between (rename, delaycompress,
compress, copytruncate), and wherever a SIGKILL landed, the next run picks
up at the last committed line end.

Parsing and classification (Polars, crawlerdetect) are loaded when a file
has new lines, so the daily run that finds nothing new stays quick.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .. import formats
from ..config import Config
from ..count.tally import BatchSummary, FileAccount, Tally, merge_counts, merge_outcomes
from ..errors import InputError, StateError, VanishedError
from ..read import compressed, files, sources
from ..read.holes import HOLE
from ..read.inputs import AUTO, WORKERS, Hooks, Input, in_order, plan
from ..state.interface import Store
from ..state.records import FINGERPRINT_BYTES, FileRecord

if TYPE_CHECKING:
    from ..count.classify import Classifier
    from ..formats import LogFormat


@dataclass
class IngestReport:
    tally: Tally = field(default_factory=Tally)
    files: list[tuple[str, str]] = field(default_factory=list)  # (name, what happened)
    problems: list[str] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)  # listed, then gone before they were read
    suspect: list[str] = field(default_factory=list)  # files read, most of their new lines damaged


RELIST_ROUNDS = 3


def ingest_paths(state: Store, config: Config, paths: Sequence[str], hooks: Hooks | None = None) -> IngestReport:
    """List the files, with the state's lock held, and ingest them.

    A file renamed between the listing and its reading (logrotate running
    at the same moment) is not an error: the files are listed again and the
    ones not read yet are read, so the renamed file is read under its new
    name (it is known by its content, and goes on where it stopped). A file
    still missing after that is left to the next run.
    """
    hooks = hooks or Hooks()
    inputs, problems = plan(config, paths)
    for problem in problems:
        if hooks.on_warning:
            hooks.on_warning(problem)
    report = ingest(state, config, inputs, hooks)
    report.problems[:0] = problems
    for _ in range(RELIST_ROUNDS):
        if not report.vanished:
            break
        done = {name for name, _ in report.files}
        again, _ = plan(config, paths)
        gone = report.vanished
        more = ingest(state, config, [i for i in again if i.name not in done], hooks)
        report.tally.merge(more.tally)
        report.files.extend(more.files)
        report.problems.extend(more.problems)
        report.suspect.extend(more.suspect)
        report.vanished = more.vanished
        report.files.extend((n, "gone since it was listed (rotated?); read again under the names the files have now")
                            for n in gone)
    report.files.extend((n, "gone since it was listed; left to the next run") for n in report.vanished)
    return report


def check_rules(state: Store, config: Config) -> None:
    """Refuse counts under other rules than the site's; rules new to a state get their patterns compiled first.

    The rules are the site's, not the host's: a fleet's sums mean something
    only if every host counted the same way. A host whose configuration
    differs from the site's is refused, as is a host whose own counts were
    made under rules the site has since left (another host's ``rebuild``
    changed them). A state that already counted with these very rules knows
    its patterns compile, so a daily run need not load the regex engine.
    """
    signature = config.rules.signature()
    legacy = rules_hash(config.rules.legacy_signature())
    site, mine = state.rules(), state.host_rules()
    if site is not None and rules_hash(site) == legacy:
        state.set_rules(signature)  # counted under these rules, signed the way older versions did
        site = mine = signature
    if mine is not None and rules_hash(mine) == legacy:
        state.set_rules(signature, site=False)
        mine = signature
    if site is None or rules_hash(site) != rules_hash(signature):
        config.check_patterns()
    if site is None:
        state.set_rules(signature)
        return
    if rules_hash(site) != rules_hash(signature):
        others = [h.host for h in state.hosts() if h.host != state.host]
        raise StateError(
            f"the counts in {state.name} were made under other rules ({_differences(site, signature)} changed): "
            f"the site {state.site!r} counts under rules {rules_hash(site)}, "
            f"this configuration's are {rules_hash(signature)}",
            ("use the configuration the other hosts use (" + ", ".join(others) + "), or change the rules of the "
             "whole site: deploy the new configuration to every host and run `logtrack rebuild` on each") if others
            else "run `logtrack rebuild` with the same paths to recount from the logs still present, "
                 "or go back to the old configuration",
        )
    if mine is not None and rules_hash(mine) != rules_hash(signature):
        raise StateError(
            f"the counts of host {state.host!r} in {state.name} were made under rules {rules_hash(mine)}; the site "
            f"{state.site!r} counts under {rules_hash(site)} since a rebuild on another host",
            "run `logtrack rebuild` on this host, with the same paths, to recount its logs under the site's rules",
        )
    if mine is None:
        state.set_rules(signature, site=False)


def _differences(old: str, new: str) -> str:
    """Which rules differ between two signatures (their JSON halves), for the refusal to name."""
    try:
        before, after = (json.loads(s.split(" ", 1)[1]) for s in (old, new))
    except (IndexError, ValueError):
        return "the rules"
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return ", ".join(keys) or "the rules"


def rules_hash(signature: str) -> str:
    """A rules signature's hash, the part that says whether two signatures are the same rules."""
    return signature.split(" ", 1)[0]


def ingest(state: Store, config: Config, inputs: list[Input], hooks: Hooks | None = None) -> IngestReport:
    """Count what is new in every input into the state."""
    hooks = hooks or Hooks()
    report = IngestReport()
    def warn(message: str) -> None:
        report.problems.append(message)
        say(message)

    def say(message: str) -> None:
        if hooks.on_warning:
            hooks.on_warning(message)

    # One pool and one committer for all the files: a pool made for each file started its threads
    # afresh, and what Polars keeps on a thread with them (288 files of 3,500 lines: 9.5 s, 8.1 s so).
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="logtrack-ingest") as pool, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="logtrack-commit") as committer:
        workers = _Workers(pool, committer, config)
        for item in inputs:
            if files.is_stream(item.name):
                what = "stdin" if item.name == files.STDIN else f"{item.name}: a pipe, not a file,"
                warn(f"{what} cannot be read incrementally (it has no identity to resume); "
                     f"use `logtrack xml {item.name}`")
                continue
            try:
                what = _ingest_file(state, config, item, workers, report, warn, say)
            except VanishedError:
                report.vanished.append(item.name)
                continue
            except InputError as exc:
                warn(str(exc))
                continue
            report.files.append((item.name, what))
    return report


class _Workers:
    """What every file's ingest shares: the pool that counts batches, the commit thread, the classifier."""

    def __init__(self, pool: Executor, committer: Executor, config: Config) -> None:
        self.pool, self.committer, self._config = pool, committer, config
        self._classifier: Classifier | None = None

    def classifier(self) -> Classifier:
        """Made on first use, so that Polars is loaded only once there is a line to read; its bot cache
        serves every file."""
        if self._classifier is None:
            from ..count.classify import Classifier

            self._classifier = Classifier(self._config.rules)
        return self._classifier


def _ingest_file(state: Store, config: Config, item: Input, workers: _Workers,
                 report: IngestReport, warn: Callable[[str], None], say: Callable[[str], None]) -> str:
    """Ingest one file; ``warn`` is for problems (they set exit 4), ``say`` for warnings that are not."""
    name = item.name
    try:
        st = os.stat(name)
    except FileNotFoundError:
        raise VanishedError(f"{name}: gone since it was listed") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror}") from None
    packed = compressed.is_compressed(name)
    if packed and state.by_hints(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns):
        return "unchanged (read before)"
    head = compressed.head(name, FINGERPRINT_BYTES)
    if not head:
        return "empty"
    record = state.match(head)
    if record is None:
        record = state.add_file(head, name)
        how = "new"
    else:
        state.widen_fingerprint(record, head)
        how = f"known (as {record.last_name}), resumed at line {record.lines + 1}"
        if not packed and not _still_there(name, record, st.st_size):
            if record.last_ts is None:  # nothing to tell old lines from new ones by
                warn(f"{name}: the file changed before the position read last time (line {record.lines}, "
                     f"byte {record.offset}): a crash cut it back, or it was rewritten; reading goes on from "
                     "that position, and lines written in its place since may be missed")
            else:
                record = state.recount(record)
        if record.recount_since is not None:
            when = datetime.fromtimestamp(record.recount_since / 1e6, UTC).isoformat(timespec="seconds")
            how = (f"cut back below the position read (a crash lost its last writes?): read again from line "
                   f"{record.lines + 1}, lines timed up to {when} were counted before")
    fmt = item.format
    if fmt is None and config.rules.format != AUTO:
        fmt = formats.get(config.rules.format)
    offset, lines = record.offset, record.lines
    last_ts, since = record.last_ts, record.recount_since
    problems_before = len(report.problems)

    def read(skip: int, first_line: int) -> Iterator[tuple[sources.Batch, LogFormat, Classifier, int | None]]:
        """The new batches, each with what parsing it takes (format, classifier, recount time)."""
        nonlocal fmt
        from ..read import w3c_sections

        batches = sources.batches(name, warn=warn, note=say, skip=skip, first_line=first_line, partial_tail=False)
        for batch in batches:
            classifier = workers.classifier()  # (made now: its bot detector warms up while the format is judged)
            from ..parse.detect import file_format, sample_frame

            # a run resuming mid-file judges the format by the file's first lines, not the new ones
            sample = sample_frame(batch if skip == 0 or fmt is not None else _head_batch(head))
            fmt, notes = file_format(fmt, sample, name, config.rules.vhosts, from_start=batch.first_line == 1)
            for note in notes:
                say(note)
            if fmt.w3c_separator is not None and skip > 0:
                fmt = _w3c_resumed(fmt, name, skip, batch)
            # the first batch has told the format; a W3C log's headers may change it further on
            for part, part_fmt in w3c_sections.follow(itertools.chain([batch], batches), fmt, skip):
                yield part, part_fmt, classifier, since
            return

    def work(job: tuple[sources.Batch, LogFormat, Classifier, int | None]) -> BatchSummary:
        from ..count.batch import count_batch

        batch, fmt, classifier, recount_since = job
        return count_batch(batch, fmt, classifier, config.rules.timezone, log_timezone=config.rules.log_timezone,
                           since=recount_since)

    # Batches are parsed ahead on a small pool, and committed in file order
    # on a thread of their own, each commit with the read position after it,
    # while the main thread reads on: the database's work is off the path
    # the lines take. A commit holds the batches parsed since the last one,
    # their counts merged in one transaction (fewer upserts, since the same
    # listings recur). One commit runs at a time, and the next waits for it:
    # the state sees them in order, and a crash leaves it at a commit.
    pending: list[BatchSummary] = []  # parsed, not committed yet
    pending_bytes, committed_at = 0, float("-inf")  # the first group commits at once: progress shows early
    writing: Future[None] | None = None  # the commit under way
    known = set(report.tally.examples)  # reasons whose first example is kept already
    account = FileAccount()  # the lines read this run, and the damaged ones

    def write(done: list[BatchSummary], at: int, lines_at: int, ts: int | None, recount: int | None) -> None:
        tail = None if packed else _tail_hash(name, at)
        with state.transaction():
            state.advance(record.id, at, lines_at, name, merge_counts([s.counts for s in done]), ts, recount, tail,
                          outcomes=merge_outcomes([s.outcomes for s in done if s.outcomes is not None]))
        for summary in done:
            report.tally.add(summary)

    def commit() -> None:
        nonlocal pending, pending_bytes, committed_at, writing
        settle()
        if pending:
            writing = workers.committer.submit(write, pending, offset, lines, last_ts, since)
            pending, pending_bytes, committed_at = [], 0, time.monotonic()

    def settle() -> None:
        """Wait for the commit under way; its error, if any, is raised here."""
        nonlocal writing
        if writing is not None:
            done, writing = writing, None
            done.result()

    try:
        for group in in_order(workers.pool, read(offset, lines + 1), work):
            summaries = [summary for _, summary in group]
            last = group[-1][0][0]
            offset, lines = last.end_offset, last.first_line - 1 + summaries[-1].lines
            last_ts = max((t for t in [last_ts, *(s.last_ts for s in summaries)] if t is not None),
                          default=None)
            if since is not None and last_ts is not None and last_ts > since:
                since = None  # past the cut: every line from here on was written after it
            for summary in summaries:
                account.add(summary)
            pending.extend(s.detached(known) for s in summaries)
            pending_bytes += sum(len(job[0].data) for job, _ in group)
            if pending_bytes >= COMMIT_BYTES or time.monotonic() - committed_at >= COMMIT_SECONDS:
                commit()
    except InputError:
        commit()  # what was read before a read error counts
        settle()
        raise
    except BaseException:
        with contextlib.suppress(Exception):  # the first error is the one to report
            settle()  # the database is left idle (and the commit under way kept) before it goes on
        raise
    commit()
    settle()
    if note := account.mostly_damaged(name):
        report.suspect.append(note)  # read whole all the same: not a problem of reading
        say(note)
    whole = len(report.problems) == problems_before  # read to its end, with no warning
    state.set_hints(record.id, st, complete=packed and whole)
    if how != "new" and lines == record.lines:
        return f"nothing new (at line {lines})"
    return f"{how}; now at line {lines}"


TAIL_BYTES = 256
# After the first, a commit holds the counts and read position of this much text, or of this long's
# parsing, whichever comes first: the same listings recur from batch to batch, so merged counts mean
# fewer SQLite upserts, and a run killed meanwhile reads at most that much again (exactly once either
# way). Commits run on their own thread, so they cost CPU but not the reading's time: a first run over
# 5 M lines took 1.46x xml's time with 64 MiB commits on the main thread, 1.05 to 1.25x now.
COMMIT_BYTES = 256 * 1024 * 1024
COMMIT_SECONDS = 2.0


def _tail_hash(name: str, offset: int) -> str | None:
    """A hash of the bytes just before ``offset`` (None if they cannot be read)."""
    try:
        with open(name, "rb") as fh:
            fh.seek(max(0, offset - TAIL_BYTES))
            tail = fh.read(min(offset, TAIL_BYTES))
    except OSError:
        return None
    return hashlib.sha256(tail).hexdigest()[:32] if len(tail) == min(offset, TAIL_BYTES) else None


def _still_there(name: str, record: FileRecord, size: int) -> bool:
    """Whether the file still holds what it held just before where the last run stopped.

    Logs only grow, so this holds unless the file was cut back, as a
    filesystem can do to its last unwritten lines in a crash, with the
    restarted server appending from there; a rewritten file shows it too.
    States from before ``tail_hash`` was kept check that a line still ends
    there (or a hole begins or ends).
    """
    offset = record.offset
    if offset == 0:
        return True
    if size < offset:
        return False
    if record.tail_hash is not None:
        return _tail_hash(name, offset) == record.tail_hash
    with open(name, "rb") as fh:
        fh.seek(offset - 1)
        around = fh.read(2)
    return around[:1] in (b"\n", HOLE) or around[1:] == HOLE


def _w3c_resumed(fmt: LogFormat, name: str, offset: int, batch: sources.Batch) -> LogFormat:
    """A W3C log read from ``offset`` on: its lines follow the last header before it, not the first one."""
    from ..formats import w3c
    from ..read import w3c_sections

    header = w3c_sections.header_before(name, offset)
    if header is None:
        return fmt
    return w3c.from_header(header, batch.line(0), fmt)


def _head_batch(head: bytes) -> sources.Batch:
    """The file's first bytes as a batch of its whole first lines (a hole is no line of any format)."""
    head = head.replace(HOLE, b"\n")
    return sources.batch_of("head", 1, head[: head.rfind(b"\n")] if b"\n" in head else head)
