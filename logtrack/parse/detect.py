"""``auto``: which format a file is in, from its first lines, sure or saying so.

Every candidate is scored on the same sample: the presets in order (the
most specific first), the proxies' fixed formats and HAProxy's, the JSON shapes of the
servers logtrack knows and nginx's usual JSON keys, and a W3C log's own
``#Fields:`` header. A candidate's score is how many sample lines it reads
*whole*: the line fits, its time parses, its status is a number. A regex
that fits while every time is "bad" (a custom time format under
``common``) scores nothing. The first candidate that reads more than half
of the lines is taken (or a later one that reads the same fields and more
lines); otherwise the file is refused, naming the best candidates and
their scores, and what the file looks like when that is plain.
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import polars as pl

from .. import formats, frames
from ..errors import InputError, LogFormatError, UnrecognisedError
from ..formats import LogFormat, caddy, containers, haproxy, looks_like, nginx, syslog, w3c
from ..read import sources
from ..read.holes import HOLE
from ..verdicts.decide import ORDER, skip_reason
from ..verdicts.reasons import DAMAGED, Skip
from .fields import derive, fields_of_lines, lines_frame, numbered, split_fields
from .json_lines import behind, is_text, json_value
from .lines import file_of, file_starts, read_lines

SAMPLE = 1000  # lines a format is judged by
HEAD = 50  # of them, the ones a W3C header or another writer's prefix is looked for in

# another writer's prefix -> the screen that finds it on a line
_PREFIXES = {syslog.PREFIX: "^" + syslog.ENVELOPE, containers.PREFIX: containers.SCREEN}


@dataclass(frozen=True)
class Fit:
    """How well one candidate reads the sample: lines read whole, of how many, and why the others were not."""

    fmt: LogFormat
    read: int
    lines: int
    failure: str | None = None  # the commonest reason the others were not read
    matched: int = 0  # lines its regex matches (read or not): how close it came

    @property
    def clear(self) -> bool:
        return self.read * 2 > self.lines

    def __str__(self) -> str:
        why = f" ({self.failure}: the others)" if self.failure and self.read < self.lines else ""
        return f"{self.fmt.name} {self.read}/{self.lines}{why}"


def detect(sample: pl.DataFrame, source: str) -> LogFormat:
    """The format of a file, from its first lines (``sample['line']``); ``UnrecognisedError`` when none fits."""
    lines = sample_lines(sample)
    if lines.len() == 0:
        return formats.get("combined")  # nothing to judge (an empty file): no line will need reading
    if (header := _w3c_header(lines.head(HEAD).to_list())) is not None:
        try:
            return _w3c(lines.to_list(), header)
        except LogFormatError as exc:
            raise UnrecognisedError(f"{source}: {exc.message}", exc.fix) from None
    tried = candidates(lines)
    plain = [fmt for fmt in tried if not fmt.is_json]
    hits = dict(zip(map(id, plain), screened(plain, lines), strict=True))
    fits: list[Fit] = []  # (all of them when none is chosen: the message names the best)

    def scored() -> Iterator[Fit]:
        for fmt in tried:
            fits.append(score(fmt, lines, hits.get(id(fmt))))
            yield fits[-1]

    chosen = pick(scored())
    if chosen is not None:
        if chosen.name in _HAPROXY:
            clf = chosen.name == haproxy.HAPROXY_CLF
            return haproxy.httplog(haproxy_captures(lines.to_list(), clf=clf), clf=clf)
        return chosen
    best = sorted(fits, key=lambda fit: (-fit.read, -fit.matched))[:3]
    what = looks_like.describe(lines.head(200).to_list())
    if best and best[0].matched:
        scores = f": of its first {lines.len()} lines, the best candidates read {', '.join(map(str, best))}"
    else:
        scores = f": none of the {len(fits)} formats tried matches any of its first {lines.len()} lines" if fits else ""
    if what and what.startswith(looks_like.JSON_LINES):  # maybe an access log a JSON template of its own writes
        hint = ("if it is an access log, set [logs] format (or --format) to the log_format or LogFormat that "
                "writes it; else leave it out of the paths")
    elif what == looks_like.HAPROXY:
        hint = ('set [logs] format (or --format) to "haproxy:HEADERS log-format ..." with the log-format line of '
                "haproxy.cfg, HEADERS its capture request header names in order (Host,Referer,User-Agent)")
    elif what == looks_like.CADDY_CONSOLE:  # (caddy_console, tried, did not read it: a time of a layout of its own?)
        hint = (f"{caddy.NAME} reads Caddy's access log in console format with one of Caddy's named time_formats "
                "(wall, wall_milli, wall_nano, rfc3339, rfc3339_nano, iso8601, common_log, unix_seconds_float, "
                "unix_milli_float, unix_nano): set one in the Caddyfile's format console block, or use format json")
    elif what in _WRAPPERS:  # maybe access lines wrapped by another writer, in a format of their own
        hint = (f"if its messages are access lines, set [logs] format (or --format) to {_WRAPPERS[what]} and "
                "the log_format or LogFormat that writes them; else leave it out of the paths")
    elif what:
        hint = "leave it out of the paths (or set [logs] glob to pick the access logs)"
    else:
        hint = "set [logs] format (or --format) to the server's log_format or LogFormat string, " \
               "or leave the file out of the paths"
    raise UnrecognisedError(
        f"{source}: no known log format fits this file{scores}" + (f"; it looks like {what}" if what else ""), hint)


def detect_files(parts: Sequence[sources.Batch], likely: str | None = None, *,
                 trusted: set[int] | None = None) -> list[LogFormat | None]:
    """``detect`` of several whole files (``parts``, one batch each) in a few queries: each file's format where
    its lines make it plain, None where the file is to be judged alone.

    Over a directory of small files (a CDN's five-minute logs) ``detect``
    cost more than the counting: some 5 ms a file on the main thread, four
    queries on a thousand lines, each costing Polars more to set up than to
    run (2,000 files of 500 lines: 13 s under ``auto``, 2 s with the format
    named). Here every file's sample is screened side by side, and the
    files whose first candidate is the same are read in it together. A file
    is given what ``detect`` would give it only where that is plain: a W3C
    log's header says it; else its lines are JSON objects (the candidates
    are then the JSON shapes its first objects' keys fit,
    ``_json_candidates``) or plain lines behind no other writer's prefix
    (the plain presets, in order, the first that passes its screen), and
    that first candidate reads every line of the sample, which ``pick``
    takes at once. Any other file (a mixed sample, HAProxy's captures,
    Docker's JSON, a header or lines no format fits: the message names
    why) is None, for ``detect`` alone.

    ``likely``: the format most files are expected in (the last group's):
    only the plain candidates before it are screened (the costly screens
    are the ones that match most of a line), and a file none of them passes
    is read in it, which passes its screen where it reads every line (the
    screen's regex matches every line the format's parse reads).

    ``trusted``: where a set is given, a file's first candidate is not read
    here (some 40 % of the judging's work) but given to it on trust, and
    the file's index added to the set: the caller then holds it to what
    ``detect`` alone would give by its counting, which reads every line in
    that format anyway (``jobs.preview``: a file whose counting finds a
    damaged line is judged alone, and counted again where that differs).
    """
    frame = _side_by_side(parts, b"\n".join(part.data for part in parts), in_python=False)
    if frame is None:  # some line is not UTF-8 (or not for the reader): each file alone, as it was read
        return [None] * len(parts)
    plain, line = _listed(tuple(_PREFIXES)), pl.col("line")
    upto = next((n for n, fmt in enumerate(plain) if fmt.name == likely), len(plain))  # (the ones screened)
    # (on trust, a file none of those passes is given ``likely`` only where it passes that one's screen too)
    screened = plain[:upto + 1] if trusted is not None else plain[:upto]
    sample = _sample(frame, per="_file").collect()
    head, objects = line.head(HEAD), line.str.contains(formats.JSON_LINE)
    found = sample.lazy().group_by("_file").agg(
        pl.len(), objects.sum().alias("_json"), head.str.starts_with(w3c.HEADER).any().alias("_w3c"),
        pl.any_horizontal(head.str.contains(screen).any() for screen in _PREFIXES.values()).alias("_prefix"),
        *_screens(line, screened)).collect()
    chosen: list[LogFormat | None] = [formats.get("combined")] * len(parts)  # no line to judge: as ``detect``
    first: list[tuple[LogFormat, list[int]]] = []  # each file's first candidate, and the files it is first of
    json: list[int] = []
    headed: list[int] = []
    doubtful: list[int] = []  # (on trust: files that do not pass ``likely``'s screen on every line)
    for file, total, objects_in, header, prefix, *hits in found.iter_rows():
        chosen[file] = None
        if header:
            headed.append(file)
        elif objects_in * 2 > total:
            json.append(file)
        elif not prefix and (at := next((n for n, hit in enumerate(hits) if hit * 2 > total), upto)) < len(plain):
            if at == upto and len(hits) > upto and hits[upto] < total:
                doubtful.append(file)
            else:
                _add(first, plain[at], file)
    for file, sampled in _texts(sample, json, objects, 20):  # each file's candidates, from its first objects' keys
        if (tried := _json_candidates(sampled)) and tried[0].inner is None and not tried[0].parts:
            _add(first, tried[0], file)  # (Docker's lines wrap another format's: judged alone)
    for file, texts in _texts(sample, headed):  # W3C logs: the header says the format
        header = _w3c_header(texts)
        assert header is not None
        with contextlib.suppress(LogFormatError):  # (refused alone, by name)
            chosen[file] = _w3c(texts, header)
    missed = _read_whole(sample, first, chosen, trusted)
    if doubtful:
        missed.append((plain[upto], doubtful))
    if upto < len(plain) and (later := [file for fmt, files in missed if fmt is plain[upto] for file in files]):
        # not read whole in the format expected: in a later one? (where it passes ``likely``'s screen, not plain)
        found = sample.lazy().filter(pl.col("_file").is_in(later)).group_by("_file").agg(
            pl.len(), *_screens(line, plain[upto:])).collect()
        first = []
        for file, total, *hits in found.iter_rows():
            if (at := next((upto + n for n, hit in enumerate(hits) if hit * 2 > total), upto)) > upto:
                _add(first, plain[at], file)
        _read_whole(sample, first, chosen, trusted)
    return chosen


def _texts(sample: pl.DataFrame, files: list[int], kept: pl.Expr | None = None,
           most: int | None = None) -> list[tuple[int, list[str]]]:
    """Each of ``files``' sampled lines (those ``kept``, the first ``most``), in order, as text."""
    if not files:
        return []
    rows = sample.filter(pl.col("_file").is_in(files) & (pl.lit(True) if kept is None else kept))
    line = pl.col("line")
    return rows.group_by("_file", maintain_order=True).agg(line if most is None else line.head(most)).rows()


def _add(groups: list[tuple[LogFormat, list[int]]], fmt: LogFormat, file: int) -> None:
    """``file`` among the files ``fmt`` is first of (formats compare by value: a guessed JSON one is made anew)."""
    for known, files in groups:
        if known == fmt:
            files.append(file)
            return
    groups.append((fmt, [file]))


def _read_whole(sample: pl.DataFrame, first: list[tuple[LogFormat, list[int]]],
                chosen: list[LogFormat | None], trusted: set[int] | None = None) -> list[tuple[LogFormat, list[int]]]:
    """Each file of ``first`` given its candidate where that reads every line of its ``sample``, those
    files' lines read in one go; the files not so read, by candidate. (``trusted``: see ``detect_files``.)"""
    missed: list[tuple[LogFormat, list[int]]] = []
    for fmt, files in first:
        if fmt.name in _HAPROXY:  # (its captured headers are judged alone)
            missed.append((fmt, files))
            continue
        if trusted is not None:
            for file in files:
                chosen[file] = fmt
            trusted.update(files)
            continue
        rows = sample.filter(pl.col("_file").is_in(files))
        reasons = _reasons(fmt, rows.get_column("line"))
        damaged = rows.with_row_index("idx").join(reasons.filter(pl.col("reason").is_in(_DAMAGED)), on="idx")
        hurt = set(damaged.get_column("_file").unique().to_list())
        if hurt:
            missed.append((fmt, [file for file in files if file in hurt]))
        for file in files:
            if file not in hurt:
                chosen[file] = fmt
    return missed


class FilesJudge:
    """``detect_files`` over a directory's groups of files, each screened for the format most of the last
    group's files were found in (a directory's files are mostly in one).

    ``trust``: formats are given on trust (``detect_files``'s ``trusted``);
    ``trusted`` then holds the sources of the files given one so.
    """

    def __init__(self, *, trust: bool = False) -> None:
        self.likely: str | None = None
        self.trusted: set[str] = set()
        self._trust = trust

    def __call__(self, parts: Sequence[sources.Batch]) -> list[LogFormat | None]:
        given: set[int] | None = set() if self._trust else None
        found = detect_files(parts, self.likely, trusted=given)
        self.trusted.update(parts[n].source for n in given or ())
        if most := Counter(fmt.name for fmt in found if fmt is not None).most_common(1):
            self.likely = most[0][0]
        return found


# What a file looks like -> the prefix of the formats that read access lines so wrapped.
_WRAPPERS = {looks_like.SYSLOG: syslog.PREFIX, looks_like.CONTAINER: containers.PREFIX,
             looks_like.DOCKER: containers.DOCKER_PREFIX}


def candidates(lines: pl.Series) -> list[LogFormat]:
    """Every format worth scoring on these lines, in the order ``auto`` prefers them."""
    objects = lines.filter(lines.str.contains(formats.JSON_LINE))
    if objects.len() * 2 > lines.len():
        return _json_candidates(objects.head(20).to_list())
    # (Behind another writer's prefix only when lines have one: one screen, not one per preset, on most files.)
    head = lines.head(HEAD)
    if int(head.str.contains(caddy.SCREEN).sum()) * 2 > head.len():  # Caddy's console format: its JSON behind
        return [formats.get(caddy.NAME)]
    absent = tuple(prefix for prefix, screen in _PREFIXES.items() if not head.str.contains(screen).any())
    for prefix in _PREFIXES.keys() - set(absent):  # JSON objects behind the prefix: a JSON format's lines
        bodies = pl.select(behind(pl.lit(lines), formats.ENVELOPES[prefix].piece.pattern)).to_series()
        objects = bodies.filter(bodies.str.contains(formats.JSON_LINE))
        if objects.len() * 2 > lines.len():
            return [formats.wrapped_json(prefix, fmt) for fmt in _json_candidates(objects.head(20).to_list())]
    return _listed(absent)


def _listed(absent: tuple[str, ...]) -> list[LogFormat]:
    """The formats ``auto`` scores on plain lines, in order, but those behind a prefix ``absent`` from them."""
    return [formats.get(name) for name in formats.AUTO_ORDER if not name.startswith(absent)]


def _json_candidates(texts: list[str]) -> list[LogFormat]:
    decoded = looks_like.json_objects(texts)
    if sum(map(containers.is_docker, decoded)) * 2 > len(decoded):  # Docker's JSON: a line in each
        logs = [log for value in decoded if containers.is_docker(value) and isinstance(log := value["log"], str)]
        objects = [text for text in logs if text.strip().startswith("{") and text.endswith("}\n")]
        if objects and len(objects) * 2 > len(logs):  # ... a JSON format's, in each
            return [formats.wrapped_json(containers.DOCKER_PREFIX, fmt) for fmt in _json_candidates(objects)]
        return [formats.get(containers.DOCKER_PREFIX + name) for name in formats.PRESETS]
    found: list[LogFormat] = []
    for name, preset in formats.JSON_PRESETS.items():
        target = preset.paths.get(formats.TARGET) or preset.paths[formats.PATH]
        needed = [preset.paths[formats.TIME], preset.paths[formats.STATUS], target]
        if any(all(_given(json_value(value, path)) for path in needed) for value in decoded):
            found.append(formats.get(name))
    for value in decoded[:1]:
        with contextlib.suppress(LogFormatError):  # keys it does not know: no candidate
            found.append(nginx.guess_json(value))
    return found


def _given(value: object) -> bool:
    return value is not None and is_text(value)


def score(fmt: LogFormat, lines: pl.Series, hits: int | None = None) -> Fit:
    """How many of ``lines`` ``fmt`` reads whole (a regex screen first: most candidates fail it at once).

    ``hits``: how many lines the screen matches, where the caller screened
    several formats in one query (``screened``).
    """
    total = lines.len()
    if not fmt.is_json:
        if hits is None:
            hits = int(lines.str.contains(fmt.regex).sum())
        # The server's own messages (HAProxy's "Proxy site started.") are neither for a format nor against it:
        # a file of a few requests between restarts is still that server's, one of nothing but messages none's.
        own = int((lines.str.contains(fmt.notice) & ~lines.str.contains(fmt.regex)).sum()) \
            if fmt.notice and hits else 0
        if hits * 2 <= total - own:
            return Fit(fmt, hits, total, "does not match the log format", hits)
    reasons = _reasons(fmt, lines).get_column("reason")
    damaged = reasons.filter(reasons.is_in(_DAMAGED))
    failure = Counter(damaged.to_list()).most_common(1)
    matched = total - int(reasons.is_in([Skip.UNPARSABLE.value]).sum())
    return Fit(fmt, total - damaged.len(), total, failure[0][0] if failure else None, matched)


_DAMAGED = [reason.value for reason in DAMAGED]
# the last step of the parse that finds a line damaged: a reason after it is left out (null) where only damage counts
_LAST_DAMAGED = [step for step, _ in ORDER if isinstance(step, Skip) and step in DAMAGED][-1]


def _reasons(fmt: LogFormat, lines: pl.Series) -> pl.DataFrame:
    """``idx`` (the line's place in ``lines``) and ``reason`` of each line, as far as ``score`` reads it:
    every damaged line's reason is its own; a line past the damage steps is null.

    Several files' samples together (``detect_files``) are cut as a
    batch's lines are when counted, in a plain format (at the quotes, the
    line regex for the lines the split leaves: the two agree by
    construction), at half the regex's cost; one file's sample by the
    regex, whose single query costs less on a thousand lines than the
    split's several. A line with a CR left in it is read by the regex, as
    the split would read the text again and drop a CR at its end.
    """
    fields = None
    if lines.len() > SAMPLE and not fmt.is_json and fmt.inner is None and not fmt.parts \
            and not lines.str.contains("\r", literal=True).any():
        data = lines.str.join("\n").cast(pl.Binary).item()
        fields = split_fields(sources.Batch("sample", 1, data, lines=lines.len()), fmt)
    if fields is None:
        fields = fields_of_lines(_frame(lines), fmt)
    damage = derive(fields.lazy(), fmt, absolute=False)  # (a URL's path is no damage: not worked out here)
    return frames.collect(damage.select("idx", reason=skip_reason(through=_LAST_DAMAGED)))


def _frame(lines: pl.Series) -> pl.DataFrame:
    """The sample as ``fields_of_lines`` takes lines."""
    return pl.DataFrame({"line": lines}).with_row_index("idx").with_columns(line_no=pl.col("idx").cast(pl.Int64))


def pick(fits: Iterable[Fit]) -> LogFormat | None:
    """The first fit that reads more than half of the lines, unless a later one reads the same fields and more.

    Fits are taken as they come, and no more once one reads every line (no
    later one can read more): each costs a parse of the sample, some 3 ms.
    """
    chosen: Fit | None = None
    for fit in fits:
        if fit.clear and (chosen is None or (set(fit.fmt.fields) == set(chosen.fmt.fields) and fit.read > chosen.read)):
            chosen = fit
            if fit.read == fit.lines:
                break
    return chosen.fmt if chosen else None


def _w3c(texts: list[str], header: str) -> LogFormat:
    """A W3C log: its first ``#Fields:`` header (``header``, among the sample's ``texts``) says the format
    (later ones are followed as they come); LogFormatError where it cannot."""
    at = texts.index(header)
    following = next((t for t in texts[at + 1:] if not t.startswith("#")), "")
    return w3c.from_header(header, following, w3c.get(w3c.W3C))


def _w3c_header(texts: list[str]) -> str | None:
    """The first ``#Fields:`` header among the first lines, where a W3C log says its format."""
    return next((text for text in texts[:HEAD] if text.startswith(w3c.HEADER)), None)


# HAProxy's captured request headers, by what their values look like: first by the shapes only they have (a
# referrer is a URL with a path, an agent a product and its version, Mozilla's or a bot's, a host a dotted
# name), then, for a header none had, by looser ones (a URL, any text with a space, a name). Other headers
# captured before them (Accept "text/html,...", Cookie "a=b; c=d", Origin "https://x", a request id) have only
# the loose ones; a column of addresses (X-Forwarded-For: "203.0.113.7", "203.0.113.7, 10.0.0.1") neither.
_IP = r"(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f]*:[0-9A-Fa-f:.]*)"  # (no port: a Host's has one)
_ADDRESSES = re.compile(rf"^{_IP}(?:,\s*{_IP})*$")
_CAPTURED = (
    ("Referer", re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/\s]+/"), re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")),
    ("User-Agent", re.compile(r"^Mozilla/|[Bb]ot\b|[Cc]rawler|[Ss]pider|^[A-Za-z][\w.!+-]*/[0-9]"),
     re.compile(r"^[^\s/]+/\S|^Mozilla|[Bb]ot\b|\s")),
    ("Host", re.compile(r"^(?:[A-Za-z0-9_-]+\.)+[A-Za-z0-9_-]*[A-Za-z][A-Za-z0-9_-]*\.?(?::[0-9]+)?$"),
     re.compile(r"^[A-Za-z0-9_-]*[A-Za-z.][A-Za-z0-9._-]*(?::[0-9]+)?$|^\[[0-9A-Fa-f:.]+\](?::[0-9]+)?$")),
)


