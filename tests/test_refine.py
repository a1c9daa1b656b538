"""Encoder-side latent refinement: it must pay off in real bytes and pixels, stay reproducible,
report progress, honour cancellation and never change what a decoder needs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import mambaic
from mambaic.codec.codec import CodecConfig, load_codec
from mambaic.errors import Cancelled
from mambaic.models.gain import lambda_for_quality
from mambaic.models.refine import AnnealedRounding, rd_objective, refine_latents
from mambaic.resources import resource_dir
from mic_testing import sample_image


def _rd_cost(codec, image: Image.Image, data: bytes, quality: float) -> float:
    """λ·255²·MSE + bpp of a real file: what refinement sets out to lower."""
    decoded = np.asarray(codec.decompress(data).convert("RGB"), dtype=np.float64) / 255
    original = np.asarray(image.convert("RGB"), dtype=np.float64) / 255
    mse = float(np.mean((decoded - original) ** 2))
    lam = lambda_for_quality(quality, codec.model.cfg.lambdas)
    return lam * 255 ** 2 * mse + 8 * len(data) / (image.width * image.height)


def test_refinement_lowers_the_real_rate_distortion_cost_with_shipped_weights():
    codec = load_codec()
    with Image.open(resource_dir("samples") / "astronaut.png") as im:
        photo = im.convert("RGB").crop((200, 300, 328, 428))
    plain = codec.compress(photo, 3.0)
    refined = codec.compress(photo, 3.0, refine_steps=10)  # measured: cost × 0.943
    assert _rd_cost(codec, photo, refined, 3.0) < 0.97 * _rd_cost(codec, photo, plain, 3.0)


def test_refinement_lowers_the_objective_it_descends(codec):
    model = codec.model
    x = torch.from_numpy(np.asarray(sample_image(64, 64)).copy()).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        y = model.g_a(x) * model.gain.gain(2.0)
        z = model.h_a(y)

    def objective(y_, z_):
        with torch.no_grad():
            return rd_objective(model, x, y_, z_, 2.0, (64, 64),
                                torch.Generator().manual_seed(0)).item()

    y_ref, z_ref = refine_latents(model, x, y, z, 2.0, steps=5, valid=(64, 64))
    assert objective(y_ref, z_ref) < objective(y, z)
    assert not y_ref.requires_grad and not z_ref.requires_grad
    assert all(p.grad is None for p in model.parameters())  # only the latents were differentiated


def test_refined_files_are_reproducible_and_decode_with_any_codec(weights, codec):
    image = sample_image(70, 50, seed=4)
    first = codec.compress(image, 3.0, refine_steps=3)
    assert codec.compress(image, 3.0, refine_steps=3) == first
    assert first != codec.compress(image, 3.0)
    decoded = load_codec(weights).decompress(first)  # a fresh decoder needs nothing extra
    assert decoded.size == (70, 50)


def test_refinement_uses_the_smaller_refine_tile_size(weights):
    tiled = load_codec(weights, config=CodecConfig(refine_tile_size=64))
    image = sample_image(100, 60, seed=3)
    assert mambaic.read_info(tiled.compress(image, 3.0)).tile_size == 2048
    refined = tiled.compress(image, 3.0, refine_steps=1)
    assert mambaic.read_info(refined).tile_size == 64
    assert tiled.decompress(refined).size == (100, 60)


def test_progress_counts_refinement_steps_and_cancel_stops_them(codec):
    events = []
    codec.compress(sample_image(40, 30), 3.0, progress=events.append, refine_steps=4)
    seen = [(e.done, e.total, e.text) for e in events]
    K = codec.model.cfg.num_slices
    total = 1 + 4 + 2 * (K + 1) + 1  # analysis, steps, refined and plain codings, the choice
    assert [d for d, _, _ in seen] == list(range(1, total + 1))
    assert {t for _, t, _ in seen} == {total}
    assert [s for _, _, s in seen if s.startswith("refining")] == [f"refining {i}/4" for i in range(1, 5)]
    assert [s for _, _, s in seen if s.startswith("plain")] == (
        ["plain hyper"] + [f"plain slice {k}/{K}" for k in range(1, K + 1)])

    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 2  # after analysis and the first refinement step

    with pytest.raises(Cancelled):
        codec.compress(sample_image(40, 30), 3.0, cancel=cancel, refine_steps=50)
    assert len(calls) == 3


@pytest.mark.parametrize("steps", [-1, 1.5, True, "2"])
def test_bad_step_counts_are_refused(codec, steps):
    with pytest.raises(ValueError, match="refine_steps"):
        codec.compress(sample_image(20, 20), 3.0, refine_steps=steps)


def test_annealed_rounding_stays_between_neighbours_and_hardens_as_it_cools():
    residual = torch.linspace(-3.2, 3.2, 641)
    soft = AnnealedRounding(torch.Generator().manual_seed(0), (0.5, 0.05))
    warm = soft(residual)
    assert torch.all(warm >= torch.floor(residual)) and torch.all(warm <= torch.ceil(residual))
    assert torch.equal(AnnealedRounding(torch.Generator().manual_seed(0), (0.5, 0.05))(residual), warm)
    soft.anneal(9, 10)
    assert soft.temperature == pytest.approx(0.05)
    cold = soft(residual)
    clear = (residual - residual.round()).abs() < 0.4  # not within 0.1 of a half
    assert torch.allclose(cold[clear], residual.round()[clear], atol=1e-3)
    assert (warm - residual.round()).abs()[clear].mean() > 10 * (cold - residual.round()).abs()[clear].mean()


def test_annealed_rounding_passes_gradients_to_the_latents():
    residual = torch.tensor([0.3, 1.45, -0.7], requires_grad=True)
    AnnealedRounding(torch.Generator().manual_seed(1), (0.5, 0.05))(residual).sum().backward()
    assert torch.isfinite(residual.grad).all() and residual.grad.abs().sum() > 0


def test_the_latent_forward_with_straight_through_rounding_is_the_default_forward(codec):
    model = codec.model
    torch.manual_seed(0)
    y = torch.randn(1, model.cfg.M, 8, 8) * 3
    hyper = model.hyper(model.h_a(y)).output
    with torch.no_grad():
        default = model.latent(y, hyper)
        explicit = model.latent(y, hyper, rounding=lambda r: torch.round(r))
    assert torch.equal(default.output, explicit.output)
    assert torch.allclose(default.likelihoods, explicit.likelihoods)  # eval mode: rounded values
    with pytest.raises(ValueError, match="either noise or a rounding"):
        model.latent(y, hyper, noise=torch.Generator(), rounding=torch.round)


def test_sga_refinement_moves_the_latents_reproducibly(codec):
    model = codec.model
    x = torch.from_numpy(np.asarray(sample_image(64, 64, seed=2)).copy()).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        y = model.g_a(x) * model.gain.gain(3.0)
        z = model.h_a(y)
    first = refine_latents(model, x, y, z, 3.0, steps=4, valid=(64, 64), method="sga")
    again = refine_latents(model, x, y, z, 3.0, steps=4, valid=(64, 64), method="sga")
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    assert not torch.equal(first[0], y)
    with pytest.raises(ValueError, match="method must be one of"):
        refine_latents(model, x, y, z, 3.0, steps=1, valid=(64, 64), method="hard")
