"""`mambaic.card.ModelCard`: every card the project shipped reads, writes back byte for byte,
keeps keys it does not know, and refuses badly typed values by name."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from mambaic.card import CardError, ModelCard, TrainingStage

SHIPPED_CARD = Path(__file__).parents[1] / "resources" / "weights" / "model_card.json"

#: The first shipped card (commit 424e0a9): no earlier stages, an empty validation list, integer
#: quality bounds and the training keys in an order the loop no longer writes.
FIRST_CARD = """{
  "model": "lite",
  "parameters": 9304128,
  "variable_rate": {
    "quality_range": [
      1,
      5
    ],
    "lambdas": [
      0.0035,
      0.0067
    ]
  },
  "training": {
    "steps": 100,
    "wall_seconds": 552.0,
    "patch": 128,
    "device": "cpu",
    "data": "87 photos",
    "batch_size": 8
  },
  "validation_payload_bpp_psnr": [],
  "sha256": "4f5ff8bcdb911f992ae6dda04f0984a2be046b69844a9c39efffd3d346e203c8"
}
"""


def test_shipped_card_reads_and_writes_back_unchanged(tmp_path):
    card = ModelCard.read(SHIPPED_CARD)
    assert card.to_json() == SHIPPED_CARD.read_text()
    assert card.model == "lite" and card.training_steps == card.total_steps
    assert card.total_steps == sum(stage.steps for stage in card.stages) and len(card.stages) > 1
    assert card.rd_eval is not None and card.rd_eval.points and card.rd_eval.points[0].bpp > 0
    assert card.write(tmp_path / "model_card.json").read_bytes() == SHIPPED_CARD.read_bytes()


def test_first_shipped_card_round_trips():
    card = ModelCard.from_dict(json.loads(FIRST_CARD))
    assert card.to_json() == FIRST_CARD
    assert card.earlier_training is None and card.validation == ()
    assert card.variable_rate.quality_range == (1, 5) and card.training_steps == 100
    assert card.stages == (card.training,)


def test_unknown_keys_survive_a_read_and_an_edit():
    data = {"model": "lite", "rd_eval_refine_10": {"points": [{"quality": 1.0, "bpp": 0.27}]},
            "training": {"steps": 7, "ranks_note": "one rank until step 3"}, "license": "MIT"}
    card = ModelCard.from_dict(data)
    assert card.extra == {"rd_eval_refine_10": data["rd_eval_refine_10"], "license": "MIT"}
    assert card.training.extra == {"ranks_note": "one rank until step 3"}
    edited = replace(card, training=replace(card.training, shipped_as="the 7-step weights"), sha256="ab")
    out = edited.to_dict()
    assert list(out) == ["model", "rd_eval_refine_10", "training", "license", "sha256"]  # read order, new last
    assert out["training"] == {"steps": 7, "ranks_note": "one rank until step 3",
                               "shipped_as": "the 7-step weights"}
    assert ModelCard.from_dict(out) == edited


def test_training_steps_counts_every_stage():
    assert ModelCard(training=TrainingStage(steps=7)).training_steps == 7
    card = ModelCard.from_dict({"training": {"steps": 7}, "total_steps": 19, "earlier_training": [{"steps": 12}]})
    assert card.training_steps == 19 and [s.steps for s in card.stages] == [12, 7]
    assert ModelCard().training_steps is None and ModelCard().stages == ()


def test_null_reads_as_absent():
    card = ModelCard.from_dict({"model": None, "training": {"steps": 3, "lr": None}})
    assert card.model is None and card.to_dict() == {"training": {"steps": 3}}


@pytest.mark.parametrize(("data", "key"), [
    ({"training": {"steps": "many"}}, "training.steps"),
    ({"training": {"steps": True}}, "training.steps"),
    ({"training": "untrained"}, "training"),
    ({"earlier_training": [{"steps": 1}, {"lr": 0.1}]}, "earlier_training[1].steps"),
    ({"variable_rate": {"quality_range": [1, 3, 5]}}, "variable_rate.quality_range"),
    ({"rd_eval": {"points": [{"quality": 1.0, "bpp": "x"}]}}, "rd_eval.points[0].bpp"),
    ({"model": "lite\x1b[2J"}, "model"),
    ({"notes": {"a": ["fine", "bad\x00"]}}, "notes.a[1]"),
])
def test_bad_values_are_refused_by_key(data, key):
    with pytest.raises(CardError) as caught:
        ModelCard.from_dict(data)
    assert caught.value.key == key
