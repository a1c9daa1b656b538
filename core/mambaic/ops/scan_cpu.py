"""Fused CPU selective scan: numba kernels for the forward and backward passes, and the
`torch.autograd.Function` that ties them to torch.

Layout and work split
---------------------
The kernels see float32, C-contiguous arrays only (the wrapper converts, a no-op for float32
contiguous tensors), always with the same argument types, so each kernel has one compiled
specialisation, which `cache=True` keeps on disk between runs:

* ``u, delta, z, dout``: (batch, dim, L)
* ``A``: (dim, N); the kernels form ``exp(delta·A)`` as ``2**(delta · A·log2 e)``
* ``Bt, Ct``: (batch, G, L, N): B and C *transposed* (by `_transpose_bc`) so that the N states
  of one time step are contiguous; the innermost loops run over N and compile to SIMD code.
  B and C may have different group counts (one of them 1).
* ``D, delta_bias``: (dim,), zeros when absent.

Nothing of shape (batch, dim, L, N) is ever built. The forward pass walks each (batch, dim) row
through time in chunks of `CHUNK` steps: (1) delta' = softplus(delta + bias) and delta'·u for
the chunk, (2) exp(delta'·A) for the chunk × N states into a small local buffer with a
vectorisable polynomial exp (libm's `expf` is scalar and was the bottleneck), (3) the
recurrence h = dA·h + delta'·u·B with y = C·h, (4) the D skip and the silu(z) gate. Rows run in
parallel (`prange`); each row's result depends only on its own inputs, so the output is
bit-identical whatever the number of threads.

When gradients are needed the forward pass also saves the state h at the end of every chunk
(batch, dim, L/CHUNK, N), and y before the gate when there is a gate. The backward pass
recomputes one chunk's states from the saved one, then runs the reverse recurrence through it.
It is parallel over tasks (batch, group, part of the group's rows); each task owns its rows' dA,
dD, d(delta_bias) and a private (L, N) buffer for its share of dB and dC, which
`_scan_bwd_finish` sums, so no two threads write the same memory.

All the work, transposes and reductions included, runs in numba's thread pool: interleaving
torch's own parallel ops between the kernels made the two pools fight over the cores.
"""

from __future__ import annotations

import math
import os
import threading

import numba
import numpy as np
import torch
from numba import njit, prange, types
from numba.extending import intrinsic
from torch.autograd.function import once_differentiable

__all__ = ["CHUNK", "SelectiveScanNumba", "selective_scan_numba", "compile_kernels"]

#: Time steps per chunk: the forward pass saves h once per chunk, the backward pass recomputes
#: one chunk at a time. Local buffers are CHUNK × N floats (4 KiB for N = 16): they stay in L1.
CHUNK = 64


def _jit(**options):
    """`njit(cache=True, fastmath=True)`, or without the on-disk cache where none can be written."""
    def decorate(fn):
        try:
            return njit(cache=True, fastmath=True, error_model="numpy", **options)(fn)
        except Exception:  # no writable cache location: compile on each run instead
            return njit(cache=False, fastmath=True, error_model="numpy", **options)(fn)
    return decorate


# --------------------------------------------------------------------------------------------
# Vectorisable float32 math (LLVM turns loops over these into SIMD code; libm's expf would be a
# scalar call per element). Constants are float32 so that nothing is promoted to float64 by
# accident; `_exp` alone uses float64 on purpose.

@intrinsic
def _i32_bits_as_f32(typingctx, x):
    """Reinterpret an int32's bits as a float32 (an LLVM bitcast, free and vectorisable)."""
    sig = types.float32(types.int32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float32))

    return sig, codegen


_F = np.float32
_ZERO = _F(0.0)
_ONE = _F(1.0)
_TWO = _F(2.0)
_LOG2E = _F(1.0 / math.log(2.0))
_EXP2_LO = _F(-126.0)   # below this 2**x underflows to a denormal: clamp (result ≈ 1e-38)
_EXP2_HI = _F(127.0)    # above this it overflows: clamp (only reachable with A·delta > 0)
_LOG2E_64 = 1.0 / math.log(2.0)
_EXP2_LO_64 = -126.0
_EXP2_HI_64 = 127.0
# 2**f on [-1/2, 1/2]: degree-6 near-minimax polynomial, relative error 1e-7 in float32.
_P0 = _F(1.000000000553675)
_P1 = _F(0.6931472057144819)
_P2 = _F(0.24022646892303579)
_P3 = _F(0.055503288251920455)
_P4 = _F(0.009618488967098198)
_P5 = _F(0.001339991212421732)
_P6 = _F(0.00015345761197534311)
_I127 = np.int32(127)
_I23 = np.int32(23)
# log1p(v) = 2·atanh(s), s = v / (2 + v) ∈ [0, 1/3] for v ∈ [0, 1]: odd series in s.
_L3 = _F(1.0 / 3.0)
_L5 = _F(1.0 / 5.0)
_L7 = _F(1.0 / 7.0)
_L9 = _F(1.0 / 9.0)
_L11 = _F(1.0 / 11.0)
_L13 = _F(1.0 / 13.0)
_L15 = _F(1.0 / 15.0)


