"""Benchmark of `mambaic.ops.selective_scan` on model-shaped problems.

    PYTHONPATH=core python bench/bench_scan.py                  # numba (and cuda if present)
    PYTHONPATH=core python bench/bench_scan.py --backends numba,reference --cases 1536
    PYTHONPATH=core python bench/bench_scan.py --threads 1

Prints one row per backend and shape: forward without autograd (inference), forward with
autograd (which also saves the chunk states), backward, each the median (and the minimum, less
disturbed on a busy machine) of --repeats runs after a warm-up; compile time is reported apart.
Shapes are SS2D's: dim = 4 directions × d_inner, B and C grouped by direction (G = 4).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from mambaic.ops import available_backends, selective_scan

# name: (batch, dim, N, L, groups)
CASES = {
    "1536": (1, 4 * 192, 16, 1536, 4),
    "6144": (1, 4 * 192, 16, 6144, 4),     # the ≤ 0.1 s forward target
    "24576": (1, 4 * 192, 16, 24576, 4),
    "train16": (8, 4 * 2 * 48, 16, 32 * 32, 4),
    "train8": (8, 4 * 2 * 48, 8, 32 * 32, 4),
}


def make(batch, dim, N, L, groups, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    args = dict(
        u=torch.randn(batch, dim, L, generator=g),
        delta=torch.randn(batch, dim, L, generator=g) * 0.5 - 2.0,
        A=-torch.arange(1, N + 1, dtype=torch.float32).repeat(dim, 1),
        B=torch.randn(batch, groups, N, L, generator=g),
        C=torch.randn(batch, groups, N, L, generator=g),
        D=torch.ones(dim),
        delta_bias=torch.rand(dim, generator=g) * 0.1,
    )
    return {k: v.to(device) for k, v in args.items()}


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def timed(fn, device):
    sync(device)
    t = time.perf_counter()
    out = fn()
    sync(device)
    return time.perf_counter() - t, out


def bench(backend, case, repeats, device):
    batch, dim, N, L, groups = CASES[case]
    args = make(batch, dim, N, L, groups, device)
    dout = torch.randn(batch, dim, L, device=device)

    def fwd():
        with torch.no_grad():
            return selective_scan(**args, delta_softplus=True, backend=backend)

    leaves = {k: v.clone().requires_grad_(True) for k, v in args.items()}

    def fwd_train():
        for v in leaves.values():
            v.grad = None
        return selective_scan(**leaves, delta_softplus=True, backend=backend)

    fwd()                                  # warm-up (and compile, if not done yet)
    fwd_train().backward(dout)
    f, ft, b = [], [], []
    for _ in range(repeats):
        f.append(timed(fwd, device)[0])
        t, y = timed(fwd_train, device)
        ft.append(t)
        b.append(timed(lambda y=y: y.backward(dout), device)[0])
    return f, ft, b


def fmt(ts):
    return f"{statistics.median(ts) * 1e3:9.1f} ({min(ts) * 1e3:7.1f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default=",".join(b for b in available_backends()
                                                   if b != "reference"))
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=0, help="torch (and numba) threads")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    threads = torch.get_num_threads()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, {threads} threads, "
          f"load average {load:.2f}; available backends: {available_backends()}")

    # first call: JIT compile, or load from numba's on-disk cache
    if "numba" in a.backends.split(","):
        from mambaic.ops.scan_cpu import compile_kernels
        t = time.perf_counter()
        compile_kernels()
        print(f"numba first call (compile or cache load, forward + backward): "
              f"{time.perf_counter() - t:.2f} s")

    print(f"{'backend':10} {'batch x dim x N x L (G)':26} {'fwd ms med (min)':>19} "
          f"{'fwd+save ms':>19} {'bwd ms':>19} {'threads':>7}")
    for backend in a.backends.split(","):
        device = "cuda" if backend == "cuda" else "cpu"
        for case in a.cases.split(","):
            batch, dim, N, L, groups = CASES[case]
            reps = a.repeats if backend != "reference" else 1
            f, ft, b = bench(backend, case, reps, device)
            shape = f"{batch}x{dim}x{N}x{L} (G={groups})"
            print(f"{backend:10} {shape:26} {fmt(f)} {fmt(ft)} {fmt(b)} {threads:7d}",
                  flush=True)


if __name__ == "__main__":
    main()
