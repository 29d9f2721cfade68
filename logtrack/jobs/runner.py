"""Unattended runs: ingest what is new, then upload what is due.

``run`` is what logrotate's postrotate and cron call. By default only
complete days go up (days before today in the reporting time zone), inside
the posting window; a day goes up again with its new total when late lines
change it, since flexmls keeps the last post for each day and supplier.

In a fleet (several hosts sharing one state) a day is posted as the sum
over the hosts, once each of the other hosts has finished with it: its
latest run that read all of its logs began after the day ended, plus
``[fleet] grace``. A host silent past ``[fleet] host_timeout`` is not
waited for; its days go out without it (with a warning naming it), and go
again with the full sums when it catches up, since its new counts make
them pending. On a single server (no other host in the state) a day is due
once it is over, as before fleets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ..config import Config
from ..errors import (
    AuthError,
    ConfigError,
    InputError,
    LogtrackError,
    NoStateError,
    StateError,
    UnreachableError,
    UploadError,
    days_listed,
)
from ..flexmls.upload import Poster, UploadSettings, in_window, load_api_key, redact, split_posts
from ..leftovers import scratch_dir
from ..output import write_into
from ..read import compressed
from ..read.inputs import Hooks, plan
from ..state.interface import Store
from ..state.locate import Location, open_state, parse
from ..state.records import FINGERPRINT_BYTES, HostRecord, Upload
from ..state.store import State
from .ingest import IngestReport, ingest, ingest_paths
from .site_rules import check_rules, rules_hash

if TYPE_CHECKING:
    import polars as pl


@dataclass(frozen=True)
class RunOptions:
    dry_run: bool = False
    upload: bool = True
    ignore_window: bool = False  # --now
    include_today: bool = False
    api_key: str | None = None
    lock_wait: float = 60.0
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


@dataclass(frozen=True, eq=False)
class Post:
    """One document as it would be posted in a dry run, and what it carries."""

    part: pl.DataFrame
    config: Config

    @property
    def days(self) -> list[str]:
        return sorted({d.isoformat() for d in self.part.get_column("day").to_list()})

    @property
    def suppliers(self) -> list[str]:
        return sorted(set(self.part.get_column("supplier").to_list()))

    @property
    def listings(self) -> int:
        return self.part.height

    def document(self) -> bytes:
        """Made when it is shown, and not kept: a dry run over a year of logs held its 1,095 documents
        (500 MB) before it showed the first."""
        from ..flexmls import viewtracking

        return viewtracking.build(self.part, self.config)


@dataclass
class RunReport:
    ingest: IngestReport
    due: list[str] = field(default_factory=list)  # days due for upload
    posted: list[str] = field(default_factory=list)  # days flexmls accepted in this run
    deferred: str | None = None  # why nothing was posted, when that is not an error
    dry_run_posts: list[Post] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # upload errors (days stay pending)
    rejected: list[Path] = field(default_factory=list)  # saved documents flexmls refused
    held: dict[str, list[str]] = field(default_factory=dict)  # day -> hosts not finished with it yet
    without: dict[str, list[str]] = field(default_factory=dict)  # silent host -> due days posted without it
    # why the upload could not be done at all (no key, key refused, endpoint down); raised after the summary
    upload_error: LogtrackError | None = None


def today(config: Config, now: datetime) -> date:
    """Today in the reporting time zone (UTC when none is set)."""
    return now.astimezone(ZoneInfo(config.rules.timezone or "UTC")).date()


def where(state: Location | Path | str) -> Location:
    """The state's location from a path, a URL or a ``Location``."""
    return state if isinstance(state, Location) else parse(state)


