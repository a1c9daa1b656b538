"""Lossless storage of an alpha plane beside the lossy RGB.

Transparency is a mask, not a picture: lossy coding would fray edges and make "fully
transparent" pixels partly visible, so it is kept exactly. Constant planes (an opaque RGBA export
is common) cost one byte; anything else is deflated row-delta bytes, which suits the long flat
runs and soft edges that masks have.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from mambaic.errors import MicFormatError


class AlphaKind(IntEnum):
    """How the alpha plane is stored; the numbers are part of the ``.mic`` format."""

    NONE = 0
    CONSTANT = 1
    DEFLATE = 2


@dataclass(frozen=True)
class EncodedAlpha:
    """The stored form: ``value`` is the constant for CONSTANT, ``data`` the stream for DEFLATE."""

    kind: AlphaKind
    value: int = 0
    data: bytes = b""


def encode_alpha(alpha: np.ndarray | None) -> EncodedAlpha:
    """Store an (H, W) uint8 plane, or nothing, in the cheapest exact form."""
    if alpha is None:
        return EncodedAlpha(AlphaKind.NONE)
    first = int(alpha.flat[0])
    if np.all(alpha == first):
        return EncodedAlpha(AlphaKind.CONSTANT, first)
    deltas = np.diff(alpha.astype(np.int16), axis=1, prepend=0).astype(np.uint8)
    return EncodedAlpha(AlphaKind.DEFLATE, data=zlib.compress(deltas.tobytes(), 9))


def decode_alpha(stored: EncodedAlpha, width: int, height: int) -> np.ndarray | None:
    """Inverse of :func:`encode_alpha`; never inflates more than ``width * height`` bytes."""
    if stored.kind == AlphaKind.NONE:
        return None
    if stored.kind == AlphaKind.CONSTANT:
        return np.full((height, width), stored.value, dtype=np.uint8)
    size = width * height
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(stored.data, size)
    except zlib.error as exc:
        raise MicFormatError(f"alpha plane is corrupt: {exc}") from exc
    if len(raw) != size or not inflater.eof or inflater.unconsumed_tail or inflater.unused_data:
        raise MicFormatError("alpha plane does not match the image size")
    deltas = np.frombuffer(raw, dtype=np.uint8).reshape(height, width)
    return np.cumsum(deltas, axis=1, dtype=np.uint8)
