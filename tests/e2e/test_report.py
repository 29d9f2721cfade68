"""Reports: from logs and from the state, as tables, CSV, JSON and one HTML page opened by a real Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from logtrack.errors import ExitCode, UsageError
from logtrack.jobs.report_data import parse_day

from conftest import ROOT, sqlite_db, xml_counts
from sites import KEY, Sandbox, counts_of, upload_config, write

SAMPLES = ROOT / "sample_logs"
GOLDEN = ROOT / "tests" / "golden"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _frame(counter: Counter[tuple[str, str, str]]) -> pl.DataFrame:
    return pl.DataFrame([{"day": d, "supplier": s or "(Other)", "listing": li, "views": v}
                         for (d, s, li), v in counter.items()])


@pytest.fixture
def sample_state(cli, state_at: str) -> str:
    """The sample logs run into a state: a SQLite file, or a database of a real PostgreSQL."""
    state = state_at
    code, _, err = cli("run", str(SAMPLES), "-c", str(SAMPLES / "logtrack.toml"), "--state", str(state),
                       "--no-upload", "-q")
    assert code == 0, err
    return state


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_csv_and_json_read_back_equal_the_states_counts(cli, sample_state: str, fmt: str) -> None:
    code, out, err = cli("report", "--state", str(sample_state), "-c", str(SAMPLES / "logtrack.toml"),
                         "--by", "day,supplier", "--by", "listing", "--format", fmt)
    assert code == 0, err
    got = pl.read_csv(out, schema_overrides={"listing": pl.String, "day": pl.String}) if fmt == "csv" \
        else pl.read_json(out)
    expected = _frame(counts_of(sample_state, cli))
    key = ["day", "supplier", "listing"]
    assert got.select(*key, "views").sort(key).equals(expected.select(*key, "views").sort(key))


def test_the_state_report_keeps_days_whose_logs_are_gone(cli, sample_state: str, tmp_path: Path) -> None:
    from_logs = cli("report", str(SAMPLES), "-c", str(SAMPLES / "logtrack.toml"), "--by", "day", "-f", "csv")[1]
    logs = tmp_path / "logs"
    logs.mkdir()  # the logs rotated away: the state still knows every day
    code, out, err = cli("report", "--state", str(sample_state), "-c", str(SAMPLES / "logtrack.toml"),
                         "--by", "day", "-f", "csv")
    assert code == 0, err
    assert out == from_logs


@pytest.mark.parametrize(("name", "args"), [
    ("sample_logs.report.csv", ["--by", "day,supplier", "-f", "csv"]),
    ("sample_logs.report.json", ["--by", "week,listing", "--top", "5", "-f", "json"]),
])
def test_golden_reports_of_the_sample_logs(cli, name: str, args: list[str]) -> None:
    code, out, err = cli("report", str(SAMPLES), "-c", str(SAMPLES / "logtrack.toml"), *args)
    assert code == 0, err
    assert out == (GOLDEN / name).read_bytes()


def test_the_golden_csv_holds_the_ground_truth() -> None:
    rows = json.loads((GOLDEN / "sample_logs.expected.json").read_text())
    truth = (pl.DataFrame(rows).with_columns(supplier=pl.col("supplier").replace("", "(Other)"))
             .group_by("day", "supplier").agg(listings=pl.len(), views=pl.col("views").sum()))
    golden = pl.read_csv(GOLDEN / "sample_logs.report.csv", schema_overrides={"day": pl.String})
    key = ["day", "supplier"]
    assert golden.sort(key).equals(truth.select(golden.columns).sort(key).cast(golden.schema))


TODAY = date(2026, 11, 29)  # a Sunday


@pytest.mark.parametrize(("text", "end", "expected"), [
    ("2026-11-02", False, date(2026, 11, 2)),
    ("7d", False, date(2026, 11, 22)),
    ("today", True, TODAY),
    ("yesterday", False, date(2026, 11, 28)),
    ("this-week", False, date(2026, 11, 23)),
    ("this-week", True, TODAY),
    ("last-week", True, date(2026, 11, 22)),
    ("this-month", False, date(2026, 11, 1)),
    ("this-month", True, date(2026, 11, 30)),
    ("last-month", False, date(2026, 10, 1)),
    ("last-month", True, date(2026, 10, 31)),
    ("this-year", True, date(2026, 12, 31)),
    ("9999999d", False, date.min),  # (further back than year 1: every day, not an overflow and exit 1)
    ("99999999999999999999d", False, date.min),
])
def test_relative_days(text: str, end: bool, expected: date) -> None:
    assert parse_day(text, TODAY, end=end, flag="--since") == expected


def test_last_month_across_a_new_year() -> None:
    assert parse_day("last-month", date(2027, 1, 15), end=False, flag="--since") == date(2026, 12, 1)
    with pytest.raises(UsageError, match="--until 'soon' is not a date"):
        parse_day("soon", TODAY, end=True, flag="--until")


def test_since_and_until_are_days_in_the_time_zone(cli, tmp_path: Path) -> None:
    # 05:59:59 UTC is still Nov 1 in Chicago (CDT ended Nov 1, 2026: UTC-6); 06:00:00 is Nov 2
    lines = [
        '203.0.113.7 - - [02/Nov/2026:05:59:59 +0000] "GET /listing/1 HTTP/1.1" 200 5 "-" "Mozilla/5.0"',
        '203.0.113.7 - - [02/Nov/2026:06:00:00 +0000] "GET /listing/2 HTTP/1.1" 200 5 "-" "Mozilla/5.0"',
        '203.0.113.7 - - [03/Nov/2026:05:59:59 +0000] "GET /listing/3 HTTP/1.1" 200 5 "-" "Mozilla/5.0"',
        '203.0.113.7 - - [03/Nov/2026:06:00:00 +0000] "GET /listing/4 HTTP/1.1" 200 5 "-" "Mozilla/5.0"',
    ]
    log = tmp_path / "access.log"
    log.write_text("\n".join(lines) + "\n")
    args = ["--listing-pattern", r"^/listing/(?P<id>[0-9]+)$", "--timezone", "America/Chicago", "-f", "csv",
            "--by", "day,listing"]
    code, out, err = cli("report", str(log), *args, "--since", "2026-11-02", "--until", "2026-11-02")
    assert code == 0, err
    assert out.decode().splitlines() == ["day,listing,views", "2026-11-02,2,1", "2026-11-02,3,1"]
    state = tmp_path / "s.db"
    assert cli("run", str(log), "--state", str(state), "--no-upload", "-q", *args[:4])[0] == 0
    code, out, _ = cli("report", "--state", str(state), *args[4:], "--since", "2026-11-02", "--until", "2026-11-02")
    assert out.decode().splitlines() == ["day,listing,views", "2026-11-02,2,1", "2026-11-02,3,1"]


def test_a_csv_cell_that_would_be_a_formula_is_written_as_text(cli, tmp_path: Path) -> None:
    """A listing id from a wide pattern is what the URL holds: a spreadsheet opening the CSV must not run it
    (a quote before it, as spreadsheets write such text); JSON, for scripts, keeps every id as it is."""
    ids = ["=HYPERLINK(1)", "+1-2", "-3", "@SUM(4)", "5=5", "6"]
    log = tmp_path / "access.log"
    log.write_text("".join(f'203.0.113.7 - - [02/Nov/2026:12:00:00 +0000] "GET /listing/{i} HTTP/1.1" 200 5 "-" '
                           '"Mozilla/5.0"\n' for i in ids))
    args = ["report", str(log), "--listing-pattern", r"^/listing/(?P<id>[^/?]+)$", "--timezone", "UTC",
            "--by", "listing"]
    code, out, err = cli(*args, "-f", "csv")
    assert code == 0, err
    got = pl.read_csv(out, schema_overrides={"listing": pl.String}).get_column("listing").to_list()
    assert sorted(got) == sorted(["'=HYPERLINK(1)", "'+1-2", "'-3", "'@SUM(4)", "5=5", "6"])
    code, out, err = cli(*args, "-f", "json")
    assert code == 0, err
    assert sorted(row["listing"] for row in json.loads(out)) == sorted(ids)


def test_a_table_has_a_totals_row_and_fits_a_narrow_terminal(cli, sample_state: str, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    code, out, err = cli("report", "--state", str(sample_state), "-c", str(SAMPLES / "logtrack.toml"),
                         "--by", "month", "--by", "supplier")
    assert code == 0, err
    text = out.decode()
    assert all(len(line) <= 60 for line in text.splitlines())
    total = next(line for line in text.splitlines() if line.lstrip(" │").startswith("total"))
    assert "4,885" in total and "120" in total  # every view; distinct listings, not a sum of rows


@pytest.mark.parametrize(("args", "words"), [
    (["--by", "day,week"], "--by day and week: choose one period"),
    (["--by", "hour"], "--by 'hour' is not one of day, week, month, supplier, listing"),
    (["--format", "xml"], "--format 'xml' is not one of table, csv, json; the logs' own format goes in --log-format"),
    (["--since", "last-tuesday"], "--since 'last-tuesday' is not a date"),
    (["--since", "2026-11-20", "--until", "2026-11-01"],
     "--since '2026-11-20' (2026-11-20) is after --until '2026-11-01' (2026-11-01); swap them"),
    (["--since", "this-month", "--until", "last-month"], "is after --until 'last-month'"),
    ([str(SAMPLES / "access.log")], "a report reads either logs or the state, and both were named"),
])
def test_report_mistakes_are_usage_errors(cli, sample_state: str, args: list[str], words: str) -> None:
    code, _, err = cli("report", "--state", str(sample_state), *args)
    assert code == ExitCode.USAGE
    assert words in err


@pytest.mark.parametrize("by", [[], ["--by", "listing"], ["--by", "day,supplier,listing"]])
def test_a_table_shows_listing_ids_as_written(cli, tmp_path: Path, by: list[str]) -> None:
    """A listing pattern that takes any text (``\\S+``) takes what a scanner asks for too: a table shows
    those ids as they are, never as Rich's markup (``[/red]`` made ``report`` fail with exit 1, ``[b]`` was
    shown bold and left out), and a control character in one written out."""
    log = tmp_path / "access.log"
    ids = ["[/red]", "12[b]3", "[bold]x", "\x9b2J"]
    log.write_text("".join(f'10.0.0.1 - - [01/Nov/2026:10:00:00 -0500] "GET /listing/{i} HTTP/1.1" 200 5 "-" '
                           '"Mozilla/5.0 (X11; Linux x86_64)"\n' for i in ids))
    code, out, err = cli("report", str(log), "--listing-pattern", r"^/listing/(?P<id>\S+)$", "--log-format",
                         "combined", "--timezone", "America/Chicago", *by)
    assert code == 0, err
    text = out.decode()
    cells = {cell.strip() for line in text.splitlines() for cell in line.split("│")}
    assert {"[/red]", "12[b]3", "[bold]x", "\\x9b2J"} <= cells, text
    assert "\x9b" not in text


def test_status_says_today_yesterday_and_the_last_seven_days(cli, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    lines = []
    for days_ago, n, referrer in [(0, 3, "https://www.zillow.com/x"), (1, 2, "-"), (6, 1, "https://www.zillow.com/"),
                                  (8, 5, "-")]:
        when = (now - timedelta(days=days_ago)).strftime("%d/%b/%Y:%H:%M:%S +0000")
        lines += [f'203.0.113.7 - - [{when}] "GET /listing/{i} HTTP/1.1" 200 5 "{referrer}" "Mozilla/5.0"'
                  for i in range(n)]
    log = tmp_path / "access.log"
    log.write_text("\n".join(lines) + "\n")
    state = tmp_path / "s.db"
    assert cli("run", str(log), "--state", str(state), "--no-upload", "-q", "--timezone", "UTC",
               "--listing-pattern", r"^/listing/(?P<id>[0-9]+)$", "--supplier", "Zillow=zillow.com")[0] == 0
    out = cli("status", "--state", str(state))[1].decode()
    assert "views today:    3 so far; yesterday 2\n" in out
    assert "last 7 days:    6 (Zillow 4, (Other) 2)\n" in out


def test_the_sandbox_says_what_it_receives(cli, site, tmp_path: Path, monkeypatch) -> None:
    logs, conf, gen = site
    write(logs / "access.log", gen.lines[:800])
    box = Sandbox(fail_first=1)
    heard: list[str] = []
    box.state.log = heard.append
    try:
        conf = upload_config(conf, box.port)
        conf.write_text(conf.read_text() + "backoff = 0.1\n")
        monkeypatch.setenv("LOGTRACK_API_KEY", KEY)
        assert cli("run", str(logs), "-c", str(conf), "--state", str(tmp_path / "s.db"), "--now", "-q")[0] == 0
        held = sum(box.views().values())
    finally:
        box.close()
    assert heard and all(KEY not in line for line in heard)
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
    assert re.fullmatch(rf"{stamp} POST /tracking/v1/listings/views/\[api-key\]/ -> 500 Internal Server Error "
                        r"\(sandbox --fail-first\)", heard[0])
    accepted = [line for line in heard if " -> 200 OK; " in line]
    assert accepted and all(re.search(r"; [\d,]+ views of [\d,]+ listing\(s\) in \d+ View\(s\) for 2026-", line)
                            for line in accepted)
    posted = sum(int(re.search(r"; ([\d,]+) views", line).group(1).replace(",", "")) for line in accepted)
    assert posted == held


def test_shell_completion_is_offered(cli) -> None:
    help_text = cli("--help")[1].decode()
    assert "--install-completion" in help_text and "--show-completion" in help_text


def _browser():  # type: ignore[no-untyped-def]
    return pytest.importorskip("playwright.sync_api", reason="playwright is in the test extras")


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt-get install "
                    "chromium; .ci/run does)")
def test_the_html_report_in_a_real_chromium(cli, site, tmp_path: Path, monkeypatch) -> None:
    logs, conf, gen = site
    write(logs / "access.log", gen.lines)
    state = tmp_path / "s.db"
    box = Sandbox()
    try:
        conf = upload_config(conf, box.port)
        monkeypatch.setenv("LOGTRACK_API_KEY", KEY)
        assert cli("run", str(logs), "-c", str(conf), "--state", str(state), "--now", "-q")[0] == 0
    finally:
        box.close()
    page_file = tmp_path / "report.html"
    code, out, err = cli("report", "--state", str(state), "-c", str(conf), "--html", str(page_file))
    assert code == 0, err
    assert out == b""
    document = page_file.read_text()
    assert "<script" not in document and "http://" not in document.replace("http://www.w3.org/", "")
    sync_api = _browser()
    console: list[tuple[str, str]] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            page.on("console", lambda m: console.append((m.type, m.text)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_file.as_uri())
            labels = page.eval_on_selector_all("section .chart [aria-label]",
                                               "els => els.map(e => e.getAttribute('aria-label'))")
            wide = page.evaluate("document.documentElement.scrollWidth")
            uploads = page.eval_on_selector_all("#uploads tbody tr", "rows => rows.length")
            shot = Path(os.environ.get("LOGTRACK_SCREENSHOT", tmp_path / "report.png"))
            page.set_viewport_size({"width": 760, "height": 900})
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert [m for m in console if m[0] in ("error", "warning")] == []
    assert requests == [page_file.as_uri()]  # nothing fetched but the page itself
    assert wide <= 390  # readable on a phone: nothing wider than the screen
    assert shot.stat().st_size > 10_000
    per_day: Counter[tuple[str, str]] = Counter()
    for (day, supplier, _), views in counts_of(state, cli).items():
        per_day[(day, supplier or "(Other)")] += views
    bars = Counter()
    for label in labels:
        fields = dict(part.split(": ", 1) for part in label.split("; ") if ": " in part)
        if set(fields) == {"day", "views", "supplier"}:
            bars[(fields["day"], fields["supplier"])] += int(fields["views"].replace(",", ""))
    assert bars == per_day  # the first chart holds the state's counts, bar for bar
    outcome_lines = sum(int(dict(p.split(": ", 1) for p in label.split("; ") if ": " in p)["lines"].replace(",", ""))
                        for label in labels if label.startswith("day: ") and "outcome: " in label)
    assert outcome_lines == len(gen.lines)  # every line read, under one outcome
    assert uploads == len(json.loads(_uploads_json(state)))


def _uploads_json(state: Path) -> str:

    with sqlite_db(state) as db:
        return json.dumps(db.execute("SELECT at FROM uploads").fetchall())


def test_lines_by_outcome_per_day_give_a_timeless_line_its_neighbours_day(tmp_path: Path) -> None:
    from logtrack.config import Config, CountingRules
    from logtrack.jobs import preview as pipeline

    line = '203.0.113.7 - - [{when}] "GET {target} HTTP/1.1" {status} 5 "-" "{agent}"'
    rows = [
        "garbage before any time",                                                     # damaged: day of the next
        line.format(when="01/Nov/2026:23:59:00 +0000", target="/listing/1", status=200, agent="Mozilla/5.0"),
        line.format(when="31/Nov/2026:10:00:00 +0000", target="/listing/1", status=200, agent="Mozilla/5.0"),
        line.format(when="02/Nov/2026:00:00:01 +0000", target="/about", status=200, agent="Mozilla/5.0"),
        line.format(when="02/Nov/2026:00:00:02 +0000", target="/listing/2", status=404, agent="Mozilla/5.0"),
        line.format(when="02/Nov/2026:00:00:03 +0000", target="/listing/2", status=200, agent="Googlebot/2.1"),
        "garbage after",                                                                # damaged: day of the last
    ]
    log = tmp_path / "access.log"
    log.write_text("\n".join(rows) + "\n")
    cfg = Config(CountingRules(format="combined", timezone="UTC", patterns=(r"^/listing/(?P<id>[0-9]+)$",)))
    got = {(str(d), o): n for d, o, n in pipeline.count(cfg, [str(log)]).tally.outcomes().iter_rows()}
    assert got == {
        ("2026-11-01", "damaged"): 2, ("2026-11-01", "views"): 1,
        ("2026-11-02", "not a listing page"): 1, ("2026-11-02", "filtered"): 1, ("2026-11-02", "bots"): 1,
        ("2026-11-02", "damaged"): 1,
    }


def test_export_takes_the_same_days_as_report(cli, sample_state: str) -> None:
    everything = cli("export", "--state", str(sample_state))[1]
    assert cli("export", "--state", str(sample_state), "--until", "today")[1] == everything
    assert cli("export", "--state", str(sample_state), "--since", "tomorrow-ish")[0] == ExitCode.USAGE
    code, out, err = cli("export", "--state", str(sample_state), "--since", "2026-11-23", "--until", "2026-11-23")
    assert code == 0, err
    assert {d for d, _, _ in xml_counts(out)} == {"2026-11-23"}


def test_the_html_report_of_a_long_period_draws_every_day(tmp_path: Path) -> None:
    """Altair refuses a chart of more than 5,000 rows unless told otherwise (its guard for a browser that
    would be sent them): the top listings' chart of a year (20 listings a day for 365 days, 7,300 points)
    and the outcomes of years were a MaxRowsError, exit 1. The charts are drawn here, into the page's SVG."""
    pytest.importorskip("altair", reason="the html extra (pip install 'logtrack[html]')")
    from logtrack.jobs import report_html
    from logtrack.jobs.report_data import Period

    first, days, listings = date(2025, 1, 1), 400, 20
    counts = pl.DataFrame([{"day": first + timedelta(days=d), "supplier": ("", "Zillow", "Realtor.com")[n % 3],
                            "listing": str(1000 + n), "views": 1 + (d + n) % 5}
                           for d in range(days) for n in range(listings)])
    outcomes = pl.DataFrame([{"day": first + timedelta(days=d), "outcome": outcome, "lines": 3}  # (years of them)
                             for d in range(1001) for outcome in report_html.OUTCOME_ORDER])
    assert counts.height > 5000 and outcomes.height > 5000
    page = report_html.build(counts, outcomes, Period(first, first + timedelta(days=1000)), "the logs read",
                             top=listings).decode()
    labels = re.findall(r'aria-label="([^"]*)"', page)
    assert sum(1 for label in labels if "day: " in label and "supplier: " in label) == days * 3
    assert sum(1 for label in labels if "day: " in label and "outcome: " in label) == outcomes.height
    assert "Nothing in this period" not in page
