"""View ▸ Compare With: a classic codec at the .mic's size in the other pane, with measured numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from mambaic.eval import classic, metrics
from mambaic_gui import tasks
from mambaic_gui.document import EqualSizeComparison
from mambaic_gui.main_window import _reference_title
from mambaic_gui.panels.metrics import comparison_rows
from mambaic_gui.pixels import build_pyramid


def _wait_comparison(window, qtbot, timeout: int = 60000) -> EqualSizeComparison:
    def ready() -> bool:
        shown, result = window.comparison, window.result
        return (shown is not None and result is not None and window.scheduler.is_idle()
                and shown.target_bytes == len(result.mic))

    qtbot.waitUntil(ready, timeout=timeout)
    return window.comparison


def test_menu_lists_the_available_codecs(window):
    available, missing = classic.all_codecs()
    actions = window.commands.compare_with
    assert list(actions) == list(tasks.EQUAL_SIZE_CODECS)
    texts = [a.text() for a in window.commands.compare_menu.actions()]
    assert texts[0].replace("&", "").startswith("Original")
    for key, action in actions.items():
        assert action.isEnabled() == (key in available)
        assert tasks.EQUAL_SIZE_CODECS[key] in action.text()
        if key not in available:
            assert missing[key] in action.toolTip()
    assert window.commands.compare_original.isChecked()


def test_a_missing_codec_is_disabled_with_its_reason(qtbot, settings, tiny_weights, monkeypatch):
    from mambaic_gui import actions
    from mambaic_gui.main_window import MainWindow

    monkeypatch.setattr(actions, "equal_size_choices", lambda: {
        "jpeg420": None, "webp": None, "avif": "Pillow was built without AVIF",
        "jxl": "pillow-jxl-plugin is not installed"})
    window = MainWindow(settings=settings, weights=str(tiny_weights))
    qtbot.addWidget(window)
    avif = window.commands.compare_with["avif"]
    assert not avif.isEnabled() and "(unavailable)" in avif.text()
    assert "Pillow was built without AVIF" in avif.toolTip()
    assert "pillow-jxl-plugin" in window.commands.compare_with["jxl"].toolTip()
    assert window.commands.compare_with["jpeg420"].isEnabled()
    window.shutdown()


def test_jpeg_at_the_same_size_shows_measured_numbers(window, photo, wait_result, qtbot):
    window.open_path(photo)
    wait_result(window)
    window.commands.compare_with["jpeg420"].trigger()
    comparison = _wait_comparison(window, qtbot)
    result = window.result
    assert window.commands.compare_button.text() == "Compare With: JPEG"
    target = len(result.mic)
    assert comparison.key == "jpeg420" and comparison.target_bytes == target
    assert comparison.num_bytes == len(comparison.data)
    assert comparison.fits == (comparison.num_bytes <= target)
    if comparison.fits:
        assert comparison.num_bytes <= target
    # Every number is that of the file shown: decode the bytes again and score them.
    original = np.asarray(Image.open(photo).convert("RGB"))
    decoded = classic.select(["jpeg420"])[0][0].decode(comparison.data)
    np.testing.assert_array_equal(window.compare.reference.levels[0], decoded)
    assert comparison.psnr == pytest.approx(metrics.psnr(original, decoded))
    assert comparison.ms_ssim == pytest.approx(metrics.ms_ssim(original, decoded))
    assert comparison.bpp == pytest.approx(comparison.num_bytes * 8 / original.shape[0]
                                           / original.shape[1])
    left = window.compare.left_title()
    assert f"{comparison.num_bytes:,} B" in left and f"{comparison.bpp:.3f} bpp" in left
    assert f"{comparison.psnr:.2f} dB" in left and "JPEG" in left
    right = window.compare.decoded.title.text()
    assert right.startswith("mambaic") and f"{target:,} B" in right
    assert f"{result.info.bpp:.3f} bpp" in right and f"{result.psnr:.2f} dB" in right
    assert window.metrics.value("Its PSNR").startswith(f"{comparison.psnr:.2f} dB")
    assert f"{comparison.num_bytes:,} B" in window.metrics.value("Its file size")
    assert window.metrics.value("Its quality").startswith(f"{comparison.quality} (of 1–100)")
    assert "Its PSNR" in window.metrics.text()
    # Back to the original: the pane, its title and the metrics rows go back.
    window.commands.compare_original.trigger()
    assert window.compare.reference is None and window.comparison is None
    assert window.compare.left_title() == "Original"
    assert window.commands.compare_button.text() == "Compare With"
    assert window.compare.decoded.title.text().startswith("Decoded")
    assert "Its PSNR" not in window.metrics.text()


def test_a_new_result_is_compared_again(window, photo, wait_result, qtbot):
    window.quality.set_value(2.0)
    window.open_path(photo)
    wait_result(window, 2.0)
    window.commands.compare_with["webp"].trigger()
    first = _wait_comparison(window, qtbot)
    window.quality.set_value(5.0, commit=True)
    wait_result(window, 5.0)
    second = _wait_comparison(window, qtbot)
    assert second.target_bytes == len(window.result.mic)
    if len(window.result.mic) != first.target_bytes:
        assert second is not first
    window.quality.set_value(2.0, commit=True)  # both from the caches, no job
    wait_result(window, 2.0)
    assert _wait_comparison(window, qtbot) is first


def test_cancel_goes_back_to_a_consistent_state(window, large_photo, wait_result, qtbot):
    window.open_path(large_photo)
    wait_result(window)
    shown = window.result
    key = "avif" if window.commands.compare_with["avif"].isEnabled() else "jpeg420"
    window.commands.compare_with[key].trigger()
    assert window.scheduler.has_foreground(("equal",))
    window.commands.cancel.trigger()
    qtbot.waitUntil(window.scheduler.is_idle, timeout=60000)
    qtbot.wait(50)  # a result that raced the cancel must not be shown either
    assert window.result is shown
    assert window.compare_with is None and window.comparison is None
    assert window.commands.compare_original.isChecked()
    assert window.compare.reference is None and window.compare.left_title() == "Original"
    assert "Its PSNR" not in window.metrics.text()
    assert "cancelled; showing the original" in window.statusBar().currentMessage()


def test_a_mic_without_its_original_cannot_be_compared(window, mic_file, wait_result):
    window.open_path(mic_file)
    wait_result(window)
    window.commands.compare_with["jpeg420"].trigger()
    assert window.scheduler.is_idle() and window.compare.reference is None
    assert "needs the original image" in window.metrics.value("Compared with")


def _comparison(fits: bool, num_bytes: int) -> EqualSizeComparison:
    image = np.zeros((64, 64, 3), np.uint8)
    return EqualSizeComparison(key="jpeg420", label="JPEG 4:2:0", data=b"x" * num_bytes,
                               num_bytes=num_bytes, quality=1, quality_range=(1, 100),
                               target_bytes=300, fits=fits, psnr=20.5, ms_ssim=math.nan,
                               width=64, height=64, decoded_view=build_pyramid(image),
                               document_token=0)


def test_a_file_over_the_target_is_never_called_the_same_size():
    over = _comparison(False, 400)
    assert "larger than the .mic's 300 B" in _reference_title(over)
    rows = comparison_rows(over, None)
    assert "not the same size" in rows["Its file size"]
    assert "at its smallest file" in rows["Compared with"]
    assert rows["Its MS-SSIM"].startswith("n/a")
    fits = comparison_rows(_comparison(True, 290), None)
    assert "≤ the .mic's 300 B" in fits["Its file size"]
    assert fits["Its PSNR"] == "20.50 dB"  # no mambaic number to compare: no difference shown


def test_the_split_line_and_readout_name_the_other_codec(window, photo, wait_result, qtbot):
    from mambaic_gui.views.compare import ViewMode
    from mambaic_gui.views.readout import readout

    window.open_path(photo)
    wait_result(window)
    window.commands.compare_with["jpeg420"].trigger()
    comparison = _wait_comparison(window, qtbot)
    window.compare.set_mode(ViewMode.SPLIT)
    assert window.compare.split_line.label.format == "◀ JPEG | mambaic ▶"
    assert "drag the line" in window.compare.left_title()
    text = readout(1.0, 0, 0, window.compare._original, window.result.decoded_view,
                   reference=("JPEG", comparison.decoded_view))
    assert " · JPEG " in text and text.index("original") < text.index("JPEG") < \
        text.index("decoded")
    window.commands.compare_original.trigger()
    assert window.compare.split_line.label.format == "◀ original | decoded ▶"