_HAPROXY = (haproxy.HAPROXY, haproxy.HAPROXY_CLF)  # option httplog, and with clf: captured headers to work out
# where each writes them: httplog between braces, "{a|b|c}", before the request; clf quoted each, '"a" "b" "c"',
# after the cookies, at the end
_CAPTURE_BLOCKS = {False: re.compile(r' \{([^}]*)\} (?:\{[^}]*\} )?"'),
                   True: re.compile(r'(?: [+-]?[0-9]+){7} "[^"]*" "[^"]*" ("[^"]*"(?: "[^"]*")*) ?$')}


def haproxy_captures(lines: list[str], *, clf: bool = False) -> list[str]:
    """The names of the request headers an HAProxy log captures, in order, from their values ('-': unknown).

    ``capture request header`` lines are not in the log, only the values
    between ``{`` and ``|`` (or quoted, in clf); a column whose values mostly
    look like referrers is the Referer, like agents the User-Agent, like host
    names the Host (``_CAPTURED``: strict shapes first, loose ones after).
    Each name is given once, to the first column that fits it. None found:
    the braces hold no header logtrack reads, or only the response's, and
    none is read.
    """
    columns: list[list[str]] = []
    for line in lines:
        m = _CAPTURE_BLOCKS[clf].search(line)
        if not m:
            continue
        for i, value in enumerate(m.group(1)[1:-1].split('" "') if clf else m.group(1).split("|")):
            if i == len(columns):
                columns.append([])
            if value:
                columns[i].append(value)
    def mostly(values: list[str], shape: re.Pattern[str]) -> bool:
        return bool(values) and sum(1 for v in values if shape.search(v)) * 2 > len(values)

    names = ["-"] * len(columns)
    open_ = [i for i, values in enumerate(columns) if not mostly(values, _ADDRESSES)]
    for strict in (True, False):
        for header, strong, loose in _CAPTURED:
            if header in names:
                continue
            at = next((i for i in open_ if names[i] == "-" and mostly(columns[i], strong if strict else loose)), None)
            if at is not None:
                names[at] = header
    return names if any(name != "-" for name in names) else []


