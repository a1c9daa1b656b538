"""Feed the worker thread one job at a time, newest foreground work first.

Why one at a time: the worker owns a single model, and a queue of stale slider positions would only
delay the one the user is looking at. A new foreground job drops the waiting jobs it supersedes and
cancels the running one if it supersedes that too; background jobs (the RD chart) run only when no
foreground job waits, give way to any new foreground job, and are queued again when interrupted.
"""

from __future__ import annotations

import atexit
import itertools
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from mambaic_gui.errors import UserError
from mambaic_gui.jobs import Job
from mambaic_gui.worker import CodecWorker


#: How long `JobScheduler.shutdown` lets a cancelled job reach its next check before it stops
#: waiting (quitting must feel instant; a job checks between slices, usually well within this).
SHUTDOWN_GRACE_MS = 200

_parked: list[tuple[QThread, QObject]] = []


def _park(thread: QThread, worker: QObject) -> None:
    """Keep a still-running (cancelled) worker thread alive until it ends, joining it at exit."""
    if not _parked:
        atexit.register(_join_parked)
    _parked.append((thread, worker))


def _join_parked() -> None:
    """Wait for parked threads before Python tears their wrappers down (they are cancelled, so
    each ends at its next check)."""
    while _parked:
        thread, _worker = _parked.pop()
        thread.wait()


@dataclass
class _Callbacks:
    finished: Callable[[Any], None] | None
    failed: Callable[[UserError], None] | None
    cancelled: Callable[[], None] | None


class JobScheduler(QObject):
    """Owns the worker thread; all its methods are called on the GUI thread."""

    progress = Signal(object, int, int, str)  # job, done, total, stage
    busy_changed = Signal(bool)  # a foreground job is running or waiting
    _dispatch = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("mambaic-codec")
        self._worker = CodecWorker()
        self._worker.moveToThread(self._thread)
        self._dispatch.connect(self._worker.run)
        self._worker.progress.connect(self._on_progress)
        self._worker.finished.connect(self._on_finished)
        self._worker.failed.connect(self._on_failed)
        self._worker.cancelled.connect(self._on_cancelled)
        self._thread.start()
        self._ids = itertools.count(1)
        self._running: Job | None = None
        self._foreground: deque[Job] = deque()
        self._background: deque[Job] = deque()
        self._callbacks: dict[int, _Callbacks] = {}
        self._busy = False
        self._closed = False

    # ---- submitting ---------------------------------------------------------------------------
    def submit(self, kind: str, run: Callable, *, background: bool = False,
               supersedes: Collection[str] = (), replaces_codec: bool = False,
               on_finished: Callable[[Any], None] | None = None,
               on_failed: Callable[[UserError], None] | None = None,
               on_cancelled: Callable[[], None] | None = None) -> Job:
        """Queue `run(codec, progress, cancel)` on the worker and return its `Job`."""
        if self._closed:
            raise RuntimeError("the scheduler has been shut down")
        job = Job(next(self._ids), kind, run, background, frozenset(supersedes), replaces_codec)
        self._callbacks[job.id] = _Callbacks(on_finished, on_failed, on_cancelled)
        if background:
            self._background.append(job)
        else:
            self._drop_waiting(job.supersedes)
            self._foreground.append(job)
            running = self._running
            if running is not None and (running.background or running.kind in job.supersedes):
                self._worker.cancel(running.id)
        self._pump()
        return job

    def cancel_foreground(self, kinds: Collection[str]) -> None:
        """Stop foreground jobs of these kinds: the running one at its next slice, waiting ones now."""
        self._drop_waiting(kinds)
        running = self._running
        if running is not None and not running.background and running.kind in kinds:
            self._worker.cancel(running.id)
        self._update_busy()

    def _drop_waiting(self, kinds: Collection[str]) -> None:
        for old in [j for j in self._foreground if j.kind in kinds]:
            self._foreground.remove(old)
            self._resolve_cancelled(old)

    def cancel_background(self) -> None:
        """Forget all background work, e.g. because another image was opened."""
        while self._background:
            self._resolve_cancelled(self._background.popleft())
        if self._running is not None and self._running.background:
            self._worker.cancel(self._running.id)
            self._callbacks.pop(self._running.id, None)  # nobody wants its result any more

    def shutdown(self, grace_ms: int = SHUTDOWN_GRACE_MS) -> None:
        """Cancel everything and return within ``grace_ms``, whatever is running.

        A job stops at its next cancel check, but one check can be seconds apart on a big
        tile (one model stage), so quitting must not wait for it: a worker still busy after
        the grace period is parked and joined at interpreter exit, once the window is gone
        (a running QThread must not be destroyed; Qt aborts the process if it is).
        """
        if self._closed:
            return
        self._closed = True
        self._foreground.clear()
        self._background.clear()
        self._callbacks.clear()
        if self._running is not None:
            self._worker.cancel(self._running.id)
        self._thread.quit()
        if not self._thread.wait(grace_ms):
            _park(self._thread, self._worker)

    # ---- state ------------------------------------------------------------------------------
    @property
    def running(self) -> Job | None:
        return self._running

    def is_idle(self) -> bool:
        return self._running is None and not self._foreground and not self._background

    def has_foreground(self, kinds: Collection[str]) -> bool:
        """Whether a foreground job of these kinds is running or waiting (what Esc would stop)."""
        running = self._running
        return any(j.kind in kinds for j in self._foreground) or (
            running is not None and not running.background and running.kind in kinds)

    # ---- worker outcomes --------------------------------------------------------------------
    def _take(self, job_id: int) -> tuple[Job | None, _Callbacks | None]:
        job = self._running
        if job is None or job.id != job_id:
            return None, None
        self._running = None
        return job, self._callbacks.pop(job_id, None)

    def _on_progress(self, job_id: int, done: int, total: int, stage: str) -> None:
        if self._running is not None and self._running.id == job_id:
            self.progress.emit(self._running, done, total, stage)

    def _on_finished(self, job_id: int, result: Any) -> None:
        _, callbacks = self._take(job_id)
        if callbacks is not None and callbacks.finished is not None:
            callbacks.finished(result)
        self._pump()

    def _on_failed(self, job_id: int, error: UserError) -> None:
        _, callbacks = self._take(job_id)
        if callbacks is not None and callbacks.failed is not None:
            callbacks.failed(error)
        self._pump()

    def _on_cancelled(self, job_id: int) -> None:
        job, callbacks = self._take(job_id)
        if job is not None and job.background and callbacks is not None:
            # Interrupted by foreground work, not abandoned: run it again when idle.
            retry = Job(next(self._ids), job.kind, job.run, True, job.supersedes,
                        job.replaces_codec)
            self._callbacks[retry.id] = callbacks
            self._background.appendleft(retry)
        elif callbacks is not None and callbacks.cancelled is not None:
            callbacks.cancelled()
        self._pump()

    def _resolve_cancelled(self, job: Job) -> None:
        callbacks = self._callbacks.pop(job.id, None)
        if callbacks is not None and callbacks.cancelled is not None:
            callbacks.cancelled()

    # ---- dispatch ---------------------------------------------------------------------------
    def _pump(self) -> None:
        if self._running is None and not self._closed:
            queue = self._foreground or self._background
            if queue:
                self._running = queue.popleft()
                self._dispatch.emit(self._running)
        self._update_busy()

    def _update_busy(self) -> None:
        busy = bool(self._foreground) or (self._running is not None and not self._running.background)
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)

