"""Compare encoder-side refinement objectives at equal steps, on real stream bytes.

Usage: python scripts/refine_methods.py DIR [DIR ...] [--arms mixed:10,sga:10] [--out FILE.json]

For every image of each DIR (use `scripts/center_crops.py` crops: refinement on whole photos is
slow) and q = 1…5, codes the plain latents and each arm's refined latents and decodes them, then
prints per DIR the BD-rate (PSNR) of each arm against the plain encoder. Unlike `mambaic eval
--effort`, no arm falls back to the plain coding, so a method that makes things worse shows it.
bpp counts the entropy-coded streams (the container's fixed header, the same for every arm, is
left out); PSNR is that of the uint8 pixels a decoder outputs. An arm is METHOD:STEPS[:LR[:T0]],
with METHOD one of `mambaic.models.refine.METHODS` and T0 SGA's first temperature (the last is
a tenth of it, as in `SGA_TEMPERATURES`).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from mambaic.codec.codec import load_codec
from mambaic.eval import bdrate
from mambaic.eval.evaluate import IMAGE_SUFFIXES
from mambaic.models.pixels import pixel_values
from mambaic.models.refine import LEARNING_RATE, SGA_TEMPERATURES, refine_latents
from mambaic.progress import ProgressScale
from mambaic.psnr import psnr_from_mse

QUALITIES = (1.0, 2.0, 3.0, 4.0, 5.0)


def _arm(text: str) -> tuple[str, int, float, float]:
    method, steps, *rest = text.split(":")
    lr = float(rest[0]) if rest else LEARNING_RATE
    return method, int(steps), lr, float(rest[1]) if len(rest) > 1 else SGA_TEMPERATURES[0]


@torch.no_grad()
def _point(model, x: torch.Tensor, quality: float, arm: tuple[str, int, float, float] | None) -> tuple[float, float]:
    """(bpp of the streams, PSNR of the decoded uint8 pixels) of one image at one quality."""
    y = model.g_a(x) * model.gain.gain(quality)
    z = model.h_a(y)
    if arm is not None:
        method, steps, lr, start = arm
        temperatures = (start, start * SGA_TEMPERATURES[1] / SGA_TEMPERATURES[0])
        y, z = refine_latents(model, x, y, z, quality, steps, tuple(x.shape[-2:]), method=method,
                              learning_rate=lr, temperatures=temperatures)
    streams, y_hat = model._code(y, z, ProgressScale(None, model.cfg.num_slices + 1))
    x_hat = model.g_s(y_hat * model.gain.inverse_gain(quality))
    mse = (pixel_values(x_hat) - x * 255).square().mean().item()
    return 8 * streams.payload_bytes / (x.shape[2] * x.shape[3]), psnr_from_mse(mse)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", type=Path, nargs="+")
    parser.add_argument("--arms", default="mixed:10,sga:10")
    parser.add_argument("--weights", default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    arms = {text: _arm(text) for text in args.arms.split(",")}
    model = load_codec(args.weights).model
    results: dict[str, dict[str, list[list[float]]]] = {}
    for folder in args.dirs:
        paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        curves = {name: [[0.0, 0.0] for _ in QUALITIES] for name in ("plain", *arms)}
        for path in paths:
            rgb = np.asarray(Image.open(path).convert("RGB"))
            h, w = (s - s % model.pad_multiple for s in rgb.shape[:2])
            x = torch.from_numpy(rgb[:h, :w].copy()).permute(2, 0, 1)[None].float().div(255)
            for i, q in enumerate(QUALITIES):
                for name in curves:
                    start = time.perf_counter()
                    bpp, db = _point(model, x, q, arms.get(name))
                    curves[name][i][0] += bpp / len(paths)
                    curves[name][i][1] += db / len(paths)
                    print(f"{path.name} q{q:g} {name}: {bpp:.4f} bpp {db:.2f} dB "
                          f"({time.perf_counter() - start:.1f} s)", flush=True)
        results[str(folder)] = curves
        plain = curves["plain"]
        for name in arms:
            rate = bdrate.bd_rate([b for b, _ in plain], [d for _, d in plain],
                                  [b for b, _ in curves[name]], [d for _, d in curves[name]])
            print(f"== {folder} {name}: BD-rate vs plain {rate:+.2f} %; top q "
                  f"{curves[name][-1][0]:.4f} bpp {curves[name][-1][1]:.2f} dB "
                  f"(plain {plain[-1][0]:.4f} bpp {plain[-1][1]:.2f} dB)", flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
