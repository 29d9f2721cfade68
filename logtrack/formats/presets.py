"""The formats logtrack knows by name, and the one place a name becomes a format (``get``).

To add a log format: spell it as pieces (a ``LogFormat``/``log_format``
string here, or a module of its own beside ``proxies`` and ``w3c``), give it
a name in ``get``, and, for ``auto``, a place in ``AUTO_ORDER``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from functools import lru_cache

from ..errors import LogFormatError, quoted
from . import apache, caddy, containers, envoy, haproxy, nginx, proxies, syslog, w3c
from .model import (
    CADDY_TIME,
    CLIENT,
    EPOCH,
    INSTANT,
    JSON_LINE,
    METHOD,
    PATH,
    QUERY,
    REFERRER,
    STATUS,
    TARGET,
    TIME,
    USER_AGENT,
    VHOST,
    LogFormat,
    Piece,
)

# In the order ``auto`` tries them: a format that reads more of a line first, so that a line with
# a virtual host in front is not read as combined with the host taken for part of the client.
PRESETS: dict[str, str] = {
    "vhost_combined": '%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"',
    # nginx's '$host $remote_addr - $remote_user [$time_local] ...' (a port after the host is read too)
    "host_combined": '%v %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"',
    # Traefik's "common" access log: combined and its own four fields
    "traefik": '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %k "%{router}x" "%{server}x" %Dms',
    "combined": '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"',
    "vhost_common": '%v %h %l %u %t "%r" %>s %b',
    "common": '%h %l %u %t "%r" %>s %b',
}

# nginx log_format templates of fixed setups, by name
NGINX_PRESETS: dict[str, str] = {
    # Nginx Proxy Manager: its proxy hosts' logs (/data/logs/proxy-host-<id>_access.log; $upstream_status may
    # be several, "502, 200"), and its redirection and 404 hosts' ("standard": no upstream fields)
    "nginx_proxy_manager": ('[$time_local] $upstream_cache_status $upstream_status $status - $request_method '
                            '$scheme $host "$request_uri" [Client $remote_addr] [Length $body_bytes_sent] '
                            '[Gzip $gzip_ratio] [Sent-to $server] "$http_user_agent" "$http_referer"'),
    "nginx_proxy_manager_standard": ('[$time_local] $status - $request_method $scheme $host "$request_uri" '
                                     '[Client $remote_addr] [Length $body_bytes_sent] [Gzip $gzip_ratio] '
                                     '"$http_user_agent" "$http_referer"'),
}


@dataclass(frozen=True)
class JsonPreset:
    """A server's JSON access log of fixed shape: where each field sits, and how its time is written."""

    paths: dict[str, tuple[str | int, ...]]
    time_kind: str
    absolute_targets: bool = False  # its target is the whole URL: the path and query are read from it
    encoded: dict[str, str] = field(default_factory=dict)  # field -> how its text is encoded (``LogFormat.encoded``)
    hop: tuple[tuple[str | int, ...], str] | None = None  # a record of the CDN's own hop (``LogFormat.hop``)


