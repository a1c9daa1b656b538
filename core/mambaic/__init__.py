"""MambaIC: a learned image codec built on state-space (Mamba) models.

    >>> import mambaic
    >>> codec = mambaic.load_codec()                 # shipped weights, CPU
    >>> data = codec.compress("photo.png", quality=3)
    >>> image = codec.decompress(data)               # PIL.Image.Image
    >>> mambaic.read_info(data).bpp

Importing this package is cheap: torch and the model load only when ``load_codec`` or ``Codec``
is first touched, so tools that only read ``.mic`` headers stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mambaic import _runtime

_runtime.set_openmp_wait_policy()  # before anything imports torch; see mambaic._runtime

from mambaic.codec.info import MicInfo, read_info  # noqa: E402
from mambaic.errors import (  # noqa: E402
    Cancelled,
    DecodeMismatchError,
    ImageInputError,
    MambaICError,
    MicFormatError,
    WeightsError,
)

if TYPE_CHECKING:
    from mambaic.codec.codec import Codec, load_codec

__version__ = "0.1.0"

__all__ = [
    "Cancelled", "Codec", "DecodeMismatchError", "ImageInputError", "MambaICError", "MicFormatError",
    "MicInfo", "WeightsError", "__version__", "load_codec", "read_info",
]

_LAZY = {"Codec", "load_codec"}


def __getattr__(name: str):
    if name in _LAZY:
        from mambaic.codec import codec
        return getattr(codec, name)
    raise AttributeError(f"module 'mambaic' has no attribute {name!r}")
