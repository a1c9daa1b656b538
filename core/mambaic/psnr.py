"""PSNR from a mean squared error: the one formula behind every PSNR the project reports.

Training logs it from the loss's MSE on [0, 1] pixels (peak 1), validation from rounded 8-bit
pixels and `mambaic.eval.metrics.psnr` from decoded uint8 arrays (peak 255). It sits in the
lowest layer because training, which the layers contract keeps below evaluation, needs it too;
it needs nothing itself, so importing it costs nothing.
"""

from __future__ import annotations

import math


def psnr_from_mse(mse: float, peak: float = 255.0) -> float:
    """10·log10(peak² / mse) in dB; ``inf`` when ``mse`` is 0 (identical pixels)."""
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(peak**2 / mse)
