"""What the user has open, and what one encode or decode of it produced (plain data, no Qt).

These objects are built on the worker thread and handed to the GUI thread whole; they are frozen
so neither side can change what the other is looking at.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mambaic.card import ModelCard
from mambaic.codec.info import MicInfo
from mambaic_gui.pixels import ErrorHeatmap, Pyramid

_tokens = itertools.count(1)


@dataclass(frozen=True)
class Document:
    """An opened image (with its pixels) or `.mic` file (possibly without its original).

    `source` is what the codec is given to compress: the file path or the encoded image bytes, so
    the library, not the GUI, decides how modes, alpha and EXIF orientation are handled. `token`
    identifies the document in cache keys (two opens of the same path are different documents).
    """

    name: str
    path: Path | None
    original: np.ndarray | None
    source: Path | bytes | None
    original_view: Pyramid | None = None
    mic: bytes | None = None
    notes: tuple[str, ...] = ()
    token: int = field(default_factory=lambda: next(_tokens))

    @property
    def is_mic(self) -> bool:
        return self.mic is not None

    @property
    def size(self) -> tuple[int, int] | None:
        """(width, height) of the original, when there is one."""
        if self.original is None:
            return None
        return int(self.original.shape[1]), int(self.original.shape[0])


@dataclass(frozen=True)
class CodecResult:
    """One `.mic` encoding and its reconstruction, with everything the metrics panel shows.

    `encode_seconds`, `psnr`, `ms_ssim` and `errors` are None when they cannot be known (a `.mic`
    opened without its original); `ms_ssim` is NaN for images too small for five scales.
    """

    quality: float
    mic: bytes
    info: MicInfo
    decoded: np.ndarray
    decoded_view: Pyramid
    decode_seconds: float
    device: str
    alpha: np.ndarray | None = None
    encode_seconds: float | None = None
    effort: int | None = None
    """The effort level it was encoded at; None for an opened `.mic` (the file does not say)."""
    refine_steps: int = 0
    """Latent-refinement steps the encoder spent per tile (0 at effort 0 or for an opened file)."""
    refined_tiles: int = 0
    """Tiles that kept their refined coding (the others were cheaper coded plainly)."""
    psnr: float | None = None
    ms_ssim: float | None = None
    errors: ErrorHeatmap | None = None

    @property
    def nbytes(self) -> int:
        extra = [a.nbytes for a in (self.alpha, self.decoded_view, self.errors) if a is not None]
        return self.decoded.nbytes + len(self.mic) + sum(extra)


@dataclass(frozen=True)
class ModelSummary:
    """What the GUI may know about the model the worker owns (the model itself stays there)."""

    name: str
    device: str
    quality_range: tuple[float, float]
    paper_qualities: tuple[float, ...]
    card: ModelCard
    weights_path: str
    weights_sha256: str
    cuda_available: bool


@dataclass(frozen=True)
class RatePoint:
    """One point of the rate-distortion chart."""

    codec: str
    quality: float
    bpp: float
    psnr: float
    ms_ssim: float
    refined: bool = False
    """At least one tile kept its refined coding (it sits off the plain mambaic curve)."""


@dataclass(frozen=True)
class EqualSizeComparison:
    """A classic codec's coding of the original at (at most) the size of one `.mic` result.

    Every number here was measured on the file the classic encoder wrote: `num_bytes` is its
    length, `psnr` and `ms_ssim` score its decode against the original. `fits` is False when even
    the codec's lowest quality setting wrote a larger file than `target_bytes` (then this is that
    smallest file, and the views must not call it "the same size").
    """

    key: str  # the codec's key in `mambaic.eval.classic`
    label: str  # e.g. "JPEG 4:2:0"
    data: bytes  # the classic file itself
    num_bytes: int
    quality: int
    quality_range: tuple[int, int]
    target_bytes: int
    fits: bool
    psnr: float
    ms_ssim: float
    width: int
    height: int
    decoded_view: Pyramid
    document_token: int

    @property
    def bpp(self) -> float:
        return self.num_bytes * 8.0 / (self.width * self.height)


@dataclass(frozen=True)
class FitResult:
    """What Quality ▸ Fit to Size found: the encode (None when the target is below the smallest
    file this model makes for the image, then `smallest_bytes` and `message` say so)."""

    result: CodecResult | None
    target_bytes: int | None  # None only for a bpp target that was never reached
    max_bpp: float | None
    capped: bool  # the highest quality still fits: the file is smaller than the target
    reached: bool  # within the search's tolerance below the target
    encodes: int
    smallest_bytes: int | None = None
    message: str = ""
