"""Colours shared by the plots, chosen to stay distinguishable for colour-blind viewers (Okabe–Ito)."""

from __future__ import annotations

import pyqtgraph as pg

PLOT_BACKGROUND = "#262626"
MAMBAIC = "#e69f00"  # orange
ANCHOR = "#0072b2"  # blue
NONANCHOR = "#56b4e9"  # sky blue
HYPER = "#999999"  # grey
CLASSIC = {"JPEG": "#cc79a7", "WebP": "#009e73", "AVIF": "#56b4e9"}  # sky blue: yellow sat too close to the orange "now" star
HIGHLIGHT = "#ffffff"


def styled_plot(title: str) -> pg.PlotWidget:
    """A PlotWidget with the app's background, a light grid and no mouse-driven menu clutter."""
    widget = pg.PlotWidget(title=title)
    widget.setBackground(PLOT_BACKGROUND)
    widget.showGrid(x=False, y=True, alpha=0.25)
    widget.setMenuEnabled(False)
    widget.setMinimumHeight(120)
    return widget
