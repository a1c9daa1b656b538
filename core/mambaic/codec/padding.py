"""Pad images to the model's size multiple and crop them back.

The analysis transform downsamples by 64 in total, so the coded size must be a multiple of it.
Edge replication (not zeros, not mirroring) is used: it adds no new edges for the model to spend
bits on, and it works for any size including 1x1, where mirroring has nothing to mirror.
"""

from __future__ import annotations

import numpy as np


def padded_size(height: int, width: int, multiple: int) -> tuple[int, int]:
    """(height, width) rounded up to multiples of ``multiple``."""
    return -(-height // multiple) * multiple, -(-width // multiple) * multiple


def pad_edges(image: np.ndarray, multiple: int) -> np.ndarray:
    """Pad an (H, W, C) array at the bottom/right by repeating the last row/column."""
    height, width = image.shape[:2]
    padded_h, padded_w = padded_size(height, width, multiple)
    if (padded_h, padded_w) == (height, width):
        return image
    return np.pad(image, ((0, padded_h - height), (0, padded_w - width), (0, 0)), mode="edge")


def crop(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Undo :func:`pad_edges`: keep the top-left ``height`` × ``width`` pixels."""
    return image[:height, :width]
