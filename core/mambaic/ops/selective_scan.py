"""`selective_scan`: the public entry point, which checks shapes and picks a backend.

Backends
--------
``"cuda"``       mamba-ssm's fused CUDA kernel (CUDA tensors, when mamba-ssm imports)
``"numba"``      the fused, multi-threaded numba kernel of `mambaic.ops.scan_cpu` (CPU tensors)
``"chunked"``    the chunked parallel prefix scan of `mambaic.ops.scan_chunked` (any device;
                 materialises (batch, dim, L, N), so meant for GPUs without mamba-ssm)
``"reference"``  the sequential torch loop of `mambaic.ops.scan_reference` (any device, slow)
``"auto"``       cuda for CUDA tensors when available, else chunked there; numba on CPU

The numba module (and numba itself) is imported on the first CPU call, not at import time.
"""

from __future__ import annotations

import functools

import torch

from mambaic.ops.scan_chunked import selective_scan_chunked
from mambaic.ops.scan_cuda import cuda_available, selective_scan_cuda
from mambaic.ops.scan_reference import selective_scan_reference

__all__ = ["selective_scan", "available_backends", "auto_backend", "BACKENDS"]

BACKENDS = ("cuda", "numba", "chunked", "reference")


@functools.lru_cache(maxsize=None)
def _numba_impl():
    """`scan_cpu.selective_scan_numba`, or None when numba cannot be imported."""
    try:
        from mambaic.ops.scan_cpu import selective_scan_numba
    except Exception:
        return None
    return selective_scan_numba


def available_backends() -> list[str]:
    """The backends usable in this process, fastest first ("reference" is always there)."""
    names = []
    if cuda_available():
        names.append("cuda")
    if _numba_impl() is not None:
        names.append("numba")
    names += ["chunked", "reference"]
    return names


def _check(u, delta, A, B, C, D, z, delta_bias) -> None:
    if u.dim() != 3:
        raise ValueError(f"u must be (batch, dim, L), got shape {tuple(u.shape)}")
    batch, dim, L = u.shape
    if delta.shape != u.shape:
        raise ValueError(f"delta must have u's shape {tuple(u.shape)}, got {tuple(delta.shape)}")
    if A.dim() != 2 or A.shape[0] != dim:
        raise ValueError(f"A must be (dim={dim}, N), got shape {tuple(A.shape)}")
    if A.is_complex():
        raise ValueError("complex A is not supported")
    N = A.shape[1]
    groups = []
    for name, X in (("B", B), ("C", C)):
        if X.dim() == 3:
            ok = X.shape == (batch, N, L)
            groups.append(1)
        elif X.dim() == 4:
            ok = X.shape[0] == batch and X.shape[2:] == (N, L) and X.shape[1] >= 1
            groups.append(X.shape[1])
        else:
            ok = False
        if not ok:
            raise ValueError(f"{name} must be (batch={batch}, N={N}, L={L}) or "
                             f"(batch, G, N, L), got shape {tuple(X.shape)}")
    G = max(groups)
    if min(groups) != G and min(groups) != 1:
        raise ValueError(f"B and C have different group counts {groups[0]} and {groups[1]}")
    if dim % G:
        raise ValueError(f"dim={dim} is not divisible by the number of groups G={G}")
    for name, X in (("D", D), ("delta_bias", delta_bias)):
        if X is not None and X.shape != (dim,):
            raise ValueError(f"{name} must be (dim={dim},), got shape {tuple(X.shape)}")
    if z is not None and z.shape != u.shape:
        raise ValueError(f"z must have u's shape {tuple(u.shape)}, got {tuple(z.shape)}")
    devices = {t.device for t in (u, delta, A, B, C, D, z, delta_bias) if t is not None}
    if len(devices) > 1:
        raise ValueError(f"all tensors must be on one device, got {sorted(map(str, devices))}")


def _resolve(backend: str, device: torch.device) -> str:
    if backend not in BACKENDS + ("auto",):
        raise ValueError(f"unknown backend {backend!r}; choose from {('auto',) + BACKENDS}")
    on_cuda = device.type == "cuda"
    if backend == "auto":
        if on_cuda:
            return "cuda" if cuda_available() else "chunked"
        if device.type == "cpu" and _numba_impl() is not None:
            return "numba"
        return "reference"
    if backend == "cuda" and not (on_cuda and cuda_available()):
        raise ValueError("backend 'cuda' needs CUDA tensors and mamba-ssm "
                         f"(tensors on {device}, available: {available_backends()})")
    if backend == "numba" and (device.type != "cpu" or _numba_impl() is None):
        raise ValueError(f"backend 'numba' needs CPU tensors and numba (tensors on {device})")
    return backend


def auto_backend(device: str | torch.device) -> str:
    """The backend ``"auto"`` runs for tensors on ``device``: what a device check reports as the
    scan the model actually uses there."""
    return _resolve("auto", torch.device(device))


def selective_scan(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False,
                   backend="auto", *, return_last_state=False):
    """The selective scan of Mamba, in mamba-ssm's `selective_scan_fn` layout and semantics.

    Shapes: u, delta, z (batch, dim, L); A (dim, N), real (negative in practice); B, C
    (batch, N, L) shared by all channels, or grouped (batch, G, N, L) where channel d uses group
    d // (dim / G); D, delta_bias (dim,).

    delta' = delta + delta_bias, then softplus(delta') if delta_softplus;
    h_t = exp(delta'_t A) h_{t-1} + delta'_t B_t u_t (h_{-1} = 0, N states per channel);
    y_t = C_t · h_t + D u_t; y *= silu(z) when z is given.

    Computes in float32 (float64 on the reference backend for float64 input) and returns y in
    u's dtype; with ``return_last_state=True`` returns ``(y, h_last)``, h_last (batch, dim, N)
    (not differentiable on the numba backend). Differentiable w.r.t. every tensor input.
    """
    _check(u, delta, A, B, C, D, z, delta_bias)
    name = _resolve(backend, u.device)
    if name == "cuda":
        fn = selective_scan_cuda
    elif name == "numba":
        fn = _numba_impl()
    elif name == "chunked":
        fn = selective_scan_chunked
    else:
        fn = selective_scan_reference
    return fn(u, delta, A, B, C, D=D, z=z, delta_bias=delta_bias,
              delta_softplus=bool(delta_softplus), return_last_state=return_last_state)
