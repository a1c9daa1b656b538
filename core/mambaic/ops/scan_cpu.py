"""Fused CPU selective scan: numba kernels for the forward and backward passes, and the
`torch.autograd.Function` that ties them to torch.

Layout and work split
---------------------
The kernels see float32, C-contiguous arrays only (the wrapper converts), so each kernel has a
single compiled specialisation, which `cache=True` keeps on disk between runs:

* ``u, delta, z, dout``: (batch, dim, L)
* ``A``: (dim, N) and ``A2 = A * log2(e)`` (the kernels compute ``exp(x) = 2**(x * log2 e)``)
* ``Bt, Ct``: (batch, G, L, N): B and C *transposed* so that the N states of one time step are
  contiguous; the innermost loops run over N and compile to SIMD code.
* ``D, delta_bias``: (dim,), zeros when absent.

Nothing of shape (batch, dim, L, N) is ever built. The forward pass walks each (batch, dim) row
through time in chunks of `CHUNK` steps: (1) delta' = softplus(delta + bias) and delta'·u for
the chunk, (2) exp(delta'·A) for the chunk × N states into a small local buffer with a
vectorisable polynomial exp (libm's `expf` is scalar and was the bottleneck), (3) the
recurrence h = dA·h + delta'·u·B with y = C·h, (4) the D skip and the silu(z) gate. Rows run in
parallel (`prange`); each row's result depends only on its own inputs, so the output is
bit-identical whatever the number of threads.

When gradients are needed the forward pass also saves the state h at the end of every chunk
(batch, dim, L/CHUNK, N). The backward pass recomputes one chunk's states from the saved one,
then runs the reverse recurrence through it. It is parallel over tasks (batch, group, part of
the group's rows); each task owns its rows' dA, dD, d(delta_bias) and a private (L, N) buffer for
its share of dB and dC, which torch sums afterwards, so no two threads write the same memory.
"""

from __future__ import annotations

import math
import threading

import numba
import numpy as np
import torch
from numba import njit, prange, types
from numba.extending import intrinsic

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
# Vectorisable float32 math. Every constant is a float32 so that nothing is promoted to float64.

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
# Forward kernel
#
# Indexing style: every inner loop indexes a 1-D view with its own loop variable (`row[n]`,
# `chunk[i]`), never `buf[i * N + n]` or `arr[t0 + i]`: numba guards signed indices against
# negative values, and LLVM can drop that guard (and emit contiguous SIMD loads instead of
# gathers) only for a loop variable that it can see counts up from zero.

@_jit(parallel=True)
def _scan_fwd_kernel(u, delta, A2, Bt, Ct, D, bias, z, softplus, has_z, save, out, ckpt, ypre):
    batch, dim, L = u.shape
    G = Bt.shape[1]
    N = Bt.shape[3]
    dpg = dim // G
    T = CHUNK
    nchunks = (L + T - 1) // T
    for r in prange(batch * dim):
        b = r // dim
        d = r - b * dim
        g = d // dpg
        a2 = A2[d]
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
            Bc = Bt[b, g, t0:t0 + nt]
            Cc = Ct[b, g, t0:t0 + nt]
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


# --------------------------------------------------------------------------------------------
# Backward kernel

