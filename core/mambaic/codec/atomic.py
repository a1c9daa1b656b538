"""Write files so that readers see either nothing, the old file, or the complete new file.

The bytes go to a uniquely named temporary file in the destination's own directory (a rename is
only atomic within one file system), are fsynced, and are then moved into place; the directory is
fsynced so the rename itself survives a crash. Any failure — including Ctrl-C — removes the
temporary file and leaves the destination untouched.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path


class OutputExistsError(FileExistsError):
    """The destination exists and overwriting was not allowed (or it is one of the inputs)."""


def atomic_write(path: str | os.PathLike, data: bytes, *, overwrite: bool = False,
                 protect: Iterable[str | os.PathLike] = ()) -> Path:
    """Atomically create ``path`` with ``data``; returns the path written.

    ``overwrite=False`` refuses an existing destination, and does so atomically (a file created
    by someone else meanwhile is not replaced). Paths in ``protect`` (the inputs) are never
    replaced, even with ``overwrite=True``.
    """
    target = Path(path)
    for guarded in protect:
        if _same_file(target, Path(guarded)):
            raise OutputExistsError(f"{target}: refusing to overwrite the input file")
    if not overwrite and target.exists():
        raise OutputExistsError(f"{target}: already exists (use --force to overwrite)")
    temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    try:
        _write_synced(temp, data)
        if overwrite:
            os.replace(temp, target)
        else:
            _link_exclusive(temp, target)
        _sync_directory(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return target


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
