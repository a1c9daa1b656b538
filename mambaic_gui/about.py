"""The About dialog: what the app is, the loaded model's card, and the library versions.

A model card grows with every training stage and evaluation, so the text scrolls inside a dialog
that never exceeds the screen (a QMessageBox grows with its text until its button is off-screen).
"""

from __future__ import annotations

import html

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from mambaic_gui.card_view import card_html
from mambaic_gui.document import ModelSummary

#: Wide enough for the training table's columns without wrapping every cell.
PREFERRED_SIZE = QSize(900, 1000)
#: Of the screen's available area, so the title bar and the OK button always stay reachable.
SCREEN_SHARE = 0.9


def about_text(model: ModelSummary | None, versions: dict[str, str]) -> str:
    """The dialog's body as HTML."""
    parts = ["<h3>MambaIC</h3>",
             ("<p>Learned image compression with state-space models (Mamba): a channel–spatial "
              "SSM context model over a hyperprior, coded into <code>.mic</code> files.</p>")]
    if model is None:
        parts.append("<p><i>No model is loaded.</i></p>")
    else:
        parts.append(f"<h3>Model: {html.escape(model.name)} on {html.escape(model.device)}</h3>")
        parts.append(f"<p>Weights: <code>{html.escape(model.weights_path)}</code><br>"
                     f"SHA-256: <code>{html.escape(model.weights_sha256[:16])}…</code></p>")
        parts.append(card_html(model.card))
    parts.append("<p>" + " · ".join(f"{html.escape(k)} {html.escape(v)}"
                                    for k, v in versions.items()) + "</p>")
    return "".join(parts)


class AboutDialog(QDialog):
    """Window-modal and non-blocking, like the error box; `browser` holds the text."""

    def __init__(self, parent: QWidget, model: ModelSummary | None,
                 versions: dict[str, str]) -> None:
        super().__init__(parent)
        self.setObjectName("aboutBox")
        self.setWindowTitle("About MambaIC")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # each About builds a fresh one
        icon = QLabel()
        icon.setPixmap(parent.windowIcon().pixmap(64, 64))
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setHtml(about_text(model, versions))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        self.buttons = buttons
        layout = QVBoxLayout(self)
        layout.addWidget(icon)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        self.resize(self._fitting_size())

    def _fitting_size(self) -> QSize:
        screen = self.parentWidget().screen().availableGeometry()
        return PREFERRED_SIZE.boundedTo(QSize(int(screen.width() * SCREEN_SHARE),
                                              int(screen.height() * SCREEN_SHARE)))


def about_box(parent: QWidget, model: ModelSummary | None, versions: dict[str, str]) -> AboutDialog:
    dialog = AboutDialog(parent, model, versions)
    dialog.open()
    return dialog
