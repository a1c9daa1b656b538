"""Compress an image (the bundled sample by default) at every paper quality and report.

For each quality the image is really encoded to .mic bytes and decoded back: bpp comes from the
bytes, PSNR from the decoded image. Nothing is written to disk. This is what the README's first
command runs on a machine without a display.
"""

from __future__ import annotations

import argparse

from mambaic.resources import resource_dir

HELP = "encode and decode a sample image at the five qualities, print bpp/PSNR/latency"

SAMPLE = resource_dir("samples") / "astronaut.png"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", nargs="?", default=str(SAMPLE), help="image to try (default: bundled sample)")
    p.add_argument("-q", "--quality", type=float, action="append",
                   help="quality in [1, 5] (repeatable; default: 1 2 3 4 5)")
    p.add_argument("--weights", help="weights file (default: the shipped lite model)")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from mambaic import load_codec
    from mambaic.codec.image_io import load_image
    from mambaic.eval.metrics import psnr

    codec = load_codec(args.weights, device=args.device)
    rgb = load_image(args.image).rgb
    steps = codec.weights.card.training_steps
    print(f"{args.image}: {rgb.shape[1]}x{rgb.shape[0]}  model {codec.model_name} "
          f"(weights {codec.weights_sha256[:12]}, {steps if steps is not None else '?'} training steps), "
          f"{args.device}")
    print(f"{'quality':>7} {'bytes':>8} {'bpp':>7} {'PSNR dB':>8} {'encode s':>9} {'decode s':>9}")
    for q in args.quality or codec.paper_qualities:
        enc = codec.compress_report(args.image, q)
        dec = codec.decompress_report(enc.data)
        out = np.asarray(dec.image.convert("RGB"))
        print(f"{q:>7g} {len(enc.data):>8} {enc.info.bpp:>7.3f} {psnr(rgb, out):>8.2f} "
              f"{enc.seconds:>9.2f} {dec.seconds:>9.2f}")
    return 0
