"""The MambaIC network: shapes, likelihoods, loss, variable rate, configs, exact coding."""

from __future__ import annotations

import math
from contextlib import contextmanager

import pytest
import torch

from mambaic.models import CONFIGS, build_model, get_config
from mambaic.models.gain import lambda_for_quality
from mambaic.models.loss import rate_distortion_loss
from mambaic.models.vss import cross_merge, cross_scan, cross_scan_paths


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return build_model("tiny")


@contextmanager
def coding_mode(model):
    """Eval mode with fresh coder tables for one test; the module-scoped model's train/eval mode
    is restored afterwards even when the test fails, so later tests see the mode they expect."""
    was_training = model.training
    model.eval()
    try:
        model.update(force=True)
        yield model
    finally:
        model.train(was_training)


def test_cross_scan_merge_is_four_times_identity():
    x = torch.randn(2, 5, 3, 7)
    assert torch.allclose(cross_merge(cross_scan(x), 3, 7), 4 * x)


def test_projecting_on_the_grid_then_scanning_equals_scanning_then_projecting():
    """SS2D applies its per-path projections before ordering them (`cross_scan_paths`); that is
    only right if path k of the result equals path k of `cross_scan` of the same projection."""
    x = torch.randn(2, 5, 3, 7)
    weights = torch.randn(4, 6, 5)
    grid = torch.einsum("kcd,bdhw->bkchw", weights, x)
    reference = torch.einsum("kcd,bkdl->bkcl", weights, cross_scan(x))
    assert torch.allclose(cross_scan_paths(grid), reference, atol=1e-5)


