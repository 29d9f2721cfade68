"""Logs written by real nginx, Apache, Caddy, HAProxy and Varnish give exactly the views the test sent.

The servers are Debian's nginx-light, apache2, caddy, haproxy and varnish, started on
127.0.0.1 by the test itself (tests/servers.py) and stopped before their
logs are read. .ci/run installs them; without them these tests skip and
say why.
"""

from __future__ import annotations

import base64
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import servers
from conftest import ROOT, docker_line, xml_counts

PATTERN = r"^/listing/(?P<id>[0-9]+)(?:\?.*)?$"
SUPPLIERS = ["--supplier", "Zillow=zillow.com,trulia.com", "--supplier", "Realtor.com=realtor.com"]
CONFIG = """
[listings]
patterns = ['^/listing/(?P<id>[0-9]+)(?:\\?.*)?$']
[[suppliers]]
name = "Zillow"
referrer = ["zillow.com", "trulia.com"]
[[suppliers]]
name = "Realtor.com"
referrer = ["realtor.com"]
[[suppliers]]
name = "Partner"
host = ["idx.partner.example"]
"""

BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    'Mozilla/5.0 (X11; Linux x86_64; rv:132.0; "quoted" \\ build) Gecko/20100101 Firefox/132.0',
    "",  # a User-Agent header sent empty: logged as nothing, not "-", where unquoted
    # a byte that is not UTF-8 (an old phone's Latin-1 model name, sent as it is): nginx's default and Apache
    # write it escaped (\xE9), nginx's escape=json as it came, Caddy's encoder as U+FFFD; a view in every log
    "Mozilla/5.0 (Linux; U; Android 4.0.4; fr-fr; T\udce9l\udce9phone) AppleWebKit/534.30 (KHTML, like Gecko)",
]
BOTS = ["Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "curl/8.5.0"]
REFERRERS: list[tuple[str | None, str]] = [
    ("https://www.zillow.com/homedetails/x/", "Zillow"),
    ("https://m.trulia.com/p/caf\u00e9", "Zillow"),  # non-ASCII: servers escape it
    ("https://www.realtor.com/x?a=\"b\"", "Realtor.com"),
    ("https://notzillow.com/", ""),
    ("", ""),  # a Referer header sent empty
    (None, ""),  # none sent
]
HOSTS = ["www.site.example", "idx.partner.example"]
# Basic auth with a login of two words: nginx logs $remote_user from the header as it came, Apache its
# %u once the login is checked (servers.apache); either way "john smith", space and all, in the line.
AUTHORIZATION = "Basic " + base64.b64encode(f"{servers.LOGIN}:{servers.PASSWORD}".encode()).decode()


# Each log the servers write (tests/servers.py): the format logtrack is told, and whether it logs the virtual host
NGINX_LOGS = {
    "access.log": ("combined", False),
    "main.log": (servers.NGINX_MAIN, False),
    "json.log": (servers.NGINX_JSON, True),
    "tabs.log": (servers.NGINX_TABS, True),  # written with \t, as in nginx.conf
    "uriargs.log": (servers.NGINX_URI_ARGS, False),
    "jsonparts.log": (servers.NGINX_JSON_PARTS, True),
    "syslog.log": ("syslog:combined", False),  # through syslog: as nginx sends, <PRI>, time, host, tag
    "unquoted.log": (servers.NGINX_UNQUOTED, True),  # its format unquoted in nginx.conf
    # escape=none: quotes and bytes as they came; escape=json in a plain template: \" and bytes as they came
    "raw.log": ("escape=none " + servers.NGINX_RAW, True),
    "mainjson.log": ("escape=json " + servers.NGINX_MAIN, False),
}
APACHE_LOGS = {
    "access.log": ("auto", False),
    "other_vhosts_access.log": ("auto", True),
    "custom.log": (servers.APACHE_CUSTOM, True),
    "unquoted.log": (servers.APACHE_UNQUOTED, True),
    "msec.log": (servers.APACHE_MSEC, False),
    "json.log": (servers.APACHE_JSON, True),
    "jsonparts.log": (servers.APACHE_JSON_PARTS, True),
}

HAPROXY_HTTPLOG = "haproxy:Host,Referer,User-Agent"
# log-formats on frontends the requests pass through after the first: (name, captured headers, log-format as
# haproxy.cfg writes it). Its request and %hr escaped as #XX; a sample fetch's text as it came (quotes and all,
# or with %{+E}'s backslashes); a space after %hr or %hs that wrote nothing left out.
HAPROXY_MORE = [
    ("reordered", "User-Agent,Host,Referer",  # httplog's string, the headers captured in another order
     '"%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r"'),
    ("hostclf", "Host,Referer,User-Agent",  # combined, with the host in front; the agent last, its quotes raw
     '"%{+Q}[capture.req.hdr(0)] %ci - - [%trl] \\"%HM %HU %HV\\" %ST %B %{+Q,+E}[capture.req.hdr(1)] '
     '%{+Q}[capture.req.hdr(2),lower]"'),
    ("tabs", "Referer,User-Agent,Host",  # the accept date as an epoch, tabs, a bare host, the path and query apart
     '"%Ts.%ms\\t%ci\\t%[capture.req.hdr(2)]\\t%HM %HP%HQ\\t%ST\\t%{+Q,+E}[capture.req.hdr(0)]\\t'
     '%{+Q,+E}[capture.req.hdr(1)]"'),
    ("gmt", "Host,User-Agent,Referer", "'[%T] %{+Q}r %ST %hr %hs %{+E}HU %ID'"),  # single quotes: no escapes
    # JSON, its sample fetches through the json converter (as HAProxy's manual has it), or %hr in a string
    ("json", "User-Agent,Referer,Host",
     "'{\"time\":\"%Tl\",\"client\":\"%ci\",\"request\":\"%r\",\"status\":%ST,\"bytes\":%B,"
     "\"host\":\"%[capture.req.hdr(2),json(utf8s)]\",\"referer\":\"%[capture.req.hdr(1),json(utf8s)]\","
     "\"ua\":%{+Q}[capture.req.hdr(0),json(utf8s)]}'"),
    # combined's fields, then HAProxy's and the captures: X-Forwarded-For's first (the chain's HAProxy adds it)
    ("clf", "X-Forwarded-For,Referer,User-Agent,Host", "option httplog clf"),
    ("jsonparts", "Referer,Host,User-Agent", "'{\"at\":\"%Ts.%ms\",\"req\":\"%HM %HU %HV\",\"status\":\"%ST\",\"hdrs\":\"%hr\"}'"),
]
HAPROXY_LOGS = {  # (each logs the virtual host: the Host header)
    "access.log": (HAPROXY_HTTPLOG, True),  # raw, on stdout
    **{f"{framing}.log": (HAPROXY_HTTPLOG, True) for framing in servers.HAPROXY_FRAMINGS},  # as HAProxy sends them
    **{f"{name}.log": (f"haproxy_clf:{captures}" if string == "option httplog clf" else
                       f"haproxy:{captures} log-format {string}", True) for name, captures, string in HAPROXY_MORE},
}


@dataclass(frozen=True)
class Sent:
    listing: str | None  # counted listing, None when the request is not a view
    referrer_supplier: str
    host: str
    day: date


def away_from_midnight() -> ZoneInfo:
    """The servers' zone, once the day there is not about to turn: it turns before, not during, the traffic."""
    zone = ZoneInfo(servers.SERVER_TZ)
    now = datetime.now(zone)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    if (midnight - now).total_seconds() < 120:
        time.sleep((midnight - now).total_seconds() + 2)
    return zone


def traffic(port: int, seed: int = 5) -> list[Sent]:
    """Send ~250 requests of every kind; return what each one should count as."""
    rng = random.Random(seed)
    zone = away_from_midnight()
    sent: list[Sent] = []
    for _ in range(250):
        listing = str(rng.randrange(100000, 100040))
        method, path, agent, counted = "GET", f"/listing/{listing}", rng.choice(BROWSERS), True
        referrer, supplier = rng.choice(REFERRERS)
        host = rng.choice(HOSTS)
        kind = rng.random()
        if kind < 0.1:
            path, counted = f"/listing/{listing}/photos/{rng.randrange(9)}.jpg", False
        elif kind < 0.2:
            agent, counted = rng.choice(BOTS), False
        elif kind < 0.27:
            method, counted = "HEAD", False
        elif kind < 0.32:
            method, counted = "POST", False
        elif kind < 0.37:
            path, counted = "/listing/000000", False  # 404 on both servers
        elif kind < 0.42:
            path, counted = "/search?city=springfield", False
        elif kind < 0.5:
            path = f"/listing/{listing}?utm_source=feed"
        headers = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"User-Agent: {agent}", "Connection: close"]
        if referrer is not None:
            headers.append(f"Referer: {referrer}")
        if rng.random() < 0.15:
            headers.append(f"Authorization: {AUTHORIZATION}")
        body = b"x=1" if method == "POST" else b""
        if body:
            headers.append(f"Content-Length: {len(body)}")
        before = datetime.now(zone).date()
        response = servers.send_raw(port, "\r\n".join(headers).encode("utf-8", "surrogateescape") + b"\r\n\r\n" + body)
        after = datetime.now(zone).date()
        assert response.startswith(b"HTTP/1.1 "), response[:100]
        assert before == after, "midnight passed during the traffic; the expected day is ambiguous"
        sent.append(Sent(listing if counted else None, supplier, host, after))
    # requests that name no page, and a scanner's Host headers (nginx and Apache answer 400, Caddy and HAProxy
    # pass them on): lines of the log all the same, read under --strict, never counted
    # (a comma passes nginx's check, and its $host logs "a,b"; Apache answers 400)
    for raw in (b"hello\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost:\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: a,b\r\nConnection: close\r\n\r\n",  # (answered: no keep-alive)
                # a path with an encoded space: the servers' decoded path ($uri, %U) holds the space itself
                b"GET /listing/100001/a%20b HTTP/1.1\r\nHost: www.site.example\r\nConnection: close\r\n\r\n"):
        servers.send_raw(port, raw)
    return sent


def expected(sent: list[Sent], logs_vhost: bool) -> Counter[tuple[str, str, str]]:
    out: Counter[tuple[str, str, str]] = Counter()
    for s in sent:
        if s.listing is None:
            continue
        supplier = s.referrer_supplier
        if not supplier and logs_vhost and s.host == "idx.partner.example":
            supplier = "Partner"
        out[(s.day.isoformat(), supplier, s.listing)] += 1
    return out


def in_docker(log: Path, where: Path) -> Path:
    """The log's lines as Docker's json-file driver files a container's output (Go's escapes and all).

    Written in ``where``, not beside the log: the server's config names its logs' siblings too.
    """
    out = where / f"{log.name}-json.log"
    with log.open("rb") as src, out.open("w") as dst:
        for raw in src:
            dst.write(docker_line(raw.decode("utf-8", "replace")) + "\n")  # (Go's encoder: U+FFFD for a byte not UTF-8)
    return out


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "logtrack.toml"
    path.write_text(CONFIG + f'\n[logs]\ntimezone = "{servers.SERVER_TZ}"\n')
    return path


LOGROTATE = shutil.which("logrotate") or ("/usr/sbin/logrotate" if os.path.exists("/usr/sbin/logrotate") else None)


def _in_place(text: str, changes: dict[str, str]) -> str:
    """``text`` with each key replaced by its value; each must be there (the test follows the file it tests)."""
    for old, new in changes.items():
        assert old in text, f"the snippet no longer holds {old!r}: update this test with it"
        text = text.replace(old, new)
    return text


