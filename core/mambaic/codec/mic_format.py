"""The ``.mic`` container: writing it, and reading it as if every file were hostile.

The byte layout is specified in ``docs/mic-format.md``; this module is its only implementation.
The reader checks, in this order: magic, version, declared sizes against the bytes actually
present, the header CRC, every field's range, the stream table's size against the header size,
the stream lengths against the file size, the payload CRC, and the metadata. Every length it
uses to slice or allocate has been bounded by the input's own size or by :mod:`.limits` first,
and it has no loop whose count is not bounded that way, so any input ends in a result or in
:class:`~mambaic.errors.MicFormatError` quickly.
"""

from __future__ import annotations

import json
import math
import numbers
import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Union

from mambaic.codec.alpha import AlphaKind, EncodedAlpha
from mambaic.codec.limits import (
    MAX_FILE_BYTES,
    MAX_HEADER_BYTES,
    MAX_METADATA_BYTES,
    MAX_NAME_BYTES,
    MAX_SLICES,
    MAX_TILE_SIZE,
    dimension_problem,
)
from mambaic.codec.modes import ALPHA_MODES, OUTPUT_MODES
from mambaic.codec.padding import padded_size
from mambaic.codec.tiling import tile_count
from mambaic.errors import MicFormatError
from mambaic.text import named, text_problem

MAGIC = b"\x89MIC\r\n\x1a\n"
"""PNG-style signature: a high byte, the name, then CR LF, ^Z, LF to catch text-mode mangling."""

FORMAT_VERSION = 1
MAX_PAD_MULTIPLE = 1024
MAX_SOURCE_MODE_BYTES = 16
QUALITY_SCALE = 1000
"""Quality is stored as an integer number of thousandths, so both sides use the same float."""

MetadataValue = Union[str, int, float, bool, None]

_PREAMBLE = struct.Struct("<8sHI")  # magic, version, header size
_IMAGE = struct.Struct("<HIIB")  # quality (thousandths), width, height, output mode
_GEOMETRY = struct.Struct("<HBBIB")  # pad multiple, y stride, z stride, tile size, slices
_SECTIONS = struct.Struct("<BBIII")  # alpha kind, alpha value, alpha bytes, metadata bytes, tiles
_U32 = struct.Struct("<I")
_SLICE = struct.Struct("<III")  # anchor bytes, non-anchor bytes, symbols CRC32
_CRC = _U32


@dataclass(frozen=True)
class MicHeader:
    """Everything needed to decode, except the streams themselves."""

    model_name: str
    weights_sha256: bytes
    """The 32-byte SHA-256 of the weights file the encoder used; decoding needs the same one."""
    quality: float
    width: int
    height: int
    mode: str
    """Output mode: one of ``RGB``, ``L``, ``RGBA``, ``LA``."""
    source_mode: str
    """The PIL mode of the original (``I;16``, ``P``, ``CMYK``…), for information only."""
    pad_multiple: int
    y_stride: int
    """Pixels per latent ``y`` element along each axis (16 for MambaIC)."""
    z_stride: int
    """Pixels per hyper-latent ``z`` element along each axis (64 for MambaIC)."""
    tile_size: int
    num_slices: int
    version: int = FORMAT_VERSION

    @property
    def padded_size(self) -> tuple[int, int]:
        """(height, width) after padding to ``pad_multiple``."""
        return padded_size(self.height, self.width, self.pad_multiple)

    @property
    def tile_count(self) -> int:
        return tile_count(*self.padded_size, self.tile_size)

    @property
    def y_shape(self) -> tuple[int, int]:
        """(h, w) of the whole image's latent ``y`` (the sum over tiles)."""
        height, width = self.padded_size
        return height // self.y_stride, width // self.y_stride

    @property
    def z_shape(self) -> tuple[int, int]:
        height, width = self.padded_size
        return height // self.z_stride, width // self.z_stride


@dataclass(frozen=True)
class SliceStream:
    """One channel slice of one tile: its checkerboard halves and its symbols' CRC32."""

    anchor: bytes
    nonanchor: bytes
    symbols_crc: int


