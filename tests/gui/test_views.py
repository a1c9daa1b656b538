"""Views without the codec: linked zoom/pan, split overlay, heatmap, zoom levels, quality control."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRectF

from mambaic_gui.panels.quality import DEBOUNCE_MS, QualityControl
from mambaic_gui.pixels import ErrorHeatmap, build_pyramid, error_levels, error_map
from mambaic_gui.views.compare import CompareView, ViewMode
from mambaic_gui.views.image_pane import ImagePane


@pytest.fixture
def view(qtbot):
    widget = CompareView()
    qtbot.addWidget(widget)
    widget.resize(1000, 500)
    widget.show()
    rng = np.random.default_rng(0)
    original = rng.integers(0, 256, (120, 200, 3), dtype=np.uint8)
    decoded = np.clip(original.astype(int) + rng.integers(-6, 7, original.shape), 0, 255)
    decoded = decoded.astype(np.uint8)
    widget.set_original(build_pyramid(original))
    widget.set_decoded(build_pyramid(decoded), ErrorHeatmap.of(original, decoded))
    qtbot.wait(50)
    return widget


def _ranges(pane):
    return np.array(pane.view.viewRange())


def test_zoom_and_pan_are_linked(view, qtbot):
    view.original.view.setRange(QRectF(40, 30, 50, 25), padding=0)
    qtbot.wait(20)
    assert np.allclose(_ranges(view.original), _ranges(view.decoded), atol=1e-6)
    view.decoded.view.translateBy(x=10, y=5)
    qtbot.wait(20)
    assert np.allclose(_ranges(view.original), _ranges(view.decoded), atol=1e-6)


def test_fit_and_actual_size(view, qtbot):
    view.fit()
    (x0, x1), (y0, y1) = _ranges(view.original)
    assert x0 <= 0.5 and x1 >= 199.5 and y0 <= 0.5 and y1 >= 119.5
    view.zoom_to(1.0)
    assert view.original.zoom_factor() == pytest.approx(1.0, rel=0.02)
    view.zoom_to(8.0)
    assert view.original.zoom_factor() == pytest.approx(8.0, rel=0.02)


def test_images_are_drawn_exactly(view):
    """Levels are fixed to 0…255 (no contrast stretch)."""
    assert tuple(view.original.image.getLevels()) == (0, 255)
    assert tuple(view.decoded.image.getLevels()) == (0, 255)


def test_split_mode_clips_decoded_to_the_right_of_the_line(view, qtbot):
    view.set_mode(ViewMode.SPLIT)
    qtbot.wait(20)
    assert not view.decoded.isVisible() and view.split_line.isVisible()
    view.split_line.setValue(50)
    rect = view._clip.rect()
    assert (rect.left(), rect.width(), rect.height()) == (50, 150, 120)
    view.split_line.setValue(500)  # dragged past the edge
    assert view._clip.rect().width() == 0


def test_heatmap_shows_error_with_colour_bar(view, qtbot):
    view.set_mode(ViewMode.HEATMAP)
    qtbot.wait(20)
    assert view.heatmap.isVisible() and view._colorbar_canvas.isVisible()
    assert view.heatmap.image.image.max() <= 6
    assert view.colorbar.levels()[1] >= 1


def test_modes_need_both_images(qtbot):
    widget = CompareView()
    qtbot.addWidget(widget)
    widget.show()
    widget.set_original(None)
    widget.set_decoded(build_pyramid(np.zeros((64, 64, 3), np.uint8)))
    widget.set_mode(ViewMode.HEATMAP)
    assert not widget.comparison_available()
    assert widget.decoded.isVisible() and not widget.heatmap.isVisible()


def test_cycle_mode(view):
    seen = []
    view.mode_changed.connect(seen.append)
    for _ in range(3):
        view.cycle_mode()
    assert seen == ["split", "heatmap", "side-by-side"]


def test_error_map_and_levels():
    a = np.zeros((2, 2, 3), np.uint8)
    b = a.copy()
    b[0, 0] = (3, 6, 9)
    errors = error_map(a, b)
    assert errors[0, 0] == 6 and errors.sum() == 6
    assert error_levels(np.zeros((4, 4), np.uint8)) == (0.0, 1.0)
    spread = np.arange(1000, dtype=np.int64) % 200
    assert error_levels(spread.astype(np.uint8)) == (0.0, 198.0)  # 995 of 1000 are ≤ 198


def test_pyramid_levels_follow_the_zoom():
    image = np.random.default_rng(1).integers(0, 256, (4096, 2400, 3), dtype=np.uint8)
    pyramid = build_pyramid(image)
    assert [level.shape[:2] for level in pyramid.levels] == [(4096, 2400), (2048, 1200)]
    assert pyramid.levels[0] is image
    block = image[:2, :2].reshape(-1, 3).astype(float).mean(axis=0)
    assert np.allclose(pyramid.levels[1][0, 0], block, atol=0.5)
    assert [pyramid.level_for(z) for z in (4.0, 1.0, 0.6, 0.5, 0.2)] == [0, 0, 0, 1, 1]


def test_a_large_photo_is_drawn_from_a_level_sized_for_the_screen(qtbot):
    """12 megapixels: what the GUI thread uploads and draws in every mode is a pyramid level near
    the pane's size, never the full image (a property of the work, not a wall-clock limit that a
    busy machine would break)."""
    widget = CompareView()
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    rng = np.random.default_rng(2)
    original = rng.integers(0, 256, (3000, 4000, 3), dtype=np.uint8)
    decoded = original.copy()
    views = build_pyramid(original), build_pyramid(decoded), ErrorHeatmap.of(original, decoded)
    widget.set_original(views[0])
    widget.set_decoded(views[1], views[2])
    widget.fit()
    for mode in ViewMode:
        widget.set_mode(mode)
        widget.repaint()
        qtbot.wait(1)
        shown = [item.image for pane in widget.findChildren(ImagePane) if pane.isVisible()
                 for item in pane._items if item.pyramid is not None and item.image is not None]
        assert shown, mode
        for image in shown:
            # The chosen level has at least one pixel per screen pixel and fewer than two per side.
            assert image.shape[0] * image.shape[1] <= 4 * 1200 * 800, (mode, image.shape)


def test_quality_is_debounced(qtbot):
    control = QualityControl()
    qtbot.addWidget(control)
    committed = []
    control.committed.connect(committed.append)
    for q in (2.0, 2.5, 3.0, 3.5):
        control.set_value(q, commit=True)
    assert committed == []
    qtbot.wait(DEBOUNCE_MS + 150)
    assert committed == [3.5]


def test_quality_steps_and_paper_levels(qtbot):
    control = QualityControl()
    qtbot.addWidget(control)
    control.set_range((1.0, 5.0), [1, 2, 3, 4, 5])
    control.set_value(2.3)
    control.jump_to_mark(1)
    assert control.value() == 3.0
    control.jump_to_mark(-1)
    control.jump_to_mark(-1)
    assert control.value() == 1.0
    control.jump_to_mark(-1)
    assert control.value() == 1.0
    control.step(0.1)
    assert control.value() == 1.1
    control.set_value(9.0)
    assert control.value() == 5.0  # clamped to the model's range
