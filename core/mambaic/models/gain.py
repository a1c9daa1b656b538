"""Variable rate: one model for every quality q ∈ [1, 5] through learned per-channel gains.

Each paper λ (q = 1 … 5) owns a gain vector that scales y before quantisation and an inverse
gain applied after it (the asymmetric gain units of Cui et al.). Between the levels the vectors
are interpolated geometrically, so the quantisation step — and hence the rate — moves smoothly
with q; λ is interpolated the same way for training.
"""

from __future__ import annotations

import math

import torch
from torch import nn

QUALITY_MIN, QUALITY_MAX = 1.0, 5.0


def check_quality(q: float) -> float:
    q = float(q)
    if not (QUALITY_MIN <= q <= QUALITY_MAX) or math.isnan(q):
        raise ValueError(f"quality must be between {QUALITY_MIN:g} and {QUALITY_MAX:g}, got {q}")
    return q


def _bracket(q: float, levels: int) -> tuple[int, float]:
    """Index i of the lower level and the weight t of the upper one, for q on a 1-based grid."""
    pos = (check_quality(q) - QUALITY_MIN) * (levels - 1) / (QUALITY_MAX - QUALITY_MIN)
    i = min(int(math.floor(pos)), levels - 2)
    return i, pos - i


def lambda_for_quality(q: float, lambdas: tuple[float, ...]) -> float:
    i, t = _bracket(q, len(lambdas))
    return math.exp((1 - t) * math.log(lambdas[i]) + t * math.log(lambdas[i + 1]))


class GainUnit(nn.Module):
    """Per-level gain and inverse-gain vectors over M channels, stored as logarithms."""

    def __init__(self, channels: int, lambdas: tuple[float, ...]) -> None:
        super().__init__()
        self.levels = len(lambdas)
        # High-rate theory: the best quantiser step shrinks like 1/sqrt(λ); start there.
        mid = lambdas[len(lambdas) // 2]
        init = torch.tensor([0.5 * math.log(lam / mid) for lam in lambdas])[:, None].repeat(1, channels)
        self.log_gain = nn.Parameter(init.clone())
        self.log_inverse_gain = nn.Parameter(-init.clone())

    def _interp(self, table: torch.Tensor, q: float) -> torch.Tensor:
        i, t = _bracket(q, self.levels)
        return torch.exp((1 - t) * table[i] + t * table[i + 1])[None, :, None, None]

    def gain(self, q: float) -> torch.Tensor:
        return self._interp(self.log_gain, q)

    def inverse_gain(self, q: float) -> torch.Tensor:
        return self._interp(self.log_inverse_gain, q)
