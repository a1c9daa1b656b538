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

import os
from typing import TYPE_CHECKING

# torch's OpenMP threads spin while they wait. When another process (or our own GUI thread, or
# numba's pool) holds a core, a spinning team stalls: measured on 2 cores with one busy, a lite
# training step took 23.5 s with the default policy and 1.4 s with PASSIVE (mbt2018_mean 3.9 s
# vs 0.76 s). It must be set before torch loads, which this package never does at import time.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from mambaic.codec.info import MicInfo, read_info
from mambaic.errors import (
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
