"""rANS coding of Gaussian-modelled symbols with CompressAI's coder and tables.

We call the coder directly (rather than `GaussianConditional.compress`) so the integer symbols
are in our hands on both sides: the container stores their CRC, and a decoder whose entropy
parameters drifted detects it instead of showing garbage.
"""

from __future__ import annotations

import zlib

import numpy as np
import torch

from mambaic._compressai import GaussianConditional, RansDecoder, RansEncoder


def _tables(gc: GaussianConditional) -> tuple[list, list, list]:
    return (gc.quantized_cdf.tolist(), gc.cdf_length.reshape(-1).int().tolist(),
            gc.offset.reshape(-1).int().tolist())


def encode(gc: GaussianConditional, values: torch.Tensor, scales: torch.Tensor,
           means: torch.Tensor) -> tuple[bytes, np.ndarray, torch.Tensor]:
    """Code `values` (any shape) → (bytes, int32 symbols, dequantised values symbols + means)."""
    symbols = torch.round(values - means).to(torch.int32)
    indexes = gc.build_indexes(scales).to(torch.int32)
    cdf, lengths, offsets = _tables(gc)
    data = RansEncoder().encode_with_indexes(symbols.reshape(-1).tolist(), indexes.reshape(-1).tolist(),
                                             cdf, lengths, offsets)
    return data, symbols.numpy().astype(np.int32), symbols.to(means.dtype) + means


def decode(gc: GaussianConditional, data: bytes, scales: torch.Tensor,
           means: torch.Tensor) -> tuple[np.ndarray, torch.Tensor]:
    """Inverse of `encode`: (bytes, scales, means) → (int32 symbols, dequantised values)."""
    indexes = gc.build_indexes(scales).to(torch.int32)
    cdf, lengths, offsets = _tables(gc)
    out = RansDecoder().decode_with_indexes(data, indexes.reshape(-1).tolist(), cdf, lengths, offsets)
    symbols = torch.tensor(out, dtype=torch.int32).reshape(means.shape)
    return symbols.numpy(), symbols.to(means.dtype) + means


def symbols_crc(*arrays: np.ndarray) -> int:
    crc = 0
    for a in arrays:
        crc = zlib.crc32(np.ascontiguousarray(a, dtype="<i4").tobytes(), crc)
    return crc


def noisy_likelihood(gc: GaussianConditional, values: torch.Tensor, scales: torch.Tensor,
                     means: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Likelihood of ``values`` + U(−½, ½) noise drawn from ``generator``: the differentiable rate
    proxy of training, with noise the caller controls so the same input gives the same bytes."""
    noise = torch.rand(values.shape, generator=generator, device=values.device, dtype=values.dtype) - 0.5
    return gc.likelihood_lower_bound(gc._likelihood(values + noise, scales, means))
