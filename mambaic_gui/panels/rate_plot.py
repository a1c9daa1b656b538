"""Where the bits went: per channel slice, anchor and non-anchor halves stacked, plus z.

Every number comes from the `.mic` file's stream table (`MicInfo`), not from the model, so this
plot is also correct for a file opened without its original or made on another machine.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from mambaic.codec.info import MicInfo
from mambaic_gui.panels.plot_style import ANCHOR, HYPER, NONANCHOR, styled_plot

BAR_WIDTH = 0.7


class RatePlot(QWidget):
    """Stacked bars; `bars` holds the plotted bit counts so tests can check them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = styled_plot("Bits per channel slice")
        self.plot.setLabel("left", "size", units="bit")
        self.plot.setLabel("bottom", "stream")
        self.plot.getPlotItem().setMouseEnabled(x=False, y=False)
        # One row above the bars (the y range leaves head-room for it), so it never hides a bar.
        self._legend = self.plot.addLegend(offset=(-5, 5), colCount=3)
        self.bars: dict[str, list[int]] = {"z": [], "anchor": [], "nonanchor": []}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)

    def clear(self) -> None:
        self.plot.clear()
        self.bars = {"z": [], "anchor": [], "nonanchor": []}

    def set_info(self, info: MicInfo) -> None:
        self.clear()
        anchor = [8 * a for a, _ in info.slices]
        nonanchor = [8 * n for _, n in info.slices]
        self.bars = {"z": [8 * info.z_bytes], "anchor": anchor, "nonanchor": nonanchor}
        slices = list(range(1, len(info.slices) + 1))
        self.plot.addItem(pg.BarGraphItem(x=[0], height=self.bars["z"], width=BAR_WIDTH,
                                          brush=HYPER, pen=None, name="z (hyper-latent)"))
        self.plot.addItem(pg.BarGraphItem(x=slices, height=anchor, width=BAR_WIDTH, brush=ANCHOR,
                                          pen=None, name="anchor"))
        self.plot.addItem(pg.BarGraphItem(x=slices, y0=anchor, height=nonanchor, width=BAR_WIDTH,
                                          brush=NONANCHOR, pen=None, name="non-anchor"))
        ticks = [(0, "z"), *((k, f"slice {k}") for k in slices)]
        self.plot.getAxis("bottom").setTicks([ticks])
        top = max([*self.bars["z"], *(a + n for a, n in zip(anchor, nonanchor))], default=1)
        self.plot.setXRange(-0.6, len(slices) + 0.6, padding=0)
        self.plot.setYRange(0, top * 1.3, padding=0)
