"""The About dialog: the model card rendered readably, in a dialog that fits the screen."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser

from mambaic_gui.about import SCREEN_SHARE
from mambaic_gui.card_view import card_html, training_stages

SHIPPED_CARD = Path(__file__).parents[2] / "resources" / "weights" / "model_card.json"

CARD = {
    "model": "lite",
    "parameters": 9304128,
    "training": {"steps": 3600, "wall_seconds": 3295.6, "lr": 0.00015, "data": "97 photos"},
    "earlier_training": [{"steps": 2033, "wall_seconds": 4195.2, "batch_size": 8,
                          "data": "87 <photos>"}],
    "validation_payload_bpp_psnr": [{"step": "3600", "quality": "1.0", "psnr": "32.467"}],
    "rd_eval": {"dataset": "data/photos/eval", "images": 8,
                "points": [{"quality": 1.0, "bpp": 0.275, "psnr_db": 28.232}],
                "bd_rate_pct_psnr": {"jpeg420": -32.1, "avif": 44.0}},
}


def test_card_html_has_summary_stage_and_evaluation_tables():
    text = card_html(CARD)
    assert "{" not in text and "[" not in text  # no Python dict or list dumped as text
    assert "9,304,128" in text and "lite" in text
    assert [s["steps"] for s in training_stages(CARD)] == [2033, 3600]  # earlier stages first
    assert text.index("2,033") < text.index("3,600")
    assert "1 h 10 min" in text and "55 min" in text  # wall time, readable
    assert "87 &lt;photos&gt;" in text  # escaped
    assert "Validation during training" in text and "32.467" in text
    assert "data/photos/eval" in text and "28.232" in text and "jpeg420" in text and "-32.1" in text
    assert text.count("<table") >= 5


def test_card_html_survives_missing_and_odd_keys():
    assert "no model card" in card_html({})
    assert "no model card" in card_html(None)
    text = card_html({"training": "untrained", "earlier_training": "lost", "rd_eval": {"points": 3}})
    assert "untrained" in text and "lost" in text
    text = card_html({"earlier_training": [1, {"steps": 4}, None], "training": {}})
    assert "Training (2 stages)" in text


def test_shipped_card_renders_every_stage():
    card = json.loads(SHIPPED_CARD.read_text())
    text = card_html(card)
    assert f"Training ({len(card['earlier_training']) + 1} stages)" in text
    assert "Rate–distortion, evaluation photos" in text


def test_about_dialog_fits_the_screen_and_scrolls(window, qtbot):
    window.commands.about.trigger()
    box = window.findChild(QDialog, "aboutBox")
    qtbot.waitExposed(box)
    screen = box.screen().availableGeometry()
    assert box.width() <= screen.width() * SCREEN_SHARE + 1
    assert box.height() <= screen.height() * SCREEN_SHARE + 1
    ok = box.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert QRect(0, 0, box.width(), box.height()).contains(ok.geometry().translated(
        box.buttons.pos()))
    assert isinstance(box.browser, QTextBrowser)  # long cards scroll inside the dialog
    ok.click()
    assert not box.isVisible()
