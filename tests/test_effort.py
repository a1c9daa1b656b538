"""Effort levels: every level writes an ordinary file any decoder reads, is reproducible, and is
never worse than the plain encoder in the real rate-distortion cost of its bytes and pixels."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mambaic.codec.codec import CodecConfig, load_codec
from mambaic.codec.effort import EFFORT_MAX, EFFORT_STEPS, describe_steps, refine_steps_for
from mambaic.models.gain import lambda_for_quality
from mambaic.resources import resource_dir
from mic_testing import sample_image


def _rd_cost(codec, image: Image.Image, data: bytes, quality: float) -> float:
    """λ·255²·MSE of the decoded file + its bits per pixel, from a fresh decode of the bytes."""
    decoded = np.asarray(codec.decompress(data).convert("RGB"), dtype=np.float64)
    original = np.asarray(image.convert("RGB"), dtype=np.float64)
    mse = float(np.mean((decoded - original) ** 2)) / 255 ** 2
    return lambda_for_quality(quality, codec.model.cfg.lambdas) * 255 ** 2 * mse + (
        8 * len(data) / (image.width * image.height))


@pytest.mark.parametrize("effort", range(EFFORT_MAX + 1))
def test_every_level_round_trips_reproducibly_and_is_never_worse_than_plain(weights, codec, effort):
    # Two tiles, so the per-tile choice between refined and plain coding is exercised.
    tiled = load_codec(weights, config=CodecConfig(refine_tile_size=64))
    image = sample_image(120, 64, seed=effort)
    result = tiled.compress_report(image, 2.5, effort=effort)
    assert tiled.compress(image, 2.5, effort=effort) == result.data
    assert result.refine_steps == EFFORT_STEPS[effort]
    assert 0 <= result.refined_tiles <= (2 if effort else 0)
    decoded = load_codec(weights).decompress(result.data)  # a plain decoder needs nothing else
    assert decoded.size == image.size
    plain = tiled.compress(image, 2.5)
    # The container's few length bytes may differ with the streams' lengths: allow 4 bytes.
    slack = 8 * 4 / (image.width * image.height)
    assert _rd_cost(codec, image, result.data, 2.5) <= _rd_cost(codec, image, plain, 2.5) + slack


def test_a_refined_tile_is_kept_only_when_its_real_cost_is_lower():
    codec = load_codec()  # shipped weights: refinement pays off on a real photo crop
    with Image.open(resource_dir("samples") / "astronaut.png") as im:
        photo = im.convert("RGB").crop((200, 300, 328, 428))
    result = codec.compress_report(photo, 3.0, effort=2)
    plain = codec.compress(photo, 3.0)
    assert result.refined_tiles == 1
    assert _rd_cost(codec, photo, result.data, 3.0) < _rd_cost(codec, photo, plain, 3.0)


def test_effort_and_refine_steps_are_checked():
    assert refine_steps_for(None, None) == EFFORT_STEPS[0]
    assert refine_steps_for(2, None) == EFFORT_STEPS[2]
    assert refine_steps_for(None, 7) == 7
    for effort in (-1, EFFORT_MAX + 1, 1.0, True, "1"):
        with pytest.raises(ValueError, match="effort"):
            refine_steps_for(effort, None)
    with pytest.raises(ValueError, match="not both"):
        refine_steps_for(1, 3)
    assert describe_steps(EFFORT_STEPS[1]) == f"effort 1 ({EFFORT_STEPS[1]} refinement steps)"
    assert describe_steps(7) == "7 refinement steps"
