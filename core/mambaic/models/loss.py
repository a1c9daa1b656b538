"""The rate-distortion objective: λ·255²·MSE + R(ŷ) + R(ẑ), rates in bits per pixel."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def rate_distortion_loss(out: dict, x: torch.Tensor, lam: float) -> dict[str, torch.Tensor]:
    num_pixels = x.shape[0] * x.shape[2] * x.shape[3]
    bpp = {k: torch.log(v).sum() / (-math.log(2) * num_pixels) for k, v in out["likelihoods"].items()}
    mse = F.mse_loss(out["x_hat"], x)
    bpp_total = sum(bpp.values())
    return {"loss": lam * 255 ** 2 * mse + bpp_total, "mse": mse, "bpp": bpp_total,
            "bpp_y": bpp["y"], "bpp_z": bpp["z"]}
