"""The forward numba kernel of the CPU selective scan (see `mambaic.ops.scan_cpu` for the
layout of its arguments and the work split).

Style: every inner loop indexes a 1-D view with its own loop variable (`row[r]`, `chunk[i]`),
never `buf[i * R + r]` or `arr[t0 + i]`; LLVM vectorises those loops more reliably (the kernels
got 1.4-2x faster when rewritten so). Loops stay short and simple: folding more work into the
sequential loops made them slower.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from mambaic.ops.scan_cpu_math import _LOG2E, _ZERO, _exp2, _jit, _sigmoid, _softplus
from mambaic.ops.scan_cpu_tiles import CHUNK, _task_grid, _task_rows, _transpose, _transpose2


@_jit(parallel=True)
def _scan_fwd_kernel(u, delta, A, B, C, D, bias, z, softplus, has_z, save, R,
                     out, ckpt, ypre):
    """out = the scan's output; when `save`, also the state after every chunk into `ckpt` and,
    with a gate, y before the gate into `ypre` (what the backward kernel needs)."""
    batch, dim, L = u.shape
    N = A.shape[1]
    G, dpg, nblk, ntasks = _task_grid(batch, dim, B.shape[1], C.shape[1], R)
    rb = G // B.shape[1]
    rc = G // C.shape[1]
    T = CHUNK
    nchunks = (L + T - 1) // T
    for task in prange(ntasks):
        b, g, _, r0, nr = _task_rows(task, G, dpg, nblk, R)
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
            _transpose2(tdt, tdu, dtT, duT, nt, nr)
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
            _transpose(yT, ty, nr, nt)
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
