"""How the latent y becomes bytes: K channel slices, each in two checkerboard passes.

A stage of `models.latent_stage`'s interface, given the hyper parameters of the z stage:
`forward` (training: noisy likelihoods, straight-through ŷ), `compress` (y → rANS bytes per
slice and pass) and `decompress` (bytes → the bit-identical ŷ). CompressAI's own checkerboard
codec assumes a pointwise parameter network; ours runs window attention after aggregation, so it
is written here in the same shape.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from mambaic._compressai import GaussianConditional, gaussian_likelihood, quantize_ste
from mambaic.errors import DecodeMismatchError
from mambaic.models import gaussian_coding
from mambaic.models.config import ModelConfig
from mambaic.models.context import (
    LatentResidualPrediction,
    SliceParameters,
    checkerboard_anchor_mask,
)
from mambaic.models.latent_stage import SLICE, StageCompressed, StageForward, StageStreams
from mambaic.progress import Progress, ProgressEvent

#: A relaxed rounding of residuals y − μ to integers (differentiable), as `forward` accepts.
Rounding = Callable[[torch.Tensor], torch.Tensor]


class ChannelSpatialLatentCodec(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.params = nn.ModuleList(SliceParameters(k, cfg) for k in range(cfg.num_slices))
        self.lrp = nn.ModuleList(LatentResidualPrediction(k, cfg) for k in range(cfg.num_slices))
        self.gaussian_conditional = GaussianConditional(None)

    def _previous(self, done: list[torch.Tensor]) -> torch.Tensor | None:
        return torch.cat(done, dim=1) if done else None

    def _finish_slice(self, k: int, hyper: torch.Tensor, prev: torch.Tensor | None,
                      y_hat_k: torch.Tensor) -> torch.Tensor:
        return y_hat_k + self.lrp[k](hyper[:, : self.cfg.M], prev, y_hat_k)

    def forward(self, y: torch.Tensor, hyper: torch.Tensor,
                noise: torch.Generator | None = None,
                rounding: Rounding | None = None) -> StageForward:
        """Training/validation pass → ŷ with straight-through rounding and the likelihoods of y.

        With ``noise``, the likelihoods are those of y + U(−½, ½) drawn from that generator
        whatever the module's mode (encoder-side refinement needs a reproducible rate gradient).
        With ``rounding`` (a relaxed rounding of the residual y − μ, e.g. refinement's annealed
        soft rounding), ŷ = μ + rounding(y − μ) everywhere, and the likelihoods are those of that
        ŷ: rate and distortion then see the same relaxed values, which anneal towards what the
        coder will write.
        """
        if noise is not None and rounding is not None:
            raise ValueError("give either noise or a rounding, not both")
        round_residual = quantize_ste if rounding is None else rounding
        anchor = checkerboard_anchor_mask(y.shape[2], y.shape[3], y.device)
        done, likelihoods = [], []
        for k, y_k in enumerate(y.chunk(self.cfg.num_slices, dim=1)):
            prev = self._previous(done)
            known = self.params[k].known_features(hyper, prev)
            mean_a, scale_a = self.params[k](known, None)
            anchors_hat = round_residual(y_k - mean_a) + mean_a
            mean_n, scale_n = self.params[k](known, torch.where(anchor, anchors_hat, torch.zeros_like(y_k)))
            mean = torch.where(anchor, mean_a, mean_n)
            scale = torch.where(anchor, scale_a, scale_n)
            y_hat_k = torch.where(anchor, anchors_hat, round_residual(y_k - mean_n) + mean_n)
            gc = self.gaussian_conditional
            if rounding is not None:
                lik = gc.likelihood_lower_bound(gaussian_likelihood(gc, y_hat_k, scale, mean))
            elif noise is None:
                _, lik = gc(y_k, scale, means=mean)
            else:
                lik = gaussian_coding.noisy_likelihood(gc, y_k, scale, mean, noise)
            likelihoods.append(lik)
            done.append(self._finish_slice(k, hyper, prev, y_hat_k))
        return StageForward(torch.cat(done, dim=1), torch.cat(likelihoods, dim=1))

    @torch.no_grad()
    def compress(self, y: torch.Tensor, hyper: torch.Tensor,
                 progress: Progress = None) -> StageCompressed:
        """y (1,M,h,w) → per-slice (anchor bytes, non-anchor bytes) with their symbol CRCs, and ŷ."""
        gc = self.gaussian_conditional
        anchor = checkerboard_anchor_mask(y.shape[2], y.shape[3], y.device)
        done, streams, crcs = [], [], []
        K = self.cfg.num_slices
        for k, y_k in enumerate(y.chunk(K, dim=1)):
            prev = self._previous(done)
            known = self.params[k].known_features(hyper, prev)
            mean_a, scale_a = self.params[k](known, None)
            a_bytes, a_sym, a_val = gaussian_coding.encode(
                gc, y_k[:, :, anchor], scale_a[:, :, anchor], mean_a[:, :, anchor])
            y_hat_k = torch.zeros_like(y_k)
            y_hat_k[:, :, anchor] = a_val
            mean_n, scale_n = self.params[k](known, y_hat_k)
            n_bytes, n_sym, n_val = gaussian_coding.encode(
                gc, y_k[:, :, ~anchor], scale_n[:, :, ~anchor], mean_n[:, :, ~anchor])
            y_hat_k[:, :, ~anchor] = n_val
            streams.append((a_bytes, n_bytes))
            crcs.append(gaussian_coding.symbols_crc(a_sym, n_sym))
            done.append(self._finish_slice(k, hyper, prev, y_hat_k))
            _slice_done(progress, k, K)
        return StageCompressed(StageStreams(streams, tuple(y.shape[-2:]), crcs), torch.cat(done, dim=1))

    @torch.no_grad()
    def decompress(self, streams: StageStreams, hyper: torch.Tensor,
                   progress: Progress = None) -> torch.Tensor:
        """The mirror of `compress`: rebuilds ŷ exactly, checking each slice's symbol CRC."""
        gc = self.gaussian_conditional
        b, _, h, w = hyper.shape
        crcs = streams.symbol_crcs
        cs = self.cfg.slice_channels
        anchor = checkerboard_anchor_mask(h, w, hyper.device)
        done = []
        K = self.cfg.num_slices
        for k in range(K):
            a_bytes, n_bytes = streams.groups[k]
            prev = self._previous(done)
            known = self.params[k].known_features(hyper, prev)
            mean_a, scale_a = self.params[k](known, None)
            a_sym, a_val = gaussian_coding.decode(gc, a_bytes, scale_a[:, :, anchor], mean_a[:, :, anchor])
            y_hat_k = hyper.new_zeros(b, cs, h, w)
            y_hat_k[:, :, anchor] = a_val
            mean_n, scale_n = self.params[k](known, y_hat_k)
            n_sym, n_val = gaussian_coding.decode(gc, n_bytes, scale_n[:, :, ~anchor], mean_n[:, :, ~anchor])
            if gaussian_coding.symbols_crc(a_sym, n_sym) != crcs[k]:
                raise DecodeMismatchError(
                    f"slice {k + 1}/{K} decoded to different symbols than were encoded: the decoder's "
                    "entropy parameters differ from the encoder's (different weights, device or "
                    "numeric library), or the stream is corrupt")
            y_hat_k[:, :, ~anchor] = n_val
            done.append(self._finish_slice(k, hyper, prev, y_hat_k))
            _slice_done(progress, k, K)
        return torch.cat(done, dim=1)


def _slice_done(progress: Progress, k: int, slices: int) -> None:
    if progress is not None:
        progress(ProgressEvent(k + 1, slices, SLICE, k + 1, slices))
