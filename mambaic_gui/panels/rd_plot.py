"""This image's rate-distortion curves: mambaic at the paper levels vs JPEG, WebP and AVIF.

Points arrive one codec at a time from background jobs; the current slider setting is drawn as a
highlighted marker so the user sees where it sits relative to the classic codecs.
"""

from __future__ import annotations

import html
import math

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from mambaic.eval.metrics import ms_ssim_db
from mambaic_gui.document import RatePoint
from mambaic_gui.panels.plot_style import CLASSIC, HIGHLIGHT, MAMBAIC, styled_plot

METRICS = {"PSNR (dB)": "psnr", "MS-SSIM (dB)": "ms_ssim_db"}


def _metric(point: RatePoint, key: str) -> float:
    if key == "psnr":
        return point.psnr
    if math.isnan(point.ms_ssim) or point.ms_ssim >= 1.0:
        return math.nan
    return ms_ssim_db(point.ms_ssim)


class RDPlot(QWidget):
    """Curves keyed by codec label; `curves` holds the plotted points for tests and copying."""

    #: The distortion axis the user picked (a value of `METRICS`), so the window can remember it.
    metric_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = styled_plot("Rate–distortion of this image")
        self.plot.setLabel("bottom", "bit rate (bpp)")
        # A bit rate is never negative: with one point, auto-range would centre the axis on it.
        self.plot.getViewBox().setLimits(xMin=0.0)
        for axis in ("bottom", "left"):
            self.plot.getAxis(axis).enableAutoSIPrefix(False)  # no "(x0.001)" on bpp
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        # The key is a label above the plot: an in-plot legend hides curves wherever it sits.
        self._key = QLabel()
        self._key.setWordWrap(True)
        self._metric = QComboBox()
        self._metric.addItems(list(METRICS))
        self._metric.currentIndexChanged.connect(self._on_metric)
        # On its own line and wrapped: a dock is narrow and the status can be a sentence.
        self._status = QLabel()
        self._status.setWordWrap(True)
        self._status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._status.setObjectName("rdStatus")
        self.curves: dict[str, list[RatePoint]] = {}
        self.current: RatePoint | None = None
        row = QHBoxLayout()
        row.addWidget(QLabel("Distortion:"))
        row.addWidget(self._metric)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self._status)
        layout.addWidget(self._key)
        layout.addWidget(self.plot, 1)
        self._redraw()

    def clear(self) -> None:
        self.curves = {}
        self.current = None
        self._redraw()

    def set_status(self, text: str) -> None:
        self._status.setText(text)
        self._status.setToolTip(text)  # the whole sentence, should the dock be too short

    @property
    def metric(self) -> str:
        return METRICS[self._metric.currentText()]

    def set_metric(self, key: str) -> None:
        """Show distortion as `key` ("psnr" or "ms_ssim_db"); unknown keys are ignored."""
        labels = [label for label, value in METRICS.items() if value == key]
        if labels:
            self._metric.setCurrentText(labels[0])

    def _on_metric(self) -> None:
        self._redraw()
        self.metric_changed.emit(self.metric)

    def set_curve(self, label: str, points: list[RatePoint]) -> None:
        self.curves[label] = sorted(points, key=lambda p: p.bpp)
        self._redraw()

    def set_current(self, point: RatePoint | None) -> None:
        self.current = point
        self._redraw()

    def _redraw(self) -> None:
        key = METRICS[self._metric.currentText()]
        self.plot.clear()
        self.plot.setLabel("left", self._metric.currentText())
        entries = []
        for label, points in self.curves.items():
            color = MAMBAIC if label == "mambaic" else CLASSIC.get(label, "#bbbbbb")
            symbol = "o" if label == "mambaic" else "t"
            self.plot.plot([p.bpp for p in points], [_metric(p, key) for p in points],
                           pen=pg.mkPen(color, width=2), symbol=symbol, symbolSize=7,
                           symbolBrush=color, symbolPen=None)
            entries.append(f"<span style='color:{color}'>{'●' if symbol == 'o' else '▼'}</span>"
                           f"&nbsp;{html.escape(label)}")
        if self.current is not None:
            self.plot.plot([self.current.bpp], [_metric(self.current, key)], pen=None,
                           symbol="star", symbolSize=18, symbolBrush=MAMBAIC,
                           symbolPen=pg.mkPen(HIGHLIGHT, width=1.5))
            refined = ", refined" if self.current.refined else ""
            entries.append(f"<span style='color:{MAMBAIC}'>★</span>&nbsp;now "
                           f"(q&nbsp;{self.current.quality:.2f}{refined})")
        self._key.setText("&nbsp;&nbsp; ".join(entries))
