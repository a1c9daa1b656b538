"""Classic codec adapters: real round trips, bpp from the bytes, sweeps that order by rate."""

from __future__ import annotations

import numpy as np
import pytest

from mambaic.eval import classic, hevc
from mambaic.eval.sweep import measure

ALL_NAMES = ("jpeg420", "jpeg444", "webp", "avif", "jxl", "hevc444")


def _photo(height: int = 96, width: int = 136) -> np.ndarray:
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([xx * 2.0, yy * 2.5, 128 + 60 * np.sin(xx / 9.0)], -1)
    return np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)


def _codec(name: str):
    available, missing = classic.all_codecs()
    if name not in available:
        pytest.skip(f"{name} not available here: {missing[name]}")
    return available[name]


def test_every_known_codec_is_either_available_or_explained():
    available, missing = classic.all_codecs()
    assert set(available) | set(missing) == set(ALL_NAMES)
    assert not set(available) & set(missing)
    assert all(reason for reason in missing.values())


@pytest.mark.parametrize("name", ALL_NAMES)
def test_round_trip_scores_the_decoded_pixels_and_counts_real_bytes(name):
    codec = _codec(name)
    rgb = _photo()
    quality = codec.sweep[len(codec.sweep) // 2]
    data = codec.encode(rgb, quality)
    decoded = codec.decode(data)
    assert decoded.shape == rgb.shape and decoded.dtype == np.uint8
    m = measure(codec, "photo", rgb, quality)
    assert m.num_bytes == len(data)  # deterministic encoders: the same file again
    assert m.bpp == pytest.approx(len(data) * 8 / (rgb.shape[0] * rgb.shape[1]))
    assert 22.0 < m.psnr < 60.0
    assert m.encode_s > 0 and m.decode_s > 0


@pytest.mark.parametrize("name", ALL_NAMES)
def test_sweep_spans_low_to_high_rate(name):
    codec = _codec(name)
    rgb = _photo()
    sizes = [len(codec.encode(rgb, q)) for q in (codec.sweep[0], codec.sweep[-1])]
    assert len(codec.sweep) >= 8
    assert sizes[0] < sizes[1] / 3  # the ends of the sweep are far apart in rate


def test_hevc_handles_odd_sizes_and_reads_the_size_from_the_stream():
    if hevc.unavailable_reason():
        pytest.skip(hevc.unavailable_reason())
    rgb = _photo(37, 51)
    decoded = hevc.decode(hevc.encode(rgb, 22))
    assert decoded.shape == rgb.shape
    err = np.abs(decoded.astype(int) - rgb.astype(int)).mean()
    assert err < 6


def test_select_rejects_unknown_names_and_reports_missing_ones():
    with pytest.raises(ValueError, match="unknown codec"):
        classic.select(["jpeg420", "bogus"])
    chosen, _ = classic.select(["jpeg420"])
    assert [c.name for c in chosen] == ["jpeg420"]
