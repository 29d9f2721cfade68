"""Generated logs with known ground truth: `logtrack xml` must give exactly those counts.

Both escape styles, every preset, vhosts, bots, damaged lines, X-Forwarded-For
clients, and a quarter of the lines within a minute of a midnight in one of
several UTC offsets; with a reporting time zone and without one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from logtrack.read import sources

import loggen
from conftest import xml_counts

OFFSETS = [-5, -6, 0, 5.5, -8, 14, -9.5]


@pytest.mark.parametrize("fmt", ["combined", "combined_xff", "vhost_combined", "common"])
@pytest.mark.parametrize("style", ["apache", "nginx"])
@pytest.mark.parametrize("timezone", ["America/Chicago", "Asia/Kolkata", None])
def test_exact_counts(tmp_path: Path, cli, fmt: str, style: str, timezone: str | None) -> None:
    gen = loggen.generate(7, 2500, fmt, style, OFFSETS, timezone, loggen.START, 3, damaged_every=89)
    log = tmp_path / "access.log"
    log.write_bytes(b"\n".join(gen.lines) + b"\n")
    conf = tmp_path / "logtrack.toml"
    conf.write_text(loggen.config_toml("auto", timezone))
    code, out, err = cli("xml", str(log), "--config", str(conf))
    assert code == 0, err
    expected = gen.expected if timezone else gen.expected_local
    assert xml_counts(out) == expected
    assert f"{sum(expected.values()):,} views counted" in err


def test_exact_counts_across_small_batches_and_files(tmp_path: Path, cli, monkeypatch) -> None:
    """Batch edges and file edges must neither lose nor double a line."""
    monkeypatch.setattr(sources, "BATCH_BYTES", 4096)
    total = loggen.Generated()
    for i, (fmt, style) in enumerate([("combined", "nginx"), ("vhost_combined", "apache"), ("common", "apache")]):
        gen = loggen.generate(100 + i, 1500, fmt, style, OFFSETS, "America/Chicago", loggen.START, 3, damaged_every=61)
        (tmp_path / f"{i}_access.log").write_bytes(b"\n".join(gen.lines))  # no final newline
        total.expected.update(gen.expected)
    conf = tmp_path / "logtrack.toml"
    conf.write_text(loggen.config_toml("auto", "America/Chicago"))
    code, out, err = cli("xml", str(tmp_path), "--config", str(conf))
    assert code == 0, err
    assert xml_counts(out) == total.expected


def test_directory_of_rotated_and_compressed_logs(tmp_path: Path, cli) -> None:
    """access.log, .1, .2.gz, .3.bz2, .4.xz and an error.log: the five access logs, counted together."""
    import bz2
    import gzip
    import lzma

    total = loggen.Generated()
    writers = {
        "access.log": lambda b: b,
        "access.log.1": lambda b: b,
        "access.log.2.gz": gzip.compress,
        "access.log.3.bz2": bz2.compress,
        "access.log.4.xz": lzma.compress,
    }
    for i, (name, compress) in enumerate(writers.items()):
        gen = loggen.generate(300 + i, 800, "combined", "nginx", OFFSETS, "America/Chicago", loggen.START, 3,
                              damaged_every=97)
        (tmp_path / name).write_bytes(compress(b"\n".join(gen.lines) + b"\n"))
        total.expected.update(gen.expected)
    (tmp_path / "error.log").write_text(
        '2026/11/22 03:14:07 [error] 812#812: *1 open() "/var/www/html/listing/1234567" failed\n')
    conf = tmp_path / "logtrack.toml"
    conf.write_text(loggen.config_toml("auto", "America/Chicago"))
    code, out, err = cli("xml", str(tmp_path), "--config", str(conf))
    assert code == 0, err
    assert "read 4,000 lines from 5 files" in err
    assert xml_counts(out) == total.expected
