"""What every codec under evaluation looks like, and how one (image, quality) point is measured.

mambaic and the classic codecs go through the same ``measure`` so that their numbers are comparable
by construction: bpp from the length of the bytes the encoder returned (a real file, headers
included) over the original pixel count, distortion from the decoded uint8 RGB pixels, and
wall-clock times of exactly the encode call and the decode call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mambaic.eval import metrics

Encoder = Callable[[np.ndarray, float], bytes]
Decoder = Callable[[bytes], np.ndarray]


@dataclass(frozen=True)
class SweptCodec:
    """A codec configuration plus the quality values to sweep it over."""

    name: str  # short key used on the command line and in file names
    label: str  # what a reader sees in tables and plots
    settings: str  # how it was run, for the report
    sweep: tuple[float, ...]  # quality parameter values
    encode: Encoder
    decode: Decoder


@dataclass(frozen=True)
class Measurement:
    """One codec at one quality on one image."""

    codec: str
    image: str
    quality: float
    width: int
    height: int
    num_bytes: int
    psnr: float
    ms_ssim: float
    encode_s: float
    decode_s: float

    @property
    def bpp(self) -> float:
        return self.num_bytes * 8.0 / (self.width * self.height)


def measure(codec: SweptCodec, image_name: str, rgb: np.ndarray, quality: float) -> Measurement:
    """Encode, decode and score one image at one quality."""
    start = time.perf_counter()
    data = codec.encode(rgb, quality)
    encoded = time.perf_counter()
    decoded_rgb = codec.decode(data)
    decoded = time.perf_counter()
    if decoded_rgb.shape != rgb.shape:
        raise RuntimeError(
            f"{codec.name} decoded {image_name} to {decoded_rgb.shape}, expected {rgb.shape}"
        )
    return Measurement(
        codec=codec.name,
        image=image_name,
        quality=float(quality),
        width=rgb.shape[1],
        height=rgb.shape[0],
        num_bytes=len(data),
        psnr=metrics.psnr(rgb, decoded_rgb),
        ms_ssim=metrics.ms_ssim(rgb, decoded_rgb),
        encode_s=encoded - start,
        decode_s=decoded - encoded,
    )