# Servers whose JSON access logs have a fixed shape, by name (``auto`` knows each by its keys).
JSON_PRESETS: dict[str, JsonPreset] = {
    # Caddy 2's structured access log (the `log` directive with `format json`): time in epoch seconds, or in the
    # time_format its encoder is given (``model.CADDY_TIME``)
    "caddy": JsonPreset({
        TIME: ("ts",), STATUS: ("status",), METHOD: ("request", "method"), TARGET: ("request", "uri"),
        VHOST: ("request", "host"), CLIENT: ("request", "remote_ip"),
        REFERRER: ("request", "headers", "Referer", 0), USER_AGENT: ("request", "headers", "User-Agent", 0),
    }, CADDY_TIME),
    # Traefik's access log with `format: json`; headers are there only when kept (fields.headers)
    "traefik_json": JsonPreset({
        TIME: ("StartUTC",), STATUS: ("DownstreamStatus",), METHOD: ("RequestMethod",), TARGET: ("RequestPath",),
        VHOST: ("RequestHost",), CLIENT: ("ClientHost",), REFERRER: ("request_Referer",),
        USER_AGENT: ("request_User-Agent",),
    }, INSTANT),
    # Cloudflare Logpush, HTTP requests dataset: EdgeStartTimestamp in whichever unit the job sets
    "cloudflare": JsonPreset({
        TIME: ("EdgeStartTimestamp",), STATUS: ("EdgeResponseStatus",), METHOD: ("ClientRequestMethod",),
        TARGET: ("ClientRequestURI",), VHOST: ("ClientRequestHost",), CLIENT: ("ClientIP",),
        REFERRER: ("ClientRequestReferer",), USER_AGENT: ("ClientRequestUserAgent",),
    }, INSTANT),
    # Google Cloud's request logs (external HTTP(S) load balancer, Cloud CDN, Cloud Run) as Cloud Logging
    # exports them: a LogEntry per line, its HttpRequest under httpRequest, the whole URL in requestUrl
    "gcp": JsonPreset({
        TIME: ("timestamp",), STATUS: ("httpRequest", "status"), METHOD: ("httpRequest", "requestMethod"),
        TARGET: ("httpRequest", "requestUrl"), CLIENT: ("httpRequest", "remoteIp"),
        REFERRER: ("httpRequest", "referer"), USER_AGENT: ("httpRequest", "userAgent"),
    }, INSTANT, absolute_targets=True),
    # Akamai DataStream 2's JSON lines: epoch seconds, the path and query apart, the agent and the referrer
    # form-encoded (Mozilla%2F5.0+%28Macintosh%3B...); a field it has no value for is left out
    "akamai": JsonPreset({
        TIME: ("reqTimeSec",), STATUS: ("statusCode",), METHOD: ("reqMethod",), PATH: ("reqPath",),
        QUERY: ("queryStr",), VHOST: ("reqHost",), CLIENT: ("cliIP",), REFERRER: ("referer",),
        USER_AGENT: ("UA",),
    }, EPOCH, encoded={REFERRER: "form", USER_AGENT: "form"}),
    # Azure Front Door's access log (FrontDoorAccessLog) as its diagnostic settings file it in a storage
    # account, a record a line: the whole URL in requestUri, the status as text; a request the edge did not
    # have and origin shield answered is logged twice, the shield's record with isReceivedFromClient false
    "azure_front_door": JsonPreset({
        TIME: ("time",), STATUS: ("properties", "httpStatusCode"), METHOD: ("properties", "httpMethod"),
        TARGET: ("properties", "requestUri"), VHOST: ("properties", "hostName"), CLIENT: ("properties", "clientIp"),
        REFERRER: ("properties", "referer"), USER_AGENT: ("properties", "userAgent"),
    }, INSTANT, absolute_targets=True, hop=(("properties", "isReceivedFromClient"), "false")),
}

# The line formats ``auto`` scores a file's lines against, in the order it prefers them (JSON
# lines are scored against JSON_PRESETS, W3C logs read by their own header). A new format that
# ``auto`` should find gets its name here.
# (haproxy_clf first: combined reads its lines too, with an empty referrer and agent)
AUTO_ORDER: tuple[str, ...] = (haproxy.HAPROXY_CLF, *PRESETS, *NGINX_PRESETS, *proxies.NAMES, haproxy.HAPROXY,
                               *envoy.NAMES, *(syslog.PREFIX + name for name in PRESETS),
                               *(containers.PREFIX + name for name in (*PRESETS, *envoy.NAMES)))

@dataclass(frozen=True)
class Envelope:
    """Another writer's prefix in front of every line (``syslog:combined``): what a format behind it takes on."""

    piece: Piece  # the prefix, as a format's first piece
    notice: str | None = None  # lines with it that are no access line, a line format's (None: none are)
    json_notice: str | None = None  # ... a JSON format's
    parts: str | None = None  # the container runtime that may split a line (``LogFormat.parts``)


