"""Big photos do not start the background RD sweep (minutes of CPU on a 24-megapixel image)."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QLabel

from mambaic_gui import tasks


def test_rd_too_heavy_is_one_tile_of_pixels():
    side = 2048
    assert not tasks.rd_too_heavy(np.zeros((side, side, 3), np.uint8))
    assert tasks.rd_too_heavy(np.zeros((side, side + 1, 3), np.uint8))
    assert tasks.rd_too_heavy(np.zeros((4000, 6000, 3), np.uint8))


def test_window_skips_rd_sweep_above_the_limit(window, photo, wait_result, qtbot, monkeypatch):
    # The tiny test photo stands in for a big one: lower the limit below its pixel count.
    monkeypatch.setattr(tasks, "RD_MAX_PIXELS", 100)
    window.open_path(photo)
    wait_result(window)
    window.commands.rd_chart.setChecked(True)
    assert window.scheduler.is_idle()  # nothing was queued in the background
    assert not window.rd_plot.curves.get("mambaic")
    status = window.rd_plot.findChild(QLabel, "rdStatus").text()
    assert "not computed" in status
