"""The object that owns the model and runs jobs on its own QThread.

It runs one `Job` at a time when the scheduler hands it one. Cancellation is a flag per job id that
the GUI thread sets directly (under a lock) and the core polls between slices through the
`cancel` callback, so a cancelled or superseded job stops within one slice.
"""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from mambaic.errors import Cancelled
from mambaic_gui.errors import describe
from mambaic_gui.jobs import Job


class CodecWorker(QObject):
    """Lives on the worker thread; every signal it emits is queued to the GUI thread."""

    progress = Signal(int, int, int, str)  # job id, done, total, stage
    finished = Signal(int, object)  # job id, result
    failed = Signal(int, object)  # job id, UserError
    cancelled = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self._codec: Any = None
        self._lock = threading.Lock()
        self._cancelled: set[int] = set()

    def cancel(self, job_id: int) -> None:
        """Ask job `job_id` to stop at its next check. Safe to call from any thread."""
        with self._lock:
            self._cancelled.add(job_id)

    def _is_cancelled(self, job_id: int) -> bool:
        with self._lock:
            return job_id in self._cancelled

    @Slot(object)
    def run(self, job: Job) -> None:
        """Run `job` to completion, cancellation or failure; exactly one outcome signal follows."""
        try:
            if self._is_cancelled(job.id):
                raise Cancelled("cancelled before it started")

            def progress(done: int, total: int, stage: str) -> None:
                self.progress.emit(job.id, int(done), int(total), str(stage))

            result = job.run(self._codec, progress, lambda: self._is_cancelled(job.id))
            if job.replaces_codec:
                self._codec, result = result
        except Cancelled:
            self.cancelled.emit(job.id)
        except Exception as exc:  # noqa: BLE001 - every failure must reach the user, not kill the thread
            self.failed.emit(job.id, describe(exc))
        else:
            self.finished.emit(job.id, result)
        finally:
            with self._lock:
                self._cancelled.discard(job.id)
