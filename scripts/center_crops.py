"""Centre crops of every photo in a folder, for measurements too slow to run on whole photos.

Usage: python scripts/center_crops.py SRC OUT [--size 256]

The effort levels' table (docs/results/effort.md) codes each photo of both eval sets at five
qualities and four efforts; at effort 3 a whole 768x512 photo takes over a minute on 2 cores,
so the table is measured on the central SIZE x SIZE window of each photo instead (photos smaller
than SIZE are kept whole). Licence files are not images and are skipped.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image

from mambaic.eval.evaluate import IMAGE_SUFFIXES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in sorted(p for p in args.src.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        with Image.open(path) as im:
            rgb = im.convert("RGB")
        s = args.size
        left, top = max(0, (rgb.width - s) // 2), max(0, (rgb.height - s) // 2)
        rgb.crop((left, top, min(rgb.width, left + s), min(rgb.height, top + s))).save(
            args.out / f"{path.stem}.png")
        print(args.out / f"{path.stem}.png")


if __name__ == "__main__":
    main()
