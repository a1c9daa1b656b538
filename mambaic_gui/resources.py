"""The app's icons and desktop files, found where `mambaic.resources` finds every shipped file:
inside the wheel, or in the source tree for editable installs and the repository.
"""

from __future__ import annotations

from PySide6.QtGui import QIcon

from mambaic.resources import resource_dir

ICONS = resource_dir("icons")
PACKAGING = resource_dir("packaging")
ICON_NAME = "mambaic"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def app_icon() -> QIcon:
    """The app icon in every rendered size (Qt picks the best one per use)."""
    icon = QIcon()
    for size in ICON_SIZES:
        png = ICONS / f"{ICON_NAME}-{size}.png"
        if png.is_file():
            icon.addFile(str(png))
    svg = ICONS / f"{ICON_NAME}.svg"
    if icon.isNull() and svg.is_file():
        icon.addFile(str(svg))
    return icon
