"""classic_at_size: a classic codec bisected to a byte budget, never over it without saying so."""

from __future__ import annotations

import math

import numpy as np
import pytest
from mic_testing import sample_image

from mambaic.errors import Cancelled
from mambaic.eval import classic, metrics
from mambaic.eval.equal_size import MAX_ENCODES, QUALITY_RANGES, classic_at_size, quality_range

AVAILABLE, _MISSING = classic.all_codecs()
SEARCHABLE = [name for name in QUALITY_RANGES if name in AVAILABLE]


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    return np.asarray(sample_image(96, 80))


@pytest.mark.parametrize("name", SEARCHABLE)
def test_never_over_the_target_when_reachable(name, rgb):
    codec = AVAILABLE[name]
    low, high = QUALITY_RANGES[name]
    smallest = len(codec.encode(rgb, low))
    largest = len(codec.encode(rgb, high))
    for target in (smallest, (smallest + largest) // 2, largest + 1000):
        result = classic_at_size(codec, rgb, target)
        assert result.fits and result.num_bytes <= target
        assert low <= result.quality <= high
        assert result.encodes <= MAX_ENCODES
        assert result.data == codec.encode(rgb, result.quality)  # the quality reported made it
    # A budget well inside the range is used, not wasted on the lowest setting.
    middle = classic_at_size(codec, rgb, (smallest + largest) // 2)
    assert middle.quality > low and middle.num_bytes > smallest
    # Above the largest file: the highest setting.
    assert classic_at_size(codec, rgb, largest + 1000).quality == high


@pytest.mark.parametrize("name", SEARCHABLE)
def test_flag_when_even_the_lowest_quality_is_larger(name, rgb):
    codec = AVAILABLE[name]
    low, _high = QUALITY_RANGES[name]
    smallest = codec.encode(rgb, low)
    result = classic_at_size(codec, rgb, len(smallest) - 1)
    assert not result.fits
    assert result.quality == low and result.data == smallest
    assert result.num_bytes > result.target_bytes
    assert result.encodes == 1


def test_decoded_image_and_scores_are_those_of_the_returned_bytes(rgb):
    codec = AVAILABLE["jpeg420"]
    result = classic_at_size(codec, rgb, 1500)
    np.testing.assert_array_equal(result.decoded, codec.decode(result.data))
    assert result.psnr == pytest.approx(metrics.psnr(rgb, result.decoded))
    assert math.isnan(result.ms_ssim)  # 80 px is below MS-SSIM's minimum side
    assert result.bpp(96, 80) == pytest.approx(result.num_bytes * 8 / (96 * 80))
    assert result.label == codec.label and result.codec == "jpeg420"


def test_ms_ssim_measured_on_large_enough_images():
    rgb = np.asarray(sample_image(176, 168))
    result = classic_at_size(AVAILABLE["jpeg420"], rgb, 4000)
    assert result.ms_ssim == pytest.approx(metrics.ms_ssim(rgb, result.decoded))
    assert 0 < result.ms_ssim <= 1


def test_cancel_and_progress(rgb):
    calls = []
    result = classic_at_size(AVAILABLE["jpeg420"], rgb, 1500,
                             progress=lambda done, total, stage: calls.append((done, total)))
    assert calls and calls[-1][0] == result.encodes and all(t == MAX_ENCODES for _, t in calls)
    polls = []

    def cancel() -> bool:
        polls.append(1)
        return len(polls) > 2

    with pytest.raises(Cancelled):
        classic_at_size(AVAILABLE["jpeg420"], rgb, 1500, cancel=cancel)


def test_bad_arguments(rgb):
    with pytest.raises(ValueError):
        classic_at_size(AVAILABLE["jpeg420"], rgb, 0)
    hevc = classic.SweptCodec("hevc444", "HEVC", "", (30,), lambda a, q: b"", lambda b: rgb)
    with pytest.raises(ValueError, match="supported"):
        quality_range(hevc)
