"""The stateless commands: ``xml`` (the preview a dry run shows), ``explain``, ``validate``, ``init``."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand

from ..errors import InputError, OutputError, quoted
from ..output import STDOUT, write_file
from ..output import check as check_output
from .app import (
    ConfigOpt,
    FormatOpt,
    NginxConfOpt,
    OutputOpt,
    PathsArg,
    PatternOpt,
    QuietOpt,
    StrictOpt,
    SupplierOpt,
    TimezoneOpt,
    _config,
    _count,
    _fail_if_partial,
    _kept,
    _logs_read,
    _stderr,
    app,
    boundary,
    one_line,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..jobs.preview import Explanation


@app.command()
def xml(
    paths: PathsArg = None,
    config: ConfigOpt = None,
    output: OutputOpt = None,
    xsd: Annotated[Path | None, typer.Option("--xsd", help="Validate the output against this XSD.")] = None,
    format: FormatOpt = None,
    timezone: TimezoneOpt = None,
    listing_pattern: PatternOpt = None,
    supplier: SupplierOpt = None,
    strict: StrictOpt = False,
    quiet: QuietOpt = False,
    nginx_conf: NginxConfOpt = None,
) -> None:
    """Read access logs and write ViewTracking XML (a preview; nothing is uploaded).

    Example: logtrack xml sample_logs/ --config sample_logs/logtrack.toml -o views.xml
    """
    with boundary():
        cfg = _config(config, format, timezone, listing_pattern, supplier, nginx_conf)
        if output:  # (before an hour of reading)
            check_output(output, inputs=_logs_read(cfg, paths or []), kept=_kept(cfg))
        if cfg.settings.namespace:  # (without one, lxml is loaded only at the end, off every run's start)
            from ..flexmls import viewtracking

            viewtracking.empty_root(cfg)  # a namespace lxml refuses, said before the reading too
        result = _count(cfg, paths or [], strict, quiet)
        from ..flexmls import viewtracking

        if xsd is None:
            # written one View at a time as each is made and checked against the shipped XSD where it is the
            # document's: whole, a year's document (500 MB) was held on top of its counts. A View the XSD
            # refuses is a bug (the counts make valid Views); a file it would have replaced is left as it was.
            document: bytes | Iterator[bytes] = viewtracking.chunks(result.counts, cfg,
                                                                     check=not cfg.settings.namespace)
        else:  # a user's XSD may constrain across Views: the whole tree
            document = viewtracking.document(viewtracking.build_tree(result.counts, cfg), check=True, xsd=xsd)
        write_file(output or STDOUT, document)
        _fail_if_partial(result)


class _LineCommand(TyperCommand):
    """A command whose argument is a log line: a line that starts with ``-`` is that line, not an option.

    nginx writes ``-`` for a variable with no value, so a format that
    starts with ``$http_x_forwarded_for`` logs lines such as
    ``- - - [01/Nov/2026:...] "GET ..."``. Click would read one as an
    unknown option ("No such option: - "). An option is one word, so a
    word that starts with ``-`` and holds a space, and is not the value
    of the option before it, is the line: it goes last, after a ``--``.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # (ctx: the Click context typer vendors)
        takes_value = {name for param in self.params
                       if param.param_type_name == "option" and not getattr(param, "is_flag", False)
                       for name in param.opts}
        for i, arg in enumerate(args):
            if arg == "--":
                break
            if arg.startswith("-") and any(c.isspace() for c in arg) and (i == 0 or args[i - 1] not in takes_value):
                args = [*args[:i], *args[i + 1:], "--", arg]  # (options after it are still options)
                break
        return super().parse_args(ctx, args)


@app.command(cls=_LineCommand)
def explain(
    line: Annotated[str, typer.Argument(help="One line copied from an access log (several: each in turn), or - "
                                              "to explain each line of stdin in turn.")],
    config: ConfigOpt = None,
    format: FormatOpt = None,
    timezone: TimezoneOpt = None,
    listing_pattern: PatternOpt = None,
    supplier: SupplierOpt = None,
) -> None:
    """Show how one log line is parsed and classified, and why it counts or not.

    Example: logtrack explain "$(tail -n 1 /var/log/nginx/access.log)" -c logtrack.toml

    Example: grep 20231234 access.log | logtrack explain - -c logtrack.toml
    """
    with boundary():
        cfg = _config(config, format, timezone, listing_pattern, supplier)
        cfg.require_patterns()
        from ..jobs import preview

        # (os.fsencode: the line's bytes as the shell passed them, a line not UTF-8 with them)
        data = os.fsencode(line).rstrip(b"\r\n")
        if b"\n" not in data and line != "-":
            explained = preview.explain(cfg, data)
            if not explained.counted and " " not in line and os.path.isfile(line):
                # (the name of a log where a line of it was meant: "does not match the log format", and why not)
                _warning(f"{quoted(line)} is a file's name, explained here as a log line; to explain the file's "
                         f"lines: logtrack explain - < {shlex.quote(line)}, or tail -n 5 {shlex.quote(line)} | "
                         "logtrack explain -")
            _show(explained)
            return
        # each line of stdin, or of a word that holds several ("$(tail -n 3 access.log)")
        found = preview.explain_lines(cfg, warn=_warning) if line == "-" else \
            preview.explain_data(cfg, data, "the lines")
        for n, ex in enumerate(found, 1):
            if n > 1:
                print()
            print(f"{'line:':<12}{n}")
            _show(ex)


def _warning(message: str) -> None:
    _stderr(f"logtrack: warning: {message}")


def _show(ex: Explanation) -> None:
    print(f"{'format:':<12}{one_line(ex.format)}")
    for key, value in ex.fields.items():
        shown = "(Other)" if key == "supplier" and value == "" else value
        print(f"{key + ':':<12}{'-' if shown is None else one_line(str(shown))}")
    if ex.counted:
        print(f"{'verdict:':<12}counted as a view of listing {one_line(str(ex.fields['listing']))} on {ex.day}")
    else:
        print(f"{'verdict:':<12}not counted: {ex.reason}")
    if ex.why:
        print(f"{'why:':<12}{one_line(ex.why)}")


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="A ViewTracking XML document.")],
    xsd: Annotated[Path | None, typer.Option("--xsd", help="Schema to use instead of the shipped one.")] = None,
) -> None:
    """Validate a ViewTracking document against the shipped XSD or a given one.

    Example: logtrack validate views.xml --xsd ViewTracking-official.xsd
    """
    with boundary():
        try:
            document = file.read_bytes()
        except OSError as exc:
            raise InputError(f"{file}: cannot read: {exc.strerror}") from None
        from ..flexmls import viewtracking

        viewtracking.validate(document, str(file), xsd)
        print(f"{file}: valid")


@app.command()
def init(
    where: Annotated[str, typer.Argument(
        help="Where to write the config (a directory, or a name ending in /: logtrack.toml in it).")] = "logtrack.toml",
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter config to edit.

    Example: logtrack init /etc/logtrack.toml
    """
    with boundary():
        path = Path(where)
        if path.is_dir() or where.endswith("/"):
            path = path / "logtrack.toml"
        if path.exists() and not force:
            raise OutputError(f"{path} already exists", "pass --force to overwrite it")
        from importlib import resources  # (here: its import is some 6 ms of every other command's start)

        write_file(path, resources.files("logtrack").joinpath("starter.toml").read_bytes())
        print(f"wrote {path}; edit [listings] patterns and [[suppliers]], then run: "
              f"logtrack explain '<a log line>' --config {path}")
