"""Small window details: RD status wrapping, recent-file labels, remembered RD metric, panels
menu, and the highlight while a file is dragged over the window."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from mambaic_gui.panels.rd_plot import RDPlot
from mambaic_gui.recent_labels import recent_labels

LONG_STATUS = "needs the original image (File ▸ Compare with Original) before it can be computed"


def test_rd_status_wraps_instead_of_being_cut_off(qtbot):
    plot = RDPlot()
    qtbot.addWidget(plot)
    plot.set_status(LONG_STATUS)
    plot.resize(260, 400)
    plot.show()
    qtbot.waitExposed(plot)
    assert plot.minimumSizeHint().width() <= 260  # the text does not force the dock wider
    status = plot._status
    assert status.wordWrap() and status.width() <= 260
    assert status.heightForWidth(status.width()) > status.fontMetrics().height()  # two lines+
    assert status.toolTip() == LONG_STATUS


def test_recent_labels_tell_same_named_files_apart():
    assert recent_labels(["/a/x.png", "/b/y.png"]) == ["x.png", "y.png"]
    assert recent_labels(["/day1/IMG_1.jpg", "/day2/IMG_1.jpg", "/day2/z.png"]) == [
        "IMG_1.jpg — day1", "IMG_1.jpg — day2", "z.png"]
    assert recent_labels(["/a/photos/x.png", "/b/photos/x.png"]) == [
        "x.png — /a/photos", "x.png — /b/photos"]


def test_recent_menu_uses_the_labels(window, tmp_path):
    paths = [str(tmp_path / "one" / "photo.png"), str(tmp_path / "two" / "photo.png")]
    for path in reversed(paths):
        window.settings.add_recent(path)
    window.recent.refresh()
    assert [a.text() for a in window.commands.recent_menu.actions()] == [
        "photo.png — one", "photo.png — two"]


def test_rd_metric_is_remembered(make_window):
    first = make_window()
    first.rd_plot._metric.setCurrentIndex(1)  # what picking MS-SSIM in the combo box does
    assert first.rd_plot.metric == "ms_ssim_db"
    first.close()
    second = make_window()
    assert second.rd_plot.metric == "ms_ssim_db"
    assert second.rd_plot.plot.getAxis("left").labelText == "MS-SSIM (dB)"


def test_closed_panels_come_back_from_the_view_menu(window, qtbot):
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    panels = next(a.menu() for a in view_menu.actions() if a.menu() is window.commands.panels_menu)
    for dock in window._docks:
        assert dock.toggleViewAction() in panels.actions()
        dock.close()
        assert not dock.isVisible()
        dock.toggleViewAction().trigger()
        qtbot.waitUntil(dock.isVisible, timeout=2000)


def _drag(mic_file) -> tuple[QMimeData, Qt.MouseButton, Qt.KeyboardModifier]:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(mic_file))])
    return mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier


def test_drag_over_the_window_is_highlighted(window, mic_file, wait_result):
    mime, buttons, modifiers = _drag(mic_file)
    highlight = window.drop.highlight
    assert not highlight.isVisible()
    QApplication.sendEvent(window, QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime,
                                                   buttons, modifiers))
    assert highlight.isVisible()
    assert highlight.geometry() == window.compare.geometry()
    QApplication.sendEvent(window, QDragLeaveEvent())
    assert not highlight.isVisible()
    QApplication.sendEvent(window, QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime,
                                                   buttons, modifiers))
    QApplication.sendEvent(window, QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime,
                                              buttons, modifiers))
    assert not highlight.isVisible()
    wait_result(window)


def test_no_highlight_for_what_cannot_be_opened(window):
    mime = QMimeData()
    mime.setText("just text")
    QApplication.sendEvent(window, QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime,
                                                   Qt.MouseButton.LeftButton,
                                                   Qt.KeyboardModifier.NoModifier))
    assert not window.drop.highlight.isVisible()


def test_the_rd_chart_never_shows_negative_bit_rates(qtbot):
    """With only the current point (a big photo: no sweep), auto-range centred the axis on it and
    showed bit rates down to -0.2 bpp."""
    from mambaic_gui.document import RatePoint

    plot = RDPlot()
    qtbot.addWidget(plot)
    plot.resize(400, 300)
    plot.show()
    plot.set_current(RatePoint("mambaic", 3.1, 0.087, 40.06, 0.977))
    qtbot.wait(10)
    (x_min, x_max), _ = plot.plot.getViewBox().viewRange()
    assert x_min >= 0.0 and x_max > 0.087
