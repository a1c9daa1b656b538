"""The scripts that write the shipped card (export_weights.py, card_add_eval.py) through
`ModelCard`: what they add lands where it did, and everything else is written back as read."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from mambaic.card import ModelCard
from mambaic.models.registry import build_model
from mambaic.weights import file_sha256, load_model, save_weights

SCRIPTS = Path(__file__).parents[1] / "scripts"
SHA = "ab" * 32


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(monkeypatch, name: str, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", [f"{name}.py", *args])
    return _script(name).main()


def _eval_results(folder: Path, sha256: str) -> Path:
    (folder / "json").mkdir(parents=True)
    (folder / "json" / "mambaic.json").write_text(json.dumps({
        "description": "mambaic 0.1.0, lite model",
        "meta": {"dataset": "data/photos/eval", "images": 8, "date": "2026-12-04 05:00 UTC",
                 "machine": "test", "weights_sha256": sha256},
        "results": {"quality": [1.0, 5.0], "bpp": [0.21234, 0.9], "psnr-rgb": [28.1234, 33.0],
                    "ms-ssim-rgb": [0.951234, 0.99]}}))
    (folder / "json" / "bd-rate.json").write_text(json.dumps({
        "anchors": [{"anchor": "jpeg420", "bd_rate_psnr_pct": -30.04}, {"anchor": "avif", "bd_rate_psnr_pct": None}]}))
    return folder


def test_card_add_eval_adds_its_table_and_keeps_the_rest(tmp_path, monkeypatch):
    weights = tmp_path / "weights"
    weights.mkdir()
    before = {"model": "lite", "training": {"steps": 5, "ranks_note": "kept"}, "sha256": SHA,
              "rd_eval_refine_10": {"points": []}}
    (weights / "model_card.json").write_text(json.dumps(before, indent=2) + "\n")
    assert _run(monkeypatch, "card_add_eval", str(_eval_results(tmp_path / "r", SHA)), str(weights),
                "--key", "rd_eval_texture") == 0
    after = json.loads((weights / "model_card.json").read_text())
    assert after == {**before, "rd_eval_texture": after["rd_eval_texture"]} and list(after)[-1] == "rd_eval_texture"
    table = ModelCard.from_dict(after).rd_eval_texture
    assert [p.bpp for p in table.points] == [0.2123, 0.9] and table.bd_rate_pct_psnr == {"jpeg420": -30.0, "avif": None}


def test_card_add_eval_refuses_numbers_of_other_weights(tmp_path, monkeypatch, capsys):
    weights = tmp_path / "weights"
    weights.mkdir()
    (weights / "model_card.json").write_text(json.dumps({"sha256": SHA}))
    assert _run(monkeypatch, "card_add_eval", str(_eval_results(tmp_path / "r", "cd" * 32)), str(weights)) == 1
    assert "refused" in capsys.readouterr().err
    assert json.loads((weights / "model_card.json").read_text()) == {"sha256": SHA}


def test_export_from_a_weights_file_writes_one_card_in_both_places(tmp_path, monkeypatch):
    source = tmp_path / "in" / "w.safetensors"
    card = ModelCard.from_dict({"model": "tiny", "training": {"steps": 3, "note": "kept"}})
    save_weights(build_model("tiny"), source, card)
    dest = tmp_path / "out"
    assert _run(monkeypatch, "export_weights", str(source), str(dest)) == 0
    (path,) = dest.glob("*.safetensors")
    written = ModelCard.read(dest / "model_card.json")
    assert written.sha256 == file_sha256(path) and written.training == card.training
    assert written.variable_rate.lambdas == tuple(build_model("tiny").cfg.lambdas)
    assert written.validation == ()  # no val.csv beside the source
    assert load_model(path)[1].card.to_dict() == {k: v for k, v in written.to_dict().items() if k != "sha256"}


@pytest.mark.parametrize("shipped_sha", [SHA, None])
def test_history_takes_the_shipped_text_of_matching_stages(shipped_sha):
    export = _script("export_weights")
    shipped = ModelCard.from_dict({"training": {"steps": 4, "wall_seconds": 9.0, "data": "careful words"},
                                   "earlier_training": [{"steps": 2, "wall_seconds": 5.0, "data": "old words"}],
                                   "total_steps": 6, "sha256": shipped_sha})
    card = ModelCard.from_dict({"training": {"steps": 1},
                                "earlier_training": [{"steps": 2, "wall_seconds": 5.0, "data": "a path",
                                                      "ended_at_sha256": "11"},
                                                     {"steps": 4, "wall_seconds": 9.0, "data": "a path",
                                                      "ended_at_sha256": "22"},
                                                     {"steps": 8, "wall_seconds": 1.0, "ended_at_sha256": "33"}]})
    first, second, third = export.with_history(card, shipped).earlier_training
    assert (first.data, first.ended_at_sha256, first.shipped_as) == ("old words", "11", None)
    assert (second.data, second.ended_at_sha256) == ("careful words", "22")
    note = f"the 6-step weights (sha256 {SHA[:12]}...), exported from the same checkpoint in fp16"
    assert second.shipped_as == (None if shipped_sha is None else note)
    assert third == card.earlier_training[2]


def test_widening_notes_itself_on_the_last_stage(tmp_path, monkeypatch, capsys):
    source, dest = tmp_path / "w.safetensors", tmp_path / "wide.safetensors"
    save_weights(build_model("tiny"), source, ModelCard.from_dict({"training": {"steps": 3}, "note": "kept"}))
    _run(monkeypatch, "widen_weights", str(source), str(dest), "--width", "24")
    card = load_model(dest)[1].card
    assert card.training.steps == 3 and card.extra == {"note": "kept"}
    assert card.training.widened.startswith("half-resolution width 16 -> 24")

    save_weights(build_model("tiny"), source)  # no training stage to note it on
    with pytest.raises(SystemExit):
        _run(monkeypatch, "widen_weights", str(source), str(dest), "--width", "24")
    assert "records no training stage" in capsys.readouterr().err
