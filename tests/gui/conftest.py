"""Shared fixtures for the GUI tests: offscreen Qt, isolated settings, a tiny real model.

The end-to-end tests run the real codec with the `tiny` configuration (untrained weights: the
pictures are noise, but every byte goes through the real model, rANS coder and container).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings

#: Larger than MS-SSIM's 161-pixel minimum, small enough to encode in about a second.
PHOTO_SIZE = (192, 176)


def _make_photo(width: int, height: int) -> np.ndarray:
    """A synthetic photo: smooth gradients, a hard edge and some texture."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 255 * x / width
    g = 255 * y / height
    b = 128 + 100 * np.sin(x / 7) * np.cos(y / 9)
    b[(x - width / 2) ** 2 + (y - height / 2) ** 2 < (height / 4) ** 2] = 30
    return np.clip(np.dstack([r, g, b]), 0, 255).astype(np.uint8)


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    import torch

    from mambaic.card import ModelCard
    from mambaic.models.registry import build_model
    from mambaic.weights import save_weights

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    save_weights(build_model("tiny"), path,
                 card=ModelCard.from_dict({"name": "tiny (tests)", "status": "untrained", "license": "MIT"}))
    return path


@pytest.fixture(scope="session")
def photo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("images") / "photo.png"
    Image.fromarray(_make_photo(*PHOTO_SIZE)).save(path)
    return path


@pytest.fixture(scope="session")
def large_photo(tmp_path_factory) -> Path:
    """Big enough that an encode lasts a few seconds (to cancel it or measure the event loop)."""
    path = tmp_path_factory.mktemp("images") / "large.png"
    Image.fromarray(_make_photo(768, 512)).save(path)
    return path


@pytest.fixture(scope="session")
def mic_file(tmp_path_factory, tiny_weights, photo) -> Path:
    """`photo` encoded at q=2 by the tiny model, written without its original next to it."""
    import mambaic

    path = tmp_path_factory.mktemp("mic") / "photo.mic"
    path.write_bytes(mambaic.load_codec(tiny_weights).compress(photo, 2.0))
    return path


@pytest.fixture
def settings(tmp_path) -> QSettings:
    """Settings in a temporary INI file; the RD chart is off so background work does not compete."""
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("codec/rd_chart", False)
    return settings


@pytest.fixture
def make_window(qtbot, settings, tiny_weights):
    """Build a main window with the tiny model loaded (call again to simulate a restart)."""
    from mambaic_gui.main_window import MainWindow

    def make(weights: Path | None = tiny_weights):
        window = MainWindow(settings=settings, weights=str(weights))
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: window.model is not None or window.last_error is not None,
                        timeout=30000)
        return window

    return make


@pytest.fixture
def window(make_window):
    return make_window()


@pytest.fixture
def wait_result(qtbot):
    """wait_result(window, quality=None): until a result (at `quality`) shows and work is done."""

    def wait(window, quality: float | None = None, timeout: int = 30000) -> None:
        def ready() -> bool:
            result = window.result
            return (result is not None and window.scheduler.is_idle()
                    and (quality is None or abs(result.quality - quality) < 1e-6))

        qtbot.waitUntil(ready, timeout=timeout)

    return wait
