"""`mambaic.psnr.psnr_from_mse`, the one PSNR formula behind evaluation, validation and training logs."""

from __future__ import annotations

import math

import pytest

from mambaic.psnr import psnr_from_mse


def test_identical_pixels_are_infinitely_far_above_the_noise():
    assert psnr_from_mse(0.0) == math.inf


def test_one_level_of_8_bit_error():
    assert psnr_from_mse(1.0) == pytest.approx(48.1308036, abs=1e-6)


def test_peak_one_for_pixels_on_zero_to_one():
    assert psnr_from_mse(0.01, peak=1.0) == pytest.approx(20.0)
    assert psnr_from_mse((1 / 255) ** 2, peak=1.0) == pytest.approx(psnr_from_mse(1.0))
