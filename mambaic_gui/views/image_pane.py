"""One image in a pyqtgraph ViewBox, shown the way a photographer expects.

y points down, the aspect ratio is locked, levels are fixed to 0…255 (pyqtgraph would otherwise
stretch each image's contrast), zoomed-in pixels are drawn as hard-edged squares (no smoothing),
and zoomed-out images are box-averaged instead of skipping pixels, so fine texture does not alias.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

#: Neutral grey around the image: it does not bias how colours and contrast are judged.
BACKGROUND = "#3a3a3a"


class ImagePane(QWidget):
    """A titled pyqtgraph view holding one `ImageItem`; its `view` can be linked to others."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(title)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setObjectName("paneTitle")
        # Long captions are elided by the pane's width; they must never widen the window.
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground(BACKGROUND)
        self.canvas.ci.setContentsMargins(0, 0, 0, 0)
        self.view: pg.ViewBox = self.canvas.addViewBox(lockAspect=True, invertY=True,
                                                       enableMenu=False, defaultPadding=0.0)
        self.image = pg.ImageItem(axisOrder="row-major", autoDownsample=True)
        self.view.addItem(self.image)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.canvas, 1)

    def set_rgb(self, rgb: np.ndarray | None) -> None:
        """Show an (H, W, 3) uint8 image exactly (no level stretching), or nothing."""
        if rgb is None:
            self.image.clear()
            return
        self.image.setLookupTable(None)
        self.image.setImage(rgb, levels=(0, 255), autoLevels=False)

    def set_scalar(self, values: np.ndarray, levels: tuple[float, float],
                   colormap: pg.ColorMap) -> None:
        """Show a 2-D float map through `colormap` over `levels` (used by the error heatmap)."""
        self.image.setImage(values, levels=levels, autoLevels=False)
        self.image.setColorMap(colormap)

    def has_image(self) -> bool:
        return self.image.image is not None

    def image_rect(self) -> QRectF:
        return self.image.boundingRect()

    def fit(self) -> None:
        """Show the whole image as large as the pane allows."""
        if self.has_image():
            self.view.setRange(rect=self.image_rect(), padding=0.0)

    def zoom_to(self, device_pixels_per_image_pixel: float) -> None:
        """Zoom about the view centre so one image pixel covers this many physical screen pixels.

        100 % means one image pixel per *physical* pixel, as in photo editors, hence the
        device-pixel ratio on high-DPI screens.
        """
        if not self.has_image():
            return
        width, height = self.view.width(), self.view.height()
        if width <= 0 or height <= 0:
            return
        ratio = self.devicePixelRatioF() / device_pixels_per_image_pixel
        center = self.view.viewRect().center()
        self.view.setRange(QRectF(center.x() - width * ratio / 2, center.y() - height * ratio / 2,
                                  width * ratio, height * ratio), padding=0.0)

    def zoom_by(self, factor: float) -> None:
        """Zoom in (factor > 1) or out about the view centre."""
        self.view.scaleBy(s=(1.0 / factor, 1.0 / factor))

    def zoom_factor(self) -> float:
        """Physical screen pixels per image pixel at the current zoom (1.0 is 100 %)."""
        pixel_width = self.view.viewPixelSize()[0]
        return self.devicePixelRatioF() / pixel_width if pixel_width > 0 else 0.0
