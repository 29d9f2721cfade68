"""Holes: the runs of NUL bytes a crash leaves in a log, each made one line of its own, and binary junk told apart.

A line lost in a crash is skipped by reason (``HOLE``), and the lines on
either side of it keep their own lines and count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

HOLE = b"\x00"  # what a run of NUL bytes becomes: this one byte, on a line of its own
_NUL_RUN = re.compile(rb"\x00+")
# Bytes below 0x20 that nginx and Apache escape, so never write raw.
_CONTROL = bytes(b for b in range(1, 32) if b not in b"\t\n\r\x0b\x0c\x1b")


def looks_binary(data: bytes) -> bool:
    """Whether NUL bytes in ``data`` mean a binary file rather than a log with a hole.

    A crash can leave a log with blocks of NUL bytes where lines were lost
    (the file grew, its data never reached the disk), and copytruncate does
    the same with a writer that does not append; either way the lines
    around the hole are a log's. A binary file (a database, an image, an
    executable, UTF-16 text) has its NULs scattered, among other control
    bytes that servers never write raw.
    """
    if b"\x00" not in data:
        return False
    runs = sum(1 for _ in _NUL_RUN.finditer(data))
    rest = data.replace(b"\x00", b"")
    controls = len(rest) - len(rest.translate(None, _CONTROL))
    return runs > max(16, len(data) // 4096) or controls * 100 > len(rest)


# What a file may be that is no log and no compression logtrack undoes, told by its magic (at its first byte,
# or, for a tar, at byte 257 of its first header once any compression is undone: POSIX's "ustar" and a NUL,
# GNU's and a space), with the command that takes the log out of it. An archive's headers read as lines would
# be "holes" and junk, an error log packed beside the access log damage, and logs kept both packed and
# unpacked count twice; a compression logrotate can be set to use (``compresscmd``) and logtrack does not undo
# (it reads gzip, bzip2, xz and zstd) would be "looks binary", or, where lz4 stores a short log raw, its line
# behind junk bytes.
def _archive(kind: str, at: int, magic: bytes, command: str) -> tuple[int, bytes, str, str]:
    return at, magic, f"{kind}, not a log: its files are not read", \
        f"take the logs out of it ({command} {{name}}) and name them"


def _compression(kind: str, magic: bytes, command: str) -> tuple[int, bytes, str, str]:
    return 0, magic, f"{kind}-compressed, which logtrack does not read (it reads gzip, bzip2, xz and zstd)", \
        f"decompress it first ({command}), or have logrotate use one of those"


# (where, magic, what the file is, the fix: {name} the file's)
_PACKED = (_archive("a tar archive", 257, b"ustar\x00", "tar -xf"),
           _archive("a tar archive", 257, b"ustar ", "tar -xf"),
           _archive("a zip archive", 0, b"PK\x03\x04", "unzip"), _archive("a zip archive", 0, b"PK\x05\x06", "unzip"),
           _archive("a 7-Zip archive", 0, b"7z\xbc\xaf\x27\x1c", "7z x"),
           _archive("a RAR archive", 0, b"Rar!\x1a\x07", "unrar x"),
           _compression("lz4", b"\x04\x22\x4d\x18", "lz4 -d"), _compression("lzip", b"LZIP\x01", "lzip -d"),
           _compression("lzop", b"\x89LZO\x00\r\n\x1a\n", "lzop -d"),
           _compression("compress(1)", b"\x1f\x9d", "uncompress"),
           # a log saved by a Windows tool (PowerShell's `>`): its NULs made it "looks binary"
           *((0, bom, "UTF-16 text, which no server writes",
              f"convert it first (iconv -f {code} -t UTF-8 {{name}} > {{name}}.utf8.log) and name that")
             for bom, code in ((b"\xff\xfe", "UTF-16LE"), (b"\xfe\xff", "UTF-16BE"))))


def packed(data: bytes, name: str) -> tuple[str, str] | None:
    """(what file ``name`` is packed in, the fix) where its first bytes, ``data``, after any compression
    logtrack undoes, are an archive's or a compression's logtrack does not read; else None."""
    for at, magic, what, fix in _PACKED:
        if data[at:at + len(magic)] == magic:
            return what, fix.format(name=name)
    return None


class Binary(Exception):
    """NUL bytes past a file's start that are scattered, not a hole."""


@dataclass
class Holes:
    """Runs of NUL bytes (holes) in the data, each turned into one HOLE line.

    The run becomes one ``\\x00`` byte with a line break before it when it
    cuts a line and after it when text follows at once, so the text on
    either side keeps its own line (the line after a crash's hole is a
    whole line, and counts). Line numbers after a hole that cuts a line are
    therefore one or two higher than in the file. The hole's bytes never
    pile up in memory, however long it is; ``extras`` keeps where the file
    holds more (or fewer) bytes than the data, so read positions stay the
    file's own.
    """

    open: bool = False  # the data so far ends in a hole, and the next NULs belong to it
    extras: list[tuple[int, int]] = field(default_factory=list)  # (data position, file bytes - data bytes)

    def fill(self, chunk: bytes, base: int, at_line_start: bool) -> bytes:
        """``chunk`` with its holes turned into HOLE lines, to follow ``base`` bytes of data.

        ``at_line_start``: whether the data so far ends a line (or there is none).

        Raises Binary when it looks binary (``looks_binary``): a file can
        turn to junk past its first bytes too.
        """
        if looks_binary(chunk):
            raise Binary
        runs = list(_NUL_RUN.finditer(chunk))
        out = bytearray()
        pos = 0
        for run in [*runs, None]:
            text = chunk[pos: run.start() if run else len(chunk)]
            if text:
                if self.open and not text.startswith(b"\n"):
                    self._add(out, b"\n", base, 0)
                self.open = False
                out += text
                at_line_start = text.endswith(b"\n")
            if run is None:
                break
            length = run.end() - run.start()
            if self.open:
                at = base + len(out)
                if self.extras and self.extras[-1][0] == at:  # one entry however many chunks it spans
                    length += self.extras.pop()[1]
                self.extras.append((at, length))
            else:
                if not at_line_start:
                    self._add(out, b"\n", base, 0)
                self._add(out, HOLE, base, length)
                self.open = True
            pos = run.end()
        return bytes(out)

    def _add(self, out: bytearray, data: bytes, base: int, file_bytes: int) -> None:
        out += data
        self.extras.append((base + len(out), file_bytes - len(data)))

    def drop(self, at: int, data_bytes: int) -> None:
        """The data after position ``at`` leaves (``data_bytes`` of it, and the file bytes its holes stood
        for), and so do the file bytes that follow it unread: read positions stay the file's own.

        For a line too long to keep whole (``sources.LINE_MAX``): its tail is dropped as it is read.
        """
        extra = data_bytes + sum(e for pos, e in self.extras if pos > at)
        self.extras = [(pos, e) for pos, e in self.extras if pos <= at]
        if self.extras and self.extras[-1][0] == at:
            extra += self.extras.pop()[1]
        self.extras.append((at, extra))
        self.open = False  # (a hole in the dropped tail ends with it)

    def take(self, size: int) -> int:
        """How many file bytes the first ``size`` bytes of data stand for; they leave the data."""
        if not self.extras:
            return size
        extra = sum(e for at, e in self.extras if at <= size)
        self.extras = [(at - size, e) for at, e in self.extras if at > size]
        return size + extra
