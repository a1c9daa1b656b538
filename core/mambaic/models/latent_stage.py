"""The one interface of an entropy-coding stage (CompressAI's `LatentCodec` idea), with typed results.

Each stage turns a latent into bytes and back, given what the stages before it decoded: the z
bottleneck (`models.hyperprior`: z → ẑ → h_s parameters) and the channel-spatial slices
(`models.latent_codec`: y → ŷ, given those parameters). Every stage has the same three faces,
walking the same order, so `MambaIC` chains them the same way in training, encoding and decoding:

    forward(latent, context)              -> StageForward      (training: likelihoods)
    compress(latent, context, progress)   -> StageCompressed   (streams + what a decoder rebuilds)
    decompress(streams, context, progress) -> Tensor           (the same output, bit for bit)

CompressAI's own results are dicts of lists; ours are frozen dataclasses, so a stage that forgets a
part fails where it is built, not in the container writer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

#: Stage names the model's progress events carry (`mambaic.progress.ProgressEvent.stage`).
ANALYSIS, HYPER, SLICE, REFINING, CHOICE, SYNTHESIS = (
    "analysis", "hyper", "slice", "refining", "keeping the cheaper coding", "synthesis")


@dataclass(frozen=True)
class StageForward:
    """A stage's training pass."""

    output: torch.Tensor
    """What the next step consumes: h_s(ẑ) for the z stage, ŷ (straight-through) for the slices."""
    likelihoods: torch.Tensor
    """Of the stage's latent, for the rate term."""


@dataclass(frozen=True)
class StageStreams:
    """A stage's coded form: what it wrote and what its decoder must be told."""

    groups: Sequence[Sequence[bytes]]
    """rANS streams in coding order, one group per coded unit: z is one group of one stream, each
    channel slice a group of (anchor bytes, non-anchor bytes)."""
    shape: tuple[int, int]
    """(h, w) of the stage's latent."""
    symbol_crcs: Sequence[int] = ()
    """CRC32 of each group's int32 symbols, where the stage checks them on decoding."""


@dataclass(frozen=True)
class StageCompressed:
    """A stage's encoding: its streams, and the output its decoder will rebuild exactly."""

    streams: StageStreams
    output: torch.Tensor
