"""Keep hostile streams from making CompressAI's rANS decoder read past the end of its buffer.

CompressAI's C++ decoder reads 32-bit words from the stream without bounds checks: it trusts the
stream to end where the encoder's did. Accidental damage never gets that far (the container's
CRCs catch it), but a deliberately crafted file with valid CRCs could make it read beyond the
buffer and crash the process. Two defences, both from outside the decoder:

* A stream may not be longer than the encoder can produce: its output buffer holds one 32-bit
  word per symbol, so a stream has at most ``4 · symbols + 8`` bytes. Longer ones are refused.
* Each stream handed to the decoder is followed by zero bytes. Past the real data the decoder
  then reads zeros; measured over random, constant and zero streams against the real Gaussian
  tables, it reads at most ``4 · symbols + 16 · length`` bytes past the end (the ``16 · length``
  comes from runs of 0xF nibbles announcing long bypass codes), so that is the padding, plus
  slack. A valid stream never reads its padding, so decoding is unchanged.

The padding is added lazily, one stream at a time, so at most one padded copy is alive.
"""

from __future__ import annotations

from collections.abc import Sequence

from mambaic.codec.mic_format import TileStreams
from mambaic.errors import MicFormatError

_SLACK = 4096


def max_stream_bytes(symbols: int) -> int:
    """The longest stream CompressAI's encoder can produce for ``symbols`` symbols."""
    return 4 * max(symbols, 2) + 8


def padded(stream: bytes, symbols: int) -> bytes:
    """``stream`` followed by enough zeros that decoding ``symbols`` symbols stays in bounds."""
    return stream + bytes(4 * symbols + 16 * len(stream) + _SLACK)


def check_tile(tile: TileStreams, z_symbols: int, slice_symbols: int) -> None:
    """Refuse streams longer than any encoder could have written for the tile's shapes."""
    if len(tile.z) > max_stream_bytes(z_symbols):
        raise MicFormatError(f"z stream of {len(tile.z)} bytes is longer than {z_symbols} "
                             "symbols can produce")
    for k, part in enumerate(tile.slices):
        for name, stream in (("anchor", part.anchor), ("non-anchor", part.nonanchor)):
            if len(stream) > max_stream_bytes(slice_symbols):
                raise MicFormatError(f"slice {k + 1} {name} stream of {len(stream)} bytes is "
                                     f"longer than {slice_symbols} symbols can produce")


class PaddedSlices(Sequence[tuple[bytes, bytes]]):
    """A tile's (anchor, non-anchor) pairs, padded on access so only one pair is held padded."""

    def __init__(self, tile: TileStreams, slice_symbols: int) -> None:
        self._tile, self._symbols = tile, slice_symbols

    def __len__(self) -> int:
        return len(self._tile.slices)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        part = self._tile.slices[index]
        return padded(part.anchor, self._symbols), padded(part.nonanchor, self._symbols)