@pytest.mark.parametrize("hw", [(64, 64), (64, 192), (128, 64)])
def test_forward_shapes_and_likelihoods(tiny, hw):
    x = torch.rand(2, 3, *hw)
    out = tiny(x, 3.0)
    assert out["x_hat"].shape == x.shape
    for name, lik in out["likelihoods"].items():
        assert torch.all(lik > 0) and torch.all(lik <= 1), name
    cfg = tiny.cfg
    assert out["likelihoods"]["y"].shape == (2, cfg.M, hw[0] // 16, hw[1] // 16)
    assert out["likelihoods"]["z"].shape == (2, cfg.N, hw[0] // 64, hw[1] // 64)


def test_loss_backward_reaches_every_trained_parameter(tiny):
    tiny.zero_grad()
    x = torch.rand(2, 3, 64, 64)
    losses = rate_distortion_loss(tiny(x, 2.5), x, lambda_for_quality(2.5, tiny.cfg.lambdas))
    losses["loss"].backward()
    assert math.isfinite(losses["loss"].item()) and losses["bpp"].item() > 0
    missing = [n for n, p in tiny.named_parameters() if p.grad is None and not n.endswith("quantiles")]
    assert not missing, missing
    tiny.aux_loss().backward()
    assert tiny.entropy_bottleneck.quantiles.grad is not None


def test_lambda_interpolation_hits_the_paper_points():
    lams = get_config("paper").lambdas
    for q, lam in zip(range(1, 6), lams):
        assert lambda_for_quality(q, lams) == pytest.approx(lam)
    assert lams[1] < lambda_for_quality(2.5, lams) < lams[2]
    with pytest.raises(ValueError):
        lambda_for_quality(5.5, lams)


def test_gain_changes_rate_monotonically_at_init(tiny):
    g1, g5 = tiny.gain.gain(1.0), tiny.gain.gain(5.0)
    assert torch.all(g5 > g1)


@pytest.mark.parametrize("quality", [1.0, 3.7])
def test_compress_decompress_rebuilds_y_hat_exactly(tiny, quality):
    with coding_mode(tiny):
        _check_exact_coding(tiny, quality)
    assert tiny.training


def _check_exact_coding(tiny, quality):
    x = torch.rand(1, 3, 64, 128)
    y = tiny.g_a(x) * tiny.gain.gain(quality)
    hyper = tiny.hyper.compress(tiny.h_a(y))
    assert torch.equal(tiny.hyper.decompress(hyper.streams), hyper.output)
    latent = tiny.latent.compress(y, hyper.output)
    y_hat_dec = tiny.latent.decompress(latent.streams, hyper.output)
    assert torch.equal(latent.output, y_hat_dec)
    full = tiny.compress(x, quality)
    assert full.hyper == hyper.streams and full.latent == latent.streams
    x_hat = tiny.decompress(full, quality)
    assert torch.equal(x_hat, tiny.g_s(latent.output * tiny.gain.inverse_gain(quality)).clamp(0, 1))


def test_refinement_optimises_the_hyper_parameters_a_decoder_rebuilds(tiny):
    with coding_mode(tiny):
        z = tiny.h_a(tiny.g_a(torch.rand(1, 3, 64, 64))).requires_grad_()
        rounded = tiny.hyper.rounded(z)
        assert torch.allclose(rounded, tiny.hyper.compress(z.detach()).output, atol=1e-5)
        (gradient,) = torch.autograd.grad(rounded.sum(), z)
        assert gradient.abs().sum() > 0  # straight through the rounding


def test_corrupt_slice_is_detected(tiny):
    from mambaic.errors import DecodeMismatchError

    with coding_mode(tiny):
        s = tiny.compress(torch.rand(1, 3, 64, 64), 4.0)
        a, n = s.slices[1]
        s.slices[1] = (a, n[:-1] + bytes([n[-1] ^ 0x55])) if n else (a[:-1] + bytes([a[-1] ^ 0x55]), n)
        with pytest.raises(DecodeMismatchError):
            tiny.decompress(s, 4.0)
    assert tiny.training


def test_coding_mode_restores_training_when_the_test_fails(tiny):
    with pytest.raises(RuntimeError, match="boom"):
        with coding_mode(tiny):
            assert not tiny.training
            raise RuntimeError("boom")
    assert tiny.training and all(m.training for m in tiny.modules())


@pytest.mark.parametrize("switch", [
    {"use_wla": False}, {"use_spatial_context": False}, {"use_channel_context": False},
    {"context_block": "conv"}, {"transform_block": "transformer"}, {"transform_block": "conv"},
])
def test_ablation_switches_build_and_run(switch):
    model = build_model(CONFIGS["tiny"].with_(**switch))
    x = torch.rand(1, 3, 64, 64)
    assert model(x, 2.0)["x_hat"].shape == x.shape


def test_parameter_counts_of_named_configs():
    counts = {n: sum(p.numel() for p in build_model(n).parameters()) for n in ("tiny", "lite", "paper")}
    assert counts["tiny"] < counts["lite"] < counts["paper"]


def test_channels_last_input_trains_without_heap_corruption():
    """torch 2.13 CPU corrupts the heap in the backward pass of a strided 1x1 conv (the skip of
    ResidualBlockWithStride) fed channels-last input; the model must normalise the layout at the
    door. Run in a child process: a corrupted heap aborts the interpreter, not just the test."""
    import subprocess
    import sys

    code = (
        "import torch\n"
        "from mambaic.models import build_model\n"
        "torch.manual_seed(0); m = build_model('tiny')\n"
        "for _ in range(10):\n"
        "    x = torch.rand(2, 3, 64, 64).contiguous(memory_format=torch.channels_last)\n"
        "    m(x, 3.0)['x_hat'].sum().backward()\n"
        "print('ok')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-2000:]


def test_fp16_weights_keep_the_architectures_small_constants(tmp_path):
    """fp16 rounds the likelihood bound (1e-9) and the GDN pedestal (1.5e-11) to zero; a zero
    bound made training losses from shipped weights infinite. Such constants stay fp32, and
    files written with rounded ones load with the model's own values."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from mambaic.weights import load_model, save_weights

    bound = "latent.gaussian_conditional.likelihood_lower_bound.bound"
    pedestal = "g_s.1.igdn.beta_reparam.pedestal"
    path = tmp_path / "half.safetensors"
    save_weights(build_model("tiny"), path, half=True)
    stored = load_file(str(path))
    assert stored["g_a.0.conv1.weight"].dtype == torch.float16
    assert stored[bound].dtype == torch.float32 and stored[bound].item() == pytest.approx(1e-9)

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    old_style = {k: v.half() if v.is_floating_point() and v.numel() == 1 else v for k, v in stored.items()}
    assert old_style[bound].item() == 0.0 and old_style[pedestal].item() == 0.0
    old = tmp_path / "old.safetensors"
    save_file(old_style, str(old), metadata=meta)
    state = load_model(old)[0].state_dict()
    assert state[bound].item() == pytest.approx(1e-9) and state[pedestal].item() == pytest.approx(1.4552e-11)
