"""Atomic writes: complete file or nothing, no clobbering unless asked, never the input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mambaic.atomic import OutputExistsError, atomic_write


def test_writes_and_refuses_to_clobber(tmp_path):
    target = tmp_path / "out.mic"
    atomic_write(target, b"first")
    assert target.read_bytes() == b"first"
    with pytest.raises(OutputExistsError, match="already exists"):
        atomic_write(target, b"second")
    assert target.read_bytes() == b"first"
    atomic_write(target, b"second", overwrite=True)
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mic"]


def test_never_overwrites_a_protected_input(tmp_path):
    source = tmp_path / "in.png"
    source.write_bytes(b"precious")
    with pytest.raises(OutputExistsError, match="input"):
        atomic_write(source, b"x", overwrite=True, protect=[source])
    link = tmp_path / "alias.png"
    os.symlink(source, link)
    with pytest.raises(OutputExistsError, match="input"):
        atomic_write(link, b"x", overwrite=True, protect=[source])
    assert source.read_bytes() == b"precious"


@pytest.mark.parametrize("overwrite", [False, True])
def test_failure_leaves_nothing_behind(tmp_path, monkeypatch, overwrite):
    target = tmp_path / "out.mic"
    if overwrite:
        target.write_bytes(b"old")

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space"):
        atomic_write(target, b"new" * 1000, overwrite=overwrite)
    assert sorted(p.name for p in tmp_path.iterdir()) == (["out.mic"] if overwrite else [])
    if overwrite:
        assert target.read_bytes() == b"old"


def test_interrupt_leaves_nothing_behind(tmp_path, monkeypatch):
    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "out.mic", b"data")
    assert list(tmp_path.iterdir()) == []


def test_streams_are_written_through_links_refused(tmp_path):
    import stat
    import threading

    from mambaic.atomic import OutputKindError

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    atomic_write(fifo, b"through the pipe", overwrite=True)
    reader.join(timeout=30)
    assert received == [b"through the pipe"] and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    null = tmp_path / "null"  # a private /dev/null: a regression must not replace the real one
    try:
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        null = Path("/dev/null")  # without CAP_MKNOD the real one cannot be replaced either
    atomic_write(null, b"gone", overwrite=True)
    assert stat.S_ISCHR(os.lstat(null).st_mode)

    (tmp_path / "real").write_bytes(b"keep")
    os.symlink("real", tmp_path / "link")
    os.symlink("nowhere", tmp_path / "dangling")
    for link in ("link", "dangling"):
        with pytest.raises(OutputKindError, match="symbolic link"):
            atomic_write(tmp_path / link, b"x", overwrite=True)
        assert (tmp_path / link).is_symlink()
    assert (tmp_path / "real").read_bytes() == b"keep"
    with pytest.raises(OutputKindError, match="not a regular file"):
        atomic_write(tmp_path, b"x", overwrite=True)


def test_stale_temp_files_of_dead_processes_are_removed(tmp_path):
    """What ``kill -9`` during a write leaves behind goes with the next write to the folder."""
    import subprocess
    import sys

    from mambaic import atomic

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".photo.mic.{dead.pid}.0123456789ab{atomic.TEMP_SUFFIX}"
    live = tmp_path / f".photo.mic.{os.getppid()}.0123456789ab{atomic.TEMP_SUFFIX}"
    unrelated = tmp_path / f".photo.mic.{dead.pid}.tmp"
    for path in (stale, live, unrelated):
        path.write_bytes(b"partial")
    atomic_write(tmp_path / "other.mic", b"data")
    assert not stale.exists() and live.exists() and unrelated.exists()


def test_temp_file_names_carry_the_pid(tmp_path, monkeypatch):
    from mambaic import atomic

    seen: list[str] = []
    real_write = atomic._write_synced
    monkeypatch.setattr(atomic, "_write_synced",
                        lambda temp, data: (seen.append(temp.name), real_write(temp, data)))
    atomic_write(tmp_path / "out.mic", b"data")
    assert atomic._TEMP_NAME.match(seen[0]) and f".{os.getpid()}." in seen[0]