# Fields a preset may read that change the counts when a format leaves them out.
_TELLING = {formats.REFERRER: "a referrer", formats.USER_AGENT: "a user agent", formats.VHOST: "a virtual host"}


def misfit(sample: pl.DataFrame, fmt: LogFormat, source: str) -> str | None:
    """A warning when a named format reads less than the file's lines hold, naming the preset that fits.

    ``common`` on combined lines parses every line, but counts bots as views
    and every view as "Other": nothing fails, so nothing would be said. When
    most lines fit a preset that reads a referrer, user agent or virtual
    host that ``fmt`` leaves out, that is almost surely the wrong format.
    """
    if fmt.is_json or fmt.w3c_separator is not None:
        return None
    if fmt.name in _HAPROXY and (headers := haproxy_captures(sample_lines(sample).to_list(),
                                                               clf=fmt.name == haproxy.HAPROXY_CLF)):
        named = f"{fmt.name}:{','.join(headers)}"
        return (f"{source}: its lines capture request headers that the format '{fmt.name}' does not read, so "
                f"bots count as views and suppliers may not be found; they look like {','.join(headers)}: "
                f"set [logs] format = \"{named}\" (or --format), naming them as the capture lines do")

    others = _richer(fmt)
    # The sample's lines and each preset's screen, in one query: on most files no preset passes its screen,
    # no fit can be clear, and nothing more is asked (a query on a thousand lines costs more to set up than
    # to run).
    total, *hits = _sample(sample).select(pl.len(), *_screens(pl.col("line"), others)).collect().row(0)
    if all(n * 2 <= total for n in hits):  # (no line at all, too)
        return None
    lines = sample_lines(sample)
    preset = pick(score(other, lines, n) for other, n in zip(others, hits, strict=True))
    if preset is not None and preset.name == haproxy.HAPROXY_CLF:
        headers = haproxy_captures(lines.to_list(), clf=True)
        named = haproxy.HAPROXY_CLF + (f":{','.join(headers)}" if headers else "")
        return (f"{source}: its lines are HAProxy's (option httplog clf), whose referrer and agent, where it "
                f"captures them, come after its own fields: the format {fmt.name!r} reads none, so bots count "
                f"as views and suppliers may not be found: set [logs] format = \"{named}\" (or --format)")
    if preset is not None:
        return (f"{source}: most lines carry {' and '.join(_extra(fmt, preset))} that the format {fmt.name!r} "
                f"does not read, so {'bots count as views and ' if formats.USER_AGENT not in fmt.fields else ''}"
                f"suppliers may not be found; the preset {preset.name!r} fits them: set [logs] format = "
                f"\"{preset.name}\" (or --format), or check the format")
    return None