def _snippet_changes(server: str, srv: servers.Server, run: str) -> dict[str, str]:
    """What a user changes in contrib/logrotate-<server> for this test's server (its logs, its pid, logtrack's
    command line); the rest of the snippet stays as it ships."""
    pid = f"$(cat {srv.root}/{'nginx' if server == 'nginx' else 'apache2'}.pid)"
    if server == "nginx":
        return {"/var/log/nginx/*.log": f"{srv.logs}/*.log", "create 0640 www-data adm": "create 0640",
                "invoke-rc.d nginx rotate": f"kill -USR1 {pid}",  # (what Debian's init script does)
                "/usr/local/bin/logtrack run /var/log/nginx --config /etc/logtrack.toml --quiet": run}
    # (its test server logs every request in each of its logs, where Debian's logs each in one: access.log)
    return {"/var/log/apache2/*.log": f"{srv.logs}/*.log", "create 640 root adm": "create 640",
            "invoke-rc.d apache2 status": f"kill -0 {pid}",
            "invoke-rc.d apache2 reload": f"kill -USR1 {pid}",  # (a graceful restart: the logs reopened)
            "/usr/local/bin/logtrack run /var/log/apache2 --config /etc/logtrack.toml --quiet":
                run.replace(f" {srv.logs} ", f" {srv.logs}/access.log ")}


