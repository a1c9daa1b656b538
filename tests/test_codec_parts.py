"""The small pieces of the codec: padding, tiling, alpha storage and the rANS stream guard."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from mambaic.codec.alpha import AlphaKind, EncodedAlpha, decode_alpha, encode_alpha
from mambaic.codec.mic_format import SliceStream, TileStreams
from mambaic.codec.padding import crop, pad_edges, padded_size
from mambaic.codec.stream_guard import (
    PaddedSlices,
    check_tile,
    max_stream_bytes,
    padded,
)
from mambaic.codec.tiling import tile_count, tile_grid
from mambaic.errors import MicFormatError


@pytest.mark.parametrize("height, width", [(1, 1), (17, 33), (64, 64), (70, 130)])
def test_padding_replicates_edges_and_crops_back(height, width):
    image = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    padded_image = pad_edges(image, 64)
    assert padded_image.shape[:2] == padded_size(height, width, 64)
    assert padded_image.shape[0] % 64 == 0 and padded_image.shape[1] % 64 == 0
    assert np.array_equal(padded_image[-1, -1], image[-1, -1])
    assert np.array_equal(crop(padded_image, height, width), image)


@pytest.mark.parametrize("height, width, tile", [(64, 64, 2048), (128, 192, 64), (4032, 3008, 2048)])
def test_tiles_cover_the_image_exactly(height, width, tile):
    tiles = tile_grid(height, width, tile)
    assert len(tiles) == tile_count(height, width, tile)
    covered = np.zeros((height, width), dtype=np.int32)
    for t in tiles:
        covered[t.top:t.top + t.height, t.left:t.left + t.width] += 1
        assert t.height % 64 == 0 and t.width % 64 == 0
    assert (covered == 1).all()


@pytest.mark.parametrize("plane, kind", [
    (None, AlphaKind.NONE),
    (np.full((5, 7), 255, np.uint8), AlphaKind.CONSTANT),
    (np.zeros((5, 7), np.uint8), AlphaKind.CONSTANT),
    (np.random.default_rng(1).integers(0, 256, (5, 7), dtype=np.uint8), AlphaKind.DEFLATE),
])
def test_alpha_round_trip(plane, kind):
    stored = encode_alpha(plane)
    assert stored.kind == kind
    decoded = decode_alpha(stored, 7, 5)
    assert (decoded is None) if plane is None else np.array_equal(decoded, plane)


def test_alpha_refuses_corrupt_and_oversized_streams():
    with pytest.raises(MicFormatError, match="corrupt"):
        decode_alpha(EncodedAlpha(AlphaKind.DEFLATE, data=b"garbage"), 7, 5)
    bomb = zlib.compress(bytes(10_000_000))
    with pytest.raises(MicFormatError, match="size"):
        decode_alpha(EncodedAlpha(AlphaKind.DEFLATE, data=bomb), 7, 5)
    short = zlib.compress(bytes(10))
    with pytest.raises(MicFormatError, match="size"):
        decode_alpha(EncodedAlpha(AlphaKind.DEFLATE, data=short), 7, 5)


def test_stream_guard_limits_and_padding():
    assert max_stream_bytes(100) == 408
    assert padded(b"abc", 10).startswith(b"abc") and len(padded(b"abc", 10)) > 3 + 40 + 48
    tile = TileStreams(b"z" * 20, (SliceStream(b"a" * 10, b"n" * 500, 0),))
    check_tile(tile, z_symbols=10, slice_symbols=200)
    with pytest.raises(MicFormatError, match="non-anchor"):
        check_tile(tile, z_symbols=10, slice_symbols=100)
    with pytest.raises(MicFormatError, match="z stream"):
        check_tile(tile, z_symbols=1, slice_symbols=200)
    pairs = PaddedSlices(tile, 200)
    assert len(pairs) == 1 and pairs[0][0].startswith(b"a" * 10) and pairs[-1] == pairs[0]
    assert list(pairs) == [pairs[0]]
