"""Fuzzing the .mic reader: truncated, bit-flipped, re-checksummed and random files.

Only ``MicFormatError`` (including ``DecodeMismatchError``) may come out — never another
exception, a crash, a hang or a large allocation. Most mutations are caught by the CRCs, so many
mutants get their CRCs recomputed to reach the field checks behind them.
"""

from __future__ import annotations

import struct
import time
import tracemalloc
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mambaic
from mambaic.codec.alpha import encode_alpha
from mambaic.codec.mic_format import MAGIC, parse_container
from mambaic.errors import MicFormatError
from mic_testing import (
    refresh_crcs,
    sample_image,
    synthetic_container,
    synthetic_header,
)

Mutator = Callable[[bytes, np.random.Generator], bytes]


def _seeds() -> list[bytes]:
    alpha_plane = np.random.default_rng(2).integers(0, 4, (70, 130), dtype=np.uint8) * 60
    return [
        synthetic_container(),
        synthetic_container(synthetic_header(mode="RGBA"), encode_alpha(alpha_plane),
                            {"title": "fuzz", "n": 1}),
        synthetic_container(synthetic_header(tile_size=64, width=200, height=90, mode="LA"),
                            encode_alpha(np.full((90, 200), 7, np.uint8))),
    ]


def _flip_bits(data: bytes, rng: np.random.Generator) -> bytes:
    buf = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        position = int(rng.integers(len(buf)))
        buf[position] ^= 1 << int(rng.integers(8))
    return bytes(buf)


def _set_bytes(data: bytes, rng: np.random.Generator) -> bytes:
    buf = bytearray(data)
    position = int(rng.integers(len(buf)))
    value = int(rng.choice([0, 0xFF, 0x7F, 0x80, int(rng.integers(256))]))
    buf[position:position + int(rng.integers(1, 5))] = bytes([value]) * 4
    return bytes(buf[:len(data)])


def _insert_or_delete(data: bytes, rng: np.random.Generator) -> bytes:
    position = int(rng.integers(len(data)))
    if rng.random() < 0.5:
        return data[:position] + rng.bytes(int(rng.integers(1, 16))) + data[position:]
    return data[:position] + data[position + int(rng.integers(1, 16)):]


def _header_field(data: bytes, rng: np.random.Generator) -> bytes:
    """Overwrite a header integer with an extreme value, then fix the CRCs."""
    header_size = int.from_bytes(data[10:14], "little")
    buf = bytearray(data)
    position = int(rng.integers(8, header_size - 4))
    width = int(rng.choice([1, 2, 4]))
    value = int(rng.choice([0, 1, 2 ** (8 * width) - 1, 2 ** (8 * width - 1),
                            int(rng.integers(2 ** (8 * width)))]))
    buf[position:position + width] = value.to_bytes(width, "little")
    return refresh_crcs(bytes(buf[:len(data)]))


def _rechecked_flip(data: bytes, rng: np.random.Generator) -> bytes:
    return refresh_crcs(_flip_bits(data, rng))


def _rechecked_resize(data: bytes, rng: np.random.Generator) -> bytes:
    return refresh_crcs(_insert_or_delete(data, rng))


def _random_file(data: bytes, rng: np.random.Generator) -> bytes:
    size = int(rng.integers(0, 400))
    prefix = [b"", MAGIC, MAGIC + struct.pack("<H", 1)][int(rng.integers(3))]
    return refresh_crcs(prefix + rng.bytes(size))


MUTATORS: list[Mutator] = [_flip_bits, _set_bytes, _insert_or_delete, _header_field,
                           _rechecked_flip, _rechecked_resize, _random_file]


def _mutants(seeds: list[bytes], count: int, seed: int = 0) -> Iterator[bytes]:
    rng = np.random.default_rng(seed)
    for data in seeds:  # every truncation of the smallest file
        if len(data) == min(map(len, seeds)):
            yield from (data[:cut] for cut in range(len(data)))
    for index in range(count):
        data = seeds[index % len(seeds)]
        yield MUTATORS[index % len(MUTATORS)](data, rng)


def _only_format_errors(read: Callable[[bytes], object], data: bytes) -> bool:
    try:
        read(data)
    except MicFormatError:
        return False
    return True


