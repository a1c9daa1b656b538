"""The About dialog: the model card rendered readably, in a dialog that fits the screen."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser

from mambaic.card import ModelCard
from mambaic_gui.about import SCREEN_SHARE
from mambaic_gui.card_view import card_html

SHIPPED_CARD = Path(__file__).parents[2] / "resources" / "weights" / "model_card.json"

CARD = ModelCard.from_dict({
    "model": "lite",
    "parameters": 9304128,
    "training": {"steps": 3600, "wall_seconds": 3295.6, "lr": 0.00015, "data": "97 photos"},
    "earlier_training": [{"steps": 2033, "wall_seconds": 4195.2, "batch_size": 8,
                          "data": "87 <photos>"}],
    "validation_payload_bpp_psnr": [{"step": "3600", "quality": "1.0", "payload_bpp": "0.2710",
                                     "psnr": "32.467"}],
    "rd_eval": {"dataset": "data/photos/eval", "images": 8,
                "points": [{"quality": 1.0, "bpp": 0.275, "psnr_db": 28.232}],
                "bd_rate_pct_psnr": {"jpeg420": -32.1, "avif": 44.0}},
})


def test_card_html_has_summary_stage_and_evaluation_tables():
    text = card_html(CARD)
    assert "{" not in text and "[" not in text  # no Python dict or list dumped as text
    assert "9,304,128" in text and "lite" in text
    assert text.index("2,033") < text.index("3,600")  # earlier stages first
    assert "1 h 10 min" in text and "55 min" in text  # wall time, readable
    assert "87 &lt;photos&gt;" in text  # escaped
    assert "Validation during training" in text and "32.467" in text
    assert "data/photos/eval" in text and "28.232" in text and "jpeg420" in text and "-32.1" in text
    assert text.count("<table") >= 5


def test_card_html_shows_what_it_has_no_field_for():
    assert "no model card" in card_html(ModelCard())
    assert "no model card" in card_html(None)
    text = card_html(ModelCard.from_dict({
        "status": "untrained", "training": {"steps": 4, "ranks_note": "one rank"},
        "rd_eval_refine_10": {"dataset": "data/photos/eval", "points": [{"quality": 2.0, "bpp": 0.5}]}}))
    assert "Status" in text and "untrained" in text
    assert "Training (1 stage)" in text and "Ranks note" in text and "one rank" in text
    assert "Rd eval refine 10" in text and "0.5" in text and text.count("<table") >= 3


def test_shipped_card_renders_every_stage():
    card = ModelCard.read(SHIPPED_CARD)
    text = card_html(card)
    assert f"Training ({len(card.stages)} stages)" in text and len(card.stages) > 1
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
