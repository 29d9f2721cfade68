"""The example files in contrib/ stay valid as the code changes."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from logtrack import config

from conftest import ROOT

CONTRIB = ROOT / "contrib"
LOGROTATE = shutil.which("logrotate") or shutil.which("/usr/sbin/logrotate")


def test_example_config_loads() -> None:
    cfg = config.load(CONTRIB / "logtrack.toml")
    assert cfg.rules.patterns and cfg.settings.api_key_file == "/etc/logtrack/api-key"
    assert cfg.settings.window == "22:00-06:00" and cfg.settings.window_timezone == "America/Chicago"


@pytest.mark.skipif(LOGROTATE is None, reason="logrotate is not installed (apt-get install logrotate)")
@pytest.mark.parametrize("name", ["logrotate-nginx", "logrotate-apache2"])
def test_logrotate_snippets_parse(name: str, tmp_path) -> None:
    assert LOGROTATE
    result = subprocess.run([LOGROTATE, "-d", "-s", str(tmp_path / "status"), str(CONTRIB / name)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "error:" not in result.stderr.lower()
