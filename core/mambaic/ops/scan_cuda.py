"""Adapter to mamba-ssm's CUDA selective scan (optional: `pip install mambaic[cuda]`).

mamba-ssm is imported lazily and any failure (not installed, or installed without its compiled
`selective_scan_cuda` extension, as on CPU-only machines) just makes the backend unavailable.
"""

from __future__ import annotations

import functools

import torch

__all__ = ["cuda_kernel", "cuda_available", "selective_scan_cuda"]


@functools.lru_cache(maxsize=None)
def cuda_kernel():
    """mamba-ssm's `selective_scan_fn`, or None when it cannot be imported."""
    try:
        from mamba_ssm.ops.selective_scan_interface import selective_scan_fn
    except Exception:  # ModuleNotFoundError for selective_scan_cuda on CPU machines, and more
        return None
    return selective_scan_fn


def cuda_available() -> bool:
    """True when CUDA is usable and mamba-ssm's kernel imports."""
    try:
        if not torch.cuda.is_available():
            return False
    except Exception:
        return False
    return cuda_kernel() is not None


def selective_scan_cuda(u, delta, A, B, C, D=None, z=None, delta_bias=None,
                        delta_softplus=False, return_last_state=False):
    """Call mamba-ssm with the dtypes its kernel requires (A, D, delta_bias in float32)."""
    fn = cuda_kernel()
    if fn is None:
        raise RuntimeError("the 'cuda' selective-scan backend needs mamba-ssm (pip install mamba-ssm)")
    return fn(u, delta, A.float(), B, C,
              D=None if D is None else D.float(), z=z,
              delta_bias=None if delta_bias is None else delta_bias.float(),
              delta_softplus=bool(delta_softplus), return_last_state=bool(return_last_state))
