"""Weights files carry their model card: written by `save_weights`, read and checked by
`load_model` (a file may come from anyone), and the shipped file's matches model_card.json."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from safetensors import safe_open
from safetensors.torch import load_file, save

from mambaic.card import ModelCard
from mambaic.errors import WeightsError
from mambaic.models.registry import build_model
from mambaic.weights import default_weights_path, load_model, read_metadata, save_weights

SHIPPED_CARD = Path(__file__).parents[1] / "resources" / "weights" / "model_card.json"


def test_shipped_weights_embed_the_card_less_what_is_added_after_export():
    _, embedded = read_metadata(default_weights_path())
    shipped = ModelCard.read(SHIPPED_CARD)
    assert replace(shipped, sha256=None, rd_eval=None, rd_eval_texture=None) == embedded


def test_weights_files_carry_the_card(tmp_path):
    card = ModelCard.from_dict({"model": "tiny", "training": {"steps": 2, "note": "kept"}})
    path = tmp_path / "w.safetensors"
    save_weights(build_model("tiny"), path, card)
    assert load_model(path)[1].card == card
    save_weights(build_model("tiny"), path)
    assert load_model(path)[1].card == ModelCard()


def test_a_weights_file_with_a_bad_card_is_refused_by_key(tmp_path):
    path = tmp_path / "w.safetensors"
    save_weights(build_model("tiny"), path)
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    path.write_bytes(save(load_file(str(path)), metadata={**meta, "card": '{"training": {"steps": "x"}}'}))
    with pytest.raises(WeightsError, match="training.steps"):
        load_model(path)
    path.write_bytes(save(load_file(str(path)), metadata={**meta, "card": "{not json"}))
    with pytest.raises(WeightsError, match="damaged model card"):
        load_model(path)


@pytest.mark.parametrize(("card", "says"), [
    ({}, "no training record in the model card"),
    ({"training": {"steps": 5, "wall_seconds": 7200, "device": "cpu"}}, "trained 5 steps (2.0 h on cpu)"),
    ({"training": {"steps": 5, "hardware": "H200"}, "earlier_training": [{"steps": 2}, {"steps": 3}],
      "total_steps": 10}, "trained 10 steps in 3 stages, the last 5 (0.0 h on H200)"),
])
def test_evaluation_reports_say_how_trained_the_weights_are(tmp_path, card, says):
    from mambaic import load_codec
    from mambaic.eval.learned import describe_weights

    path = tmp_path / "w.safetensors"
    save_weights(build_model("tiny"), path, ModelCard.from_dict(card))
    assert says in describe_weights(load_codec(path))
