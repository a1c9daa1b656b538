"""Quality ▸ Effort: the levels, what they are remembered as, what they encode, what the metrics
panel says they bought, the progress bar at effort > 0, and Esc during refinement."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np

from mambaic.codec.effort import DEFAULT_EFFORT, EFFORT_MAX, EFFORT_STEPS
from mambaic_gui.document import CodecResult
from mambaic_gui.panels.metrics import describe_effort
from mambaic_gui.settings import AppSettings


def _checked(window) -> list[int]:
    return [level for level, action in window.commands.efforts.items() if action.isChecked()]


def test_menu_lists_the_levels_and_the_choice_survives_a_restart(make_window):
    first = make_window()
    a = first.commands
    assert list(a.efforts) == list(range(EFFORT_MAX + 1))
    assert _checked(first) == [DEFAULT_EFFORT] and first.effort_box.currentIndex() == DEFAULT_EFFORT
    quality_menu = next(m.menu() for m in first.menuBar().actions() if m.text() == "&Quality")
    effort_menu = next(m.menu() for m in quality_menu.actions() if m.text() == "&Effort")
    assert [act for act in effort_menu.actions() if act in a.efforts.values()] == \
        list(a.efforts.values())
    assert first.effort_box.count() == len(EFFORT_STEPS)
    for level, steps in enumerate(EFFORT_STEPS):
        text = a.efforts[level].text().replace("&", "")
        assert text.startswith(f"{level} – ")
        assert (f"{steps} refinement steps" in text) if steps else "Plain" in text
        assert f"{steps} steps" in first.effort_box.itemText(level) or steps == 0
        for tip in (a.efforts[level].toolTip(), a.efforts[level].statusTip()):
            assert "smaller" not in tip.lower()  # no level promises a smaller file
    a.efforts[2].trigger()  # with no image open: nothing to encode, only remembered
    assert _checked(first) == [2] and first.effort_box.currentIndex() == 2
    assert first.settings.effort == 2 and first.scheduler.is_idle()
    first.effort_box.activated.emit(1)  # the toolbar box picks the same actions
    assert _checked(first) == [1] and first.settings.effort == 1
    a.next_effort.trigger()  # Ctrl+R: the next level, wrapping after the highest
    assert _checked(first) == [2]
    a.efforts[EFFORT_MAX].trigger()
    a.next_effort.trigger()
    assert _checked(first) == [0]
    a.efforts[3].trigger()
    first.close()
    second = make_window()
    assert _checked(second) == [3] and second.effort_box.currentIndex() == 3


def test_stored_effort_is_checked_and_the_old_refine_toggle_maps_to_ten_steps(settings):
    app = AppSettings(settings)
    assert app.effort == DEFAULT_EFFORT
    settings.setValue("codec/refine", True)  # written by a version with "Refine Latents"
    assert EFFORT_STEPS[app.effort] == 10
    app.effort = 1
    assert app.effort == 1 and not settings.contains("codec/refine")
    for bad in (EFFORT_MAX + 1, -1, "fast", ""):  # another version's or a hand edit's
        settings.setValue("codec/effort", bad)
        assert app.effort == DEFAULT_EFFORT


def _fake(mic_bytes: int, psnr: float, effort: int, refined_tiles: int = 1) -> CodecResult:
    decoded = np.zeros((2, 2, 3), np.uint8)
    return CodecResult(quality=2.0, mic=b"m" * mic_bytes,
                       info=SimpleNamespace(tile_count=1),  # type: ignore[arg-type]
                       decoded=decoded, decoded_view=None,  # type: ignore[arg-type]
                       decode_seconds=0.0, device="cpu", effort=effort,
                       refine_steps=EFFORT_STEPS[effort], refined_tiles=refined_tiles, psnr=psnr)


def test_effort_description_is_computed_from_the_two_results():
    plain, refined = _fake(15234, 30.0, 0), _fake(14000, 30.21, 2)
    assert describe_effort(refined, plain) == \
        "Effort 2: −1,234 bytes (−8.1 %), +0.21 dB vs effort 0 (refinement kept in 1 of 1 tile)"
    bigger = _fake(15300, 30.5, 1)  # a cheaper coding can be larger and better
    assert describe_effort(bigger, plain).startswith("Effort 1: +66 bytes (+0.4 %), +0.50 dB")
    assert describe_effort(refined) == \
        "Effort 2 (10 refinement steps); refinement kept in 1 of 1 tile"
    assert describe_effort(plain) == "0 (plain encoder)"
    assert "opened from a .mic file" in describe_effort(dataclasses.replace(plain, effort=None))


def test_a_level_encodes_with_its_steps_and_is_compared_with_effort_0(window, photo,
                                                                       wait_result, qtbot):
    window.open_path(photo)
    wait_result(window)
    plain = window.result
    assert plain.effort == 0 and plain.refine_steps == 0
    assert window.metrics.value("Effort") == "0 (plain encoder)"
    window.commands.efforts[1].trigger()
    qtbot.waitUntil(lambda: window.result.effort == 1 and window.scheduler.is_idle(),
                    timeout=60000)
    refined = window.result
    assert refined.refine_steps == EFFORT_STEPS[1] and refined.quality == plain.quality
    assert 0 <= refined.refined_tiles <= refined.info.tile_count == 1
    text = window.metrics.value("Effort")
    tiles = f"refinement kept in {refined.refined_tiles} of 1 tile"
    if refined.mic == plain.mic:
        assert text == f"Effort 1: the same file as effort 0 ({tiles})"
    else:
        delta = len(refined.mic) - len(plain.mic)
        db = refined.psnr - plain.psnr
        assert text.startswith("Effort 1: ") and text.endswith(f"vs effort 0 ({tiles})")
        assert f"{abs(delta):,} bytes" in text and f"{abs(db):.2f} dB" in text
    assert window.rd_plot.current.refined == (refined.refined_tiles > 0)
    window.commands.efforts[0].trigger()  # back: both come from the cache, no encode
    assert window.result is plain and window.scheduler.is_idle()
    window.effort_box.activated.emit(1)
    assert window.result is refined and window.scheduler.is_idle()


def test_without_an_effort_0_result_only_the_level_is_stated(window, photo, wait_result, qtbot):
    window.commands.efforts[1].trigger()  # before opening: the image is encoded at effort 1 only
    window.open_path(photo)
    wait_result(window)
    result = window.result
    assert result.effort == 1 and window.cache.get(window.document.token, result.quality) is None
    text = window.metrics.value("Effort")
    assert text == (f"Effort 1 ({EFFORT_STEPS[1]} refinement steps); refinement kept in "
                    f"{result.refined_tiles} of 1 tile")
    assert "smaller" not in window.metrics.text().lower()


def test_progress_is_one_monotonic_scale_that_ends_at_its_total(window, photo, wait_result):
    seen: list[tuple[int, int, str, int, int]] = []

    def record(job, done, total, stage):
        if job.kind == "encode":  # the window's own slot ran first: the bar is already set
            seen.append((done, total, stage, window.progress.value(), window.progress.maximum()))

    window.scheduler.progress.connect(record)
    window.commands.efforts[1].trigger()
    window.open_path(photo)
    wait_result(window)
    assert seen and len({total for _, total, *_ in seen}) == 1
    dones = [done for done, *_ in seen]
    assert dones == sorted(dones) and dones[-1] == seen[-1][1]
    assert all((value, maximum) == (done, total) for done, total, _, value, maximum in seen)
    stages = [stage for _, _, stage, *_ in seen]
    steps = EFFORT_STEPS[1]
    assert [s for s in stages if "refining" in s] == \
        [f"encoding q {window.result.quality:.2f} at effort 1: refining {i}/{steps}"
         for i in range(1, steps + 1)]
    # The encode is most of the work at effort > 0, so the bar is past half when it ends.
    kept = next(done for done, total, stage, *_ in seen if "keeping the cheaper coding" in stage)
    assert kept > seen[0][1] // 2
    assert any(stage.startswith("decoding") for stage in stages)


def test_cancel_during_refinement_restores_the_shown_effort(window, large_photo, wait_result,
                                                            qtbot):
    window.quality.set_value(3.0)
    window.open_path(large_photo)
    wait_result(window, 3.0)
    shown = window.result
    assert shown.effort == 0
    window.commands.efforts[EFFORT_MAX].trigger()
    assert "at effort 3" in window.compare.decoded.title.text()
    qtbot.waitUntil(lambda: "refining" in window.stage_label.text(), timeout=30000)
    window.commands.cancel.trigger()
    qtbot.waitUntil(window.scheduler.is_idle, timeout=30000)
    qtbot.wait(50)  # a result that raced the cancel must not be shown either
    assert window.result is shown
    assert _checked(window) == [0] and window.effort_box.currentIndex() == 0
    assert window.settings.effort == 0 and window.quality.value() == 3.0
    assert "updating" not in window.compare.decoded.title.text()
    assert window.statusBar().currentMessage() == \
        "Encode to q 3.00 at effort 3 cancelled; showing q 3.00 at effort 0"
    assert window.cache.get(window.document.token, 3.0, EFFORT_MAX) is None
