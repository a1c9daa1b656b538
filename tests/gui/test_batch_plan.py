"""The batch plan without Qt: which files a folder contributes, output names, the summary text."""

from __future__ import annotations

import math
from pathlib import Path

from mambaic_gui.batch_plan import (
    COLUMNS,
    FileOutcome,
    Status,
    collect_inputs,
    plan_rows,
    summary_tsv,
    totals,
    with_status,
)


def test_folder_gives_its_images_sorted_and_named_files_are_kept(tmp_path: Path) -> None:
    folder = tmp_path / "shots"
    folder.mkdir()
    for name in ("b.png", "a.JPG", "notes.txt", "old.mic"):
        (folder / name).write_bytes(b"x")
    (folder / "sub").mkdir()
    odd = tmp_path / "odd.xyz"
    odd.write_bytes(b"x")
    found = collect_inputs([folder, odd, folder / "b.png"])
    assert [p.name for p in found] == ["a.JPG", "b.png", "odd.xyz"]


def test_subfolders_are_scanned_only_when_asked(tmp_path: Path) -> None:
    """Off: the folder's own images only; on: every level below too, a folder's files first,
    and a link to a folder (here one back up the tree) is not followed."""
    top = tmp_path / "shots"
    for name in ("top.png", "b/deep/d.png", "b/c.jpg", "a/x.png", "a/notes.txt", "a/old.mic"):
        (top / name).parent.mkdir(parents=True, exist_ok=True)
        (top / name).write_bytes(b"x")
    (top / "b" / "loop").symlink_to(top, target_is_directory=True)
    assert [p.name for p in collect_inputs([top])] == ["top.png"]
    found = collect_inputs([top], subfolders=True)
    assert [p.relative_to(top).as_posix() for p in found] == ["top.png", "a/x.png", "b/c.jpg",
                                                              "b/deep/d.png"]


def test_outputs_never_collide_with_files_or_each_other(tmp_path: Path) -> None:
    (tmp_path / "photo.mic").write_bytes(b"old")
    (tmp_path / "photo-1.mic").write_bytes(b"old")
    sources = [tmp_path / "photo.png", tmp_path / "photo.jpg", tmp_path / "other.png"]
    rows = plan_rows(sources, None)
    assert [r.output.name for r in rows] == ["photo-2.mic", "photo-3.mic", "other.mic"]
    assert all(r.output.parent == tmp_path and r.status is Status.WAITING for r in rows)
    elsewhere = tmp_path / "out"
    assert [r.output for r in plan_rows(sources[:1], elsewhere)] == [elsewhere / "photo.mic"]


def test_summary_tsv_has_a_header_and_one_line_per_row(tmp_path: Path) -> None:
    done, failed, cancelled = plan_rows([tmp_path / "a.png", tmp_path / "b.png",
                                         tmp_path / "c.png"], None)
    done = with_status(done, Status.DONE, FileOutcome(tmp_path / "a.mic", 1234, 0.5, 31.256, 1.5))
    failed = with_status(failed, Status.FAILED, message="not an image")
    cancelled = with_status(cancelled, Status.CANCELLED, message="nothing written")
    lines = summary_tsv([done, failed, cancelled]).splitlines()
    assert lines[0].split("\t") == list(COLUMNS)
    assert lines[1].split("\t") == ["a.png", "a.mic", "1234", "0.5000", "31.26", "1.50", "done"]
    assert lines[2].split("\t")[-1] == "error: not an image"
    assert lines[3].split("\t")[1:6] == ["", "", "", "", ""]
    assert plan_rows([tmp_path / "a.png"], None)[0].cells()[1] == "a.mic"  # waiting: planned name
    assert totals([done, failed, cancelled]) == "1 of 3 coded (1,234 B in 1.5 s), 1 failed, 1 cancelled"


def test_identical_images_show_infinite_psnr(tmp_path: Path) -> None:
    row = with_status(plan_rows([tmp_path / "a.png"], None)[0], Status.DONE,
                      FileOutcome(tmp_path / "a.mic", 10, 1.0, math.inf, 0.1))
    assert row.cells()[4] == "inf"
