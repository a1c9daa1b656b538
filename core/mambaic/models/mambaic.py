"""MambaIC: image → g_a → y → (gain, hyperprior, SSM channel-spatial context) → bytes, and back."""

from __future__ import annotations

import torch
from torch import nn

from mambaic._compressai import EntropyBottleneck
from mambaic.errors import Cancelled
from mambaic.models.config import ModelConfig
from mambaic.models.gain import GainUnit, check_quality, lambda_for_quality
from mambaic.models.gaussian_coding import MAX_SYMBOL
from mambaic.models.latent_codec import Cancel, ChannelSpatialLatentCodec, Progress
from mambaic.models.refine import refine_latents
from mambaic.models.streams import LatentStreams
from mambaic.models.transforms import (
    analysis_transform,
    hyper_analysis,
    hyper_synthesis,
    synthesis_transform,
)

#: CompressAI's default table of Gaussian scales (64 levels, log-spaced 0.11 … 256).
SCALES_MIN, SCALES_MAX, SCALES_LEVELS = 0.11, 256.0, 64


def scale_table() -> torch.Tensor:
    return torch.exp(torch.linspace(torch.log(torch.tensor(SCALES_MIN)),
                                    torch.log(torch.tensor(SCALES_MAX)), SCALES_LEVELS))


