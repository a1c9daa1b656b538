"""Bjøntegaard delta rate: exact answers for curves whose relation is known by construction, and
agreement with the independent `bjontegaard` package on curved, real-looking RD curves."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from mambaic.eval import bdrate, published

RATES = np.array([0.1, 0.2, 0.35, 0.6, 0.9, 1.4])
PSNR = np.array([27.0, 29.6, 31.8, 34.0, 35.9, 38.1])


def test_self_test_returns_minus_ten_percent():
    assert bdrate.self_test() == pytest.approx(-10.0, abs=0.01)


def test_ten_percent_fewer_bits_everywhere_is_minus_ten():
    assert bdrate.bd_rate(RATES, PSNR, 0.9 * RATES, PSNR) == pytest.approx(-10.0, abs=0.01)


def test_identical_curves_score_zero():
    assert bdrate.bd_rate(RATES, PSNR, RATES, PSNR) == pytest.approx(0.0, abs=1e-9)


def test_swapping_anchor_and_test_inverts_the_ratio():
    # 10 % fewer bits one way is 1/0.9 - 1 = 11.11 % more bits the other way.
    assert bdrate.bd_rate(0.9 * RATES, PSNR, RATES, PSNR) == pytest.approx(100 / 9, abs=0.01)


def test_test_curve_sampled_at_other_qualities():
    # Both curves follow PSNR = a + b ln(rate) (what PCHIP reproduces exactly); the test codec
    # needs 20 % fewer bits at every quality, but is sampled at different points.
    def psnr_of(rate, scale):
        return 33.0 + 4.5 * np.log(rate / scale)

    anchor_r = np.array([0.12, 0.25, 0.5, 1.0, 1.6])
    test_r = np.array([0.09, 0.17, 0.33, 0.71, 1.2])
    value = bdrate.bd_rate(anchor_r, psnr_of(anchor_r, 1.0), test_r, psnr_of(test_r, 0.8))
    assert value == pytest.approx(-20.0, abs=0.01)


def test_order_of_points_does_not_matter():
    order = np.array([3, 0, 5, 1, 4, 2])
    shuffled = bdrate.bd_rate(RATES[order], PSNR[order], 0.9 * RATES, PSNR)
    assert shuffled == pytest.approx(-10.0, abs=0.01)


def test_partial_overlap_integrates_only_the_common_range():
    # Log-linear curves (exact under PCHIP), the test one 10 % cheaper, overlapping only in
    # about 29.4-30.7 dB: the answer must still be exactly -10 %, with nothing extrapolated.
    def psnr_of(rate, scale):
        return 33.0 + 4.5 * np.log(rate / scale)

    anchor_r = np.array([0.1, 0.2, 0.4, 0.6])
    test_r = np.array([0.4, 0.8, 1.6, 3.2])
    value = bdrate.bd_rate(anchor_r, psnr_of(anchor_r, 1.0), test_r, psnr_of(test_r, 0.9))
    assert value == pytest.approx(-10.0, abs=0.01)


def test_curves_without_common_quality_range_are_refused():
    with pytest.raises(bdrate.NoOverlapError):
        bdrate.bd_rate(RATES, PSNR, RATES, PSNR + 20.0)


def test_a_single_point_is_not_a_curve():
    with pytest.raises(ValueError):
        bdrate.bd_rate(RATES, PSNR, [0.5], [33.0])


@pytest.mark.parametrize(
    ("test_curve", "expected"),
    [(published.BPG, 21.987), (published.ELIC, -7.024), (published.TCM, -11.725)],
)
def test_agrees_with_an_independent_implementation_on_published_curves(test_curve, expected):
    # Expected values from the `bjontegaard` package 1.3.0 (method="pchip") on the same data.
    anchor = published.VTM
    value = bdrate.bd_rate(anchor.bpp, anchor.psnr_rgb, test_curve.bpp, test_curve.psnr_rgb)
    assert value == pytest.approx(expected, abs=0.001)


# Real-looking RD curves (bpp, PSNR dB) of different shapes: every one is curved in log-rate, so a
# piecewise-linear or polynomial stand-in for PCHIP gives a visibly different answer on them.
CURVED = {
    # a JPEG-like curve: steep at low rate, flattening fast (diminishing returns)
    "jpeg": ([0.25, 0.42, 0.66, 1.05, 1.62, 2.4], [25.1, 28.3, 30.6, 32.5, 34.1, 35.4]),
    # a learned codec: concave with a bend in the middle, five points
    "learned": ([0.11, 0.19, 0.33, 0.55, 0.86], [28.2, 30.1, 32.4, 34.6, 36.4]),
    # a codec that wins at low rate and loses at high rate (crosses the others)
    "crossing": ([0.08, 0.17, 0.36, 0.74, 1.5], [27.9, 30.6, 33.0, 34.8, 36.0]),
    # an almost straight log-rate curve with one kink, four points
    "kinked": ([0.15, 0.3, 0.9, 1.8], [28.9, 31.5, 35.8, 37.1]),
}


def _reference(anchor, test):
    import bjontegaard

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it warns on overlaps under 75 %; we check those too
        return bjontegaard.bd_rate(anchor[0], anchor[1], test[0], test[1], method="pchip",
                                   require_matching_points=False)


@pytest.mark.parametrize("anchor_name, test_name", [
    (a, t) for a in CURVED for t in CURVED if a != t
])
def test_agrees_with_the_bjontegaard_package_on_curved_curves(anchor_name, test_name):
    # bdrate interpolates log-rate over quality with PCHIP and integrates over the shared quality
    # range, which is bjontegaard's method="pchip" exactly (it uses log10, we use ln: PCHIP is
    # linear in its y values, so the answers are the same). Both integrate the same splines in
    # closed form, so they may differ only by float rounding: 1e-6 percentage points leaves
    # room for that and nothing else. (Swapping PCHIP for linear interpolation, Akima or the
    # cubic polynomial of VCEG-M33 moves every pair by at least 0.005 points, most by 0.2-7.)
    anchor, test = CURVED[anchor_name], CURVED[test_name]
    expected = _reference(anchor, test)
    assert np.isfinite(expected)
    value = bdrate.bd_rate(anchor[0], anchor[1], test[0], test[1])
    assert value == pytest.approx(expected, abs=1e-6)


def test_curved_comparison_does_not_depend_on_point_order():
    anchor, test = CURVED["jpeg"], CURVED["learned"]
    order = np.array([4, 1, 3, 0, 2])
    shuffled = bdrate.bd_rate(anchor[0], anchor[1], np.array(test[0])[order], np.array(test[1])[order])
    assert shuffled == pytest.approx(_reference(anchor, test), abs=1e-6)
