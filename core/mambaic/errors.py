"""The exceptions users of the library can catch, one per kind of failure they can act on."""

from __future__ import annotations


class MambaICError(Exception):
    """Base class of every error this library raises on purpose."""


class MicFormatError(MambaICError, ValueError):
    """A `.mic` file is malformed, truncated, of an unknown version or made by another model."""


class DecodeMismatchError(MicFormatError):
    """The decoder's entropy parameters drifted from the encoder's (symbols fail their checksum)."""


class DecodeLimitError(MicFormatError):
    """A valid `.mic` file declares a bigger image than this decoder was asked to decode
    (``CodecConfig.max_pixels``, ``mambaic decode --max-pixels``): refused before any work."""


class ImageInputError(MambaICError, ValueError):
    """An input is not a readable image, or is one we refuse (too large, unsupported mode)."""


class WeightsError(MambaICError, ValueError):
    """Weights are missing, not safetensors, or do not match the model they claim to be."""


class Cancelled(MambaICError):
    """A long operation was cancelled by its caller between stages."""


class DeviceError(MambaICError, RuntimeError):
    """The requested compute device (e.g. ``cuda``) is not available on this machine."""