def _extra(fmt: LogFormat, preset: LogFormat) -> list[str]:
    """What ``preset`` reads that tells views apart and ``fmt`` does not."""
    return [label for field, label in _TELLING.items() if field in preset.fields and field not in fmt.fields]


def _richer(fmt: LogFormat) -> list[LogFormat]:
    """The presets that read more of what tells views apart than ``fmt`` (``misfit`` screens them)."""
    richer = [other for n in formats.PRESETS if n != fmt.name and _extra(fmt, other := formats.get(n))]
    # (HAProxy's clf lines first: combined and common read them whole, all but the captured headers after them)
    return ([] if fmt.name.startswith(haproxy.HAPROXY) else [formats.get(haproxy.HAPROXY_CLF)]) + richer


def defers_misfit(fmt: LogFormat) -> bool:
    """Whether ``misfit`` of files named in ``fmt`` may wait for their counting (``misfits``): a screen of
    each preset tells it, where HAProxy's captures, JSON and W3C logs are judged otherwise."""
    return not fmt.is_json and fmt.w3c_separator is None and fmt.name not in _HAPROXY


def misfits(fmt: LogFormat, parts: Sequence[sources.Batch], data: bytes) -> list[str | None]:
    """``misfit`` of several whole files (``parts``, their lines joined in ``data``), in one query.

    Over a directory of small files, judging each file's sample on its own
    was two queries a file on the main thread, most of its time (2,000
    files of 500 lines); here every file's sample is screened side by side
    (``_file``), and only a file where a screen passes is judged alone.
    """
    if not (others := _richer(fmt)):
        return [None] * len(parts)
    frame = _side_by_side(parts, data, in_python=True)
    assert frame is not None
    found = _sample(frame, per="_file").group_by("_file").agg(pl.len(), *_screens(pl.col("line"), others)).collect()
    notes: list[str | None] = [None] * len(parts)
    for file, total, *hits in found.iter_rows():
        if any(n * 2 > total for n in hits):  # (rare) as it is judged alone
            notes[file] = misfit(frame.filter(pl.col("_file") == file), fmt, parts[file].source)
    return notes


