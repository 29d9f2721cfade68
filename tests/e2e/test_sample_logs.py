"""sample_logs/: the golden XML, and the generator's ground truth behind it."""

from __future__ import annotations

import json
from collections import Counter

from conftest import ROOT, xml_counts

SAMPLES = ROOT / "sample_logs"
GOLDEN = ROOT / "tests" / "golden"


def test_golden_xml(cli) -> None:
    code, out, err = cli("xml", str(SAMPLES), "--config", str(SAMPLES / "logtrack.toml"))
    assert code == 0, err
    assert out == (GOLDEN / "sample_logs.xml").read_bytes()


def test_golden_xml_holds_the_ground_truth() -> None:
    rows = json.loads((GOLDEN / "sample_logs.expected.json").read_text())
    expected = Counter({(r["day"], r["supplier"], r["listing"]): r["views"] for r in rows})
    assert xml_counts((GOLDEN / "sample_logs.xml").read_bytes()) == expected


def test_directory_reads_rotated_and_skips_error_log(cli) -> None:
    code, _, err = cli("xml", str(SAMPLES), "--config", str(SAMPLES / "logtrack.toml"))
    assert code == 0
    assert err.splitlines()[:4] == [
        f"logtrack: config {SAMPLES}/logtrack.toml",
        f"logtrack: {SAMPLES}/access.log: format combined",
        f"logtrack: {SAMPLES}/access.log.1.gz: format combined",
        f"logtrack: {SAMPLES}/other_vhosts_access.log: format vhost_combined",
    ]
    assert "read 7,500 lines from 3 files; 4,885 views counted" in err
