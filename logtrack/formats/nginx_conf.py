"""Read an nginx configuration: its log_format definitions and access_log files.

Follows ``include`` (globs, relative to the including file's directory and
then nginx's prefix, the directory of the main file), joins a log_format's
strings as nginx does, and knows the predefined ``combined`` format. Each
``access_log`` gives a path and the format it is written in; ``off``,
``syslog:`` and ``memory:`` targets are skipped. A path with variables
(``/var/log/nginx/$host.log``) becomes a glob.
"""

from __future__ import annotations

import glob
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from . import nginx
from .model import LogFormat

COMBINED = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent"'
)


@dataclass(frozen=True)
class AccessLog:
    path: str  # a file name or a glob
    format_name: str
    format: LogFormat
    where: str  # file:line of the access_log directive


@dataclass(frozen=True)
class _Directive:
    args: list[str]
    where: str
    block: tuple[int, ...] = ()  # the blocks it is in (http, server, location, ...), each by a number of its own
    opens: bool = False  # a block's opener (``server {``): ``block`` ends with the block it opens


@dataclass(frozen=True)
class Conf:
    """What an nginx configuration logs."""

    logs: list[AccessLog]  # the files to read, each with its format
    skipped: list[tuple[str, str, str]]  # access_log entries that name no file: (target, where, why)
    twins: dict[str, list[AccessLog]]  # a file read -> the others of its blocks, which hold its requests
    # where each server block is that names no access_log, in an http block that names none either: nginx
    # writes its requests to its built-in log (``BUILT_IN``), which the config does not name
    unlogged: list[str] = field(default_factory=list)


def read(path: Path) -> list[AccessLog]:
    """The access logs an nginx configuration writes, each with its format."""
    return read_all(path).logs


def read_all(path: Path) -> Conf:
    """The access logs, the access_log entries that name no file, and the files that repeat another's requests.

    nginx writes a request to every access_log of the block that serves it
    (one written in an inner block replaces the outer ones), so two files
    named in one block hold the same requests (a combined log and a JSON one
    for a shipper, say): counting both counts every view twice. The first
    is read; the others are left out and said so. Unless either has an
    ``if=``, which may send each request to one of them only.
    """
    directives = list(_directives(path, path.parent, depth=0, blocks=([], itertools.count(1))))
    templates: dict[str, str] = {"combined": COMBINED}
    escapes: dict[str, str] = {}  # each format's escape= (``nginx.ESCAPES``), where it says one
    for d in directives:
        if d.args[0] == "log_format" and not d.opens:
            if len(d.args) < 3:
                raise ConfigError(f"{d.where}: log_format needs a name and a format")
            strings = [a for a in d.args[2:] if not a.startswith("escape=")]
            templates[d.args[1]] = "".join(strings)
            if d.args[2].startswith("escape="):
                try:
                    escapes[d.args[1]] = nginx.escape_mode(d.args[2])
                except ConfigError as exc:
                    raise ConfigError(f"{d.where}: log_format {d.args[1]}: {exc.message}", exc.fix) from None
    logs: list[AccessLog] = []
    skipped: list[tuple[str, str, str]] = []
    twins: dict[str, list[AccessLog]] = {}
    seen: set[str] = set()
    first_of_block: dict[tuple[int, ...], AccessLog | None] = {}  # None: one with an if= is among them
    for d in directives:
        if d.opens or d.args[0] != "access_log" or len(d.args) < 2:
            continue
        target = d.args[1]
        if target == "off":
            skipped.append((target, d.where, "access_log off"))
            continue
        if target.startswith(("syslog:", "memory:")):
            skipped.append((target, d.where, "not a file, nothing to read"))
            continue
        name = d.args[2] if len(d.args) > 2 and "=" not in d.args[2] else "combined"
        if name not in templates:
            raise ConfigError(
                f"{d.where}: access_log {target} uses log_format {name!r}, which is not defined",
                "define it with log_format before use, or check the name",
            )
        pattern = re.sub(r"\$\{?[A-Za-z0-9_]+\}?", "*", target)
        if not Path(pattern).is_absolute():
            pattern = str(path.parent / pattern)
        try:
            fmt = nginx.compile_any(templates[name], name, escape=escapes.get(name, "default"))
        except ConfigError as exc:
            raise ConfigError(f"{d.where}: log_format {name}: {exc}") from None
        log = AccessLog(pattern, name, fmt, d.where)
        conditional = any(a.startswith("if=") for a in d.args[2:])
        if d.block in first_of_block:
            kept = first_of_block[d.block]
            if kept is not None and not conditional:
                others = twins.setdefault(kept.path, [])
                if kept.path != pattern and all(other.path != pattern for other in others):  # (another block's: once)
                    others.append(log)
                continue
            first_of_block[d.block] = None
        else:
            first_of_block[d.block] = None if conditional else log
        if pattern in seen:
            continue
        seen.add(pattern)
        logs.append(log)
    return Conf(logs, skipped, twins, _unlogged(directives))


# nginx's own access log, where a server that names none (nor its http block) writes, in the combined format: its
# --http-log-path (``nginx -V``), /var/log/nginx/access.log as Debian, Ubuntu, Fedora, Alpine and nginx.org build it
BUILT_IN = "/var/log/nginx/access.log"


