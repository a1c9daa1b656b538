"""Function-preserving widening of the half-resolution stage: the widened model decodes what the
narrow one did, its new channels learn from the first step, and the unsupported cases are refused."""

from __future__ import annotations

import pytest
import torch

from mambaic.models import build_model
from mambaic.models.config import TINY
from mambaic.train.widen import widen_half_resolution
from mambaic.weights import load_model, save_weights


def _trained_looking(seed: int = 0):
    """A tiny model whose tensors are all perturbed, so no zero in the old model hides a bug."""
    torch.manual_seed(seed)
    model = build_model(TINY)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model.eval()


def test_widened_model_reconstructs_and_codes_like_the_narrow_one(tmp_path):
    narrow = _trained_looking()
    wide = widen_half_resolution(narrow, 32)
    assert wide.cfg.widths == (32, *TINY.widths[1:])
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        a, b = narrow(x, 3.0), wide(x, 3.0)
    assert torch.allclose(a["x_hat"], b["x_hat"], atol=1e-5)
    # Saved and loaded as weights, the widened model keeps its width and its function.
    path = tmp_path / "wide.safetensors"
    save_weights(wide, path)
    loaded, _ = load_model(path)
    with torch.no_grad():
        assert torch.allclose(loaded.g_s(loaded.g_a(x)), narrow.g_s(narrow.g_a(x)), atol=1e-5)


def test_new_channels_receive_gradients_on_the_first_step():
    wide = widen_half_resolution(_trained_looking(), 32).train()
    x = torch.rand(2, 3, 64, 64)
    out = wide(x, 4.0)
    (out["x_hat"] - x).square().mean().backward()
    last = wide.g_s[-1][0].weight  # the final sub-pixel convolution reads the half-res channels
    assert last.grad[:, 16:].abs().sum() > 0, "zero-initialised outgoing weights must still learn"


def test_unsupported_widenings_are_refused():
    with pytest.raises(ValueError, match="exceed"):
        widen_half_resolution(_trained_looking(), TINY.widths[0])
    deep = build_model(TINY.with_(depths=(1, 1, 0, 1)))
    with pytest.raises(ValueError, match="depths"):
        widen_half_resolution(deep, 32)
