"""The fixed chroma low-pass after g_s: removes colour at the Nyquist frequency, leaves luma and
grey images alone, and can be switched on for trained weights without changing their tensors."""

from __future__ import annotations

import torch

from mambaic.models import build_model
from mambaic.models.chroma import RGB_TO_YCC, ChromaLowpass
from mambaic.models.config import ModelConfig, TINY
from mambaic.weights import load_model, save_weights, with_config

YCC = torch.tensor(RGB_TO_YCC)


def _ycc(x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("cd,bdhw->bchw", YCC, x)


def test_grey_stays_grey_and_luma_is_untouched():
    f = ChromaLowpass()
    grey = torch.rand(1, 1, 24, 20).expand(1, 3, 24, 20)
    assert torch.allclose(f(grey), grey, atol=1e-6)
    x = torch.rand(2, 3, 24, 20)
    assert torch.allclose(_ycc(f(x))[:, 0], _ycc(x)[:, 0], atol=1e-6)
    assert not torch.allclose(f(x), x, atol=1e-3)  # a colourful random image does change


def test_a_period_two_colour_pattern_is_removed():
    cb_direction = torch.linalg.inv(YCC)[:, 1]  # pure Cb: zero luma
    sign = (-1.0) ** torch.arange(16)
    plaid = 0.5 + 0.1 * cb_direction[:, None, None] * sign[None, None, :] * torch.ones(3, 16, 1)
    out = ChromaLowpass()(plaid[None])
    inner = _ycc(out)[0, 1:, 1:-1, 1:-1]  # away from the replicated borders
    assert _ycc(plaid[None])[0, 1].abs().max() > 0.09
    assert inner.abs().max() < 1e-5


def test_switching_the_filter_keeps_the_tensors_and_old_configs_load_without_it(tmp_path):
    torch.manual_seed(0)
    model = build_model(TINY).eval()
    filtered = with_config(model, chroma_filter=True).eval()
    assert filtered.cfg.chroma_filter and not model.cfg.chroma_filter
    assert model.state_dict().keys() == filtered.state_dict().keys()
    y = torch.randn(1, TINY.M, 2, 2)
    with torch.no_grad():
        plain, smooth = model.g_s(y), filtered.g_s(y)
    assert torch.allclose(_ycc(plain)[:, 0], _ycc(smooth)[:, 0], atol=1e-5)
    assert not torch.allclose(plain, smooth, atol=1e-4)
    old = {k: v for k, v in TINY.to_dict().items() if k != "chroma_filter"}
    assert ModelConfig.from_dict(old).chroma_filter is False
    save_weights(filtered, tmp_path / "w.safetensors")
    assert load_model(tmp_path / "w.safetensors")[0].cfg.chroma_filter
