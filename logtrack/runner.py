"""Unattended runs: ingest what is new, then upload what is due.

``run`` is what logrotate's postrotate and cron call. By default only
complete days go up (days before today in the reporting time zone), inside
the posting window; a day goes up again with its new total when late lines
change it, since flexmls keeps the last post for each day and supplier.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from . import sources
from .config import Config
from .errors import AuthError, InputError, UploadError
from .ingest import IngestReport, check_rules, ingest
from .inputs import Hooks, Input, plan
from .state import FINGERPRINT_BYTES, State, Upload
from .upload import Poster, UploadSettings, in_window, load_api_key


@dataclass(frozen=True)
class RunOptions:
    dry_run: bool = False
    upload: bool = True
    ignore_window: bool = False  # --now
    include_today: bool = False
    api_key: str | None = None
    lock_wait: float = 60.0
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


@dataclass
class RunReport:
    ingest: IngestReport
    due: list[str] = field(default_factory=list)  # days due for upload
    posted: list[str] = field(default_factory=list)  # days flexmls accepted in this run
    deferred: str | None = None  # why nothing was posted, when that is not an error
    dry_run_documents: list[bytes] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # upload errors (days stay pending)
    rejected: list[Path] = field(default_factory=list)  # saved documents flexmls refused


def today(config: Config, now: datetime) -> date:
    """Today in the reporting time zone (UTC when none is set)."""
    return now.astimezone(ZoneInfo(config.timezone or "UTC")).date()


def run(config: Config, paths: Sequence[str], state_path: Path, options: RunOptions,
        hooks: Hooks | None = None) -> RunReport:
    """Ingest new lines exactly once, then post the days that are due."""
    config.require_patterns()
    inputs, problems = plan(config, paths)
    hooks = hooks or Hooks()
    for problem in problems:
        if hooks.on_warning:
            hooks.on_warning(problem)
    if options.dry_run:
        return _dry_run(config, inputs, problems, state_path, options, hooks)
    with State.open(state_path, lock_wait=options.lock_wait) as state:
        report = _ingest_and_find_due(state, config, inputs, problems, options, hooks)
        if not report.due or not options.upload:
            return report
        if not options.ignore_window and not in_window(options.clock(), config.window, config.window_timezone):
            report.deferred = (
                f"{len(report.due)} day(s) due, but it is outside the posting window "
                f"{config.window} {config.window_timezone}; they go with a run inside it (or use --now)"
            )
            return report
        _upload(state, config, report, options)
        return report


def _ingest_and_find_due(state: State, config: Config, inputs: list[Input], problems: list[str],
                         options: RunOptions, hooks: Hooks) -> RunReport:
    check_rules(state, config)
    report = RunReport(ingest(state, config, inputs, hooks))
    report.ingest.problems[:0] = problems
    before = None if options.include_today else today(config, options.clock())
    report.due = state.pending_days(before)
    return report


def _dry_run(config: Config, inputs: list[Input], problems: list[str], state_path: Path,
             options: RunOptions, hooks: Hooks) -> RunReport:
    """Do everything on a copy of the state, and post nothing: the XML is the result."""
    from . import viewtracking
    from .upload import split_posts

    with tempfile.TemporaryDirectory(prefix="logtrack-dry-") as tmp:
        copy = Path(tmp) / "state.db"
        if state_path.exists():
            with State.open(state_path, lock_wait=options.lock_wait, readonly=True) as live:
                target = sqlite3.connect(copy)
                live.db.backup(target)
                target.close()
        with State.open(copy) as state:
            report = _ingest_and_find_due(state, config, inputs, problems, options, hooks)
            for day in report.due:
                for part in split_posts(state.totals(days=[day]), config.max_listings_per_post):
                    report.dry_run_documents.append(viewtracking.build(part, config))
    return report


def _upload(state: State, config: Config, report: RunReport, options: RunOptions) -> None:
    from . import viewtracking
    from .upload import split_posts

    key = load_api_key(options.api_key, config.api_key_file)
    poster = Poster(key, UploadSettings(endpoint=config.endpoint, timeout=config.upload_timeout,
                                        retries=config.upload_retries, backoff=config.upload_backoff))
    for day in report.due:
        counts = state.totals(days=[day])
        if counts.equals(state.posted([day])):
            state.clean(day)  # e.g. a rebuild that came to the same numbers
            continue
        try:
            for part in split_posts(counts, config.max_listings_per_post):
                document = viewtracking.build(part, config)
                response = poster.post(document)
                if response.status_code == 400:
                    saved = _save_rejected(state.path, day, document, response.text, key)
                    report.rejected.append(saved)
                    raise UploadError(
                        f"flexmls refused the document for {day} (400): "
                        f"{response.text.strip()[:200].replace(key, '[api-key]')}",
                        f"the day stays pending; the document and the answer are in {saved.parent}",
                    )
                poster.check(response)
                state.mark_posted(part)
            state.clean(day)
            state.log_upload([day], True, 200, "accepted")
            report.posted.append(day)
        except AuthError as exc:
            state.log_upload([day], False, 403, str(exc))
            raise
        except UploadError as exc:
            state.log_upload([day], False, None, str(exc))
            report.failures.append(str(exc))


def _save_rejected(state_path: Path, day: str, document: bytes, answer: str, key: str) -> Path:
    folder = state_path.parent / "rejected"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    xml_path = folder / f"{stamp}-{day}.xml"
    xml_path.write_bytes(document)
    (folder / f"{stamp}-{day}.answer.txt").write_text(answer.replace(key, "[api-key]"))
    return xml_path


@dataclass
class Status:
    files: int
    pending: list[str]
    frozen: list[str]
    last_upload: Upload | None
    last_success: datetime | None
    stale: bool  # nothing accepted for more than three days


def status(state_path: Path, config: Config, now: datetime) -> Status:
    with State.open(state_path, readonly=True) as state:
        last = state.uploads(1)
        success = state.last_success()
        when = datetime.fromtimestamp(success, UTC) if success else None
        pending = state.pending_days(today(config, now))
        stale = bool(pending) and (when is None or (now - when).total_seconds() > 3 * 86400)
        return Status(len(state.files()), pending, state.frozen(), last[0] if last else None, when, stale)


@dataclass
class RebuildReport:
    ingest: IngestReport
    lost_days: list[str]  # days some of whose counts came from files no longer present


def rebuild(config: Config, paths: Sequence[str], state_path: Path, lock_wait: float = 60.0,
            hooks: Hooks | None = None) -> RebuildReport:
    """Recount from the files still present, under the current rules.

    Days that had counts from a file no longer present cannot be rebuilt in
    full; they are frozen (never posted again, so flexmls keeps what it had)
    and named in the report.
    """
    inputs, _ = plan(config, paths)
    with State.open(state_path, lock_wait=lock_wait) as state:
        present: set[int] = set()
        for item in inputs:
            try:
                head = sources.head(item.name, FINGERPRINT_BYTES)
            except InputError:
                continue
            found = state.match(head) if head else None
            if found:
                present.add(found.id)
        lost = sorted({d for fid, days in state.days_by_file().items() if fid not in present for d in days})
        state.forget_counts()
        check_rules(state, config)
        report = ingest(state, config, inputs, hooks)
        if lost:
            state.freeze(lost, "rebuilt without all of its logs; flexmls keeps the numbers posted before")
        return RebuildReport(report, lost)
