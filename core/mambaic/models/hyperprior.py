"""The z stage: the hyper-latent through CompressAI's EntropyBottleneck, then h_s to the parameters
the channel-spatial slices are coded with.

Like CompressAI's ``HyperLatentCodec`` less its h_a: encoder-side refinement optimises z itself, so
the model computes z and hands it in. It is not an ``nn.Module`` of its own but a view on the
model's ``entropy_bottleneck`` and ``h_s``, so the state-dict names every weights file uses stay
as they are.
"""

from __future__ import annotations

import torch
from torch import nn

from mambaic._compressai import (
    EntropyBottleneck,
    bottleneck_likelihood,
    bottleneck_medians,
    quantize_ste,
)
from mambaic.models.gaussian_coding import MAX_SYMBOL
from mambaic.models.latent_stage import HYPER, StageCompressed, StageForward, StageStreams
from mambaic.progress import Progress, ProgressEvent


class HyperLatentCodec:
    """z ⇄ one rANS stream, and ẑ → h_s(ẑ): the context the slices are coded in."""

    def __init__(self, entropy_bottleneck: EntropyBottleneck, h_s: nn.Module) -> None:
        self.entropy_bottleneck, self.h_s = entropy_bottleneck, h_s

    def __call__(self, z: torch.Tensor) -> StageForward:
        return self.forward(z)

    def forward(self, z: torch.Tensor) -> StageForward:
        """Training pass: h_s of the bottleneck's ẑ (noisy in training mode), and its likelihoods."""
        z_hat, likelihoods = self.entropy_bottleneck(z)
        return StageForward(self.h_s(z_hat), likelihoods)

    def rounded(self, z: torch.Tensor) -> torch.Tensor:
        """h_s of the ẑ the coder reconstructs, with a straight-through gradient: encoder-side
        refinement optimises what a decoder will see. Its rate is `noisy_likelihood`, a separate
        call so that the caller decides when that noise is drawn."""
        medians = bottleneck_medians(self.entropy_bottleneck)
        return self.h_s(quantize_ste(z - medians) + medians)

    def noisy_likelihood(self, z: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Likelihood of z + U(−½, ½) drawn from ``generator``: the rate proxy of training with
        noise the caller controls, so refinement gives the same bytes for the same input."""
        eb = self.entropy_bottleneck
        noise = torch.rand(z.shape, generator=generator, device=z.device, dtype=z.dtype) - 0.5
        values = (z + noise).transpose(0, 1).reshape(z.shape[1], 1, -1)  # channels first
        return eb.likelihood_lower_bound(bottleneck_likelihood(eb, values))

    @torch.no_grad()
    def compress(self, z: torch.Tensor, progress: Progress = None) -> StageCompressed:
        """z (1,N,h,w) → its stream, and the h_s parameters of the ẑ a decoder rebuilds."""
        medians = bottleneck_medians(self.entropy_bottleneck)
        # The same guard as gaussian_coding.MAX_SYMBOL: CompressAI's coder has one word per symbol.
        z = torch.minimum(torch.maximum(z, medians - MAX_SYMBOL), medians + MAX_SYMBOL)
        shape = tuple(z.shape[-2:])
        strings = self.entropy_bottleneck.compress(z)
        z_hat = self.entropy_bottleneck.decompress(strings, shape)
        return StageCompressed(StageStreams(((strings[0],),), shape), self._params(z_hat, progress))

    @torch.no_grad()
    def decompress(self, streams: StageStreams, progress: Progress = None) -> torch.Tensor:
        """The mirror of `compress`: the stream → the same h_s parameters."""
        (z_bytes,), = streams.groups
        z_hat = self.entropy_bottleneck.decompress([z_bytes], streams.shape)
        return self._params(z_hat, progress)

    def _params(self, z_hat: torch.Tensor, progress: Progress) -> torch.Tensor:
        params = self.h_s(z_hat)
        if progress is not None:
            progress(ProgressEvent(1, 1, HYPER))
        return params
