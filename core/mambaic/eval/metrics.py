"""Distortion metrics on uint8 RGB arrays, computed the way CompressAI's evaluation computes them.

Both metrics take the original and the reconstruction as ``(H, W, 3)`` uint8 arrays, so every codec
(learned or classic) is scored from the pixels a user would actually get back, after rounding and
clipping to 8 bits. PSNR is over all three RGB channels together with peak 255 ("psnr-rgb").
MS-SSIM is the five-scale index of Wang et al. on RGB ("ms-ssim-rgb") exactly as
``pytorch_msssim`` (which CompressAI uses) defines it: 11-tap Gaussian window (sigma 1.5) without
padding, 2x2 average pooling that zero-pads odd sizes, per-channel values averaged. It is written
here with separable NumPy/SciPy filters because torch's grouped convolutions made it the slowest
part of an evaluation run on CPU; a test holds it within 1e-5 of ``pytorch_msssim`` (which
builds its window in float32).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import correlate1d

from mambaic.psnr import psnr_from_mse

# Five-scale MS-SSIM with an 11-pixel window downsamples four times; the coarsest scale must still
# hold a window, so the shorter side must exceed (11 - 1) * 2**4.
MS_SSIM_MIN_SIDE = 161
_MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
_K1, _K2 = 0.01, 0.03
_WINDOW_RADIUS = 5
#: Samples per band of rows the metrics work on (see `_row_bands`): ~16 MB a float64 temporary.
_BAND_SAMPLES = 1 << 21


def _gaussian_window(radius: int = _WINDOW_RADIUS, sigma: float = 1.5) -> np.ndarray:
    taps = np.arange(-radius, radius + 1, dtype=np.float64)
    window = np.exp(-(taps**2) / (2 * sigma**2))
    return window / window.sum()


_WINDOW = _gaussian_window()


def _check_pair(original: np.ndarray, reconstruction: np.ndarray) -> None:
    if original.shape != reconstruction.shape:
        raise ValueError(f"shape mismatch: {original.shape} vs {reconstruction.shape}")
    if original.dtype != np.uint8 or reconstruction.dtype != np.uint8:
        raise TypeError("metrics are defined on uint8 arrays (what a decoder hands back)")
    if original.ndim != 3 or original.shape[2] != 3:
        raise ValueError(f"expected (H, W, 3) RGB arrays, got {original.shape}")


def mse(original: np.ndarray, reconstruction: np.ndarray) -> float:
    """Mean squared error over every sample of every channel.

    Summed exactly in integers, a band of rows at a time: a 24-megapixel photo in float64 would
    need three 576 MB temporaries."""
    _check_pair(original, reconstruction)
    total = 0
    for rows in _row_bands(original.shape[0], original.shape[1] * 3):
        diff = original[rows].astype(np.int32) - reconstruction[rows].astype(np.int32)
        total += int(np.einsum("ijk,ijk->", diff, diff, dtype=np.int64))
    return total / original.size


def _row_bands(height: int, row_size: int, overlap: int = 0) -> list[slice]:
    """Slices of at most ~2 M samples each (``overlap`` extra rows at the end of each) covering
    ``height`` rows: the unit in which the metrics hold float64 temporaries, so their memory stays
    flat however big the photo is."""
    step = max(16, _BAND_SAMPLES // max(row_size, 1))
    return [slice(start, min(start + step, height - overlap) + overlap)
            for start in range(0, max(height - overlap, 1), step)]


def psnr(original: np.ndarray, reconstruction: np.ndarray) -> float:
    """PSNR in dB with peak 255; ``inf`` for identical images."""
    return psnr_from_mse(mse(original, reconstruction))


def _blur_valid(x: np.ndarray) -> np.ndarray:
    """Separable Gaussian filter of an (H, W, C) array, keeping only fully covered positions."""
    for axis in (0, 1):
        x = correlate1d(x, _WINDOW, axis=axis, mode="constant")
    r = _WINDOW_RADIUS
    return x[r:-r, r:-r]


def _ssim_and_cs(x: np.ndarray, y: np.ndarray, peak: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean SSIM and contrast-structure terms at one scale.

    Computed in bands of output rows, each from its rows plus the window's reach below, so the
    filtered values are the ones a whole-image pass gives; only the sums are carried across."""
    c1, c2 = (_K1 * peak) ** 2, (_K2 * peak) ** 2
    reach = 2 * _WINDOW_RADIUS
    ssim_sum = cs_sum = 0.0
    count = 0
    for rows in _row_bands(x.shape[0], x.shape[1] * x.shape[2], overlap=reach):
        xb, yb = x[rows].astype(np.float64), y[rows].astype(np.float64)
        mu_x, mu_y = _blur_valid(xb), _blur_valid(yb)
        var_x = _blur_valid(xb * xb) - mu_x**2
        var_y = _blur_valid(yb * yb) - mu_y**2
        cov = _blur_valid(xb * yb) - mu_x * mu_y
        cs_map = (2 * cov + c2) / (var_x + var_y + c2)
        ssim_map = (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1) * cs_map
        ssim_sum = ssim_sum + ssim_map.sum(axis=(0, 1))
        cs_sum = cs_sum + cs_map.sum(axis=(0, 1))
        count += cs_map.shape[0] * cs_map.shape[1]
    return ssim_sum / count, cs_sum / count


def _halve(x: np.ndarray) -> np.ndarray:
    """2x2 average pooling to float64; an odd side gets one zero row/column in front (the divisor
    stays 4), as pytorch_msssim's padded pooling does."""
    rows = _halve_rows(x)
    return np.moveaxis(_halve_rows(np.moveaxis(rows, 1, 0)), 0, 1)


def _halve_rows(x: np.ndarray) -> np.ndarray:
    """Means of row pairs, a band at a time so a uint8 photo is never copied whole to float64."""
    shift = x.shape[0] % 2
    out = np.empty(((x.shape[0] + shift) // 2, *x.shape[1:]), np.float64)
    for band in _row_bands(out.shape[0], 2 * x[0].size):
        start, stop = 2 * band.start - shift, 2 * band.stop - shift
        block = x[max(start, 0):stop].astype(np.float64)
        if start < 0:
            block = np.concatenate([np.zeros_like(block[:1]), block])
        out[band] = (block[0::2] + block[1::2]) / 2
    return out


def ms_ssim(original: np.ndarray, reconstruction: np.ndarray) -> float:
    """Five-scale MS-SSIM in [0, 1]; NaN when the image is too small for five scales."""
    _check_pair(original, reconstruction)
    if min(original.shape[:2]) < MS_SSIM_MIN_SIDE:
        return math.nan
    x, y = original, reconstruction  # uint8 at the first scale; each later one is float64
    factors = []
    for level, weight in enumerate(_MS_SSIM_WEIGHTS):
        ssim, cs = _ssim_and_cs(x, y, 255.0)
        if level < len(_MS_SSIM_WEIGHTS) - 1:
            factors.append(np.maximum(cs, 0.0) ** weight)
            x, y = _halve(x), _halve(y)
        else:
            factors.append(np.maximum(ssim, 0.0) ** weight)
    return float(np.prod(factors, axis=0).mean())


def ms_ssim_db(value: float) -> float:
    """MS-SSIM on the dB scale papers plot (-10 log10(1 - MS-SSIM)), so high rates stay readable."""
    return math.inf if value >= 1.0 else -10.0 * math.log10(1.0 - value)
