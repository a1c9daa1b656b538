"""The selective scan as a plain sequential torch loop: slow, obviously correct, differentiable
through torch's autograd, and device-agnostic (it is also the fallback on CUDA tensors when
mamba-ssm is not installed). The tests hold every fast backend to it."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["selective_scan_reference"]


def selective_scan_reference(u, delta, A, B, C, D=None, z=None, delta_bias=None,
                             delta_softplus=False, return_last_state=False):
    """Same arguments and semantics as `mambaic.ops.selective_scan`.

    Computes in float64 when u is float64 (for gradcheck), otherwise in float32; returns y in
    u's dtype (and, with return_last_state, the final state h of shape (batch, dim, N)).
    """
    dtype_in = u.dtype
    ct = torch.float64 if dtype_in == torch.float64 else torch.float32
    batch, dim, L = u.shape
    N = A.shape[-1]
    u = u.to(ct)
    dt = delta.to(ct)
    if delta_bias is not None:
        dt = dt + delta_bias.to(ct)[:, None]
    if delta_softplus:
        dt = F.softplus(dt)
    # B, C: (batch, N, L) → (batch, 1, N, L); grouped (batch, G, N, L) as is. A state row of
    # channel d (in group g = d // (dim / G)) sees B[:, g].
    Bg = (B if B.dim() == 4 else B.unsqueeze(1)).to(ct)
    Cg = (C if C.dim() == 4 else C.unsqueeze(1)).to(ct)
    G = max(Bg.shape[1], Cg.shape[1])
    dpg = dim // G
    Ar = A.to(ct).reshape(G, dpg, N)
    dtr = dt.reshape(batch, G, dpg, L)
    dur = (dt * u).reshape(batch, G, dpg, L)
    h = torch.zeros(batch, G, dpg, N, dtype=ct, device=u.device)
    ys = []
    for t in range(L):
        h = torch.exp(dtr[..., t, None] * Ar) * h + dur[..., t, None] * Bg[:, :, None, :, t]
        ys.append((h * Cg[:, :, None, :, t]).sum(-1))
    y = (torch.stack(ys, dim=-1) if ys else u.new_zeros(batch, G, dpg, 0)).reshape(batch, dim, L)
    if D is not None:
        y = y + D.to(ct)[:, None] * u
    if z is not None:
        y = y * F.silu(z.to(ct))
    y = y.to(dtype_in)
    if return_last_state:
        return y, h.reshape(batch, dim, N).to(dtype_in)
    return y
