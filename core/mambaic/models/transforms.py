"""Analysis/synthesis transforms g_a, g_s and the hyperprior transforms h_a, h_s.

Resolution steps use CompressAI's residual stride/upsample blocks (with GDN/IGDN, which suit
compression); between them sit stages of base blocks (VSS in MambaIC) that replace the residual
bottlenecks of earlier codecs and give every stage a global receptive field.
"""

from __future__ import annotations

import mambaic._compressai  # noqa: F401  (first: installs the torchvision stand-in, see _runtime)

# isort: split
from compressai.layers import (
    ResidualBlockUpsample,
    ResidualBlockWithStride,
    conv3x3,
    subpel_conv3x3,
)
from torch import nn

from mambaic.models.blocks import stage
from mambaic.models.chroma import ChromaLowpass
from mambaic.models.config import ModelConfig


def analysis_transform(cfg: ModelConfig) -> nn.Sequential:
    """x (B,3,H,W) → y (B,M,H/16,W/16)."""
    w0, w1, w2 = cfg.widths
    d0, d1, d2, d3 = cfg.depths
    k = cfg.transform_block
    return nn.Sequential(
        ResidualBlockWithStride(3, w0, stride=2), stage(k, w0, d0, cfg),
        ResidualBlockWithStride(w0, w1, stride=2), stage(k, w1, d1, cfg),
        ResidualBlockWithStride(w1, w2, stride=2), stage(k, w2, d2, cfg),
        conv3x3(w2, cfg.M, stride=2), stage(k, cfg.M, d3, cfg),
    )


def synthesis_transform(cfg: ModelConfig) -> nn.Sequential:
    """ŷ (B,M,h,w) → x̂ (B,3,16h,16w); the mirror of `analysis_transform`."""
    w0, w1, w2 = cfg.widths
    d0, d1, d2, d3 = cfg.depths
    k = cfg.transform_block
    layers = [
        stage(k, cfg.M, d3, cfg), ResidualBlockUpsample(cfg.M, w2, 2),
        stage(k, w2, d2, cfg), ResidualBlockUpsample(w2, w1, 2),
        stage(k, w1, d1, cfg), ResidualBlockUpsample(w1, w0, 2),
        stage(k, w0, d0, cfg), subpel_conv3x3(w0, 3, 2),
    ]
    if cfg.chroma_filter:
        layers.append(ChromaLowpass())
    return nn.Sequential(*layers)


def hyper_analysis(cfg: ModelConfig) -> nn.Sequential:
    """y (B,M,h,w) → z (B,N,h/4,w/4)."""
    return nn.Sequential(
        conv3x3(cfg.M, cfg.N), nn.GELU(),
        conv3x3(cfg.N, cfg.N, stride=2), nn.GELU(),
        conv3x3(cfg.N, cfg.N, stride=2),
    )


def hyper_synthesis(cfg: ModelConfig) -> nn.Sequential:
    """ẑ → hyper features (B,2M,h,w) shared by every slice's parameter aggregation."""
    mid = cfg.M * 3 // 2
    return nn.Sequential(
        subpel_conv3x3(cfg.N, cfg.M, 2), nn.GELU(),
        subpel_conv3x3(cfg.M, mid, 2), nn.GELU(),
        conv3x3(mid, 2 * cfg.M),
    )