def _side_by_side(parts: Sequence[sources.Batch], data: bytes, *, in_python: bool) -> pl.DataFrame | None:
    """The lines of several whole files (``parts``, joined in ``data``), each with its file's index (``_file``).

    Where Polars' reader does not take them (a line not UTF-8), split in
    Python (``in_python``: each line as the file alone reads it) or None.
    """
    frame = read_lines(data)
    if frame is None:
        if not in_python:
            return None
        frame = lines_frame(sources.batch_of(parts[0].source, 1, data))
    return frame.with_columns(_file=file_of(file_starts(parts)))


def screened(fmts: list[LogFormat], lines: pl.Series) -> list[int]:
    """How many of ``lines`` each format's regex matches (``score``'s screen), in one query for them all.

    (A query on a thousand lines costs Polars more to set up than to run:
    one a format cost a file's start 0.15 ms each.)
    """
    if not fmts:
        return []
    return [int(n) for n in pl.select(_screens(pl.lit(lines), fmts)).row(0)]


def _screens(line: pl.Expr, fmts: list[LogFormat]) -> list[pl.Expr]:
    """Each format's regex screen over ``line``: how many lines it matches, one column a format."""
    return [line.str.contains(fmt.regex).sum().alias(f"_{i}") for i, fmt in enumerate(fmts)]