ENVELOPES: dict[str, Envelope] = {
    syslog.PREFIX: Envelope(syslog.envelope()),
    containers.PREFIX: Envelope(containers.envelope(), containers.NOTICE, containers.JSON_NOTICE, containers.CRI),
}


def preset_names() -> list[str]:
    """Every name [logs] format takes: the Apache-string and nginx-template presets, the proxies' and
    HAProxy's, Envoy's, W3C and JSON presets."""

    return [*PRESETS, *NGINX_PRESETS, *proxies.NAMES, haproxy.HAPROXY, haproxy.HAPROXY_CLF, *envoy.NAMES, *w3c.NAMES,
            *JSON_PRESETS, caddy.NAME]


@lru_cache(maxsize=256)
def get(spec: str) -> LogFormat:
    """A preset by name, an nginx template, an Envoy format, a JSON template, or an Apache LogFormat
    (``syslog:``, ``cri:`` or ``docker:`` before one).

    Compiled once a process (a format is immutable): ``auto`` and the check of a named format compare a
    file's lines with every preset, and a directory of small files (5-minute ALB logs, hourly Azure
    ones) asked for them file by file, some 3 ms each.
    """
    if spec in JSON_PRESETS:
        return _json_preset(spec)
    if spec == caddy.NAME:
        return caddy.console(_json_preset("caddy"))
    if spec in w3c.NAMES:
        return w3c.get(spec)
    for prefix in (*ENVELOPES, containers.DOCKER_PREFIX):
        if not spec.startswith(prefix):
            continue
        inner = spec.removeprefix(prefix)
        if (fmt := _wrapped(prefix, inner)) is not None:
            return fmt
        raise LogFormatError(
            f"log format {quoted(spec)}: {prefix} goes before a line format, and {inner!r} is none",
            f"write {prefix} and one of {', '.join(PRESETS)}, a JSON preset ({', '.join(JSON_PRESETS)}), "
            "an nginx log_format template or an Apache LogFormat",
        )
    if haproxy.is_spec(spec):
        return haproxy.get(spec)
    if spec.partition(":")[0] in proxies.NAMES:
        return proxies.get(spec)
    if (fmt := _written(spec)) is not None:
        return fmt
    if spec.lstrip().startswith("{"):  # JSON with neither: refused, saying what it lacks
        return nginx.compile_json(spec)
    if (word := spec.strip().lower()) in preset_names() or word == "auto":
        raise LogFormatError(f"unknown log format {quoted(spec)}", f"write it {word!r}")
    if word in ("nginx", "apache", "apache2", "httpd"):
        raise LogFormatError(f"unknown log format {quoted(spec)}", "nginx's and Apache's own access log is 'combined' "
                             "(which auto finds); a format of your own is its string, or for nginx --nginx-conf")
    if word in ("clf", "ncsa"):
        raise LogFormatError(f"unknown log format {quoted(spec)}", "the Common Log Format is 'common', and with the "
                             "referrer and agent after it (NCSA's combined) 'combined'")
    # A word no preset has is most often the name a server's config gave its format (nginx's "main")
    named = (f"; if {spec!r} is a name your server's config gives a format (nginx's log_format main, Apache's "
             "LogFormat ... combinedio), give the format string itself, or for nginx read its config with "
             "--nginx-conf" if spec.isidentifier() else "")
    if close := difflib.get_close_matches(word.replace("-", "_"), ["auto", *preset_names()], n=1, cutoff=0.8):
        raise LogFormatError(f"unknown log format {quoted(spec)}",
                             f"did you mean {close[0]!r}?" + (f" Or{named[1:]}" if named else ""))
    raise LogFormatError(
        f"unknown log format {quoted(spec)}",
        f"use one of {', '.join(['auto', *preset_names()])}, an nginx log_format template "
        f"or an Apache LogFormat string{named}",
    )


def _json_preset(name: str) -> LogFormat:
    preset = JSON_PRESETS[name]
    return LogFormat(name, name, JSON_LINE, tuple(preset.paths), JSON_LINE, preset.time_kind, nested=preset.paths,
                     absolute_targets=preset.absolute_targets, encoded=preset.encoded, hop=preset.hop)


