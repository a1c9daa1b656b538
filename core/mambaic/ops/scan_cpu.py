"""Fused CPU selective scan: the `torch.autograd.Function` that ties the numba kernels to torch.

Modules: `scan_cpu_forward` and `scan_cpu_backward` hold the kernels, `scan_cpu_math` the
vectorisable float32 math they use, `scan_cpu_tiles` the work split (tasks, chunks, tiles);
this module converts tensors, allocates the outputs and runs one scan at a time.

Layout
------
The kernels see float32, C-contiguous arrays only (the wrapper converts, a no-op for float32
contiguous tensors), always with the same argument types, so each kernel has one compiled
specialisation, which `cache=True` keeps on disk between runs:

* ``u, delta, z, dout``: (batch, dim, L);  ``A``: (dim, N);  ``D, delta_bias``: (dim,) (zeros
  when absent)
* ``B, C``: (batch, G, N, L) as given (ungrouped ones as G = 1); B and C may have different
  group counts when one of them is 1.
* the saved states ``ckpt``: (batch, L / CHUNK, N, dim).

Work split: SIMD across channels
--------------------------------
A task is a block of up to `ROWS` channels (rows) of one batch item and one group, so that
they share B and C. The task walks time in chunks of `CHUNK` steps: it computes
delta' = softplus(delta + bias) and delta'·u row by row (contiguous in time), transposes them
into (time, row) tiles, and runs the recurrence with the rows as the SIMD lanes:

    for t:  for n < N:  h[n, :] = exp(delta'[t, :] · A[:, n]) · h[n, :] + (delta'·u)[t, :] · B[n, t]
                        y[t, :] += C[n, t] · h[n, :]

so every inner loop is a long contiguous loop over rows, N only counts the outer loop, and
no horizontal sums are needed (a first version vectorised over the N states of one row instead:
its per-time-step costs dominated for N ≤ 16, and it was 1.2x slower in the forward pass and
1.6-1.9x in the backward pass at N = 16 and 8). exp() is a vectorisable polynomial (libm's
`expf` is a scalar call per element and was the bottleneck of a naive kernel). Nothing of
shape (batch, dim, L, N) is ever built. A lane's arithmetic does not depend on the others or
on the thread count, so the output is bit-identical whatever the number of threads.

When gradients are needed the forward pass also saves the state h at the end of every chunk,
and y before the gate when there is a gate; the backward pass recomputes each chunk's states
from those (see `mambaic.ops.scan_cpu_backward`).

All the work, reductions included, runs in numba's thread pool: interleaving torch's own
parallel ops between the kernels made the two pools fight over the cores.
"""

from __future__ import annotations

import threading

import numba
import numpy as np
import torch
from torch.autograd.function import once_differentiable

from mambaic._runtime import prefer_numba_workqueue
from mambaic.ops.scan_cpu_backward import _scan_bwd_finish, _scan_bwd_kernel
from mambaic.ops.scan_cpu_forward import _scan_fwd_kernel
from mambaic.ops.scan_cpu_math import _exp, _sigmoid, _softplus  # noqa: F401  (tests reach them here)
from mambaic.ops.scan_cpu_tiles import CHUNK, ROWS, _rows_per_task

__all__ = ["CHUNK", "ROWS", "SelectiveScanNumba", "compile_kernels", "selective_scan_numba"]

prefer_numba_workqueue()  # before the first parallel kernel runs; see mambaic._runtime

# numba's 'workqueue' threading layer must not be entered from two threads at once (it aborts
# the process), and each kernel uses every thread anyway: one scan at a time.
_KERNEL_LOCK = threading.Lock()
_DUMMY3 = np.zeros((1, 1, 1), np.float32)


def _f32(t: torch.Tensor) -> np.ndarray:
    return t.detach().to(torch.float32).contiguous().numpy()


def _set_threads() -> int:
    """Use as many numba threads as torch uses (torch.set_num_threads steers both)."""
    n = max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(n)
    return n


