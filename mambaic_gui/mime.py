"""What to open from a drop or the clipboard: a local file, or raw image data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeData
from PySide6.QtGui import QImage

#: Encoded image types we hand to the library as they are (it decodes them itself).
_ENCODED_TYPES = ("image/png", "image/jpeg", "image/webp", "image/tiff", "image/bmp", "image/gif",
                  "image/avif", "application/x-mambaic-mic")


@dataclass(frozen=True)
class Openable:
    """Either a path to open, or bytes (an encoded image or .mic) with a display name."""

    path: Path | None = None
    data: bytes | None = None
    name: str = ""


def _png_bytes(image: QImage) -> bytes:
    """Encode pixel data losslessly so the library sees it exactly as the clipboard had it."""
    array = QByteArray()
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(array.data())


def openable_from_mime(mime: QMimeData) -> Openable | None:
    """The first thing in `mime` we can open, preferring real files (they keep their name)."""
    if mime.hasUrls():
        for url in mime.urls():
            if url.isLocalFile():
                return Openable(path=Path(url.toLocalFile()))
    for kind in _ENCODED_TYPES:
        if mime.hasFormat(kind):
            data = bytes(mime.data(kind).data())
            if data:
                return Openable(data=data, name=f"pasted {kind.split('/')[-1]}")
    if mime.hasImage():
        image = mime.imageData()
        if isinstance(image, QImage) and not image.isNull():
            return Openable(data=_png_bytes(image), name="pasted image")
    return None
