"""Esc during an encode: the controls must go back to what the views and metrics show."""

from __future__ import annotations


def test_cancelled_encode_restores_the_shown_quality(window, large_photo, wait_result, qtbot):
    window.quality.set_value(3.0)
    window.open_path(large_photo)
    wait_result(window, 3.0)
    shown = window.result
    window.quality.set_value(4.41, commit=True)  # as if the user dragged the slider
    qtbot.waitUntil(lambda: window.scheduler.has_foreground(("encode",)), timeout=5000)
    assert "updating to q 4.41" in window.compare.decoded.title.text()
    window.commands.cancel.trigger()
    qtbot.waitUntil(window.scheduler.is_idle, timeout=30000)
    qtbot.wait(50)  # a result that raced the cancel must not be shown either
    assert window.result is shown
    assert window.quality.value() == 3.0 and window.settings.quality == 3.0
    caption = window.compare.decoded.title.text()
    assert "updating" not in caption and "q 3.00" in caption
    assert window.statusBar().currentMessage() == "Encode to q 4.41 cancelled; showing q 3.00"


def test_cancel_without_work_changes_nothing(window, photo, wait_result):
    window.open_path(photo)
    wait_result(window)
    window.statusBar().clearMessage()
    window.commands.cancel.trigger()
    assert window.statusBar().currentMessage() == ""


def test_failed_encode_also_restores_the_shown_quality(window, photo, wait_result, qtbot,
                                                       monkeypatch):
    from mambaic_gui import tasks

    window.quality.set_value(2.0)
    window.open_path(photo)
    wait_result(window, 2.0)

    def failing(*_args):
        def run(codec, progress, cancel):
            raise RuntimeError("out of memory")
        return run

    monkeypatch.setattr(tasks, "encode", failing)
    window.quality.set_value(4.0, commit=True)
    qtbot.waitUntil(lambda: window.last_error is not None and window.scheduler.is_idle(),
                    timeout=10000)
    assert window.quality.value() == 2.0 and window.settings.quality == 2.0
    assert "updating" not in window.compare.decoded.title.text()
