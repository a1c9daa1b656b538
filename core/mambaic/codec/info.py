"""What a ``.mic`` file says about itself, without decoding it (for ``mambaic info`` and the GUI).

Every number here is read from the file, never estimated: ``bpp`` is 8 × file bytes / pixels of
the original (unpadded) image, ``payload_bpp`` counts only the entropy-coded streams.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from mambaic.codec.mic_format import MetadataValue, MicFile, parse_container


@dataclass(frozen=True)
class MicInfo:
    """Header fields and stream sizes of one ``.mic`` file; slices are summed over tiles."""

    format_version: int
    model_name: str
    weights_sha256: str
    """Hex SHA-256 of the weights the file was encoded with."""
    quality: float
    width: int
    height: int
    mode: str
    source_mode: str
    y_shape: tuple[int, int]
    z_shape: tuple[int, int]
    tile_size: int
    tile_count: int
    z_bytes: int
    slices: list[tuple[int, int]]
    """Per channel slice: (anchor bytes, non-anchor bytes)."""
    alpha_bytes: int
    total_bytes: int
    payload_bytes: int
    header_bytes: int
    metadata: dict[str, MetadataValue]

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def bpp(self) -> float:
        """Bits per pixel of the whole file."""
        return 8 * self.total_bytes / self.pixels

    @property
    def payload_bpp(self) -> float:
        """Bits per pixel of the entropy-coded streams only (z and every slice)."""
        return 8 * self.payload_bytes / self.pixels

    def to_dict(self) -> dict:
        """JSON-ready form, including the derived bpp values."""
        return {**asdict(self), "bpp": self.bpp, "payload_bpp": self.payload_bpp}

    @classmethod
    def from_file(cls, mic: MicFile) -> MicInfo:
        header = mic.header
        slices = [
            (sum(len(t.slices[k].anchor) for t in mic.tiles),
             sum(len(t.slices[k].nonanchor) for t in mic.tiles))
            for k in range(header.num_slices)
        ]
        return cls(
            format_version=header.version, model_name=header.model_name,
            weights_sha256=header.weights_sha256.hex(), quality=header.quality,
            width=header.width, height=header.height, mode=header.mode,
            source_mode=header.source_mode, y_shape=header.y_shape, z_shape=header.z_shape,
            tile_size=header.tile_size, tile_count=header.tile_count,
            z_bytes=sum(len(t.z) for t in mic.tiles), slices=slices,
            alpha_bytes=len(mic.alpha.data), total_bytes=mic.total_bytes,
            payload_bytes=mic.payload_bytes, header_bytes=mic.header_bytes,
            metadata=dict(mic.metadata),
        )


def read_info(data: bytes) -> MicInfo:
    """Parse and validate ``.mic`` bytes and describe them; raises ``MicFormatError``."""
    return MicInfo.from_file(parse_container(data))
