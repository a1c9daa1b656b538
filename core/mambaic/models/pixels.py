"""The model's output as the pixel values a decoder writes: the one place that rounding is made."""

from __future__ import annotations

import torch


def pixel_values(x_hat: torch.Tensor) -> torch.Tensor:
    """x̂ in [0, 1] → the 0…255 values a decoder stores, as floats (NaN → 0, clamped, rounded
    to nearest). The codec writes these as uint8; the encoder's rate-distortion choice measures
    its error on exactly the same values, so the two cannot drift apart."""
    return (torch.nan_to_num(x_hat.detach().float(), nan=0.0).clamp(0, 1) * 255).round()
