"""The backward numba kernels of the CPU selective scan (see `mambaic.ops.scan_cpu` for the
layout of their arguments and the work split), one helper per phase of a chunk.

The backward pass recomputes one chunk's states from the state the forward pass saved before
it into a (CHUNK, N, rows) tile, then runs the reverse recurrence through it, taking each step's
gradients right away while its tiles are in cache. dB and dC, shared by the rows, are reduced
per task into a private (N, L) buffer that `_scan_bwd_finish` sums over the tasks: no two
threads ever write the same memory. The loop style is the forward kernel's (see
`mambaic.ops.scan_cpu_forward`).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from mambaic.ops.scan_cpu_math import (
    _LOG2E,
    _ONE,
    _ZERO,
    _exp2,
    _jit,
    _sigmoid,
    _softplus_and_slope,
)
from mambaic.ops.scan_cpu_tiles import CHUNK, _task_grid, _task_rows, _transpose


@_jit()
def _rows_in(u, delta, bias, z, ypre, dout, softplus, has_z, b, r0, nr, t0, nt,
             tdt, tsg, tdux, tdy, dz_out):
    """Phase 1, row by row: delta', softplus'(.), delta'·u and the gradient reaching
    y = C·h + D·u through the gate out = y·silu(z) (the gate's own gradient into dz_out)."""
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
                v, q = _softplus_and_slope(xr[i] + bd)
                dtr[i] = v
                dur[i] = v * ur[i]
                sgr[i] = q
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


@_jit()
def _recompute_states(ckpt, Bg, a2, dtT, duxT, b, c, r0, nr, t0, nt, hs, dA):
    """Phase 2: the chunk's states hs[i + 1] = h_{t0+i} (hs[0] the state before the chunk,
    from the forward pass's `ckpt`) and the decays dA[i] = exp(delta'·A)."""
    N = a2.shape[0]
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


@_jit()
def _reverse_chunk(Bg, Cg, a, dtT, duxT, dyT, hs, dA, nr, t0, nt,
                   dh, vt, dAacc, dBg, dCg, s1T, s2T):
    """Phase 3, backwards through the chunk: dL/dh_i = C_i dy_i + dA_{i+1} dL/dh_{i+1}, then
    that step's gradients of B, C, A (accumulated) and the sums s1, s2 that phase 4 needs."""
    N = a.shape[0]
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


@_jit()
def _rows_out(u, D, b, r0, nr, t0, nt, ts1, ts2, tdt, tdy, tsg, du_out, ddelta_out,
              dbacc, dDacc):
    """Phase 4, row by row: the gradients of u and of the raw delta; those of D and
    delta_bias accumulated over the chunks."""
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


@_jit(parallel=True)
def _scan_bwd_kernel(u, delta, A, B, C, D, bias, z, softplus, has_z, ckpt, ypre, dout, R,
                     du_out, ddelta_out, dA_bd, dBp, dCp, dD_bd, dbias_bd, dz_out):
    """All gradients; dA, dD, d(delta_bias) per batch item (`*_bd`) and dB, dC per task
    (`dBp`, `dCp`), left for `_scan_bwd_finish` to sum."""
    batch, dim, L = u.shape
    N = A.shape[1]
    G, dpg, nblk, ntasks = _task_grid(batch, dim, B.shape[1], C.shape[1], R)
    rb = G // B.shape[1]
    rc = G // C.shape[1]
    T = CHUNK
    nchunks = (L + T - 1) // T
    for task in prange(ntasks):
        b, g, k, r0, nr = _task_rows(task, G, dpg, nblk, R)
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
            _rows_in(u, delta, bias, z, ypre, dout, softplus, has_z, b, r0, nr, t0, nt,
                     tdt, tsg, tdux, tdy, dz_out)
            _transpose(tdt, dtT, nt, nr)
            _transpose(tdux, duxT, nt, nr)
            _transpose(tdy, dyT, nt, nr)
            _recompute_states(ckpt, Bg, a2, dtT, duxT, b, c, r0, nr, t0, nt, hs, dA)
            _reverse_chunk(Bg, Cg, a, dtT, duxT, dyT, hs, dA, nr, t0, nt,
                           dh, vt, dAacc, dBg, dCg, s1T, s2T)
            _transpose(s1T, ts1, nr, nt)
            _transpose(s2T, ts2, nr, nt)
            _rows_out(u, D, b, r0, nr, t0, nt, ts1, ts2, tdt, tdy, tsg, du_out, ddelta_out,
                      dbacc, dDacc)
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
