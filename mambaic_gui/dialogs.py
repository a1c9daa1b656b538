"""The error message box (the About box is in `about`)."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QMessageBox, QWidget

from mambaic_gui.errors import UserError


def error_box(parent: QWidget, error: UserError) -> QMessageBox:
    """A window-modal, non-blocking message box (the event loop and the worker keep running).

    The title is repeated in bold in the body: macOS and some window managers show no title bar.
    """
    box = QMessageBox(QMessageBox.Icon.Warning, error.title, f"<b>{html.escape(error.title)}</b>",
                      QMessageBox.StandardButton.Ok, parent)
    box.setInformativeText(error.message)
    if error.detail and error.detail != error.message:
        box.setDetailedText(error.detail)
    box.setObjectName("errorBox")
    box.open()
    return box
