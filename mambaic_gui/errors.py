"""Turn exceptions from the worker thread into messages a user can act on.

The worker catches everything its job raises (the app must never die because a file is bad), and
only this plain description crosses back to the GUI thread.
"""

from __future__ import annotations

import dataclasses
import traceback
from dataclasses import dataclass

from mambaic.errors import (
    DecodeMismatchError,
    DeviceError,
    ImageInputError,
    MicFormatError,
    WeightsError,
)
from mambaic.text import printable


@dataclass(frozen=True)
class UserError:
    """What went wrong, in words for a dialog: a short title, a sentence, and optional detail."""

    title: str
    message: str
    detail: str = ""


def _is_out_of_memory(exc: BaseException) -> bool:
    # torch reports allocator failures as RuntimeError (CUDA: torch.OutOfMemoryError, a subclass).
    return isinstance(exc, MemoryError) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower())


def describe(exc: BaseException) -> UserError:
    """A `UserError` for `exc`; unknown exceptions keep their traceback as detail for bug reports.

    The message often quotes a file (names, header fields): non-printable characters are escaped
    (:func:`mambaic.text.printable`) so a crafted file cannot garble the dialog or status bar.
    """
    error = _describe(exc)
    return dataclasses.replace(error, message=printable(error.message))


def _describe(exc: BaseException) -> UserError:
    if isinstance(exc, DecodeMismatchError):
        return UserError("The file did not decode correctly",
                         "The decoded symbols failed their checksums: the file is damaged or was "
                         "written by a different build of the model.", str(exc))
    if isinstance(exc, MicFormatError):
        return UserError("Not a readable .mic file", str(exc))
    if isinstance(exc, WeightsError):
        return UserError("Model weights problem", str(exc))
    if isinstance(exc, DeviceError):
        return UserError("Device not available", str(exc))
    if isinstance(exc, ImageInputError):
        return UserError("Cannot use this image", str(exc))
    if _is_out_of_memory(exc):
        return UserError("Out of memory",
                         "The image is too large for the available memory. Try a smaller image, "
                         "or the CPU device if the GPU ran out.", str(exc))
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        return UserError("Cannot read or write the file", f"{exc.strerror or exc}{where}")
    return UserError("Unexpected error", f"{type(exc).__name__}: {exc}",
                     "".join(traceback.format_exception(exc)))