def sample_frame(batch: sources.Batch) -> pl.DataFrame:
    """The batch's first lines, as ``lines_frame`` makes them: what ``sample_lines`` reads, not the whole batch.

    A format is judged by the first SAMPLE lines worth judging; making
    rows of a whole 16 MiB batch to keep a thousand of them cost tens of
    milliseconds at the start of every file, before any batch is counted.
    Four times SAMPLE lines are read, in one call of Polars' reader (a
    file's fixed cost: over a directory of small files, one call less or
    more a file shows); a batch whose head is mostly blank lines or holes
    is taken whole, so the sample is the same either way.
    """
    rows = 4 * SAMPLE
    frame = read_lines(batch.data, rows)
    if frame is None:  # not all of it UTF-8 (or not for the reader): its head, in Python, as before
        return _head_frame(batch)
    if frame.height < rows or sample_lines(frame).len() >= SAMPLE:
        return numbered(frame, batch)
    return lines_frame(batch)


def _head_frame(batch: sources.Batch) -> pl.DataFrame:
    """``sample_frame`` of a batch Polars' reader does not take: its first lines split in Python."""
    data, end = batch.data, -1
    for _ in range(2 * SAMPLE):
        end = data.find(b"\n", end + 1)
        if end < 0:
            return lines_frame(batch)  # a short batch: all of it
    frame = lines_frame(sources.batch_of(batch.source, batch.first_line, data[:end]))
    return frame if sample_lines(frame).len() >= SAMPLE else lines_frame(batch)


