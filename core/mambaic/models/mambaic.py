"""MambaIC: image → g_a → y → (gain, hyperprior, SSM channel-spatial context) → bytes, and back."""

from __future__ import annotations

import torch

from mambaic._compressai import CompressionModel, EntropyBottleneck
from mambaic.models.config import ModelConfig
from mambaic.models.gain import GainUnit, check_quality, lambda_for_quality
from mambaic.models.hyperprior import HyperLatentCodec
from mambaic.models.latent_codec import ChannelSpatialLatentCodec
from mambaic.models.latent_stage import ANALYSIS, CHOICE, SYNTHESIS
from mambaic.models.pixels import pixel_values
from mambaic.models.refine import refine_latents
from mambaic.models.streams import LatentStreams
from mambaic.models.transforms import (
    analysis_transform,
    hyper_analysis,
    hyper_synthesis,
    synthesis_transform,
)
from mambaic.progress import Cancel, Progress, ProgressScale


class MambaIC(CompressionModel):
    """The whole codec network. Inputs to `compress` must be padded to `pad_multiple`.

    CompressAI's `CompressionModel` gives what every model with its entropy models needs, so it
    is not restated here: ``aux_loss`` (the bottleneck's quantile loss, for its own optimiser),
    ``update`` (rebuild the rANS coder's integer CDF tables after training or loading) and a
    ``load_state_dict`` that sizes those tables from the saved ones.
    """

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

    @property
    def hyper(self) -> HyperLatentCodec:
        """The z stage (`latent` is the other one): a view on ``entropy_bottleneck`` and ``h_s``,
        which keep their state-dict names; made on each use, so it always sees the current ones."""
        return HyperLatentCodec(self.entropy_bottleneck, self.h_s)

    # ---- training -------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, quality: float) -> dict:
        """x (B,3,H,W) in [0,1] → {"x_hat", "likelihoods": {"y", "z"}} for the RD loss."""
        # Inputs built from HWC arrays arrive channels-last strided. On torch 2.13 CPU the backward
        # pass of a strided 1x1 conv (the skip of ResidualBlockWithStride) corrupts the heap on
        # channels-last input (a bare Conv2d(3, 48, 1, stride=2) aborts within 50 steps), so the
        # layout is normalised at the door.
        x = x.contiguous()
        y = self.g_a(x) * self.gain.gain(quality)
        hyper = self.hyper(self.h_a(y))
        latent = self.latent(y, hyper.output)
        x_hat = self.g_s(latent.output * self.gain.inverse_gain(quality))
        return {"x_hat": x_hat, "likelihoods": {"y": latent.likelihoods, "z": hyper.likelihoods}}

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
        report = ProgressScale(progress, self.compress_stages(refine_steps), cancel=cancel)
        y = self.g_a(x) * self.gain.gain(quality)
        report.report(1, ANALYSIS)
        z = self.h_a(y)
        if not refine_steps:
            return self._code(y, z, report.span(1, K + 1))[0]
        valid = valid or tuple(x.shape[-2:])
        y_r, z_r = refine_latents(self, x, y, z, quality, refine_steps, valid,
                                  report.span(1, refine_steps))
        refined, y_hat_r = self._code(y_r, z_r, report.span(1 + refine_steps, K + 1))
        plain, y_hat_p = self._code(y, z, report.span(2 + refine_steps + K, K + 1, variant="plain"))
        costs = [self._real_cost(x, y_hat, streams, quality, valid)
                 for y_hat, streams in ((y_hat_r, refined), (y_hat_p, plain))]
        report.report(self.compress_stages(refine_steps), CHOICE)
        refined.refined = costs[0] < costs[1]
        return refined if refined.refined else plain

    def _code(self, y: torch.Tensor, z: torch.Tensor,
              progress: ProgressScale) -> tuple[LatentStreams, torch.Tensor]:
        """Entropy-code (y, z) through both stages → (streams, the ŷ a decoder rebuilds).
        ``progress`` spans the z stage (1 unit) and the K slices."""
        hyper = self.hyper.compress(z, progress.span(0, 1))
        latent = self.latent.compress(y, hyper.output, progress.span(1, self.cfg.num_slices))
        return LatentStreams.of(hyper.streams, latent.streams), latent.output

    def _real_cost(self, x: torch.Tensor, y_hat: torch.Tensor, streams: LatentStreams,
                   quality: float, valid: tuple[int, int]) -> float:
        """λ·255²·MSE of the uint8 pixels a decoder will output + the streams' bits per pixel."""
        height, width = valid
        x_hat = self.g_s(y_hat * self.gain.inverse_gain(quality))
        decoded = pixel_values(x_hat[..., :height, :width])
        mse = (decoded - x[..., :height, :width] * 255).square().mean().item() / 255 ** 2
        lam = lambda_for_quality(quality, self.cfg.lambdas)
        return lam * 255 ** 2 * mse + 8 * streams.payload_bytes / (height * width)

    def compress_stages(self, refine_steps: int = 0) -> int:
        """How many progress stages `compress` reports, for callers that combine several calls:
        analysis, hyper and K slices; with refinement also its steps, a second hyper and K
        slices (the plain coding it is compared with) and the comparison."""
        plain = self.cfg.num_slices + 2
        return plain + refine_steps + self.cfg.num_slices + 2 if refine_steps else plain

    def decompress_stages(self) -> int:
        """How many progress stages `decompress` reports: hyper, K slices and synthesis."""
        return self.cfg.num_slices + 2

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
        total = self.decompress_stages()
        report = ProgressScale(progress, total, cancel=cancel)
        hyper = self.hyper.decompress(streams.hyper, report.span(0, 1))
        y_hat = self.latent.decompress(streams.latent, hyper, report.span(1, self.cfg.num_slices))
        x_hat = self.g_s(y_hat * self.gain.inverse_gain(quality)).clamp_(0, 1)
        report.report(total, SYNTHESIS)
        return x_hat
