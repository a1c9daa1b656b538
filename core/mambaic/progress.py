"""Progress of long work as typed events, and the one scaler that nests a sub-task's progress in
its parent's.

The model, the codec, refinement, the benchmark and the app all report progress and most of them
remap someone else's: a slice is one step of a tile, a tile one share of an image, an encode one
phase of an app job. With a structured event every reader takes what it needs (the benchmark the
slice index, the app and the command line the text) without parsing strings, and `ProgressScale`
is the only place where a sub-task's (done, total) is mapped into its parent's range, context
(tile, label) is added and cancellation is checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from mambaic.errors import Cancelled


@dataclass(frozen=True)
class ProgressEvent:
    """One finished step of long work: ``done`` of ``total`` units, and which step it was."""

    done: int
    total: int
    stage: str
    """The step that just finished, e.g. "analysis", "hyper", "slice", "refining", "synthesis"."""
    index: int | None = None
    """The stage's own 1-based counter where it has one: slice k of K, refinement step i of n."""
    count: int | None = None
    tile: int | None = None
    """The 1-based tile of ``tiles`` the step belongs to (a big image is coded in tiles)."""
    tiles: int | None = None
    variant: str = ""
    """Which of two codings of the same tile: "plain" for the one refinement is compared with."""
    labels: tuple[str, ...] = ()
    """What the work belongs to, outermost first (an app phase "encoding q 3.00", a "try 2/8")."""

    @property
    def text(self) -> str:
        """The line users see: ``"encoding q 3.00: tile 2/6: plain slice 3/5"``."""
        step = self.stage if self.index is None else f"{self.stage} {self.index}/{self.count}"
        parts = [*self.labels]
        if self.tiles is not None and self.tiles > 1:
            parts.append(f"tile {self.tile}/{self.tiles}")
        parts.append(f"{self.variant} {step}" if self.variant else step)
        return ": ".join(parts)


#: A progress callback: called with each finished step (None: nobody is listening).
Progress = Callable[[ProgressEvent], None] | None
#: A cancel check: True when the work should stop (None: it cannot be cancelled).
Cancel = Callable[[], bool] | None


class ProgressScale:
    """Where one sub-task's progress lies in its parent's, and the cancel check between steps.

    Events it receives, whatever their units, land in ``[start, start + width]`` of a parent scale
    of ``total`` units (``width`` defaults to ``total``), carrying this scale's context: the tile,
    the variant, and ``label`` put before the event's own labels. With ``total=None`` the done and
    total pass through unchanged and only context is added. After each event that leaves work in
    its sub-task (done < total) ``cancel`` is polled: give it to the one scale that owns the work,
    so it is polled once per step whatever the nesting.
    """

    def __init__(self, progress: Progress, total: int | None = None, *, start: float = 0.0,
                 width: float | None = None, cancel: Cancel = None, tile: int | None = None,
                 tiles: int | None = None, variant: str = "", label: str = "") -> None:
        self._progress, self._total, self._start = progress, total, start
        self._width = total if width is None else width
        self._cancel = cancel
        self._context = {key: value for key, value in
                         (("tile", tile), ("tiles", tiles), ("variant", variant)) if value}
        self._label = label

    @property
    def units(self) -> float:
        """The width of this scale in its parent's units: what `report` and `span` count in."""
        if self._width is None:
            raise ValueError("a pass-through scale (total=None) has no units of its own")
        return self._width

    def __call__(self, event: ProgressEvent) -> None:
        if self._progress is not None:
            self._progress(self._mapped(event))
        if event.done < event.total:
            self.check_cancel()

    def _mapped(self, event: ProgressEvent) -> ProgressEvent:
        changes: dict[str, object] = dict(self._context)
        if self._label:
            changes["labels"] = (self._label, *event.labels)
        if self._total is not None:
            fraction = event.done / event.total if event.total else 1.0
            changes["done"] = round(self._start + self.units * fraction)
            changes["total"] = self._total
        return replace(event, **changes)

    def report(self, done: int, stage: str, index: int | None = None,
               count: int | None = None) -> None:
        """This scale's own step: ``done`` of its `units` finished, named ``stage``."""
        self(ProgressEvent(done, round(self.units), stage, index, count))

    def span(self, start: float, width: float, *, variant: str = "") -> ProgressScale:
        """The scale of a sub-task covering ``[start, start + width]`` of this scale's units."""
        return ProgressScale(self, round(self.units), start=start, width=width, variant=variant)

    def check_cancel(self) -> None:
        """Raise `Cancelled` when this scale's cancel check says so."""
        check_cancel(self._cancel)


def check_cancel(cancel: Cancel) -> None:
    """Raise `Cancelled` when ``cancel()`` says so: between two pieces of work no scale spans (the
    tiles of an image, before the first one's model reports anything)."""
    if cancel is not None and cancel():
        raise Cancelled("cancelled")
