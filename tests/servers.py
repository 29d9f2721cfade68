"""Real nginx, Apache, Caddy, HAProxy and Varnish on loopback, for tests that need what they really write.

Each server gets its own directory (config, logs, pid), a free port on
127.0.0.1, TZ set to America/Chicago so that its local times carry an offset,
and is stopped (gracefully, so it flushes its logs) when the test is done.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
APACHE = shutil.which("apache2") or ("/usr/sbin/apache2" if os.path.exists("/usr/sbin/apache2") else None)
APACHE_MODULES = Path("/usr/lib/apache2/modules")
CADDY = shutil.which("caddy") or ("/usr/bin/caddy" if os.path.exists("/usr/bin/caddy") else None)
HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)
VARNISHD = shutil.which("varnishd") or ("/usr/sbin/varnishd" if os.path.exists("/usr/sbin/varnishd") else None)
VARNISHNCSA = shutil.which("varnishncsa")
SERVER_TZ = "America/Chicago"
LOGIN, PASSWORD = "john smith", "s3cret"  # a Basic-auth login of two words, as a user may choose one

# The formats as nginx joins them; the config writes each as several strings.
NGINX_MAIN = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent" "$http_x_forwarded_for"'
)
NGINX_JSON = (
    '{"time":"$time_iso8601","remote_addr":"$remote_addr","host":"$host","request":"$request",'
    '"status":$status,"bytes":$body_bytes_sent,"referer":"$http_referer","ua":"$http_user_agent",'
    '"rt":$request_time}'
)

# Unquoted, as nginx.conf may write a format too: \t a tab, "\ " a backslash and a space (nginx keeps both),
# quotes inside the word its own
NGINX_UNQUOTED = ('$time_local\\t$remote_addr\\t$host\\t$request_method\\ $request_uri\\t$status\\t"$http_referer"'
                  '\\t"$http_user_agent"')
# JSON with nginx's default escaping (\xHH), keys holding several variables and text
NGINX_JSON_PARTS = ('{"time":"[$time_local]","client":"$remote_addr","host":"$host",'
                    '"request":"$request_method $request_uri $server_protocol","status":"$status",'
                    '"referer":"$http_referer","ua":"$http_user_agent"}')
# Tab-separated, with its free text unquoted and the agent last, as nginx.conf writes a tab: \t; the Host
# header as it came ($http_host: a scanner's "a b" or nothing, where $host is the server's name)
NGINX_TABS = "$time_local\\t$remote_addr\\t$http_host\\t$request\\t$status\\t$http_referer\\t$http_user_agent"
# nginx's escape=none: every byte as it came, a quote inside a quoted field too (a scanner's referrer, an agent)
NGINX_RAW = ('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" '
             '"$http_user_agent" "$host"')
# The path and query as nginx's own idiom writes them: "$uri$is_args$args" (a "-" after a path without a query)
NGINX_URI_ARGS = ('$remote_addr - $remote_user [$time_local] "$request_method $uri$is_args$args $server_protocol" '
                  '$status $body_bytes_sent "$http_referer" "$http_user_agent"')


def _nginx_strings(template: str) -> str:
    """A format written as nginx configs do: several quoted strings over lines.

    nginx reads variables in each string apart, so strings end after a space
    or a comma, never inside a $variable.
    """
    parts = re.findall(r".*?(?:[ ,]|$)", template)
    chunks: list[str] = [""]
    for part in parts:
        if len(chunks[-1]) > 30:
            chunks.append("")
        chunks[-1] += part
    return "\n        ".join("'" + c.replace("'", "\\'") + "'" for c in chunks if c)


APACHE_CUSTOM = '%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\" %{Host}i %D'
# Headers unquoted (Apache escapes no space in them), the agent last; \t a tab, as httpd.conf writes it
APACHE_UNQUOTED = '%t\\t%h\\t%{Host}i\\t%r\\t%>s\\t%{Referer}i\\t%{User-Agent}i'
# JSON as guides write it for Apache: "[%t]" with its brackets, the path and query apart, the virtual host
APACHE_JSON = ('{ \\"time\\":\\"%t\\", \\"remoteIP\\":\\"%a\\", \\"host\\":\\"%V\\", \\"request\\":\\"%U\\", '
               '\\"query\\":\\"%q\\", \\"method\\":\\"%m\\", \\"status\\":\\"%>s\\", '
               '\\"userAgent\\":\\"%{User-agent}i\\", \\"referer\\":\\"%{Referer}i\\" }')
APACHE_JSON_PARTS = ('{ \\"when\\":\\"%t\\", \\"host\\":\\"%V\\", \\"request\\":\\"%m %U%q %H\\", \\"status\\":%>s, '
                     '\\"ua\\":\\"%{User-Agent}i\\", \\"referer\\":\\"%{Referer}i\\" }')
# Milliseconds as Apache's manual writes them: three time directives, one time
APACHE_MSEC = '%h [%{%d/%b/%Y:%H:%M:%S}t.%{msec_frac}t %{%z}t] \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\"'


@dataclass
class Server:
    root: Path
    port: int
    conf: Path
    logs: Path
    stop: Callable[[], None]  # graceful: the logs are complete when it returns


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int, besides: Collection[int] = ()) -> list[int]:
    """``count`` free ports on 127.0.0.1, none of them another's nor in ``besides``.

    Each is held until all are found: a port asked for twice in a row can
    come back twice, and HAProxy and Caddy bind with SO_REUSEPORT, so two of
    their sites given one port share its connections between them, which a
    chain of sites turns into lines in the wrong logs (a rare failure of
    the random formats' counts).
    """
    with ExitStack() as held:
        ports: list[int] = []
        while len(ports) < count:
            s = held.enter_context(socket.socket())
            s.bind(("127.0.0.1", 0))
            if (port := s.getsockname()[1]) not in besides:
                ports.append(port)
        return ports


def _wait_listening(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within 15 s")


def _stop(proc: subprocess.Popen[bytes], sig: int) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _world_readable_dir() -> Path:
    root = Path(tempfile.mkdtemp(prefix="logtrack-srv-"))
    root.chmod(0o755)  # workers run as an unprivileged user
    return root


def _new_site() -> tuple[Path, Path, int]:
    """A server's own directory, its logs folder in it, and a free port on 127.0.0.1."""
    root = _world_readable_dir()
    logs = root / "logs"
    logs.mkdir()
    return root, logs, free_port()


@contextmanager
def _serve(cmd: list[str], env: dict[str, str], stop_signal: int, server: Server,
           stdout: Path | None = None, stderr: Path | None = None) -> Iterator[Server]:
    """Start a server in the foreground, wait until it listens, stop it gracefully, clean up.

    ``stdout``, ``stderr``: where the server's standard output (HAProxy logs
    there) and error output (Caddy's, logging there as in a container) go.
    """
    out = open(stdout, "wb") if stdout else None  # noqa: SIM115 - closed below
    err = open(stderr, "wb") if stderr else None  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, env={**os.environ, "TZ": SERVER_TZ, **env},
                            stdout=out or subprocess.DEVNULL, stderr=err or subprocess.PIPE)
    for held in (out, err):
        if held:
            held.close()  # the server holds it
    try:
        _wait_listening(server.port, proc, Path(cmd[0]).name)
        server.stop = lambda: _stop(proc, stop_signal)
        yield server
    finally:
        _stop(proc, stop_signal)
        shutil.rmtree(server.root, ignore_errors=True)


