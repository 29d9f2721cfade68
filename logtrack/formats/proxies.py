"""The fixed line formats of the load balancers in front of a site: AWS's ALB and ELB (HAProxy: ``haproxy``).

Neither is written by a ``LogFormat`` or ``log_format`` string, so each is
spelled here as the pieces the one compiler (``formats.build``) reads, from
the field list in its vendor's documentation:

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
from . import compiler
from . import model as f
from .model import LogFormat, Piece
from .nginx import ISO_TEXT

ALB = "alb"
ELB = "elb"
NAMES = (ALB, ELB)

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
    """``alb`` or ``elb``."""
    if spec == ALB:
        return alb()
    if spec == ELB:
        return elb()
    raise LogFormatError(f"unknown log format {spec!r}", "use alb or elb")


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
