"""Fixtures shared by the core tests: a tiny random-weight model, saved and loaded as users do."""

from __future__ import annotations

from pathlib import Path

import pytest

from mambaic.codec.codec import Codec, load_codec
from mic_testing import make_tiny_weights


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    """A ``tiny`` model with seed-0 random weights, saved as a safetensors file."""
    return make_tiny_weights(tmp_path_factory.mktemp("weights") / "tiny.safetensors", seed=0)


@pytest.fixture(scope="module")
def codec(weights: Path) -> Codec:
    return load_codec(weights)
