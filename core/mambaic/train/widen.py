"""Function-preserving widening of the transforms' half-resolution stage (Net2Net-style).

The synthesis transform caps the top of the curve (docs/results/experiments.md), and its
half-resolution stage, where fine texture is made, is the narrowest in `lite` (48 channels).
Training a wider model from scratch would throw away weeks of CPU training; instead the trained
tensors are copied into a wider model and the new channels are wired so that, at the start, they
change nothing:

- layers that *produce* the w0 channels (the first block of g_a, the last upsampling block of
  g_s) get new output rows with a fresh layer's random initialisation;
- every weight from a new channel into an old one, and every weight of the *consumers* of w0
  (the second block of g_a, g_s's final sub-pixel convolution) from a new channel, is zero; GDN's
  cross terms from new channels get the value its reparametrisation maps to exactly zero.

Zero outgoing weights still receive gradients (the new channels' activations are not zero), so
the new capacity starts learning on the first step while the decoded images are, to float
precision, those of the narrow model. Only widths[0] is widened, and only where no base block
sits at that resolution (depths[0] == 0): a VSS block's LayerNorm mixes all channels, which this
scheme cannot keep exact.
"""

from __future__ import annotations

import torch
from torch import nn

from mambaic.models.mambaic import MambaIC
from mambaic.models.registry import build_model
from mambaic.weights import load_state

#: Largest output difference (on [0, 1] images) tolerated between the narrow and widened model.
PRESERVE_TOLERANCE = 1e-4


def _gamma_zero(gdn: nn.Module) -> float:
    """The stored value GDN's non-negative reparametrisation maps to exactly 0."""
    return float(gdn.gamma_reparam.pedestal.sqrt())


def _copy_into(new: torch.Tensor, old: torch.Tensor) -> None:
    """Old tensor into the leading corner of the new one (the rest keeps its fresh init)."""
    new[tuple(slice(0, n) for n in old.shape)] = old


def _wire(new_model: MambaIC, old_model: MambaIC) -> None:
    """Load ``old_model``'s tensors into ``new_model``, widening the parameters that grew."""
    state = dict(old_model.state_dict())
    with torch.no_grad():
        for name, fresh in new_model.named_parameters():
            old = state[name]
            if fresh.shape == old.shape:
                continue
            tensor = fresh.detach().clone()
            _copy_into(tensor, old)
            if tensor.dim() == 4 and tensor.shape[1] > old.shape[1]:
                # a convolution that reads w0: old outputs (or all, for a consumer) ignore new inputs
                rows = slice(0, old.shape[0]) if tensor.shape[0] > old.shape[0] else slice(None)
                tensor[rows, old.shape[1]:] = 0
            elif name.endswith(".gamma"):
                zero = _gamma_zero(new_model.get_submodule(name.rpartition(".")[0]))
                c = old.shape[0]
                tensor[:c, c:] = zero
                tensor[c:, :c] = zero
            state[name] = tensor
    load_state(new_model, state)


def widen_half_resolution(model: MambaIC, width: int) -> MambaIC:
    """A copy of ``model`` whose g_a/g_s half-resolution width is ``width``, decoding the same
    images as ``model`` (checked on a random image; ValueError if not)."""
    cfg = model.cfg
    w0, w1, w2 = cfg.widths
    if cfg.depths[0] != 0:
        raise ValueError("only a half-resolution stage without base blocks (depths[0] == 0) can be "
                         "widened exactly")
    if width <= w0:
        raise ValueError(f"new width {width} must exceed the current {w0}")
    wide = build_model(cfg.with_(widths=(width, w1, w2)))
    _wire(wide, model)
    wide.to(next(model.parameters()).device).train(model.training)
    _check_preserved(model, wide)
    return wide


def _check_preserved(old: MambaIC, new: MambaIC) -> None:
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, 64, 64, generator=generator).to(next(old.parameters()).device)
    with torch.no_grad():
        y_old, y_new = old.g_a(x), new.g_a(x)
        x_old, x_new = old.g_s(y_old), new.g_s(y_old)
    gap = max(float((y_old - y_new).abs().max() / (y_old.abs().max() + 1e-12)),
              float((x_old - x_new).abs().max()))
    if gap > PRESERVE_TOLERANCE:
        raise ValueError(f"widening changed the transforms' output by {gap:.2e}")
