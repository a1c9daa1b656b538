"""Write files so that readers see either nothing, the old file, or the complete new file.

The bytes go to a temporary file in the destination's own directory (a rename is only atomic
within one file system), are fsynced, and are then moved into place; the directory is fsynced so
the rename itself survives a crash. Any failure — including Ctrl-C — removes the temporary file
and leaves the destination untouched.

Only regular files are replaced. A FIFO or a character device (``/dev/null``, a terminal,
``/dev/stdout`` when it is a pipe) is *written through*: renaming over it would swap the pipe or
device node for a regular file — as root, ``-o /dev/stdout --force`` would replace /dev/stdout. A
symbolic link to anything else is refused rather than replaced or followed: the link would be
lost, or a file elsewhere rewritten behind the user's back.

A process killed with ``kill -9`` cannot clean up, so temporary files are named
``.NAME.<pid>.<random>.mambaic-tmp``: the first write of a later process into the same folder
removes those whose process no longer exists.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path

TEMP_SUFFIX = ".mambaic-tmp"
_TEMP_NAME = re.compile(r"^\..+\.(\d+)\.[0-9a-f]{12}" + re.escape(TEMP_SUFFIX) + "$")
_swept: set[str] = set()
"""Folders whose stale temporary files this process already removed (once per folder is enough:
files of a dead process cannot appear later)."""


class OutputExistsError(FileExistsError):
    """The destination exists and overwriting was not allowed (or it is one of the inputs)."""


class OutputKindError(OutputExistsError):
    """The destination is neither a regular file nor a stream (FIFO, character device): a
    symbolic link, a folder, a block device or a socket, which are never replaced."""


def writes_through(path: str | os.PathLike) -> bool:
    """True when ``path`` is (or links to) a FIFO or a character device, written in place."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def check_target(path: str | os.PathLike, overwrite: bool) -> None:
    """Raise :class:`OutputExistsError` unless writing ``path`` is allowed; the CLI asks this
    before any work, and :func:`atomic_write` again when it writes."""
    target = Path(path)
    if writes_through(target):
        return
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode):
        raise OutputKindError(f"{target}: is a symbolic link; refusing to replace it "
                              "(name the file it points to instead)")
    if not stat.S_ISREG(mode):
        raise OutputKindError(f"{target}: is not a regular file; refusing to replace it")
    if not overwrite:
        raise OutputExistsError(f"{target}: already exists (use --force to overwrite)")


def atomic_write(path: str | os.PathLike, data: bytes, *, overwrite: bool = False,
                 protect: Iterable[str | os.PathLike] = ()) -> Path:
    """Atomically create ``path`` with ``data`` (or write through to a stream); returns the path.

    ``overwrite=False`` refuses an existing destination, and does so atomically (a file created
    by someone else meanwhile is not replaced). Paths in ``protect`` (the inputs) are never
    replaced, even with ``overwrite=True``. See the module docstring for FIFOs, devices, links.
    """
    target = Path(path)
    for guarded in protect:
        if _same_file(target, Path(guarded)):
            raise OutputExistsError(f"{target}: refusing to overwrite the input file")
    check_target(target, overwrite)
    if writes_through(target):
        _write_through(target, data)
        return target
    _sweep_stale(target.parent)
    temp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(6)}{TEMP_SUFFIX}")
    try:
        _write_synced(temp, data)
        if overwrite:
            check_target(target, overwrite)  # a link or folder that appeared meanwhile
            os.replace(temp, target)
        else:
            _link_exclusive(temp, target)
        _sync_directory(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return target


def _write_through(target: Path, data: bytes) -> None:
    """Write into an existing FIFO or character device; never creates or truncates a file."""
    fd = os.open(target, os.O_WRONLY | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "wb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):  # swapped after the check
            raise OutputKindError(f"{target}: changed while being opened; not written")
        handle.write(data)


def _sweep_stale(folder: Path) -> None:
    """Remove temporary files left in ``folder`` by processes that no longer exist."""
    key = os.path.abspath(folder)
    if key in _swept or os.name != "posix":
        return
    _swept.add(key)
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            match = _TEMP_NAME.match(entry.name)
            if match and entry.is_file(follow_symlinks=False) and not _alive(int(match[1])):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's process (or a pid we cannot test): keep its file
    return True


def _write_synced(temp: Path, data: bytes) -> None:
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _link_exclusive(temp: Path, target: Path) -> None:
    """Move ``temp`` to ``target`` only if ``target`` does not exist, without a race."""
    try:
        os.link(temp, target)  # fails if target exists; the finally clause removes temp
    except FileExistsError:
        raise OutputExistsError(f"{target}: already exists (use --force to overwrite)") from None
    except OSError:
        # File systems without hard links (FAT, some network shares): best effort instead.
        if target.exists():
            raise OutputExistsError(f"{target}: already exists (use --force to overwrite)") from None
        os.replace(temp, target)


def _sync_directory(directory: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False
