"""Files dragged onto the window: highlight what it would take, open one file, batch several.

An event filter on the window rather than its `drop…Event` methods, so this stays one small piece
the window installs; drag events that children leave unhandled reach the window and pass here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QWidget

from mambaic_gui.drop_highlight import DropHighlight
from mambaic_gui.mime import Openable, openable_from_mime


class DropHandler(QObject):
    """Installed on `window`: a drag of something openable highlights `target` (the image area);
    a drop of one file or image opens it (`open_item`), of several files or a folder goes to the
    batch dialog (`open_batch`)."""

    def __init__(self, window: QWidget, target: QWidget, open_item: Callable[[Openable], None],
                 open_batch: Callable[[list[Path]], object]) -> None:
        super().__init__(window)
        self.highlight = DropHighlight(window)
        self._target = target
        self._open_item = open_item
        self._open_batch = open_batch
        window.setAcceptDrops(True)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """True for a drag or drop taken here; everything else goes on to the window."""
        kind = event.type()
        if kind == QEvent.Type.DragEnter:
            return self._enter(event)
        if kind == QEvent.Type.DragLeave:
            self.highlight.hide()
        elif kind == QEvent.Type.Drop:
            self.highlight.hide()
            return self._drop(event)
        return super().eventFilter(watched, event)

    def _enter(self, event: QDragEnterEvent) -> bool:
        if openable_from_mime(event.mimeData()) is None:
            return False  # no highlight and no drop: the window cannot open it
        event.acceptProposedAction()
        self.highlight.show_over(self._target)
        return True

    def _drop(self, event: QDropEvent) -> bool:
        mime = event.mimeData()
        local = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
        if len(local) > 1 or any(path.is_dir() for path in local):
            event.acceptProposedAction()
            self._open_batch(local)
            return True
        item = openable_from_mime(mime)
        if item is None:
            return False
        event.acceptProposedAction()
        self._open_item(item)
        return True
