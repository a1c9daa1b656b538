"""The status-bar line under the cursor: zoom and both images' values at that pixel (no Qt).

Judging a codec at the pixel level needs the numbers, not just the look: the same pixel of the
original and the decoded image, side by side, at full resolution (pyramid level 0).
"""

from __future__ import annotations

import numpy as np

from mambaic_gui.pixels import Pyramid


def pixel_value(image: Pyramid | None, x: int, y: int) -> str | None:
    """"R G B" (or one number for a grey map) at full-size pixel (x, y); None when outside."""
    if image is None or not (0 <= x < image.width and 0 <= y < image.height):
        return None
    value = np.atleast_1d(image.levels[0][y, x])
    return " ".join(str(int(v)) for v in value[:3])


def zoom_text(zoom: float) -> str:
    """"zoom 50 %", or "" while nothing is shown (zoom 0): the line once the cursor has left."""
    return f"zoom {zoom * 100:.0f} %" if zoom > 0 else ""


def readout(zoom: float, x: int, y: int, original: Pyramid | None,
            decoded: Pyramid | None, reference: tuple[str, Pyramid] | None = None) -> str:
    """E.g. "zoom 50 % · x 12 y 7 · original 200 10 3 · decoded 198 12 3"; with `reference`
    (name, image), that image's value too, e.g. "· JPEG 201 9 4", between the two.

    Over the grey margin around the image it says "outside the image" rather than nothing, so
    the user can tell the values are gone on purpose, not stuck.
    """
    parts = [zoom_text(zoom)] if zoom > 0 else []
    images = [("original", original)] + ([reference] if reference is not None else []) + \
        [("decoded", decoded)]
    values = [(label, pixel_value(image, x, y)) for label, image in images]
    if any(v is not None for _, v in values):
        parts.append(f"x {x} y {y}")
        parts += [f"{label} {v}" for label, v in values if v is not None]
    elif any(image is not None for _, image in images):
        parts.append("outside the image")
    return " · ".join(parts)
