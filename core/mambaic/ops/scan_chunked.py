"""A selective scan for GPUs without mamba-ssm: chunked parallel prefix scan in plain torch.

The reference loop launches several kernels per time step, hopeless on a GPU. Here the
recurrence h_t = a_t·h_{t-1} + b_t (a = exp(ΔA), b = Δ·B·u) is solved with the associative
operator (a1, b1)∘(a2, b2) = (a1·a2, a2·b1 + b2): a Hillis–Steele scan inside chunks of
`chunk` steps (log2(chunk) whole-tensor passes), a scan over the chunk carries, and one fix-up
pass. It materialises (batch, dim, L, N) tensors, which a GPU affords and a CPU does not (the CPU
uses the fused numba kernel); autograd comes from torch, and callers may wrap it in activation
checkpointing to bound training memory.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _expand_groups(X: torch.Tensor, dim: int) -> torch.Tensor:
    """(b, N, L) or (b, G, N, L) → (b, dim, L, N), channel d using group d // (dim / G)."""
    if X.dim() == 3:
        X = X[:, None]
    return X.repeat_interleave(dim // X.shape[1], dim=1).transpose(-1, -2)


def _inclusive_scan(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Hillis–Steele scan along dim -2 of (…, T, N): returns (∏a, h) at every step."""
    T = a.shape[-2]
    k = 1
    while k < T:
        b = torch.cat((b[..., :k, :], a[..., k:, :] * b[..., :-k, :] + b[..., k:, :]), dim=-2)
        a = torch.cat((a[..., :k, :], a[..., k:, :] * a[..., :-k, :]), dim=-2)
        k *= 2
    return a, b


def selective_scan_chunked(u, delta, A, B, C, D=None, z=None, delta_bias=None,
                           delta_softplus=False, return_last_state=False, chunk: int = 64):
    """Same contract as `mambaic.ops.selective_scan` (inputs already validated)."""
    dtype = u.dtype
    batch, dim, L = u.shape
    u32, dt = u.float(), delta.float()
    if delta_bias is not None:
        dt = dt + delta_bias.float()[None, :, None]
    if delta_softplus:
        dt = F.softplus(dt)
    Bx, Cx = _expand_groups(B.float(), dim), _expand_groups(C.float(), dim)  # (b, d, L, N)
    a = torch.exp(dt[..., None] * A.float()[None, :, None, :])
    b = (dt * u32)[..., None] * Bx
    pad = (-L) % chunk
    if pad:  # identity steps (a = 1, b = 0) at the end change nothing before them
        a = F.pad(a, (0, 0, 0, pad), value=1.0)
        b = F.pad(b, (0, 0, 0, pad))
    n_chunks = (L + pad) // chunk
    N = A.shape[1]
    a = a.view(batch, dim, n_chunks, chunk, N)
    b = b.view(batch, dim, n_chunks, chunk, N)
    a_cum, h = _inclusive_scan(a, b)  # within each chunk, from a zero state
    # Carry between chunks: the state entering chunk c is the scan of the chunk totals before it.
    carry_a, carry_h = _inclusive_scan(a_cum[..., -1, :], h[..., -1, :])  # (b, d, n_chunks, N)
    entering = torch.cat((torch.zeros_like(carry_h[..., :1, :]), carry_h[..., :-1, :]), dim=-2)
    h = h + a_cum * entering[..., None, :]
    h = h.view(batch, dim, n_chunks * chunk, N)[:, :, :L]
    y = (h * Cx).sum(-1)
    last = h[:, :, -1]
    if D is not None:
        y = y + D.float()[None, :, None] * u32
    if z is not None:
        y = y * F.silu(z.float())
    return (y.to(dtype), last) if return_last_state else y.to(dtype)
