"""Side by side: the user's choice of placement, and the zoom and pixel values under the cursor."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF
from PySide6.QtWidgets import QApplication

from mambaic_gui.pixels import ErrorHeatmap, build_pyramid
from mambaic_gui.views.compare import CompareView, Orientation
from mambaic_gui.views.readout import pixel_value, readout, zoom_text


@pytest.fixture
def landscape(qtbot):
    """A wide window and a wide photo: AUTO stacks the panes, as the issue's user saw."""
    widget = CompareView()
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    original = np.zeros((100, 400, 3), np.uint8)
    original[7, 12] = (200, 10, 3)
    decoded = original.copy()
    decoded[7, 12] = (198, 12, 3)
    widget.set_original(build_pyramid(original))
    widget.set_decoded(build_pyramid(decoded), ErrorHeatmap.of(original, decoded))
    qtbot.wait(50)
    return widget


def _side_by_side(view: CompareView) -> bool:
    return view.decoded.geometry().left() > view.original.geometry().right()


def test_orientation_choice_overrides_auto(landscape, qtbot):
    assert not _side_by_side(landscape)  # AUTO: top/bottom shows this wide image larger
    landscape.set_orientation(Orientation.LEFT_RIGHT)
    qtbot.waitUntil(lambda: _side_by_side(landscape), timeout=2000)
    landscape.set_orientation(Orientation.TOP_BOTTOM)
    qtbot.waitUntil(lambda: landscape.decoded.geometry().top() > landscape.original.geometry().bottom(),
                    timeout=2000)
    landscape.resize(1600, 300)  # even where left/right would be larger
    qtbot.wait(50)
    assert not _side_by_side(landscape)


def test_readout_under_the_cursor(landscape, qtbot):
    lines: list[str] = []
    landscape.readout_changed.connect(lines.append)
    pane = landscape.decoded
    pane.canvas.scene().sigMouseMoved.emit(pane.view.mapViewToScene(QPointF(12.5, 7.5)))
    zoom = round(landscape.original.zoom_factor() * 100)
    assert lines[-1] == f"zoom {zoom} % · x 12 y 7 · original 200 10 3 · decoded 198 12 3"
    landscape.zoom_to(2.0)
    assert lines[-1].startswith("zoom 200 %")


def test_readout_clears_when_the_cursor_leaves(landscape, qtbot):
    """No stale pixel values: off the image it says so, off the panes only the zoom is left."""
    lines: list[str] = []
    landscape.readout_changed.connect(lines.append)
    pane = landscape.decoded
    pane.canvas.scene().sigMouseMoved.emit(pane.view.mapViewToScene(QPointF(12.5, 7.5)))
    assert "original 200 10 3" in lines[-1]
    pane.canvas.scene().sigMouseMoved.emit(pane.view.mapViewToScene(QPointF(-3.5, 7.5)))
    zoom = round(landscape.original.zoom_factor() * 100)
    assert lines[-1] == f"zoom {zoom} % · outside the image"
    pane.canvas.scene().sigMouseMoved.emit(pane.view.mapViewToScene(QPointF(12.5, 7.5)))
    QApplication.sendEvent(pane.canvas, QEvent(QEvent.Type.Leave))
    assert lines[-1] == f"zoom {zoom} %"
    landscape.zoom_to(2.0)  # a zoom after leaving shows no values again either
    assert lines[-1] == "zoom 200 %"


def test_readout_text():
    image = build_pyramid(np.full((4, 5, 3), 9, np.uint8))
    assert pixel_value(image, 4, 3) == "9 9 9" and pixel_value(image, 5, 0) is None
    assert readout(0.5, -1, 0, image, None) == "zoom 50 % · outside the image"
    assert zoom_text(0.5) == "zoom 50 %" and zoom_text(0.0) == ""
    assert readout(1.0, 0, 0, image, None) == "zoom 100 % · x 0 y 0 · original 9 9 9"
    assert readout(0.0, 0, 0, None, None) == ""


def test_orientation_is_in_the_view_menu_and_remembered(make_window, qtbot):
    first = make_window()
    view_menu = next(a.menu() for a in first.menuBar().actions() if a.text() == "&View")
    submenus = [a.menu() for a in view_menu.actions() if a.menu() is not None]
    layout = next(m for m in submenus if "Layout" in m.title())
    assert first.commands.orientations[Orientation.AUTO].isChecked()
    layout.actions()[2].trigger()  # Top and Bottom
    assert first.compare.orientation == Orientation.TOP_BOTTOM
    assert first.settings.orientation == "top-bottom"
    first.close()
    second = make_window()
    assert second.compare.orientation == Orientation.TOP_BOTTOM
    assert second.commands.orientations[Orientation.TOP_BOTTOM].isChecked()


def test_window_shows_the_readout_in_the_status_bar(window, photo, wait_result):
    window.open_path(photo)
    wait_result(window)
    pane = window.compare.original
    pane.canvas.scene().sigMouseMoved.emit(pane.view.mapViewToScene(QPointF(1.5, 2.5)))
    text = window.readout_label.text()
    assert text.startswith("zoom ") and "x 1 y 2 · original " in text and " · decoded " in text
    assert window.readout_label.isVisible()
