"""Upload: post ViewTracking documents to flexmls, and only that touches the network.

The API key travels in the URL path, so every message that could hold the
URL (requests' and urllib3's exceptions do) goes through ``redact`` before it
leaves this module. Retries (connection errors, timeouts, 429 with its
Retry-After, 5xx) are urllib3's, bounded in count and in time; 403 means a
bad key and stops; 400 means the document was refused, and it is saved with
the server's answer for inspection. Nothing is marked uploaded until the
server accepted it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from datetime import time as dtime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # loaded when there is something to post: runs that post nothing start faster
    import polars as pl
    import requests

from .. import __version__
from ..config import DEFAULT_ENDPOINT
from ..errors import AuthError, ConfigError, UnreachableError, UploadError

TRACKER = "https://retsgw.flexmls.com/tracking/v1/listings/views/listing/{listing_id}/{api_key}/tracker.gif"
USER_AGENT = f"logtrack/{__version__} (+ViewTracking uploader)"
REDACTED = "[api-key]"


@dataclass(frozen=True)
class UploadSettings:
    endpoint: str = DEFAULT_ENDPOINT
    timeout: float = 30.0
    retries: int = 5
    backoff: float = 1.0  # seconds, doubled each retry, with jitter
    max_wait: float = 120.0  # the longest single wait between tries (Retry-After included)


def redact(text: str, api_key: str) -> str:
    """``text`` without the key, as it is or as it goes in the URL (percent-encoded: a server may echo it)."""
    for form in (api_key, in_url(api_key)) if api_key else ():
        text = text.replace(form, REDACTED)
    return text


def in_url(api_key: str) -> str:
    """The key as one segment of a URL's path: a key's ``/``, ``#``, ``?`` or space would change the URL.

    What a path segment may hold as it is (RFC 3986's pchar: ``+``, ``=``, ``:``, ``@``, ...) stays as it
    is, as it was sent before.
    """
    from urllib.parse import quote

    return quote(api_key, safe="!$&'()*+,;=:@")


def load_api_key(env_value: str | None, key_file: str | None) -> str:
    """The key from LOGTRACK_API_KEY (given by the CLI) or a file only its owner can read."""
    if env_value:
        return _one_word(env_value.strip(), "LOGTRACK_API_KEY")
    if not key_file:
        raise ConfigError(
            "no flexmls API key",
            "set LOGTRACK_API_KEY, or [upload] api_key_file to a file only you can read (chmod 600)",
        )
    path = Path(key_file)
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigError(f"[upload] api_key_file {path}: {exc.strerror}") from None
    if mode & 0o077:
        raise ConfigError(
            f"[upload] api_key_file {path} can be read by others (mode {mode & 0o777:o})",
            f"chmod 600 {path}",
        )
    try:
        key = path.read_text(encoding="utf-8-sig").strip()  # (-sig: a Windows editor's byte order mark is no key)
    except OSError as exc:
        raise ConfigError(f"[upload] api_key_file {path}: {exc.strerror}",
                          "make it readable by the user logtrack runs as (and by no one else)") from None
    except UnicodeDecodeError:  # (never shown: the message names the file, not what it holds)
        raise ConfigError(f"[upload] api_key_file {path} is not text",
                          "write the key alone in it, as flexmls gave it") from None
    if not key:
        raise ConfigError(f"[upload] api_key_file {path} is empty")
    return _one_word(key, f"[upload] api_key_file {path}")


def _one_word(key: str, where: str) -> str:
    """A key with a space, a line break or a control character in it is not the key alone (a comment, a second
    line, ``KEY = ...``): flexmls would refuse it (403) after the logs were read; said now, never shown."""
    if any(c.isspace() or not c.isprintable() for c in key):
        raise ConfigError(f"{where} holds more than the key (a space, a second line or a control character)",
                          "write the key alone in it, as flexmls gave it")
    return key


def key_status(env_value: str | None, key_file: str | None) -> tuple[bool, str]:
    """Whether an upload could authenticate now (the key is there and private), in words; no network."""
    try:
        load_api_key(env_value, key_file)
    except ConfigError as exc:
        return False, str(exc)
    return True, "from LOGTRACK_API_KEY" if env_value else f"from {key_file}"


def in_window(now: datetime, window: str, zone: str) -> bool:
    """Is ``now`` inside "HH:MM-HH:MM" in ``zone``? A window may wrap midnight; one that ends where it starts
    ("00:00-00:00") is the whole day (it held no minute at all: every day due deferred, run after run)."""
    start, end = parse_window(window)
    local = now.astimezone(ZoneInfo(zone)).time()
    if start == end:
        return True
    if start < end:
        return start <= local < end
    return local >= start or local < end


def parse_window(window: str) -> tuple[dtime, dtime]:
    try:
        a, b = window.split("-")
        return dtime.fromisoformat(a.strip()), dtime.fromisoformat(b.strip())
    except ValueError:
        raise ConfigError(f"[upload] window {window!r} is not HH:MM-HH:MM", 'e.g. window = "22:00-06:00"') from None


def split_posts(counts: pl.DataFrame, max_listings: int) -> Iterator[pl.DataFrame]:
    """One day's counts in posts of at most ``max_listings`` listings.

    A View (day, supplier) is never split: flexmls keeps the last post for a
    (day, supplier), so a View cut in two would lose its first half. A single
    View larger than the limit goes alone.
    """
    import polars as pl

    groups = counts.partition_by(["day", "supplier"], maintain_order=True)
    batch: list[pl.DataFrame] = []
    size = 0
    for group in groups:
        if batch and size + group.height > max_listings:
            yield pl.concat(batch)
            batch, size = [], 0
        batch.append(group)
        size += group.height
    if batch:
        yield pl.concat(batch)


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")


def cause(error: object, timeout: float | None = None) -> str:
    """A few words for what went wrong with a request, instead of urllib3's nested reprs."""
    import requests

    if isinstance(error, requests.exceptions.Timeout) or type(error).__name__.endswith("TimeoutError"):
        return f"no answer within {timeout:g} s" if timeout else "timed out"
    text = str(error)
    if isinstance(error, requests.exceptions.SSLError) or "SSL" in type(error).__name__:
        detail = re.search(r"(certificate verify failed[^'\")]*|wrong version number|handshake failure)", text)
        return "TLS failed: " + (detail.group(1) if detail else "the server's certificate or protocol")
    found = _ERRNO.search(text)
    if found:
        return found.group(1).strip().rstrip(".").lower()
    if "RemoteDisconnected" in text or "Connection aborted" in text:
        return "the server closed the connection without answering"
    return text.rsplit(": ", 1)[-1].strip(" '\")") or type(error).__name__


RetryReport = Callable[[str, float], None]  # what failed, seconds until the next try


def _reporting_retry(report: RetryReport | None, timeout: float, **settings: object) -> object:
    """urllib3's Retry that says each retry before it waits (urllib3 itself is silent)."""
    from urllib3.util.retry import Retry

    class ReportingRetry(Retry):
        def sleep(self, response: object = None) -> None:
            wait = None
            if self.respect_retry_after_header and response is not None:
                wait = self.get_retry_after(response)  # type: ignore[arg-type]
            if wait is None:
                wait = self.get_backoff_time()
            if report and self.history:
                last = self.history[-1]
                what = f"answered {last.status}" if last.status else cause(last.error, timeout)
                report(what, wait)
            if wait > 0:
                time.sleep(wait)

    return ReportingRetry(**settings)  # type: ignore[arg-type]


_LOGGED_KEYS: set[str] = set()


# urllib3's module loggers: a filter applies to the records of its own logger only, not of those below it
# (the retries' "Incremented Retry for (url=...)" is util.retry's)
_URLLIB3_LOGGERS = ("connectionpool", "util.retry", "poolmanager", "connection", "response", "http2.connection",
                    "contrib.pyopenssl")


def _redact_logs(api_key: str) -> None:
    """urllib3 logs each retry with the URL, key and all: a program that shows warnings must not show it."""
    import logging

    class Redact(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            text = shown = record.getMessage()
            for key in _LOGGED_KEYS:
                shown = redact(shown, key)
            if shown != text:
                record.msg, record.args = shown, ()
            return True

    if not _LOGGED_KEYS:
        for name in _URLLIB3_LOGGERS:
            logging.getLogger(f"urllib3.{name}").addFilter(Redact())
    _LOGGED_KEYS.add(api_key)


class Poster:
    """One HTTP session to the endpoint, with retries; errors come out redacted."""

    def __init__(self, api_key: str, settings: UploadSettings, on_retry: RetryReport | None = None) -> None:
        import requests
        from requests.adapters import HTTPAdapter

        if not api_key:
            raise ConfigError("the flexmls API key is empty")
        self.api_key = api_key
        self.settings = settings
        self.url = settings.endpoint.format(api_key=in_url(api_key))
        retry = _reporting_retry(
            on_retry, settings.timeout,
            total=settings.retries,
            connect=settings.retries,
            read=settings.retries,
            status=settings.retries,
            backoff_factor=settings.backoff,
            backoff_jitter=settings.backoff,
            backoff_max=settings.max_wait,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"POST"}),
            respect_retry_after_header=True,
            retry_after_max=int(settings.max_wait),  # a Retry-After of hours is not waited out
            raise_on_status=False,
        )
        _redact_logs(api_key)
        self.session = requests.Session()
        self.session.mount("https://", HTTPAdapter(max_retries=retry))  # type: ignore[arg-type]
        self.session.mount("http://", HTTPAdapter(max_retries=retry))  # type: ignore[arg-type]
        self.session.headers.update({"User-Agent": USER_AGENT, "Content-Type": "application/xml"})

    def post(self, document: bytes) -> requests.Response:
        import requests

        try:
            response = self.session.post(
                self.url, data=document, timeout=self.settings.timeout, verify=True,
                allow_redirects=False,  # a redirected POST would be resent as a GET, or to another host
            )
        except requests.RequestException as exc:
            tries = self.settings.retries + 1
            raise UnreachableError(
                f"cannot reach flexmls at {self.where()}: {redact(cause(exc, self.settings.timeout), self.api_key)}"
                f" ({tries} tr{'ies' if tries != 1 else 'y'})"
            ) from None
        return response

    def where(self) -> str:
        return redact(self.url, self.api_key)

    def check(self, response: requests.Response) -> None:
        """Raise for anything but success; 403 and 400 get their own words."""
        body = redact(response.text[:2000], self.api_key)
        if response.status_code == 403:
            raise AuthError(
                f"flexmls refused the API key (403 from {self.where()})",
                "check LOGTRACK_API_KEY or [upload] api_key_file; nothing was marked uploaded",
            )
        if response.status_code >= 300:
            first = body.strip().splitlines()[0][:200] if body.strip() else "(no text)"
            kind = UnreachableError if response.status_code == 429 or response.status_code >= 500 else UploadError
            # (413: the same document would be refused every run, its days pending for ever; smaller posts go)
            fix = ("a document too large for it: lower [upload] max_listings_per_post (a post never splits a "
                   "day's View)") if response.status_code == 413 else None
            raise kind(f"flexmls answered {response.status_code} at {self.where()}: {first}", fix)