def _unlogged(directives: list[_Directive]) -> list[str]:
    """Where each server block of an http block is that names no access_log, when the http block names none."""
    kinds = {d.block[-1]: d.args[0] for d in directives if d.opens}
    logged = {d.block for d in directives if not d.opens and d.args[0] == "access_log"}
    return [d.where for d in directives
            if d.opens and d.args[0] == "server" and len(d.block) >= 2 and kinds.get(d.block[-2]) == "http"
            and d.block not in logged and d.block[:-1] not in logged]


def _directives(path: Path, prefix: Path, depth: int,
                blocks: tuple[list[int], Iterator[int]], at: str | None = None) -> list[_Directive]:
    """The statements of ``path`` and of what it includes, in order, each with the blocks it is in.

    ``blocks``: the blocks open where ``path`` is read (an included file's
    statements are in the block of its ``include``), and the numbers new
    blocks take. ``at``: the ``include`` that names it (file:line).
    """
    if depth > 20:
        raise ConfigError(f"{at}: include {path} nests includes more than 20 deep: an include loop?",
                          "include no file from itself or from a file it includes (`nginx -t` says the same)")
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ConfigError(f"cannot read nginx config {path}: {exc.strerror}") from None
    open_, numbers = blocks
    out: list[_Directive] = []
    for args, line, end in _statements(text, str(path)):
        where = f"{path}:{line}"
        if end == "}":
            open_.pop()  # (each file's braces balance: ``_statements`` refuses one whose do not)
        elif end == "{":
            open_.append(next(numbers))
            out.append(_Directive(args, where, tuple(open_), opens=True))
        elif args[0] == "include" and len(args) == 2:
            pattern = args[1] if Path(args[1]).is_absolute() else str(prefix / args[1])
            found = sorted(glob.glob(pattern))
            if not found and not glob.has_magic(args[1]):  # (as nginx: a pattern may match nothing, a file not)
                raise ConfigError(f"{where}: include {pattern}: no such file, which nginx refuses too (the "
                                  "directives in it would be missed: its access_log, its log_format)",
                                  "copy the file beside the config as the server has it, or name the logs as "
                                  "paths instead of --nginx-conf")
            for included in found:
                out.extend(_directives(Path(included), prefix, depth + 1, blocks, where))
        else:
            out.append(_Directive(args, where, tuple(open_)))
    return out


def _statements(text: str, name: str) -> list[tuple[list[str], int, str]]:
    """Split nginx config text into statements (their words) with line numbers, and what ends each.

    A block's opener (``server {``) ends with ``{``, its end is a statement
    of no words ending with ``}``, any other with ``;``. Words are read as nginx's own
    reader does: a quote opens a string only at a word's start (inside a
    word it is the word's), and a backslash makes the next character the
    word's, a space or a ``;`` too, copied as nginx copies it.
    """
    statements: list[tuple[list[str], int, str]] = []
    words: list[str] = []
    word: list[str] = []
    start_line = line = 1
    i, n = 0, len(text)
    in_word = False
    opened: list[tuple[str, int]] = []  # the blocks open: their directive and its line

    def end_word() -> None:
        nonlocal in_word
        if in_word:
            words.append("".join(word))
            word.clear()
            in_word = False

    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
        if c in "\"'" and not in_word:  # (a quote inside a word is the word's: nginx writes it)
            quote, j = c, i + 1
            buf: list[str] = []
            while j < n and text[j] != quote:
                if text[j] == "\\" and j + 1 < n:  # as nginx reads it: \t a tab, \" a quote, ...
                    buf.append(nginx.unescape(text[j:j + 2]))
                    j += 2
                    continue
                if text[j] == "\n":
                    line += 1
                buf.append(text[j])
                j += 1
            if j >= n:
                raise ConfigError(f"{name}:{line}: unterminated quoted string")
            if not words and not in_word:
                start_line = line
            word.extend(buf)
            in_word = True
            i = j + 1
            continue
        if c == "#" and not in_word:
            while i < n and text[i] != "\n":
                i += 1
            continue
        if c == "\\" and i + 1 < n:  # the next character is the word's, whatever it is (a space, a ";")
            if not words and not in_word:
                start_line = line
            word.append(nginx.unescape(text[i:i + 2]))  # as nginx copies it: \t a tab, \" a quote, \x kept
            in_word = True
            line += text[i + 1] == "\n"
            i += 2
            continue
        if c.isspace():
            end_word()
        elif in_word and (c == "}" or (c == "{" and word[-1] == "$")):
            # (as nginx reads a word: ``${host}`` is a variable, not a block; a ``}`` ends a block only where a
            # word would begin: access_log /var/log/nginx/${host}_access.log was read as a block, its log lost)
            word.append(c)
        elif c in ";{}":
            end_word()
            if words:
                statements.append((words, start_line, "{" if c == "{" else ";"))
            if c == "{":
                opened.append((words[0] if words else "{", start_line if words else line))
            if c == "}":
                if not opened:
                    raise ConfigError(f"{name}:{line}: unexpected \"}}\": it closes no block", _CHECK)
                opened.pop()
                statements.append(([], line, c))
            words = []
        else:
            if not words and not in_word:
                start_line = line
            word.append(c)
            in_word = True
        i += 1
    end_word()
    if words:
        raise ConfigError(f"{name}:{start_line}: unexpected end of file: {words[0]} has no \";\"", _CHECK)
    if opened:
        what, at = opened[-1]
        raise ConfigError(f"{name}:{at}: unexpected end of file: the {what} block has no \"}}\"", _CHECK)
    return statements


# (nginx itself refuses such a file, and logtrack would read the directives around the mistake wrongly)
_CHECK = "mend the file (`nginx -t` says the same), or name the logs and --format instead of --nginx-conf"
