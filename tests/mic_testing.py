"""Shared helpers for the codec/container/CLI tests: tiny random-weight models and sample images."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from mambaic.codec.alpha import AlphaKind, EncodedAlpha
from mambaic.codec.mic_format import (
    MicHeader,
    SliceStream,
    TileStreams,
    encode_container,
)


def make_tiny_weights(path: Path, seed: int = 0) -> Path:
    """Save a freshly initialised ``tiny`` model (random weights) as safetensors."""
    import torch

    from mambaic.models import build_model
    from mambaic.weights import save_weights

    torch.manual_seed(seed)
    save_weights(build_model("tiny"), path)
    return path


def sample_image(width: int, height: int, mode: str = "RGB", seed: int = 0) -> Image.Image:
    """A smooth gradient plus noise (compressible, but not trivially), in ``mode``."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([xx * 255 / max(width - 1, 1), yy * 255 / max(height - 1, 1),
                     (xx + yy) * 127 / max(width + height - 2, 1)], axis=-1)
    rgb = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    image = Image.fromarray(rgb, "RGB")
    if mode in ("RGBA", "LA"):
        alpha = Image.fromarray(((xx * 7 + yy * 3) % 256).astype(np.uint8), "L")
        image = image.convert(mode[:-1])
        image.putalpha(alpha)
        return image
    if mode == "I;16":
        return Image.fromarray(np.asarray(image.convert("L")).astype(np.uint16) * 257)  # I;16
    return image.convert(mode)


def synthetic_header(**changes) -> MicHeader:
    """A valid header for a 130x70 RGB image in one tile, five slices."""
    fields = dict(model_name="tiny", weights_sha256=bytes(range(32)), quality=3.0, width=130,
                  height=70, mode="RGB", source_mode="RGB", pad_multiple=64, y_stride=16,
                  z_stride=64, tile_size=2048, num_slices=5)
    fields.update(changes)
    return MicHeader(**fields)


def synthetic_container(header: MicHeader | None = None, alpha: EncodedAlpha | None = None,
                        metadata: dict | None = None, seed: int = 0) -> bytes:
    """A structurally valid ``.mic`` file whose streams are random bytes (no model needed)."""
    header = header or synthetic_header()
    rng = np.random.default_rng(seed)

    def blob() -> bytes:
        return rng.integers(0, 256, int(rng.integers(8, 40)), dtype=np.uint8).tobytes()

    tiles = []
    for _ in range(header.tile_count):
        slices = []
        for _ in range(header.num_slices):
            anchor, nonanchor = blob(), blob()
            slices.append(SliceStream(anchor, nonanchor, zlib.crc32(anchor + nonanchor)))
        tiles.append(TileStreams(blob(), tuple(slices)))
    return encode_container(header, tiles, alpha or EncodedAlpha(AlphaKind.NONE), metadata)


def refresh_crcs(data: bytes | bytearray) -> bytes:
    """Recompute both CRCs of a (possibly mutated) file so checks behind the CRCs get exercised.

    Uses the header size field as found; files too short or with impossible sizes are returned
    unchanged.
    """
    buf = bytearray(data)
    if len(buf) < 18:
        return bytes(buf)
    header_size = int.from_bytes(buf[10:14], "little")
    if not 18 <= header_size <= len(buf) - 4:
        return bytes(buf)
    buf[header_size - 4:header_size] = zlib.crc32(buf[:header_size - 4]).to_bytes(4, "little")
    buf[-4:] = zlib.crc32(buf[header_size:-4]).to_bytes(4, "little")
    return bytes(buf)