@pytest.mark.skipif(LOGROTATE is None, reason="logrotate is not installed (apt-get install logrotate)")
@pytest.mark.parametrize("server", ["nginx", "apache2"])
def test_the_logrotate_snippets_count_every_view_once(cli, config: Path, tmp_path: Path, server: str) -> None:
    """contrib/logrotate-nginx and -apache2 as a user installs them, around a live server: traffic, a rotation
    whose postrotate has the server reopen its logs and runs logtrack, more traffic, a second rotation (the
    first file compressed now: delaycompress), traffic again; after each rotation the state holds every view
    sent so far, once."""
    if (servers.NGINX if server == "nginx" else servers.APACHE) is None:
        pytest.skip(f"{server} is not installed (apt-get install {'nginx-light' if server == 'nginx' else server})")
    state = tmp_path / "state.db"
    with (servers.nginx() if server == "nginx" else servers.apache()) as srv:
        run = f"{sys.executable} -m logtrack run {srv.logs} --config {config} --state {state} --no-upload --quiet"
        snippet = tmp_path / f"logrotate-{server}"
        snippet.write_text(_in_place((ROOT / "contrib" / snippet.name).read_text(), _snippet_changes(server, srv, run)))
        status = tmp_path / "logrotate.status"
        sent: list[Sent] = []
        for round_ in range(3):
            sent += traffic(srv.port, seed=round_)
            if round_ < 2:
                done = subprocess.run([LOGROTATE, "-f", "-s", str(status), str(snippet)], capture_output=True,
                                      text=True)
                assert done.returncode == 0 and not done.stderr, done.stderr
                code, out, err = cli("export", "--state", str(state))  # postrotate's run counted all sent so far
                assert code == 0, err
                assert xml_counts(out) == expected(sent, False)
        srv.stop()
        assert sorted(p.name for p in srv.logs.glob("access.log*")) == ["access.log", "access.log.1",
                                                                        "access.log.2.gz"]
        code, _, err = cli("run", str(srv.logs / "access.log"), "--config", str(config), "--state", str(state),
                           "--no-upload")
        assert code == 0, err
        code, out, err = cli("export", "--state", str(state))
        assert code == 0, err
        assert xml_counts(out) == expected(sent, False)


