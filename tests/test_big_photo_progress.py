"""A multi-tile photo reports progress per tile, through the codec and the app's encode job."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mambaic.codec.codec import Codec, CodecConfig, load_codec
from mambaic.errors import Cancelled
from mambaic.models.registry import build_model
from mambaic.weights import save_weights
from mambaic_gui import tasks
from mambaic_gui.document import Document


@pytest.fixture(scope="module")
def tiled_codec(tmp_path_factory) -> Codec:
    """The tiny untrained model with 64-px tiles, so a 192 × 128 image is six tiles."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    save_weights(build_model("tiny"), path)
    return load_codec(path, config=CodecConfig(tile_size=64, refine_tile_size=64))


def _image() -> np.ndarray:
    y, x = np.mgrid[0:128, 0:192]
    return np.dstack([x % 256, y * 2 % 256, (x + y) % 256]).astype(np.uint8)


def test_encode_job_progress_names_every_tile_and_only_grows(tiled_codec):
    image = _image()
    document = Document(name="big.png", path=None, original=image, source=image)
    steps: list[tuple[int, int, str]] = []
    run = tasks.encode(document, 3.0)
    result = run(tiled_codec, lambda d, t, s: steps.append((d, t, s)), lambda: False)
    assert result.decoded.shape == image.shape
    stages = [s for _, _, s in steps]
    for tile in range(1, 7):
        assert any(f"encoding q 3.00: tile {tile}/6" in s for s in stages)
        assert any(f"decoding q 3.00: tile {tile}/6" in s for s in stages)
    done = [d for d, _, _ in steps]
    assert done == sorted(done) and done[-1] == steps[-1][1]


def test_cancel_between_tiles_stops_the_encode(tiled_codec):
    seen: list[int | None] = []
    with pytest.raises(Cancelled):
        tiled_codec.compress(_image(), 3.0, progress=lambda event: seen.append(event.tile),
                             cancel=lambda: 2 in seen)
    assert 1 in seen and 3 not in seen