def test_reader_survives_thousands_of_mutants():
    tracemalloc.start()
    started = time.perf_counter()
    tested = accepted = 0
    slowest = 0.0
    for mutant in _mutants(_seeds(), 12_000):
        t0 = time.perf_counter()
        reader = parse_container if tested % 2 else mambaic.read_info
        accepted += _only_format_errors(reader, mutant)
        slowest = max(slowest, time.perf_counter() - t0)
        tested += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    elapsed = time.perf_counter() - started
    print(f"\nfuzz: {tested} mutants, {accepted} still valid, {elapsed:.1f} s, "
          f"slowest {slowest * 1e3:.1f} ms, peak {peak / 1e6:.1f} MB")
    assert tested >= 12_000
    assert slowest < 0.5
    assert peak < 20e6


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512), st.sampled_from([b"", MAGIC, MAGIC + b"\x01\x00"]))
def test_reader_on_arbitrary_bytes(tail, prefix):
    _only_format_errors(parse_container, refresh_crcs(prefix + tail))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_reader_on_edited_valid_files(data):
    original = bytearray(_SEED)
    edits = data.draw(st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)),
                               min_size=1, max_size=4))
    for position, value in edits:
        original[position] = value
    fix = data.draw(st.booleans())
    _only_format_errors(parse_container, refresh_crcs(original) if fix else bytes(original))


_SEED = _seeds()[1]


# ---- through the real decoder ----------------------------------------------------------------

@pytest.fixture(scope="module")
def real_file(codec) -> bytes:
    return codec.compress(sample_image(64, 48, "RGBA"), 3.0, metadata={"k": "v"})


def _payload_mutant(data: bytes, rng: np.random.Generator) -> bytes:
    """Damage the entropy-coded streams but keep every checksum and length valid."""
    header_size = int.from_bytes(data[10:14], "little")
    buf = bytearray(data)
    start = header_size
    end = len(buf) - 4
    choice = rng.integers(3)
    if choice == 0:  # random flips in the streams
        for _ in range(int(rng.integers(1, 6))):
            buf[int(rng.integers(start, end))] ^= 1 << int(rng.integers(8))
    elif choice == 1:  # a run of 0xFF: long rANS bypass codes
        at = int(rng.integers(start, end - 8))
        buf[at:at + 8] = b"\xff" * 8
    else:  # all streams replaced by random bytes of the same length
        buf[start:end] = rng.bytes(end - start)
    return refresh_crcs(bytes(buf))


def test_decoder_on_mutants(codec, real_file):
    assert codec.decompress(real_file).size == (64, 48)
    rng = np.random.default_rng(1)
    shallow = [m for _, m in zip(range(300), _mutants([real_file], 300, seed=2))]
    deep = [_payload_mutant(real_file, rng) for _ in range(12)]
    decoded = 0
    for mutant in shallow + deep:
        decoded += _only_format_errors(codec.decompress, mutant)
    print(f"\ndecoder fuzz: {len(shallow)} shallow + {len(deep)} deep mutants, {decoded} decoded")


def test_decoder_refuses_streams_longer_than_the_model_allows(codec, real_file):
    mic = parse_container(real_file)
    header_size = mic.header_bytes
    # Grow the first z stream by 4 KiB of zeros: lengths and CRCs are fixed up to stay valid.
    z_len_at = header_size - 4 - (4 + 12 * mic.header.num_slices)
    buf = bytearray(real_file)
    old = int.from_bytes(buf[z_len_at:z_len_at + 4], "little")
    buf[z_len_at:z_len_at + 4] = (old + 4096).to_bytes(4, "little")
    buf[header_size + old:header_size + old] = bytes(4096)
    with pytest.raises(MicFormatError, match="longer than"):
        codec.decompress(refresh_crcs(bytes(buf)))


@pytest.mark.slow
def test_decoder_on_many_deep_mutants(codec, real_file):
    rng = np.random.default_rng(3)
    for _ in range(150):
        _only_format_errors(codec.decompress, _payload_mutant(real_file, rng))


def test_crc_catches_every_single_bit_flip_of_a_small_file():
    data = _seeds()[0]
    for position in range(len(data)):
        for bit in range(8):
            flipped = bytearray(data)
            flipped[position] ^= 1 << bit
            with pytest.raises(MicFormatError):
                parse_container(bytes(flipped))
