"""HEVC intra 4:4:4 through ffmpeg + libx265: the codec inside BPG, run as an external program.

BPG is HEVC main-4:4:4 intra coding of YCbCr with a tiny header, and its bitrates are what codec
papers plot as "BPG". We reproduce that configuration without the bpgenc binary (not packaged):
RGB is converted to full-range BT.601 YCbCr 4:4:4 here (the JPEG/BPG matrix), coded as one intra
frame by x265 at a fixed QP, and the raw Annex-B stream is the file whose bytes give the bpp. x265's
informational SEI (a ~2 KB text of encoder options that BPG does not carry) is switched off, or it
would dominate the rate of small images. Decoding asks ffmpeg for YUV4MPEG, whose text header
carries the frame size, so the bytes alone are enough to decode. Running a separate process per
image makes encode/decode times include process start-up (tens of ms); the report says so.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

# Lower QP is higher rate. On the evaluation photos QP 23 gives ~1.8 bpp and QP 50 ~0.1 bpp.
QP_SWEEP: tuple[float, ...] = (50, 47, 44, 41, 38, 35, 32, 29, 26, 23)
SETTINGS = "yuv444p 8-bit full-range BT.601, one intra frame, preset medium, fixed QP, no info SEI"

_RGB_TO_YCBCR = np.array(
    [
        [0.299, 0.587, 0.114],
        [-0.168736, -0.331264, 0.5],
        [0.5, -0.418688, -0.081312],
    ]
)
_YCBCR_TO_RGB = np.linalg.inv(_RGB_TO_YCBCR)


def ffmpeg_path() -> str | None:
    """The ffmpeg binary on PATH, or None."""
    return shutil.which("ffmpeg")


def unavailable_reason() -> str | None:
    """Why HEVC cannot run here (no ffmpeg, or an ffmpeg without libx265), or None if it can."""
    exe = ffmpeg_path()
    if exe is None:
        return "no ffmpeg binary on PATH (apt-get install ffmpeg)"
    listing = subprocess.run(
        [exe, "-hide_banner", "-encoders"], capture_output=True, text=True, check=False
    ).stdout
    if "libx265" not in listing:
        return "ffmpeg was built without libx265"
    return None


def ffmpeg_version() -> str:
    """The ffmpeg version string (e.g. "5.1.9-0+deb12u1"), for reports."""
    exe = ffmpeg_path()
    if exe is None:
        return "absent"
    first = subprocess.run([exe, "-version"], capture_output=True, text=True, check=False).stdout
    words = first.split()
    return words[2] if len(words) > 2 else "unknown version"


def _rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    ycc = rgb.astype(np.float64) @ _RGB_TO_YCBCR.T
    ycc[..., 1:] += 128.0
    return np.clip(np.rint(ycc), 0, 255).astype(np.uint8)


def _ycbcr_to_rgb(ycc: np.ndarray) -> np.ndarray:
    centred = ycc.astype(np.float64)
    centred[..., 1:] -= 128.0
    return np.clip(np.rint(centred @ _YCBCR_TO_RGB.T), 0, 255).astype(np.uint8)


def _run(args: list[str], data: bytes) -> bytes:
    exe = ffmpeg_path()
    if exe is None:
        raise RuntimeError(unavailable_reason())
    done = subprocess.run(
        [exe, "-hide_banner", "-loglevel", "error", *args], input=data, capture_output=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def encode(rgb: np.ndarray, qp: float) -> bytes:
    """One intra frame of HEVC 4:4:4 at the given QP, as a raw Annex-B byte stream."""
    height, width, _ = rgb.shape
    planar = np.ascontiguousarray(_rgb_to_ycbcr(rgb).transpose(2, 0, 1))
    x265 = f"qp={int(qp)}:keyint=1:info=0:log-level=error"
    with tempfile.TemporaryDirectory(prefix="mambaic-hevc-") as tmp:
        out = Path(tmp) / "frame.hevc"
        # The stream goes to a file, not a pipe: the muxer seeks back to finish some headers.
        _run(
            [
                "-f", "rawvideo", "-pix_fmt", "yuv444p", "-s", f"{width}x{height}", "-i", "-",
                "-frames:v", "1", "-c:v", "libx265", "-preset", "medium",
                "-color_range", "pc", "-x265-params", x265, "-f", "hevc", str(out),
            ],
            planar.tobytes(),
        )  # fmt: skip
        return out.read_bytes()


def _parse_y4m(stream: bytes) -> np.ndarray:
    """The first frame of a 4:4:4 YUV4MPEG stream as an (H, W, 3) YCbCr array."""
    header_end = stream.index(b"\n")
    fields = stream[:header_end].split(b" ")
    width = next(int(f[1:]) for f in fields if f.startswith(b"W"))
    height = next(int(f[1:]) for f in fields if f.startswith(b"H"))
    frame_start = stream.index(b"\n", header_end + 1) + 1  # skip the "FRAME" line
    planes = np.frombuffer(stream, np.uint8, count=3 * width * height, offset=frame_start)
    return planes.reshape(3, height, width).transpose(1, 2, 0)


def decode(data: bytes) -> np.ndarray:
    """Decode a stream from :func:`encode` back to RGB uint8."""
    to_y4m = ["-f", "yuv4mpegpipe", "-pix_fmt", "yuv444p", "-strict", "-1", "-"]
    stream = _run(["-f", "hevc", "-i", "-", *to_y4m], data)
    return _ycbcr_to_rgb(_parse_y4m(stream))
