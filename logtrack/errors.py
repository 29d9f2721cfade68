"""Errors and exit codes.

The library raises these; only the CLI boundary turns them into
``logtrack: error: ...`` and an exit code, so that library users get
exceptions they can catch and CLI users get one line that names the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes. Stable: cron jobs and logrotate hooks test them."""

    OK = 0
    ERROR = 1  # unexpected failure (a bug): rerun with --debug
    USAGE = 2  # bad command line (click uses 2 as well)
    CONFIG = 3  # the configuration is invalid
    INPUT = 4  # a log file could not be read or, with --strict, had bad lines
    INVALID_XML = 5  # a document failed XSD validation
    STATE = 6  # the state is busy (another run), made under other rules, or unusable
    UPLOAD = 7  # flexmls refused a document (400) or could not be reached: days stay pending
    AUTH = 8  # flexmls refused the API key (403)
    OUTPUT = 9  # an output (file, directory, port) cannot be written or used: the path or port is named
    STATE_STORAGE = 10  # the state database cannot be written (read-only, full, no permission) or is damaged


def shown(text: str) -> str:
    """Text from a user or a file, for a message, as written: its backslashes single (Python's repr doubles them,
    ``'%h \\\\"%r\\\\"'`` for httpd.conf's ``%h \\"%r\\"``: another string, and nginx's ``\\x22`` in a line as
    ``\\\\x22``, which no grep finds), and what a terminal would act on (a tab, an escape sequence) written out."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def quoted(text: str) -> str:
    """What a user wrote (a pattern, a log format), quoted in a message as written (``shown``); repr where a
    single quote in it needs another quote around it."""
    return f"'{shown(text)}'" if "'" not in text else repr(text)


def days_listed(days: Sequence[str]) -> str:
    """Days (YYYY-MM-DD) for a message, in the order given, each run of three or more that follow one another
    as its first and last ("2025-12-01 to 2026-11-30"): a year's backlog was 365 dates on one line of the
    summary, of the error that left them pending, and of ``status``. Every day is still said."""
    from datetime import date, timedelta

    parts: list[str] = []
    run: list[str] = []

    def close() -> None:
        parts.extend([f"{run[0]} to {run[-1]}"] if len(run) >= 3 else run)
        run.clear()

    for day in days:
        try:
            follows = bool(run) and date.fromisoformat(day) - date.fromisoformat(run[-1]) == timedelta(days=1)
        except ValueError:
            follows = False
        if not follows:
            close()
        run.append(day)
    close()
    return ", ".join(parts)


class LogtrackError(Exception):
    """Base of every error logtrack expects; carries its exit code.

    ``fix`` is the sentence telling the user what to do about it; the CLI
    prints it after the message. ``detail`` is shown below that line as it
    is (a pattern with a caret under the mistake).
    """

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, fix: str | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.message}; {self.fix}" if self.fix else self.message


class UsageError(LogtrackError):
    """A command-line value that cannot be right (a date that is none, a port in use)."""

    exit_code = ExitCode.USAGE


class ConfigError(LogtrackError):
    exit_code = ExitCode.CONFIG


class LogFormatError(ConfigError):
    """A log format string that cannot be compiled, or a file no format fits."""


class InputError(LogtrackError):
    exit_code = ExitCode.INPUT


class UnrecognisedError(InputError):
    """No log format fits a file (under ``auto``): that file's problem; the others are still counted."""


class VanishedError(InputError):
    """A listed file is gone when it is read: renamed (logrotate) or removed between the two."""


class XmlInvalidError(LogtrackError):
    exit_code = ExitCode.INVALID_XML


class StateError(LogtrackError):
    exit_code = ExitCode.STATE


class NoStateError(StateError):
    """There is no state there yet: nothing was ever run into it."""


class StateStorageError(StateError):
    """The state's file or file system fails: read-only, full, no permission, or damaged bytes."""

    exit_code = ExitCode.STATE_STORAGE


class OutputError(LogtrackError):
    exit_code = ExitCode.OUTPUT


class UploadError(LogtrackError):
    exit_code = ExitCode.UPLOAD


class UnreachableError(UploadError):
    """The endpoint did not answer, or kept failing after the retries: later days would fare no better."""


class AuthError(UploadError):
    exit_code = ExitCode.AUTH
