"""What a unit of background work is, independent of Qt (the scheduler and tasks share it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: progress(done, total, stage text) as a job reports it to the window; `tasks.phase` turns the
#: core's progress events into these calls.
Progress = Callable[[int, int, str], None]
#: cancel() -> True when the job should stop.
CancelCheck = Callable[[], bool]
#: A job body: run(codec, progress, cancel) -> result, executed on the worker thread.
JobBody = Callable[[Any, Progress, CancelCheck], Any]


@dataclass(frozen=True, eq=False)
class Job:
    """A unit of work: `run(codec, progress, cancel)` executes on the worker thread.

    `supersedes` names the kinds of earlier foreground jobs this one makes pointless (a new encode
    makes an older encode pointless, but not an open or a model load): they are dropped if waiting
    and cancelled if running. When `replaces_codec` is set, `run` returns `(codec, summary)`: the
    worker keeps the codec and only the summary goes back to the GUI.
    """

    id: int
    kind: str
    run: JobBody
    background: bool = False
    supersedes: frozenset[str] = frozenset()
    replaces_codec: bool = False
