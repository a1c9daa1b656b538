"""From per-image measurements to RD curves, and from curves to BD-rate comparisons.

A curve point is the mean bpp and the mean metric over all images coded at one quality setting:
the CompressAI convention, so our curves can be overlaid with its published ones. (Averaging at a
fixed setting, not at a fixed rate, is what everyone does; it slightly favours codecs whose rate
varies little between images, which is worth remembering when curves are close.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mambaic.eval import bdrate, metrics
from mambaic.eval.sweep import Measurement, SweptCodec


@dataclass(frozen=True)
class Curve:
    """Mean results per quality setting of one codec, in the codec's sweep order."""

    codec: str
    label: str
    settings: str
    images: int
    quality: tuple[float, ...]
    bpp: tuple[float, ...]
    psnr: tuple[float, ...]
    ms_ssim: tuple[float, ...]
    encode_s: tuple[float, ...]
    decode_s: tuple[float, ...]

    @property
    def ms_ssim_db(self) -> tuple[float, ...]:
        return tuple(metrics.ms_ssim_db(v) if math.isfinite(v) else math.nan for v in self.ms_ssim)


@dataclass(frozen=True)
class BdRow:
    """BD-rate of the test codec against one anchor; None where the curves do not overlap."""

    anchor: str
    psnr_rate: float | None
    ms_ssim_rate: float | None
    psnr_range: tuple[float, float] | None  # PSNR interval the PSNR BD-rate integrates over


def _mean(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan


def aggregate(measurements: Sequence[Measurement], codec: SweptCodec) -> Curve:
    """The curve of one codec: mean over images at each quality it was measured at."""
    mine = [m for m in measurements if m.codec == codec.name]
    qualities = [q for q in codec.sweep if any(m.quality == q for m in mine)]
    groups = [[m for m in mine if m.quality == q] for q in qualities]
    return Curve(
        codec=codec.name,
        label=codec.label,
        settings=codec.settings,
        images=len({m.image for m in mine}),
        quality=tuple(float(q) for q in qualities),
        bpp=tuple(_mean([m.bpp for m in g]) for g in groups),
        psnr=tuple(_mean([m.psnr for m in g]) for g in groups),
        ms_ssim=tuple(_mean([m.ms_ssim for m in g]) for g in groups),
        encode_s=tuple(_mean([m.encode_s for m in g]) for g in groups),
        decode_s=tuple(_mean([m.decode_s for m in g]) for g in groups),
    )


def _overlap(a: Sequence[float], b: Sequence[float]) -> tuple[float, float] | None:
    low, high = max(min(a), min(b)), min(max(a), max(b))
    return (low, high) if high > low else None


def _safe_bd(anchor_r, anchor_q, test_r, test_q) -> float | None:
    try:
        return bdrate.bd_rate(anchor_r, anchor_q, test_r, test_q)
    except ValueError:  # no overlap, or too few finite points
        return None


def bd_table(test: Curve, anchors: Sequence[Curve]) -> list[BdRow]:
    """BD-rate of ``test`` against each anchor, on PSNR and on MS-SSIM (dB)."""
    rows = []
    for anchor in anchors:
        rows.append(
            BdRow(
                anchor=anchor.codec,
                psnr_rate=_safe_bd(anchor.bpp, anchor.psnr, test.bpp, test.psnr),
                ms_ssim_rate=_safe_bd(anchor.bpp, anchor.ms_ssim_db, test.bpp, test.ms_ssim_db),
                psnr_range=_overlap(anchor.psnr, test.psnr) if test.psnr and anchor.psnr else None,
            )
        )
    return rows