@pytest.mark.skipif(servers.NGINX is None, reason="nginx is not installed (apt-get install nginx-light)")
def test_nginx_logs(cli, config: Path, tmp_path: Path) -> None:
    with servers.nginx() as srv:
        sent = traffic(srv.port)
        srv.stop()
        conf, logs = srv.conf, srv.logs
        for name, (fmt, vhost) in NGINX_LOGS.items():
            code, out, err = cli("xml", str(logs / name), "--config", str(config), "--format", fmt, "--strict")
            assert code == 0, err
            assert xml_counts(out) == expected(sent, vhost), name
            if not fmt.startswith("syslog:"):  # the same lines as Docker's json-file driver files them
                code, out, err = cli("xml", str(in_docker(logs / name, tmp_path)), "--config", str(config), "--format",
                                     f"docker:{fmt}", "--strict")
                assert code == 0, err
                assert xml_counts(out) == expected(sent, vhost), f"docker:{name}"
        code, out, err = cli("xml", str(logs / "syslog.log"), "--config", str(config))  # auto knows the prefix
        assert code == 0, err
        assert f"logtrack: {logs}/syslog.log: format syslog:combined" in err.splitlines()
        assert xml_counts(out) == expected(sent, False)
        # the server's own config names its logs: its one server block writes each request to all of them, so
        # the first alone is read, each view counted once, and the others are said
        code, out, err = cli("xml", "--nginx-conf", str(conf), "--config", str(config))
        assert code == 0, err
        assert xml_counts(out) == expected(sent, False)
        left_out = [line.split(": not read: ")[0] for line in err.splitlines() if ": not read: " in line]
        assert left_out == [f"logtrack: warning: {logs}/{name}" for name in (
            "main.log", "json.log", "tabs.log", "uriargs.log", "jsonparts.log", "unquoted.log", "raw.log",
            "mainjson.log", "gz.log.gz")]
        # ... and their formats, each log in a block of its own (a location), as a config that parts them
        site = conf.parent / "sites" / "site.conf"
        blocks = iter(range(1, 100))
        parted = site.with_name("parted.conf.txt")  # (not *.conf: nginx's include would take it)
        parted.write_text(re.sub(r"^    (access_log [^;]*;)$", lambda m: f"    location /l{next(blocks)} {{ {m[1]} }}",
                                 site.read_text(), flags=re.M))
        parted_conf = conf.with_name("parted-nginx.conf")
        parted_conf.write_text(conf.read_text().replace(f"include {conf.parent}/sites/*.conf;", f"include {parted};"))
        # (nginx under this config parts the requests between the logs; these, written under the other one, hold
        # the same: access.log and gz.log.gz the same lines, which is one log's copy, read once. A line of its
        # own at access.log's start, no view, keeps them two logs.)
        access = logs / "access.log"
        access.write_bytes(b'203.0.113.9 - - [01/Nov/2026:00:00:00 +0000] "GET /about HTTP/1.1" 200 5 "-" "x"\n'
                           + access.read_bytes())
        code, out, err = cli("xml", "--nginx-conf", str(parted_conf), "--config", str(config))
        assert code == 0, err
        lines = err.splitlines()
        assert f"logtrack: {logs}/access.log: format combined" in lines
        assert f"logtrack: {logs}/main.log: format main" in lines
        assert f"logtrack: {logs}/json.log: format jsonlog" in lines
        assert f"logtrack: {logs}/tabs.log: format tabs" in lines
        assert f"logtrack: {logs}/uriargs.log: format uriargs" in lines
        assert f"logtrack: {logs}/jsonparts.log: format jsonparts" in lines
        assert f"logtrack: {logs}/unquoted.log: format unquoted" in lines
        assert f"logtrack: {logs}/raw.log: format raw" in lines
        assert f"logtrack: {logs}/mainjson.log: format mainjson" in lines
        assert f"logtrack: {logs}/gz.log.gz: format combined" in lines
        total = sum([expected(sent, vhost) for vhost in (False, False, False, True, True, True, True, True, False,
                                                         False)], Counter())
        assert xml_counts(out) == total


@pytest.mark.skipif(servers.NGINX is None, reason="nginx is not installed (apt-get install nginx-light)")
def test_nginx_gzip_log_read_as_it_grows(cli, config: Path, tmp_path: Path) -> None:
    """nginx's `access_log ... gzip`: a gzip member appended at each flush, read by `run` while nginx writes
    it (each run resumes inside the decompressed stream) and by `xml` once it is done: every view once."""
    state = tmp_path / "state.db"
    with servers.nginx() as srv:
        log = srv.logs / "gz.log.gz"
        run = ("run", str(log), "--config", str(config), "--state", str(state), "--no-upload")
        sent: list[Sent] = []
        for seed in (1, 2, 3):
            sent += traffic(srv.port, seed=seed)
            time.sleep(1.5)  # (flush=1s: the members are written)
            code, _, err = cli(*run)
            assert code == 0, err
        srv.stop()
        code, _, err = cli(*run)
        assert code == 0, err
        code, out, err = cli("xml", str(log), "--config", str(config), "--strict")
        assert code == 0, err
        assert xml_counts(out) == expected(sent, False)
    code, out, err = cli("export", "--state", str(state))
    assert code == 0, err
    assert xml_counts(out) == expected(sent, False)


