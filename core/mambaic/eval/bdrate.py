"""Bjøntegaard delta rate: the average bit-rate difference between two RD curves at equal quality.

We use the piecewise-cubic variant that current standards work uses (JVET common test conditions,
after VCEG-AL22): log-rate is interpolated as a function of quality with a monotone piecewise cubic
Hermite interpolant (PCHIP), both curves are integrated over the quality range they share, and the
mean log-rate difference is turned back into a percentage. PCHIP replaces the original cubic
polynomial fit of VCEG-M33 because the polynomial can overshoot between points; the result is
unchanged for well-behaved curves and stable for curves with many points (our classic sweeps).

A negative BD-rate means the test codec needs that many percent fewer bits than the anchor for the
same quality. :func:`self_test` proves the arithmetic on a curve with exactly 10 % fewer bits.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.interpolate import PchipInterpolator


class NoOverlapError(ValueError):
    """The two curves share no quality range, so no delta rate is defined."""


def _log_rate_curve(rates: Sequence[float], quality: Sequence[float]) -> PchipInterpolator:
    r = np.asarray(rates, dtype=np.float64)
    q = np.asarray(quality, dtype=np.float64)
    keep = np.isfinite(r) & np.isfinite(q) & (r > 0)
    r, q = r[keep], q[keep]
    order = np.argsort(q)
    q, log_r = q[order], np.log(r[order])
    distinct = np.concatenate(([True], np.diff(q) > 0))  # PCHIP needs strictly increasing x
    if distinct.sum() < 2:
        raise ValueError("a curve needs at least two distinct quality values")
    return PchipInterpolator(q[distinct], log_r[distinct], extrapolate=False)


def bd_rate(
    anchor_rate: Sequence[float],
    anchor_quality: Sequence[float],
    test_rate: Sequence[float],
    test_quality: Sequence[float],
) -> float:
    """Percent rate change of ``test`` relative to ``anchor`` over their common quality range.

    Rates may be in any unit (bpp, bytes) as long as both curves use the same one; quality is any
    metric where higher is better (PSNR in dB, MS-SSIM in dB).
    """
    anchor = _log_rate_curve(anchor_rate, anchor_quality)
    test = _log_rate_curve(test_rate, test_quality)
    low = max(anchor.x[0], test.x[0])
    high = min(anchor.x[-1], test.x[-1])
    if high <= low:
        raise NoOverlapError(
            f"quality ranges do not overlap: anchor {anchor.x[0]:.3f}..{anchor.x[-1]:.3f}, "
            f"test {test.x[0]:.3f}..{test.x[-1]:.3f}"
        )
    mean_diff = (test.integrate(low, high) - anchor.integrate(low, high)) / (high - low)
    return float((np.exp(mean_diff) - 1.0) * 100.0)


def self_test() -> float:
    """BD-rate of a curve using exactly 10 % fewer bits than its anchor at every point; -10.0."""
    rates = np.array([0.12, 0.25, 0.45, 0.75, 1.2])
    psnr = np.array([28.1, 30.4, 32.9, 35.2, 37.6])
    value = bd_rate(rates, psnr, 0.9 * rates, psnr)
    if abs(value - (-10.0)) > 1e-6:
        raise AssertionError(f"BD-rate self-test returned {value:.6f} %, expected -10.0 %")
    return value
