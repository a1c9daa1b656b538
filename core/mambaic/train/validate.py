"""Validation with real bytes: compress and decompress held-out crops through the rANS coder."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from mambaic.models import MambaIC
from mambaic.train.data import list_images, load_photo


def validation_crops(folder: str | Path, size: int = 256, limit: int = 4) -> list[torch.Tensor]:
    """Centre crops (size×size, a multiple of the model's padding) of the first `limit` images."""
    crops = []
    for p in list_images(folder)[:limit]:
        a = load_photo(p, max_side=768, min_side=size)
        if a is None:
            continue
        y, x = (a.shape[0] - size) // 2, (a.shape[1] - size) // 2
        crops.append(torch.from_numpy(a[y:y + size, x:x + size].copy()).permute(2, 0, 1)[None].float() / 255)
    return crops


@torch.no_grad()
def validate(model: MambaIC, folder: str | Path, qualities=(1.0, 3.0, 5.0)) -> list[dict]:
    """Mean payload bpp (from the coded bytes) and PSNR per quality over the validation crops."""
    model.update(force=True)
    device = next(model.parameters()).device
    crops = validation_crops(folder)
    rows = []
    for q in qualities:
        bpps, psnrs = [], []
        for x in crops:
            x = x.to(device)
            streams = model.compress(x, q)
            x_hat = model.decompress(streams, q)
            pixels = x.shape[2] * x.shape[3]
            bpps.append(8 * streams.payload_bytes / pixels)
            mse = torch.mean((torch.round(x_hat * 255) - torch.round(x * 255)) ** 2).item()
            psnrs.append(10 * math.log10(255 ** 2 / max(mse, 1e-10)))
        rows.append({"quality": q, "bpp": float(np.mean(bpps)), "psnr": float(np.mean(psnrs))})
    return rows