@_jit(parallel=True)
def _scan_bwd_kernel(u, delta, A, A2, Bt, Ct, D, bias, z, softplus, has_z, ckpt, ypre, dout,
                     parts,
                     du_out, ddelta_out, dA_bd, dBp, dCp, dD_bd, dbias_bd, dz_out):
    batch, dim, L = u.shape
    G = Bt.shape[1]
    N = Bt.shape[3]
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
        # per-row carries across chunks (the reverse state) and per-row gradient sums
        dh_all = np.zeros((nrows, N), np.float32)
        dAacc = np.zeros((nrows, N), np.float32)
        dDacc = np.zeros(nrows, np.float32)
        dbacc = np.zeros(nrows, np.float32)
        # chunk buffers
        dt = np.empty(T, np.float32)
        sg = np.empty(T, np.float32)
        dux = np.empty(T, np.float32)
        dy = np.empty(T, np.float32)
        dA = np.empty((T, N), np.float32)
        hs = np.empty((T + 1, N), np.float32)   # hs[0]: state before the chunk, hs[i + 1]: h_i
        dhs = np.empty((T, N), np.float32)      # dL/dh_i
        for cr in range(nchunks):
            c = nchunks - 1 - cr
            t0 = c * T
            nt = min(T, L - t0)
            Bc = Bt[b, g, t0:t0 + nt]
            Cc = Ct[b, g, t0:t0 + nt]
            dBc = dBp[b, g, p, t0:t0 + nt]
            dCc = dCp[b, g, p, t0:t0 + nt]
            for j in range(nrows):
                d = row0 + j
                a = A[d]
                a2 = A2[d]
                Dd = D[d]
                bd = bias[d]
                uc = u[b, d, t0:t0 + nt]
                xc = delta[b, d, t0:t0 + nt]
                gc = dout[b, d, t0:t0 + nt]
                dh = dh_all[j]
                dAj = dAacc[j]
                # (1) delta', its derivative w.r.t. the raw delta, delta'·u
                # (LLVM vectorises a loop only if it needs at most 8 run-time checks that its
                # arrays do not overlap, about (arrays written) × (arrays touched): hence loops
                # that write one or two arrays each.)
                if softplus:
                    for i in range(nt):
                        v = _softplus(xc[i] + bd)
                        dt[i] = v
                        dux[i] = v * uc[i]
                    for i in range(nt):
                        sg[i] = _sigmoid(xc[i] + bd)
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
                # (4) recompute the states from the one saved before the chunk; dC = dy·h
                h0 = hs[0]
                if c == 0:
                    for n in range(N):
                        h0[n] = _ZERO
                else:
                    ck = ckpt[b, d, c - 1]
                    for n in range(N):
                        h0[n] = ck[n]
                for i in range(nt):
                    bb = Bc[i]
                    row = dA[i]
                    hp = hs[i]
                    hn = hs[i + 1]
                    dCi = dCc[i]
                    dui = dux[i]
                    dyi = dy[i]
                    for n in range(N):
                        v = row[n] * hp[n] + dui * bb[n]
                        hn[n] = v
                        dCi[n] += dyi * v
                # (5) the reverse recurrence, dL/dh_i = C_i dy_i + dA_{i+1} dL/dh_{i+1}; dB
                for ir in range(nt):
                    i = nt - 1 - ir
                    cc = Cc[i]
                    row = dA[i]
                    dhr = dhs[i]
                    dBi = dBc[i]
                    dyi = dy[i]
                    duxi = dux[i]
                    for n in range(N):
                        v = dh[n] + cc[n] * dyi
                        dhr[n] = v
                        dBi[n] += duxi * v
                        dh[n] = v * row[n]
                # (6) the gradients of delta', u, A
                duc = du_out[b, d, t0:t0 + nt]
                dxc = ddelta_out[b, d, t0:t0 + nt]
                sD = _ZERO
                sb = _ZERO
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
                dDacc[j] += sD
                dbacc[j] += sb
        for j in range(nrows):
            d = row0 + j
            dD_bd[b, d] = dDacc[j]
            dbias_bd[b, d] = dbacc[j]
            for n in range(N):
                dA_bd[b, d, n] = dAacc[j, n]


# --------------------------------------------------------------------------------------------
# torch glue

# numba's default 'workqueue' threading layer must not be entered from two threads at once.
_KERNEL_LOCK = threading.Lock()
_DUMMY = np.zeros((1, 1, 1), np.float32)