@dataclass(frozen=True)
class TileStreams:
    """The entropy-coded streams of one tile, in the order the decoder consumes them."""

    z: bytes
    slices: tuple[SliceStream, ...]

    @property
    def nbytes(self) -> int:
        return len(self.z) + sum(len(s.anchor) + len(s.nonanchor) for s in self.slices)


@dataclass(frozen=True)
class MicFile:
    """A parsed (and fully validated) ``.mic`` file."""

    header: MicHeader
    tiles: tuple[TileStreams, ...]
    alpha: EncodedAlpha
    metadata: dict[str, MetadataValue] = field(default_factory=dict)
    header_bytes: int = 0
    """Bytes from the magic through the header CRC (includes the stream table)."""
    total_bytes: int = 0

    @property
    def payload_bytes(self) -> int:
        """Entropy-coded bytes only (z and all slices of all tiles): what the model spent."""
        return sum(tile.nbytes for tile in self.tiles)


def quantize_quality(quality: float) -> float:
    """The quality value a file can record; encode with this so the decoder uses the same float.

    Raises ``TypeError`` for non-numbers and ``ValueError`` for every number out of range —
    including integers too large for a float, which ``float()`` reports as ``OverflowError``.
    """
    if isinstance(quality, bool) or not isinstance(quality, numbers.Real):
        raise TypeError(f"quality must be a number, not {type(quality).__name__}")
    try:
        value = float(quality)
    except OverflowError:
        raise ValueError("quality is far outside what a .mic file can record") from None
    if not math.isfinite(value):
        raise ValueError(f"quality must be a finite number, not {value}")
    milli = round(value * QUALITY_SCALE)
    if not 1 <= milli <= 0xFFFF:
        raise ValueError(f"quality {quality} is outside what a .mic file can record")
    return milli / QUALITY_SCALE


def validate_metadata(metadata: Mapping[str, object]) -> dict[str, MetadataValue]:
    """Metadata is a flat map of text keys to JSON scalars within the size limit; refuse early.

    Called before coding starts, so a bad metadata argument fails in milliseconds, not after
    the model has run.
    """
    checked = _check_metadata_types(metadata)
    _encode_metadata(checked)
    return checked


def _check_metadata_types(metadata: object) -> dict[str, MetadataValue]:
    if not isinstance(metadata, Mapping):
        raise ValueError("metadata must be a mapping of str to str/int/float/bool/None")
    for key, value in metadata.items():
        if not isinstance(key, str):
            raise ValueError(f"metadata key {key!r} is not a string")
        problem = text_problem(key)
        if problem:
            raise ValueError(f"metadata key {named(key)} {problem}")
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise ValueError(f"metadata value for {named(key)} must be str/int/float/bool/None, "
                             f"not {type(value).__name__}")
        problem = text_problem(value, multiline=True) if isinstance(value, str) else None
        if problem:
            raise ValueError(f"metadata value for {named(key)} {problem}")
    return dict(metadata)


def encode_container(header: MicHeader, tiles: Sequence[TileStreams], alpha: EncodedAlpha,
                     metadata: Mapping[str, object] | None = None) -> bytes:
    """Serialize a ``.mic`` file. The result is re-parsed, so we never write what we cannot read."""
    meta = _encode_metadata(validate_metadata(metadata or {}))
    name = header.model_name.encode("utf-8")
    source_mode = header.source_mode.encode("ascii", "replace")[:MAX_SOURCE_MODE_BYTES]
    if header.mode not in OUTPUT_MODES:
        raise ValueError(f"unknown output mode {header.mode!r}")
    if len(header.weights_sha256) != 32:
        raise ValueError("weights_sha256 must be the 32 raw bytes of a SHA-256 digest")
    body = b"".join([
        bytes([len(name)]), name, header.weights_sha256,
        _IMAGE.pack(round(quantize_quality(header.quality) * QUALITY_SCALE), header.width,
                    header.height, OUTPUT_MODES.index(header.mode)),
        bytes([len(source_mode)]), source_mode,
        _GEOMETRY.pack(header.pad_multiple, header.y_stride, header.z_stride, header.tile_size,
                       header.num_slices),
        _SECTIONS.pack(alpha.kind, alpha.value, len(alpha.data), len(meta), len(tiles)),
        *(_table_entry(tile) for tile in tiles),
    ])
    header_size = _PREAMBLE.size + len(body) + _CRC.size
    head = _PREAMBLE.pack(MAGIC, header.version, header_size) + body
    head += _CRC.pack(zlib.crc32(head))
    payload = b"".join([*(_tile_payload(tile) for tile in tiles), alpha.data, meta])
    data = head + payload + _CRC.pack(zlib.crc32(payload))
    parse_container(data)
    return data