@njit(fastmath=True, error_model="numpy")
def _pow2(k, f):
    """2**(k + f) for an integral float32 k in [-126, 127] and f in [-1/2, 1/2]."""
    p = _P6
    p = p * f + _P5
    p = p * f + _P4
    p = p * f + _P3
    p = p * f + _P2
    p = p * f + _P1
    p = p * f + _P0
    return p * _i32_bits_as_f32((np.int32(k) + _I127) << _I23)


@njit(fastmath=True, error_model="numpy")
def _exp2(x):
    """2**x for float32 x, clamped to [2**-126, 2**127]: round, polynomial, exponent bits."""
    x = min(max(x, _EXP2_LO), _EXP2_HI)
    k = np.rint(x)
    return _pow2(k, x - k)


@njit(fastmath=True, error_model="numpy")
def _exp(x):
    """e**x for float32 x, ~1e-7 relative: x·log2(e) is formed in float64, since its float32
    rounding alone would cost |x|·1e-7 relative (4e-6 at x = -87). For dA = exp(delta·A) the
    kernels use `_exp2` on delta·(A·log2 e): there the float32 product delta·A is already as
    inexact, in torch's float32 reference too."""
    y = min(max(np.float64(x) * _LOG2E_64, _EXP2_LO_64), _EXP2_HI_64)
    k = np.rint(y)
    return _pow2(np.float32(k), np.float32(y - k))


@njit(fastmath=True, error_model="numpy")
def _log1p_unit(v):
    """log(1 + v) for v in [0, 1], accurate to ~1e-7 relative even for tiny v."""
    s = v / (_TWO + v)
    s2 = s * s
    p = _L15
    p = p * s2 + _L13
    p = p * s2 + _L11
    p = p * s2 + _L9
    p = p * s2 + _L7
    p = p * s2 + _L5
    p = p * s2 + _L3
    p = p * s2 + _ONE
    return _TWO * s * p


@njit(fastmath=True, error_model="numpy")
def _softplus(x):
    """log(1 + e**x) = max(x, 0) + log1p(e**-|x|), finite for every x."""
    return max(x, _ZERO) + _log1p_unit(_exp(-abs(x)))


@njit(fastmath=True, error_model="numpy")
def _sigmoid(x):
    return _ONE / (_ONE + _exp(-x))


# --------------------------------------------------------------------------------------------
# Kernels
#
# Indexing style: every inner loop indexes a 1-D view with its own loop variable (`row[n]`,
# `chunk[i]`), never `buf[i * N + n]` or `arr[t0 + i]`: numba guards signed indices against
# negative values, and LLVM drops that guard (and emits contiguous SIMD loads) more readily for
# a loop variable it can see counting up from zero. Rewriting the kernels this way made the
# forward pass 1.4x and the backward pass 2x faster. The inner loops run over N with a run-time
# trip count: a constant one (N = 16) let LLVM unroll them into scalar code, 1.3-1.5x slower.

@_jit()
def _transpose_bc(X, out):
    """(batch, G, N, L) → (batch, G, L, N). (Serial: it moves little memory, and a parallel
    kernel costs more compile time.)"""
    batch, G, N, L = X.shape
    for k in range(batch * G):
        b = k // G
        g = k - b * G
        src = X[b, g]
        dst = out[b, g]
        for n in range(N):
            row = src[n]
            for t in range(L):
                dst[t, n] = row[t]


