"""The quality control: a continuous slider over the model's range with the paper levels marked.

Dragging updates the number at once but only *commits* after a short pause (debounce), so a drag
across the range starts one encode, not fifty.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRect, Qt, QTimer, Signal
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QWidget,
)

#: Slider resolution: 100 steps per quality unit (q is stored with two decimals).
STEPS_PER_UNIT = 100
DEBOUNCE_MS = 300


class _MarkedSlider(QSlider):
    """A horizontal slider that draws a labelled tick at each paper quality level."""

    def __init__(self) -> None:
        super().__init__(Qt.Orientation.Horizontal)
        self.marks: list[float] = []
        self.setMinimumHeight(40)

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        groove = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, option,
                                             QStyle.SubControl.SC_SliderGroove, self)
        handle = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, option,
                                             QStyle.SubControl.SC_SliderHandle, self)
        span = groove.width() - handle.width()
        painter = QPainter(self)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        font = painter.font()
        font.setPointSizeF(font.pointSizeF() * 0.85)
        painter.setFont(font)
        for mark in self.marks:
            value = round(mark * STEPS_PER_UNIT)
            x = groove.x() + handle.width() / 2 + QStyle.sliderPositionFromValue(
                self.minimum(), self.maximum(), value, span)
            painter.drawLine(int(x), groove.bottom() + 2, int(x), groove.bottom() + 6)
            painter.drawText(QRect(int(x) - 12, groove.bottom() + 6, 24, 14),
                             Qt.AlignmentFlag.AlignHCenter, f"{mark:g}")
        painter.end()


class QualityControl(QWidget):
    """Emits `committed(q)` once the user has settled on a quality value."""

    committed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._slider = _MarkedSlider()
        self._slider.setToolTip("Quality (higher is larger and sharper). Marks: the paper's levels.\n"
                                "[ and ] step 0.1, PgUp/PgDn step 0.25, Ctrl+[ and Ctrl+] jump "
                                "to the marked levels")
        self._spin = QDoubleSpinBox()
        self._spin.setDecimals(2)
        self._spin.setSingleStep(0.1)
        self._spin.setKeyboardTracking(False)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._commit)
        self._slider.valueChanged.connect(self._on_slider)
        self._spin.valueChanged.connect(self._on_spin)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(QLabel("Quality"))
        layout.addWidget(self._slider, 1)
        layout.addWidget(self._spin)
        self.set_range((1.0, 5.0), [1, 2, 3, 4, 5])
        self._committed_value: float | None = None

    def set_range(self, bounds: tuple[float, float], marks: Sequence[float]) -> None:
        """Adopt the loaded model's quality range and paper levels."""
        low, high = bounds
        for widget in (self._slider, self._spin):
            widget.blockSignals(True)
        self._slider.setRange(round(low * STEPS_PER_UNIT), round(high * STEPS_PER_UNIT))
        self._slider.setPageStep(STEPS_PER_UNIT // 4)  # 0.25: the tooltip says so
        self._slider.marks = [float(m) for m in marks]
        self._spin.setRange(low, high)
        for widget in (self._slider, self._spin):
            widget.blockSignals(False)
        self._slider.update()

    def value(self) -> float:
        return round(self._slider.value() / STEPS_PER_UNIT, 2)

    def set_value(self, quality: float, commit: bool = False) -> None:
        """Move the control; with `commit` the change is debounced and emitted like a user's."""
        self._slider.blockSignals(not commit)
        self._slider.setValue(round(quality * STEPS_PER_UNIT))
        self._slider.blockSignals(False)
        self._spin.blockSignals(True)
        self._spin.setValue(self.value())
        self._spin.blockSignals(False)
        if not commit:
            self._committed_value = self.value()

    def step(self, delta: float) -> None:
        self.set_value(self.value() + delta, commit=True)

    def jump_to_mark(self, direction: int) -> None:
        """Move to the next paper level up (direction > 0) or down."""
        current, marks = self.value(), self._slider.marks
        if direction > 0:
            target = min((m for m in marks if m > current + 1e-9), default=None)
        else:
            target = max((m for m in marks if m < current - 1e-9), default=None)
        if target is not None:
            self.set_value(target, commit=True)

    def _on_slider(self, _value: int) -> None:
        self._spin.blockSignals(True)
        self._spin.setValue(self.value())
        self._spin.blockSignals(False)
        self._timer.start()

    def _on_spin(self, value: float) -> None:
        self._slider.blockSignals(True)
        self._slider.setValue(round(value * STEPS_PER_UNIT))
        self._slider.blockSignals(False)
        self._timer.start()

    def _commit(self) -> None:
        if self.value() != self._committed_value:
            self._committed_value = self.value()
            self.committed.emit(self.value())
