"""Fused CPU selective scan: numba kernels for the forward and backward passes, and the
`torch.autograd.Function` that ties them to torch.

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
and y before the gate when there is a gate. The backward pass recomputes one chunk's states
from the saved ones into a (CHUNK, N, rows) tile, then runs the reverse recurrence through it,
taking each step's gradients right away while its tiles are in cache. dB and dC, shared by the
rows, are reduced per task into a private (N, L) buffer that `_scan_bwd_finish` sums over the
tasks: no two threads ever write the same memory.

All the work, reductions included, runs in numba's thread pool: interleaving torch's own
parallel ops between the kernels made the two pools fight over the cores.
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

__all__ = ["CHUNK", "ROWS", "SelectiveScanNumba", "compile_kernels", "selective_scan_numba"]

#: Time steps per chunk: the forward pass saves h once per chunk, the backward pass recomputes
#: one chunk at a time.
CHUNK = 64
#: Most channels per task (the SIMD lanes of the inner loops).
ROWS = 64


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
# Style: every inner loop indexes a 1-D view with its own loop variable (`row[r]`, `chunk[i]`),
# never `buf[i * R + r]` or `arr[t0 + i]`; LLVM vectorises those loops more reliably (the
# kernels got 1.4-2x faster when rewritten so). Loops stay short and simple: folding more work
# into the sequential loops made them slower.

@_jit(parallel=True)
def _scan_fwd_kernel(u, delta, A, B, C, D, bias, z, softplus, has_z, save, R,
                     out, ckpt, ypre):
    batch, dim, L = u.shape
    N = A.shape[1]
    G = max(B.shape[1], C.shape[1])
    rb = G // B.shape[1]
    rc = G // C.shape[1]
    dpg = dim // G
    nblk = (dpg + R - 1) // R
    T = CHUNK
    nchunks = (L + T - 1) // T
    for task in prange(batch * G * nblk):
        b = task // (G * nblk)
        g = (task // nblk) % G
        k = task % nblk
        r0 = g * dpg + k * R
        nr = min(R, dpg - k * R)
        Bg = B[b, g // rb]
        Cg = C[b, g // rc]
        a2 = np.empty((N, R), np.float32)
        h = np.zeros((N, R), np.float32)
        for n in range(N):
            a2n = a2[n]
            for r in range(nr):
                a2n[r] = A[r0 + r, n] * _LOG2E
        tdt = np.empty((R, T), np.float32)     # (row, time) tiles
        tdu = np.empty((R, T), np.float32)
        ty = np.empty((R, T), np.float32)
        dtT = np.empty((T, R), np.float32)     # (time, row) tiles
        duT = np.empty((T, R), np.float32)
        yT = np.empty((T, R), np.float32)
        for c in range(nchunks):
            t0 = c * T
            nt = min(T, L - t0)
            # (1) delta' and delta'·u, row by row
            for r in range(nr):
                xr = delta[b, r0 + r, t0:t0 + nt]
                ur = u[b, r0 + r, t0:t0 + nt]
                bd = bias[r0 + r]
                dtr = tdt[r]
                dur = tdu[r]
                if softplus:
                    for i in range(nt):
                        v = _softplus(xr[i] + bd)
                        dtr[i] = v
                        dur[i] = v * ur[i]
                else:
                    for i in range(nt):
                        v = xr[i] + bd
                        dtr[i] = v
                        dur[i] = v * ur[i]
            for i in range(nt):
                x1 = dtT[i]
                x2 = duT[i]
                for r in range(nr):
                    x1[r] = tdt[r, i]
                    x2[r] = tdu[r, i]
            # (2) the recurrence, rows as SIMD lanes
            for i in range(nt):
                dtr = dtT[i]
                dur = duT[i]
                yr = yT[i]
                for r in range(nr):
                    yr[r] = _ZERO
                for n in range(N):
                    bn = Bg[n, t0 + i]
                    cn = Cg[n, t0 + i]
                    hr = h[n]
                    ar = a2[n]
                    for r in range(nr):
                        hv = _exp2(dtr[r] * ar[r]) * hr[r] + dur[r] * bn
                        hr[r] = hv
                        yr[r] += cn * hv
            for r in range(nr):
                x1 = ty[r]
                for i in range(nt):
                    x1[i] = yT[i, r]
            # (3) skip connection and gate, row by row
            for r in range(nr):
                d = r0 + r
                orow = out[b, d, t0:t0 + nt]
                ur = u[b, d, t0:t0 + nt]
                yrow = ty[r]
                Dd = D[d]
                for i in range(nt):
                    yrow[i] += Dd * ur[i]
                if has_z:
                    zr = z[b, d, t0:t0 + nt]
                    for i in range(nt):
                        zi = zr[i]
                        orow[i] = yrow[i] * zi * _sigmoid(zi)
                    if save:   # the backward pass needs y before the gate
                        yp = ypre[b, d, t0:t0 + nt]
                        for i in range(nt):
                            yp[i] = yrow[i]
                else:
                    for i in range(nt):
                        orow[i] = yrow[i]
            if save:
                for n in range(N):
                    ck = ckpt[b, c, n, r0:r0 + nr]
                    hr = h[n]
                    for r in range(nr):
                        ck[r] = hr[r]


@_jit(parallel=True)
def _scan_bwd_kernel(u, delta, A, B, C, D, bias, z, softplus, has_z, ckpt, ypre, dout, R,
                     du_out, ddelta_out, dA_bd, dBp, dCp, dD_bd, dbias_bd, dz_out):
    batch, dim, L = u.shape
    N = A.shape[1]
    G = max(B.shape[1], C.shape[1])
    rb = G // B.shape[1]
    rc = G // C.shape[1]
    dpg = dim // G
    nblk = (dpg + R - 1) // R
    T = CHUNK
    nchunks = (L + T - 1) // T
    for task in prange(batch * G * nblk):
        b = task // (G * nblk)
        g = (task // nblk) % G
        k = task % nblk
        r0 = g * dpg + k * R
        nr = min(R, dpg - k * R)
        Bg = B[b, g // rb]
        Cg = C[b, g // rc]
        dBg = dBp[b, g, k]          # this task's share of dB, dC: (N, L)
        dCg = dCp[b, g, k]
        for n in range(N):
            x1 = dBg[n]
            x2 = dCg[n]
            for t in range(L):
                x1[t] = _ZERO
                x2[t] = _ZERO
        a = np.empty((N, R), np.float32)
        a2 = np.empty((N, R), np.float32)
        for n in range(N):
            an = a[n]
            a2n = a2[n]
            for r in range(nr):
                v = A[r0 + r, n]
                an[r] = v
                a2n[r] = v * _LOG2E
        dh = np.zeros((N, R), np.float32)      # dA_{t+1}·dL/dh_{t+1}, carried backwards
        vt = np.empty((N, R), np.float32)      # dL/dh_t of the current step
        dAacc = np.zeros((N, R), np.float32)
        dDacc = np.zeros(R, np.float32)
        dbacc = np.zeros(R, np.float32)
        tdt = np.empty((R, T), np.float32)     # (row, time) tiles
        tsg = np.empty((R, T), np.float32)
        tdux = np.empty((R, T), np.float32)
        tdy = np.empty((R, T), np.float32)
        ts1 = np.empty((R, T), np.float32)
        ts2 = np.empty((R, T), np.float32)
        dtT = np.empty((T, R), np.float32)     # (time, row) tiles
        duxT = np.empty((T, R), np.float32)
        dyT = np.empty((T, R), np.float32)
        s1T = np.empty((T, R), np.float32)
        s2T = np.empty((T, R), np.float32)
        hs = np.empty((T + 1, N, R), np.float32)   # hs[0]: state before the chunk, hs[i+1]: h_i
        dA = np.empty((T, N, R), np.float32)
        for cr in range(nchunks):
            c = nchunks - 1 - cr
            t0 = c * T
            nt = min(T, L - t0)
            # (1) row by row: delta', softplus'(.), delta'·u, and the gradient reaching
            # y = C·h + D·u through the gate out = y·silu(z)
            for r in range(nr):
                d = r0 + r
                xr = delta[b, d, t0:t0 + nt]
                ur = u[b, d, t0:t0 + nt]
                gr = dout[b, d, t0:t0 + nt]
                bd = bias[d]
                dtr = tdt[r]
                sgr = tsg[r]
                dur = tdux[r]
                dyr = tdy[r]
                if softplus:
                    for i in range(nt):
                        x = xr[i] + bd
                        e = _exp(-abs(x))
                        v = max(x, _ZERO) + _log1p_unit(e)    # softplus(x)
                        dtr[i] = v
                        dur[i] = v * ur[i]
                        q = _ONE / (_ONE + e)                  # sigmoid(x) = softplus'(x)
                        sgr[i] = q if x >= _ZERO else e * q
                else:
                    for i in range(nt):
                        v = xr[i] + bd
                        dtr[i] = v
                        dur[i] = v * ur[i]
                        sgr[i] = _ONE
                if has_z:
                    zr = z[b, d, t0:t0 + nt]
                    yr = ypre[b, d, t0:t0 + nt]
                    dzr = dz_out[b, d, t0:t0 + nt]
                    for i in range(nt):
                        zi = zr[i]
                        s = _sigmoid(zi)
                        gi = gr[i]
                        dyr[i] = gi * zi * s
                        dzr[i] = gi * yr[i] * s * (_ONE + zi * (_ONE - s))
                else:
                    for i in range(nt):
                        dyr[i] = gr[i]
            for i in range(nt):
                x1 = dtT[i]
                x2 = duxT[i]
                x3 = dyT[i]
                for r in range(nr):
                    x1[r] = tdt[r, i]
                    x2[r] = tdux[r, i]
                    x3[r] = tdy[r, i]
            # (2) recompute the chunk's states (and dA) from the state saved before it
            for n in range(N):
                h0 = hs[0, n]
                if c == 0:
                    for r in range(nr):
                        h0[r] = _ZERO
                else:
                    ck = ckpt[b, c - 1, n, r0:r0 + nr]
                    for r in range(nr):
                        h0[r] = ck[r]
            for i in range(nt):
                dtr = dtT[i]
                dur = duxT[i]
                for n in range(N):
                    bn = Bg[n, t0 + i]
                    ar = a2[n]
                    hp = hs[i, n]
                    hn = hs[i + 1, n]
                    dar = dA[i, n]
                    for r in range(nr):
                        e = _exp2(dtr[r] * ar[r])
                        dar[r] = e
                        hn[r] = e * hp[r] + dur[r] * bn
            # (3) backwards through the chunk: dL/dh_i = C_i dy_i + dA_{i+1} dL/dh_{i+1}, then
            # that step's gradients while its tiles are in cache
            for ir in range(nt):
                i = nt - 1 - ir
                t = t0 + i
                dyr = dyT[i]
                for n in range(N):
                    cn = Cg[n, t]
                    dhn = dh[n]
                    vr = vt[n]
                    dar = dA[i, n]
                    for r in range(nr):
                        v = dhn[r] + cn * dyr[r]
                        vr[r] = v
                        dhn[r] = v * dar[r]
                dur = duxT[i]
                dtr = dtT[i]
                s1r = s1T[i]
                s2r = s2T[i]
                for r in range(nr):
                    s1r[r] = _ZERO
                    s2r[r] = _ZERO
                for n in range(N):
                    bn = Bg[n, t]
                    hn = hs[i + 1, n]
                    hp = hs[i, n]
                    vr = vt[n]
                    dar = dA[i, n]
                    an = a[n]
                    dAn = dAacc[n]
                    sc = _ZERO
                    sb = _ZERO
                    for r in range(nr):
                        sc += dyr[r] * hn[r]
                        sb += dur[r] * vr[r]
                    dCg[n, t] += sc
                    dBg[n, t] += sb
                    for r in range(nr):
                        w = vr[r] * dar[r] * hp[r]        # dL/d(dA_i) · dA_i
                        dAn[r] += dtr[r] * w
                        s1r[r] += an[r] * w               # → dL/d delta' through dA
                        s2r[r] += vr[r] * bn              # → dL/d(delta'·u)
            # (4) row by row: the gradients of u, delta', the raw delta, D and delta_bias
            for r in range(nr):
                x1 = ts1[r]
                x2 = ts2[r]
                for i in range(nt):
                    x1[i] = s1T[i, r]
                    x2[i] = s2T[i, r]
            for r in range(nr):
                d = r0 + r
                ur = u[b, d, t0:t0 + nt]
                duo = du_out[b, d, t0:t0 + nt]
                dxo = ddelta_out[b, d, t0:t0 + nt]
                Dd = D[d]
                s1 = ts1[r]
                s2 = ts2[r]
                dtr = tdt[r]
                dyr = tdy[r]
                sgr = tsg[r]
                sb = _ZERO
                sD = _ZERO
                for i in range(nt):
                    duo[i] = s2[i] * dtr[i] + Dd * dyr[i]
                    gx = (s1[i] + s2[i] * ur[i]) * sgr[i]
                    dxo[i] = gx
                    sb += gx
                    sD += dyr[i] * ur[i]
                dbacc[r] += sb
                dDacc[r] += sD
        for r in range(nr):
            d = r0 + r
            dD_bd[b, d] = dDacc[r]
            dbias_bd[b, d] = dbacc[r]
            for n in range(N):
                dA_bd[b, d, n] = dAacc[n, r]


@_jit()
def _scan_bwd_finish(dBp, dCp, dA_bd, dD_bd, dbias_bd, dB, dC, dA, dD, dbias):
    """Sum the tasks' shares: dB[b, gB] = Σ of dBp[b, g, k] over the groups g that use B
    group gB and the row blocks k (likewise dC); dA, dD, d(delta_bias) over the batch.
    (Serial: it moves little memory, and a parallel kernel costs compile time.)"""
    batch, G, nblk, N, L = dBp.shape
    for which in range(2):
        src = dBp if which == 0 else dCp
        dst = dB if which == 0 else dC
        Gd = dst.shape[1]
        ratio = G // Gd
        for b in range(batch):
            for q in range(Gd):
                out = dst[b, q]
                for n in range(N):
                    o = out[n]
                    for t in range(L):
                        o[t] = _ZERO
                for g in range(q * ratio, (q + 1) * ratio):
                    for k in range(nblk):
                        part = src[b, g, k]
                        for n in range(N):
                            o = out[n]
                            p = part[n]
                            for t in range(L):
                                o[t] += p[t]
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


def _f32(t: torch.Tensor) -> np.ndarray:
    return t.detach().to(torch.float32).contiguous().numpy()


def _set_threads() -> int:
    """Use as many numba threads as torch uses (torch.set_num_threads steers both)."""
    n = max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(n)
    return n


def _rows_per_task(rows_per_group: int) -> int:
    """Channels per task: at most ROWS, blocks of even size. It depends on the shape only, not
    on the thread count, which keeps the output bit-identical across thread counts."""
    blocks = max(1, -(-rows_per_group // ROWS))
    return max(1, -(-rows_per_group // blocks))


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
