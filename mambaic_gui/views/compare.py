"""Original vs decoded: side by side, split by a draggable line, or as an error heatmap.

All panes' ViewBoxes are linked to the original's, so zoom and pan stay in sync. The two panes
always have equal sizes (the heatmap's colour bar lives in its own narrow canvas) because
pyqtgraph's linking copies the range between non-overlapping views, which keeps the scale only when
sizes match. "Side by side" puts the panes left/right or top/bottom as the user chose, or, in the
automatic orientation, whichever shows the image larger; the image stays fitted to the window until
the user zooms or pans. Under the cursor, `readout_changed` reports the zoom and both images'
pixel values (see `views.readout`); once the cursor leaves the panes only the zoom is left, so
no stale values stay on screen.
"""

from __future__ import annotations

import math
from enum import Enum

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QPen
from PySide6.QtWidgets import (
    QBoxLayout,
    QGraphicsItem,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStackedLayout,
    QWidget,
)

from mambaic_gui.pixels import ErrorHeatmap, Pyramid
from mambaic_gui.views.heatmap import colormap
from mambaic_gui.views.image_pane import BACKGROUND, ImagePane, PyramidItem
from mambaic_gui.views.readout import readout, zoom_text


class ViewMode(str, Enum):
    SIDE_BY_SIDE = "side-by-side"
    SPLIT = "split"
    HEATMAP = "heatmap"


class Orientation(str, Enum):
    """How "side by side" places its two panes; AUTO picks the one that shows the image larger."""

    AUTO = "auto"
    LEFT_RIGHT = "left-right"
    TOP_BOTTOM = "top-bottom"


PLACEHOLDER = ("Drop a photo or a .mic file here\n\n"
               "or use File ▸ Open (Ctrl+O), or paste an image (Ctrl+V)")


