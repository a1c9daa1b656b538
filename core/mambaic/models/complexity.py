"""Parameter and multiply-accumulate counts of a configuration, for docs and `mambaic models`.

Convolutions, linear layers and attention are counted by torch's FLOP counter on a real forward
pass; the selective scan is a custom op the counter cannot see, so its cost is added
analytically: per token, channel, path and state one multiply for exp(ΔA)·h, one for ΔB·u and
one for C·h (the exp itself is not counted).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from mambaic.models.config import ModelConfig
from mambaic.models.registry import build_model
from mambaic.models.vss import NUM_PATHS, SS2D

SCAN_MACS_PER_STATE = 3


@dataclass
class Complexity:
    name: str
    parameters: int
    macs_per_pixel: float  # of the training forward pass (analysis + hyper + context + synthesis)
    weights_mb_fp16: float


def measure(cfg: ModelConfig, size: int = 256) -> Complexity:
    model = build_model(cfg).eval()
    x = torch.rand(1, 3, size, size)
    scan_macs = 0

    def count_scan(module: SS2D, inputs, _output) -> None:
        nonlocal scan_macs
        _, h, w, _ = inputs[0].shape
        scan_macs += NUM_PATHS * module.d_inner * module.d_state * h * w * SCAN_MACS_PER_STATE

    hooks = [m.register_forward_hook(count_scan) for m in model.modules() if isinstance(m, SS2D)]
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x, 3.0)
    for h in hooks:
        h.remove()
    macs = counter.get_total_flops() / 2 + scan_macs
    params = sum(p.numel() for p in model.parameters())
    return Complexity(cfg.name, params, macs / (size * size), params * 2 / 1e6)
