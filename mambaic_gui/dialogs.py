"""The error message box and the About box (with the loaded model's card)."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from mambaic_gui.document import ModelSummary
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


def _card_rows(card: dict) -> str:
    rows = []
    for key, value in card.items():
        if isinstance(value, (list, tuple)):
            value = ", ".join(map(str, value))
        elif isinstance(value, dict):
            value = "; ".join(f"{k}: {v}" for k, v in value.items())
        rows.append(f"<tr><td><b>{html.escape(str(key))}</b></td>"
                    f"<td>{html.escape(str(value))}</td></tr>")
    return "".join(rows)


def about_text(model: ModelSummary | None, versions: dict[str, str]) -> str:
    """The About box body: what the app is, the model card, and library versions."""
    parts = ["<h3>MambaIC</h3>",
             ("<p>Learned image compression with state-space models (Mamba): a channel–spatial "
              "SSM context model over a hyperprior, coded into <code>.mic</code> files.</p>")]
    if model is None:
        parts.append("<p><i>No model is loaded.</i></p>")
    else:
        parts.append(f"<h4>Model: {html.escape(model.name)} on {html.escape(model.device)}</h4>")
        parts.append(f"<p>Weights: <code>{html.escape(model.weights_path)}</code><br>"
                     f"SHA-256: <code>{model.weights_sha256[:16]}…</code></p>")
        if model.card:
            parts.append(f"<table cellspacing='4'>{_card_rows(model.card)}</table>")
        else:
            parts.append("<p><i>These weights carry no model card.</i></p>")
    parts.append("<p>" + " · ".join(f"{html.escape(k)} {html.escape(v)}"
                                    for k, v in versions.items()) + "</p>")
    return "".join(parts)


def about_box(parent: QWidget, model: ModelSummary | None, versions: dict[str, str]) -> QMessageBox:
    box = QMessageBox(parent)
    box.setWindowTitle("About MambaIC")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(about_text(model, versions))
    box.setIconPixmap(parent.windowIcon().pixmap(96, 96))
    box.setObjectName("aboutBox")
    box.open()
    return box
