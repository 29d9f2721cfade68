"""flexmls.upload on its own: posts never split a View, the window, the key kept out of every message."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from logtrack.errors import AuthError, ConfigError, UnreachableError, UploadError
from logtrack.flexmls.upload import Poster, UploadSettings, in_window, load_api_key, redact, split_posts


def test_posts_never_split_a_view() -> None:
    day = datetime(2026, 11, 1).date()
    counts = pl.DataFrame(
        {"day": [day] * 7, "supplier": ["", "", "", "Z", "Z", "Y", "Y"], "listing": list("abcdefg"),
         "views": [1] * 7})
    posts = list(split_posts(counts, 3))
    assert [p.get_column("supplier").to_list() for p in posts] == [["", "", ""], ["Z", "Z"], ["Y", "Y"]]
    assert sum(p.height for p in posts) == 7


@pytest.mark.parametrize(("utc", "window", "inside"), [
    ("2026-11-02T04:30", "22:00-06:00", True),   # 22:30 in Chicago (CST): inside a window across midnight
    ("2026-11-02T03:59", "22:00-06:00", False),  # 21:59
    ("2026-11-02T11:59", "22:00-06:00", True),   # 05:59
    ("2026-11-02T12:00", "22:00-06:00", False),  # 06:00: the end is outside
    ("2026-07-02T03:30", "22:00-06:00", True),   # 22:30 in CDT: the zone's summer time is followed
    ("2026-11-02T15:00", "09:00-17:00", True),   # a window within one day
    ("2026-11-02T15:00", "09:00-09:00", True),   # one that ends where it starts: the whole day (was no minute)
    ("2026-11-02T04:00", "22:00-22:00", True),   # (22:00: its start)
])
def test_the_posting_window_is_in_its_zone(utc: str, window: str, inside: bool) -> None:
    now = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert in_window(now, window, "America/Chicago") is inside


def test_the_key_comes_from_the_environment_or_a_private_file(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("s3cr3t\n")
    key_file.chmod(0o644)
    with pytest.raises(ConfigError, match="can be read by others") as err:
        load_api_key(None, str(key_file))
    assert "s3cr3t" not in str(err.value)
    key_file.chmod(0o600)
    assert load_api_key(None, str(key_file)) == "s3cr3t"
    assert load_api_key(" from-env ", str(key_file)) == "from-env"
    with pytest.raises(ConfigError, match="no flexmls API key"):
        load_api_key(None, None)
    key_file.write_bytes(b"s3cr\xe9t\n")  # (not text: said so, what it holds never shown)
    with pytest.raises(ConfigError, match=r"api_key_file .*key is not text") as err:
        load_api_key(None, str(key_file))
    assert "s3cr" not in str(err.value)
    assert redact("GET /views/s3cr3t/ failed", "s3cr3t") == "GET /views/[api-key]/ failed"
    key_file.write_bytes(b"\xef\xbb\xbfs3cr3t\r\n")  # (a Windows editor's: its byte order mark is no part of the key)
    assert load_api_key(None, str(key_file)) == "s3cr3t"
    for text in ("s3cr3t\nother", "# my key\ns3cr3t", "KEY = s3cr3t", "s3cr3t\x00"):
        key_file.write_text(text)
        with pytest.raises(ConfigError, match=r"key holds more than the key \(a space, a second line") as err:
            load_api_key(None, str(key_file))
        assert "s3cr3t" not in str(err.value) + str(err.value.fix)
        with pytest.raises(ConfigError, match=r"^LOGTRACK_API_KEY holds more than the key") as err:
            load_api_key(text, None)
        assert "s3cr3t" not in str(err.value) + str(err.value.fix)


@pytest.mark.parametrize(("status", "error", "words"), [
    (401, UploadError, "flexmls answered 401 at "),  # a proxy's, say: no sign the key is wrong (test_unattended)
    (403, AuthError, "flexmls refused the API key (403 from "),
    (400, UploadError, "flexmls answered 400 at "),
    (404, UploadError, "flexmls answered 404 at "),
    (413, UploadError, "flexmls answered 413 at "),  # (and says what to do: below)
    (503, UnreachableError, "flexmls answered 503 at "),
])
@pytest.mark.parametrize(("key", "sent"), [
    ("k3y-in-the-path-0042", "k3y-in-the-path-0042"),
    ("k3y+in=the:path@0042", "k3y+in=the:path@0042"),  # (what a path segment holds as it is stays so)
    ("k3y in/the#path?0042%", "k3y%20in%2Fthe%23path%3F0042%25"),
])
def test_each_refusal_is_its_own_error_and_never_shows_the_key(status: int, error: type[Exception], words: str,
                                                               key: str, sent: str) -> None:
    """A server on loopback answers every post with ``status`` (retries off, so a 503 is final at once).

    A key with a space, ``/``, ``#`` or ``?`` in it is one segment of the path, percent-encoded (it was put in as
    it is: cut at its ``#``, or split into two segments), and neither form of it is shown."""
    import http.server
    import threading

    paths = []

    class Refuse(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            paths.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = f"no: {self.path}\n".encode()  # echoes the path, key and all, as some servers do
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = UploadSettings(endpoint=f"http://127.0.0.1:{server.server_address[1]}/v1/{{api_key}}/views",
                                  timeout=5.0, retries=0)
        poster = Poster(key, settings)
        with pytest.raises(error) as caught:
            poster.check(poster.post(b"<Views/>"))
    finally:
        server.shutdown()
        server.server_close()
    assert type(caught.value) is error
    assert str(caught.value).startswith(words)
    shown = str(caught.value) + str(caught.value.detail)
    assert key not in shown and sent not in shown and "[api-key]" in shown
    assert paths == [f"/v1/{sent}/views"]
    assert (caught.value.fix or "").startswith("a document too large for it: lower [upload] max_listings_per_post") \
        is (status == 413)


@pytest.mark.parametrize("key", ["k3y-in-the-path-0042", "k3y in/the#path?0042"])
def test_urllib3s_retry_messages_never_show_the_key(caplog: pytest.LogCaptureFixture, key: str) -> None:
    """urllib3 logs each retry with the URL it posts to: a program that shows its debug messages (or a test's log
    capture) showed the key in util.retry's "Incremented Retry for (url=...)", the filter being on connectionpool's
    logger alone."""
    import http.server
    import logging
    import threading
    from urllib.parse import quote


    class Busy(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Busy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    caplog.set_level(logging.DEBUG, logger="urllib3")
    try:
        settings = UploadSettings(endpoint=f"http://127.0.0.1:{server.server_address[1]}/v1/{{api_key}}/views",
                                  timeout=5.0, retries=2, backoff=0.0)
        poster = Poster(key, settings)
        with pytest.raises(UnreachableError):
            poster.check(poster.post(b"<Views/>"))
    finally:
        server.shutdown()
        server.server_close()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Retry" in logged and "[api-key]" in logged  # (urllib3 did log the retries, URL and all)
    assert key not in logged and quote(key, safe="") not in logged
