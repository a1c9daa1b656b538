"""The worker thread machinery with fake jobs: ordering, superseding, cancel, failures, retries."""

from __future__ import annotations

import threading
import time

import pytest

from mambaic.errors import Cancelled
from mambaic_gui.scheduler import JobScheduler


def sliced(n: int, seconds: float, value: object, log: list | None = None):
    """A fake job: n slices of `seconds`, checking cancel between slices like the core does."""

    def run(codec, progress, cancel):
        for i in range(n):
            if cancel():
                raise Cancelled()
            time.sleep(seconds)
            progress(i + 1, n, f"slice {i + 1}/{n}")
        if log is not None:
            log.append(value)
        return value

    return run


@pytest.fixture
def scheduler(qtbot):
    s = JobScheduler()
    yield s
    s.shutdown()


def test_runs_on_worker_thread_and_reports_progress(scheduler, qtbot):
    seen: dict = {}
    steps: list = []

    def run(codec, progress, cancel):
        seen["thread"] = threading.current_thread()
        progress(1, 2, "a")
        progress(2, 2, "b")
        return 42

    scheduler.progress.connect(lambda job, d, t, s: steps.append((d, t, s)))
    with qtbot.waitCallback() as cb:
        scheduler.submit("x", run, on_finished=cb)
    assert cb.args == [42]
    assert seen["thread"] is not threading.main_thread()
    qtbot.waitUntil(lambda: steps == [(1, 2, "a"), (2, 2, "b")])


def test_newer_foreground_job_supersedes_running_one(scheduler, qtbot):
    outcomes: list = []
    encode = {"supersedes": ("encode",)}
    scheduler.submit("encode", sliced(50, 0.02, "old"), on_finished=outcomes.append,
                     on_cancelled=lambda: outcomes.append("old cancelled"), **encode)
    qtbot.waitUntil(lambda: scheduler.running is not None)
    time.sleep(0.05)
    scheduler.submit("encode", sliced(2, 0.01, "middle"), on_finished=outcomes.append,
                     on_cancelled=lambda: outcomes.append("middle cancelled"), **encode)
    scheduler.submit("encode", sliced(2, 0.01, "new"), on_finished=outcomes.append, **encode)
    qtbot.waitUntil(scheduler.is_idle, timeout=3000)
    assert outcomes == ["middle cancelled", "old cancelled", "new"]


def test_jobs_of_other_kinds_are_kept(scheduler, qtbot):
    log: list = []
    scheduler.submit("load", sliced(3, 0.02, "model"), on_finished=log.append)
    scheduler.submit("open", sliced(3, 0.02, "file"), on_finished=log.append,
                     supersedes=("open", "encode"))
    scheduler.submit("encode", sliced(1, 0.0, "image"), on_finished=log.append,
                     supersedes=("encode",))  # e.g. a slider move while a file opens
    qtbot.waitUntil(scheduler.is_idle, timeout=3000)
    assert log == ["model", "file", "image"]


def test_cancel_stops_between_slices(scheduler, qtbot):
    ran: list = []
    with qtbot.waitCallback() as cancelled:
        scheduler.submit("encode", sliced(100, 0.02, "x", ran), on_cancelled=cancelled)
        qtbot.waitUntil(lambda: scheduler.running is not None)
        started = time.monotonic()
        scheduler.cancel_foreground(("encode",))
    assert time.monotonic() - started < 0.5
    assert ran == []


def test_failure_is_described_and_worker_survives(scheduler, qtbot):
    def boom(codec, progress, cancel):
        raise OSError(13, "Permission denied", "/root/x.png")

    with qtbot.waitCallback() as failed:
        scheduler.submit("open", boom, on_failed=failed)
    assert failed.args[0].title == "Cannot read or write the file"
    assert "/root/x.png" in failed.args[0].message
    with qtbot.waitCallback() as ok:
        scheduler.submit("x", lambda c, p, k: "alive", on_finished=ok)
    assert ok.args == ["alive"]


def test_background_waits_and_is_retried_after_interruption(scheduler, qtbot):
    log: list = []
    scheduler.submit("rd", sliced(10, 0.02, "bg", log), background=True, on_finished=log.append)
    qtbot.waitUntil(lambda: scheduler.running is not None)
    time.sleep(0.05)
    scheduler.submit("encode", sliced(1, 0.0, "fg"), on_finished=log.append)
    qtbot.waitUntil(scheduler.is_idle, timeout=3000)
    assert log == ["fg", "bg", "bg"]  # the job's own log entry, then its callback


def test_cancel_background_drops_work(scheduler, qtbot):
    log: list = []
    for i in range(3):
        scheduler.submit("rd", sliced(5, 0.02, i), background=True, on_finished=log.append)
    qtbot.waitUntil(lambda: scheduler.running is not None)
    scheduler.cancel_background()
    qtbot.waitUntil(scheduler.is_idle, timeout=3000)
    assert log == []


def test_model_load_keeps_codec_on_worker(scheduler, qtbot):
    codec = object()
    with qtbot.waitCallback() as loaded:
        scheduler.submit("load", lambda c, p, k: (codec, "summary"), replaces_codec=True,
                         on_finished=loaded)
    assert loaded.args == ["summary"]
    with qtbot.waitCallback() as used:
        scheduler.submit("encode", lambda c, p, k: c, on_finished=used)
    assert used.args[0] is codec


def test_has_foreground_sees_running_and_waiting_jobs(scheduler, qtbot):
    assert not scheduler.has_foreground(("encode",))
    scheduler.submit("encode", sliced(20, 0.02, "a"))
    scheduler.submit("open", sliced(1, 0.01, "b"))
    scheduler.submit("rd", sliced(1, 0.01, "c"), background=True)
    assert scheduler.has_foreground(("encode",)) and scheduler.has_foreground(("open",))
    assert not scheduler.has_foreground(("rd",))  # background work is not what Esc stops
    scheduler.cancel_foreground(("encode", "open"))
    assert not scheduler.has_foreground(("open",))
    qtbot.waitUntil(lambda: not scheduler.has_foreground(("encode",)), timeout=5000)
