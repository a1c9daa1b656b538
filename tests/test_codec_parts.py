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


def _adversarial_images():
    """Inputs that push the encoder's rate up: white noise, saturated noise, a 1-px checkerboard."""
    rng = np.random.default_rng(7)
    noise = rng.integers(0, 256, (70, 130, 3), dtype=np.uint8)
    saturated = (rng.integers(0, 2, (64, 64, 3)) * 255).astype(np.uint8)
    yy, xx = np.mgrid[0:64, 0:64]
    checker = np.repeat((((xx + yy) % 2) * 255).astype(np.uint8)[..., None], 3, axis=-1)
    return {"noise": noise, "saturated": saturated, "checker": checker}


@pytest.mark.parametrize("kind", ["noise", "saturated", "checker"])
def test_real_streams_of_hostile_inputs_stay_within_the_readers_bound(codec, monkeypatch, kind):
    from mambaic.codec.mic_format import parse_container
    from mambaic.models import gaussian_coding

    real_encode, coded = gaussian_coding.encode, []

    def recording(gc, values, scales, means):
        data, symbols, dequantised = real_encode(gc, values, scales, means)
        coded.append((symbols.size, len(data)))
        return data, symbols, dequantised

    monkeypatch.setattr(gaussian_coding, "encode", recording)
    image = _adversarial_images()[kind]
    for quality in (1.0, 5.0):
        coded.clear()
        data = codec.compress(image, quality)
        mic = parse_container(data)
        (tile,) = tile_grid(*mic.header.padded_size, mic.header.tile_size)
        z_symbols, slice_symbols = codec._symbol_counts(mic.header, tile)
        # Every stream the encoder really wrote fits the bound for the symbols it really coded,
        # and the reader's per-stream symbol count is never below what was coded.
        assert len(coded) == 2 * mic.header.num_slices
        for symbols, size in coded:
            assert 0 < size <= max_stream_bytes(symbols) and symbols <= slice_symbols
        assert len(mic.tiles[0].z) <= max_stream_bytes(z_symbols)
        decoded = codec.decompress(data)  # and the reader accepts them
        assert decoded.size == (image.shape[1], image.shape[0])


def _with_stream(mic, part: str, stream: bytes) -> bytes:
    from mambaic.codec.mic_format import encode_container

    tile = mic.tiles[0]
    if part == "z":
        tile = TileStreams(stream, tile.slices)
    else:
        first = tile.slices[0]
        first = (SliceStream(stream, first.nonanchor, first.symbols_crc) if part == "anchor"
                 else SliceStream(first.anchor, stream, first.symbols_crc))
        tile = TileStreams(tile.z, (first,) + tile.slices[1:])
    return encode_container(mic.header, [tile], mic.alpha, mic.metadata)


@pytest.mark.parametrize("part", ["z", "anchor", "non-anchor"])
def test_a_stream_one_byte_over_the_bound_is_refused_and_one_at_it_decodes(codec, part):
    from mambaic.codec.mic_format import parse_container

    image = _adversarial_images()["noise"][:64, :64]
    data = codec.compress(image, 3.0)
    mic = parse_container(data)
    (tile,) = tile_grid(*mic.header.padded_size, mic.header.tile_size)
    z_symbols, slice_symbols = codec._symbol_counts(mic.header, tile)
    limit = max_stream_bytes(z_symbols if part == "z" else slice_symbols)
    first = mic.tiles[0].slices[0]
    stream = {"z": mic.tiles[0].z, "anchor": first.anchor, "non-anchor": first.nonanchor}[part]
    # rANS reads its stream from the front, so zeros after the real data are never read: a
    # stream filled up to the bound is still a valid file and decodes to the same pixels.
    at_limit = _with_stream(mic, part, stream + bytes(limit - len(stream)))
    assert np.array_equal(np.asarray(codec.decompress(at_limit)), np.asarray(codec.decompress(data)))
    with pytest.raises(MicFormatError, match="longer than"):
        codec.decompress(_with_stream(mic, part, stream + bytes(limit + 1 - len(stream))))


def test_stream_guard_limits_and_padding():
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


def test_outliers_are_clamped_so_the_coder_never_outgrows_its_buffer(codec):
    """CompressAI's encoder has one 32-bit word per symbol and bypass-codes values beyond a narrow
    Gaussian's table at up to ~5.5 bytes each: unclamped, 100 symbols of 70 000 wrote 508 bytes
    into its 400-byte buffer. Symbols are clamped to ±MAX_SYMBOL, where even all-outlier
    streams fit, and the bound the reader enforces then covers every stream."""
    import torch

    from mambaic.models import gaussian_coding

    for n in (16, 100):
        for value in (70000.0, -1e6, 300.0):
            data, host, _ = gaussian_coding.encode(codec.model.latent.gaussian_conditional,
                                                   torch.full((n,), value), torch.full((n,), 0.11),
                                                   torch.zeros(n))
            assert abs(int(host[0])) == gaussian_coding.MAX_SYMBOL
            assert len(data) <= max_stream_bytes(n)
            decoded, _ = gaussian_coding.decode(codec.model.latent.gaussian_conditional, data,
                                                torch.full((n,), 0.11), torch.zeros(n))
            assert (decoded == host).all()
