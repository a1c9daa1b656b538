"""Window-based local attention (WLA): multi-head self-attention inside w×w windows.

MambaIC adds it after parameter aggregation because the SSM's global view misses fine local
redundancy. Maps whose size is not a multiple of the window are padded, and the padded tokens are
masked out of the keys so results do not depend on padding.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _to_windows(x: torch.Tensor, w: int) -> torch.Tensor:
    """(B, C, H, W) with H, W multiples of w → (B·nW, w·w, C)."""
    b, c, h, wd = x.shape
    x = x.view(b, c, h // w, w, wd // w, w).permute(0, 2, 4, 3, 5, 1)
    return x.reshape(-1, w * w, c)


def _from_windows(t: torch.Tensor, b: int, h: int, wd: int, w: int) -> torch.Tensor:
    c = t.shape[-1]
    t = t.view(b, h // w, wd // w, w, w, c).permute(0, 5, 1, 3, 2, 4)
    return t.reshape(b, c, h, wd)


class WindowAttention(nn.Module):
    """Residual window self-attention with a pre-LayerNorm and a small MLP, on (B, C, H, W)."""

    def __init__(self, dim: int, window: int = 8, heads: int = 4, mlp_ratio: float = 2.0) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"attention width {dim} is not divisible by {heads} heads")
        self.window, self.heads = window, heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
        n = window * window
        coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + window - 1
        self.register_buffer("rel_index", (rel[..., 0] * (2 * window - 1) + rel[..., 1]).view(n, n),
                             persistent=False)
        self.rel_bias = nn.Parameter(torch.zeros(heads, (2 * window - 1) ** 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, wd = x.shape
        w = self.window
        ph, pw = (-h) % w, (-wd) % w
        valid = None
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph))
            valid = F.pad(torch.ones(1, 1, h, wd, device=x.device, dtype=torch.bool), (0, pw, 0, ph))
        H, W = h + ph, wd + pw
        t = _to_windows(x, w)  # (B·nW, n, C)
        n = w * w
        qkv = self.qkv(self.norm1(t)).view(t.shape[0], n, 3, self.heads, c // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        bias = self.rel_bias[:, self.rel_index].unsqueeze(0)  # (1, heads, n, n)
        if valid is not None:
            keymask = _to_windows(valid.expand(b, 1, H, W).to(x.dtype), w)[..., 0] > 0  # (B·nW, n)
            bias = bias + torch.where(keymask, 0.0, float("-inf"))[:, None, None, :].to(x.dtype)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.to(q.dtype))
        t = t + self.proj(a.transpose(1, 2).reshape(t.shape[0], n, c))
        t = t + self.mlp(self.norm2(t))
        return _from_windows(t, b, H, W, w)[:, :, :h, :wd].contiguous()
