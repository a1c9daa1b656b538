"""Regenerate the golden files the test-suite checks the codec's bytes and pixels against.

Usage: python scripts/make_golden.py   (after the shipped weights change, and only then)

Writes tests/golden/astronaut-q3.mic (a 128x96 crop of the bundled astronaut sample coded with
the shipped weights at q 3.3 and at effort 1) and tests/golden/golden.json: the weights' SHA-256,
the crop, the quality and effort, and SHA-256 of the file and of its decoded RGB pixels. A
refactor that changes a single byte or pixel then fails tests/test_golden.py, as CompressAI's
expected-output tests do; a deliberate change regenerates the files with this script.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from PIL import Image

from mambaic.codec.codec import load_codec
from mambaic.resources import resource_dir

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "golden"
CROP = (128, 96, 256, 192)  # left, top, right, bottom in resources/samples/astronaut.png
QUALITY = 3.3
EFFORT = 1


def golden_input() -> Image.Image:
    with Image.open(resource_dir("samples") / "astronaut.png") as im:
        return im.convert("RGB").crop(CROP)


def pixels_sha256(image: Image.Image) -> str:
    return hashlib.sha256(np.ascontiguousarray(np.asarray(image.convert("RGB"))).tobytes()).hexdigest()


def main() -> None:
    codec = load_codec()
    data = codec.compress(golden_input(), QUALITY, effort=EFFORT)
    GOLDEN.mkdir(parents=True, exist_ok=True)
    (GOLDEN / "astronaut-q3.mic").write_bytes(data)
    record = {"weights_sha256": codec.weights_sha256, "crop": CROP, "quality": QUALITY,
              "effort": EFFORT, "mic_sha256": hashlib.sha256(data).hexdigest(),
              "pixels_sha256": pixels_sha256(codec.decompress(data)), "bytes": len(data)}
    (GOLDEN / "golden.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