def run(config: Config, paths: Sequence[str], state: Location | Path | str, options: RunOptions,
        hooks: Hooks | None = None, on_ingested: Callable[[RunReport], None] | None = None) -> RunReport:
    """Ingest new lines exactly once, then post the days that are due.

    The key is checked (present, readable only by its owner) before any log
    is read, so a setup that cannot upload says so on its first run rather
    than on the first day due; the logs are counted all the same, and the
    problem is in ``RunReport.upload_error``. ``on_ingested`` hears of the
    ingest before the upload starts (so its summary comes before any retry
    message). The files are listed only once
    the state's lock is held, so a run that waited for another (logrotate's
    hook and cron at once) reads the names the files have now.
    """
    config.require_patterns()
    hooks = hooks or Hooks()
    key, key_error = None, None
    if options.upload and not options.dry_run:
        try:
            key = load_api_key(options.api_key, config.settings.api_key_file)
        except ConfigError as exc:
            key_error = exc
            _say(hooks.on_warning, f"{exc}; counting the logs anyway, nothing can be posted")
    location = where(state)
    if options.dry_run:
        report = _dry_run(config, paths, location, options, hooks)
        if on_ingested:
            on_ingested(report)
        return report
    with open_state(location, config.settings.fleet, lock_wait=options.lock_wait) as store:
        report = _ingest(store, config, paths, options, hooks, location)
        if on_ingested:
            on_ingested(report)
        with store.uploading():  # the days due are found, and posted, by one host of the site at a time
            _find_due(store, config, options, report, hooks)
            if not options.upload:
                return report
            if key is None:
                report.upload_error = key_error
                return report
            if not report.due:
                return report
            window, window_zone = config.settings.window, config.settings.window_timezone
            if not options.ignore_window and not in_window(options.clock(), window, window_zone):
                report.deferred = (
                    f"{len(report.due)} day(s) due ({days_listed(report.due)}), but it is outside the posting window "
                    f"{window} {window_zone}; they go with a run inside it (or use --now)"
                )
                return report
            _upload(store, config, report, key, hooks)
        return report


def _say(hook: Callable[[str], None] | None, message: str) -> None:
    if hook:
        hook(message)


def _own_files(config: Config, location: Location) -> list[str]:
    """logtrack's own files (the config's, the state's): never read as logs, whatever names them."""
    return [name for name, _ in (*config.own_files(), *location.own_files())]


def _ingest(state: Store, config: Config, paths: Sequence[str], options: RunOptions, hooks: Hooks,
            location: Location) -> RunReport:
    """Ingest this host's logs, and note the run: whether it read every log to its end, and when it began.
    ``location``: the state's, whose files are not logs (in a dry run: the live state's, not its copy's)."""
    started = options.clock().timestamp()
    check_rules(state, config)
    report = RunReport(ingest_paths(state, config, paths, hooks, _own_files(config, location)))
    state.finish_run(started, read_all=not report.ingest.vanished)
    return report


def _find_due(state: Store, config: Config, options: RunOptions, report: RunReport, hooks: Hooks) -> None:
    """The pending days that may go now: over, and finished on every host that is not silent."""
    pending = state.settle()
    now = options.clock()
    if options.include_today:
        report.due = _unstranded(state, pending, hooks)
        return
    before = today(config, now).isoformat()
    everyone = state.hosts()
    # On a single server, a day is due once it is over, as it always was; in a fleet, this host too
    # must have begun its run past the day's end and grace (and read all of its logs).
    hosts = everyone if any(h.host != state.host for h in everyone) else []
    site_rules = state.rules()
    stale_rules = [h.host for h in hosts if h.has_counts and _differ(h.rules, site_rules)]
    if stale_rules and pending:
        report.upload_error = StateError(
            f"host(s) {', '.join(stale_rules)} of site {state.site!r} hold counts made under other rules than the "
            f"site's (a rebuild elsewhere changed them); nothing is posted until every host counts the same way",
            f"run `logtrack rebuild` on {', '.join(stale_rules)} with the site's configuration",
        )
        return
    pending = _unstranded(state, pending, hooks)
    zone = ZoneInfo(config.rules.timezone or "UTC")
    fleet = config.settings.fleet
    for day in (d for d in pending if d < before):
        end = datetime.combine(date.fromisoformat(day) + timedelta(days=1), time(), zone).timestamp() + fleet.grace
        waiting = [h for h in hosts if (h.read_all_started or float("-inf")) < end]
        silent = [h for h in waiting if now.timestamp() - _last_full_read(h) > fleet.host_timeout]
        if len(silent) < len(waiting):
            report.held[day] = [h.host for h in waiting if h not in silent]
            continue
        report.due.append(day)
        for h in silent:
            report.without.setdefault(h.host, []).append(day)
    for host, days in report.without.items():
        seen = next(h for h in hosts if h.host == host)
        _say(hooks.on_warning, f"host {host} has not read all of its logs since {_when(_last_full_read(seen))}, "
             f"longer than [fleet] host_timeout ({fleet.host_timeout / 3600:g} h): {days_listed(days)} go out "
             "without its views, and again with the full sums once it catches up")


