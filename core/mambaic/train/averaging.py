"""An exponential moving average (EMA) of the weights, which is what training exports.

On a short compute budget the run rarely gets to the end of its learning-rate decay; the
average over the last few thousand steps smooths out the noise of single batches (and of the
rate point drawn for each) without having to know in advance when training will stop. The
average starts with a short ramp (decay (1 + n) / (10 + n)) so that early on it follows the
weights rather than the initial ones.
"""

from __future__ import annotations

import copy

import torch

from mambaic.models import MambaIC

PREFIX = "ema."


class WeightAverage:
    """Shadow copies of every parameter of `model`, updated after each optimiser step."""

    def __init__(self, model: MambaIC, decay: float, updates: int = 0) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay, self.updates = decay, updates
        self.names = [name for name, _ in model.named_parameters()]
        self.shadow = [p.detach().clone() for _, p in model.named_parameters()]

    @torch.no_grad()
    def update(self, model: MambaIC) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        torch._foreach_lerp_(self.shadow, [p.detach() for p in model.parameters()], 1.0 - decay)

    @torch.no_grad()
    def averaged(self, model: MambaIC) -> MambaIC:
        """A copy of `model` carrying the averaged weights, with entropy-coder tables rebuilt."""
        avg = copy.deepcopy(model)
        params = dict(avg.named_parameters())
        for name, value in zip(self.names, self.shadow):
            params[name].copy_(value)
        avg.eval()
        avg.update(force=True)
        return avg

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {PREFIX + n: v.detach().cpu().contiguous() for n, v in zip(self.names, self.shadow)}

    @torch.no_grad()
    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> bool:
        """Adopt saved shadows when a checkpoint has them; False when it has none (older runs),
        in which case the average starts from the current weights."""
        if not any(k.startswith(PREFIX) for k in tensors):
            return False
        missing = [n for n in self.names if PREFIX + n not in tensors]
        if missing:
            raise ValueError(f"checkpoint's weight average lacks {len(missing)} parameters, e.g. {missing[0]}")
        for name, value in zip(self.names, self.shadow):
            value.copy_(tensors[PREFIX + name])
        return True
