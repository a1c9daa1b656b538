"""Structure-aware mutants of real ``.mic`` files, for the reader and decoder fuzzers.

Byte-level fuzzing mostly exercises the two file CRCs. These mutants change one *field* at a time
— a header number, a stream-table length, the metadata JSON, payload bytes — keep the file's
lengths consistent where the mutation allows it, and then recompute both CRCs, so the file looks
valid and every check behind the CRCs (and the decoder itself) gets exercised. The per-slice
symbol CRCs cannot be recomputed without decoding: they are what catches payload damage.

Shared by ``tests/test_fuzz_structured.py`` (a few hundred mutants in CI) and
``scripts/fuzz_reader.py`` (long runs).
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mambaic.errors import MicFormatError

_PREAMBLE = 14  # magic (8), version (u16), header size (u32)


@dataclass(frozen=True)
class Field:
    """One fixed-size little-endian integer of the header (or stream table)."""

    name: str
    offset: int
    size: int


@dataclass(frozen=True)
class Layout:
    """Where everything is in one valid file, found by walking it like the reader does."""

    header_size: int
    fields: tuple[Field, ...]
    texts: tuple[tuple[int, int], ...]  # (offset, length) of the model name and source mode
    table: tuple[Field, ...]  # stream lengths and symbol CRCs, in file order
    stream_lengths: tuple[Field, ...]  # the subset of ``table`` that are byte counts
    meta_len: Field
    meta_offset: int  # where the metadata JSON starts (it is the last payload section)


def layout(data: bytes) -> Layout:
    """Field positions of a valid version-1 file (see docs/mic-format.md)."""
    fields: list[Field] = [Field("version", 8, 2), Field("header size", 10, 4)]
    pos = _PREAMBLE
    texts = [(pos + 1, data[pos])]
    pos += 1 + data[pos] + 32
    for name, size in (("quality", 2), ("width", 4), ("height", 4), ("mode", 1)):
        fields.append(Field(name, pos, size))
        pos += size
    fields.append(Field("source mode length", pos, 1))
    texts.append((pos + 1, data[pos]))
    pos += 1 + data[pos]
    sections = (("pad multiple", 2), ("y stride", 1), ("z stride", 1), ("tile size", 4),
                ("slices", 1), ("alpha kind", 1), ("alpha value", 1), ("alpha bytes", 4),
                ("metadata bytes", 4), ("tiles", 4))
    for name, size in sections:
        fields.append(Field(name, pos, size))
        pos += size
    named = {f.name: f for f in fields}
    num_slices = _read(data, named["slices"])
    table: list[Field] = []
    lengths: list[Field] = []
    for tile in range(_read(data, named["tiles"])):
        z = Field(f"tile {tile} z bytes", pos, 4)
        table.append(z)
        lengths.append(z)
        pos += 4
        for k in range(num_slices):
            for part in ("anchor bytes", "non-anchor bytes", "symbols crc"):
                entry = Field(f"tile {tile} slice {k} {part}", pos, 4)
                table.append(entry)
                if part != "symbols crc":
                    lengths.append(entry)
                pos += 4
    header_size = _read(data, named["header size"])
    meta_len = _read(data, named["metadata bytes"])
    return Layout(header_size, tuple(fields), tuple(texts), tuple(table), tuple(lengths),
                  named["metadata bytes"], len(data) - 4 - meta_len)


def _read(data: bytes | bytearray, field: Field) -> int:
    return int.from_bytes(data[field.offset:field.offset + field.size], "little")


def _write(buf: bytearray, field: Field, value: int) -> None:
    value %= 1 << (8 * field.size)
    buf[field.offset:field.offset + field.size] = value.to_bytes(field.size, "little")


def _interesting(old: int, size: int, rng: np.random.Generator) -> int:
    top = (1 << (8 * size)) - 1
    choices = [0, 1, 2, old - 1, old + 1, old * 2, old // 2, top, top >> 1, 63, 64, 65, 2048,
               2049, 4096, 65535, 65536, int(rng.integers(0, top, endpoint=True))]
    return int(choices[int(rng.integers(len(choices)))])


def recompute_crcs(buf: bytearray, header_size: int) -> bytes:
    """Both file CRCs for the header size the mutant *should* have (the field may be mutated)."""
    if not _PREAMBLE + 4 <= header_size <= len(buf) - 4:
        return bytes(buf)
    buf[header_size - 4:header_size] = zlib.crc32(buf[:header_size - 4]).to_bytes(4, "little")
    buf[-4:] = zlib.crc32(buf[header_size:-4]).to_bytes(4, "little")
    return bytes(buf)


# ---- mutations: each returns the mutant before its CRCs are recomputed -----------------------

def _header_field(data: bytes, where: Layout, rng: np.random.Generator) -> bytearray:
    buf = bytearray(data)
    field = where.fields[int(rng.integers(len(where.fields)))]
    _write(buf, field, _interesting(_read(buf, field), field.size, rng))
    return buf


def _table_entry(data: bytes, where: Layout, rng: np.random.Generator) -> bytearray:
    """A table number changed; or bytes moved between two streams, so the total still adds up."""
    buf = bytearray(data)
    if rng.random() < 0.5 or len(where.stream_lengths) < 2:
        field = where.table[int(rng.integers(len(where.table)))]
        _write(buf, field, _interesting(_read(buf, field), field.size, rng))
        return buf
    give, take = rng.choice(len(where.stream_lengths), 2, replace=False)
    giver, taker = where.stream_lengths[int(give)], where.stream_lengths[int(take)]
    moved = int(rng.integers(0, _read(buf, giver) + 1))
    _write(buf, giver, _read(buf, giver) - moved)
    _write(buf, taker, _read(buf, taker) + moved)
    return buf


def _text_bytes(data: bytes, where: Layout, rng: np.random.Generator) -> bytearray:
    buf = bytearray(data)
    offset, length = where.texts[int(rng.integers(len(where.texts)))]
    at = offset + int(rng.integers(length))
    buf[at] = int(rng.choice([0x00, 0x1B, 0x7F, 0x80, 0x9B, 0xC3, 0xFF, int(rng.integers(256))]))
    return buf


_HOSTILE_METADATA: tuple[bytes, ...] = (
    b"", b"{", b"[]", b"null", b"1", b'"text"', b'{"k": [1, 2]}', b'{"k": {"n": 1}}',
    b'{"k": 1e999}', b'{"k": NaN}', b'{"k": "\\u009b[2J"}', b'{"k": "\\ud800"}',
    b'{"\\u0000": 1}', b'{"k": "\xff"}', b'{"k": 1, "k": 2}', b'{"k": ' + b"9" * 5000 + b"}",
    b"[" * 10000 + b"]" * 10000, b'{"k": "' + b"a" * 70000 + b'"}',
)


def _metadata(data: bytes, where: Layout, rng: np.random.Generator) -> bytearray:
    """The metadata block replaced (its length field and the file size follow), or edited."""
    old = bytes(data[where.meta_offset:len(data) - 4])
    if old and rng.random() < 0.3:
        block = bytearray(old)
        block[int(rng.integers(len(block)))] = int(rng.integers(256))
    elif rng.random() < 0.5:
        block = bytearray(_HOSTILE_METADATA[int(rng.integers(len(_HOSTILE_METADATA)))])
    else:
        value = rng.choice(["", "x" * int(rng.integers(1, 200)), "naïve ≤", "\t\n"])
        block = bytearray(json.dumps({"k": str(value), "n": int(rng.integers(-9, 9))}).encode())
    buf = bytearray(data[:where.meta_offset]) + block + bytearray(data[-4:])
    _write(buf, where.meta_len, len(block))
    return buf


def _payload(data: bytes, where: Layout, rng: np.random.Generator) -> bytearray:
    """Stream (or alpha) bytes flipped, zeroed, or randomised: the entropy decoder's input."""
    buf = bytearray(data)
    end = where.meta_offset
    if end <= where.header_size:
        return buf
    start = int(rng.integers(where.header_size, end))
    span = min(int(rng.integers(1, 17)), end - start)
    kind = rng.random()
    for at in range(start, start + span):
        if kind < 0.4:
            buf[at] ^= 1 << int(rng.integers(8))
        elif kind < 0.7:
            buf[at] = 0
        else:
            buf[at] = int(rng.integers(256))
    return buf


