"""Encode to a file-size (or bits-per-pixel) budget: the largest ``.mic`` file that fits.

File size grows with the continuous quality q ∈ [1, 5], so the search brackets the target between
a quality whose file fits and one whose file does not, and narrows the bracket. It never *trusts*
that growth: every file that fits is a candidate and the largest one seen is returned, so a
non-monotone step cannot make the result exceed the budget or throw away a better file.

Order of work (each step is one full encode with the same loaded :class:`Codec`):

1. q = 5. If it fits, it is the answer (``capped``): no quality makes a larger file.
2. q = 1. If it does not fit, :class:`TargetTooSmallError` names the smallest reachable size.
3. Bracketed search between them: the next quality interpolates log(bytes) linearly between the
   bracket ends (file size is roughly exponential in q), aimed at the middle of the accepted
   window; whenever a step fails to halve the bracket the next one is a plain bisection, so the
   bracket at least halves every two encodes whatever the curve looks like. It stops as soon as
   the best file is within ``tolerance`` (6 %) below the target, when the bracket is narrower
   than the 0.001 quality step a file can record, or after ``max_encodes`` encodes.

Why 8 encodes by default: an encode costs one to a few seconds for a 768x512 photo on a CPU, so
the search stays under half a minute. Two go to the ends of the range; the other six narrow the
q-bracket to 4/2⁶ ≈ 0.06 with plain bisection (the interpolating steps can do worse on a
pathological curve, at most 4·0.475³ ≈ 0.43, and far better on a smooth one). With the shipped weights a file grows
about 2.3x from q = 1 to q = 5 (sporco_monarch: 11 013 → 25 013 bytes), so such a step changes the
size by about 1–2 %, well inside the 6 % window; interpolation usually gets there in 1–3 encodes
(3 in total with the ends for the photos tried).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mambaic.codec.mic_format import QUALITY_SCALE
from mambaic.errors import MambaICError
from mambaic.progress import Cancel, Progress, ProgressScale

if TYPE_CHECKING:  # torch-free at import: the command line parses sizes before loading a model
    from mambaic.codec.codec import Codec, EncodeResult
    from mambaic.codec.image_io import ImageSource

DEFAULT_TOLERANCE = 0.06
"""Accept the best file once it is at least (1 − tolerance) × target bytes."""
DEFAULT_MAX_ENCODES = 8
"""Upper bound on encodes per image (see the module docstring for why 8)."""

_UNITS = {"": 1, "b": 1, "kb": 1000, "kib": 1024, "mb": 1000 ** 2, "mib": 1024 ** 2}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*", re.IGNORECASE)


class TargetTooSmallError(MambaICError, ValueError):
    """Even the lowest quality makes a file larger than the target; nothing is written."""

    def __init__(self, message: str, smallest_bytes: int) -> None:
        super().__init__(message)
        self.smallest_bytes = smallest_bytes


@dataclass(frozen=True)
class TargetTry:
    """One encode of the search: the quality used and the file size it gave."""

    quality: float
    bytes: int


@dataclass(frozen=True)
class TargetResult:
    """The file chosen by :func:`encode_to_target` and how the search got there."""

    result: EncodeResult
    """The chosen encode (``result.data`` is the file, ``result.info`` its header and sizes)."""
    target_bytes: int
    """The budget in bytes (for a bpp target: floor(bpp × width × height / 8))."""
    tries: tuple[TargetTry, ...]
    """Every encode, in order."""
    capped: bool
    """q = 5 still fit: the file is the largest this model makes, below the target."""
    reached: bool
    """The file is within the tolerance below the target (always False when ``capped``, unless
    q = 5 happens to land in the window)."""
    seconds: float
    """Time of all encodes together."""

    @property
    def data(self) -> bytes:
        return self.result.data

    @property
    def quality(self) -> float:
        return self.result.info.quality

    @property
    def bytes(self) -> int:
        return len(self.result.data)

    @property
    def bpp(self) -> float:
        return self.result.info.bpp

    @property
    def encodes(self) -> int:
        return len(self.tries)


def parse_size(text: str) -> int:
    """``"50KB"`` → 50000 bytes. Units B, KB (1000), KiB (1024), MB, MiB, any case; no unit means
    bytes. Fractions are allowed with a unit (``"1.5MB"``) and rounded down to whole bytes.
    Raises ``ValueError`` with a message fit for the user."""
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a size: {text!r} (examples: 20000, 50KB, 64KiB, 1.5MB)")
    number, unit = match.groups()
    factor = _UNITS.get(unit.lower())
    if factor is None:
        raise ValueError(f"unknown unit {unit!r} in {text!r} (use B, KB, KiB, MB or MiB)")
    value = math.floor(float(number) * factor)
    if value < 1:
        raise ValueError(f"size must be at least 1 byte, got {text!r}")
    return value


def parse_bpp(text: str) -> float:
    """A positive, finite bits-per-pixel target; ``ValueError`` otherwise."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"bits per pixel must be a positive number, got {text!r}")
    return value


