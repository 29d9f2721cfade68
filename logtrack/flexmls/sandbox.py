"""A local server that behaves like the flexmls ViewTracking endpoint.

POST /tracking/v1/listings/views/{key}/ takes a document: 403 for a wrong
key, 400 with the first XSD error for a document that fails the schema, 500
for the first N requests when asked (to exercise retries), 200 otherwise.
Documents are parsed with entities and network access off and the body size
bounded. GET .../listing/{id}/{key}/tracker.gif answers the 1x1 GIF.
GET /_sandbox/views returns what flexmls would now hold: for each (day,
supplier), the listings of the last post that carried it.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from lxml import etree

from ..errors import InputError, UsageError, XmlInvalidError, days_listed
from ..output import write_into
from .viewtracking import load_schema, validate_against

MAX_BODY = 16 * 1024 * 1024
GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
_POST = re.compile(r"^/tracking/v1/listings/views/(?P<key>[^/]+)/?$")
_GIF = re.compile(r"^/tracking/v1/listings/views/listing/(?P<id>[^/]+)/(?P<key>[^/]+)/tracker\.gif$")


@dataclass
class SandboxState:
    api_key: str
    fail_first: int = 0
    data_dir: Path | None = None
    views: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    posts: dict[tuple[str, str], int] = field(default_factory=dict)  # how often each (day, supplier) was posted
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    log: Callable[[str], None] | None = None  # one line per request, the key redacted

    def load(self) -> None:
        """What an earlier sandbox kept in ``data_dir``; a file there that is not its own is an error."""
        if not self.data_dir:
            return
        if self.data_dir.exists() and not self.data_dir.is_dir():
            raise UsageError(f"--data {self.data_dir} is not a directory", "name a directory (it is made if missing)")
        path = self.data_dir / "views.json"
        if not path.exists():
            return
        try:
            for row in json.loads(path.read_text()):
                self.views.setdefault((row["day"], row["supplier"]), {})[row["listing"]] = row["views"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path}: not what the sandbox keeps ({type(exc).__name__}: {exc})",
                             "move it aside, or name another --data directory") from None

    def rows(self) -> list[dict[str, object]]:
        return [
            {"day": day, "supplier": supplier, "listing": listing, "views": n}
            for (day, supplier), listings in sorted(self.views.items())
            for listing, n in sorted(listings.items())
        ]

    def save(self) -> None:
        if self.data_dir:
            write_into(self.data_dir, "views.json", json.dumps(self.rows(), indent=1).encode())


_KEY_IN_PATH = re.compile(r"(/tracking/v1/listings/views/(?:listing/[^/]+/)?)([^/?]+)")


def redact_path(path: str) -> str:
    """The request path with whatever stands where the key goes replaced: a wrong key may be someone's."""
    return _KEY_IN_PATH.sub(lambda m: m.group(1) + "[api-key]" if m.group(2) != "tracker.gif" else m.group(0),
                            path.split("?", 1)[0])


def make_server(host: str, port: int, state: SandboxState) -> ThreadingHTTPServer:
    schema = load_schema()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    schema_lock = threading.Lock()  # an lxml schema is not safe to use from two threads at once

    def check(root: etree._Element, name: str) -> None:
        with schema_lock:
            validate_against(schema, root, name)

    class Handler(BaseHTTPRequestHandler):
        server_version = "logtrack-sandbox"

        def log_message(self, format: str, *args: object) -> None:  # http.server's own lines: see _send
            pass

        def _send(self, code: int, body: bytes, ctype: str = "text/plain; charset=utf-8", views: str = "") -> None:
            if state.log is not None:  # what a user trying a setup wants to see: retries, refusals, what arrived
                when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                answer = body.decode(errors="replace").strip().splitlines()[0][:120] if ctype.startswith("text") \
                    else ctype
                state.log(f"{when} {self.command} {redact_path(self.path)} -> {code} {answer}"
                          + (f"; {views}" if views else ""))
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path in ("/_sandbox/views", "/_sandbox/posts"):
                with state.lock:
                    rows = state.rows() if path.endswith("views") else [
                        {"day": day, "supplier": supplier, "posts": n}
                        for (day, supplier), n in sorted(state.posts.items())]
                self._send(200, json.dumps(rows).encode(), "application/json")
                return
            m = _GIF.match(path)
            if m:
                if m["key"] != state.api_key:
                    self._send(403, b"Forbidden: unknown API key\n")
                else:
                    self._send(200, GIF, "image/gif")
                return
            self._send(404, b"Not found\n")

        def do_POST(self) -> None:
            m = _POST.match(self.path.split("?", 1)[0])
            if not m:
                self._send(404, b"Not found\n")
                return
            with state.lock:
                state.requests += 1
                failing = state.requests <= state.fail_first
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(413, b"Request body too large\n")
                self.close_connection = True
                return
            body = self.rfile.read(length)
            if m["key"] != state.api_key:
                self._send(403, b"Forbidden: unknown API key\n")
                return
            if failing:
                self._send(500, b"Internal Server Error (sandbox --fail-first)\n")
                return
            try:
                root = etree.fromstring(body, parser)
                check(root, "document")
            except etree.XMLSyntaxError as exc:
                self._send(400, f"Bad Request: not well-formed XML: {exc}\n".encode())
                return
            except XmlInvalidError as exc:
                self._send(400, f"Bad Request: {exc}\n".encode())
                return
            received = root.findall("View")
            n_views = sum(int(item.findtext("ViewCount") or 0) for item in root.iter("Listing"))
            n_listings = len(root.findall(".//Listing"))
            with state.lock:
                for view in received:
                    key = (view.findtext("ViewDate") or "", view.findtext("ViewSupplierName") or "")
                    state.posts[key] = state.posts.get(key, 0) + 1
                    state.views[key] = {
                        item.findtext("ListingId") or "": int(item.findtext("ViewCount") or 0)
                        for item in view.iter("Listing")
                    }
                state.save()
            days = sorted({v.findtext("ViewDate") or "" for v in received})
            self._send(200, b"OK\n", views=f"{n_views:,} views of {n_listings:,} listing(s) in {len(received)} "
                                        f"View(s) for {days_listed(days)}")

    return ThreadingHTTPServer((host, port), Handler)