def sample_lines(sample: pl.DataFrame) -> pl.Series:
    """The first lines worth judging a format by: no blank lines, no holes, no CR."""
    return _sample(sample).collect().get_column("line")


def _sample(sample: pl.DataFrame, per: str | None = None) -> pl.LazyFrame:
    """``sample_lines``, as a query (``line``) for a caller to ask more of in the same go; with ``per``,
    the sample of each file of several joined (``per`` and ``line``: ``misfits``)."""
    line = pl.col("line")
    kept = sample.lazy().select(*([per] if per else []), line.str.strip_suffix("\r")).filter(
        (line.str.strip_chars() != "") & (line != HOLE.decode()))
    return kept.head(SAMPLE) if per is None else kept.filter(pl.int_range(pl.len()).over(per) < SAMPLE)


def no_method_note(fmt: LogFormat, source: str) -> str | None:
    """What to say once per file whose format logs no request method (None when it does)."""
    if fmt.logs_method:
        return None
    return (f"{source}: the format {fmt.name!r} logs no request method: every line counts as a GET, "
            "so [filters] methods cannot tell a HEAD or POST from a view")


def check_vhost_filter(fmt: LogFormat, vhosts: tuple[str, ...], source: str) -> None:
    """``[filters] vhosts`` needs a format that logs the virtual host: refuse the file otherwise.

    Counting such a file would drop every line as "virtual host not counted"
    (or, were the filter skipped, count other sites' views): neither is what
    the filter asks for.
    """
    if vhosts and formats.VHOST not in fmt.fields:
        raise InputError(
            f"{source}: the format {fmt.name!r} logs no virtual host, so [filters] vhosts cannot tell this "
            "site's lines from the others'",
            "name a format that logs it ($host, %v, %{Host}i, or a preset such as vhost_combined), "
            "or leave the file out",
        )