def _wrapped(prefix: str, inner: str) -> LogFormat | None:
    """The format ``inner`` as another writer wraps its lines (``prefix``); None if ``inner`` is none."""
    if prefix == containers.DOCKER_PREFIX:  # each line inside a JSON object
        fmt = _written(inner, prefix, lines=True)
        if fmt is not None:
            return containers.docker(fmt)
    else:  # each line behind a prefix
        envelope = ENVELOPES[prefix]
        fmt = _written(inner, prefix, envelope=envelope.piece)
        if fmt is not None:
            return replace(fmt, notice=envelope.notice, parts=envelope.parts)
    json = _json_preset(inner) if inner in JSON_PRESETS else _written(inner)
    return wrapped_json(prefix, json) if json is not None and json.is_json else None


def wrapped_json(prefix: str, fmt: LogFormat) -> LogFormat:
    """A JSON format's lines as another writer files them (``prefix``): its objects behind ``cri:``'s or
    ``syslog:``'s prefix, or inside Docker's JSON; the same fields, decoded from the object within.

    Not cut at its quotes (the prefix would be one more piece of every
    object's first): decoded whole, as a JSON preset's lines are.
    """
    if prefix == containers.DOCKER_PREFIX:
        return replace(fmt, name=prefix + fmt.name, within=containers.DOCKER_KEYS[0],
                       notice=containers.DOCKER_JSON_NOTICE, segments=None, parts=containers.DOCKER)
    envelope = ENVELOPES[prefix]
    return replace(fmt, name=prefix + fmt.name, envelope=envelope.piece.pattern, notice=envelope.json_notice,
                   segments=None, parts=envelope.parts)


def _written(spec: str, prefix: str = "", *, envelope: Piece | None = None, lines: bool = False) -> LogFormat | None:
    """A preset of ``PRESETS`` or Envoy's, an nginx template, an Envoy format or an Apache LogFormat (JSON or not);
    None if ``spec`` is none.

    ``envelope``: text every line starts with before the format's own (``syslog``'s prefix), which
    JSON lines cannot have: a JSON template is then none, as it is with ``lines`` (a format of lines
    that another writer wraps whole: Docker's JSON). ``prefix`` goes before the format's name.
    """
    lines = lines or envelope is not None
    if spec in PRESETS:
        return apache.compile_logformat(PRESETS[spec], prefix + spec, envelope=envelope)
    if spec in NGINX_PRESETS:
        return nginx.compile_template(NGINX_PRESETS[spec], prefix + spec, envelope=envelope)
    if spec in envoy.PRESETS:
        return envoy.compile_template(envoy.PRESETS[spec], prefix + spec, envelope=envelope)
    escape, template = _escape_of(spec)
    if "$" in template and nginx.VARIABLE.search(template):  # an nginx template, JSON (starting with "{") or not
        text = nginx.unescape(template)
        if not text.lstrip().startswith("{"):
            return nginx.compile_template(text, prefix + "custom", envelope=envelope, escape=escape)
        return None if lines else nginx.compile_json(text)
    if envoy.is_template(spec):  # Envoy's (%REQ(:METHOD)% ...)
        return envoy.compile_template(spec, prefix + "custom", envelope=envelope)
    if "%" in spec:  # an Apache LogFormat, JSON or not
        if lines and spec.lstrip().startswith("{"):
            return None
        return apache.compile_logformat(spec, prefix + "custom", envelope=envelope)
    return None


def _escape_of(spec: str) -> tuple[str, str]:
    """An nginx template's ``escape=`` as its log_format declares it before the strings
    (``escape=none $remote_addr ...``), and the template; "default" where it says none."""
    word, _, template = spec.partition(" ")
    if not word.startswith("escape="):
        return "default", spec
    try:
        return nginx.escape_mode(word), template.lstrip()
    except LogFormatError as exc:
        raise LogFormatError(f"log format {quoted(spec)}: {exc.message}", exc.fix) from None
