"""What no one wrote by hand: random formats and random requests, written by the real nginx and Apache.

Each format is made of the variables (directives) a site logs, in a random
order, with random separators, quoting and, for nginx, ``escape=``; the
server writes the same traffic to every one (``test_real_servers.traffic``),
and logtrack, told each format as its server was, must count exactly the
views sent, under ``--strict``. The generators are seeded, so a run is the
same every time; a failure names the format. They leave out what no parser
can read for certain: two free-text fields side by side unquoted (an agent
then a referrer, both with spaces) can be cut anywhere, so free text is
quoted, but for a last field, which takes the rest of the line, and the
request line, which holds no space but its two.

This is how nginx's ``escape=json``/``escape=none`` templates and the
variables that never hold a space were found to be misread.

The requests: a query, an agent and a referrer's path with random text
in them (quotes, backslashes, control and non-ASCII bytes, percent
escapes), sent to every log the servers write; each one is a view where
the server answered 200, and its supplier the referrer's host's.
"""

from __future__ import annotations

import random
import re
from datetime import datetime

import pytest
from test_real_servers import (  # noqa: F401 - config is a fixture
    APACHE_LOGS,
    HAPROXY_LOGS,
    HAPROXY_MORE,
    HOSTS,
    NGINX_LOGS,
    Sent,
    away_from_midnight,
    config,
    expected,
    traffic,
)

import servers
from conftest import xml_counts

# nginx: the time, the request, the status, the referrer and the agent in every format, then a few more
NGINX_TIMES = ["[$time_local]", "$time_iso8601", "$msec", '"$time_local"', "$time_local"]
NGINX_REQUESTS = ['"$request"', '"$request_method $request_uri $server_protocol"', "$request_method $request_uri",
                  '"$request_method $scheme://$host$request_uri $server_protocol"', '"$request_method $uri$is_args$args"',
                  "$request"]
NGINX_MORE = ["$remote_addr", '"$remote_user"', "$body_bytes_sent", "$request_time", "$upstream_response_time",
              '"$http_x_forwarded_for"', "$host", '"$http_host"', "$request_length", "$connection", "$scheme",
              "$server_protocol", "$ssl_protocol", "$request_id", "$pipe", "$gzip_ratio", '"$sent_http_content_type"',
              "$server_port", "$bytes_sent", "rt=$request_time", 'ua="$http_user_agent"', '"$http_cookie"',
              "$connection_requests", "$status", "$hostname", "[$time_local]", '"$http_accept_language"',
              "$upstream_addr", "$upstream_status"]
# nginx variables that never hold a space, which may follow an unquoted agent at the end of a line
NGINX_TOKENS = ["$server_port", "$host", "$request_time", "$status", "$msec", "$body_bytes_sent", "$request_id"]
# Apache: the same; it escapes a quote in any field, so its headers may go unquoted where a space cannot mislead
APACHE_TIMES = ["%t", "[%{%d/%b/%Y:%H:%M:%S %z}t]", "%{%Y-%m-%dT%H:%M:%S%z}t", "%{sec}t", "%{msec}t",
                "[%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t]", "%{%Y-%m-%d %H:%M:%S}t.%{usec_frac}t%{%z}t", '\\"%t\\"',
                "[%{%c}t]", "%{%x %r}t",  # (those two in the servers' zone: [logs] timezone, Chicago)
                "[%{%s}t]", "%{end:%s}t.%{msec_frac}t"]  # (strftime's seconds since 1970: no zone)
APACHE_REQUESTS = ['\\"%r\\"', '\\"%m %U%q %H\\"', "%m %U%q", '\\"%m %U %H\\"', "%r"]
APACHE_MORE = ["%h", "%a", "%{c}a", "%l", "%u", "%b", "%B", "%O", "%I", "%D", "%T", "%{ms}T", "%v", "%V", "%p",
               "%{canonical}p", '\\"%{Host}i\\"', "%{Host}i", '\\"%{X-Forwarded-For}i\\"', "%k", "%L", "%X", "%P",
               "%{tid}P", "%R", "%f", '\\"%{Accept-Language}i\\"', "%>s", "%s", '\\"%{Content-Type}o\\"', "%H",
               "%A", "%{remote}p", "rt=%D", "%{X-Trace}^ti", "%{Grpc-Status}^to", "%{hextid}P", "%^FB"]
SEPARATORS = [" ", " ", " ", " | ", "\\t", ","]
# HAProxy: its log-format variables; headers through %hr or sample fetches of the captures, whose text is raw
# (quotes and all) unless %{+E} escapes it: raw ones last, where the rest of the line is theirs
HAPROXY_TIMES = ["[%tr]", "[%t]", "[%T]", "[%Tl]", "%trg", "[%trl]", "%Ts.%ms", "%Ts", "%{+Q}tr"]
HAPROXY_REQUESTS = ["%{+Q}r", "%r", '\\"%HM %HU %HV\\"', "%HM %HU", "%HM %HP%HQ", "%{+Q,+E}r", "%HM %HPO%HQ %HV",
                    "%{+Q}[capture.req.method] %{+Q}[capture.req.uri]"]