@_jit(parallel=True)
def _scan_fwd_kernel(u, delta, A, Bt, Ct, D, bias, z, softplus, has_z, save, out, ckpt, ypre):
    batch, dim, L = u.shape
    N = A.shape[1]
    dpg_b = dim // Bt.shape[1]
    dpg_c = dim // Ct.shape[1]
    T = CHUNK
    nchunks = (L + T - 1) // T
    for r in prange(batch * dim):
        b = r // dim
        d = r - b * dim
        gb = d // dpg_b
        gc = d // dpg_c
        a2 = np.empty(N, np.float32)
        for n in range(N):
            a2[n] = A[d, n] * _LOG2E
        Dd = D[d]
        bd = bias[d]
        h = np.zeros(N, np.float32)
        dt = np.empty(T, np.float32)
        du = np.empty(T, np.float32)
        yv = np.empty(T, np.float32)
        dA = np.empty((T, N), np.float32)
        for c in range(nchunks):
            t0 = c * T
            nt = min(T, L - t0)
            uc = u[b, d, t0:t0 + nt]
            xc = delta[b, d, t0:t0 + nt]
            oc = out[b, d, t0:t0 + nt]
            Bc = Bt[b, gb, t0:t0 + nt]
            Cc = Ct[b, gc, t0:t0 + nt]
            # (1) delta' and delta'·u for the chunk
            if softplus:
                for i in range(nt):
                    x = _softplus(xc[i] + bd)
                    dt[i] = x
                    du[i] = x * uc[i]
            else:
                for i in range(nt):
                    x = xc[i] + bd
                    dt[i] = x
                    du[i] = x * uc[i]
            # (2) dA = exp(delta'·A) for the chunk's nt × N entries
            for i in range(nt):
                di = dt[i]
                row = dA[i]
                for n in range(N):
                    row[n] = _exp2(di * a2[n])
            # (3) the recurrence
            for i in range(nt):
                bb = Bc[i]
                cc = Cc[i]
                row = dA[i]
                dui = du[i]
                acc = _ZERO
                for n in range(N):
                    hn = row[n] * h[n] + dui * bb[n]
                    h[n] = hn
                    acc += cc[n] * hn
                yv[i] = acc
            # (4) skip connection and gate
            if has_z:
                zc = z[b, d, t0:t0 + nt]
                for i in range(nt):
                    yv[i] += Dd * uc[i]
                for i in range(nt):
                    zi = zc[i]
                    oc[i] = yv[i] * zi * _sigmoid(zi)
                if save:   # the backward pass needs y before the gate
                    yc = ypre[b, d, t0:t0 + nt]
                    for i in range(nt):
                        yc[i] = yv[i]
            else:
                for i in range(nt):
                    oc[i] = yv[i] + Dd * uc[i]
            if save:
                ck = ckpt[b, d, c]
                for n in range(N):
                    ck[n] = h[n]


