"""mambaic itself as a codec under evaluation, through the public ``mambaic.load_codec`` API.

Going through the public API (not the model) means the bytes measured are those of a real ``.mic``
file, container header included, and the pixels scored are what ``mambaic decode`` would write.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

import mambaic
from mambaic.card import ModelCard
from mambaic.codec.effort import describe_steps
from mambaic.eval.sweep import SweptCodec


def _training_state(card: ModelCard) -> str:
    """How much training the model card records: results of a barely trained model must say so."""
    training = card.training
    if training is None:
        return "no training record in the model card"
    hours = (training.wall_seconds or 0) / 3600
    where = training.hardware or training.device or "unknown hardware"
    if card.earlier_training:  # started from earlier weights: say the whole history, not only the last stage
        return (f"trained {card.training_steps} steps in {len(card.stages)} stages, the last {training.steps} "
                f"({hours:.1f} h on {where}) per its model card")
    return f"trained {training.steps} steps ({hours:.1f} h on {where}) per its model card"


def describe_weights(codec: mambaic.Codec) -> str:
    """Model name, weights file and hash, and how much training the file records."""
    info = codec.weights
    state = _training_state(info.card)
    return (
        f"`{info.name}` config, weights `{info.path.name}` (sha256 {info.sha256[:12]}), "
        f"{sum(p.numel() for p in codec.model.parameters()) / 1e6:.2f} M parameters, "
        f"{state}, device {codec.device}"
    )


def mambaic_codec(
    weights: str | None, device: str, qualities: Sequence[float] | None, refine_steps: int = 0
) -> tuple[SweptCodec, str, str]:
    """The loaded codec as a :class:`SweptCodec`, a description of its weights (and of the
    encoder's refinement, which changes the results) and their SHA-256."""
    codec = mambaic.load_codec(weights=weights, device=device)
    sweep = tuple(float(q) for q in (qualities or codec.paper_qualities))
    encoder = f", encoder {describe_steps(refine_steps)}" if refine_steps else ""

    def encode(rgb: np.ndarray, quality: float) -> bytes:
        return codec.compress(Image.fromarray(rgb, "RGB"), quality, refine_steps=refine_steps)

    def decode(data: bytes) -> np.ndarray:
        return np.asarray(codec.decompress(data).convert("RGB"))

    ours = SweptCodec(
        name="mambaic",
        label=f"mambaic ({codec.weights.name}{encoder})",
        settings=f"mambaic {mambaic.__version__}, {codec.weights.name} model, quality 1-5 scale{encoder}",
        sweep=sweep,
        encode=encode,
        decode=decode,
    )
    return ours, describe_weights(codec) + encoder, codec.weights.sha256