STRANDED = ("counted under rules that give no views to a supplier flexmls holds views of for it; a post cannot "
            "withdraw a View, so flexmls keeps the numbers posted before")


def _unstranded(state: Store, pending: list[str], hooks: Hooks) -> list[str]:
    """The pending days, less those a post would count twice at flexmls, which are frozen and said.

    flexmls keeps the last post for each (day, supplier), and a post cannot
    empty one (a View holds at least one listing). A day that flexmls holds
    views of for a supplier its counts no longer have (the rules changed: a
    supplier renamed, its views moved to another or to "Other") would go
    with those views under their new supplier, and flexmls would keep the
    old View beside it: the day's views counted twice. Such a day is frozen,
    as a day rebuilt without all of its logs is: flexmls keeps what it had,
    counted under the rules of the time. Days never posted go under the new
    rules.
    """
    stranded: dict[str, list[str]] = {}
    for day, supplier in state.stranded(pending) if pending else ():
        stranded.setdefault(day, []).append(supplier)
    if stranded:
        state.freeze(list(stranded), STRANDED)
    for day, suppliers in stranded.items():
        names = ", ".join(repr(s) if s else "Other" for s in suppliers)
        _say(hooks.on_warning,
             f"{day} is not posted again: flexmls holds views of {names} for it, which the counts under the current "
             "rules no longer give (a supplier renamed, its views moved to another or to Other); a post replaces the "
             "Views it names and cannot withdraw one, so the old View would stay beside the new ones, its views "
             "counted twice. flexmls keeps the numbers posted before (the day is frozen); days not posted yet go "
             "under the current rules")
    return [day for day in pending if day not in stranded]


def _differ(rules: str | None, site_rules: str | None) -> bool:
    return rules is None or site_rules is None or rules_hash(rules) != rules_hash(site_rules)


def _last_full_read(host: HostRecord) -> float:
    return host.read_all_started if host.read_all_started is not None else host.first_run


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _dry_run(config: Config, paths: Sequence[str], location: Location, options: RunOptions,
             hooks: Hooks) -> RunReport:
    """Do everything on a copy of the state, and post nothing: the documents are the result."""
    fleet = config.settings.fleet
    with scratch_dir("logtrack-dry-") as tmp:  # (removed by a stopped process too: it is as large as the state)
        copy = Path(tmp) / "state.db"
        host = fleet.host
        name = None
        if location.exists():
            try:
                with open_state(location, fleet, lock_wait=options.lock_wait, readonly=True) as live:
                    live.copy_to(copy)
                    host, name = live.host, live.name
            except NoStateError:
                pass  # nothing run into it yet: the dry run starts from an empty state, as a first run would
        with State.open(copy, site=fleet.site, host=host) as state:
            state.name = name or state.name  # (what its messages name is the user's state, not the copy)
            report = _ingest(state, config, paths, options, hooks, location)
            _find_due(state, config, options, report, hooks)
            for day in report.due:
                for part in split_posts(state.totals(days=[day]), config.settings.max_listings_per_post):
                    report.dry_run_posts.append(Post(part, config))
    return report


