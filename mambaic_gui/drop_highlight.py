"""A frame over the window's central area while a file is dragged over it.

Without it the user cannot tell whether the window takes the file until it is dropped.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QLabel, QWidget

STYLE = ("background: rgba(77, 163, 255, 40); border: 4px dashed #4da3ff; border-radius: 8px; "
         "color: #ffffff; font-size: 18pt;")


class DropHighlight(QLabel):
    """Shown over `target` (a child of the same window) by `show_over`, gone on `hide`."""

    def __init__(self, window: QWidget) -> None:
        super().__init__("Drop to open", window)
        self.setObjectName("dropHighlight")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet(STYLE)
        # The drag events must still reach the window, which decides whether to open the file.
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAcceptDrops(False)
        self.hide()

    def show_over(self, target: QWidget) -> None:
        self.setGeometry(QRect(target.mapTo(self.parentWidget(), QPoint(0, 0)), target.size()))
        self.raise_()
        self.show()
