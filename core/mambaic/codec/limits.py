"""The documented size limits, in one place, shared by the image reader, the container and the codec.

Both sides enforce the same numbers: an encoder refuses images above them, and a decoder refuses
headers that claim more, *before* allocating anything, so a hostile ``.mic`` file cannot make us
reserve gigabytes from a few bytes of input.
"""

from __future__ import annotations

MAX_SIDE = 65_535
"""Largest width or height, in pixels, of an input image and of a decoded one."""

MAX_PIXELS = 1 << 26
"""Largest width × height (64 Mpx ≈ 8192 × 8192). Larger images are refused with a clear error."""

LARGE_IMAGE_PIXELS = 1 << 24
"""Above this many pixels (16 Mpx = 4096 × 4096) decoding takes minutes on a CPU: the CLI warns
and the app asks before decoding, like Pillow's decompression-bomb warning; the error is at
``max_pixels`` (``mambaic decode --max-pixels``, ``CodecConfig.max_pixels``)."""

MAX_TILE_SIZE = 2048
"""Largest tile side the encoder writes and the decoder accepts. Decode memory is bounded per
tile (about 3 GB for the ``lite`` model at 2048²), so a file may not declare bigger tiles: a
tiny file claiming one 3072² tile would otherwise need 5.7 GB."""

MAX_METADATA_BYTES = 64 * 1024
"""Largest UTF-8 JSON metadata block a ``.mic`` file may carry."""

MAX_FILE_BYTES = 1 << 30
"""Largest ``.mic`` file the reader accepts (1 GiB; a 64 Mpx image at 8 bpp is 64 MiB)."""

MAX_HEADER_BYTES = 16 << 20
"""Largest ``.mic`` header (stream table included). The largest valid one, 64 slices in 64-px
tiles of a 64 Mpx image, is 13.4 MB; the app reads this much to look at a header before decoding."""

MAX_SLICES = 64
"""Most channel slices a model may split its latent into."""

MAX_NAME_BYTES = 64
"""Longest model name, in UTF-8 bytes, stored in a ``.mic`` header."""


def dimension_problem(width: int, height: int, max_pixels: int = MAX_PIXELS) -> str | None:
    """Why ``width`` × ``height`` is refused, or None; the reader and the decoder both ask this."""
    if width < 1 or height < 1:
        return f"image has no pixels ({width}x{height})"
    if width > MAX_SIDE or height > MAX_SIDE:
        return f"image is {width}x{height}; the largest side allowed is {MAX_SIDE} px"
    if width * height > max_pixels:
        return (f"image is {width}x{height} = {width * height / 1e6:.1f} Mpx; "
                f"the limit is {max_pixels / 1e6:.1f} Mpx")
    return None
