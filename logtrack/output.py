"""Writing what a user names as output, without replacing what is not ours to replace.

Writing a temporary file and renaming it over the target keeps a reader
from ever seeing half a document, but a rename replaces whatever the name
pointed at: ``-o /dev/null`` run as root would turn the device into a
regular file, a symlink would be replaced instead of its target written,
and a FIFO's reader would wait forever. So the rename is used only where it
is safe:

- ``-`` is standard output, and so are ``/dev/stdout`` and ``/dev/fd/1``:
  a name of a descriptor (``/dev/stderr``, ``/dev/fd/N``, ``/proc/self/fd/N``)
  is written through that descriptor, whatever it is (a pipe, a socket, a
  file opened for appending), never opened again by its name (a socket
  cannot be, and a file would be replaced or cut);
- a symlink is followed, and what it points at is what gets written;
- a device, FIFO or socket is written in place (opened, written, closed);
- a regular file is replaced by rename, keeping its mode and, where the
  process may set it, its owner; where it may not (a file of another user
  that we may still write), it is written in place instead, so its owner
  and mode stay;
- a new file gets the usual mode (0666 less the umask).

Every failure a person can cause (a missing directory, a directory named as
a file, no permission, a full disk) is an ``OutputError`` naming the path
and the fix, and no temporary file is left behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from . import leftovers
from .errors import OutputError

STDOUT = "-"


def write_file(path: str | Path, data: bytes | Iterable[bytes], *, example: str = "views.xml") -> None:
    """Write ``data`` to ``path`` (``-``: stdout) as described above; ``example``: a file name a directory's
    error suggests.

    ``data`` may come in pieces, each written as it comes, so that a large
    document is never whole in memory. A regular file replaced by rename
    then still shows nothing of it until all is written (an error midway
    leaves the file as it was); stdout, a descriptor, a device and a file
    written in place get the pieces before the error.
    """
    name = str(path)
    fd = descriptor(name)
    pieces = (data,) if isinstance(data, bytes) else data
    if name == STDOUT or fd == 1:
        try:
            for piece in pieces:
                sys.stdout.buffer.write(piece)
            sys.stdout.flush()
        except BrokenPipeError:
            raise  # its reader stopped (`| head`): the boundary says so
        except OSError as exc:  # a full disk under `> file`, a file system gone read-only: the user's to fix
            raise write_error("standard output" if name == STDOUT else name, exc) from None
        return
    if fd is not None:
        _write_descriptor(name, fd, pieces)
        return
    target = Path(os.path.realpath(name))
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise write_error(name, exc) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(f"cannot write {name}: it is a directory",
                          f"name a file, e.g. {os.path.join(name, example)}")
    if st is not None and not stat.S_ISREG(st.st_mode):
        _write_in_place(name, target, pieces)  # a device, FIFO or socket: never replaced
        return
    if not target.parent.is_dir():
        raise OutputError(f"cannot write {name}: the directory {target.parent} does not exist",
                          f"create it first (mkdir -p {target.parent}) or name another path")
    if st is not None and not _may_own(st):
        _write_in_place(name, target, pieces)  # the rename would make it ours; keep its owner
        return
    _replace(name, target, pieces, st)


def check(path: str | Path | None, *, example: str = "views.xml", inputs: Sequence[str] = (),
          kept: Sequence[tuple[str, str]] = ()) -> None:
    """Refuse, before any work, an output that cannot be written: a directory, or one in a missing directory;
    or one of the ``inputs``, the logs a command reads (``-o access.log``, a slip of the hand, put the XML in
    place of the log, every line of it lost); or one of the files logtrack keeps, ``kept`` (path, what it is:
    the config file, the state, which ``export -o state.db`` replaced with its own counts as XML)."""
    if path is None or str(path) == STDOUT or descriptor(str(path)) is not None:
        return
    target = Path(os.path.realpath(path))
    if target.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory",
                          f"name a file, e.g. {os.path.join(str(path), example)}")
    if not target.parent.is_dir():
        raise OutputError(f"cannot write {path}: the directory {target.parent} does not exist",
                          f"create it first (mkdir -p {target.parent}) or name another path")
    # (a device or FIFO is written in place, never replaced: `xml /dev/null -o /dev/null` replaces nothing)
    for name, what in [*((name, "a log read") for name in inputs), *kept] if target.is_file() else ():
        with contextlib.suppress(OSError):  # (an input gone or unreadable: not the output, and said when read)
            if os.path.samefile(target, name):
                raise OutputError(f"cannot write {path}: it is {name}, {what}, which the output would replace",
                                  f"name another file, e.g. {example}")


def write_into(directory: str | Path, filename: str, data: bytes) -> Path:
    """Write one file into ``directory``, made if it is missing (its parent must exist)."""
    folder = Path(directory)
    try:
        folder.mkdir(exist_ok=True)
    except FileNotFoundError:
        raise OutputError(f"cannot make the directory {folder}: {folder.parent} does not exist",
                          f"create it first (mkdir -p {folder.parent}) or name another directory") from None
    except FileExistsError:
        raise OutputError(f"cannot write into {folder}: it is not a directory",
                          "name a directory (it is made if missing)") from None
    except OSError as exc:
        raise write_error(str(folder), exc) from None
    if not folder.is_dir():
        raise OutputError(f"cannot write into {folder}: it is not a directory",
                          "name a directory (it is made if missing)")
    path = folder / filename
    write_file(path, data)
    return path


_DESCRIPTORS = {"/dev/stdout": 1, "/dev/stderr": 2}


def descriptor(name: str) -> int | None:
    """The descriptor a name stands for (``/dev/stdout``, ``/dev/fd/3``, ``/proc/self/fd/3``), else None."""
    if name in _DESCRIPTORS:
        return _DESCRIPTORS[name]
    for prefix in ("/dev/fd/", "/proc/self/fd/"):
        if name.startswith(prefix) and name[len(prefix):].isdigit():
            return int(name[len(prefix):])
    return None


def _write_descriptor(name: str, fd: int, pieces: Iterable[bytes]) -> None:
    """Write the pieces through the open descriptor ``fd`` (``name``: how the user named it)."""
    if fd == 2:
        sys.stderr.flush()
    try:
        for piece in pieces:
            view = memoryview(piece)
            while view:
                view = view[os.write(fd, view):]
    except BrokenPipeError:
        raise
    except OSError as exc:  # not open (EBADF: "/dev/fd/7" in a shell that opened no 7), a full disk, ...
        if exc.errno == errno.EBADF:
            raise OutputError(f"cannot write {name}: no such descriptor is open",
                              f"open it for writing in the shell ({fd}>FILE) or name a file") from None
        raise write_error(name, exc) from None


def _may_own(st: os.stat_result) -> bool:
    """Whether a file made by this process could take ``st``'s owner and group."""
    if os.geteuid() == 0:
        return True
    return st.st_uid == os.geteuid() and (st.st_gid == os.getegid() or st.st_gid in os.getgroups())


