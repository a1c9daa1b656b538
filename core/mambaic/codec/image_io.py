"""Turn whatever the user hands us into 8-bit RGB (plus optional alpha), and back into a PIL image.

The model only understands RGB in [0, 1], but users have grayscale scans, palette GIFs, 16-bit
PNGs, CMYK JPEGs, transparent logos and phone photos that are stored sideways with an EXIF
orientation tag. This module makes one explicit, recorded decision per case (see ``notes``) so
that a decoded image comes back in the mode the user expects and nothing is changed silently:

* EXIF orientation is applied (the pixels are rotated; the tag itself is not kept).
* ``1``/``L``/``I;16``/``I``/``F`` become grayscale: coded as RGB, decoded back to ``L``.
  Integer samples are taken as 16-bit and rounded to 8 bits (v / 257); float samples in 0..1 are
  scaled to 0..255 (the usual float convention), floats already in 0..255 are taken as they are.
  Samples outside those ranges (negative, above 65535, NaN) are refused: clipping them would code
  a near-black or saturated picture without a word.
* ``P`` becomes RGB, or RGBA when the palette has transparency.
* ``CMYK`` is converted through its embedded ICC profile when it has one.
* Alpha (``RGBA``, ``LA``, ``PA``, premultiplied variants) is kept losslessly beside the lossy RGB
  (see :mod:`mambaic.codec.alpha`); the decoded image has the alpha channel bit for bit.
* Animated images: only the first frame is coded.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageCms, ImageOps

from mambaic.codec.limits import MAX_PIXELS, dimension_problem
from mambaic.codec.modes import OUTPUT_MODES
from mambaic.errors import ImageInputError

ImageSource = Union["LoadedImage", Image.Image, np.ndarray, str, os.PathLike, bytes, bytearray, memoryview]

_GRAY_MODES = {"1", "L", "I", "F"}
_ALPHA_MODES = {"RGBA", "RGBa", "LA", "La", "PA"}


@dataclass(frozen=True)
class ImageInfo:
    """What the source was and what we did to it, so callers can show it and decoders can undo it."""

    width: int
    height: int
    source_mode: str
    source_format: str | None
    mode: str
    """Output mode, one of :data:`OUTPUT_MODES`."""
    notes: tuple[str, ...]
    """Human-readable conversions applied, e.g. ``"16-bit samples rounded to 8 bits"``."""


@dataclass(frozen=True)
class LoadedImage:
    """An image ready for the model: ``rgb`` is (H, W, 3) uint8, ``alpha`` (H, W) uint8 or None."""

    rgb: np.ndarray
    alpha: np.ndarray | None
    info: ImageInfo


def load_image(source: ImageSource, max_pixels: int = MAX_PIXELS) -> LoadedImage:
    """Read ``source`` (PIL image, uint8 array, path or encoded file bytes) into RGB uint8 +
    alpha + notes. A `LoadedImage` is passed through (its size still checked), so a caller that
    needs the pixels itself reads the file once.

    Raises :class:`~mambaic.errors.ImageInputError` for anything we cannot or will not code. The
    size is checked from the file header before any pixel is decoded.
    """
    if isinstance(source, LoadedImage):  # already read (e.g. to be scored against its decode)
        problem = dimension_problem(source.info.width, source.info.height, max_pixels)
        if problem:
            raise ImageInputError(problem)
        return source
    opened = _open(source)
    try:
        return _load(opened, max_pixels)
    finally:
        if opened is not source:  # we opened it, so we close the file handle
            opened.close()


def _load(image: Image.Image, max_pixels: int) -> LoadedImage:
    problem = dimension_problem(image.width, image.height, max_pixels)
    if problem:
        raise ImageInputError(problem)
    notes: list[str] = []
    frames = getattr(image, "n_frames", 1)
    if frames > 1:
        notes.append(f"first of {frames} frames coded")
    source_mode, source_format = image.mode, image.format
    try:
        image.load()
        image = _apply_orientation(image, notes)
        rgb, alpha, mode = _to_rgb(image, notes)
    except (ImageInputError, MemoryError):
        raise
    except Exception as exc:  # Pillow raises many types (OSError, SyntaxError, struct.error…) on bad data
        raise ImageInputError(f"cannot decode image: {exc}") from exc
    info = ImageInfo(rgb.shape[1], rgb.shape[0], source_mode, source_format, mode, tuple(notes))
    return LoadedImage(rgb, alpha, info)


def to_pil(rgb: np.ndarray, mode: str, alpha: np.ndarray | None = None) -> Image.Image:
    """Rebuild the user's image from decoded RGB (H, W, 3) uint8 in output ``mode``."""
    if mode not in OUTPUT_MODES:
        raise ValueError(f"unknown output mode {mode!r}")
    color = Image.fromarray(np.ascontiguousarray(rgb), "RGB")
    if mode in ("L", "LA"):
        color = color.convert("L")
    if mode in ("RGBA", "LA"):
        if alpha is None:
            raise ValueError(f"mode {mode} needs an alpha plane")
        color.putalpha(Image.fromarray(np.ascontiguousarray(alpha), "L"))
    return color


def _from_array(a: np.ndarray) -> Image.Image:
    """(H, W), (H, W, 1), (H, W, 3) or (H, W, 4) uint8 → gray, RGB or RGBA image.

    Only uint8 is taken: a float array could be in [0, 1] or [0, 255], and guessing wrong would
    code a black or saturated picture without a word.
    """
    if a.dtype != np.uint8:
        raise ImageInputError(f"arrays must be uint8 (0-255), got {a.dtype}")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4))):
        raise ImageInputError(f"arrays must be (H, W), (H, W, 3) or (H, W, 4), got shape {a.shape}")
    if 0 in a.shape:
        raise ImageInputError(f"array has no pixels (shape {a.shape})")
    return Image.fromarray(np.ascontiguousarray(a))  # uint8 shape decides L, RGB or RGBA


