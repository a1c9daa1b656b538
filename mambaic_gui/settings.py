"""Typed access to what the app remembers between runs (QSettings: INI on Linux)."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

from mambaic.codec.effort import DEFAULT_EFFORT, EFFORT_STEPS, check_effort

MAX_RECENT = 10
#: Refinement steps of the "Refine Latents" toggle that `codec/refine` remembered before effort.
_OLD_REFINE_STEPS = 10


class AppSettings:
    """One place for keys and defaults, so the window never spells a settings key itself."""

    def __init__(self, settings: QSettings) -> None:
        self._s = settings

    def _get(self, key: str, default, kind):
        # `type=` makes QSettings parse INI strings ("false", "3.5") instead of handing them back.
        try:
            return self._s.value(key, default, type=kind)
        except (TypeError, ValueError):
            return default

    # ---- files ------------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self._s.value("files/recent", [])
        if isinstance(value, str):  # QSettings returns a bare string for one-element lists
            value = [value]
        return [str(v) for v in value or []][:MAX_RECENT]

    def add_recent(self, path: str) -> None:
        recent = [p for p in self.recent_files() if p != path]
        self._s.setValue("files/recent", [path, *recent][:MAX_RECENT])

    def remove_recent(self, path: str) -> None:
        self._s.setValue("files/recent", [p for p in self.recent_files() if p != path])

    @property
    def last_directory(self) -> str:
        return self._get("files/last_directory", "", str)

    @last_directory.setter
    def last_directory(self, value: str) -> None:
        self._s.setValue("files/last_directory", value)

    # ---- codec ------------------------------------------------------------------------------
    @property
    def quality(self) -> float:
        return self._get("codec/quality", 3.0, float)

    @quality.setter
    def quality(self, value: float) -> None:
        self._s.setValue("codec/quality", float(value))

    @property
    def effort(self) -> int:
        """The encoder's effort level; a value another version or a hand edit left out of range
        reads as the default. Without one, a true `codec/refine` of the old Refine Latents
        toggle (10 steps) reads as the level that spends 10 steps."""
        if not self._s.contains("codec/effort"):
            if self._get("codec/refine", False, bool):
                return EFFORT_STEPS.index(_OLD_REFINE_STEPS)
            return DEFAULT_EFFORT
        try:
            return check_effort(self._get("codec/effort", DEFAULT_EFFORT, int))
        except ValueError:
            return DEFAULT_EFFORT

    @effort.setter
    def effort(self, value: int) -> None:
        self._s.setValue("codec/effort", check_effort(value))
        self._s.remove("codec/refine")  # replaced by the effort level

    @property
    def device(self) -> str:
        return self._get("codec/device", "cpu", str)

    @device.setter
    def device(self, value: str) -> None:
        self._s.setValue("codec/device", value)

    @property
    def weights(self) -> str | None:
        value = self._get("codec/weights", "", str)
        return value or None

    @weights.setter
    def weights(self, value: str | None) -> None:
        self._s.setValue("codec/weights", value or "")

    @property
    def rd_chart(self) -> bool:
        return self._get("codec/rd_chart", True, bool)

    @rd_chart.setter
    def rd_chart(self, value: bool) -> None:
        self._s.setValue("codec/rd_chart", bool(value))

    # ---- window -----------------------------------------------------------------------------
    @property
    def view_mode(self) -> str:
        return self._get("view/mode", "side-by-side", str)

    @view_mode.setter
    def view_mode(self, value: str) -> None:
        self._s.setValue("view/mode", value)

    @property
    def orientation(self) -> str:
        """How "side by side" places its panes (a `views.compare.Orientation` value)."""
        return self._get("view/orientation", "auto", str)

    @orientation.setter
    def orientation(self, value: str) -> None:
        self._s.setValue("view/orientation", value)

    @property
    def rd_metric(self) -> str:
        """The rate–distortion chart's distortion axis (a key of `panels.rd_plot.METRICS`)."""
        return self._get("view/rd_metric", "psnr", str)

    @rd_metric.setter
    def rd_metric(self, value: str) -> None:
        self._s.setValue("view/rd_metric", value)

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        """(geometry, dock/toolbar state) as saved by `save_window_state`, or None each."""
        geometry = self._s.value("window/geometry")
        state = self._s.value("window/state")
        return (geometry if isinstance(geometry, QByteArray) else None,
                state if isinstance(state, QByteArray) else None)

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self._s.setValue("window/geometry", geometry)
        self._s.setValue("window/state", state)

    def sync(self) -> None:
        self._s.sync()
