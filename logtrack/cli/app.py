"""The Typer app, the options its commands share, and the error boundary.

``boundary`` is the only place where errors become ``logtrack: error: ...``
and an exit code. The commands are in ``preview``, ``report`` and
``unattended``; ``main`` registers them all and is the console script.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .. import __version__
from .. import config as config_mod
from ..config import Config
from ..errors import ExitCode, InputError, LogtrackError, OutputError, StateError, UsageError
from ..formats import LogFormat
from ..jobs.report import summary_lines
from ..output import write_error
from ..read.files import shortened
from ..read.inputs import AUTO, Hooks
from ..state.locate import Location, parse
from . import signals
from .progress import progress_bar

if TYPE_CHECKING:
    from ..jobs import preview

app = typer.Typer(
    name="logtrack",
    help="Count listing-detail views in nginx/Apache access logs and write flexmls ViewTracking XML.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion and --show-completion for bash, zsh, fish
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_state = {"debug": False}


# Characters a terminal acts on (an escape sequence clears the screen, a carriage return overwrites the
# line), shown as \xNN: a message names files and quotes lines, and a file may be named or a line written
# with them, line breaks too (``_stderr``). Tabs stay.
_ALL_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_CONTROLS = {c: shown for c, shown in _ALL_CONTROLS.items() if c != 0x09}


def _stderr(message: str) -> None:
    """One message, one line: a line break in a file's name (any byte but / and NUL may be in one) is shown as
    \\x0a, not as a line that starts with the rest of the name. A message of several lines prints each itself."""
    print(message.translate(_CONTROLS), file=sys.stderr)


def one_line(text: str) -> str:
    """A value from a log line, shown on a line of its own: every control escaped, tabs and line breaks too
    (a JSON log's fields are decoded, and a client may have sent any of them)."""
    return text.translate(_ALL_CONTROLS)


@contextmanager
def boundary() -> Iterator[None]:
    """Turn library errors into one line on stderr and an exit code."""
    try:
        yield
    except LogtrackError as exc:
        if _state["debug"]:  # the traceback too, and still the error's own exit code: exit 1 is a bug's
            traceback.print_exc()
        _stderr(f"logtrack: error: {exc}")
        if exc.detail:
            for line in exc.detail.splitlines():
                _stderr(line)
        raise typer.Exit(int(exc.exit_code)) from None
    except KeyboardInterrupt:
        if not signals.ending():  # (the watcher found this thread stuck, and is ending the process itself)
            threading.Event().wait()
        code, said = signals.INTERRUPTED
        _stderr(f"logtrack: error: {said}")
        raise typer.Exit(code) from None
    except BrokenPipeError:
        # stdout's reader stopped early (`| head`): no bug, and nothing more can go there
        _stdout_to_devnull()
        _stderr("logtrack: error: stdout was closed before everything was written (its reader stopped)")
        raise typer.Exit(int(ExitCode.OUTPUT)) from None
    except Exception as exc:
        if (error := stdout_error(exc) or _name_error(exc)) is not None:
            if _state["debug"]:
                traceback.print_exc()
            _stderr(f"logtrack: error: {error}")
            raise typer.Exit(int(error.exit_code)) from None
        if _state["debug"]:
            raise
        _stderr(
            f"logtrack: error: unexpected {type(exc).__name__}: {exc}; "
            "this is a bug, please report it with the output of --debug"
        )
        raise typer.Exit(int(ExitCode.ERROR)) from None


# What writing to a full or read-only file system raises. Every file logtrack writes itself turns these into
# an OutputError naming the file (``output``), and the state into a StateError: one that reaches the boundary
# as it is, with no file named, came from a stream that print() and Typer write to.
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


def _name_error(exc: BaseException) -> UsageError | None:
    """A path too long for the file system, given as a log, config, state or output: the user's to shorten.

    Every such name comes from the command line or the config, and any
    look at it (``exists``, ``is_dir``, ``stat``) raises, wherever it is
    first looked at; said here once rather than at each of those places.
    """
    if not isinstance(exc, OSError) or exc.errno != errno.ENAMETOOLONG or exc.filename is None:
        return None
    return UsageError(f"{shortened(os.fsdecode(exc.filename))}: {exc.strerror}", "check the path")


def stdout_error(exc: BaseException) -> OutputError | None:
    """The user's mistake behind ``exc`` if it is stdout's (`> file` on a full disk), else None.

    stdout is then pointed at /dev/null: what is left in its buffer goes
    nowhere, and the exit's own flush does not fail a second time.
    """
    if not isinstance(exc, OSError) or exc.filename is not None or exc.errno not in _FULL:
        return None
    _stdout_to_devnull()
    return write_error("standard output", exc)


def _stdout_to_devnull() -> None:
    """Point stdout at /dev/null once it cannot be written: Python's own flush at exit would fail again."""
    with contextlib.suppress(OSError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _version(value: bool) -> None:
    if value:
        print(f"logtrack {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Count listing-detail views in access logs and write flexmls ViewTracking XML.

    Example: logtrack xml /var/log/nginx --config logtrack.toml -o views.xml
    """
    _state["debug"] = debug


ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="TOML config file (see `logtrack init`).")
]
FormatOpt = Annotated[
    str | None,
    typer.Option("--format", "-f", help="auto, combined, common, vhost_combined, or an Apache LogFormat."),
]
TimezoneOpt = Annotated[
    str | None, typer.Option("--timezone", help="IANA time zone for day boundaries, e.g. America/Chicago.")
]
PatternOpt = Annotated[
    list[str] | None,
    typer.Option("--listing-pattern", help="Regex with a group (?P<id>...); repeatable; replaces the config's."),
]
SupplierOpt = Annotated[
    list[str] | None,
    typer.Option("--supplier", help="NAME=DOMAIN[,DOMAIN]; repeatable; replaces the config's rules."),
]
StrictOpt = Annotated[
    bool, typer.Option("--strict", help="Fail on the first line that does not parse, naming file and line.")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No summary on stderr.")]
PathsArg = Annotated[
    list[str] | None,
    typer.Argument(help="Log files, directories, globs, or - for stdin (none with --nginx-conf)."),
]


OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write here instead of stdout (a device, FIFO or symlink's target "
                 "is written in place; a file keeps its owner and mode)."),
]
NginxConfOpt = Annotated[
    Path | None,
    typer.Option("--nginx-conf", help="Read log formats and access_log paths from this nginx config."),
]


def _config(
    path: Path | None,
    fmt: str | None,
    timezone: str | None,
    patterns: list[str] | None,
    suppliers: list[str] | None,
    nginx_conf: Path | None = None,
    check_patterns: bool = True,
) -> Config:
    found = config_mod.find(path, os.environ)
    return config_mod.load(found, check_patterns=check_patterns).with_overrides(
        format=fmt,
        timezone=timezone,
        nginx_conf=str(nginx_conf) if nginx_conf else None,
        patterns=patterns or (),
        suppliers=suppliers or (),
    )


def _state_location(cli_value: str | None, cfg: Config) -> Location:
    """Where the state is: --state, then [state] url or path, then the default for the user.

    A PostgreSQL state keeps its local files (documents flexmls refused) in
    the directory the SQLite default would be in.
    """
    if cli_value:
        where = parse(cli_value, "--state")
    elif cfg.settings.state_url:
        where = parse(cfg.settings.state_url, f"{cfg.source}: [state] url")
    elif cfg.settings.state_path:
        where = Location(path=Path(cfg.settings.state_path))
    else:
        where = Location(path=_default_path())
    return replace(where, local_dir=_default_path().parent) if where.url else where


def _default_path() -> Path:
    if os.geteuid() == 0:
        return Path("/var/lib/logtrack/state.db")
    base = os.environ.get("XDG_DATA_HOME")
    if not base:
        if (home := config_mod.user_home(os.environ)) is None:
            raise StateError(f"no place for the state: HOME is not set, and this user (ID {os.geteuid()}) has no "
                             "home in the password database", "set [state] path in the config, or pass --state "
                             "(or set HOME)")
        base = str(home / ".local" / "share")
    return Path(base) / "logtrack" / "state.db"


def _kept(cfg: Config, state: str | None = None) -> list[tuple[str, str]]:
    """The files logtrack keeps for this config, each with what it is: no output may replace one
    (``output.check``). The state's own files are named whether or not this command opens it: ``xml -o``
    with the state's name lost its history as surely as ``export -o`` did."""
    kept = cfg.own_files()
    with contextlib.suppress(LogtrackError):  # (no place for a state: then there is none to keep)
        kept += _state_location(state, cfg).own_files()
    return kept


def _logs_read(cfg: Config, paths: list[str]) -> list[str]:
    """The files a count of ``paths`` reads: an output must not be one of them (``output.check``)."""
    from ..read.inputs import plan

    return [item.name for item in plan(cfg, paths)[0]]


def _count(cfg: Config, paths: list[str], strict: bool, quiet: bool) -> preview.Result:
    """Run the count with the summary, warnings and progress bar on stderr."""
    from ..jobs import preview

    def chosen(name: str, fmt: LogFormat) -> None:
        if not quiet and (cfg.rules.format == AUTO or cfg.settings.nginx_conf):
            _stderr(f"logtrack: {name}: format {fmt.name}")

    def warning(message: str) -> None:
        _stderr(f"logtrack: warning: {message}")

    _say_config(cfg, quiet)
    with progress_bar(enabled=not quiet and sys.stderr.isatty()) as bar:
        hooks = Hooks(on_plan=bar.start, on_format=chosen, on_warning=warning, on_progress=bar.advance,
                      on_file_done=bar.done)
        result = preview.count(cfg, paths, strict=strict, hooks=hooks, leave_out=[name for name, _ in _kept(cfg)])
    if not quiet:
        for line in summary_lines(result.tally, result.files, width=_width()):
            _stderr(line)
    return result


def _width() -> int | None:
    """The terminal's columns when stderr is one (the summary then wraps between items), else None."""
    if not sys.stderr.isatty():
        return None
    import shutil

    return max(shutil.get_terminal_size().columns, 40)


def _say_config(cfg: Config, quiet: bool = False) -> None:
    """Name the config file the run used, so that a found-by-default file is no surprise (not with
    ``quiet``); and warn of what it holds that is most likely not meant (even so)."""
    if cfg.source != config_mod.DEFAULTS and not quiet:
        _stderr(f"logtrack: config {cfg.source}")
    for doubt in cfg.doubts():
        _stderr(f"logtrack: warning: {doubt}")


def _fail_if_partial(result: preview.Result) -> None:
    """Output was written; still say, by exit code, that some input was not read, or not rightly."""
    if result.problems:
        n = len(result.problems)
        raise InputError(
            f"{n} input{'s' if n != 1 else ''} could not be read in full (see the warnings above); "
            "the counts leave out what was not read"
        )
    fail_if_suspect(result.suspect)


def fail_if_suspect(suspect: list[str]) -> None:
    """Exit 4 when a file's lines were mostly skipped as damaged: likely a wrong format, never a quiet 0."""
    if suspect:
        n = len(suspect)
        raise InputError(
            f"{n} file{'s' if n != 1 else ''} had most of {'their' if n != 1 else 'its'} lines skipped as damaged "
            "(see the warnings above); the counts from them are probably wrong",
            "each warning names what its file most likely holds and the fix (most often: set [logs] format, or "
            "--format, to the format the server writes), or leave the file out",
        )
