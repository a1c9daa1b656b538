"""Crops to judge texture by eye, and a number for the colour plaid.

Usage: python scripts/texture_crops.py DIR OUT [--weights W] [--qualities 3 5] [--crop 160]

For every image in DIR and quality: code it with mambaic (real bytes, decoded from those bytes),
code it with WebP (method 6) at the largest quality whose file is no larger, and write
OUT/<image>_q<Q>.png: original | mambaic | WebP, each crop enlarged 2x (nearest neighbour) from
the image's most detailed CROPxCROP window. OUT/crops.md lists bytes and PSNR of both, and the
plaid measure of the original and both decodings: the RMS of the chroma (Cb, Cr) high-passed at
the pixel grid's Nyquist frequency (`nyquist_chroma_rms`). The period-2 colour pattern of a
sub-pixel output layer lives there; natural photos carry little, grey ones none, so a decoded
value well above the original's means plaid was added.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
from PIL import Image

import mambaic
from mambaic.eval.metrics import psnr
from mambaic.models.chroma import RGB_TO_YCC
from mambaic.train.data import detail, list_images

YCC = np.array(RGB_TO_YCC)


def nyquist_chroma_rms(rgb: np.ndarray) -> float:
    """RMS, in grey levels, of Cb and Cr after the high-pass [-1, 2, -1]/4 along rows and along
    columns: the response is largest (1) at the Nyquist frequency, where plaid lives, and 0 for
    flat colour. Grey images score 0."""
    chroma = rgb.astype(np.float64) @ YCC[1:].T
    along_x = (2 * chroma[:, 1:-1] - chroma[:, :-2] - chroma[:, 2:]) / 4
    along_y = (2 * chroma[1:-1] - chroma[:-2] - chroma[2:]) / 4
    return float(np.sqrt(0.5 * ((along_x ** 2).mean() + (along_y ** 2).mean())))


def webp_at_most(rgb: np.ndarray, max_bytes: int) -> tuple[bytes, np.ndarray] | None:
    """The WebP file (method 6) of the highest quality that fits in ``max_bytes`` (bisection:
    WebP's size grows with its quality setting)."""
    im = Image.fromarray(rgb)

    def encode(quality: int) -> bytes:
        buf = io.BytesIO()
        im.save(buf, "WEBP", quality=quality, method=6)
        return buf.getvalue()

    low, high, best = 0, 100, None
    while low <= high:
        mid = (low + high) // 2
        data = encode(mid)
        if len(data) <= max_bytes:
            best, low = data, mid + 1
        else:
            high = mid - 1
    if best is None:
        return None
    return best, np.asarray(Image.open(io.BytesIO(best)).convert("RGB"))


def most_detailed_window(rgb: np.ndarray, size: int) -> tuple[int, int]:
    """Top-left corner of the size×size window (on a size/2 grid) with the largest luma gradient."""
    step = max(1, size // 2)
    corners = [(y, x) for y in range(0, rgb.shape[0] - size + 1, step)
               for x in range(0, rgb.shape[1] - size + 1, step)]
    return max(corners, key=lambda c: detail(rgb[c[0]:c[0] + size, c[1]:c[1] + size]))


def strip(parts: list[np.ndarray], y: int, x: int, size: int) -> Image.Image:
    tiles = [Image.fromarray(p[y:y + size, x:x + size]).resize((2 * size, 2 * size), Image.NEAREST)
             for p in parts]
    out = Image.new("RGB", (len(tiles) * (2 * size + 4) - 4, 2 * size), "black")
    for i, tile in enumerate(tiles):
        out.paste(tile, (i * (2 * size + 4), 0))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--weights", type=Path)
    parser.add_argument("--qualities", type=float, nargs="+", default=[3.0, 5.0])
    parser.add_argument("--crop", type=int, default=160)
    args = parser.parse_args()
    codec = mambaic.load_codec(args.weights)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = ["| image | original plaid | q | mambaic bytes | PSNR dB | plaid | WebP bytes | PSNR dB | plaid |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for path in list_images(args.folder, "image"):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        y, x = most_detailed_window(rgb, args.crop)
        for q in args.qualities:
            data = codec.compress(rgb, quality=q)
            ours = np.asarray(codec.decompress(data).convert("RGB"))
            webp = webp_at_most(rgb, len(data))
            parts = [rgb, ours] + ([webp[1]] if webp else [])
            strip(parts, y, x, args.crop).save(args.out / f"{path.stem}_q{q:g}.png")
            cells = [f"{len(data)}", f"{psnr(rgb, ours):.2f}", f"{nyquist_chroma_rms(ours):.2f}"]
            cells += ([f"{len(webp[0])}", f"{psnr(rgb, webp[1]):.2f}",
                       f"{nyquist_chroma_rms(webp[1]):.2f}"] if webp else ["-", "-", "-"])
            rows.append(f"| {path.name} | {nyquist_chroma_rms(rgb):.2f} | {q:g} | " + " | ".join(cells) + " |")
            print(rows[-1], flush=True)
    (args.out / "crops.md").write_text(
        f"Crops: original | mambaic | WebP at no more bytes (2x, most detailed {args.crop}px window).\n"
        f"Weights: {codec.weights.path} (sha256 {codec.weights_sha256[:12]}…)\n\n"
        + "\n".join(rows) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