def parse_container(data: bytes) -> MicFile:
    """Validate and split a ``.mic`` file; raises :class:`MicFormatError` on any problem."""
    view = memoryview(data)
    version, header_size = _check_preamble(view)
    if len(view) > MAX_FILE_BYTES:
        raise MicFormatError(f"file is {len(view)} bytes; the limit is {MAX_FILE_BYTES}")
    if header_size + _CRC.size > len(view):
        raise MicFormatError(f"truncated .mic file: the header alone needs {header_size} bytes, "
                             f"the file has {len(view)}")
    parsed = _checked_header(view, version, header_size)
    payload_len = sum(map(_entry_bytes, parsed.table)) + parsed.alpha_len + parsed.meta_len
    expected = header_size + payload_len + _CRC.size
    if expected != len(view):
        problem = "truncated" if expected > len(view) else "has trailing bytes"
        raise MicFormatError(f"{problem}: the stream table describes {expected} bytes, "
                             f"the file has {len(view)}")
    payload = view[header_size:header_size + payload_len]
    (payload_crc,) = _CRC.unpack_from(view, header_size + payload_len)
    if zlib.crc32(payload) != payload_crc:
        raise MicFormatError("payload checksum mismatch: the file is corrupted")
    body = _Cursor(view, header_size, header_size + payload_len)
    tiles = tuple(_read_tile(body, entry) for entry in parsed.table)
    alpha = EncodedAlpha(parsed.alpha_kind, parsed.alpha_value, body.take(parsed.alpha_len))
    metadata = _decode_metadata(body.take(parsed.meta_len))
    return MicFile(parsed.header, tiles, alpha, metadata, header_size, len(view))


def read_header(prefix: bytes) -> MicHeader:
    """Validate and parse the header from the first bytes of a file (at most
    :data:`~mambaic.codec.limits.MAX_HEADER_BYTES` are needed).

    For deciding whether to decode at all — the app asks before decoding a huge image — without
    reading the whole file. The header CRC and every field are checked; the payload is not.
    """
    view = memoryview(prefix)
    version, header_size = _check_preamble(view)
    if header_size > len(view):
        raise MicFormatError(f"truncated .mic file: the header alone needs {header_size} bytes, "
                             f"the file has {len(view)}")
    return _checked_header(view, version, header_size).header


# --- writing helpers -------------------------------------------------------------------------

def _table_entry(tile: TileStreams) -> bytes:
    return _U32.pack(len(tile.z)) + b"".join(
        _SLICE.pack(len(s.anchor), len(s.nonanchor), s.symbols_crc & 0xFFFFFFFF)
        for s in tile.slices)


def _tile_payload(tile: TileStreams) -> bytes:
    return tile.z + b"".join(s.anchor + s.nonanchor for s in tile.slices)


def _encode_metadata(metadata: Mapping[str, object]) -> bytes:
    if not metadata:
        return b""
    try:
        encoded = json.dumps(dict(metadata), ensure_ascii=False, allow_nan=False,
                             separators=(",", ":")).encode("utf-8")
    except ValueError as exc:
        raise ValueError(f"metadata cannot be stored: {exc}") from exc
    if len(encoded) > MAX_METADATA_BYTES:
        raise ValueError(f"metadata is {len(encoded)} bytes as JSON; the limit is "
                         f"{MAX_METADATA_BYTES}")
    return encoded