@pytest.mark.skipif(servers.APACHE is None, reason="apache2 is not installed (apt-get install apache2)")
def test_apache_logs(cli, config: Path, tmp_path: Path) -> None:
    with servers.apache() as srv:
        sent = traffic(srv.port)
        srv.stop()
        for name, (fmt, vhost) in APACHE_LOGS.items():
            code, out, err = cli("xml", str(srv.logs / name), "--config", str(config), "--format", fmt, "--strict")
            assert code == 0, err
            assert xml_counts(out) == expected(sent, vhost), name
            # the same lines as Docker's json-file driver files them (auto: it finds docker: itself)
            code, out, err = cli("xml", str(in_docker(srv.logs / name, tmp_path)), "--config", str(config), "--format",
                                 fmt if fmt == "auto" else f"docker:{fmt}", "--strict")
            assert code == 0, err
            assert xml_counts(out) == expected(sent, vhost), f"docker:{name}"


@pytest.mark.skipif(servers.CADDY is None, reason="caddy is not installed (apt-get install caddy)")
def test_caddy_logs(cli, config: Path) -> None:
    with servers.caddy() as srv:
        sent = traffic(srv.port)
        srv.stop()
        log = srv.logs / "access.log"
        for fmt in ("auto", "caddy"):  # found by auto, and named
            code, out, err = cli("xml", str(log), "--config", str(config), "--format", fmt, "--strict")
            assert code == 0, err
            assert fmt != "auto" or f"logtrack: {log}: format caddy" in err.splitlines()
            assert xml_counts(out) == expected(sent, True), fmt


