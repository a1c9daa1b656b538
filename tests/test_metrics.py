"""PSNR and MS-SSIM on uint8 RGB arrays: known values, edge cases, refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mambaic.eval import metrics


def _image(height: int = 192, width: int = 256, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    smooth = np.stack([xx * 255 / width, yy * 255 / height, (xx + yy) * 127 / (width + height)], -1)
    return np.clip(smooth + rng.normal(0, 8, smooth.shape), 0, 255).astype(np.uint8)


def test_psnr_of_identical_images_is_infinite():
    a = _image()
    assert metrics.psnr(a, a.copy()) == math.inf


def test_psnr_of_a_uniform_error_of_one_level():
    a = np.full((8, 8, 3), 100, np.uint8)
    # MSE 1 over every sample: 10 log10(255^2) = 48.1308 dB
    assert metrics.psnr(a, a + 1) == pytest.approx(48.1308036, abs=1e-6)


def test_psnr_averages_the_error_over_all_three_channels():
    a = np.zeros((4, 4, 3), np.uint8)
    b = a.copy()
    b[..., 0] = 16  # only red is off by 16: MSE = 256 / 3
    assert metrics.mse(a, b) == pytest.approx(256 / 3)
    assert metrics.psnr(a, b) == pytest.approx(10 * math.log10(255**2 * 3 / 256))


def test_metrics_refuse_mismatched_or_non_uint8_inputs():
    a = _image(32, 32)
    with pytest.raises(ValueError):
        metrics.psnr(a, a[:, :16])
    with pytest.raises(TypeError):
        metrics.psnr(a, a.astype(np.float32))
    with pytest.raises(ValueError):
        metrics.psnr(a[..., 0], a[..., 0])


def test_ms_ssim_is_one_for_identical_and_drops_with_distortion():
    a = _image()
    assert metrics.ms_ssim(a, a.copy()) == pytest.approx(1.0, abs=1e-6)
    rng = np.random.default_rng(1)
    mild = np.clip(a + rng.normal(0, 3, a.shape), 0, 255).astype(np.uint8)
    strong = np.clip(a + rng.normal(0, 30, a.shape), 0, 255).astype(np.uint8)
    assert 1.0 > metrics.ms_ssim(a, mild) > metrics.ms_ssim(a, strong) > 0.0


def test_ms_ssim_is_nan_below_its_five_scale_minimum():
    a = _image(160, 400)
    assert math.isnan(metrics.ms_ssim(a, a))
    b = _image(metrics.MS_SSIM_MIN_SIDE, 400)
    assert not math.isnan(metrics.ms_ssim(b, b))


def test_ms_ssim_db_scale():
    assert metrics.ms_ssim_db(0.99) == pytest.approx(20.0)
    assert metrics.ms_ssim_db(1.0) == math.inf


@pytest.mark.parametrize("shape", [(192, 256), (171, 193)])  # even and odd sides
def test_ms_ssim_matches_pytorch_msssim_as_compressai_uses_it(shape):
    torch = pytest.importorskip("torch")
    from pytorch_msssim import ms_ssim as reference

    a = _image(*shape)
    rng = np.random.default_rng(7)
    b = np.clip(a + rng.normal(0, 12, a.shape), 0, 255).astype(np.uint8)
    as_tensor = lambda v: torch.tensor(v, dtype=torch.float64).permute(2, 0, 1)[None]  # noqa: E731
    expected = float(reference(as_tensor(a), as_tensor(b), data_range=255.0))
    assert metrics.ms_ssim(a, b) == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("shape", [(192, 256), (171, 193)])  # even and odd sides
def test_metrics_computed_in_row_bands_equal_the_whole_image_pass(shape, monkeypatch):
    """Big photos are scored a band of rows at a time (memory stays flat); the band edges, the
    window's overlap and the odd-side padding of the pooling must not change the value."""
    a = _image(*shape)
    rng = np.random.default_rng(3)
    b = np.clip(a + rng.normal(0, 12, a.shape), 0, 255).astype(np.uint8)
    whole = metrics.ms_ssim(a, b), metrics.mse(a, b)
    monkeypatch.setattr(metrics, "_BAND_SAMPLES", 1)  # 16-row bands: many of them at every scale
    banded = metrics.ms_ssim(a, b), metrics.mse(a, b)
    assert banded[0] == pytest.approx(whole[0], abs=1e-12)
    assert banded[1] == whole[1]
    assert whole[0] < 0.999  # the pair is distorted: the comparison is not between two ones
