"""Train (or keep training) a variable-rate MambaIC model on a folder of photos.

One model covers every quality q in [1, 5]: each batch draws q and trains on the matching lambda.
Checkpoints land in OUT/checkpoint.safetensors every --save-every steps and on Ctrl-C; run the
same command again to resume (--resume auto is the default). At the end fp32 and fp16 weights and
a model card are exported to OUT/. Photos are any images under DATA_DIR (the README says how to
gather a set); keep evaluation images out of it.

examples:
  mambaic train data/photos/train --out runs/lite --steps 20000 --val-dir data/photos/val
  mambaic train data/photos/train --init-weights resources/weights/mambaic-lite.safetensors
  torchrun --nproc-per-node 4 -m mambaic train data/ --device cuda --amp
"""

from __future__ import annotations

import argparse

HELP = "train or fine-tune a variable-rate model (resumable)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", metavar="DATA_DIR", help="folder of training photos (searched recursively)")
    p.add_argument("--out", default="runs/lite", help="run folder: checkpoint, logs, exported weights")
    p.add_argument("--model", default="lite", help="model config name: lite, paper or tiny")
    p.add_argument("--steps", type=int, default=100_000, help="total optimisation steps")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--patch", type=int, default=256, help="square crop size (a multiple of 64)")
    p.add_argument("--max-side", type=int, default=768,
                   help="down-scale photos so the short side is at most this (hides JPEG artefacts)")
    p.add_argument("--scales", type=_scales, default=(1.0,), metavar="S,S,...",
                   help="also train on copies of each photo down-scaled by these factors "
                        "(e.g. 1,0.75,0.5: denser detail); default 1")
    p.add_argument("--detail-draws", type=int, default=1, metavar="K",
                   help="make each patch the most detailed (largest luma gradient) of K random crops; "
                        "counters smooth sources such as wallpapers (default 1: uniform crops)")
    p.add_argument("--quality-tilt", type=float, default=0.0, metavar="T",
                   help="draw high qualities more often: density 1-T at q=1 rising to 1+T at q=5 "
                        "(0 <= T < 1; default 0: uniform)")
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--decay-from", type=float, default=0.8,
                   help="fraction of --steps after which the learning rate falls to lr/10")
    p.add_argument("--warmup", type=int, default=500,
                   help="steps of linear learning-rate warm-up at the start of a run (default 500)")
    p.add_argument("--ema", type=float, default=0.999,
                   help="decay of the weight average that is validated and exported (0: off)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--amp", action="store_true", help="bfloat16 autocast on CUDA")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    p.add_argument("--save-every", type=int, default=200)
    p.add_argument("--val-every", type=int, default=1000)
    p.add_argument("--val-dir", help="held-out photos for validation with real bytes")
    p.add_argument("--resume", default="auto",
                   help="checkpoint to resume from; 'auto' = OUT/checkpoint.safetensors if present")
    p.add_argument("--init-weights", help="start a new run from these weights (e.g. the shipped ones)")
    p.add_argument("--chroma-filter", choices=("on", "off"),
                   help="switch the fixed chroma low-pass after g_s for this run (models/chroma.py); "
                        "default: as the starting weights have it")
    p.add_argument("--patches-npy", help="train on a pre-cut patch set (N,H,W,3 uint8 .npy) instead")


def _scales(text: str) -> tuple[float, ...]:
    """argparse type: comma-separated factors in (0, 1]."""
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = ()
    if not values or not all(0 < v <= 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected factors in (0, 1] separated by commas, got {text!r}")
    return values


def run(args: argparse.Namespace) -> int:
    from mambaic.cli.common import UsageError
    from mambaic.train.loop import TrainConfig, train

    if args.patch % 64:
        raise UsageError(f"--patch must be a multiple of 64, got {args.patch}")
    if args.detail_draws < 1:
        raise UsageError(f"--detail-draws must be 1 or more, got {args.detail_draws}")
    if not 0 <= args.quality_tilt < 1:
        raise UsageError(f"--quality-tilt must be in [0, 1), got {args.quality_tilt}")
    if args.warmup < 0:
        raise UsageError(f"--warmup must be 0 or more steps, got {args.warmup}")
    if not (args.ema == 0 or 0 < args.ema < 1):
        raise UsageError(f"--ema must be 0 (off) or a decay between 0 and 1, got {args.ema}")
    cfg = TrainConfig(
        data=args.data, out=args.out, model=args.model, steps=args.steps, batch_size=args.batch_size,
        patch=args.patch, max_side=args.max_side, scales=args.scales,
        detail_draws=args.detail_draws, quality_tilt=args.quality_tilt, lr=args.lr, decay_from=args.decay_from,
        warmup=args.warmup, ema=args.ema,
        seed=args.seed, device=args.device, amp=args.amp, threads=args.threads,
        save_every=args.save_every, val_every=args.val_every, val_dir=args.val_dir,
        resume=args.resume, init_weights=args.init_weights, patches_npy=args.patches_npy,
        chroma_filter=None if args.chroma_filter is None else args.chroma_filter == "on")
    path = train(cfg)
    print(f"weights: {path}")
    return 0