def encode_to_target(codec: Codec, image: ImageSource, max_bytes: int | None = None, *,
                     max_bpp: float | None = None, tolerance: float = DEFAULT_TOLERANCE,
                     max_encodes: int = DEFAULT_MAX_ENCODES, progress: Progress = None,
                     cancel: Cancel = None, metadata: Mapping[str, object] | None = None,
                     refine_steps: int = 0) -> TargetResult:
    """The largest ``.mic`` file of ``image`` that is at most ``max_bytes`` bytes (or at most
    ``max_bpp`` bits per pixel of the whole file: give exactly one).

    ``progress(event)`` is called as for :meth:`Codec.compress`, each event labelled with the
    try (its text reads ``"try 3/8 q 2.417: …"``). Raises :class:`TargetTooSmallError` when q = 1
    already exceeds the target, ``Cancelled`` when ``cancel()`` turns true.
    """
    if (max_bytes is None) == (max_bpp is None):
        raise ValueError("give exactly one of max_bytes and max_bpp")
    if max_bytes is not None and (isinstance(max_bytes, bool) or not isinstance(max_bytes, int)
                                  or max_bytes < 1):
        raise ValueError(f"max_bytes must be a whole number of at least 1, got {max_bytes!r}")
    if max_bpp is not None and not (math.isfinite(max_bpp) and max_bpp > 0):
        raise ValueError(f"max_bpp must be a positive number, got {max_bpp!r}")
    if not 0 < tolerance < 1:
        raise ValueError(f"tolerance must be between 0 and 1, got {tolerance!r}")
    if isinstance(max_encodes, bool) or not isinstance(max_encodes, int) or max_encodes < 2:
        raise ValueError(f"max_encodes must be a whole number of at least 2, got {max_encodes!r}")

    q_min, q_max = codec.quality_range
    tries: list[TargetTry] = []
    best: EncodeResult | None = None
    limit = max_bytes
    seconds = 0.0

    def encode(quality: float) -> EncodeResult:
        nonlocal best, limit, seconds
        label = f"try {len(tries) + 1}/{max_encodes} q {quality:.3f}"
        step = None if progress is None else ProgressScale(progress, label=label)
        result = codec.compress_report(image, quality, step, cancel, metadata, refine_steps)
        if limit is None:  # a bpp target: the pixel count is known after the first encode
            limit = max(1, math.floor(max_bpp * result.info.pixels / 8))
        size = len(result.data)
        seconds += result.seconds
        tries.append(TargetTry(result.info.quality, size))
        if size <= limit and (best is None or size > len(best.data)):
            best = result
        return result

    def done(capped: bool) -> TargetResult:
        assert best is not None and limit is not None
        reached = len(best.data) >= (1 - tolerance) * limit
        return TargetResult(best, limit, tuple(tries), capped, reached, seconds)

    top = encode(q_max)
    if len(top.data) <= limit:
        return done(capped=True)
    bottom = encode(q_min)
    if best is None:
        size = len(bottom.data)
        raise TargetTooSmallError(
            f"target of {limit:,} bytes ({8 * limit / bottom.info.pixels:.4f} bpp) is below "
            f"the smallest file this model makes for this "
            f"image: {size:,} bytes ({bottom.info.bpp:.4f} bpp) at quality {q_min:g}",
            size)

    lo, lo_bytes = q_min, len(bottom.data)  # fits
    hi, hi_bytes = q_max, len(top.data)  # too large
    aim = (1 - tolerance / 2) * limit
    interpolate = True
    while len(tries) < max_encodes and len(best.data) < (1 - tolerance) * limit:
        width = hi - lo
        if width < 2 / QUALITY_SCALE:  # no recordable quality strictly between the ends
            break
        quality = _next_quality(lo, lo_bytes, hi, hi_bytes, aim, interpolate)
        result = encode(quality)
        size = len(result.data)
        if size <= limit:
            lo, lo_bytes = result.info.quality, size
        else:
            hi, hi_bytes = result.info.quality, size
        interpolate = (hi - lo) <= width / 2  # a step that did not halve the bracket: bisect next
    return done(capped=False)


def _next_quality(lo: float, lo_bytes: int, hi: float, hi_bytes: int, aim: float,
                  interpolate: bool) -> float:
    """A recordable quality strictly inside (lo, hi): log-linear interpolation towards ``aim``
    (kept off the ends), or the midpoint."""
    quality = (lo + hi) / 2
    if interpolate and hi_bytes > lo_bytes > 0:
        t = (math.log(aim) - math.log(lo_bytes)) / (math.log(hi_bytes) - math.log(lo_bytes))
        quality = lo + min(max(t, 0.05), 0.95) * (hi - lo)
    step = 1 / QUALITY_SCALE
    quality = round(quality * QUALITY_SCALE) / QUALITY_SCALE
    return min(max(quality, lo + step), hi - step)