@_jit(parallel=True)
def _scan_bwd_kernel(u, delta, A, Bt, Ct, D, bias, z, softplus, has_z, ckpt, ypre, dout, parts,
                     du_out, ddelta_out, dA_bd, dBp, dCp, dD_bd, dbias_bd, dz_out):
    batch, dim, L = u.shape
    N = A.shape[1]
    G = max(Bt.shape[1], Ct.shape[1])   # tasks follow the finer grouping (the other one is 1)
    rb = G // Bt.shape[1]
    rc = G // Ct.shape[1]
    dpg = dim // G
    T = CHUNK
    nchunks = (L + T - 1) // T
    base = dpg // parts
    rem = dpg - base * parts
    for task in prange(batch * G * parts):
        b = task // (G * parts)
        g = (task // parts) % G
        p = task % parts
        row0 = g * dpg + p * base + min(p, rem)
        nrows = base + (1 if p < rem else 0)
        Bg = Bt[b, g // rb]
        Cg = Ct[b, g // rc]
        dBg = dBp[b, g, p]
        dCg = dCp[b, g, p]
        for t in range(L):
            dBt = dBg[t]
            dCt = dCg[t]
            for n in range(N):
                dBt[n] = _ZERO
                dCt[n] = _ZERO
        dh = np.empty(N, np.float32)     # dA_{t+1}·dL/dh_{t+1}, carried into the next chunk
        dAj = np.empty(N, np.float32)    # the row's dA
        h = np.empty(N, np.float32)
        # chunk buffers
        dt = np.empty(T, np.float32)
        sg = np.empty(T, np.float32)
        dux = np.empty(T, np.float32)
        dy = np.empty(T, np.float32)
        dA = np.empty((T, N), np.float32)
        hs = np.empty((T + 1, N), np.float32)   # hs[0]: state before the chunk, hs[i + 1]: h_i
        dhs = np.empty((T, N), np.float32)      # dL/dh_i
        a2 = np.empty(N, np.float32)
        # Row by row, each row's chunks last to first. (All rows chunk by chunk, which keeps
        # the chunk's B, C, dB, dC in L1, scattered the accesses to the rows' own arrays and
        # was 15-20% slower, as were spans of 8 chunks swept row by row.)
        for j in range(nrows):
            d = row0 + j
            a = A[d]
            for n in range(N):
                a2[n] = a[n] * _LOG2E
            Dd = D[d]
            bd = bias[d]
            for n in range(N):
                dh[n] = _ZERO
                dAj[n] = _ZERO
            sD = _ZERO
            sb = _ZERO
            for cr in range(nchunks):
                c = nchunks - 1 - cr
                t0 = c * T
                nt = min(T, L - t0)
                Bc = Bg[t0:t0 + nt]
                Cc = Cg[t0:t0 + nt]
                dBc = dBg[t0:t0 + nt]
                dCc = dCg[t0:t0 + nt]
                uc = u[b, d, t0:t0 + nt]
                xc = delta[b, d, t0:t0 + nt]
                gc = dout[b, d, t0:t0 + nt]
                # (1) delta', its derivative w.r.t. the raw delta, delta'·u
                if softplus:
                    for i in range(nt):
                        x = xc[i] + bd
                        e = _exp(-abs(x))
                        v = max(x, _ZERO) + _log1p_unit(e)    # softplus(x)
                        dt[i] = v
                        dux[i] = v * uc[i]
                        r = _ONE / (_ONE + e)                  # sigmoid(x) = softplus'(x)
                        sg[i] = r if x >= _ZERO else e * r
                else:
                    for i in range(nt):
                        x = xc[i] + bd
                        dt[i] = x
                        sg[i] = _ONE
                        dux[i] = x * uc[i]
                # (2) the gradient reaching y = C·h + D·u, through the gate out = y·silu(z)
                if has_z:
                    zc = z[b, d, t0:t0 + nt]
                    yc = ypre[b, d, t0:t0 + nt]
                    dzc = dz_out[b, d, t0:t0 + nt]
                    for i in range(nt):
                        zi = zc[i]
                        s = _sigmoid(zi)
                        gi = gc[i]
                        dy[i] = gi * zi * s
                        dzc[i] = gi * yc[i] * s * (_ONE + zi * (_ONE - s))
                else:
                    for i in range(nt):
                        dy[i] = gc[i]
                # (3) dA for the chunk
                for i in range(nt):
                    di = dt[i]
                    row = dA[i]
                    for n in range(N):
                        row[n] = _exp2(di * a2[n])
                # (4) recompute the states from the one saved before the chunk; dC = dy·h.
                # (Sequential loops stay minimal, with the state in its own array: folding the
                # dC or dB updates in, or chaining through rows of `hs`, made them 1.2-2x slower.)
                h0 = hs[0]
                if c == 0:
                    for n in range(N):
                        h[n] = _ZERO
                else:
                    ck = ckpt[b, d, c - 1]
                    for n in range(N):
                        h[n] = ck[n]
                for n in range(N):
                    h0[n] = h[n]
                for i in range(nt):
                    bb = Bc[i]
                    row = dA[i]
                    hn = hs[i + 1]
                    dui = dux[i]
                    for n in range(N):
                        v = row[n] * h[n] + dui * bb[n]
                        h[n] = v
                        hn[n] = v
                for i in range(nt):
                    hn = hs[i + 1]
                    dCi = dCc[i]
                    dyi = dy[i]
                    for n in range(N):
                        dCi[n] += dyi * hn[n]
                # (5) the reverse recurrence, dL/dh_i = C_i dy_i + dA_{i+1} dL/dh_{i+1}; dB
                for ir in range(nt):
                    i = nt - 1 - ir
                    cc = Cc[i]
                    row = dA[i]
                    dhr = dhs[i]
                    dyi = dy[i]
                    for n in range(N):
                        v = dh[n] + cc[n] * dyi
                        dhr[n] = v
                        dh[n] = v * row[n]
                for i in range(nt):
                    dhr = dhs[i]
                    dBi = dBc[i]
                    duxi = dux[i]
                    for n in range(N):
                        dBi[n] += duxi * dhr[n]
                # (6) the gradients of delta', u, A
                duc = du_out[b, d, t0:t0 + nt]
                dxc = ddelta_out[b, d, t0:t0 + nt]
                for i in range(nt):
                    bb = Bc[i]
                    row = dA[i]
                    hp = hs[i]
                    dhr = dhs[i]
                    dti = dt[i]
                    s1 = _ZERO
                    s2 = _ZERO
                    for n in range(N):
                        w = dhr[n] * row[n] * hp[n]     # dL/d(dA_i) · dA_i
                        dAj[n] += dti * w
                        s1 += a[n] * w
                        s2 += dhr[n] * bb[n]
                    ui = uc[i]
                    dyi = dy[i]
                    duc[i] = s2 * dti + Dd * dyi
                    # back through softplus and the bias
                    gx = (s1 + s2 * ui) * sg[i]
                    dxc[i] = gx
                    sb += gx
                    sD += dyi * ui
            dD_bd[b, d] = sD
            dbias_bd[b, d] = sb
            for n in range(N):
                dA_bd[b, d, n] = dAj[n]


@_jit()
def _scan_bwd_finish(dBp, dCp, dA_bd, dD_bd, dbias_bd, dB, dC, dA, dD, dbias):
    """Sum the per-task shares: dB[b, gB, n, t] = Σ over the tasks of group gB of dBp[.., t, n]
    (likewise dC); dA, dD, d(delta_bias) summed over the batch."""
    batch, G, parts, L, N = dBp.shape
    GB = dB.shape[1]
    GC = dC.shape[1]
    for k in range(batch * (GB + GC)):
        b = k // (GB + GC)
        q = k - b * (GB + GC)
        if q < GB:
            src = dBp[b]
            dst = dB[b, q]
            ratio = G // GB
            g0 = q * ratio
        else:
            src = dCp[b]
            dst = dC[b, q - GB]
            ratio = G // GC
            g0 = (q - GB) * ratio
        for n in range(N):
            for t in range(L):
                dst[n, t] = _ZERO
        for g in range(g0, g0 + ratio):
            for p in range(parts):
                part = src[g, p]
                for t in range(L):
                    row = part[t]
                    for n in range(N):
                        dst[n, t] += row[n]
    dim = dA.shape[0]
    for d in range(dim):
        sD = _ZERO
        sb = _ZERO
        for b in range(batch):
            sD += dD_bd[b, d]
            sb += dbias_bd[b, d]
        dD[d] = sD
        dbias[d] = sb
        for n in range(N):
            s = _ZERO
            for b in range(batch):
                s += dA_bd[b, d, n]
            dA[d, n] = s


# --------------------------------------------------------------------------------------------
# torch glue

# numba's 'workqueue' threading layer must not be entered from two threads at once (it aborts
# the process), and each kernel uses every thread anyway: one scan at a time.
_KERNEL_LOCK = threading.Lock()
_DUMMY3 = np.zeros((1, 1, 1), np.float32)

# Prefer numba's own 'workqueue' pool, whose idle threads sleep, over a second OpenMP runtime
# (numba's 'omp' layer loads the system libgomp, torch ships its own) whose threads spin after
# each kernel on the cores torch's next op wants; GNU OpenMP is not fork-safe either. Only when
# nobody chose a layer and no numba parallel code has run yet.
if "NUMBA_THREADING_LAYER" not in os.environ:
    try:
        from numba.np.ufunc import parallel as _nb_parallel
        if not getattr(_nb_parallel, "_is_initialized", False):
            numba.config.THREADING_LAYER = "workqueue"
    except Exception:  # pragma: no cover - numba internals moved: keep numba's default
        pass


def _f32(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to(torch.float32).contiguous()


def _set_threads() -> int:
    """Use as many numba threads as torch uses (torch.set_num_threads steers both)."""
    n = max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(n)
    return n


class _Prepared:
    """The inputs as the kernels want them: float32, contiguous, B and C transposed."""

    __slots__ = ("u", "delta", "A", "Bt", "Ct", "D", "bias", "z", "b_groups", "c_groups")

    def __init__(self, u, delta, A, B, C, D, z, delta_bias):
        dim = u.shape[1]
        self.u = _f32(u).numpy()
        self.delta = _f32(delta).numpy()
        self.A = _f32(A).numpy()
        # 0 for an ungrouped (batch, N, L) input, else its group count
        self.b_groups = B.shape[1] if B.dim() == 4 else 0
        self.c_groups = C.shape[1] if C.dim() == 4 else 0
        self.Bt = self._transposed(B)
        self.Ct = self._transposed(C)
        zeros = np.zeros(dim, np.float32)
        self.D = zeros if D is None else _f32(D).numpy()
        self.bias = zeros if delta_bias is None else _f32(delta_bias).numpy()
        self.z = None if z is None else _f32(z).numpy()

    @staticmethod
    def _transposed(X: torch.Tensor) -> np.ndarray:
        X = _f32(X if X.dim() == 4 else X.unsqueeze(1)).numpy()
        batch, G, N, L = X.shape
        out = np.empty((batch, G, L, N), np.float32)
        _transpose_bc(X, out)
        return out


def _forward(p: _Prepared, softplus: bool, save: bool):
    """Run the forward kernel: y (float32 tensor), chunk states and pre-gate y (or None)."""
    batch, dim, L = p.u.shape
    N = p.A.shape[1]
    nchunks = (L + CHUNK - 1) // CHUNK
    out = np.empty((batch, dim, L), np.float32)
    ckpt = np.empty((batch, dim, nchunks if save else 0, N), np.float32)
    ypre = np.empty((batch, dim, L), np.float32) if (save and p.z is not None) else None
    _scan_fwd_kernel(p.u, p.delta, p.A, p.Bt, p.Ct, p.D, p.bias,
                     _DUMMY3 if p.z is None else p.z, bool(softplus), p.z is not None,
                     bool(save), out, ckpt, _DUMMY3 if ypre is None else ypre)
    return out, ckpt, ypre


def _backward(p: _Prepared, softplus: bool, ckpt, ypre, dout: np.ndarray, threads: int):
    """Run the backward kernels: the gradients of u, delta, A, B, C, D, z, delta_bias as numpy
    arrays, B and C as (batch, G, N, L) with their own group counts (1 when ungrouped)."""
    batch, dim, L = p.u.shape
    N = p.A.shape[1]
    GB, GC = p.Bt.shape[1], p.Ct.shape[1]
    G = max(GB, GC)
    dpg = dim // G
    # enough tasks to keep every thread busy; each holds a private (L, N) share of dB and dC
    parts = 1 if threads == 1 else max(1, min(dpg, -(-4 * threads // (batch * G))))
    f32 = np.float32
    du = np.empty((batch, dim, L), f32)
    ddelta = np.empty((batch, dim, L), f32)
    dz = np.empty((batch, dim, L), f32) if p.z is not None else None
    dA_bd = np.empty((batch, dim, N), f32)
    dD_bd = np.empty((batch, dim), f32)
    dbias_bd = np.empty((batch, dim), f32)
    dBp = np.empty((batch, G, parts, L, N), f32)
    dCp = np.empty((batch, G, parts, L, N), f32)
    _scan_bwd_kernel(p.u, p.delta, p.A, p.Bt, p.Ct, p.D, p.bias,
                     _DUMMY3 if p.z is None else p.z, bool(softplus), p.z is not None, ckpt,
                     _DUMMY3 if ypre is None else ypre, dout, parts,
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
        # the kernels read the inputs' memory again in backward: let autograd check that
        # nothing modified them in place meanwhile
        ctx.save_for_backward(*(t for t in (u, delta, A, B, C, D, z, delta_bias)
                                if t is not None))
        ctx.softplus = delta_softplus
        ctx.dtypes = tuple(None if t is None else t.dtype
                           for t in (u, delta, A, B, C, D, z, delta_bias))
        return torch.from_numpy(out).to(u.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, dout):
        ctx.saved_tensors  # raises if an input was modified in place since forward
        p = ctx.prepared
        ckpt, ypre = ctx.saved
        with _KERNEL_LOCK:
            threads = _set_threads()
            grads = _backward(p, ctx.softplus, ckpt, ypre, _f32(dout).numpy(), threads)
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
        batch, dim, _, N = ckpt.shape
        last = ckpt[:, :, -1] if ckpt.shape[2] else np.zeros((batch, dim, N), np.float32)
        return y, torch.from_numpy(np.ascontiguousarray(last)).to(u.dtype)
    return y


def compile_kernels() -> None:
    """Compile (or load from the on-disk cache) every kernel, on a tiny problem."""
    g = torch.Generator().manual_seed(0)
    args = dict(
        u=torch.randn(1, 2, 3, generator=g), delta=torch.rand(1, 2, 3, generator=g),
        A=-torch.rand(2, 4, generator=g), B=torch.randn(1, 1, 4, 3, generator=g),
        C=torch.randn(1, 1, 4, 3, generator=g), D=torch.randn(2, generator=g),
        z=torch.randn(1, 2, 3, generator=g), delta_bias=torch.randn(2, generator=g))
    for v in args.values():
        v.requires_grad_(True)
    selective_scan_numba(**args, delta_softplus=True).sum().backward()