class SyslogReceiver:
    """A syslog server on 127.0.0.1 (UDP) that files each message as it came, a line each: for nginx's ``syslog:``.

    nginx sends ``<190>Nov 29 16:25:14 host nginx: `` and the access line;
    written as received, that is the raw form syslog files too. A process of
    its own, as syslog is, reading a socket with room for a few hundred
    datagrams: nginx drops a message it cannot send at once, and a Unix
    datagram socket holds 10 (``net.unix.max_dgram_qlen``), fewer than a
    busy test machine may leave unread. ``close`` waits until every message
    sent before it is written.
    """

    _PROGRAM = """
import socket, sys
out = sys.argv[1]
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)  # (the kernel caps it at net.core.rmem_max)
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)
with open(out, "ab") as fh:
    while message := sock.recv(65536):  # an empty datagram (nginx sends none) is the end
        fh.write(message.rstrip(b"\\n") + b"\\n")
"""

    def __init__(self, out: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", self._PROGRAM, str(out)], stdout=subprocess.PIPE)
        assert self.proc.stdout is not None
        port = self.proc.stdout.readline().strip()
        if not port.isdigit():
            raise RuntimeError(f"the syslog receiver did not start (exit {self.proc.wait()})")
        self.port = int(port)

    def close(self) -> None:
        if self.proc.poll() is None:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
                client.sendto(b"", ("127.0.0.1", self.port))
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


@contextmanager
def nginx(more: Sequence[tuple[str, str, str]] = ()) -> Iterator[Server]:
    """``more``: (name, escape, template) of log_formats to write beside the others, each to ``logs/NAME.log``."""
    assert NGINX
    root, logs, port = _new_site()
    temp = "\n".join(
        f"    {d}_temp_path {root}/tmp_{d};" for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    receiver = SyslogReceiver(logs / "syslog.log")  # (before the config names its port)
    try:
        conf = root / "nginx.conf"
        conf.write_text(f"""
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {logs}/error.log;
events {{ worker_connections 64; }}
http {{
{temp}
    log_format main {_nginx_strings(NGINX_MAIN)};
    log_format jsonlog escape=json {_nginx_strings(NGINX_JSON)};
    log_format tabs '{NGINX_TABS}';
    log_format uriargs {_nginx_strings(NGINX_URI_ARGS)};
    log_format jsonparts {_nginx_strings(NGINX_JSON_PARTS)};
    log_format unquoted {NGINX_UNQUOTED};
    log_format raw escape=none {_nginx_strings(NGINX_RAW)};
    log_format mainjson escape=json {_nginx_strings(NGINX_MAIN)};
{"".join(f"    log_format {name} escape={escape} {_nginx_strings(template)};{chr(10)}" for name, escape, template in more)}    access_log {logs}/access.log;
    include {root}/sites/*.conf;
}}
""")
        (root / "sites").mkdir()
        (root / "sites" / "site.conf").write_text(f"""
server {{
    listen 127.0.0.1:{port};
    server_name www.site.example idx.partner.example;
    access_log {logs}/access.log;
    access_log {logs}/main.log main;
    access_log {logs}/json.log jsonlog;
    access_log {logs}/tabs.log tabs;
    access_log {logs}/uriargs.log uriargs;
    access_log {logs}/jsonparts.log jsonparts;
    access_log syslog:server=127.0.0.1:{receiver.port} combined;
    access_log {logs}/unquoted.log unquoted;
    access_log {logs}/raw.log raw;
    access_log {logs}/mainjson.log mainjson;
    # gzip members appended as each buffer is flushed: a compressed file that grows
    access_log {logs}/gz.log.gz combined gzip=4 buffer=4k flush=1s;
{"".join(f"    access_log {logs}/{name}.log {name};{chr(10)}" for name, _, _ in more)}    location / {{ return 200 "ok\\n"; }}
    location ~ ^/listing/0+$ {{ return 404; }}
}}
""")
        with _serve([NGINX, "-c", str(conf), "-p", str(root)], {}, signal.SIGQUIT,  # graceful stop
                    Server(root, port, conf, logs, lambda: None)) as server:
            stop = server.stop

            def stop_both() -> None:
                stop()
                receiver.close()

            server.stop = stop_both
            yield server
    finally:
        receiver.close()


@contextmanager
def apache(more: Sequence[tuple[str, str]] = ()) -> Iterator[Server]:
    """``more``: (name, LogFormat) to write beside the others, each to ``logs/NAME.log``."""
    assert APACHE
    root, logs, port = _new_site()
    docs = root / "docs"
    docs.mkdir(mode=0o755)
    (docs / "page.html").write_text("ok\n")
    (docs / "page.html").chmod(0o644)
    modules = "\n".join(
        f"LoadModule {name}_module {APACHE_MODULES}/mod_{name}.so" for name in ("mpm_event", "authz_core", "alias", "auth_basic", "authn_core", "authn_file", "authz_user")
    )
    user = "User www-data\nGroup www-data" if os.geteuid() == 0 else ""
    users = root / "htpasswd"  # (Apache's {SHA} form: base64 of the password's SHA-1)
    users.write_text(f"{LOGIN}:{{SHA}}{base64.b64encode(hashlib.sha1(PASSWORD.encode()).digest()).decode()}\n")
    users.chmod(0o644)
    conf = root / "apache2.conf"
    conf.write_text(f"""
ServerRoot {root}
{modules}
{user}
PidFile {root}/apache2.pid
ErrorLog {logs}/error.log
Listen 127.0.0.1:{port}
ServerName www.site.example
DocumentRoot {docs}
<Directory {docs}>
    Require all granted
</Directory>
# A request that sends a login has it checked, so that %u logs it (anyone else is let in as before)
<If "-n req('Authorization')">
    AuthType Basic
    AuthName "members"
    AuthUserFile {users}
    Require valid-user
</If>
LogFormat "%h %l %u %t \\"%r\\" %>s %O \\"%{{Referer}}i\\" \\"%{{User-Agent}}i\\"" combined
LogFormat "%v:%p %h %l %u %t \\"%r\\" %>s %O \\"%{{Referer}}i\\" \\"%{{User-Agent}}i\\"" vhost_combined
LogFormat "{APACHE_CUSTOM}" custom
LogFormat "{APACHE_UNQUOTED}" unquoted
LogFormat "{APACHE_MSEC}" msec
LogFormat "{APACHE_JSON}" json
LogFormat "{APACHE_JSON_PARTS}" jsonparts
CustomLog {logs}/access.log combined
CustomLog {logs}/other_vhosts_access.log vhost_combined
CustomLog {logs}/custom.log custom
CustomLog {logs}/unquoted.log unquoted
CustomLog {logs}/msec.log msec
CustomLog {logs}/json.log json
CustomLog {logs}/jsonparts.log jsonparts
{"".join(f'LogFormat "{template}" {name}{chr(10)}CustomLog {logs}/{name}.log {name}{chr(10)}' for name, template in more)}AliasMatch "^/listing/[1-9][0-9]*(/.*)?$" "{docs}/page.html"
<VirtualHost 127.0.0.1:{port}>
    ServerName www.site.example
</VirtualHost>
<VirtualHost 127.0.0.1:{port}>
    ServerName idx.partner.example
</VirtualHost>
""")
    env = {"APACHE_RUN_DIR": str(root), "APACHE_LOCK_DIR": str(root)}
    with _serve([APACHE, "-f", str(conf), "-DFOREGROUND"], env, signal.SIGWINCH,  # graceful-stop
                Server(root, port, conf, logs, lambda: None)) as server:
        yield server


def send_raw(port: int, data: bytes) -> bytes:
    """One request over its own connection; the whole response."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


@contextmanager
def caddy(*, stderr: bool = False, fronts: Sequence[tuple[str, str]] = (), roll: bool = False) -> Iterator[Server]:
    """Debian's Caddy 2, its JSON access log in logs/access.log; every host answered on one port.

    ``stderr``: the access log goes to standard error with Caddy's own
    messages, as in a container (into logs/stderr.log here). ``fronts``:
    (name, its log's ``format`` as the Caddyfile writes it: ``console``,
    ``json {time_format wall}``, ...) of sites the requests pass through
    first, one after the other (``reverse_proxy``, which keeps the Host),
    each logging to logs/NAME.log. ``roll``: the JSON access log rolls
    itself at 1 MB (Caddy's least), gzipping the copy, as Caddy does by default at 100 MB.
    """
    assert CADDY
    root, logs, port = _new_site()
    output = "stderr" if stderr else f"file {logs}/access.log" + (
        " {\n            roll_size 1mb\n            roll_keep 100\n        }" if roll else "")
    conf = root / "Caddyfile"
    ports = [port, *free_ports(len(fronts), besides=(port,))]  # (the first site the requests reach, the last answers)
    sites = [f"""
:{ports[i]} {{
    bind 127.0.0.1
    log {{
        output file {logs}/{name}.log
        format {encoder}
    }}
    reverse_proxy 127.0.0.1:{ports[i + 1]}
}}""" for i, (name, encoder) in enumerate(fronts)]
    conf.write_text(f"""
{{
    admin off
    auto_https off
    storage file_system {root}/data
}}
{"".join(sites)}
:{ports[-1]} {{
    bind 127.0.0.1
    log {{
        output {output}
        format json
    }}
    @gone path_regexp ^/listing/0+$
    respond @gone 404
    respond "ok" 200
}}
""")
    env = {"HOME": str(root), "XDG_DATA_HOME": str(root / "data"), "XDG_CONFIG_HOME": str(root / "config")}
    with _serve([CADDY, "run", "--config", str(conf), "--adapter", "caddyfile"], env, signal.SIGTERM,
                Server(root, port, conf, logs, lambda: None), stderr=logs / "stderr.log" if stderr else None) as server:
        yield server


# HAProxy's framings of a log line (``log ... format``) other than raw, each in logs/FRAMING.log
HAPROXY_FRAMINGS = ("rfc3164", "rfc5424", "short", "priority", "timed", "iso")


@contextmanager
def haproxy(more: Sequence[tuple[str, str, str]] = ()) -> Iterator[Server]:
    """Debian's HAProxy answering every request itself, its httplog raw on stdout into logs/access.log, and in
    each of ``HAPROXY_FRAMINGS`` as a datagram to a receiver of its own, into logs/FRAMING.log. The requests
    come through a TCP frontend (``option tcplog``), whose connections are in the same logs, as a site that
    passes some traffic on at TCP has them.

    Host, Referer and User-Agent are captured, so the log holds what
    logtrack reads. ``more``: (name, captured headers, log-format as
    haproxy.cfg writes it) of frontends the requests pass through, one
    after the other, each writing its log-format to logs/NAME.log (or, for
    one that starts with "option ", that option's: ``option httplog clf``):
    the last answers (404 for ``/listing/0...``, else 200).
    """
    assert HAPROXY
    root, logs, port = _new_site()
    receivers = {name: SyslogReceiver(logs / f"{name}.log") for name in (*HAPROXY_FRAMINGS, *(m[0] for m in more))}
    ports = free_ports(len(more) + 1, besides=(port,))
    answer = """    http-request return status 404 if { path_reg ^/listing/0+$ }
    http-request return status 200 content-type text/plain string ok"""

    def frontend(i: int, captures: str, logging: str) -> str:
        lines = [f"frontend f{i}", f"    bind 127.0.0.1:{ports[i]}", logging]
        lines += [f"    capture request header {header} len 256" for header in captures.split(",")]
        lines.append(answer if i == len(more) else f"    default_backend b{i}\nbackend b{i}\n"
                     f"    option forwardfor\n    server next 127.0.0.1:{ports[i + 1]}")  # (X-Forwarded-For)
        return "\n".join(lines)

    framings = "\n".join(f"    log 127.0.0.1:{receivers[name].port} len 8192 format {name} local0"
                          for name in HAPROXY_FRAMINGS)
    chain = "\n".join(frontend(i + 1, captures, f"    log 127.0.0.1:{receivers[name].port} len 8192 format raw local0"
                                f"\n    {string if string.startswith('option ') else 'log-format ' + string}")
                       for i, (name, captures, string) in enumerate(more))
    first = frontend(0, "Host,Referer,User-Agent", "    log global\n    option httplog")
    try:
        conf = root / "haproxy.cfg"
        conf.write_text(f"""
global
    log stdout format raw local0
{framings}
defaults
    mode http
    timeout client 10s
    timeout server 10s
    timeout connect 10s
    timeout http-keep-alive 200ms
    # (no idle connection to the next frontend: one it closes as it is reused would be a request retried, or a 502)
    option http-server-close
frontend tcp
    mode tcp
    bind 127.0.0.1:{port}
    log global
    option tcplog
    default_backend tcp
backend tcp
    mode tcp
    server first 127.0.0.1:{ports[0]}
{first}
{chain}
""")
        with _serve([HAPROXY, "-db", "-f", str(conf)], {}, signal.SIGUSR1,  # soft stop
                    Server(root, port, conf, logs, lambda: None), stdout=logs / "access.log") as server:
            stop = server.stop

            def stop_all() -> None:
                stop()
                for receiver in receivers.values():
                    receiver.close()

            server.stop = stop_all
            yield server
    finally:
        for receiver in receivers.values():
            receiver.close()


@contextmanager
def varnish(more: Sequence[tuple[str, str]] = ()) -> Iterator[Server]:
    """Debian's Varnish answering every request itself (no backend), and varnishncsa writing its log in
    its default format into logs/varnishncsa.log, as Debian's varnishncsa service does (in /var/log/varnish);
    ``more``: (name, format) of varnishncsa's more, each writing ``-F format`` into logs/NAME.log.

    varnishncsa reads Varnish's shared memory log and writes a line when it
    has read the request's record: it is ready once a request of its own
    (``GET /varnishncsa-ready``, in the log) is there, and ``stop`` waits
    until the log has stopped growing before it stops both.
    """
    assert VARNISHD and VARNISHNCSA
    root, logs, port = _new_site()
    conf = root / "default.vcl"
    conf.write_text("""vcl 4.1;
backend default none;
sub vcl_recv {
    if (req.url ~ "^/listing/0+([?]|$)") { return (synth(404)); }
    return (synth(200));
}
""")
    work = root / "work"  # Varnish's shared memory log: where varnishncsa finds this instance
    log = logs / "varnishncsa.log"
    written = {log: [], **{logs / f"{name}.log": ["-F", form] for name, form in more}}
    with _serve([VARNISHD, "-F", "-j", "none", "-a", f"127.0.0.1:{port}", "-f", str(conf), "-n", str(work),
                 "-s", "malloc,16m", "-T", "none"], {}, signal.SIGTERM,
                Server(root, port, conf, logs, lambda: None)) as server:
        ncsas = [subprocess.Popen([VARNISHNCSA, "-n", str(work), "-w", str(path), *form],
                                  env={**os.environ, "TZ": SERVER_TZ}, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE) for path, form in written.items()]
        # It logs the requests made after it has attached to the instance, which takes a while after
        # varnishd listens: a request is sent until its line is there (a line of the log like any other).
        deadline = time.monotonic() + 15
        while not all(path.exists() and b"/varnishncsa-ready" in path.read_bytes() for path in written):
            if any(ncsa.poll() is not None for ncsa in ncsas) or time.monotonic() > deadline:
                for ncsa in ncsas:
                    _stop(ncsa, signal.SIGTERM)
                raise RuntimeError("varnishncsa did not start: " + " ".join(
                    ncsa.stderr.read().decode() for ncsa in ncsas if ncsa.stderr and ncsa.poll() is not None))
            send_raw(port, b"GET /varnishncsa-ready HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            time.sleep(0.1)
        stop_varnishd = server.stop

        def stop() -> None:
            size, still = -1, 0
            while still < 10:  # a second without a new line
                now = sum(path.stat().st_size for path in written)
                size, still = now, still + 1 if now == size else 0
                time.sleep(0.1)
            for ncsa in ncsas:
                _stop(ncsa, signal.SIGTERM)
            stop_varnishd()

        server.stop = stop
        try:
            yield server
        finally:
            for ncsa in ncsas:
                _stop(ncsa, signal.SIGTERM)


def wait_for(log: Path, line: bytes, seconds: float = 30) -> None:
    """Until ``log`` holds ``line`` (a writer that logs behind the server, as varnishncsa does)."""
    deadline = time.monotonic() + seconds
    while not (log.exists() and line in log.read_bytes()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{log} has no line with {line!r} after {seconds} s")
        time.sleep(0.05)


def _pg_bin() -> Path | None:
    """Debian's PostgreSQL binaries (initdb, pg_ctl are not on PATH there): the newest version's."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
                      key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    return versions[-1].parent if versions else None


PG_BIN = _pg_bin()


@dataclass
class Postgres:
    """A PostgreSQL server of our own, on a Unix socket in a temporary directory (no TCP port at all)."""

    socket_dir: Path
    made: int = 0

    def url(self, database: str) -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def new_database(self) -> str:
        """A fresh, empty database's URL: each test its own."""
        import psycopg

        self.made += 1
        name = f"t{os.getpid()}_{self.made}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        assert PG_BIN is not None
        return subprocess.run([*as_user, str(PG_BIN / "pg_ctl"), "-D", str(self.socket_dir / "data"), *args],
                              env={**os.environ, "LC_ALL": "C", "TZ": "UTC"}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)

    def start(self) -> None:
        options = (f"-k {self.socket_dir} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
                   "-c max_connections=60")
        self._pg_ctl("-o", options, "-l", str(self.socket_dir / "log"), "-w", "start").check_returncode()

    def crash(self) -> None:
        """Stop at once, as a crash would (``-m immediate``: no shutdown checkpoint, clients cut off)."""
        self._pg_ctl("-m", "immediate", "-w", "stop")


@contextmanager
def postgres() -> Iterator[Postgres]:
    """initdb and pg_ctl in a temporary directory, as the postgres user when run as root (initdb refuses root).

    fsync is off: the crashes these tests make are logtrack's (SIGKILL) or the server process's, never the
    machine's, so what the server wrote is in the page cache either way.
    """
    assert PG_BIN is not None
    root = Path(tempfile.mkdtemp(prefix="logtrack-pg-"))
    os.chmod(root, 0o755)
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_user, str(PG_BIN / "initdb"), "-D", str(root / "data"), "-A", "trust", "-U", "postgres",
                    "--no-sync", "-E", "UTF8", "--locale=C"], check=True, env={**os.environ, "LC_ALL": "C"},
                   stdout=subprocess.DEVNULL)
    server = Postgres(root)
    server.start()
    try:
        yield server
    finally:
        server.crash()
        shutil.rmtree(root, ignore_errors=True)
