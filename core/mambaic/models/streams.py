"""What the model hands to the container: entropy-coded streams and the shapes to rebuild ŷ."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LatentStreams:
    """The rANS streams of one image, in coding order, plus what a decoder must know first."""

    z: bytes
    slices: list[tuple[bytes, bytes]]  # per channel slice: (anchor bytes, non-anchor bytes)
    z_shape: tuple[int, int]
    y_shape: tuple[int, int]
    symbol_crcs: list[int]  # CRC32 of each slice's int32 symbols, anchor then non-anchor
    refined: bool = False  # encoder-side only: the latents came from refinement (never stored)

    @property
    def payload_bytes(self) -> int:
        return len(self.z) + sum(len(a) + len(n) for a, n in self.slices)
