"""Pixels prepared for display on the worker thread (numpy only, no Qt).

A 12-megapixel photo drawn whole is box-filtered by pyqtgraph on every zoom change, which takes
seconds on the GUI thread. Instead each image is turned into a pyramid of half-size levels here,
off the GUI thread, and the view picks the level that matches its zoom (see `views.image_pane`).
The error heatmap is computed here too, for the same reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Halving stops once a level's shorter side is below this (a screen-sized image).
MIN_LEVEL_SIDE = 1024


@dataclass(frozen=True)
class Pyramid:
    """`levels[0]` is the image itself; each further level is half the size, box-filtered."""

    levels: tuple[np.ndarray, ...]

    @property
    def width(self) -> int:
        return int(self.levels[0].shape[1])

    @property
    def height(self) -> int:
        return int(self.levels[0].shape[0])

    @property
    def nbytes(self) -> int:
        """Memory of the added levels (level 0 is the caller's array, not a copy)."""
        return sum(level.nbytes for level in self.levels[1:])

    def level_for(self, zoom: float) -> int:
        """The smallest level that still has at least one pixel per screen pixel at `zoom`.

        `zoom` is screen pixels per image pixel (1.0 = 100 %); at or above 100 % that is level 0.
        """
        if zoom <= 0 or zoom >= 1:
            return 0
        return min(len(self.levels) - 1, math.floor(-math.log2(zoom)))


def _halve(image: np.ndarray) -> np.ndarray:
    """Average 2 × 2 blocks (an odd last row or column is dropped: under a pixel at this scale)."""
    height, width = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    blocks = image[:height, :width].astype(np.uint16 if image.dtype == np.uint8 else np.float32)
    total = blocks[0::2, 0::2] + blocks[1::2, 0::2] + blocks[0::2, 1::2] + blocks[1::2, 1::2]
    if image.dtype == np.uint8:
        return ((total + 2) // 4).astype(np.uint8)
    return (total / 4).astype(image.dtype)


def build_pyramid(image: np.ndarray) -> Pyramid:
    levels = [image]
    while min(levels[-1].shape[:2]) >= 2 * MIN_LEVEL_SIDE:
        levels.append(_halve(levels[-1]))
    return Pyramid(tuple(levels))


def error_map(original: np.ndarray, decoded: np.ndarray) -> np.ndarray:
    """Per-pixel |original − decoded| averaged over R, G, B, rounded to 8-bit code values."""
    if original.shape != decoded.shape:
        raise ValueError(f"shape mismatch: {original.shape} vs {decoded.shape}")
    diff = np.abs(original.astype(np.int16) - decoded.astype(np.int16)).sum(axis=2, dtype=np.uint16)
    return ((diff + 1) // 3).astype(np.uint8)


def error_levels(errors: np.ndarray) -> tuple[float, float]:
    """Colour scale 0 … (99.5th percentile, at least 1): a few outliers must not wash out the rest."""
    if errors.size == 0:
        return 0.0, 1.0
    counts = np.bincount(errors.ravel(), minlength=256)  # a percentile of uint8 without sorting
    top = int(np.searchsorted(np.cumsum(counts), 0.995 * errors.size))
    return 0.0, float(max(1, top))


@dataclass(frozen=True)
class ErrorHeatmap:
    """The error map of one reconstruction, ready to draw, and its colour-scale range."""

    pyramid: Pyramid
    levels: tuple[float, float]

    @classmethod
    def of(cls, original: np.ndarray, decoded: np.ndarray) -> ErrorHeatmap:
        errors = error_map(original, decoded)
        return cls(build_pyramid(errors), error_levels(errors))

    @property
    def nbytes(self) -> int:
        return self.pyramid.levels[0].nbytes + self.pyramid.nbytes