def _open(source: ImageSource) -> Image.Image:
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, np.ndarray):
        return _from_array(source)
    stream: io.BytesIO | Path
    if isinstance(source, (bytes, bytearray, memoryview)):
        stream = io.BytesIO(bytes(source))
    elif isinstance(source, (str, os.PathLike)):
        stream = Path(source)
        if not stream.exists():
            raise ImageInputError("no such file")
        if stream.is_dir():
            raise ImageInputError("is a directory, not an image")
    else:
        raise TypeError(f"expected a PIL image, a uint8 array, a path or bytes, not {type(source).__name__}")
    try:
        with warnings.catch_warnings():
            # Our own pixel limit (checked next, below Pillow's) decides; silence Pillow's warning.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(stream)
    except Image.DecompressionBombError as exc:
        raise ImageInputError(f"image is too large: {exc}") from exc
    except Image.UnidentifiedImageError as exc:
        raise ImageInputError("not an image, or in a format we cannot read") from exc
    except OSError as exc:
        raise ImageInputError(exc.strerror or str(exc)) from exc


def _apply_orientation(image: Image.Image, notes: list[str]) -> Image.Image:
    try:
        orientation = image.getexif().get(0x0112, 1)
    except Exception:  # malformed EXIF must not stop an otherwise readable image
        notes.append("EXIF unreadable; orientation not applied")
        return image
    if orientation in (None, 1):
        return image
    oriented = ImageOps.exif_transpose(image)
    notes.append(f"EXIF orientation {orientation} applied")
    return oriented if oriented is not None else image


def _to_rgb(image: Image.Image, notes: list[str]) -> tuple[np.ndarray, np.ndarray | None, str]:
    mode = image.mode
    if mode == "P":
        has_alpha = "transparency" in image.info
        notes.append("palette expanded" + (" (transparency kept as alpha)" if has_alpha else ""))
        image = image.convert("RGBA" if has_alpha else "RGB")
    elif mode == "CMYK":
        image = _cmyk_to_rgb(image, notes)
    elif mode.startswith("I;16") or mode == "I":
        return _gray(_integer_samples(np.asarray(image), notes)), None, "L"
    elif mode == "F":
        return _gray(_float_samples(np.asarray(image), notes)), None, "L"

    mode = image.mode
    if mode in _ALPHA_MODES:
        gray = mode in ("LA", "La")
        image = image.convert("LA" if gray else "RGBA")
        bands = np.asarray(image)
        color = _gray(bands[..., 0]) if gray else np.ascontiguousarray(bands[..., :3])
        if not gray and _grey_pixels(color, notes):
            gray = True
        return color, np.ascontiguousarray(bands[..., -1]), "LA" if gray else "RGBA"
    if mode in _GRAY_MODES:
        return _gray(np.asarray(image.convert("L"))), None, "L"
    if mode != "RGB":
        notes.append(f"{mode} converted to RGB")
        try:
            image = image.convert("RGB")
        except ValueError as exc:
            raise ImageInputError(f"unsupported image mode {mode}: {exc}") from exc
    rgb = np.asarray(image)
    return rgb, None, "L" if _grey_pixels(rgb, notes) else "RGB"


def _grey_pixels(rgb: np.ndarray, notes: list[str]) -> bool:
    """Whether an RGB image holds only greys (R = G = B everywhere): then it is decoded as
    greyscale, which removes the codec's small colour errors at no cost in bits (the latents
    are the same) and gives the user the picture they had — a black-and-white photo saved as
    RGB stays black-and-white instead of picking up faint colour noise on fine texture."""
    grey = bool(np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]))
    if grey:
        notes.append("grey RGB pixels: decoded as greyscale")
    return grey


def _integer_samples(samples: np.ndarray, notes: list[str]) -> np.ndarray:
    """16-bit (or 32-bit ``I``) samples to 8 bits by the 16-bit range; other ranges are refused."""
    low, high = int(samples.min()), int(samples.max())
    if low < 0 or high > 65535:
        raise ImageInputError(f"integer samples span {low}..{high}; only 0..65535 (16-bit) "
                              "can be coded")
    notes.append("16-bit samples rounded to 8 bits")
    return np.round(samples.astype(np.float64) / 257.0).astype(np.uint8)


def _float_samples(samples: np.ndarray, notes: list[str]) -> np.ndarray:
    """Float samples scaled by their range: 0..1 to 0..255, 0..255 as is; anything else refused."""
    if not np.isfinite(samples).all():
        raise ImageInputError("float samples include NaN or infinity")
    low, high = float(samples.min()), float(samples.max())
    if low < 0 or high > 255:
        raise ImageInputError(f"float samples span {low:g}..{high:g}; only 0..1 or 0..255 "
                              "can be coded")
    if high <= 1:
        notes.append("float samples in 0..1 scaled to 0..255")
        samples = samples.astype(np.float64) * 255
    else:
        notes.append("float samples taken as 0..255")
    return np.round(samples).astype(np.uint8)


def _cmyk_to_rgb(image: Image.Image, notes: list[str]) -> Image.Image:
    """CMYK without its profile looks badly wrong, so use the embedded ICC profile when present."""
    icc = image.info.get("icc_profile")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"),
                                                  outputMode="RGB")
            notes.append("CMYK converted to sRGB through its ICC profile")
            return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            notes.append("CMYK ICC profile unusable; naive CMYK→RGB conversion")
    else:
        notes.append("CMYK converted to RGB (no ICC profile)")
    return image.convert("RGB")


def _gray(plane: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.repeat(plane[..., None], 3, axis=2))