def _f32(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to(torch.float32).contiguous()


def _np(t: torch.Tensor) -> np.ndarray:
    return t.numpy()


def _set_threads() -> int:
    """Use as many numba threads as torch uses (torch.set_num_threads steers both)."""
    n = max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(n)
    return n


class _Prepared:
    """The inputs as the kernels want them (float32, contiguous, B/C transposed, grouped)."""

    __slots__ = ("u", "delta", "A", "A2", "Bt", "Ct", "D", "bias", "z", "grouped_b", "grouped_c")

    def __init__(self, u, delta, A, B, C, D, z, delta_bias):
        batch, dim, L = u.shape
        self.u = _f32(u)
        self.delta = _f32(delta)
        self.A = _f32(A)
        self.A2 = (self.A * float(_LOG2E)).contiguous()
        self.grouped_b = B.dim() == 4
        self.grouped_c = C.dim() == 4
        Bg = B if self.grouped_b else B.unsqueeze(1)
        Cg = C if self.grouped_c else C.unsqueeze(1)
        # (batch, G, N, L) → (batch, G, L, N); B and C may have different group counts
        G = max(Bg.shape[1], Cg.shape[1])
        self.Bt = _f32(Bg.expand(batch, G, Bg.shape[2], L).transpose(-1, -2))
        self.Ct = _f32(Cg.expand(batch, G, Cg.shape[2], L).transpose(-1, -2))
        zeros = torch.zeros(dim, dtype=torch.float32)
        self.D = zeros if D is None else _f32(D)
        self.bias = zeros if delta_bias is None else _f32(delta_bias)
        self.z = None if z is None else _f32(z)


def _forward(p: _Prepared, softplus: bool, save: bool):
    batch, dim, L = p.u.shape
    N = p.A.shape[1]
    nchunks = (L + CHUNK - 1) // CHUNK
    out = torch.empty(batch, dim, L, dtype=torch.float32)
    ckpt = torch.empty(batch, dim, nchunks if save else 0, N, dtype=torch.float32)
    ypre = torch.empty(batch, dim, L, dtype=torch.float32) if (save and p.z is not None) else None
    z = _DUMMY if p.z is None else _np(p.z)
    with _KERNEL_LOCK:
        _set_threads()
        _scan_fwd_kernel(_np(p.u), _np(p.delta), _np(p.A2), _np(p.Bt), _np(p.Ct), _np(p.D),
                         _np(p.bias), z, bool(softplus), p.z is not None, bool(save),
                         _np(out), _np(ckpt), _DUMMY if ypre is None else _np(ypre))
    return out, ckpt, ypre


def _backward(p: _Prepared, softplus: bool, ckpt: torch.Tensor, ypre, dout: torch.Tensor):
    batch, dim, L = p.u.shape
    G = p.Bt.shape[1]
    N = p.A.shape[1]
    dpg = dim // G
    dout = _f32(dout)
    du = torch.empty(batch, dim, L, dtype=torch.float32)
    ddelta = torch.empty(batch, dim, L, dtype=torch.float32)
    dz = torch.empty(batch, dim, L, dtype=torch.float32) if p.z is not None else None
    dA_bd = torch.empty(batch, dim, N, dtype=torch.float32)
    dD_bd = torch.empty(batch, dim, dtype=torch.float32)
    dbias_bd = torch.empty(batch, dim, dtype=torch.float32)
    with _KERNEL_LOCK:
        threads = _set_threads()
        # enough tasks to keep every thread busy; each holds a private (L, N) dB and dC share
        parts = max(1, min(dpg, -(-4 * threads // (batch * G)) if threads > 1 else 1))
        dBp = torch.zeros(batch, G, parts, L, N, dtype=torch.float32)
        dCp = torch.zeros(batch, G, parts, L, N, dtype=torch.float32)
        _scan_bwd_kernel(_np(p.u), _np(p.delta), _np(p.A), _np(p.A2), _np(p.Bt), _np(p.Ct),
                         _np(p.D), _np(p.bias), _DUMMY if p.z is None else _np(p.z),
                         bool(softplus), p.z is not None, _np(ckpt),
                         _DUMMY if ypre is None else _np(ypre), _np(dout), parts,
                         _np(du), _np(ddelta), _np(dA_bd), _np(dBp), _np(dCp), _np(dD_bd),
                         _np(dbias_bd), _DUMMY if dz is None else _np(dz))
    dB = dBp.sum(2).transpose(-1, -2)   # (batch, G, N, L)
    dC = dCp.sum(2).transpose(-1, -2)
    return du, ddelta, dA_bd.sum(0), dB, dC, dD_bd.sum(0), dbias_bd.sum(0), dz


def _reduce_groups(grad: torch.Tensor, groups: int) -> torch.Tensor:
    """Bring a (batch, G, N, L) gradient back to the shape B (or C) was given in: `groups` is
    0 for an ungrouped (batch, N, L) input, else its group count (1 when it was broadcast)."""
    if groups == 0:
        return grad.sum(1)
    if groups != grad.shape[1]:
        return grad.sum(1, keepdim=True)
    return grad


class SelectiveScanNumba(torch.autograd.Function):
    """Differentiable fused CPU selective scan (float32 compute, fused numba forward/backward)."""

    @staticmethod
    def forward(ctx, u, delta, A, B, C, D, z, delta_bias, delta_softplus):
        p = _Prepared(u, delta, A, B, C, D, z, delta_bias)
        out, ckpt, ypre = _forward(p, delta_softplus, save=True)
        ctx.prepared = p
        ctx.softplus = delta_softplus
        ctx.dtypes = tuple(None if t is None else t.dtype
                           for t in (u, delta, A, B, C, D, z, delta_bias))
        ctx.groups = (B.shape[1] if p.grouped_b else 0, C.shape[1] if p.grouped_c else 0)
        ctx.save_for_backward(ckpt, ypre)
        return out.to(u.dtype)

    @staticmethod
    def backward(ctx, dout):
        ckpt, ypre = ctx.saved_tensors
        p = ctx.prepared
        du, ddelta, dA, dB, dC, dD, dbias, dz = _backward(p, ctx.softplus, ckpt, ypre, dout)
        dB = _reduce_groups(dB, ctx.groups[0])
        dC = _reduce_groups(dC, ctx.groups[1])
        grads = (du, ddelta, dA, dB, dC, dD, dz, dbias)
        return tuple(g.to(dt) if (dt is not None and need) else None
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
    p = _Prepared(u, delta, A, B, C, D, z, delta_bias)
    out, ckpt, _ = _forward(p, delta_softplus, save=return_last_state)
    out = out.to(u.dtype)
    if return_last_state:
        last = ckpt[:, :, -1] if ckpt.shape[2] else torch.zeros(ckpt.shape[0], ckpt.shape[1],
                                                                ckpt.shape[3])
        return out, last.to(u.dtype)
    return out


def compile_kernels() -> None:
    """Compile (or load from the on-disk cache) both kernels on a tiny problem."""
    g = torch.Generator().manual_seed(0)
    args = dict(
        u=torch.randn(1, 2, 3, generator=g), delta=torch.rand(1, 2, 3, generator=g),
        A=-torch.rand(2, 4, generator=g), B=torch.randn(1, 1, 4, 3, generator=g),
        C=torch.randn(1, 1, 4, 3, generator=g), D=torch.randn(2, generator=g),
        z=torch.randn(1, 2, 3, generator=g), delta_bias=torch.randn(2, generator=g))
    for v in args.values():
        v.requires_grad_(True)
    selective_scan_numba(**args, delta_softplus=True).sum().backward()
