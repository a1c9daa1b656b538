"""mambaic itself as a codec under evaluation, through the public ``mambaic.load_codec`` API.

Going through the public API (not the model) means the bytes measured are those of a real ``.mic``
file, container header included, and the pixels scored are what ``mambaic decode`` would write.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

import mambaic
from mambaic.eval.sweep import SweptCodec


def describe_weights(codec: mambaic.Codec) -> str:
    """Model name, weights file and hash, and whether the file says it was trained."""
    info = codec.weights
    card = info.card or {}
    trained = card.get("trained") or card.get("training") or card.get("steps")
    state = "training record in card: " + str(trained) if trained else "no training record"
    return (
        f"`{info.name}` config, weights `{info.path.name}` (sha256 {info.sha256[:12]}), "
        f"{sum(p.numel() for p in codec.model.parameters()) / 1e6:.2f} M parameters, "
        f"{state}, device {codec.device}"
    )


def mambaic_codec(
    weights: str | None, device: str, qualities: Sequence[float] | None
) -> tuple[SweptCodec, str]:
    """The loaded codec as a :class:`SweptCodec`, and a description of its weights."""
    codec = mambaic.load_codec(weights=weights, device=device)
    sweep = tuple(float(q) for q in (qualities or codec.paper_qualities))

    def encode(rgb: np.ndarray, quality: float) -> bytes:
        return codec.compress(Image.fromarray(rgb, "RGB"), quality)

    def decode(data: bytes) -> np.ndarray:
        return np.asarray(codec.decompress(data).convert("RGB"))

    ours = SweptCodec(
        name="mambaic",
        label=f"mambaic ({codec.weights.name})",
        settings=f"mambaic {mambaic.__version__}, {codec.weights.name} model, quality 1-5 scale",
        sweep=sweep,
        encode=encode,
        decode=decode,
    )
    return ours, describe_weights(codec)
