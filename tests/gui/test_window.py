"""Window features around the codec: settings, recent files, shortcuts, About, RD chart, errors."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import QDialog

from mambaic_gui.views.compare import ViewMode


def test_layout_and_settings_survive_a_restart(make_window, photo, wait_result, qtbot):
    first = make_window()
    first.resize(first.minimumSizeHint().expandedTo(first.size()) - QSize(3, 7))
    first.compare.set_mode(ViewMode.HEATMAP)
    first.quality.set_value(2.25, commit=True)
    first.open_path(photo)
    wait_result(first)
    size = (first.width(), first.height())
    first.close()
    second = make_window()
    assert second.compare.mode == ViewMode.HEATMAP
    assert second.quality.value() == 2.25
    assert (second.width(), second.height()) == size
    assert second.settings.recent_files() == [str(photo)]
    recent = second.commands.recent_menu.actions()
    assert [a.text() for a in recent] == ["photo.png"]
    recent[0].trigger()
    wait_result(second, 2.25)


def test_missing_weights_fall_back_to_the_shipped_ones(make_window, tmp_path, tiny_weights,
                                                        monkeypatch, qtbot):
    monkeypatch.setenv("MAMBAIC_WEIGHTS", str(tiny_weights))  # stands in for the shipped weights
    window = make_window(tmp_path / "nope.safetensors")
    qtbot.waitUntil(lambda: window.model is not None, timeout=30000)
    assert window.last_error.title == "Model weights problem" and window.error_dialog.isVisible()
    assert window.model.weights_path == str(tiny_weights)


def test_without_any_model_images_still_open(make_window, tmp_path, photo, monkeypatch, qtbot):
    monkeypatch.setenv("MAMBAIC_WEIGHTS", str(tmp_path / "gone.safetensors"))
    window = make_window(tmp_path / "nope.safetensors")
    qtbot.waitUntil(window.scheduler.is_idle, timeout=30000)
    assert window.model is None and window.device_label.text() == "no model"
    window.open_path(photo)  # the image is still shown; encoding says why it cannot run
    qtbot.waitUntil(lambda: window.document is not None and window.scheduler.is_idle())
    assert window.compare.original.has_image()
    assert "no model is loaded" in window.last_error.message


def test_shortcuts(window):
    a = window.commands
    expected = {a.open: QKeySequence.StandardKey.Open, a.save_mic: QKeySequence.StandardKey.Save,
                a.paste: QKeySequence.StandardKey.Paste, a.zoom_in: QKeySequence.StandardKey.ZoomIn}
    for action, key in expected.items():
        assert action.shortcut() == QKeySequence(key)
    assert a.fit.shortcut().toString() == "Ctrl+0"
    assert a.actual_size.shortcut().toString() == "Ctrl+1"
    assert a.cycle_mode.shortcut().toString() == "V"
    assert (a.quality_down.shortcut().toString(), a.quality_up.shortcut().toString()) == ("[", "]")
    shortcuts = [act.shortcut().toString() for act in a.all() if not act.shortcut().isEmpty()]
    assert len(shortcuts) == len(set(shortcuts)), "two commands share a shortcut"


def test_about_box_shows_model_card(window, qtbot):
    window.commands.about.trigger()
    box = window.findChild(QDialog, "aboutBox")
    assert box is not None and box.isVisible()
    text = box.browser.toPlainText()
    assert "tiny (tests)" in text and "untrained" in text
    box.accept()


def test_copy_metrics(window, photo, wait_result):
    window.open_path(photo)
    wait_result(window)
    window.commands.copy_metrics.trigger()
    text = QGuiApplication.clipboard().text()
    assert text.startswith("photo.png\n") and "PSNR:" in text and "bpp" in text


def test_rd_chart_in_background(window, photo, wait_result, qtbot):
    window.open_path(photo)
    wait_result(window)
    window.commands.rd_chart.setChecked(True)
    qtbot.waitUntil(lambda: window.scheduler.is_idle() and len(window.rd_plot.curves) >= 4,
                    timeout=60000)
    curves = window.rd_plot.curves
    assert len(curves["mambaic"]) == 5
    assert {"JPEG", "WebP", "AVIF"} <= set(curves)
    assert window.rd_plot.current.quality == window.result.quality
    cached = window.cache.get(window.document.token, 5.0)
    assert cached is not None and cached.info.bpp in [p.bpp for p in curves["mambaic"]]