HAPROXY_MORE_VARIABLES = ["%ci:%cp", "%ci", "%ft", "%b/%s", "%TR/%Tw/%Tc/%Tr/%Ta", "%B", "%U", "%tsc",
                          "%ac/%fc/%bc/%sc/%rc", "%sq/%bq", "%hs", "%CC %CS", "%ID", "%H", "%pid", "%rt", "%sslv",
                          "%fi:%fp", "%{+X}Ts", "%Tt", "%HV", "%lc", "%{+Q}[var(txn.none)]", "%[src]", "%bi:%bp",
                          "%{+Q}ST", "%Tl"]
HAPROXY_SEPARATORS = [" ", " ", " | ", "\\t", ","]
COUNT = 12  # formats a server


def nginx_formats(seed: int) -> list[tuple[str, str, str]]:
    """(name, escape, template) of ``COUNT`` random log_formats."""
    rng = random.Random(seed)
    made = []
    for i in range(COUNT):
        parts = [rng.choice(NGINX_TIMES), rng.choice(NGINX_REQUESTS), "$status",
                 rng.choice(['"$http_referer"', 'ref="$http_referer"']), '"$http_user_agent"',
                 *rng.sample(NGINX_MORE, rng.randrange(0, 6))]
        rng.shuffle(parts)
        if rng.random() < 0.3:  # an agent last, unquoted: the rest of the line, or but for fields with no space
            tokens = [p for p in rng.sample(NGINX_TOKENS, rng.randrange(0, 3)) if p not in parts]
            parts = [p for p in parts if p != '"$http_user_agent"' and p not in tokens] + ["$http_user_agent", *tokens]
        made.append((f"rand{i}", rng.choice(["default", "default", "json", "none"]), rng.choice(SEPARATORS).join(parts)))
    return made


def apache_formats(seed: int) -> list[tuple[str, str]]:
    """(name, LogFormat as httpd.conf writes it) of ``COUNT`` random ones."""
    rng = random.Random(seed)
    made = []
    for i in range(COUNT):
        parts = [rng.choice(APACHE_TIMES), rng.choice(APACHE_REQUESTS), rng.choice(["%>s", "%s"]),
                 rng.choice(['\\"%{Referer}i\\"', 'ref=\\"%{Referer}i\\"']),
                 rng.choice(['\\"%{User-Agent}i\\"', '\\"%{User-agent}i\\"']),
                 *rng.sample(APACHE_MORE, rng.randrange(0, 6))]
        rng.shuffle(parts)
        made.append((f"rand{i}", rng.choice(SEPARATORS).join(parts)))
    return made


def haproxy_formats(seed: int) -> list[tuple[str, str, str]]:
    """(name, captured headers, log-format as haproxy.cfg writes it) of ``COUNT`` random ones; each reads the
    host, the referrer and the agent, by %hr or a capture's sample fetch."""
    rng = random.Random(seed)
    made = []
    for i in range(COUNT):
        headers = rng.sample(["Host", "Referer", "User-Agent"], 3)
        parts = [rng.choice(HAPROXY_TIMES), rng.choice(HAPROXY_REQUESTS), "%ST",
                 *rng.sample(HAPROXY_MORE_VARIABLES, rng.randrange(0, 6))]
        last = None
        for at, header in enumerate(headers):
            how = rng.choice(["hr", "escaped", "raw"])
            if how == "raw" and last is None and header != "Host":  # (a raw Host "a b" would have to go last)
                last = rng.choice([f"%{{+Q}}[capture.req.hdr({at})]", f"%[capture.req.hdr({at})]"])
            elif how == "escaped":
                parts.append(f"%{{+Q,+E}}[capture.req.hdr({at})]")
            elif "%hr" not in parts:
                parts.append("%hr")
        rng.shuffle(parts)
        # (after a raw last field, a space or a tab: no token holds either, where "," or "|" may be in both)
        string = rng.choice(HAPROXY_SEPARATORS[:2] + HAPROXY_SEPARATORS[3:4] if last else HAPROXY_SEPARATORS).join(
            parts + ([last] if last else []))
        made.append((f"rand{i}", ",".join(headers), f'"{string}"'))
    return made