class _Prepared:
    """The inputs as the kernels want them: float32, contiguous numpy arrays."""

    __slots__ = ("A", "B", "C", "D", "R", "b_groups", "bias", "c_groups", "delta", "u", "z")

    def __init__(self, u, delta, A, B, C, D, z, delta_bias):
        dim = u.shape[1]
        self.u = _f32(u)
        self.delta = _f32(delta)
        self.A = _f32(A)
        # 0 for an ungrouped (batch, N, L) input, else its group count
        self.b_groups = B.shape[1] if B.dim() == 4 else 0
        self.c_groups = C.shape[1] if C.dim() == 4 else 0
        self.B = _f32(B if B.dim() == 4 else B.unsqueeze(1))
        self.C = _f32(C if C.dim() == 4 else C.unsqueeze(1))
        zeros = np.zeros(dim, np.float32)
        self.D = zeros if D is None else _f32(D)
        self.bias = zeros if delta_bias is None else _f32(delta_bias)
        self.z = None if z is None else _f32(z)
        G = max(self.B.shape[1], self.C.shape[1])
        self.R = _rows_per_task(dim // G)


def _forward(p: _Prepared, softplus: bool, save: bool):
    """Run the forward kernel: y, the chunk states (batch, chunks, N, dim) when `save`, and y
    before the gate when `save` and there is a gate (else None); all numpy float32."""
    batch, dim, L = p.u.shape
    N = p.A.shape[1]
    nchunks = (L + CHUNK - 1) // CHUNK
    out = np.empty((batch, dim, L), np.float32)
    ckpt = np.empty((batch, nchunks if save else 0, N, dim), np.float32)
    ypre = np.empty((batch, dim, L), np.float32) if (save and p.z is not None) else None
    _scan_fwd_kernel(p.u, p.delta, p.A, p.B, p.C, p.D, p.bias,
                     _DUMMY3 if p.z is None else p.z, bool(softplus), p.z is not None,
                     bool(save), p.R, out, ckpt, _DUMMY3 if ypre is None else ypre)
    return out, ckpt, ypre


def _backward(p: _Prepared, softplus: bool, ckpt, ypre, dout: np.ndarray):
    """Run the backward kernels: the gradients of u, delta, A, B, C, D, z, delta_bias as numpy
    arrays, B and C as (batch, G, N, L) with their own group counts (1 when ungrouped)."""
    batch, dim, L = p.u.shape
    N = p.A.shape[1]
    GB, GC = p.B.shape[1], p.C.shape[1]
    G = max(GB, GC)
    nblk = -(-(dim // G) // p.R) if dim else 0
    f32 = np.float32
    du = np.empty((batch, dim, L), f32)
    ddelta = np.empty((batch, dim, L), f32)
    dz = np.empty((batch, dim, L), f32) if p.z is not None else None
    dA_bd = np.empty((batch, dim, N), f32)
    dD_bd = np.empty((batch, dim), f32)
    dbias_bd = np.empty((batch, dim), f32)
    dBp = np.empty((batch, G, nblk, N, L), f32)   # each task's share of dB and dC
    dCp = np.empty((batch, G, nblk, N, L), f32)
    _scan_bwd_kernel(p.u, p.delta, p.A, p.B, p.C, p.D, p.bias,
                     _DUMMY3 if p.z is None else p.z, bool(softplus), p.z is not None, ckpt,
                     _DUMMY3 if ypre is None else ypre, dout, p.R,
                     du, ddelta, dA_bd, dBp, dCp, dD_bd, dbias_bd,
                     _DUMMY3 if dz is None else dz)
    dB = np.empty((batch, GB, N, L), f32)
    dC = np.empty((batch, GC, N, L), f32)
    dA = np.empty((dim, N), f32)
    dD = np.empty(dim, f32)
    dbias = np.empty(dim, f32)
    _scan_bwd_finish(dBp, dCp, dA_bd, dD_bd, dbias_bd, dB, dC, dA, dD, dbias)
    return du, ddelta, dA, dB, dC, dD, dz, dbias


def _to_input_shape(grad: np.ndarray, groups: int) -> np.ndarray:
    """(batch, G, N, L) → the shape B (or C) was given in (groups 0: ungrouped)."""
    return grad[:, 0] if groups == 0 else grad


class SelectiveScanNumba(torch.autograd.Function):
    """Differentiable fused CPU selective scan (float32 compute, fused numba forward/backward)."""

    @staticmethod
    def forward(ctx, u, delta, A, B, C, D, z, delta_bias, delta_softplus):
        with _KERNEL_LOCK:
            _set_threads()
            p = _Prepared(u, delta, A, B, C, D, z, delta_bias)
            out, ckpt, ypre = _forward(p, delta_softplus, save=True)
        ctx.prepared = p
        ctx.saved = (ckpt, ypre)
        ctx.softplus = delta_softplus
        ctx.dtypes = tuple(None if t is None else t.dtype
                           for t in (u, delta, A, B, C, D, z, delta_bias))
        # the kernels read the inputs' memory again in backward: let autograd check that
        # nothing modified them in place meanwhile
        ctx.save_for_backward(*(t for t in (u, delta, A, B, C, D, z, delta_bias)
                                if t is not None))
        return torch.from_numpy(out).to(u.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, dout):
        _ = ctx.saved_tensors  # raises if an input was modified in place since forward
        p = ctx.prepared
        ckpt, ypre = ctx.saved
        with _KERNEL_LOCK:
            _set_threads()
            grads = _backward(p, ctx.softplus, ckpt, ypre, _f32(dout))
        du, ddelta, dA, dB, dC, dD, dz, dbias = grads
        grads = (du, ddelta, dA, _to_input_shape(dB, p.b_groups),
                 _to_input_shape(dC, p.c_groups), dD, dz, dbias)
        return tuple(torch.from_numpy(g).to(dt) if (dt is not None and need) else None
                     for g, dt, need in zip(grads, ctx.dtypes, ctx.needs_input_grad)) + (None,)


def selective_scan_numba(u, delta, A, B, C, D=None, z=None, delta_bias=None,
                         delta_softplus=False, return_last_state=False):
    """The fused CPU scan; inputs already validated by `mambaic.ops.selective_scan`."""
    tensors = (u, delta, A, B, C, D, z, delta_bias)
    needs_grad = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in tensors)
    if needs_grad:
        if return_last_state:
            raise NotImplementedError(
                "return_last_state is not differentiable; call under torch.no_grad()")
        return SelectiveScanNumba.apply(u, delta, A, B, C, D, z, delta_bias, bool(delta_softplus))
    with _KERNEL_LOCK:
        _set_threads()
        p = _Prepared(u, delta, A, B, C, D, z, delta_bias)
        out, ckpt, _ = _forward(p, delta_softplus, save=return_last_state)
    y = torch.from_numpy(out).to(u.dtype)
    if return_last_state:
        batch, _, N, dim = ckpt.shape
        if ckpt.shape[1]:
            last = np.ascontiguousarray(ckpt[:, -1].transpose(0, 2, 1))
        else:
            last = np.zeros((batch, dim, N), np.float32)
        return y, torch.from_numpy(last).to(u.dtype)
    return y


def compile_kernels() -> None:
    """Compile (or load from the on-disk cache) every kernel, on a tiny problem."""
    g = torch.Generator().manual_seed(0)
    args = {
        "u": torch.randn(1, 2, 3, generator=g), "delta": torch.rand(1, 2, 3, generator=g),
        "A": -torch.rand(2, 4, generator=g), "B": torch.randn(1, 1, 4, 3, generator=g),
        "C": torch.randn(1, 1, 4, 3, generator=g), "D": torch.randn(2, generator=g),
        "z": torch.randn(1, 2, 3, generator=g), "delta_bias": torch.randn(2, generator=g)}
    for v in args.values():
        v.requires_grad_(True)
    selective_scan_numba(**args, delta_softplus=True).sum().backward()
