"""The VSS block and its 2-D selective scan (SS2D), the base block of MambaIC.

An image feature map has no natural 1-D order, so SS2D reads it along four paths (rows, columns,
and both reversed), runs one selective scan per path, and merges the four outputs back onto the
grid: every position then has seen the whole image, at a cost linear in the number of pixels.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from mambaic.ops import selective_scan

NUM_PATHS = 4


def cross_scan(x: torch.Tensor) -> torch.Tensor:
    """(B, D, H, W) → (B, 4, D, H·W): row-major, column-major, and both reversed."""
    rows = x.flatten(2)
    cols = x.transpose(2, 3).flatten(2)
    return torch.stack((rows, cols, rows.flip(-1), cols.flip(-1)), dim=1)


def cross_scan_paths(t: torch.Tensor) -> torch.Tensor:
    """(B, 4, C, H, W), one map per path → (B, 4, C, H·W), map k read in path k's order.

    For what is computed per position before the scan: the same as taking path k of
    `cross_scan` of a per-position function, at the cost of scanning only its C channels.
    """
    rows = t[:, 0::2].flatten(3)
    cols = t[:, 1::2].transpose(3, 4).flatten(3)
    return torch.stack((rows[:, 0], cols[:, 0], rows[:, 1].flip(-1), cols[:, 1].flip(-1)), dim=1)


def cross_merge(ys: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Inverse of `cross_scan` followed by a sum over the four paths: (B, 4, D, L) → (B, D, H, W)."""
    b, _, d, _ = ys.shape
    row, col, row_rev, col_rev = ys.unbind(1)  # unbind: its backward stacks, no zero-filled grads
    rows = row + row_rev.flip(-1)
    cols = col + col_rev.flip(-1)
    cols = cols.view(b, d, width, height).transpose(2, 3).reshape(b, d, height * width)
    return (rows + cols).view(b, d, height, width)


class SS2D(nn.Module):
    """Linear → depthwise conv → SiLU → 4-path selective scan → LayerNorm → gate → Linear."""

    def __init__(self, dim: int, d_state: int = 16, ssm_ratio: float = 2.0,
                 dt_min: float = 1e-3, dt_max: float = 0.1) -> None:
        super().__init__()
        self.d_inner = d_inner = max(8, int(round(ssm_ratio * dim)))
        self.d_state = d_state
        self.dt_rank = dt_rank = math.ceil(dim / 16)
        self.in_proj = nn.Linear(dim, 2 * d_inner, bias=False)
        self.dwconv = nn.Conv2d(d_inner, d_inner, 3, padding=1, groups=d_inner)
        # One projection per path, applied with a single einsum.
        self.x_proj_weight = nn.Parameter(
            torch.empty(NUM_PATHS, dt_rank + 2 * d_state, d_inner).uniform_(-1, 1) / math.sqrt(d_inner))
        self.dt_proj_weight = nn.Parameter(
            torch.empty(NUM_PATHS, d_inner, dt_rank).uniform_(-1, 1) / math.sqrt(dt_rank))
        # Softplus(bias) starts log-uniform in [dt_min, dt_max], as in Mamba's initialisation.
        dt = torch.exp(torch.rand(NUM_PATHS, d_inner) * (math.log(dt_max) - math.log(dt_min))
                       + math.log(dt_min)).clamp(min=1e-4)
        self.dt_proj_bias = nn.Parameter(dt + torch.log(-torch.expm1(-dt)))
        self.A_log = nn.Parameter(
            torch.log(torch.arange(1, d_state + 1, dtype=torch.float32)).repeat(NUM_PATHS * d_inner, 1))
        self.D = nn.Parameter(torch.ones(NUM_PATHS * d_inner))
        self.out_norm = nn.LayerNorm(d_inner)
        self.out_proj = nn.Linear(d_inner, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, H, W, C) channels-last → same shape."""
        b, h, w, _ = x.shape
        xz = self.in_proj(x)
        xs, z = xz.chunk(2, dim=-1)
        xs = F.silu(self.dwconv(xs.permute(0, 3, 1, 2).contiguous()))
        L = h * w
        seq = cross_scan(xs)  # (B, 4, D, L)
        # The per-path projections act on each position alone, so they are computed on the
        # grid, all four in one matrix product, and only their few output channels are put in
        # scan order: projecting the (B, 4, D, L) sequence instead copies it twice more and
        # sums its gradient from two layouts (a lite training step of batch 4 at 192²: 3–7 % faster).
        k, c, d = self.x_proj_weight.shape
        grid = torch.matmul(self.x_proj_weight.reshape(k * c, d), xs.flatten(2))
        proj = cross_scan_paths(grid.view(b, k, c, h, w))
        dts, Bs, Cs = torch.split(proj, [self.dt_rank, self.d_state, self.d_state], dim=2)
        dts = torch.matmul(self.dt_proj_weight, dts)
        ys = selective_scan(
            seq.reshape(b, -1, L), dts.reshape(b, -1, L), -torch.exp(self.A_log),
            Bs.contiguous(), Cs.contiguous(), self.D, delta_bias=self.dt_proj_bias.flatten(),
            delta_softplus=True,
        ).view(b, NUM_PATHS, self.d_inner, L)
        y = cross_merge(ys, h, w).permute(0, 2, 3, 1)
        y = self.out_norm(y) * F.silu(z)
        return self.out_proj(y)


class VSSBlock(nn.Module):
    """Residual VSS block on (B, C, H, W) maps: x + SS2D(LayerNorm(x))."""

    def __init__(self, dim: int, d_state: int = 16, ssm_ratio: float = 2.0) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.ss2d = SS2D(dim, d_state=d_state, ssm_ratio=ssm_ratio)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.permute(0, 2, 3, 1)
        t = t + self.ss2d(self.norm(t))
        return t.permute(0, 3, 1, 2).contiguous()
