"""Quality ▸ Fit to Size: the largest .mic within a size, shown like any encode at its quality."""

from __future__ import annotations

import pytest

from mambaic_gui import tasks


def test_parse_target():
    assert tasks.parse_target("50KB") == (50000, None)
    assert tasks.parse_target(" 20000 ") == (20000, None)
    assert tasks.parse_target("64KiB") == (65536, None)
    assert tasks.parse_target("0.5 bpp") == (None, 0.5)
    assert tasks.parse_target("0.25bpp") == (None, 0.25)
    for bad in ("", "fifty", "-1 bpp", "10 parsecs"):
        with pytest.raises(ValueError):
            tasks.parse_target(bad)


def _sizes(window, qtbot, wait_result, photo):
    """(smallest, largest) file sizes the tiny model makes for the photo (q 1 and q 5)."""
    window.quality.set_value(1.0)
    window.open_path(photo)
    wait_result(window, 1.0)
    smallest = len(window.result.mic)
    window.quality.set_value(5.0, commit=True)
    wait_result(window, 5.0)
    return smallest, len(window.result.mic)


def _wait_fit(window, qtbot):
    qtbot.waitUntil(lambda: window.scheduler.is_idle() and not window.scheduler.has_foreground(
        ("fit",)), timeout=120000)
    qtbot.wait(20)


def test_fit_to_a_size_in_the_range(window, photo, wait_result, qtbot):
    smallest, largest = _sizes(window, qtbot, wait_result, photo)
    target = (smallest + largest) // 2
    assert window.fit_to_size(str(target))
    _wait_fit(window, qtbot)
    result = window.result
    assert len(result.mic) <= target
    assert 1.0 <= result.quality <= 5.0
    assert window.quality.value() == round(result.quality, 2)  # the slider moved to it
    assert f"{len(result.mic):,} B" in window.statusBar().currentMessage()
    assert "Fitted to" in window.statusBar().currentMessage()
    assert "fitting" not in window.compare.decoded.title.text()


def test_a_target_above_the_largest_file(window, photo, wait_result, qtbot):
    _smallest, largest = _sizes(window, qtbot, wait_result, photo)
    window.fit_to_size(f"{largest * 3}")
    _wait_fit(window, qtbot)
    assert len(window.result.mic) <= largest * 3
    assert window.result.quality == pytest.approx(5.0)
    assert "above the largest file" in window.statusBar().currentMessage()


def test_a_target_below_the_smallest_file(window, photo, wait_result, qtbot):
    smallest, _largest = _sizes(window, qtbot, wait_result, photo)
    shown = window.result
    window.fit_to_size(f"{smallest // 2}")
    _wait_fit(window, qtbot)
    assert window.result is shown and window.quality.value() == 5.0
    assert window.last_error is not None and window.last_error.title == "Target too small"
    assert "smallest file" in window.last_error.message


def test_not_a_size(window, photo, wait_result):
    window.open_path(photo)
    wait_result(window)
    assert not window.fit_to_size("lots")
    assert window.last_error.title == "Not a size"
    assert window.scheduler.is_idle()


def test_cancel_a_fit(window, large_photo, wait_result, qtbot):
    window.quality.set_value(3.0)
    window.open_path(large_photo)
    wait_result(window, 3.0)
    shown = window.result
    window.fit_to_size("0.3 bpp")
    window.commands.cancel.trigger()
    _wait_fit(window, qtbot)
    assert window.result is shown and window.quality.value() == 3.0
    assert window.statusBar().currentMessage().startswith("Fit to size cancelled")
    assert "fitting" not in window.compare.decoded.title.text()
