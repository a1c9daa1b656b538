"""Quitting while a long job runs: `shutdown` cancels it and returns without waiting for it.

The fake job blocks until the test releases it, so "shutdown returned before the job ended" is a
fact of ordering, not of timing, and the test cannot flake on a loaded machine.
"""

from __future__ import annotations

import threading

from mambaic.errors import Cancelled
from mambaic_gui import scheduler as scheduler_module
from mambaic_gui.scheduler import JobScheduler


def _blocking_job(started: threading.Event, release: threading.Event, seen: dict):
    """One 'slice' that lasts until `release` is set (a model stage on a big tile), then the
    cancel check the core makes between slices."""

    def run(codec, progress, cancel):
        started.set()
        release.wait(timeout=60)
        seen["cancel_at_check"] = cancel()
        if seen["cancel_at_check"]:
            raise Cancelled()
        return "finished"

    return run


def test_shutdown_cancels_running_background_job_and_does_not_wait(qtbot, monkeypatch):
    monkeypatch.setattr(scheduler_module, "_parked", [])
    started, release, seen = threading.Event(), threading.Event(), {}
    scheduler = JobScheduler()
    results: list = []
    scheduler.submit("rd", _blocking_job(started, release, seen), background=True,
                     on_finished=results.append)
    assert started.wait(timeout=30)
    thread = scheduler._thread

    scheduler.shutdown(grace_ms=0)

    assert not release.is_set() and thread.isRunning()  # returned while the job still ran
    assert [t for t, _ in scheduler_module._parked] == [thread]  # kept alive, joined at exit
    release.set()
    assert thread.wait(30000)
    assert seen["cancel_at_check"] is True  # the job saw the cancellation at its next check
    assert results == []  # and nobody got a stale result
    scheduler_module._join_parked()
    assert scheduler_module._parked == []


def test_shutdown_of_idle_scheduler_ends_thread_without_parking(qtbot, monkeypatch):
    monkeypatch.setattr(scheduler_module, "_parked", [])
    scheduler = JobScheduler()
    thread = scheduler._thread
    scheduler.shutdown()
    assert thread.isFinished()
    assert scheduler_module._parked == []
