"""Validation with real bytes: compress and decompress held-out crops through the rANS coder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from mambaic.models import MambaIC
from mambaic.psnr import psnr_from_mse
from mambaic.train.data import list_images, load_photo


def validation_crops(folder: str | Path, size: int = 256, limit: int = 4) -> list[torch.Tensor]:
    """Centre crops of the first `limit` usable images: size×size, or the largest multiple of
    64 that fits a smaller image, so a folder of small photos still validates.

    Raises ValueError when no image is at least 64×64: validation that measures nothing must
    fail when training starts, not hours later.
    """
    crops = []
    for p in list_images(folder, role="validation"):
        a = load_photo(p, max_side=768, min_side=64)
        if a is None:
            continue
        side = min(size, min(a.shape[:2]) // 64 * 64)
        y, x = (a.shape[0] - side) // 2, (a.shape[1] - side) // 2
        crops.append(torch.from_numpy(a[y:y + side, x:x + side].copy()).permute(2, 0, 1)[None].float() / 255)
        if len(crops) == limit:
            break
    if not crops:
        raise ValueError(f"no validation image of at least 64x64 pixels under {folder}")
    return crops


@torch.no_grad()
def validate(model: MambaIC, folder: str | Path, qualities=(1.0, 3.0, 5.0)) -> list[dict]:
    """Mean payload bpp (from the coded bytes) and PSNR per quality over the validation crops."""
    model.update(force=True)
    device = next(model.parameters()).device
    crops = validation_crops(folder)  # re-read each time: a few small files, no state to keep
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
            psnrs.append(psnr_from_mse(mse))
        rows.append({"quality": q, "bpp": float(np.mean(bpps)), "psnr": float(np.mean(psnrs))})
    return rows
