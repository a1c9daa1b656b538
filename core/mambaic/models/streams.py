"""What the model hands to the container: entropy-coded streams and the shapes to rebuild ŷ."""

from __future__ import annotations

from dataclasses import dataclass

from mambaic.models.latent_stage import StageStreams


@dataclass
class LatentStreams:
    """The rANS streams of one image, in coding order, plus what a decoder must know first."""

    z: bytes
    slices: list[tuple[bytes, bytes]]  # per channel slice: (anchor bytes, non-anchor bytes)
    z_shape: tuple[int, int]
    y_shape: tuple[int, int]
    symbol_crcs: list[int]  # CRC32 of each slice's int32 symbols, anchor then non-anchor
    refined: bool = False  # encoder-side only: the latents came from refinement (never stored)

    @classmethod
    def of(cls, hyper: StageStreams, latent: StageStreams) -> LatentStreams:
        """The container's view of the two stages' streams (z, then the channel slices)."""
        (z,), = hyper.groups
        return cls(z=z, slices=list(latent.groups), z_shape=hyper.shape, y_shape=latent.shape,
                   symbol_crcs=list(latent.symbol_crcs))

    @property
    def hyper(self) -> StageStreams:
        """The z stage's streams, as `HyperLatentCodec.decompress` reads them."""
        return StageStreams(((self.z,),), tuple(self.z_shape))

    @property
    def latent(self) -> StageStreams:
        """The slices' streams, as `ChannelSpatialLatentCodec.decompress` reads them."""
        return StageStreams(self.slices, tuple(self.y_shape), self.symbol_crcs)

    @property
    def payload_bytes(self) -> int:
        return len(self.z) + sum(len(a) + len(n) for a, n in self.slices)