def _upload(state: Store, config: Config, report: RunReport, key: str, hooks: Hooks) -> None:
    from ..flexmls import viewtracking

    def retrying(what: str, wait: float) -> None:
        _say(hooks.on_notice, f"upload: {what}; next try in {wait:.1f} s" if wait < 10 else
             f"upload: {what}; next try in {wait:.0f} s")

    poster = Poster(key, UploadSettings(endpoint=config.settings.endpoint, timeout=config.settings.upload_timeout,
                                        retries=config.settings.upload_retries, backoff=config.settings.upload_backoff),
                    on_retry=retrying)
    for day in report.due:
        counts = state.totals(days=[day])
        try:
            for part in split_posts(counts, config.settings.max_listings_per_post):
                document = viewtracking.build(part, config)
                response = poster.post(document)
                if response.status_code == 400:
                    saved = _save_rejected(state.local_dir, day, document, response.text, key)
                    report.rejected.append(saved)
                    raise UploadError(
                        f"flexmls refused the document for {day} (400): "
                        f"{redact(response.text.strip()[:200], key)}; it and the answer are in {saved.parent}"
                    )
                poster.check(response)
                state.mark_posted(part)
            state.clean(day)
            state.log_upload([day], True, 200, "accepted")
            report.posted.append(day)
        except AuthError as exc:
            state.log_upload([day], False, 403, str(exc))
            report.upload_error = exc
            return
        except UnreachableError as exc:
            state.log_upload([day], False, None, str(exc))
            left = report.due[report.due.index(day):]
            report.upload_error = UnreachableError(
                f"{exc}; {len(left)} day(s) stay pending ({days_listed(left)})",
                f"they go with the next run inside the posting window {config.settings.window} "
                f"{config.settings.window_timezone} "
                "(or with --now)",
            )
            return
        except UploadError as exc:
            state.log_upload([day], False, None, str(exc))
            report.failures.append(str(exc))


def _save_rejected(local_dir: Path, day: str, document: bytes, answer: str, key: str) -> Path:
    folder = local_dir / "rejected"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    xml_path = write_into(folder, f"{stamp}-{day}.xml", document)
    write_into(folder, f"{stamp}-{day}.answer.txt", redact(answer, key).encode())
    return xml_path


STALE_AFTER = 3 * 86400  # flexmls asks for data every 1 to 3 days


@dataclass
class Status:
    files: int
    pending: list[str]
    frozen: list[str]
    last_accepted: Upload | None
    last_attempt: Upload | None  # the latest attempt, when it failed after the last accepted one
    stale_since: datetime | None  # days are pending and nothing was accepted since then, over 3 days ago
    today: int = 0  # views counted today so far (in the reporting time zone)
    yesterday: int = 0
    last_7_days: list[tuple[str, int]] = field(default_factory=list)  # (supplier, views), most first
    site: str = ""
    host: str = ""  # the host this status was asked on
    where: str = ""  # the state, for the first line (a URL without its password)
    hosts: list[HostStatus] = field(default_factory=list)


@dataclass(frozen=True)
class HostStatus:
    """One host of the site, as ``status`` shows it."""

    host: str
    last_run: float | None  # when its latest run finished
    last_full_read: float  # when its latest run that read all of its logs began (or it first ran)
    last_line: float | None  # the latest line time it read (seconds since 1970)
    lag: float | None  # now minus that, in seconds
    silent: bool  # no full read for longer than [fleet] host_timeout
    rules_differ: bool  # its counts were made under other rules than the site's


