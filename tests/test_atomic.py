"""Atomic writes: complete file or nothing, no clobbering unless asked, never the input."""

from __future__ import annotations

import os

import pytest

from mambaic.codec.atomic import OutputExistsError, atomic_write


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