# server -> (its binary, its Debian package, the formats to write, the server writing them, and for each format
# what logtrack is told and whether it logs the virtual host (the first of those fields, if any))
SERVERS = {
    "nginx": (servers.NGINX, "nginx-light", nginx_formats, servers.nginx,
              lambda made: (made[2] if made[1] == "default" else f"escape={made[1]} {made[2]}",
                            re.search(r"\$(?:host|http_host)\b", made[2]) is not None)),
    "apache": (servers.APACHE, "apache2", apache_formats, servers.apache,
               lambda made: (made[1], re.search(r"%(?:v|V|\{Host\}i)", made[1]) is not None)),
    "haproxy": (servers.HAPROXY, "haproxy", haproxy_formats, servers.haproxy,
                lambda made: (f"haproxy:{made[1]} log-format {made[2]}", True)),
}
# server -> (every log its server writes: name -> (what logtrack is told, whether it logs the virtual host), and
# what the server is started with to write them)
LOGS = {"nginx": (NGINX_LOGS, ()), "apache": (APACHE_LOGS, ()), "haproxy": (HAPROXY_LOGS, HAPROXY_MORE)}


@pytest.mark.parametrize("server", list(SERVERS))
def test_random_formats_count_exactly(cli, config, server: str) -> None:  # noqa: F811 - config: a fixture
    binary, package, formats_of, serve, told = SERVERS[server]
    if binary is None:
        pytest.skip(f"{server} is not installed (apt-get install {package})")
    made = formats_of(2026)
    with serve(made) as srv:
        sent = traffic(srv.port, seed=7)
        srv.stop()
        for entry in made:
            fmt, vhost = told(entry)
            code, out, err = cli("xml", str(srv.logs / f"{entry[0]}.log"), "--config", str(config), "--format", fmt,
                                 "--strict")
            assert code == 0, f"{fmt}\n{err}"
            assert xml_counts(out) == expected(sent, vhost), fmt


# What a query, an agent or a referrer's path may hold: text every server writes escaped, each its own way
JUNK = ['"', "\\", "'", "<", ">", "{", "}", "|", "^", "`", "%22", "%5C", "%20", "%00", "%0A", "\u00e9", "\u2603",
        "\t", "\x7f", "\x01", "\udce9", "$", "&", "=", ";", ",", "(", ")", "[", "]", "@", "!", "*", "+", "~", "#",
        *"0123456789"]  # ("\udce9": a lone Latin-1 byte, as an old phone sends it)
AGENTS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
          "Safari/537.36", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15"]
REFERRERS = [("https://www.zillow.com/homedetails/", "Zillow"), ("https://m.trulia.com/p/", "Zillow"),
             ("https://www.realtor.com/x", "Realtor.com"), ("https://other.example/", ""), (None, "")]


def junk_traffic(port: int, seed: int, requests: int = 200) -> list[Sent]:
    """Views of listings with random text in their query, agent and referrer (its host kept): each one a view
    where the server answered 200 (a server may refuse some of that text), of the supplier its host names."""
    rng = random.Random(seed)

    def junk() -> str:
        return "".join(rng.choice(JUNK) for _ in range(rng.randrange(1, 12)))

    zone = away_from_midnight()
    sent = []
    for _ in range(requests):
        listing = str(rng.randrange(100000, 100040))
        target = f"/listing/{listing}" + (f"?{junk()}" if rng.random() < 0.5 else "")
        agent = rng.choice(AGENTS) + (f" {junk()}" if rng.random() < 0.6 else "")  # (no letters: no bot made)
        referrer, supplier = rng.choice(REFERRERS)
        host = rng.choice(HOSTS)
        headers = [f"GET {target} HTTP/1.1", f"Host: {host}", f"User-Agent: {agent}", "Connection: close"]
        if referrer is not None:
            headers.append(f"Referer: {referrer}{junk() if rng.random() < 0.6 else ''}")
        before = datetime.now(zone).date()
        response = servers.send_raw(port, "\r\n".join(headers).encode("utf-8", "surrogateescape") + b"\r\n\r\n")
        counted = response.startswith(b"HTTP/1.1 200 ")
        assert datetime.now(zone).date() == before, "midnight passed during the traffic; the expected day is ambiguous"
        sent.append(Sent(listing if counted else None, supplier, host, before))
    return sent


@pytest.mark.parametrize("server", list(SERVERS))
def test_junk_in_requests_counts_exactly_in_every_log(cli, config, server: str) -> None:  # noqa: F811 - a fixture
    binary, package, _, serve, _ = SERVERS[server]
    if binary is None:
        pytest.skip(f"{server} is not installed (apt-get install {package})")
    logs, more = LOGS[server]
    with serve(more) as srv:
        sent = junk_traffic(srv.port, seed=11)
        srv.stop()
        assert sum(1 for s in sent if s.listing) > len(sent) // 2  # (most are answered: the test counts something)
        for name, (fmt, vhost) in logs.items():
            code, out, err = cli("xml", str(srv.logs / name), "--config", str(config), "--format", fmt, "--strict")
            assert code == 0, f"{name}\n{err}"
            assert xml_counts(out) == expected(sent, vhost), name
