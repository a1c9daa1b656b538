"""Classic codecs as small adapters: RGB array + quality parameter -> bytes -> RGB array.

Each adapter carries the quality sweep it needs so that, on photos of Kodak size, its mean bit rate
spans roughly 0.1 to 1.5 bpp (the range learned codecs are compared over). Sweeps were chosen by
measuring mean bpp on the eight evaluation photos; the lowest settings of JPEG 4:4:4 and JPEG XL
still land near 0.17 bpp, which is as low as those encoders go.

Settings are the libraries' defaults except the quality knob, chroma subsampling where it matters
for RGB PSNR, and Huffman optimisation for JPEG (what any size-aware JPEG user turns on).
Availability is decided at run time: a codec Pillow (or the JPEG XL plugin) cannot write is
reported as missing, never silently dropped.
"""

from __future__ import annotations

import io
from importlib import metadata

import numpy as np
from PIL import Image, features

from mambaic.eval import hevc
from mambaic.eval.sweep import Encoder, SweptCodec


def _decode_with_pillow(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def _pillow_encoder(fmt: str, **options: object) -> Encoder:
    """An encoder saving through Pillow with fixed options; the quality is passed as an int."""

    def encode(rgb: np.ndarray, quality: float) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(rgb, "RGB").save(buf, format=fmt, quality=int(quality), **options)
        return buf.getvalue()

    return encode


def _jxl_available() -> bool:
    try:
        import pillow_jxl  # noqa: F401  (registers the JXL format with Pillow on import)
    except ImportError:
        return False
    return True


def _jxl_version() -> str:
    try:
        return metadata.version("pillow-jxl-plugin")
    except metadata.PackageNotFoundError:
        return "unknown version"


def _library_version(feature: str) -> str:
    return features.version(feature) or "unknown version"


def all_codecs() -> tuple[dict[str, SweptCodec], dict[str, str]]:
    """Every classic codec this machine can run, and the reason for each one it cannot."""
    available: dict[str, SweptCodec] = {}
    missing: dict[str, str] = {}
    jpeg_version = f"libjpeg-turbo {_library_version('libjpeg_turbo')}"
    available["jpeg420"] = SweptCodec(
        "jpeg420",
        "JPEG 4:2:0",
        f"Pillow/{jpeg_version}, 4:2:0, optimize=True",
        (3, 5, 10, 15, 20, 30, 40, 50, 60, 70, 80),
        _pillow_encoder("JPEG", subsampling=2, optimize=True),
        _decode_with_pillow,
    )
    available["jpeg444"] = SweptCodec(
        "jpeg444",
        "JPEG 4:4:4",
        f"Pillow/{jpeg_version}, 4:4:4, optimize=True",
        (3, 5, 8, 10, 15, 20, 30, 40, 50, 60, 70),
        _pillow_encoder("JPEG", subsampling=0, optimize=True),
        _decode_with_pillow,
    )
    if features.check("webp"):
        available["webp"] = SweptCodec(
            "webp",
            "WebP",
            f"Pillow/libwebp {_library_version('webp')}, lossy, method 4 (default)",
            (0, 5, 10, 20, 30, 40, 50, 60, 70, 80, 85),
            _pillow_encoder("WEBP"),
            _decode_with_pillow,
        )
    else:
        missing["webp"] = "Pillow was built without WebP"
    if features.check("avif"):
        available["avif"] = SweptCodec(
            "avif",
            "AVIF 4:4:4",
            f"Pillow/libavif {_library_version('avif')}, 4:4:4, speed 6 (default)",
            (5, 10, 20, 30, 40, 50, 60, 70, 80),
            _pillow_encoder("AVIF", subsampling="4:4:4"),
            _decode_with_pillow,
        )
    else:
        missing["avif"] = "Pillow was built without AVIF"
    if _jxl_available():
        available["jxl"] = SweptCodec(
            "jxl",
            "JPEG XL",
            f"pillow-jxl-plugin {_jxl_version()} (libjxl), effort 7 (default)",
            (0, 10, 20, 30, 40, 50, 60, 70, 80, 85),
            _pillow_encoder("JXL"),
            _decode_with_pillow,
        )
    else:
        missing["jxl"] = "pillow-jxl-plugin is not installed (pip install pillow-jxl-plugin)"
    ffmpeg_problem = hevc.unavailable_reason()
    if ffmpeg_problem is None:
        available["hevc444"] = SweptCodec(
            "hevc444",
            "HEVC intra 4:4:4 (x265)",
            f"ffmpeg {hevc.ffmpeg_version()}/libx265, {hevc.SETTINGS}",
            hevc.QP_SWEEP,
            hevc.encode,
            hevc.decode,
        )
    else:
        missing["hevc444"] = ffmpeg_problem
    return available, missing


def select(names: list[str] | None) -> tuple[list[SweptCodec], dict[str, str]]:
    """The codecs named (all available ones when ``names`` is None) and why any are missing."""
    available, missing = all_codecs()
    if names is None:
        return list(available.values()), missing
    unknown = [n for n in names if n not in available and n not in missing]
    if unknown:
        known = ", ".join(sorted([*available, *missing]))
        raise ValueError(f"unknown codec(s) {', '.join(unknown)}; known: {known}")
    chosen = [available[n] for n in names if n in available]
    return chosen, {n: missing[n] for n in names if n in missing}
