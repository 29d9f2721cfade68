"""Errors and exit codes.

The library raises these; only the CLI boundary turns them into
``logtrack: error: ...`` and an exit code, so that library users get
exceptions they can catch and CLI users get one line that names the fix.
"""

from __future__ import annotations

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


class LogtrackError(Exception):
    """Base of every error logtrack expects; carries its exit code.

    ``fix`` is the sentence telling the user what to do about it; the CLI
    prints it after the message.
    """

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message}; {self.fix}" if self.fix else self.message


class ConfigError(LogtrackError):
    exit_code = ExitCode.CONFIG


class LogFormatError(ConfigError):
    """A log format string that cannot be compiled, or a file no format fits."""


class InputError(LogtrackError):
    exit_code = ExitCode.INPUT


class XmlInvalidError(LogtrackError):
    exit_code = ExitCode.INVALID_XML


class StateError(LogtrackError):
    exit_code = ExitCode.STATE


class UploadError(LogtrackError):
    exit_code = ExitCode.UPLOAD


class AuthError(UploadError):
    exit_code = ExitCode.AUTH
