"""`mambaic bench --train`: the training-step comparison with mbt2018-mean, and config variants."""

from __future__ import annotations

import json

import pytest

from mambaic.cli.main import main
from mambaic.eval.bench_train import with_overrides
from mambaic.models import build_model, get_config


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
    report = json.loads((tmp_path / "bench-train-cpu.json").read_text())
    assert report["config"] == "tiny with depths=0,0,0,1"
    assert (report["batch"], report["patch"], report["steps"]) == (1, 64, 1)
    assert report["seconds_per_step"] > 0 and report["reference_seconds_per_step"] > 0
    cfg = with_overrides(get_config("tiny"), ["depths=0,0,0,1"])
    assert report["parameters"] == sum(p.numel() for p in build_model(cfg).parameters())
    # What is printed and written is the run's numbers, not a fixed text.
    markdown = (tmp_path / "bench-train-cpu.md").read_text()
    for shown in (text, markdown):
        assert f"| {report['seconds_per_step']:.3f} |" in shown
        assert f"| {report['reference_seconds_per_step']:.3f} |" in shown
        assert f"Ratio {report['ratio']:.2f} " in shown
        assert f"{report['parameters'] / 1e6:.2f} M" in shown


class _FakeClock:
    """Stands in for time.perf_counter in bench_train: it only moves when a model runs forward,
    by the seconds that model's schedule says, so timings are exact and load cannot flake them."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now

    def costing(self, model, seconds):
        """Make every forward of ``model`` take the next of ``seconds`` (cycled)."""
        schedule = list(seconds)
        calls = {"n": 0}

        def advance(_module, _inputs):
            self.now += schedule[calls["n"] % len(schedule)]
            calls["n"] += 1

        model.register_forward_pre_hook(advance)
        return model


def _bench_with_costs(monkeypatch, ours, reference, **kwargs):
    """run_train_bench of tiny vs mbt2018-mean, each forward costing the given fake seconds;
    also returns the input shapes each model was trained on."""
    import types

    import compressai.zoo

    import mambaic.eval.bench_train as bench_train

    clock, shapes = _FakeClock(), {"ours": [], "reference": []}
    real_build, real_reference = bench_train.build_model, compressai.zoo.mbt2018_mean

    def recording(model, name, seconds):
        model.register_forward_pre_hook(lambda _m, inputs: shapes[name].append(tuple(inputs[0].shape)))
        return clock.costing(model, seconds)

    monkeypatch.setattr(bench_train, "time", types.SimpleNamespace(perf_counter=clock.perf_counter))
    monkeypatch.setattr(bench_train, "build_model", lambda cfg: recording(real_build(cfg), "ours", ours))
    monkeypatch.setattr(compressai.zoo, "mbt2018_mean",
                        lambda **kw: recording(real_reference(**kw), "reference", reference))
    run = bench_train.run_train_bench("tiny", ["depths=0,0,0,1"], **kwargs)
    return run, shapes


def test_both_models_train_on_the_same_batch_and_the_median_step_is_reported(monkeypatch, keep_threads):
    import torch

    from mambaic.eval.bench_train import TARGET_RATIO, to_json, to_markdown

    torch.set_num_threads(1)
    # Our steps take 5, 1, 100, 2, 3 s (median 3, mean 22); the reference's always 2 s.
    run, shapes = _bench_with_costs(monkeypatch, ours=[5, 1, 100, 2, 3], reference=[2],
                                    batch=2, patch=64, steps=5, warmup=0)
    assert shapes["ours"] == shapes["reference"] == [(2, 3, 64, 64)] * 5
    assert run.seconds_per_step == 3 and run.reference_seconds_per_step == 2
    assert run.ratio == 1.5
    report = to_json(run)
    assert (report["seconds_per_step"], report["reference_seconds_per_step"]) == (3, 2)
    assert report["ratio"] == 1.5 and report["target_ratio"] == TARGET_RATIO
    assert "Ratio 1.50 (target <= 1.5: met)" in to_markdown(run)


def test_warmup_steps_are_run_but_not_timed(monkeypatch, keep_threads):
    import torch

    torch.set_num_threads(1)
    # Three warm-up steps of 50 s each, then steady steps of 1 s (ours) and 4 s (reference): timed
    # with the rest, the warm-up would be the median.
    run, shapes = _bench_with_costs(monkeypatch, ours=[50, 50, 50, 1, 1], reference=[50, 50, 50, 4, 4],
                                    batch=1, patch=64, steps=2, warmup=3)
    assert len(shapes["ours"]) == len(shapes["reference"]) == 5
    assert (run.seconds_per_step, run.reference_seconds_per_step) == (1, 4)
    assert run.ratio == 0.25


def test_a_slower_model_gets_a_larger_ratio_and_misses_the_target(monkeypatch, keep_threads):
    import torch

    from mambaic.eval.bench_train import to_markdown

    torch.set_num_threads(1)
    fast, _ = _bench_with_costs(monkeypatch, ours=[1], reference=[1], batch=1, patch=64, steps=3,
                                warmup=0)
    slow, _ = _bench_with_costs(monkeypatch, ours=[2], reference=[1], batch=1, patch=64, steps=3,
                                warmup=0)
    assert (fast.ratio, slow.ratio) == (1.0, 2.0)
    assert "target <= 1.5: met" in to_markdown(fast) and "target <= 1.5: not met" in to_markdown(slow)


def test_really_slowed_model_measures_slower(monkeypatch, keep_threads):
    """With the real clock: a forward that also sleeps 0.2 s must show up in our seconds per step
    (at least the sleep, whatever the machine's load: the forward is inside the timed step)."""
    import time

    import torch

    import mambaic.eval.bench_train as bench_train

    torch.set_num_threads(1)
    real_build = bench_train.build_model

    def slowed(cfg):
        model = real_build(cfg)
        model.register_forward_pre_hook(lambda *_: time.sleep(0.2))
        return model

    monkeypatch.setattr(bench_train, "build_model", slowed)
    run = bench_train.run_train_bench("tiny", ["depths=0,0,0,1"], batch=1, patch=64, steps=1, warmup=0)
    assert run.seconds_per_step >= 0.2 and 0 < run.reference_seconds_per_step


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
