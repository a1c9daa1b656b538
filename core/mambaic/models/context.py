"""The SSM channel-spatial context model: entropy parameters of one channel slice.

For slice k, three kinds of side information are known to the decoder:
- the hyperprior features (from ẑ),
- the already decoded slices ŷ<k  → channel context Ψ_k (base block + conv),
- in the second (non-anchor) checkerboard pass, the anchor half of ŷ_k → spatial context Φ
  (base block + conv).
They are concatenated and aggregated by 1×1 convolutions, then window-based local attention
(8×8) removes the local redundancy the SSM's global view misses, and a 1×1 head emits (μ, σ).
"""

from __future__ import annotations

import torch
from torch import nn

from mambaic.models.attention import WindowAttention
from mambaic.models.blocks import stage
from mambaic.models.config import ModelConfig


def checkerboard_anchor_mask(height: int, width: int, device=None) -> torch.Tensor:
    """Boolean (H, W) mask of the anchor positions: (i + j) even. Anchors are coded first."""
    i = torch.arange(height, device=device)[:, None]
    j = torch.arange(width, device=device)[None, :]
    return (i + j) % 2 == 0


class ContextFeatures(nn.Module):
    """conv → base blocks → conv: the feature extractor of both Ψ_k and Φ."""

    def __init__(self, in_ch: int, cfg: ModelConfig, kernel: int) -> None:
        super().__init__()
        w = cfg.context_width
        self.body = nn.Sequential(
            nn.Conv2d(in_ch, w, kernel, padding=kernel // 2), nn.GELU(),
            stage(cfg.context_block, w, cfg.context_depth, cfg),
            nn.Conv2d(w, w, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class SliceParameters(nn.Module):
    """(hyper features, ŷ<k, anchor half of ŷ_k or None) → (μ_k, σ_k), in two calls: the
    pass-independent `known_features`, then `forward` once per checkerboard pass."""

    def __init__(self, k: int, cfg: ModelConfig) -> None:
        super().__init__()
        cs, w, a = cfg.slice_channels, cfg.context_width, cfg.aggregation_width
        self.has_channel = cfg.use_channel_context and k > 0
        self.has_spatial = cfg.use_spatial_context
        self.channel = ContextFeatures(k * cs, cfg, kernel=1) if self.has_channel else None
        self.spatial = ContextFeatures(cs, cfg, kernel=5) if self.has_spatial else None
        in_ch = 2 * cfg.M + w * (self.has_channel + self.has_spatial)
        self.aggregate = nn.Sequential(nn.Conv2d(in_ch, a, 1), nn.GELU(), nn.Conv2d(a, a, 1))
        self.wla = (WindowAttention(a, window=cfg.window_size, heads=cfg.attention_heads)
                    if cfg.use_wla else nn.Identity())
        self.head = nn.Sequential(nn.GELU(), nn.Conv2d(a, 2 * cs, 1))

    def known_features(self, hyper: torch.Tensor, previous: torch.Tensor | None) -> torch.Tensor:
        """Hyper features and the channel context Ψ_k. Both checkerboard passes of a slice share
        them, so they are computed once per slice (one ContextFeatures less per slice)."""
        return torch.cat([hyper, self.channel(previous)], dim=1) if self.has_channel else hyper

    def forward(self, known: torch.Tensor, anchors: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """(`known_features`, anchor half of ŷ_k or None in the first pass) → (μ_k, σ_k)."""
        x = known
        if self.has_spatial:
            if anchors is None:  # first pass: nothing of this slice is known yet
                b, _, h, w = known.shape
                spatial = known.new_zeros(b, self.spatial.body[-1].out_channels, h, w)
            else:
                spatial = self.spatial(anchors)
            x = torch.cat([known, spatial], dim=1)
        p = self.head(self.wla(self.aggregate(x)))
        mean, scale = p.chunk(2, dim=1)
        return mean, scale


class LatentResidualPrediction(nn.Module):
    """Predicts part of the quantisation error of ŷ_k from what the decoder knows (Minnen 2020)."""

    def __init__(self, k: int, cfg: ModelConfig) -> None:
        super().__init__()
        cs, w = cfg.slice_channels, cfg.context_width
        self.body = nn.Sequential(nn.Conv2d(cfg.M + (k + 1) * cs, w, 3, padding=1), nn.GELU(),
                                  nn.Conv2d(w, cs, 3, padding=1))

    def forward(self, hyper_mean: torch.Tensor, previous: torch.Tensor | None,
                y_hat: torch.Tensor) -> torch.Tensor:
        parts = [hyper_mean] + ([previous] if previous is not None else []) + [y_hat]
        return 0.5 * torch.tanh(self.body(torch.cat(parts, dim=1)))
