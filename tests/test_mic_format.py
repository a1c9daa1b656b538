"""The .mic container: layout, validation messages, limits, and the magic the docs publish."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest

import mambaic
from mambaic.codec.alpha import AlphaKind, EncodedAlpha
from mambaic.codec.limits import MAX_METADATA_BYTES
from mambaic.codec.mic_format import (
    FORMAT_VERSION,
    MAGIC,
    parse_container,
    quantize_quality,
    validate_metadata,
)
from mambaic.errors import MicFormatError
from mic_testing import refresh_crcs, synthetic_container, synthetic_header

DOC = Path(__file__).resolve().parents[1] / "docs" / "mic-format.md"


def test_round_trip_preserves_everything():
    header = synthetic_header(mode="RGBA", source_mode="P")
    alpha = EncodedAlpha(AlphaKind.DEFLATE, data=zlib.compress(bytes(130 * 70)))
    data = synthetic_container(header, alpha, {"title": "café", "n": 3, "ok": True, "x": None})
    mic = parse_container(data)
    assert mic.header == header
    assert mic.alpha == alpha
    assert mic.metadata == {"title": "café", "n": 3, "ok": True, "x": None}
    assert mic.total_bytes == len(data)
    assert data.startswith(MAGIC)


def test_read_info_numbers_come_from_the_file():
    data = synthetic_container(synthetic_header(width=130, height=70, tile_size=64))
    info = mambaic.read_info(data)
    mic = parse_container(data)
    assert info.tile_count == 6 and len(mic.tiles) == 6
    assert info.y_shape == (8, 12) and info.z_shape == (2, 3)
    assert info.total_bytes == len(data)
    assert info.bpp == 8 * len(data) / (130 * 70)
    assert info.payload_bytes == info.z_bytes + sum(a + n for a, n in info.slices)
    assert info.payload_bpp == 8 * info.payload_bytes / (130 * 70)
    assert info.header_bytes + info.payload_bytes + 4 == info.total_bytes
    assert len(info.slices) == 5
    assert info.weights_sha256 == bytes(range(32)).hex()
    assert info.to_dict()["bpp"] == info.bpp


def test_quality_is_stored_in_thousandths():
    assert quantize_quality(2.0004) == 2.0
    data = synthetic_container(synthetic_header(quality=3.1234))
    assert parse_container(data).header.quality == 3.123
    with pytest.raises(ValueError):
        quantize_quality(float("nan"))


@pytest.mark.parametrize("data, message", [
    (b"", "not a .mic file"),
    (b"\x89PNG\r\n\x1a\n" + bytes(40), "not a .mic file"),
    (MAGIC + b"\x01", "truncated"),
])
def test_refuses_non_mic(data, message):
    with pytest.raises(MicFormatError, match=message):
        parse_container(data)


def test_unknown_version_is_a_clear_error():
    data = bytearray(synthetic_container())
    data[8:10] = struct.pack("<H", FORMAT_VERSION + 1)
    with pytest.raises(MicFormatError, match=r"unsupported \.mic format version 2"):
        parse_container(bytes(data))


def test_truncation_and_trailing_bytes():
    data = synthetic_container()
    with pytest.raises(MicFormatError, match="truncated"):
        parse_container(data[:-1])
    with pytest.raises(MicFormatError, match="truncated"):
        parse_container(data[:30])
    with pytest.raises(MicFormatError):
        parse_container(data + b"\0")


def test_checksums_catch_corruption():
    data = bytearray(synthetic_container())
    header_size = int.from_bytes(data[10:14], "little")
    flipped = bytearray(data)
    flipped[20] ^= 1
    with pytest.raises(MicFormatError, match="header checksum"):
        parse_container(bytes(flipped))
    flipped = bytearray(data)
    flipped[header_size + 3] ^= 0x40
    with pytest.raises(MicFormatError, match="payload checksum"):
        parse_container(bytes(flipped))


def _with_field(data: bytes, offset: int, fmt: str, value) -> bytes:
    buf = bytearray(data)
    struct.pack_into(fmt, buf, offset, value)
    return refresh_crcs(buf)


# Field offsets for the synthetic header: magic 8, version 2, size 4, name "tiny" (1+4), sha 32.
_IMAGE_AT = 14 + 5 + 32


def test_oversized_dimensions_are_refused_before_allocation():
    data = synthetic_container()
    huge = _with_field(data, _IMAGE_AT + 2, "<I", 65_535)  # width
    huge = _with_field(huge, _IMAGE_AT + 6, "<I", 65_535)  # height
    with pytest.raises(MicFormatError, match="refuse to decode.*limit"):
        parse_container(huge)
    zero = _with_field(data, _IMAGE_AT + 2, "<I", 0)
    with pytest.raises(MicFormatError, match="no pixels"):
        parse_container(zero)


def test_tile_count_must_match_dimensions():
    data = synthetic_container()
    wider = _with_field(data, _IMAGE_AT + 2, "<I", 4000)  # now needs 2 tiles of 2048
    with pytest.raises(MicFormatError, match="tiles"):
        parse_container(wider)


def test_bad_mode_and_alpha_contradictions():
    data = synthetic_container()
    with pytest.raises(MicFormatError, match="mode code"):
        parse_container(_with_field(data, _IMAGE_AT + 10, "<B", 9))
    with pytest.raises(MicFormatError, match="contradicts"):
        parse_container(_with_field(data, _IMAGE_AT + 10, "<B", 2))  # RGBA without alpha


def test_metadata_rules():
    with pytest.raises(ValueError, match="must be str"):
        validate_metadata({"nested": {"a": 1}})
    with pytest.raises(ValueError, match="not a string"):
        validate_metadata({1: "x"})
    with pytest.raises(ValueError, match="limit"):
        synthetic_container(metadata={"big": "x" * MAX_METADATA_BYTES})
    with pytest.raises(ValueError):
        synthetic_container(metadata={"nan": float("nan")})


def test_writer_refuses_inconsistent_headers():
    with pytest.raises(ValueError):
        synthetic_container(synthetic_header(mode="CMYK"))
    with pytest.raises(MicFormatError, match="tile size"):
        synthetic_container(synthetic_header(tile_size=100))


def _doc_block(kind: str) -> str:
    match = re.search(rf"```{kind}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert match, f"docs/mic-format.md has no ```{kind} block"
    return match.group(1)


def test_docs_shared_mime_info_matches_magic():
    root = ET.fromstring(_doc_block("xml"))
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    match = root.find(".//m:magic/m:match", ns)
    value = match.get("value").encode("latin-1").decode("unicode_escape").encode("latin-1")
    assert value == MAGIC and match.get("offset") == "0"
    assert root.find(".//m:glob", ns).get("pattern") == "*.mic"
    assert root.find("m:mime-type", ns).get("type") == "application/x-mambaic-mic"


@pytest.mark.skipif(shutil.which("file") is None, reason="file(1) not installed")
def test_docs_magic_rule_is_understood_by_file(tmp_path):
    magic = tmp_path / "mic.magic"
    magic.write_text(_doc_block("magic"))
    sample = tmp_path / "x.mic"
    sample.write_bytes(synthetic_container())
    out = subprocess.run(["file", "-m", str(magic), str(sample)], capture_output=True, text=True)
    assert "MambaIC compressed image" in out.stdout and "version 1" in out.stdout
