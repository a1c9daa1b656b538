"""The batch dialog on the window's real worker with the tiny model: rows, files, cancel, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication

import mambaic
from mambaic.eval.metrics import psnr
from mambaic_gui.batch_plan import Status


def _tiny_image(path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:64, 0:64]
    rgb = np.dstack([x * 4, y * 4, rng.integers(0, 256, (64, 64))]).astype(np.uint8)
    Image.fromarray(rgb).save(path)
    return path


def _drop(window, paths: list[Path]) -> None:
    """Drag `paths` over the window and drop them (Qt delivers a drop only after a drag enter)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, QDragEnterEvent(QPoint(10, 10), *args))
    QApplication.sendEvent(window, QDropEvent(QPointF(10, 10), *args))


def _run(qtbot, dialog, timeout: int = 60000) -> None:
    with qtbot.waitSignal(dialog.finished_batch, timeout=timeout):
        dialog.start()


def test_batch_codes_each_file_and_reports_honest_numbers(qtbot, window, tmp_path) -> None:
    a = _tiny_image(tmp_path / "a.png", 1)
    b = _tiny_image(tmp_path / "b.png", 2)
    (tmp_path / "b.mic").write_bytes(b"someone else's file")
    dialog = window.open_batch([a, b])
    assert dialog.quality_spin.value() == pytest.approx(window.quality.value())
    _run(qtbot, dialog)
    assert [r.status for r in dialog.rows] == [Status.DONE, Status.DONE]
    assert (tmp_path / "b.mic").read_bytes() == b"someone else's file"  # not overwritten
    codec = mambaic.load_codec(window.model.weights_path)
    for row, source, name in zip(dialog.rows, (a, b), ("a.mic", "b-1.mic")):
        outcome = row.outcome
        assert outcome.output == tmp_path / name
        data = outcome.output.read_bytes()
        assert outcome.num_bytes == len(data)
        assert outcome.bpp == pytest.approx(8 * len(data) / (64 * 64))
        decoded = np.asarray(codec.decompress(data).convert("RGB"))
        assert outcome.psnr == pytest.approx(psnr(np.asarray(Image.open(source).convert("RGB")),
                                                  decoded))
        assert outcome.seconds > 0
    assert dialog.table.item(1, 1).text() == "b-1.mic"
    dialog.copy_tsv()
    lines = QGuiApplication.clipboard().text().splitlines()
    assert len(lines) == 3 and lines[1].startswith("a.png\ta.mic\t")


def test_unreadable_file_errors_in_its_row_and_the_batch_goes_on(qtbot, window, tmp_path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png at all")
    good = _tiny_image(tmp_path / "good.png", 3)
    dialog = window.open_batch([bad, good])
    _run(qtbot, dialog)
    assert [r.status for r in dialog.rows] == [Status.FAILED, Status.DONE]
    assert dialog.rows[0].message
    assert dialog.table.item(0, 6).text().startswith("error: ")
    assert not (tmp_path / "broken.mic").exists() and (tmp_path / "good.mic").exists()
    assert "1 of 2 coded" in dialog.summary_label.text()


def test_cancel_leaves_no_partial_file_and_skips_the_rest(qtbot, window, large_photo,
                                                          tmp_path) -> None:
    later = _tiny_image(tmp_path / "later.png", 4)
    out = tmp_path / "out"
    out.mkdir()
    dialog = window.open_batch([large_photo, later])
    dialog.output_edit.setText(str(out))
    with qtbot.waitSignal(dialog.finished_batch, timeout=60000):
        dialog.start()
        qtbot.waitUntil(lambda: dialog.file_progress.value() > 0, timeout=30000)
        dialog.cancel()
    assert [r.status for r in dialog.rows] == [Status.CANCELLED, Status.CANCELLED]
    assert list(out.iterdir()) == []  # neither the .mic nor a temporary file
    assert dialog.table.item(1, 6).text() == "cancelled: not started"
    assert window.scheduler.is_idle()


def test_dropping_several_files_opens_the_batch_dialog(qtbot, window, tmp_path) -> None:
    paths = [_tiny_image(tmp_path / f"{n}.png", n) for n in (5, 6)]
    _drop(window, paths)
    assert window.batch_dialog is not None and window.batch_dialog.isVisible()
    assert [r.source.name for r in window.batch_dialog.rows] == ["5.png", "6.png"]
    assert window.document is None  # a multi-file drop opens nothing in the window


def test_dropped_folder_gives_sub_folders_only_when_ticked(qtbot, window, tmp_path) -> None:
    """A dropped folder lists its own images; "Include sub-folders" (off at first) scans the same
    folders again with what lies below, and unticking it takes those rows away again."""
    top = tmp_path / "shots"
    (top / "day2").mkdir(parents=True)
    _tiny_image(top / "a.png", 8)
    _tiny_image(top / "day2" / "b.png", 9)
    _drop(window, [top])
    dialog = window.batch_dialog
    assert not dialog.subfolders_check.isChecked()
    assert [r.source.name for r in dialog.rows] == ["a.png"]
    dialog.subfolders_check.setChecked(True)
    assert [r.source for r in dialog.rows] == [top / "a.png", top / "day2" / "b.png"]
    assert dialog.table.rowCount() == 2 and dialog.table.item(1, 1).text() == "b.mic"
    dialog.subfolders_check.setChecked(False)
    assert [r.source.name for r in dialog.rows] == ["a.png"]


def test_window_work_runs_between_batch_files(qtbot, window, large_photo, photo, tmp_path) -> None:
    """One job per file: an image opened during a batch runs before the batch's next file."""
    later = _tiny_image(tmp_path / "later.png", 7)
    dialog = window.open_batch([large_photo, later])
    dialog.output_edit.setText(str(tmp_path))
    dispatched: list[str] = []
    window.scheduler._dispatch.connect(lambda job: dispatched.append(job.kind))
    with qtbot.waitSignal(dialog.finished_batch, timeout=60000):
        dialog.start()
        qtbot.waitUntil(lambda: dialog.file_progress.value() > 0, timeout=30000)
        window.open_path(photo)
    assert dispatched[:3] == ["batch", "open", "batch"]
    assert [r.status for r in dialog.rows] == [Status.DONE, Status.DONE]
    qtbot.waitUntil(lambda: window.document is not None and window.scheduler.is_idle(),
                    timeout=60000)


def test_the_windows_cancel_stops_a_running_batch(qtbot, window, large_photo, tmp_path) -> None:
    """Esc / the status-bar Cancel (shown while the batch runs) stops the batch like the dialog's."""
    out = tmp_path / "out"
    out.mkdir()
    dialog = window.open_batch([large_photo])
    dialog.output_edit.setText(str(out))
    with qtbot.waitSignal(dialog.finished_batch, timeout=60000):
        dialog.start()
        qtbot.waitUntil(lambda: dialog.file_progress.value() > 0, timeout=30000)
        window.cancel()
    assert [r.status for r in dialog.rows] == [Status.CANCELLED]
    assert list(out.iterdir()) == [] and "Batch cancelled" in window.statusBar().currentMessage()
