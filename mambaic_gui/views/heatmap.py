"""The error map |x − x̂| shown in the heatmap view, and the colour scale it is drawn with."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

#: Perceptually ordered and readable for colour-blind viewers; dark means "no error".
COLORMAP_NAME = "inferno"


def error_map(original: np.ndarray, decoded: np.ndarray) -> np.ndarray:
    """Per-pixel absolute error averaged over R, G, B, in 8-bit code values (float32, H × W)."""
    if original.shape != decoded.shape:
        raise ValueError(f"shape mismatch: {original.shape} vs {decoded.shape}")
    diff = np.abs(original.astype(np.int16) - decoded.astype(np.int16))
    return diff.mean(axis=2, dtype=np.float32)


def error_levels(errors: np.ndarray) -> tuple[float, float]:
    """Colour scale 0 … (99.5th percentile, at least 1): a few outliers must not wash out the rest."""
    top = float(np.percentile(errors, 99.5)) if errors.size else 0.0
    return 0.0, max(1.0, float(np.ceil(top)))


def colormap() -> pg.ColorMap:
    return pg.colormap.get(COLORMAP_NAME)