def file_format(fmt: LogFormat | None, sample: pl.DataFrame, source: str, vhosts: tuple[str, ...], *,
                from_start: bool) -> tuple[LogFormat, list[str]]:
    """A file's format, from its first batch: the named one, or ``auto``'s (``detect``); and what to say of it.

    What ``xml`` and ``run`` both decide once per file, before its lines are
    counted. ``sample``: the lines to judge by (the file's first ones).
    ``from_start``: the file is read from its first line, so the notes on a
    named format (``misfit``) and on a format without a method are said;
    a run resuming mid-file said them when it read the start. Raises when no
    format fits, or when ``[filters] vhosts`` cannot apply to the format.
    """
    notes: list[str] = []
    if fmt is None:
        fmt = detect(sample, source)
    elif from_start and (hint := misfit(sample, fmt, source)):
        notes.append(hint)
    return fmt, notes + checked(fmt, source, vhosts, from_start=from_start)


def checked(fmt: LogFormat, source: str, vhosts: tuple[str, ...], *, from_start: bool) -> list[str]:
    """``file_format`` of a named format but for ``misfit`` (judged with the file's counting: ``misfits``)."""
    notes = [note] if from_start and (note := no_method_note(fmt, source)) else []
    check_vhost_filter(fmt, vhosts, source)
    return notes
