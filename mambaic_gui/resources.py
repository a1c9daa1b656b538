"""Where the app's files live: `resources/icons` and `packaging/` next to this package.

Like the shipped weights (`mambaic.weights.shipped_weights_dir`), they are found relative to the
source tree, which is where editable installs and the repository keep them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon

ROOT = Path(__file__).resolve().parents[1]
ICONS = ROOT / "resources" / "icons"
PACKAGING = ROOT / "packaging"
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
