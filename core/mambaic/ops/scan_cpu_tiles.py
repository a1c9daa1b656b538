"""How the numba scan kernels cut the work: tasks of channel rows, chunks of time steps.

A task is a block of up to `ROWS` channels (rows) of one batch item and one group, so that they
share B and C; it walks time in chunks of `CHUNK` steps, moving each chunk between (row, time)
tiles (contiguous in time, like the inputs) and (time, row) tiles (rows as SIMD lanes).
"""

from __future__ import annotations

from numba import njit

__all__ = ["CHUNK", "ROWS"]

#: Time steps per chunk: the forward pass saves h once per chunk, the backward pass recomputes
#: one chunk at a time.
CHUNK = 64
#: Most channels per task (the SIMD lanes of the inner loops).
ROWS = 64


def _rows_per_task(rows_per_group: int) -> int:
    """Channels per task: at most ROWS, blocks of even size. It depends on the shape only, not
    on the thread count, which keeps the output bit-identical across thread counts."""
    blocks = max(1, -(-rows_per_group // ROWS))
    return max(1, -(-rows_per_group // blocks))


@njit
def _task_grid(batch, dim, b_groups, c_groups, R):
    """(G, channels per group, row blocks per group, number of tasks) for B and C with
    `b_groups` and `c_groups` groups (one of them G, the other G or 1)."""
    G = max(b_groups, c_groups)
    dpg = dim // G
    nblk = (dpg + R - 1) // R
    return G, dpg, nblk, batch * G * nblk


@njit
def _task_rows(task, G, dpg, nblk, R):
    """Task number → (batch item b, group g, row block k, first channel r0, channel count nr)."""
    b = task // (G * nblk)
    g = (task // nblk) % G
    k = task % nblk
    return b, g, k, g * dpg + k * R, min(R, dpg - k * R)


@njit
def _transpose(src, dst, n_dst, n_src):
    """dst[i, r] = src[r, i] for i < n_dst, r < n_src (between (row, time) and (time, row) tiles)."""
    for i in range(n_dst):
        d = dst[i]
        for r in range(n_src):
            d[r] = src[r, i]


@njit
def _transpose2(src_a, src_b, dst_a, dst_b, n_dst, n_src):
    """`_transpose` of two tiles in one pass (the forward pass's delta' and delta'·u: one pass
    was measured faster than two there)."""
    for i in range(n_dst):
        da = dst_a[i]
        db = dst_b[i]
        for r in range(n_src):
            da[r] = src_a[r, i]
            db[r] = src_b[r, i]
