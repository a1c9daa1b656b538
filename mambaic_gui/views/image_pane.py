"""One image in a pyqtgraph ViewBox, shown the way a photographer expects.

y points down, the aspect ratio is locked, levels are fixed to 0…255 (pyqtgraph would otherwise
stretch each image's contrast), zoomed-in pixels are drawn as hard-edged squares (no smoothing),
and zoomed-out images come from a box-filtered pyramid level (built off the GUI thread, see
`mambaic_gui.pixels`), so fine texture does not alias and large photos do not stall the GUI.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from mambaic_gui.pixels import Pyramid

#: Neutral grey around the image: it does not bias how colours and contrast are judged.
BACKGROUND = "#3a3a3a"
RGB_LEVELS = (0.0, 255.0)


class PyramidItem(pg.ImageItem):
    """An ImageItem drawing the pyramid level that suits the zoom, placed in full-size pixels."""

    def __init__(self) -> None:
        super().__init__(axisOrder="row-major")
        self.pyramid: Pyramid | None = None
        self._value_levels = RGB_LEVELS
        self._shown = -1

    def set_pyramid(self, pyramid: Pyramid | None, zoom: float,
                    value_levels: tuple[float, float] = RGB_LEVELS) -> None:
        self.pyramid, self._value_levels, self._shown = pyramid, value_levels, -1
        if pyramid is None:
            self.clear()
        else:
            self.show_level_for(zoom)

    def show_level_for(self, zoom: float) -> None:
        if self.pyramid is None:
            return
        level = self.pyramid.level_for(zoom)
        if level != self._shown:
            self._shown = level
            self.setImage(self.pyramid.levels[level], levels=self._value_levels, autoLevels=False)
            self.setRect(QRectF(0, 0, self.pyramid.width, self.pyramid.height))


class ImagePane(QWidget):
    """A titled pyqtgraph view holding one `PyramidItem`; its `view` can be linked to others."""

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
        self.image = PyramidItem()
        self.view.addItem(self.image)
        self._items = [self.image]
        self.view.sigRangeChanged.connect(self._pick_levels)
        self.view.sigResized.connect(self._pick_levels)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.canvas, 1)

    def track(self, item: PyramidItem) -> None:
        """Let another item in this view (the split overlay) follow the zoom too."""
        self._items.append(item)

    def _pick_levels(self, *_args) -> None:
        zoom = self.zoom_factor()
        for item in self._items:
            item.show_level_for(zoom)

    def set_pyramid(self, pyramid: Pyramid | None,
                    value_levels: tuple[float, float] = RGB_LEVELS) -> None:
        """Show an image (RGB uint8, or a 2-D map drawn through the item's colour map)."""
        self.image.set_pyramid(pyramid, self.zoom_factor(), value_levels)

    def has_image(self) -> bool:
        return self.image.pyramid is not None

    def image_rect(self) -> QRectF:
        pyramid = self.image.pyramid
        return QRectF(0, 0, pyramid.width, pyramid.height) if pyramid else QRectF()

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