# Caddy's logs as sites in front of the default JSON one write them: (name, the log's format in the Caddyfile,
# what logtrack is told, whether its time is the local one without an offset: the config then says which zone
# Caddy runs in, and how its lines start, the time written as asked)
CADDY_FRONTS = [
    ("console", "console", "caddy_console", False,  # the default: wall_milli in UTC, the level coloured
     r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{3}\t\x1b\[34mINFO\x1b\[0m\thttp\.log\.access"),
    ("iso_local", "console {\n        time_format iso8601\n        time_local\n    }", "caddy_console", False,
     r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}\t"),
    ("wall_local", "console {\n        time_format wall_nano\n        time_local\n    }", "caddy_console", True,
     r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{9}\t"),
    ("json_wall", "json {\n        time_format wall_milli\n    }", "caddy", False,  # JSON, its ts a wall time
     r'^\{"level":"info","ts":"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{3}"'),
    ("json_rfc3339", "json {\n        time_format rfc3339_nano\n        time_local\n    }", "caddy", False,
     r'^\{"level":"info","ts":"\d{4}-\d\d-\d\dT[0-9:.]+[+-]\d\d:\d\d"'),
]


@pytest.mark.skipif(servers.CADDY is None, reason="caddy is not installed (apt-get install caddy)")
def test_caddy_time_formats_and_console_logs(cli, config: Path, tmp_path: Path) -> None:
    """Caddy's `format console`, and its JSON with a time_format: each log counted exactly, named and by auto, its
    times the instants of the requests (a wall time in UTC whatever [logs] timezone is, or in log_timezone where
    Caddy writes local time)."""
    from datetime import UTC

    from logtrack import formats
    from logtrack.parse.fields import parse_batch
    from logtrack.read.sources import batch_of

    local = tmp_path / "local.toml"
    local.write_text(config.read_text() + f'log_timezone = "{servers.SERVER_TZ}"\n')
    with servers.caddy(fronts=[(name, encoder) for name, encoder, *_ in CADDY_FRONTS]) as srv:
        start = datetime.now(UTC) - timedelta(seconds=1)
        sent = traffic(srv.port)
        end = datetime.now(UTC) + timedelta(seconds=1)
        srv.stop()
        for name, _, fmt, in_local_time, shape in CADDY_FRONTS:
            log = srv.logs / f"{name}.log"
            assert re.match(shape, log.read_text()), f"{name}: {log.read_text()[:100]!r}"
            told = local if in_local_time else config
            for given in ("auto", fmt):
                code, out, err = cli("xml", str(log), "--config", str(told), "--format", given, "--strict")
                assert code == 0, f"{name}\n{err}"
                assert given != "auto" or f"logtrack: {log}: format {fmt}" in err.splitlines(), err
                assert xml_counts(out) == expected(sent, True), f"{name} {given}"
            rows = parse_batch(batch_of(str(log), 1, log.read_bytes().rstrip(b"\n")), formats.get(fmt),
                               servers.SERVER_TZ, servers.SERVER_TZ if in_local_time else None)
            times = rows.filter(rows["status"].is_not_null())["ts"]  # (every entry of the access logger)
            assert times.len() > len(sent) and times.null_count() == 0, name
            assert start <= times.min() and times.max() <= end, (name, times.min(), times.max(), start, end)
        assert "\x1b[" in (srv.logs / "console.log").read_text()  # (Caddy 2.6 colours the level, even in a file)


@pytest.mark.skipif(servers.CADDY is None, reason="caddy is not installed (apt-get install caddy)")
def test_caddy_rolling_its_own_log_counts_every_view_once(cli, config: Path, tmp_path: Path) -> None:
    """Caddy rolls its log itself (access.log renamed to access-<time>.log, gzipped, a new access.log): `run` on
    the log by its name finds the rolled copy, and counts what it held past the last run once."""
    state = tmp_path / "state.db"
    run = ("run", None, "--config", str(config), "--state", str(state), "--no-upload", "-q")
    with servers.caddy(roll=True) as srv:
        log = srv.logs / "access.log"
        sent = traffic(srv.port, seed=1)
        code, _, err = cli(*[str(log) if a is None else a for a in run])
        assert code == 0, err
        sent += traffic(srv.port, seed=2)  # (after the last run, before the roll: to be read from the copy)
        agent = "Mozilla/5.0 " + "x" * 4000  # (requests of no listing, a long agent each: a megabyte in 300)
        for i in range(300):
            servers.send_raw(srv.port, f"GET /static/{i}.css HTTP/1.1\r\nHost: www.site.example\r\nUser-Agent: "
                                       f"{agent}\r\nConnection: close\r\n\r\n".encode())
        sent += traffic(srv.port, seed=3)
        deadline = time.monotonic() + 10
        while not list(srv.logs.glob("access-*.log.gz")) and time.monotonic() < deadline:
            time.sleep(0.1)  # (Caddy gzips the rolled copy on a goroutine of its own)
        srv.stop()
        rolled = sorted(p.name for p in srv.logs.iterdir())
        assert len(rolled) == 2 and re.fullmatch(r"access-[0-9T:.-]+\.log\.gz", rolled[0]), rolled
        for _ in range(2):  # (and nothing again)
            code, _, err = cli(*[str(log) if a is None else a for a in run])
            assert code == 0, err
            code, out, err = cli("export", "--state", str(state))
            assert code == 0, err
            assert xml_counts(out) == expected(sent, True)


@pytest.mark.skipif(servers.CADDY is None, reason="caddy is not installed (apt-get install caddy)")
@pytest.mark.parametrize("runtime", ["cri", "docker"])
def test_caddy_in_a_container(cli, config: Path, tmp_path: Path, runtime: str) -> None:
    """Caddy logging to stderr, its own JSON messages among the access lines, filed as the kubelet's runtime or
    Docker's daemon files a container's output: auto finds it, --strict passes, the counts are the requests'."""
    import json

    with servers.caddy(stderr=True) as srv:
        sent = traffic(srv.port)
        srv.stop()
        printed = (srv.logs / "stderr.log").read_text().splitlines()
    assert any('"logger":"http.log.access' in line for line in printed)
    assert any('"logger":"http.log.access' not in line for line in printed)  # (its own messages too)
    if runtime == "cri":
        filed = [f"2026-11-30T08:00:00.{i:09d}Z stderr F {line}" for i, line in enumerate(printed)]
    else:
        filed = [json.dumps({"log": line + "\n", "stream": "stderr", "time": "2026-11-30T08:00:00.1Z"},
                            separators=(",", ":")) for line in printed]
    log = tmp_path / "0.log"
    log.write_text("\n".join(filed) + "\n")
    code, out, err = cli("xml", str(log), "--config", str(config), "--strict")
    assert code == 0, err
    assert f"logtrack: {log}: format {runtime}:caddy" in err.splitlines()
    assert "no request: a log header or the server's own message" in err  # (Caddy's own, skipped as such)
    assert xml_counts(out) == expected(sent, True)


@pytest.mark.skipif(servers.VARNISHD is None or servers.VARNISHNCSA is None,
                    reason="varnish is not installed (apt-get install varnish)")
def test_varnish_logs(cli, config: Path) -> None:
    """varnishncsa's default format is combined's, but each request line holds the whole URL, put together from
    the Host header (``GET http://www.site.example/listing/1 HTTP/1.1``): its path and query are the target, and
    its host the virtual host (the Partner supplier's)."""
    with servers.varnish() as srv:
        sent = traffic(srv.port)
        # a request in absolute form names its own host, which Varnish takes over the Host header's
        servers.send_raw(srv.port, b"GET http://idx.partner.example/listing/100001 HTTP/1.1\r\n"
                                   b"Host: www.site.example\r\nConnection: close\r\n\r\n")
        log = srv.logs / "varnishncsa.log"
        # (each request was answered before the next was sent: once the last one's line is there, all are)
        servers.wait_for(log, b"GET http://idx.partner.example/listing/100001 HTTP/1.1")
        srv.stop()
        code, out, err = cli("xml", str(srv.logs), "--config", str(config), "--strict")  # (its directory)
    assert code == 0, err
    assert f"logtrack: {log}: format combined" in err.splitlines()
    want = expected(sent, True)
    want[(sent[-1].day.isoformat(), "Partner", "100001")] += 1
    assert xml_counts(out) == want


# varnishncsa -F formats: Apache's directives, and Varnish's own (%{Varnish:...}x); a %r of the whole URL names
# the virtual host, as %{Host}i does
VARNISH_FORMATS = [
    ("xff", '%{X-Forwarded-For}i %l %u %t "%r" %s %b "%{Referer}i" "%{User-agent}i" %{Varnish:hitmiss}x %D'),
    ("parts", '%{Host}i %h %t "%m %U%q %H" %s %{Varnish:time_firstbyte}x "%{User-agent}i" "%{Referer}i"'),
    ("iso", '%{%Y-%m-%dT%H:%M:%S%z}t %h "%r" %s "%{Referer}i" "%{User-agent}i" %{Varnish:handling}x %I %O %T'),
]


@pytest.mark.skipif(servers.VARNISHD is None or servers.VARNISHNCSA is None,
                    reason="varnish is not installed (apt-get install varnish)")
def test_varnishncsa_custom_formats(cli, config: Path) -> None:
    with servers.varnish(VARNISH_FORMATS) as srv:
        sent = traffic(srv.port)
        srv.stop()
        for name, form in VARNISH_FORMATS:
            code, out, err = cli("xml", str(srv.logs / f"{name}.log"), "--config", str(config), "--format", form,
                                 "--strict")
            assert code == 0, f"{name}\n{err}"
            assert xml_counts(out) == expected(sent, True), name


@pytest.mark.skipif(servers.HAPROXY is None, reason="haproxy is not installed (apt-get install haproxy)")
def test_haproxy_logs(cli, config: Path) -> None:
    # HAProxy writes its local time without an offset: the config says which zone that is
    config.write_text(config.read_text() + f'log_timezone = "{servers.SERVER_TZ}"\n')
    with servers.haproxy(HAPROXY_MORE) as srv:
        sent = traffic(srv.port)
        srv.stop()
        for name, (fmt, vhost) in HAPROXY_LOGS.items():
            log = srv.logs / name
            code, out, err = cli("xml", str(log), "--config", str(config), "--format", fmt, "--strict")
            assert code == 0, f"{name}\n{err}"
            assert xml_counts(out) == expected(sent, vhost), name
            if ":" in fmt and " " not in fmt:  # found by auto (the captured headers worked out from their values)
                code, out, err = cli("xml", str(log), "--config", str(config), "--strict")
                assert code == 0, f"{name}\n{err}"
                found = fmt.replace("X-Forwarded-For", "-")  # (addresses: no header logtrack reads)
                assert f"logtrack: {log}: format {found}" in err.splitlines(), f"{name}\n{err}"
                assert xml_counts(out) == expected(sent, True), name
        # combined reads option httplog clf's lines whole, but for the captured headers after them: said
        clf = srv.logs / "clf.log"
        code, out, err = cli("xml", str(clf), "--config", str(config), "--format", "combined")
        assert code == 0 and "set [logs] format = \"haproxy_clf:-,Referer,User-Agent,Host\"" in err, err
