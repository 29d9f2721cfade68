"""The fixed line formats of proxies and load balancers in front of a site: HAProxy and AWS's ALB and ELB.

Neither is written by a ``LogFormat`` or ``log_format`` string, so each is
spelled here as the pieces the one compiler (``formats.build``) reads, from
the field list in its vendor's documentation:

- **HAProxy** ``option httplog``: ``%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta
  %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r``, as
  written to a file by syslog (``Nov 29 16:25:14 host haproxy[123]: ``), to
  stdout raw, or in RFC 3164 (``<134>Nov 29 ...``). Its time has no UTC
  offset: it is read in ``[logs] log_timezone``. Referrer, agent and host
  are only there when ``capture request header`` names them, in the order
  of those lines: ``haproxy:Host,Referer,User-Agent`` says which (``auto``
  works the order out from the values); plain ``haproxy`` reads none.
  Captured values have ``"#{|}`` written as ``#XX``; they are decoded.
- **AWS ALB** access logs: space-separated, the request line quoted with
  an absolute URL (``"GET https://www.example.com:443/x?y HTTP/1.1"``): the
  target is its path and query, the virtual host its host. ALB logs no
  referrer: suppliers come from ``host`` rules or the default.
- **AWS Classic Load Balancer** (``elb``) access logs: ALB's first fields
  without its leading type, then the request and agent alike, and the TLS
  cipher and protocol (``- -`` over plain HTTP). A TCP listener's lines
  have ``-`` for status and ``"- - - "`` for request: no page.
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import LogFormatError
from . import compiler, syslog
from . import model as f
from .model import LogFormat, Piece
from .nginx import ISO_TEXT

HAPROXY = "haproxy"
ALB = "alb"
ELB = "elb"
NAMES = (ALB, ELB, HAPROXY)

_SYSLOG = syslog.OPTIONAL  # as syslog files it, written raw with <PRI>, or without it: each writer differs
_HAPROXY_TIME = r"[0-9]{2}/[A-Za-z]{3}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
# capture request header NAME -> the field it fills
_HEADERS = {"host": f.VHOST, "referer": f.REFERRER, "referrer": f.REFERRER, "user-agent": f.USER_AGENT}
HAPROXY_ENCODING = "haproxy"  # '#' and two hex digits for '"', '#', '{', '|', '}' and control bytes
# a status of "-": the load balancer sent no response (a TCP listener's line, a client gone first); read as 0
NO_RESPONSE = "no_response"


def _ignored(pattern: str = r"\S+") -> Piece:
    return Piece(pattern=pattern)


def _spaced(*pieces: Piece | str) -> list[Piece]:
    """Pieces with a literal space between each two (a str is a literal of its own)."""
    out: list[Piece] = []
    for i, piece in enumerate(pieces):
        if i:
            out.append(Piece(literal=" "))
        out.append(Piece(literal=piece) if isinstance(piece, str) else piece)
    return out


def get(spec: str) -> LogFormat:
    """``alb``, ``haproxy`` or ``haproxy:Header,Header,...``."""
    name, _, headers = spec.partition(":")
    if name == ALB and not headers:
        return alb()
    if name == ELB and not headers:
        return elb()
    if name == HAPROXY:
        return haproxy([h.strip() for h in headers.split(",")] if headers else [])
    raise LogFormatError(f"unknown log format {spec!r}", "use alb, elb, haproxy or haproxy:Host,Referer,User-Agent")


def haproxy(headers: list[str]) -> LogFormat:
    """HAProxy's httplog; ``headers``: the names of its captured request headers, in order ('-': unknown).

    The braces are taken whole (a line HAProxy could not read as a request,
    ``"<BADREQ>"``, has none) and cut into the headers by ``parse``.
    """
    captured = tuple(_HEADERS.get(header.lower()) for header in headers)
    pieces = [
        _ignored(_SYSLOG), Piece(field=f.CLIENT, pattern=r"\S+?"), Piece(literal=":"), _ignored(r"[0-9]+"),
        Piece(literal=" ["),
        Piece(field=f.TIME, pattern=_HAPROXY_TIME, time_kind=f.STRFTIME, time_format="%d/%b/%Y:%H:%M:%S%.f"),
        Piece(literal="] "),
        *_spaced(_ignored(), _ignored(), _ignored(), Piece(field=f.STATUS, pattern=r"-?[0-9]+"),
                 *(_ignored() for _ in range(6))),
        Piece(literal=" "),
        # request headers' braces, then response headers' (either may be absent)
        Piece(field=f.CAPTURED if headers else None, pattern=r"(?:\{[^}]*\} ){0,2}"),
        Piece(literal='"'), Piece(field=f.REQUEST, pattern=r".*?"), Piece(literal='"'),
    ]
    name = HAPROXY + (":" + ",".join(headers) if headers else "")
    fmt = compiler.build(pieces, name, name)
    found = tuple(field for field in captured if field)
    # its own messages ("Proxy site stopped", "Server be/s1 is DOWN") start with a word, a request with an address
    return replace(fmt, fields=fmt.fields + found, captured=captured, notice="^" + _SYSLOG + "[A-Za-z]+ ",
                   encoded={field: HAPROXY_ENCODING for field in found})


def alb() -> LogFormat:
    """An AWS Application Load Balancer access log line (its fields after the agent are not read)."""
    return _aws(ALB, [_ignored(r"[a-z0-9]+")])  # type: http, https, h2, grpcs, ws, wss


def elb() -> LogFormat:
    """An AWS Classic Load Balancer access log line: ALB's without its type (its TLS fields are not read)."""
    return _aws(ELB, [])


def _aws(name: str, first: list[Piece]) -> LogFormat:
    """The load balancers' line from its time on: time, name, client, backend, three times, the status the
    client got, the backend's, bytes received and sent, the request with an absolute URL and the agent."""
    pieces = _spaced(
        *first,
        Piece(field=f.TIME, pattern=ISO_TEXT, time_kind=f.ISO8601),
        _ignored(),  # the load balancer's name
        Piece(field=f.CLIENT, pattern=r"\S+"),  # client:port
        _ignored(), _ignored(r"-?[0-9.]+"), _ignored(r"-?[0-9.]+"), _ignored(r"-?[0-9.]+"),  # target, three times
        Piece(field=f.STATUS, pattern=r"[0-9]{3}|-"),  # elb_status_code: what the client got
        _ignored(), _ignored(), _ignored(),  # target status, bytes received and sent
        '"', )
    pieces += [Piece(field=f.REQUEST, pattern=r".*?"), Piece(literal='" "'),
               Piece(field=f.USER_AGENT, pattern=r".*?"), Piece(literal='"')]
    return replace(compiler.build(pieces, name, name), absolute_targets=True, encoded={f.STATUS: NO_RESPONSE})