# --- reading helpers -------------------------------------------------------------------------

@dataclass(frozen=True)
class _TableEntry:
    z_len: int
    slices: tuple[tuple[int, int, int], ...]


def _entry_bytes(entry: _TableEntry) -> int:
    return entry.z_len + sum(a + n for a, n, _ in entry.slices)


def _check_preamble(view: memoryview) -> tuple[int, int]:
    """Magic, version and a possible header size: (version, header size)."""
    if len(view) < len(MAGIC) or bytes(view[:len(MAGIC)]) != MAGIC:
        raise MicFormatError("not a .mic file (wrong magic bytes)")
    if len(view) < _PREAMBLE.size:
        raise MicFormatError("truncated .mic file (header cut short)")
    _, version, header_size = _PREAMBLE.unpack_from(view)
    if version != FORMAT_VERSION:
        raise MicFormatError(f"unsupported .mic format version {version}; this mambaic reads "
                             f"version {FORMAT_VERSION} (a newer mambaic may read it)")
    if not _PREAMBLE.size + _CRC.size <= header_size <= MAX_HEADER_BYTES:
        raise MicFormatError(f"header size {header_size} is impossible")
    return version, header_size


def _checked_header(view: memoryview, version: int, header_size: int) -> _ParsedHeader:
    """The header CRC, then every field; ``view`` holds at least ``header_size`` bytes."""
    (stored_crc,) = _CRC.unpack_from(view, header_size - _CRC.size)
    if zlib.crc32(view[:header_size - _CRC.size]) != stored_crc:
        raise MicFormatError("header checksum mismatch: the file is corrupted")
    return _parse_header(_Cursor(view, _PREAMBLE.size, header_size - _CRC.size), version)


class _Cursor:
    """Sequential reads that can never run past ``end``."""

    def __init__(self, view: memoryview, start: int, end: int) -> None:
        self._view, self.pos, self._end = view, start, end

    def take(self, count: int) -> bytes:
        if count < 0 or count > self._end - self.pos:
            raise MicFormatError("header fields run past the end of the header")
        chunk = bytes(self._view[self.pos:self.pos + count])
        self.pos += count
        return chunk

    def unpack(self, layout: struct.Struct) -> tuple:
        return layout.unpack(self.take(layout.size))

    def remaining(self) -> int:
        return self._end - self.pos


@dataclass(frozen=True)
class _ParsedHeader:
    header: MicHeader
    alpha_kind: AlphaKind
    alpha_value: int
    alpha_len: int
    meta_len: int
    table: list[_TableEntry]


def _parse_header(cursor: _Cursor, version: int) -> _ParsedHeader:
    model_name = _text(cursor, MAX_NAME_BYTES, "model name", "utf-8")
    weights_sha256 = cursor.take(32)
    quality_milli, width, height, mode_code = cursor.unpack(_IMAGE)
    source_mode = _text(cursor, MAX_SOURCE_MODE_BYTES, "source mode", "ascii")
    pad_multiple, y_stride, z_stride, tile_size, num_slices = cursor.unpack(_GEOMETRY)
    alpha_code, alpha_value, alpha_len, meta_len, tiles = cursor.unpack(_SECTIONS)

    if quality_milli == 0:
        raise MicFormatError("quality is zero")
    problem = dimension_problem(width, height)
    if problem:
        raise MicFormatError(f"header claims an image we refuse to decode: {problem}")
    if mode_code >= len(OUTPUT_MODES):
        raise MicFormatError(f"unknown image mode code {mode_code}")
    mode = OUTPUT_MODES[mode_code]
    _check_geometry(pad_multiple, y_stride, z_stride, tile_size, num_slices)
    alpha_kind = _check_alpha(mode, alpha_code, alpha_value, alpha_len)
    if meta_len > MAX_METADATA_BYTES:
        raise MicFormatError(f"metadata block of {meta_len} bytes exceeds the "
                             f"{MAX_METADATA_BYTES}-byte limit")
    header = MicHeader(model_name, weights_sha256, quality_milli / QUALITY_SCALE, width, height,
                       mode, source_mode, pad_multiple, y_stride, z_stride, tile_size, num_slices,
                       version)
    if tiles != header.tile_count:
        raise MicFormatError(f"header lists {tiles} tiles; a {width}x{height} image in "
                             f"{tile_size}-pixel tiles has {header.tile_count}")
    entry_size = _U32.size + num_slices * _SLICE.size
    if cursor.remaining() != tiles * entry_size:
        raise MicFormatError("stream table size does not match the header size")
    table = [_read_entry(cursor, num_slices) for _ in range(tiles)]
    return _ParsedHeader(header, alpha_kind, alpha_value, alpha_len, meta_len, table)