class MambaIC(nn.Module):
    """The whole codec network. Inputs to `compress` must be padded to `pad_multiple`."""

    pad_multiple = 64

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.g_a = analysis_transform(cfg)
        self.g_s = synthesis_transform(cfg)
        self.h_a = hyper_analysis(cfg)
        self.h_s = hyper_synthesis(cfg)
        self.gain = GainUnit(cfg.M, cfg.lambdas)
        self.entropy_bottleneck = EntropyBottleneck(cfg.N)
        self.latent = ChannelSpatialLatentCodec(cfg)

    # ---- training -------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, quality: float) -> dict:
        """x (B,3,H,W) in [0,1] → {"x_hat", "likelihoods": {"y", "z"}} for the RD loss."""
        # Inputs built from HWC arrays arrive channels-last strided. On torch 2.13 CPU the backward
        # pass of a strided 1x1 conv (the skip of ResidualBlockWithStride) corrupts the heap on
        # channels-last input (a bare Conv2d(3, 48, 1, stride=2) aborts within 50 steps), so the
        # layout is normalised at the door.
        x = x.contiguous()
        y = self.g_a(x) * self.gain.gain(quality)
        z = self.h_a(y)
        z_hat, z_lik = self.entropy_bottleneck(z)
        hyper = self.h_s(z_hat)
        y_hat, y_lik = self.latent(y, hyper)
        x_hat = self.g_s(y_hat * self.gain.inverse_gain(quality))
        return {"x_hat": x_hat, "likelihoods": {"y": y_lik, "z": z_lik}}

    def aux_loss(self) -> torch.Tensor:
        """The EntropyBottleneck's quantile loss, trained by its own optimiser."""
        return self.entropy_bottleneck.loss()

    def update(self, force: bool = False) -> bool:
        """Rebuild the integer CDF tables the rANS coder uses (needed after training/loading)."""
        a = self.entropy_bottleneck.update(force=force)
        b = self.latent.gaussian_conditional.update_scale_table(scale_table(), force=force)
        return bool(a or b)

    # ---- coding ---------------------------------------------------------------------------
    def _check_input(self, x: torch.Tensor) -> None:
        if x.dim() != 4 or x.shape[0] != 1 or x.shape[1] != 3:
            raise ValueError(f"expected a (1, 3, H, W) tensor, got {tuple(x.shape)}")
        if x.shape[2] % self.pad_multiple or x.shape[3] % self.pad_multiple:
            raise ValueError(f"H and W must be multiples of {self.pad_multiple}, got {tuple(x.shape[2:])}")

    @torch.no_grad()
    def compress(self, x: torch.Tensor, quality: float, progress: Progress = None,
                 cancel: Cancel = None, refine_steps: int = 0,
                 valid: tuple[int, int] | None = None) -> LatentStreams:
        """x (1,3,Hp,Wp) in [0,1] → entropy-coded streams.

        Stages: analysis, then hyper and K slices. With ``refine_steps`` > 0 (see `refine`) the
        latents are refined first, and both the refined and the plain latents are coded; the
        streams kept are those with the lower rate-distortion cost *in real bytes and in the pixels
        a decoder will produce* (λ·255²·MSE + bits per pixel over the valid pixels), so refinement
        can never make a tile worse than the plain encoder does. ``valid`` is the (height, width)
        of real pixels in x; padding costs bits but never error.
        """
        self._check_input(x)
        if refine_steps < 0:
            raise ValueError(f"refine_steps must be 0 or more, got {refine_steps}")
        x = x.contiguous()
        quality = check_quality(quality)
        K = self.cfg.num_slices
        report = _Reporter(progress, cancel, self.compress_stages(refine_steps))
        y = self.g_a(x) * self.gain.gain(quality)
        report(1, "analysis")
        z = self.h_a(y)
        if not refine_steps:
            return self._code(y, z, report, 1)[0]
        valid = valid or tuple(x.shape[-2:])
        y_r, z_r = refine_latents(self, x, y, z, quality, refine_steps, valid,
                                  lambda done, steps: report(1 + done, f"refining {done}/{steps}"))
        refined, y_hat_r = self._code(y_r, z_r, report, 1 + refine_steps)
        plain, y_hat_p = self._code(y, z, report, 2 + refine_steps + K, "plain ")
        costs = [self._real_cost(x, y_hat, streams, quality, valid)
                 for y_hat, streams in ((y_hat_r, refined), (y_hat_p, plain))]
        report(self.compress_stages(refine_steps), "keeping the cheaper coding")
        refined.refined = costs[0] < costs[1]
        return refined if refined.refined else plain

    def _code(self, y: torch.Tensor, z: torch.Tensor, report: "_Reporter", base: int,
              label: str = "") -> tuple[LatentStreams, torch.Tensor]:
        """Entropy-code (y, z): hyper, then K slices → (streams, the ŷ a decoder rebuilds)."""
        medians = self.entropy_bottleneck._get_medians().reshape(1, -1, 1, 1)
        # The same guard as gaussian_coding.MAX_SYMBOL: CompressAI's coder has one word per symbol.
        z = torch.minimum(torch.maximum(z, medians - MAX_SYMBOL), medians + MAX_SYMBOL)
        z_strings = self.entropy_bottleneck.compress(z)
        z_hat = self.entropy_bottleneck.decompress(z_strings, z.shape[-2:])
        hyper = self.h_s(z_hat)
        report(base + 1, label + "hyper")
        progress = report.offset(base + 1)
        if progress and label:
            inner = progress
            progress = lambda done, total, stage: inner(done, total, label + stage)  # noqa: E731
        slices, crcs, y_hat = self.latent.compress(y, hyper, progress, report.cancel)
        return LatentStreams(z=z_strings[0], slices=slices, z_shape=tuple(z.shape[-2:]),
                             y_shape=tuple(y.shape[-2:]), symbol_crcs=crcs), y_hat

    def _real_cost(self, x: torch.Tensor, y_hat: torch.Tensor, streams: LatentStreams,
                   quality: float, valid: tuple[int, int]) -> float:
        """λ·255²·MSE of the uint8 pixels a decoder will output + the streams' bits per pixel."""
        height, width = valid
        x_hat = self.g_s(y_hat * self.gain.inverse_gain(quality)).clamp_(0, 1)
        decoded = (x_hat[..., :height, :width] * 255).round()
        mse = (decoded - x[..., :height, :width] * 255).square().mean().item() / 255 ** 2
        lam = lambda_for_quality(quality, self.cfg.lambdas)
        return lam * 255 ** 2 * mse + 8 * streams.payload_bytes / (height * width)

    def compress_stages(self, refine_steps: int = 0) -> int:
        """How many progress stages `compress` reports, for callers that combine several calls:
        analysis, hyper and K slices; with refinement also its steps, a second hyper and K
        slices (the plain coding it is compared with) and the comparison."""
        plain = self.cfg.num_slices + 2
        return plain + refine_steps + self.cfg.num_slices + 2 if refine_steps else plain

    @torch.no_grad()
    def decompress(self, streams: LatentStreams, quality: float, progress: Progress = None,
                   cancel: Cancel = None) -> torch.Tensor:
        """Streams → x̂ (1,3,Hp,Wp) clamped to [0,1]. Stages: hyper, K slices, synthesis."""
        quality = check_quality(quality)
        if len(streams.slices) != self.cfg.num_slices or len(streams.symbol_crcs) != self.cfg.num_slices:
            raise ValueError(f"model expects {self.cfg.num_slices} slices, streams have {len(streams.slices)}")
        zh, zw = streams.z_shape
        if tuple(streams.y_shape) != (4 * zh, 4 * zw):
            raise ValueError(f"latent shapes disagree: y {streams.y_shape} vs z {streams.z_shape}")
        total = self.cfg.num_slices + 2
        report = _Reporter(progress, cancel, total)
        z_hat = self.entropy_bottleneck.decompress([streams.z], (zh, zw))
        hyper = self.h_s(z_hat)
        report(1, "hyper")
        y_hat = self.latent.decompress(streams.slices, streams.symbol_crcs, hyper, report.offset(1), cancel)
        x_hat = self.g_s(y_hat * self.gain.inverse_gain(quality)).clamp_(0, 1)
        report(total, "synthesis")
        return x_hat


class _Reporter:
    """Maps stage completions onto one (done, total) progress scale and honours cancellation."""

    def __init__(self, progress: Progress, cancel: Cancel, total: int) -> None:
        self.progress, self.cancel, self.total = progress, cancel, total

    def __call__(self, done: int, stage: str) -> None:
        if self.progress:
            self.progress(done, self.total, stage)
        if done < self.total and self.cancel is not None and self.cancel():
            raise Cancelled("cancelled")

    def offset(self, base: int) -> Progress:
        if not self.progress:
            return None
        return lambda done, _total, stage: self.progress(base + done, self.total, stage)
