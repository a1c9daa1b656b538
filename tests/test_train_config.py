"""`TrainConfig`: validated on construction, the single source of `mambaic train`'s options, and
able to read the train_config.json of runs made before it (runs/s10 resumes with this code)."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import pytest

from mambaic.cli import train as cli_train
from mambaic.cli.common import UsageError
from mambaic.train.config import TrainConfig, TrainConfigError

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("name", "value", "problem"), [
    ("patch", 100, "must be a multiple of 64"),
    ("detail_draws", 0, "must be 1 or more"),
    ("quality_tilt", 1.0, "must be in [0, 1)"),
    ("warmup", -1, "must be 0 or more steps"),
    ("ema", 1.0, "must be 0 (off) or a decay"),
    ("scales", (1.0, 2.0), "must be factors in (0, 1]"),
    ("lr", 0.0, "must be positive"),
    ("batch_size", 0, "must be 1 or more"),
    ("save_every", 0, "must be 1 or more steps"),
])
def test_the_api_validates_like_the_cli(name, value, problem):
    with pytest.raises(TrainConfigError) as err:
        TrainConfig(data="photos", **{name: value})
    assert err.value.name == name and str(err.value).startswith(f"{name} {problem}")


def test_bad_values_are_usage_errors_naming_the_flag():
    args = _parser().parse_args(["photos", "--patch", "100"])
    with pytest.raises(UsageError, match=r"^--patch must be a multiple of 64, got 100$"):
        cli_train.config_from_args(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    cli_train.add_arguments(parser)
    return parser


def test_cli_defaults_are_the_dataclass_defaults():
    parsed = vars(_parser().parse_args(["photos"]))
    api = TrainConfig(data="photos")
    cli = cli_train.config_from_args(argparse.Namespace(**parsed))
    assert cli == api and api.resume == "auto"  # one default, resuming, for both
    flags = {f.name for f in dataclasses.fields(TrainConfig) if "cli" in f.metadata}
    assert set(parsed) == flags and {"aux_lr", "clip"}.isdisjoint(parsed)  # API-only fields


def test_flags_map_to_fields():
    args = _parser().parse_args(["photos", "--chroma-filter", "off", "--amp", "--scales", "1,0.5",
                                 "--quality-tilt", "0.5", "--resume", "ckpt.safetensors"])
    cfg = cli_train.config_from_args(args)
    assert (cfg.chroma_filter, cfg.amp, cfg.scales, cfg.quality_tilt) == (False, True, (1.0, 0.5), 0.5)
    assert cfg.resume_path() == Path("ckpt.safetensors")


def test_an_older_record_reads_with_todays_defaults(tmp_path):
    """Records hold keys this version does not know (world_size), lists for tuples, and lack
    fields added since (warmup, quality_tilt here)."""
    record = {"data": "data/photos/train", "out": str(tmp_path), "model": "lite", "steps": 4400,
              "scales": [1.0, 0.5], "lr": 0.00015, "resume": "auto", "world_size": 2}
    path = tmp_path / "train_config.json"
    path.write_text(json.dumps(record))
    cfg = TrainConfig.from_record(path)
    assert cfg.scales == (1.0, 0.5) and cfg.warmup == 500 and cfg.quality_tilt == 0.0
    assert cfg.resume_path() is None  # no checkpoint in out yet: a fresh start
    (tmp_path / "checkpoint.safetensors").write_bytes(b"")
    assert cfg.resume_path() == tmp_path / "checkpoint.safetensors"


S10 = REPO / "runs" / "s10"


@pytest.mark.skipif(not (S10 / "checkpoint.safetensors").exists(), reason="no runs/s10 on this machine")
def test_the_run_in_progress_resumes_with_this_code():
    """runs/s10 (read only): its record validates, points resume at its checkpoint, and that
    checkpoint loads into the model and optimisers the loop builds for it."""
    import torch

    from mambaic.models import build_model
    from mambaic.train.checkpoint import load_checkpoint, read_checkpoint_config
    from mambaic.train.loop import _split_parameters

    cfg = TrainConfig.from_record(S10 / "train_config.json", out=str(S10))
    assert cfg.resume_path() == S10 / "checkpoint.safetensors"
    model = build_model(read_checkpoint_config(cfg.resume_path()))
    main, aux = _split_parameters(model)
    progress = load_checkpoint(cfg.resume_path(), model, torch.optim.Adam(main, lr=cfg.lr),
                               torch.optim.Adam(aux, lr=cfg.aux_lr))
    assert 0 < int(progress["step"]) <= cfg.steps
