"""Issue #17: hostile metadata, huge declared images and tiles, out-of-range qualities."""

from __future__ import annotations

import pytest

from mambaic.codec.codec import Codec, CodecConfig
from mambaic.codec.limits import MAX_TILE_SIZE
from mambaic.codec.mic_format import parse_container, quantize_quality, read_header
from mambaic.errors import DecodeLimitError, MicFormatError
from mambaic.text import printable
from mic_testing import refresh_crcs, synthetic_container, synthetic_header


def test_printable_escapes_controls_and_surrogates():
    assert printable("a\x9b[2Jb") == "a\\x9b[2Jb"
    assert printable("x\ud800") == "x\\ud800"
    assert printable("back\\slash") == "back\\\\slash"
    assert printable("naïve ≤ 2") == "naïve ≤ 2"


@pytest.mark.parametrize("metadata", [{"k": "\x9b31m"}, {"k": "\ud800"}, {"\x1b": "v"}])
def test_writer_refuses_non_text_metadata(metadata):
    with pytest.raises(ValueError, match="metadata"):
        synthetic_container(metadata=metadata)


@pytest.mark.parametrize("escaped", [b"\\u009b", b"\\ud800"])
def test_reader_refuses_non_text_metadata(escaped):
    data = bytearray(synthetic_container(metadata={"k": "vvvvvv"}))
    at = data.index(b"vvvvvv")
    data[at:at + 6] = escaped
    with pytest.raises(MicFormatError, match="metadata"):
        parse_container(refresh_crcs(bytes(data)))


def test_reader_refuses_tiles_above_the_decoder_bound():
    data = bytearray(synthetic_container(synthetic_header(tile_size=MAX_TILE_SIZE)))
    header = read_header(bytes(data))
    assert header.tile_size == MAX_TILE_SIZE
    at = bytes(data).index((MAX_TILE_SIZE).to_bytes(4, "little"))
    data[at:at + 4] = (1 << 16).to_bytes(4, "little")
    with pytest.raises(MicFormatError, match="tile size"):
        parse_container(refresh_crcs(bytes(data)))


def test_quality_overflow_is_a_value_error():
    with pytest.raises(ValueError):
        quantize_quality(10 ** 400)
    with pytest.raises(TypeError):
        quantize_quality("3")


def test_decode_honours_max_pixels(codec, weights):
    from mambaic.weights import load_model
    from mic_testing import sample_image

    data = codec.compress(sample_image(64, 48), 3.0)
    model, info = load_model(weights, "cpu")
    capped = Codec(model, info, config=CodecConfig(max_pixels=64 * 47))
    with pytest.raises(DecodeLimitError, match="refusing to decode"):
        capped.decompress(data)
    assert codec.decompress(data).size == (64, 48)
