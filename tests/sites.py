"""A generated site for tests of unattended runs: its key, the sandbox, and how to read a state back."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from logtrack.flexmls.sandbox import SandboxState, make_server

from conftest import xml_counts

KEY = "s3cr3t-KEY-9f8e7d"
TZ = "America/Chicago"


def counts_of(state: Path | str, cli) -> Counter[tuple[str, str, str]]:
    code, out, err = cli("export", "--state", str(state))
    assert code == 0, err
    return xml_counts(out)


def files_per_count(monkeypatch: pytest.MonkeyPatch, module: object) -> list[int]:
    """How many files each call of ``module.count_files`` counted together, call after call (filled as they come)."""
    joined: list[int] = []
    original = module.count_files  # type: ignore[attr-defined]

    def count_files(parts: list[object], *args: object, **kwargs: object) -> object:
        joined.append(len(parts))
        return original(parts, *args, **kwargs)

    monkeypatch.setattr(module, "count_files", count_files)
    return joined


def write(path: Path, lines: list[bytes], partial: bytes = b"") -> None:
    with open(path, "ab") as fh:
        fh.write(b"".join(line + b"\n" for line in lines) + partial)


class Sandbox:
    def __init__(self, fail_first: int = 0) -> None:
        self.state = SandboxState(KEY, fail_first)
        self.server = make_server("127.0.0.1", 0, self.state)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def views(self) -> Counter[tuple[str, str, str]]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_sandbox/views") as r:
            return Counter({(v["day"], v["supplier"], v["listing"]): v["views"] for v in json.load(r)})

    def posts(self) -> Counter[tuple[str, str]]:
        """How many documents carried each (day, supplier)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_sandbox/posts") as r:
            return Counter({(v["day"], v["supplier"]): v["posts"] for v in json.load(r)})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def upload_config(conf: Path, port: int, window: str = "22:00-06:00") -> Path:
    text = conf.read_text() + (
        f'\n[upload]\nendpoint = "http://127.0.0.1:{port}/tracking/v1/listings/views/{{api_key}}/"\n'
        f'window = "{window}"\n'
    )
    out = conf.with_name("upload.toml")
    out.write_text(text)
    return out


