"""The colour scale of the error heatmap (the map itself is computed in `mambaic_gui.pixels`)."""

from __future__ import annotations

import pyqtgraph as pg

#: Perceptually ordered and readable for colour-blind viewers; dark means "no error".
COLORMAP_NAME = "inferno"


def colormap() -> pg.ColorMap:
    return pg.colormap.get(COLORMAP_NAME)
