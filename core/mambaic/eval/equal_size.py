"""A classic codec at the same file size as another file: "what would JPEG give me for these bytes?"

``classic_at_size`` bisects a classic codec's integer quality knob for the largest file that does
not exceed a byte budget (e.g. the size of a ``.mic`` file), then decodes and scores that file with
the same metrics as everything else. File size is not strictly monotonic in the quality setting, so
the bisection keeps the largest file it saw that fits, not merely the last one; it never returns a
file over the budget as if it fitted: when even the lowest setting is larger, the result says so
(``fits`` is False) and carries that smallest file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mambaic.errors import Cancelled
from mambaic.eval import metrics
from mambaic.eval.sweep import SweptCodec

#: Each supported codec's valid integer quality range (lowest, highest), larger = bigger file.
#: Pillow's JPEG takes 1…100 (0 is treated as 1), WebP and AVIF 0…100; the JPEG XL plugin takes
#: 0…99 (100 means lossless, which it only accepts with ``lossless=True``).
QUALITY_RANGES: dict[str, tuple[int, int]] = {
    "jpeg420": (1, 100),
    "jpeg444": (1, 100),
    "webp": (0, 100),
    "avif": (0, 100),
    "jxl": (0, 99),
}

#: At most this many encodes: one at the lowest setting, then a bisection of ≤ 100 values.
MAX_ENCODES = 8


@dataclass(frozen=True)
class EqualSizeResult:
    """One classic coding chosen to match a byte budget, decoded and scored against the original."""

    codec: str  # SweptCodec.name
    label: str  # SweptCodec.label
    data: bytes
    quality: int
    target_bytes: int
    fits: bool  # len(data) <= target_bytes; False only when even the lowest quality is larger
    decoded: np.ndarray
    psnr: float
    ms_ssim: float  # NaN for images smaller than MS-SSIM's minimum side
    encodes: int  # how many encodes the search spent

    @property
    def num_bytes(self) -> int:
        return len(self.data)

    def bpp(self, width: int, height: int) -> float:
        return self.num_bytes * 8.0 / (width * height)


def quality_range(codec: SweptCodec) -> tuple[int, int]:
    """The integer quality range searched for `codec`; ValueError for a codec without one."""
    try:
        return QUALITY_RANGES[codec.name]
    except KeyError:
        raise ValueError(f"{codec.label} has no integer quality range for an equal-size search; "
                         f"supported: {', '.join(QUALITY_RANGES)}") from None


def classic_at_size(codec: SweptCodec, rgb: np.ndarray, max_bytes: int,
                    cancel: Callable[[], bool] | None = None,
                    progress: Callable[[int, int, str], None] | None = None) -> EqualSizeResult:
    """The largest file `codec` writes for `rgb` within `max_bytes`, decoded and scored.

    `cancel()` is polled before each encode (raises `mambaic.errors.Cancelled`); `progress(done,
    total, stage)` is called after each encode, with `total` the worst-case number of encodes.
    """
    if max_bytes < 1:
        raise ValueError(f"max_bytes must be positive, not {max_bytes}")
    low, high = quality_range(codec)
    encodes = 0

    def encode(quality: int) -> bytes:
        nonlocal encodes
        if cancel is not None and cancel():
            raise Cancelled("equal-size search cancelled")
        data = codec.encode(rgb, quality)
        encodes += 1
        if progress is not None:
            progress(encodes, MAX_ENCODES, f"{codec.label} q={quality}: {len(data):,} B")
        return data

    best_quality, best = low, encode(low)
    fits = len(best) <= max_bytes
    if fits:
        # Invariant: `lo` fits; every setting above `hi` is assumed not to (it is not tried).
        lo, hi = low, high
        while lo < hi and encodes < MAX_ENCODES:
            mid = (lo + hi + 1) // 2
            data = encode(mid)
            if len(data) <= max_bytes:
                lo = mid
                if len(data) >= len(best):
                    best_quality, best = mid, data
            else:
                hi = mid - 1
    if cancel is not None and cancel():
        raise Cancelled("equal-size search cancelled")
    decoded = codec.decode(best)
    if decoded.shape != rgb.shape:
        raise RuntimeError(f"{codec.name} decoded to {decoded.shape}, expected {rgb.shape}")
    return EqualSizeResult(codec=codec.name, label=codec.label, data=best, quality=best_quality,
                           target_bytes=int(max_bytes), fits=fits, decoded=decoded,
                           psnr=metrics.psnr(rgb, decoded), ms_ssim=metrics.ms_ssim(rgb, decoded),
                           encodes=encodes)
