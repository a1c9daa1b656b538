"""Look at a `.mic` header before decoding it: a few kilobytes can declare a 64-megapixel image.

Decoding costs time and memory per declared pixel (minutes and gigabytes on a CPU at the top of
the range), whatever the file size, so the app asks before decoding an image above
`LARGE_IMAGE_PIXELS`, and refuses one the reader refuses — above `MAX_PIXELS`, the app codec's
`max_pixels` — at once, with the reader's one-line reason and without starting a job.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from mambaic.codec.limits import LARGE_IMAGE_PIXELS, MAX_HEADER_BYTES
from mambaic.codec.mic_format import MAGIC, read_header
from mambaic.errors import MicFormatError
from mambaic.text import printable
from mambaic_gui.errors import UserError, describe


def file_prefix(path: Path) -> bytes:
    """As much of ``path`` as a header can need (nothing for files that are no `.mic` file).

    Runs on the GUI thread, so only regular files are read: opening a FIFO would block until
    someone writes to it. Anything else goes to the open job, which reports it."""
    try:
        if not path.is_file():
            return b""
        with path.open("rb") as handle:
            start = handle.read(len(MAGIC))
            return start + handle.read(MAX_HEADER_BYTES - len(MAGIC)) if start == MAGIC else start
    except OSError:
        return b""


def confirm_decode(parent: QWidget, name: str, prefix: bytes,
                   refuse: Callable[[UserError], None]) -> bool:
    """True if the file may be decoded: not a `.mic` file (opened as an image), small, or large
    and the user said yes. A header the reader refuses — above the size limit, or damaged — is
    reported through ``refuse`` (the window's error box) at once, without starting a job."""
    if not prefix.startswith(MAGIC):
        return True
    try:
        header = read_header(prefix)
    except MicFormatError as exc:
        refuse(describe(exc))
        return False
    pixels = header.width * header.height
    if pixels <= LARGE_IMAGE_PIXELS:
        return True
    answer = QMessageBox.question(
        parent, "Decode a large image?",
        f"<p>{html.escape(printable(name))} holds a {header.width} × {header.height} image "
        f"({pixels / 1e6:.0f} megapixels).</p><p>Decoding it can take minutes and several GB "
        "of memory. Decode it anyway?</p>",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes
