"""Base blocks shared by the transforms and the context model, switchable for the ablations.

`vss` is MambaIC's; `conv` (a residual bottleneck) and `transformer` (window self-attention) are
the paper's comparison points. All map (B, C, H, W) → (B, C, H, W).
"""

from __future__ import annotations

from torch import nn

from mambaic.models.attention import WindowAttention
from mambaic.models.config import BlockKind, ModelConfig
from mambaic.models.vss import VSSBlock


class ResidualBottleneck(nn.Module):
    """conv1×1 → GELU → conv3×3 → GELU → conv1×1, plus the input."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        mid = max(dim // 2, 8)
        self.body = nn.Sequential(nn.Conv2d(dim, mid, 1), nn.GELU(), nn.Conv2d(mid, mid, 3, padding=1),
                                  nn.GELU(), nn.Conv2d(mid, dim, 1))

    def forward(self, x):
        return x + self.body(x)


def base_block(kind: BlockKind, dim: int, cfg: ModelConfig) -> nn.Module:
    if kind == "vss":
        return VSSBlock(dim, d_state=cfg.d_state, ssm_ratio=cfg.ssm_ratio)
    if kind == "conv":
        return ResidualBottleneck(dim)
    if kind == "transformer":
        heads = max(h for h in (8, 4, 2, 1) if dim % h == 0)
        return WindowAttention(dim, window=cfg.window_size, heads=heads)
    raise ValueError(f"unknown block kind {kind!r}")


def stage(kind: BlockKind, dim: int, depth: int, cfg: ModelConfig) -> nn.Module:
    """`depth` base blocks in a row (an identity for depth 0)."""
    return nn.Sequential(*(base_block(kind, dim, cfg) for _ in range(depth)))