class CompareView(QWidget):
    """The central widget: shows whatever of original / decoded / error map is available."""

    mode_changed = Signal(str)
    #: Zoom and the pixel values under the cursor, as one line for the status bar.
    readout_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.original = ImagePane("Original")
        self.decoded = ImagePane("Decoded")
        self.heatmap = ImagePane("Error |original − decoded|")
        self._fitted = True
        self._orientation = Orientation.AUTO
        self._cursor: tuple[int, int] | None = None
        self._refit = QTimer(self)  # coalesces the resizes of one layout pass into one fit
        self._refit.setSingleShot(True)
        self._refit.setInterval(0)
        self._refit.timeout.connect(self._fit_if_fitted)
        for pane in (self.original, self.decoded, self.heatmap):
            pane.canvas.setAcceptDrops(False)  # let drops reach the main window
            pane.view.sigRangeChangedManually.connect(self._on_manual_zoom)
            pane.view.sigResized.connect(self._refit.start)
            pane.canvas.scene().sigMouseMoved.connect(
                lambda pos, pane=pane: self._on_mouse_moved(pane, pos))
            pane.canvas.installEventFilter(self)  # its Leave ends the readout (`eventFilter`)
        self.original.view.sigRangeChanged.connect(self._emit_readout)
        self.decoded.view.sigRangeChanged.connect(self._emit_readout)

        self.colorbar = pg.ColorBarItem(colorMap=colormap(), interactive=False, colorMapMenu=False,
                                        width=18, label="mean |original − decoded|, 0–255")
        self.colorbar.setImageItem(self.heatmap.image)
        self.heatmap.image.setColorMap(colormap())
        self._colorbar_canvas = pg.GraphicsLayoutWidget()
        self._colorbar_canvas.setBackground(BACKGROUND)
        self._colorbar_canvas.addItem(self.colorbar)
        self._colorbar_canvas.setFixedWidth(90)
        self._colorbar_canvas.setAcceptDrops(False)

        self._build_split_overlay()

        self._placeholder = QLabel(PLACEHOLDER)
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setObjectName("placeholder")
        self._placeholder.setStyleSheet(f"background: {BACKGROUND}; color: #c8c8c8; "
                                        "font-size: 15pt;")
        self._placeholder.setWordWrap(True)
        self._placeholder.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        panes = QWidget()
        row = QHBoxLayout(panes)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        self._pair = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self._pair.setSpacing(4)
        for pane in (self.original, self.decoded, self.heatmap):
            self._pair.addWidget(pane, 1)
        row.addLayout(self._pair, 1)
        row.addWidget(self._colorbar_canvas)
        self._stack = QStackedLayout(self)
        self._stack.addWidget(self._placeholder)
        self._stack.addWidget(panes)

        self._mode = ViewMode.SIDE_BY_SIDE
        self._original: Pyramid | None = None
        self._decoded: Pyramid | None = None
        self._errors: ErrorHeatmap | None = None
        #: Shown in the left pane instead of the original (e.g. JPEG at the same size), with its
        #: pane title and the short name the split line and the readout use.
        self._reference: Pyramid | None = None
        self._reference_title = ""
        self._reference_name = ""
        self._apply_mode()

    def _build_split_overlay(self) -> None:
        """The decoded image drawn over the original, clipped to the right of a draggable line."""
        self._clip = QGraphicsRectItem()
        self._clip.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)
        self._clip.setPen(QPen(Qt.PenStyle.NoPen))
        self.split_image = PyramidItem()
        self.split_image.setParentItem(self._clip)
        self.original.track(self.split_image)
        self.original.view.addItem(self._clip, ignoreBounds=True)
        self.split_line = pg.InfiniteLine(
            angle=90, movable=True, pen=pg.mkPen("#f0f0f0", width=2),
            hoverPen=pg.mkPen("#ffd24d", width=3),
            label="◀ original | decoded ▶", labelOpts={"position": 0.04, "color": "#f0f0f0",
                                                         "fill": "#000000a0"})
        self.original.view.addItem(self.split_line, ignoreBounds=True)
        self.split_line.sigPositionChanged.connect(self._update_clip)

    # ---- content ----------------------------------------------------------------------------
    def set_original(self, image: Pyramid | None) -> None:
        """Show a newly opened image (or none, for a .mic opened alone) and fit it to the window."""
        self._original, self._decoded, self._errors = image, None, None
        self._reference, self._reference_title, self._reference_name = None, "", ""
        self._cursor = None
        self.original.set_pyramid(image)
        self.decoded.set_pyramid(None)
        self.heatmap.set_pyramid(None)
        self.split_image.set_pyramid(None, 1.0)
        if image is not None:
            self.split_line.setBounds((0, image.width))
            self.split_line.setValue(image.width / 2)
        self._fitted = True
        self._apply_mode()

    def set_decoded(self, image: Pyramid | None, errors: ErrorHeatmap | None = None) -> None:
        """Show a reconstruction of the current original (keeps the current zoom and pan)."""
        if self._decoded is None and self._original is None:
            self._fitted = True  # a .mic opened alone: its first picture is fitted
        self._decoded, self._errors = image, errors
        self.decoded.set_pyramid(image)
        self.split_image.set_pyramid(image, self.original.zoom_factor())
        if errors is None:
            self.heatmap.set_pyramid(None)
        else:
            self.heatmap.set_pyramid(errors.pyramid, errors.levels)
            self.colorbar.setLevels(errors.levels)
        self._update_clip()
        self._apply_mode()

    def set_decoded_caption(self, text: str) -> None:
        self.decoded.title.setText(text)

    # ---- the other side: the original, or another codec's decode of it ----------------------
    def set_reference(self, image: Pyramid | None, title: str = "", name: str = "") -> None:
        """Show `image` (another reconstruction of the same original, e.g. JPEG at the same
        size) where the original was, titled `title`; `name` is its short name for the split
        line and the pixel readout. None brings the original back. Zoom and pan are kept."""
        if image is not None and self._original is not None and \
                (image.width, image.height) != (self._original.width, self._original.height):
            raise ValueError("the reference image must have the original's size")
        self._reference = image
        self._reference_title = title if image is not None else ""
        self._reference_name = (name or "reference") if image is not None else ""
        self.original.set_pyramid(image if image is not None else self._original)
        self._apply_mode()
        self._emit_readout()

    def set_reference_title(self, title: str) -> None:
        """Retitle the reference pane (e.g. "updating…") without changing its picture."""
        if self._reference is not None:
            self._reference_title = title
            self._apply_mode()

    @property
    def reference(self) -> Pyramid | None:
        return self._reference

    def left_title(self) -> str:
        return self.original.title.text()

    # ---- modes ------------------------------------------------------------------------------
    @property
    def mode(self) -> ViewMode:
        return self._mode

    def comparison_available(self) -> bool:
        """Split and heatmap need both images."""
        return self._original is not None and self._decoded is not None and self._errors is not None

    def set_mode(self, mode: ViewMode | str) -> None:
        mode = ViewMode(mode)
        if mode != self._mode:
            self._mode = mode
            self._apply_mode()
            self.mode_changed.emit(mode.value)

    def cycle_mode(self) -> None:
        modes = list(ViewMode)
        self.set_mode(modes[(modes.index(self._mode) + 1) % len(modes)])

    def _apply_mode(self) -> None:
        has_original = self._original is not None
        has_decoded = self._decoded is not None
        self._stack.setCurrentIndex(1 if (has_original or has_decoded) else 0)
        mode = self._mode if self.comparison_available() else ViewMode.SIDE_BY_SIDE
        self.original.setVisible(has_original)
        self.decoded.setVisible(mode == ViewMode.SIDE_BY_SIDE and (has_decoded or has_original))
        self.heatmap.setVisible(mode == ViewMode.HEATMAP)
        self._colorbar_canvas.setVisible(mode == ViewMode.HEATMAP)
        split = mode == ViewMode.SPLIT
        self._clip.setVisible(split)
        self.split_line.setVisible(split)
        left = self._reference_name or "Original"
        if self._reference is not None:
            self.original.title.setText(self._reference_title + ("  ◀ drag the line ▶  mambaic"
                                                                 if split else ""))
        else:
            self.original.title.setText("Original  ◀ drag the line ▶  Decoded" if split
                                        else "Original")
        if self._reference is not None:
            self.split_line.label.setFormat(f"◀ {left} | mambaic ▶")
        else:
            self.split_line.label.setFormat("◀ original | decoded ▶")
        self._relink()
        self._arrange()
        self._refit.start()

    def _update_clip(self) -> None:
        if self._decoded is None:
            return
        width, height = self._decoded.width, self._decoded.height
        x = min(max(self.split_line.value(), 0.0), float(width))
        self._clip.setRect(QRectF(x, 0, width - x, height))

    @property
    def orientation(self) -> Orientation:
        return self._orientation

    def set_orientation(self, orientation: Orientation | str) -> None:
        self._orientation = Orientation(orientation)
        self._arrange()
        self._refit.start()

    def _arrange(self) -> None:
        """Place the two panes as chosen; in AUTO, stacked when that shows the image larger."""
        if self._orientation != Orientation.AUTO:
            self._pair.setDirection(QBoxLayout.Direction.TopToBottom
                                    if self._orientation == Orientation.TOP_BOTTOM
                                    else QBoxLayout.Direction.LeftToRight)
            return
        image = self._original or self._decoded
        if image is None:
            return
        width, height = image.width, image.height
        area_w = max(1, self.width() - (self._colorbar_canvas.width()
                                        if self._mode == ViewMode.HEATMAP else 0))
        area_h = max(1, self.height() - 2 * self.original.title.sizeHint().height())
        side_by_side = min(area_w / 2 / width, area_h / height)
        stacked = min(area_w / width, area_h / 2 / height)
        self._pair.setDirection(QBoxLayout.Direction.TopToBottom if stacked > 1.05 * side_by_side
                                else QBoxLayout.Direction.LeftToRight)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._arrange()

    def _relink(self) -> None:
        """Link only visible panes to the original: a hidden pane's resize would drag it along."""
        show_original = self.original.isVisibleTo(self)
        for pane in (self.decoded, self.heatmap):
            target = self.original.view if show_original and pane.isVisibleTo(self) else None
            if pane.view.linkedView(pg.ViewBox.XAxis) is not target:
                pane.view.setXLink(target)
                pane.view.setYLink(target)

    # ---- readout ----------------------------------------------------------------------------
    def _on_mouse_moved(self, pane: ImagePane, scene_pos) -> None:
        """Remember the image pixel under the cursor (any pane: they show the same pixels)."""
        point = pane.view.mapSceneToView(scene_pos)
        self._cursor = (math.floor(point.x()), math.floor(point.y()))
        self._emit_readout()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A pane's canvas lost the cursor: forget the pixel (no move event says so)."""
        if event.type() == QEvent.Type.Leave and self._cursor is not None:
            self._cursor = None
            self._emit_readout()
        return super().eventFilter(watched, event)

    def _emit_readout(self, *_args) -> None:
        zoom = self.primary().zoom_factor() if (self._original or self._decoded) else 0.0
        if self._cursor is None:
            self.readout_changed.emit(zoom_text(zoom))
            return
        x, y = self._cursor
        if self._reference is not None:
            self.readout_changed.emit(readout(zoom, x, y, self._original, self._decoded,
                                              reference=(self._reference_name, self._reference)))
        else:
            self.readout_changed.emit(readout(zoom, x, y, self._original, self._decoded))

    def _fit_if_fitted(self) -> None:
        if self._fitted:
            self.primary().fit()

    def _on_manual_zoom(self, *_args) -> None:
        self._fitted = False

    # ---- zoom -------------------------------------------------------------------------------
    def primary(self) -> ImagePane:
        """The pane that drives the others: the original when there is one."""
        return self.original if self._original is not None else self.decoded

    def fit(self) -> None:
        self._fitted = True
        self.primary().fit()

    def zoom_to(self, factor: float) -> None:
        self._fitted = False
        self.primary().zoom_to(factor)

    def zoom_by(self, factor: float) -> None:
        self._fitted = False
        self.primary().zoom_by(factor)
