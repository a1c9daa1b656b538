"""How much of the quality loss is the transforms' and how much the quantiser's?

Usage: python scripts/transform_ceiling.py IMAGE_DIR [WEIGHTS] [--quality Q ...]

For each image it reports three PSNRs at each quality (default 1 and 5):
- `ceiling`: g_s(g_a(x)) with y left unquantised, i.e. the best the transforms can reconstruct;
- `noisy`: y with uniform noise of one quantiser step, what training sees;
- `rounded`: the forward pass the codec decodes (rounded ŷ through the entropy model).
When `ceiling` sits barely above `rounded` and rises little with quality, more bits cannot buy
PSNR: the transforms, not the entropy model, are what limits the curve, and only training them
further (or a wider synthesis) moves it. Forward passes only, so this runs in seconds on CPU.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from mambaic.codec.codec import to_uint8
from mambaic.codec.image_io import load_image
from mambaic.codec.padding import pad_edges
from mambaic.eval.metrics import psnr
from mambaic.train.data import list_images
from mambaic.weights import load_model


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("images", type=Path)
    ap.add_argument("weights", nargs="?", default=None)
    ap.add_argument("--quality", type=float, nargs="+", default=[1.0, 5.0])
    args = ap.parse_args()
    model, _ = load_model(args.weights)
    print("image,quality,ceiling_db,noisy_db,rounded_db")
    torch.manual_seed(0)
    for path in list_images(args.images, "image"):
        rgb = load_image(path).rgb
        h, w = rgb.shape[:2]
        x = torch.from_numpy(pad_edges(rgb, model.pad_multiple).copy()).permute(2, 0, 1)[None].float().div(255)

        def db(x_hat: torch.Tensor) -> str:  # PSNR of the uint8 image a decoder would hand back
            return f"{psnr(rgb, to_uint8(x_hat)[:h, :w]):.2f}"

        with torch.no_grad():
            for q in args.quality:
                y = model.g_a(x) * model.gain.gain(q)
                inv = model.gain.inverse_gain(q)
                ceiling = model.g_s(y * inv)
                noisy = model.g_s((y + torch.rand_like(y) - 0.5) * inv)
                rounded = model(x, q)["x_hat"]
                print(f"{path.name},{q:g},{db(ceiling)},{db(noisy)},{db(rounded)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