MUTATIONS: dict[str, Callable[[bytes, Layout, np.random.Generator], bytearray]] = {
    "header field": _header_field,
    "stream table": _table_entry,
    "header text": _text_bytes,
    "metadata": _metadata,
    "payload": _payload,
}


def mutant(seed_file: bytes, rng: np.random.Generator) -> tuple[str, bytes]:
    """One to three mutations of ``seed_file``, then both CRCs recomputed: (kinds, mutant)."""
    data, kinds = seed_file, []
    for _ in range(int(rng.integers(1, 4))):
        where = layout(seed_file) if data is seed_file else _relayout(data, seed_file)
        kind = list(MUTATIONS)[int(rng.integers(len(MUTATIONS)))]
        data = bytes(MUTATIONS[kind](data, where, rng))
        kinds.append(kind)
    return "+".join(kinds), recompute_crcs(bytearray(data), layout(seed_file).header_size)


def _relayout(data: bytes, seed_file: bytes) -> Layout:
    """The seed's layout, with the metadata end taken from the mutant (its length may differ)."""
    base = layout(seed_file)
    meta_len = _read(data, base.meta_len)
    offset = len(data) - 4 - meta_len
    if not base.header_size <= offset <= len(data) - 4:
        offset = len(data) - 4
    return Layout(base.header_size, base.fields, base.texts, base.table, base.stream_lengths,
                  base.meta_len, offset)


@dataclass
class Tally:
    """What the decoder did with the mutants; ``other`` must stay empty."""

    mutants: int = 0
    format_errors: int = 0
    decoded: int = 0
    other: list[str] = dataclasses.field(default_factory=list)

    def record(self, decode: Callable[[bytes], object], kinds: str, data: bytes) -> None:
        """Decode one mutant; a ``MicFormatError`` or success is fine, anything else is kept."""
        self.mutants += 1
        try:
            decode(data)
        except MicFormatError:
            self.format_errors += 1
        except Exception as exc:  # the finding: recorded with what produced it
            self.other.append(f"{kinds}: {type(exc).__name__}: {exc}")
        else:
            self.decoded += 1



def seed_files(weights_path) -> tuple[object, list[bytes]]:
    """A decoder with a small ``max_pixels`` and real files from it: RGB in six 64-px tiles with
    metadata, and RGBA in one tile (alpha section). Returns (codec, files)."""
    from mambaic.codec.codec import CodecConfig, load_codec
    from mic_testing import sample_image

    encoder = load_codec(weights_path, config=CodecConfig(tile_size=64))
    files = [encoder.compress(sample_image(130, 70), 3.0, metadata={"title": "fuzz", "n": 1}),
             encoder.compress(sample_image(40, 24, "RGBA"), 2.0)]
    decoder = load_codec(weights_path, config=CodecConfig(tile_size=64, max_pixels=192 * 128))
    return decoder, files
