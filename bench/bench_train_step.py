"""Training-step throughput: the lite model against CompressAI's mbt2018_mean, same batch.

Issue #5's target is a lite step no slower than 1.5× mbt2018_mean's. Each step is forward, RD
loss, backward and an Adam update; the median of --steps timed steps after two warm-ups is
reported, the two models alternating so background load hits both alike.

Usage: python bench/bench_train_step.py [--batch 8] [--patch 128] [--steps 5] [--threads 2]
                                         [--model lite] [--set depths=0,0,1,1 ...]
`--set` changes fields of the model config, to price an architecture before training it.
"""

from __future__ import annotations

# ruff: noqa: I001  (mambaic must be imported before torch: it sets OMP_WAIT_POLICY)

import argparse
import dataclasses
import statistics
import time

import mambaic  # noqa: F401  (first: sets OMP_WAIT_POLICY before torch loads)
import torch

import mambaic._compressai  # noqa: F401  (torchvision shim)
from compressai.zoo import mbt2018_mean

from mambaic.models import build_model, get_config
from mambaic.models.loss import rate_distortion_loss


def make_step(model, x, quality=None):
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step() -> float:
        t = time.perf_counter()
        out = model(x) if quality is None else model(x, quality)
        loss = rate_distortion_loss(out, x, 0.013)["loss"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return time.perf_counter() - t
    return step


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--patch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default="lite")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                    help="override a config field (tuples comma-separated), e.g. depths=0,0,1,1")
    args = ap.parse_args()
    cfg = get_config(args.model)
    for item in args.set:
        name, _, text = item.partition("=")
        current = getattr(cfg, name)
        value = tuple(type(current[0])(v) for v in text.split(",")) if isinstance(current, tuple) \
            else type(current)(text)
        cfg = dataclasses.replace(cfg, **{name: value})
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.rand(args.batch, 3, args.patch, args.patch)
    steps = {args.model: make_step(build_model(cfg), x, 3.0),
             "mbt2018_mean": make_step(mbt2018_mean(quality=3, pretrained=False), x)}
    for fn in steps.values():
        fn(), fn()
    times = {k: [] for k in steps}
    for _ in range(args.steps):
        for k, fn in steps.items():
            times[k].append(fn())
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"batch {args.batch} of {args.patch}², {args.threads} threads, median of {args.steps}"
          + (f", {args.model} with {' '.join(args.set)}" if args.set else ""))
    for k, v in med.items():
        print(f"{k:14} {v:6.3f} s/step")
    print(f"ratio {args.model}/mbt2018_mean = {med[args.model] / med['mbt2018_mean']:.2f} (target ≤ 1.5)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
