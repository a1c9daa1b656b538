"""`mambaic bench --train`: the training-step comparison with mbt2018-mean, and config variants."""

from __future__ import annotations

import json

import pytest

from mambaic.cli.main import main
from mambaic.eval.bench_train import with_overrides
from mambaic.models import get_config


@pytest.fixture
def keep_threads():
    """--threads changes torch's process-wide setting; later tests keep theirs."""
    import torch

    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_train_bench_reports_both_models_and_writes_files(tmp_path, capsys, keep_threads):
    code = main(["bench", "--train", "--config", "tiny", "--set", "depths=0,0,0,1", "--batch", "1",
                 "--patch", "64", "--repeats", "1", "--warmup", "0", "--threads", "1",
                 "--out", str(tmp_path)])
    assert code == 0
    text = capsys.readouterr().out
    assert "tiny with depths=0,0,0,1" in text and "mbt2018_mean" in text and "Ratio" in text
    report = json.loads((tmp_path / "bench-train-cpu.json").read_text())
    assert report["seconds_per_step"] > 0 and report["reference_seconds_per_step"] > 0
    assert report["ratio"] == pytest.approx(report["seconds_per_step"] / report["reference_seconds_per_step"])


@pytest.mark.parametrize("item, message", [
    ("widths=1", "3 comma-separated int values"),
    ("use_wla=maybe", "wants a bool"),
    ("colour=red", "ModelConfig field"),
    ("depths", "FIELD=VALUE"),
])
def test_bad_overrides_are_clear_errors(item, message):
    with pytest.raises(ValueError, match=message):
        with_overrides(get_config("lite"), [item])


def test_overrides_change_only_the_named_fields():
    lite = get_config("lite")
    cfg = with_overrides(lite, ["depths=0,0,1,1", "use_wla=false", "d_state=4"])
    assert (cfg.depths, cfg.use_wla, cfg.d_state) == ((0, 0, 1, 1), False, 4)
    assert cfg.widths == lite.widths and cfg.M == lite.M