def _text(cursor: _Cursor, limit: int, what: str, encoding: str) -> str:
    (length,) = cursor.take(1)
    if length == 0 or length > limit:
        raise MicFormatError(f"{what} length {length} is outside 1..{limit}")
    try:
        text = cursor.take(length).decode(encoding)
    except UnicodeDecodeError as exc:
        raise MicFormatError(f"{what} is not valid {encoding}") from exc
    if not text.isprintable():
        raise MicFormatError(f"{what} contains control characters")
    return text


def _check_geometry(pad_multiple: int, y_stride: int, z_stride: int, tile_size: int,
                    num_slices: int) -> None:
    if not 1 <= y_stride <= z_stride or z_stride % y_stride:
        raise MicFormatError(f"latent strides y={y_stride}, z={z_stride} are inconsistent")
    if not z_stride <= pad_multiple <= MAX_PAD_MULTIPLE or pad_multiple % z_stride:
        raise MicFormatError(f"padding multiple {pad_multiple} is inconsistent with the strides")
    if not pad_multiple <= tile_size <= MAX_TILE_SIZE or tile_size % pad_multiple:
        raise MicFormatError(f"tile size {tile_size} is not a multiple of {pad_multiple} "
                             f"within {pad_multiple}..{MAX_TILE_SIZE}")
    if not 1 <= num_slices <= MAX_SLICES:
        raise MicFormatError(f"slice count {num_slices} is outside 1..{MAX_SLICES}")


def _check_alpha(mode: str, code: int, value: int, length: int) -> AlphaKind:
    try:
        kind = AlphaKind(code)
    except ValueError:
        raise MicFormatError(f"unknown alpha storage code {code}") from None
    if (kind != AlphaKind.NONE) != (mode in ALPHA_MODES):
        raise MicFormatError(f"alpha storage {kind.name} contradicts image mode {mode}")
    if kind != AlphaKind.CONSTANT and value:
        raise MicFormatError("alpha value set for a non-constant alpha plane")
    if (kind == AlphaKind.DEFLATE) != (length > 0):
        raise MicFormatError(f"alpha length {length} contradicts alpha storage {kind.name}")
    return kind


def _read_entry(cursor: _Cursor, num_slices: int) -> _TableEntry:
    (z_len,) = cursor.unpack(_U32)
    return _TableEntry(z_len, tuple(cursor.unpack(_SLICE) for _ in range(num_slices)))


def _read_tile(body: _Cursor, entry: _TableEntry) -> TileStreams:
    z = body.take(entry.z_len)
    slices = tuple(SliceStream(body.take(a), body.take(n), crc) for a, n, crc in entry.slices)
    return TileStreams(z, slices)


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not allowed in metadata")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def _decode_metadata(raw: bytes) -> dict[str, MetadataValue]:
    if not raw:
        return {}
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant,
                           parse_float=_finite_float)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MicFormatError(f"metadata is not valid UTF-8 JSON: {exc}") from exc
    try:
        return _check_metadata_types(value)
    except ValueError as exc:
        raise MicFormatError(f"metadata: {exc}") from exc
