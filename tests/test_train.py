"""`mambaic train`: a real (tiny) run end to end — checkpoints, resume, validation with real
bytes, export, and the lineage a restarted run records in its model card."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mambaic import load_codec
from mambaic.card import ModelCard
from mambaic.cli.main import main
from mambaic.train.loop import TrainConfig, describe_lr, lr_at
from mambaic.weights import load_model


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """Three small smooth 'photos' with some texture, as PNG files."""
    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:96, 0:128]
    for i in range(3):
        base = np.stack([np.sin(xx / (7 + i)) , np.cos(yy / (5 + i)), np.sin((xx + yy) / 11)], -1)
        img = (127 + 90 * base + rng.normal(0, 8, base.shape)).clip(0, 255).astype(np.uint8)
        Image.fromarray(img).save(folder / f"p{i}.png")
    return folder


def _train(photos: Path, out: Path, steps: int, *extra: str) -> int:
    return main(["train", str(photos), "--out", str(out), "--model", "tiny", "--steps", str(steps),
                 "--batch-size", "2", "--patch", "64", "--save-every", "2", "--val-every", "2",
                 "--val-dir", str(photos), *extra])


def _log_steps(out: Path) -> list[int]:
    return [int(r["step"]) for r in csv.DictReader(open(out / "log.csv"))]


def test_run_resume_and_export(photos, tmp_path):
    out = tmp_path / "run"
    assert _train(photos, out, 3) == 0
    assert _log_steps(out) == [1, 2, 3]
    val = list(csv.DictReader(open(out / "val.csv")))
    assert {r["step"] for r in val} == {"2"} and all(float(r["payload_bpp"]) > 0 for r in val)

    assert _train(photos, out, 5) == 0  # same command, more steps: resumes, never restarts
    assert _log_steps(out) == [1, 2, 3, 4, 5]
    card = json.loads((out / "model_card.json").read_text())
    assert card["training"]["steps"] == 5 and "earlier_training" not in card
    assert "cosine decay" in card["training"]["lr_schedule"]

    for name in ("mambaic-tiny-fp32.safetensors", "mambaic-tiny-fp16.safetensors"):
        codec = load_codec(out / name)
        img = np.asarray(Image.open(photos / "p0.png"))
        decoded = codec.decompress(codec.compress(img, quality=3))
        assert decoded.size == (img.shape[1], img.shape[0]) and decoded.mode == "RGB"


def test_init_weights_records_the_earlier_stages(photos, tmp_path):
    first, second, third = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert _train(photos, first, 2) == 0
    assert _train(photos, second, 3, "--init-weights", str(first / "mambaic-tiny-fp32.safetensors")) == 0
    card = json.loads((second / "model_card.json").read_text())
    assert card["training"]["steps"] == 3 and card["total_steps"] == 5
    (stage,) = card["earlier_training"]
    assert stage["steps"] == 2 and len(stage["ended_at_sha256"]) == 64

    assert _train(photos, third, 1, "--init-weights", str(second / "mambaic-tiny-fp16.safetensors")) == 0
    card = json.loads((third / "model_card.json").read_text())
    assert [s["steps"] for s in card["earlier_training"]] == [2, 3] and card["total_steps"] == 6
    embedded = load_model(third / "mambaic-tiny-fp16.safetensors")[1].card
    assert embedded.total_steps == 6 and embedded == ModelCard.read(third / "model_card.json")


def test_missing_or_empty_data_folder_is_a_clear_error(tmp_path, capsys):
    assert _train(tmp_path / "nowhere", tmp_path / "run", 1) != 0
    assert "training folder not found" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert _train(tmp_path / "empty", tmp_path / "run", 1) != 0
    assert "no images" in capsys.readouterr().err


def test_patch_must_be_a_multiple_of_64(photos, tmp_path, capsys):
    assert main(["train", str(photos), "--out", str(tmp_path), "--patch", "100"]) != 0
    assert "multiple of 64" in capsys.readouterr().err


def test_learning_rate_warms_up_holds_then_decays_to_a_tenth():
    cfg = TrainConfig(data="", out="", steps=1000, lr=1e-4, decay_from=0.8, warmup=100)
    assert lr_at(0, cfg) == pytest.approx(1e-6) and lr_at(49, cfg) == pytest.approx(5e-5)
    assert lr_at(99, cfg) == lr_at(100, cfg) == lr_at(799, cfg) == 1e-4
    assert 1e-5 < lr_at(900, cfg) < 1e-4
    assert lr_at(1000, cfg) == pytest.approx(1e-5)
    plan = "linear warm-up over 100 steps, 0.0001 until step 800, then cosine decay to 1e-05 planned at step 1000"
    assert describe_lr(cfg, 1000) == plan + " (reached)"
    assert describe_lr(cfg, 900) == (
        plan + f" (stopped after 900 steps, last lr {lr_at(899, cfg):.2g})")


def test_validation_folder_without_usable_images_fails_before_training(photos, tmp_path, capsys):
    tiny_images = tmp_path / "val"
    tiny_images.mkdir()
    Image.new("RGB", (40, 40), "gray").save(tiny_images / "small.png")
    assert main(["train", str(photos), "--out", str(tmp_path / "run"), "--model", "tiny",
                 "--steps", "1", "--patch", "64", "--val-dir", str(tiny_images)]) != 0
    assert "no validation image of at least 64x64" in capsys.readouterr().err
    assert not (tmp_path / "run" / "log.csv").exists()


def test_torchrun_ddp_with_validation(photos, tmp_path):
    """Two CPU ranks (gloo): gradients all-reduced, rank 0 validates and re-sizes its coder
    tables without breaking the next step, and both ranks stop together."""
    import subprocess
    import sys

    out = tmp_path / "ddp"
    run = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         "-m", "mambaic", "train", str(photos), "--out", str(out), "--model", "tiny", "--steps", "4",
         "--batch-size", "2", "--patch", "64", "--save-every", "2", "--val-every", "2",
         "--val-dir", str(photos), "--threads", "1"],
        capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert _log_steps(out) == [1, 2, 3, 4]
    assert {r["step"] for r in csv.DictReader(open(out / "val.csv"))} == {"2", "4"}
    assert load_model(out / "mambaic-tiny-fp32.safetensors")[1].card.training.steps == 4


def test_missing_validation_folder_is_named_as_such(photos, tmp_path, capsys):
    assert _train(photos, tmp_path / "run", 1, "--val-dir", str(tmp_path / "val")) != 0
    assert "validation folder not found" in capsys.readouterr().err


def test_exported_weights_are_the_checkpoints_weight_average(photos, tmp_path):
    from safetensors.torch import load_file

    from mambaic.train.averaging import PREFIX

    out = tmp_path / "run"
    assert _train(photos, out, 4, "--ema", "0.9") == 0
    ckpt = load_file(str(out / "checkpoint.safetensors"))
    exported = load_file(str(out / "mambaic-tiny-fp32.safetensors"))
    name = "g_s.1.subpel_conv.0.weight"
    assert torch_equal(exported[name], ckpt[PREFIX + name])
    assert not torch_equal(exported[name], ckpt["model." + name])  # the average, not the last step
    card = json.loads((out / "model_card.json").read_text())
    assert card["training"]["weights"] == "exponential moving average, decay 0.9"

    assert _train(photos, out, 6, "--ema", "0.9") == 0  # resumes the average with the run
    assert load_model(out / "mambaic-tiny-fp32.safetensors")[1].card.training.steps == 6


def torch_equal(a, b) -> bool:
    import torch

    return a.shape == b.shape and bool(torch.equal(a, b))


def test_non_finite_steps_are_skipped_and_a_run_of_them_stops_training(photos, tmp_path, monkeypatch):
    import math

    import torch

    import mambaic.train.loop as loop

    real_loss, calls = loop.rate_distortion_loss, {"n": 0}

    def sometimes_nan(out, x, lam):
        calls["n"] += 1
        losses = real_loss(out, x, lam)
        if calls["n"] == 2 or calls["n"] > 3:
            losses["loss"] = losses["loss"] * float("nan")
        return losses

    monkeypatch.setattr(loop, "rate_distortion_loss", sometimes_nan)
    out = tmp_path / "run"
    cfg = TrainConfig(data=str(photos), out=str(out), model="tiny", steps=100, batch_size=2, patch=64,
                      save_every=1000, warmup=0)
    with pytest.raises(loop.DivergedError, match="25 consecutive steps .* lower --lr"):
        loop.train(cfg)
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert len(rows) == 3 + loop.MAX_BAD_STEPS
    assert math.isnan(float(rows[1]["loss"])) and not math.isnan(float(rows[2]["loss"]))
    from safetensors.torch import load_file

    saved = load_file(str(out / "checkpoint.safetensors"))
    weights = [v for k, v in saved.items() if k.startswith("model.") and v.is_floating_point()]
    assert weights and all(torch.isfinite(v).all() for v in weights)  # bad steps were never applied


def test_scaled_copies_add_denser_detail_and_skip_too_small_ones():
    from mambaic.train.data import PatchSampler, scaled_copies

    photo = np.zeros((200, 300, 3), np.uint8)
    sizes = [c.shape for c in scaled_copies(photo, (1.0, 0.5, 0.25), min_side=64)]
    assert sizes == [(200, 300, 3), (100, 150, 3)]  # 0.25 would be 50 px high: below a patch
    sampler = PatchSampler([c for c in scaled_copies(photo, (1.0, 0.5), 64)], patch=64)
    assert tuple(sampler.batch(3).shape) == (3, 3, 64, 64)


def test_scales_must_be_factors_up_to_one(photos, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["train", str(photos), "--out", str(tmp_path), "--scales", "1,2"])
    assert "factors in (0, 1]" in capsys.readouterr().err
    assert _train(photos, tmp_path / "run", 1, "--scales", "1,0.75") == 0
    assert json.loads((tmp_path / "run" / "train_config.json").read_text())["scales"] == [1.0, 0.75]


def test_detail_draws_prefer_textured_crops():
    from mambaic.train.data import PatchSampler, detail

    flat = np.full((64, 256, 3), 128, np.uint8)
    stripes = np.zeros((64, 256, 3), np.uint8)
    stripes[:, ::2] = 255
    photo = np.concatenate([flat, stripes], axis=1)  # left half flat, right half striped
    sampler = PatchSampler([photo], patch=64, seed=1, detail_draws=4)
    textured = sum(detail((b * 255).byte().permute(1, 2, 0).numpy()) > 100 for b in sampler.batch(40))
    uniform = PatchSampler([photo], patch=64, seed=1, detail_draws=1)
    textured_uniform = sum(detail((b * 255).byte().permute(1, 2, 0).numpy()) > 100 for b in uniform.batch(40))
    assert textured > textured_uniform and textured >= 30
    with pytest.raises(ValueError, match="detail_draws"):
        PatchSampler([photo], patch=64, detail_draws=0)


def test_detail_draws_option_reaches_the_run_config(photos, tmp_path, capsys):
    assert main(["train", str(photos), "--out", str(tmp_path), "--detail-draws", "0"]) != 0
    assert "--detail-draws must be 1 or more" in capsys.readouterr().err
    assert _train(photos, tmp_path / "run", 1, "--detail-draws", "3") == 0
    assert json.loads((tmp_path / "run" / "train_config.json").read_text())["detail_draws"] == 3
    card = json.loads((tmp_path / "run" / "model_card.json").read_text())
    assert card["training"]["data"].endswith("each patch the most detailed of 3 random crops")


def test_quality_tilt_draws_high_qualities_more_often_and_stays_in_range():
    import random

    from mambaic.train.loop import draw_quality

    uniform = [draw_quality(random.Random(1), 0.0) for _ in range(1)]
    assert 1.0 <= uniform[0] <= 5.0
    rng = random.Random(0)
    tilted = np.array([draw_quality(rng, 0.5) for _ in range(20000)])
    assert tilted.min() >= 1.0 and tilted.max() <= 5.0
    # density 1 + t(2s - 1) on s in [0, 1]: mean s = 1/2 + t/6, so mean q = 1 + 4(1/2 + 1/12)
    assert tilted.mean() == pytest.approx(1 + 4 * (0.5 + 0.5 / 6), abs=0.03)
    low, high = (tilted < 2).mean(), (tilted > 4).mean()
    assert high / low == pytest.approx(1.375 / 0.625, rel=0.1)  # densities at the band centres
    with pytest.raises(ValueError):
        draw_quality(rng, 1.0)


def test_quality_tilt_and_chroma_filter_options_reach_the_run(photos, tmp_path, capsys):
    assert main(["train", str(photos), "--out", str(tmp_path), "--quality-tilt", "1.5"]) != 0
    assert "--quality-tilt must be in [0, 1)" in capsys.readouterr().err
    assert _train(photos, tmp_path / "run", 1, "--quality-tilt", "0.5", "--chroma-filter", "on") == 0
    recorded = json.loads((tmp_path / "run" / "train_config.json").read_text())
    assert recorded["quality_tilt"] == 0.5 and recorded["chroma_filter"] is True
    model, _ = load_model(tmp_path / "run" / "mambaic-tiny-fp32.safetensors")
    assert model.cfg.chroma_filter


def _fixed_batch() -> "torch.Tensor":
    """Two 64x64 smooth, textured patches (seeded), as the sampler would hand them over."""
    import torch

    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:64, 0:64]
    base = np.stack([np.sin(xx / 6), np.cos(yy / 5), np.sin((xx + yy) / 9)], 0)
    patches = [(0.5 + 0.35 * base + rng.normal(0, 0.03, base.shape)).clip(0, 1) for _ in range(2)]
    return torch.tensor(np.stack(patches), dtype=torch.float32)


def test_training_lowers_the_loss_on_a_tiny_run(photos, tmp_path, monkeypatch):
    """The real loop (optimiser, lr schedule, clipping) on one fixed batch at a fixed quality:
    the mean loss of the last steps is well below that of the first ones."""
    import torch

    import mambaic.train.loop as loop

    batch = _fixed_batch()
    monkeypatch.setattr(loop.PatchSampler, "batch", lambda self, n: batch[:n].clone())
    monkeypatch.setattr(loop, "draw_quality", lambda rng, tilt=0.0: 3.0)
    out = tmp_path / "run"
    before = torch.get_num_threads()
    try:
        loop.train(TrainConfig(data=str(photos), out=str(out), model="tiny", steps=16, batch_size=2,
                               patch=64, lr=1e-3, warmup=0, ema=0, save_every=1000, threads=1))
    finally:
        torch.set_num_threads(before)
    losses = [float(r["loss"]) for r in csv.DictReader(open(out / "log.csv"))]
    assert len(losses) == 16 and all(np.isfinite(losses))
    first, last = np.mean(losses[:4]), np.mean(losses[-4:])
    assert last < 0.5 * first, losses  # about 0.25 here: the margin is for other torch builds


def _one_step(model, opt, aux_opt, batch, quality=3.0):
    import torch

    from mambaic.models.gain import lambda_for_quality
    from mambaic.models.loss import rate_distortion_loss

    torch.manual_seed(11)  # the training forward's quantisation noise
    losses = rate_distortion_loss(model(batch, quality), batch, lambda_for_quality(quality, model.cfg.lambdas))
    opt.zero_grad(set_to_none=True)
    losses["loss"].backward()
    opt.step()
    aux_opt.zero_grad(set_to_none=True)
    model.aux_loss().backward()
    aux_opt.step()


def _fresh(seed: int):
    import torch

    import mambaic.train.loop as loop
    from mambaic.models import build_model

    torch.manual_seed(seed)
    model = build_model("tiny").train()
    main_params, aux_params = loop._split_parameters(model)
    return model, loop._adam(main_params, 1e-3), loop._adam(aux_params, 1e-2)


def _hyper(groups: list[dict]) -> list[dict]:
    """Optimiser hyper-parameters without the parameter ids (JSON brings betas back as a list)."""
    return [{k: tuple(v) if isinstance(v, list) else v for k, v in g.items() if k != "params"}
            for g in groups]


def test_resume_restores_weights_and_optimiser_state_exactly(tmp_path):
    import torch

    from mambaic.train.checkpoint import load_checkpoint, save_checkpoint

    batch = _fixed_batch()
    model, opt, aux_opt = _fresh(seed=0)
    for _ in range(2):
        _one_step(model, opt, aux_opt, batch)
    path = tmp_path / "checkpoint.safetensors"
    save_checkpoint(path, model, opt, aux_opt, {"step": 2, "wall": 1.5, "seed": 0})

    resumed, r_opt, r_aux = _fresh(seed=1)  # other weights, empty optimisers
    name = "g_s.1.subpel_conv.0.weight"
    assert not torch.equal(resumed.state_dict()[name], model.state_dict()[name])
    assert load_checkpoint(path, resumed, r_opt, r_aux) == {"step": 2, "wall": 1.5, "seed": 0}

    saved, loaded = model.state_dict(), resumed.state_dict()
    assert saved.keys() == loaded.keys()
    assert all(torch.equal(saved[k], loaded[k]) for k in saved)  # weights and buffers (CDF tables)
    for original, restored in ((opt, r_opt), (aux_opt, r_aux)):
        a, b = original.state_dict(), restored.state_dict()
        assert len(a["state"]) == len(b["state"]) == len(original.param_groups[0]["params"])
        for idx, state in a["state"].items():
            assert state.keys() == b["state"][idx].keys() >= {"step", "exp_avg", "exp_avg_sq"}
            for key, value in state.items():
                assert torch.equal(torch.as_tensor(value), torch.as_tensor(b["state"][idx][key])), (idx, key)
            assert state["exp_avg_sq"].abs().sum() > 0  # real moments, not zeros on both sides
        assert _hyper(a["param_groups"]) == _hyper(b["param_groups"])

    # The proof that nothing was left out: the next step is bit-identical on both.
    _one_step(model, opt, aux_opt, batch)
    _one_step(resumed, r_opt, r_aux, batch)
    after, after_resumed = model.state_dict(), resumed.state_dict()
    assert all(torch.equal(after[k], after_resumed[k]) for k in after)


def test_the_loop_resumes_from_the_checkpoints_weights_and_moments(photos, tmp_path, monkeypatch):
    """`mambaic train` run again on the same folder restores the model and both optimisers from
    the checkpoint before its first new step, not only the step counter."""
    import torch
    from safetensors.torch import load_file

    import mambaic.train.loop as loop

    out = tmp_path / "run"
    assert _train(photos, out, 2, "--ema", "0") == 0
    saved = load_file(str(out / "checkpoint.safetensors"))
    seen = {}
    real_load = loop.load_checkpoint

    def spying(path, model, opt, aux_opt):
        progress = real_load(path, model, opt, aux_opt)
        seen["model"] = {k: v.clone() for k, v in model.state_dict().items()}
        seen["opt"] = {f"{prefix}.{idx}.{key}": torch.as_tensor(value).clone()
                       for prefix, o in (("opt", opt), ("aux_opt", aux_opt))
                       for idx, state in o.state_dict()["state"].items() for key, value in state.items()}
        return progress

    monkeypatch.setattr(loop, "load_checkpoint", spying)
    assert _train(photos, out, 3, "--ema", "0") == 0
    model_keys = [k for k in saved if k.startswith("model.")]
    assert model_keys and all(torch.equal(seen["model"][k[len("model."):]], saved[k]) for k in model_keys)
    opt_keys = [k for k in saved if k.startswith(("opt.", "aux_opt."))]
    assert set(opt_keys) == set(seen["opt"]) and any(k.endswith("exp_avg_sq") for k in opt_keys)
    assert all(torch.equal(seen["opt"][k], saved[k]) for k in opt_keys)
    assert float(saved["opt.0.step"]) == 2.0  # Adam had taken the first run's two steps


#: The loss trace of `test_loss_trace_is_unchanged_by_refactors`, from the loop before its split
#: into named steps (commit of 2026-12-03): a change of the numbers, not only of the code, fails it.
REFERENCE_LOSSES = [403.87021, 521.39233, 579.82074, 821.73083, 871.06171, 480.99899]


def test_loss_trace_is_unchanged_by_refactors(photos, tmp_path):
    """A fixed-seed tiny run through warm-up, validation, checkpoints and a resume (4 steps, then
    the same call with 6) logs the same losses as the reference; the API resumes by default."""
    import torch

    from mambaic.train.loop import train

    out = tmp_path / "run"
    before = torch.get_num_threads()
    try:
        for steps in (4, 6):
            train(TrainConfig(data=str(photos), out=str(out), model="tiny", steps=steps, batch_size=2,
                              patch=64, warmup=2, save_every=2, val_every=2, val_dir=str(photos),
                              threads=1, seed=5))
    finally:
        torch.set_num_threads(before)
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    assert [float(r["loss"]) for r in rows] == pytest.approx(REFERENCE_LOSSES, rel=1e-4)