def _replace(name: str, target: Path, pieces: Iterable[bytes], st: os.stat_result | None) -> None:
    # (os.urandom, not secrets: the name only has to be unlikely, and secrets' imports cost 4 ms a start)
    tmp = target.with_name(f".{target.name}.{os.urandom(4).hex()}.tmp")
    try:
        fd = leftovers.new_file(tmp)  # (a stopped process removes it)
    except PermissionError:
        if st is not None:  # no right to add a file beside it: write the file itself, if we may
            _write_in_place(name, target, pieces)
            return
        raise write_error(name, PermissionError(errno.EACCES, os.strerror(errno.EACCES))) from None
    except OSError as exc:
        raise write_error(name, exc) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            for piece in pieces:
                fh.write(piece)
            fh.flush()
            os.fsync(fh.fileno())
            if st is not None:
                os.fchmod(fh.fileno(), stat.S_IMODE(st.st_mode))
                if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
                    os.fchown(fh.fileno(), st.st_uid, st.st_gid)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise write_error(name, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        leftovers.forget(tmp)


def _write_in_place(name: str, target: Path, pieces: Iterable[bytes]) -> None:
    try:
        with open(target, "wb") as fh:
            for piece in pieces:
                fh.write(piece)
    except OSError as exc:
        raise write_error(name, exc) from None


def write_error(name: str, exc: OSError) -> OutputError:
    """What failing to write ``name`` means to a person: the reason and its fix (exit 9, never "a bug")."""
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.EACCES, errno.EPERM):
        return OutputError(f"cannot write {name}: {reason}", "choose a path you may write, or run as its owner")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return OutputError(f"cannot write {name}: {reason}", "free some space, or write elsewhere")
    if exc.errno == errno.EROFS:
        return OutputError(f"cannot write {name}: {reason}", "write to a file system that is mounted read-write")
    return OutputError(f"cannot write {name}: {reason}", "check the path")