def status(location: Location | Path | str, config: Config, now: datetime) -> Status:
    """What the next run would post, how the uploads went, and how each host of the site is doing.

    Opening the state checks it is intact. "Stale" counts from the last
    accepted upload or, before any, from when the state was made, so a new
    state is not said to have gone days without an upload.
    """
    fleet = config.settings.fleet
    with open_state(where(location), fleet, readonly=True) as state:
        hosts = []
        site_rules = state.rules()
        for h in state.hosts():
            last_line = None if h.last_line_ts is None else h.last_line_ts / 1e6
            hosts.append(HostStatus(h.host, h.run_finished, _last_full_read(h), last_line,
                                    None if last_line is None else now.timestamp() - last_line,
                                    now.timestamp() - _last_full_read(h) > fleet.host_timeout,
                                    h.has_counts and _differ(h.rules, site_rules)))
        latest = state.uploads(1)
        accepted = state.last_accepted()
        attempt = latest[0] if latest and not latest[0].ok else None
        pending = state.pending_days(today(config, now))
        since = datetime.fromtimestamp(accepted.at if accepted else state.created(), UTC)
        stale = bool(pending) and (now - since).total_seconds() > STALE_AFTER
        day = today(config, now)
        week = state.totals(day - timedelta(days=6), day)
        return Status(len(state.files()), pending, state.frozen(), accepted, attempt, since if stale else None,
                      *_recent(week, day), site=state.site, host=state.host, where=state.name, hosts=hosts)


def _recent(week: pl.DataFrame, day: date) -> tuple[int, int, list[tuple[str, int]]]:
    """Views today, yesterday, and per supplier over the seven days up to today."""
    import polars as pl

    def on(d: date) -> int:
        return int(week.filter(pl.col("day") == d).get_column("views").sum())

    per = week.group_by("supplier").agg(pl.col("views").sum()).sort(["views", "supplier"], descending=[True, False])
    return on(day), on(day - timedelta(days=1)), [(s, int(v)) for s, v in per.iter_rows()]


@dataclass
class RebuildReport:
    ingest: IngestReport
    lost_days: list[str]  # days some of whose counts came from files no longer present


def rebuild(config: Config, paths: Sequence[str], location: Location | Path | str, lock_wait: float = 60.0,
            hooks: Hooks | None = None, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> RebuildReport:
    """Recount this host's logs still present, under the current rules, which become the site's.

    Days that had counts from a file no longer present cannot be rebuilt in
    full; they are frozen (never posted again, so flexmls keeps what it had)
    and named in the report. In a fleet a rebuild is per host: the others
    keep their counts, and once the rules changed, each must be rebuilt
    before the site posts again (``check_rules``, ``_find_due``).
    """
    hooks = hooks or Hooks()
    started = clock().timestamp()
    located = where(location)
    with open_state(located, config.settings.fleet, lock_wait=lock_wait) as state:
        inputs, problems = plan(config, paths, siblings=True, note=hooks.on_warning,  # under the lock, as in run
                                leave_out=_own_files(config, located))
        present: set[int] = set()
        for item in inputs:
            try:
                head = compressed.head(item.name, FINGERPRINT_BYTES)
            except InputError as exc:
                problems.append(exc.message)
                continue
            found = state.match(head) if head else None
            if found:
                present.add(found.id)
        if problems or not inputs:
            # A rebuild forgets every count and recounts from the logs it reads: a path mistyped, a log it
            # cannot read or none named at all froze each day counted from them, their counts gone.
            raise InputError(
                "rebuild stopped before changing the state: "
                + ("; ".join(problems) if problems else "no log named to recount from"),
                "name every directory or file that holds the logs (or --nginx-conf), each readable, and rebuild "
                "again: the days of a log it does not read are frozen, their counts gone")
        lost = sorted({d for fid, days in state.days_by_file().items() if fid not in present for d in days})
        state.forget_counts()
        config.check_patterns()
        state.set_rules(config.rules.signature())
        report = ingest(state, config, inputs, hooks)
        state.finish_run(started, read_all=not report.vanished)
        if lost:
            state.freeze(lost, "rebuilt without all of its logs; flexmls keeps the numbers posted before")
        state.settle()
        return RebuildReport(report, lost)
