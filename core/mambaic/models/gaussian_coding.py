"""rANS coding of Gaussian-modelled symbols with CompressAI's coder and tables.

We call the coder directly (rather than `GaussianConditional.compress`) so the integer symbols
are in our hands on both sides: the container stores their CRC, and a decoder whose entropy
parameters drifted detects it instead of showing garbage.
"""

from __future__ import annotations

import zlib

import numpy as np
import torch

from mambaic._compressai import GaussianConditional, RansDecoder, RansEncoder, gaussian_likelihood

#: Largest |symbol| the encoder writes. CompressAI's rANS encoder writes into a buffer of one
#: 32-bit word per symbol without bounds checks, and a value beyond a narrow Gaussian's table is
#: bypass-coded at up to 16 bits for the escape, 4 for the nibble count and 4 per nibble of the
#: value: at |s| <= 127 that is at most 28 bits, so even a stream of nothing but outliers fits
#: (with the final state word) and the buffer cannot overflow. 100 symbols of 70 000 made 508
#: bytes in a 400-byte buffer before this bound. Trained latents stay far inside it (largest
#: |symbol| at q 5 over both eval sets' crops: 31), so real images code exactly as before.
MAX_SYMBOL = 127


def to_coder(t: torch.Tensor) -> np.ndarray:
    """The one door from the model's device to the rANS coder, which runs on the CPU: int32
    values in a flat host array. Everything the coder reads goes through here, so a model on
    CUDA codes exactly like one on the CPU (and `.numpy()` never meets a device tensor)."""
    return t.detach().reshape(-1).to(device="cpu", dtype=torch.int32).numpy()


def from_coder(symbols: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """The way back: decoded symbols as a tensor of ``like``'s shape, dtype and device."""
    return torch.from_numpy(symbols).to(device=like.device, dtype=like.dtype).reshape(like.shape)


def _tables(gc: GaussianConditional) -> tuple[list, list, list]:
    cdf = gc.quantized_cdf
    return (to_coder(cdf).reshape(cdf.shape).tolist(), to_coder(gc.cdf_length).tolist(),
            to_coder(gc.offset).tolist())


def encode(gc: GaussianConditional, values: torch.Tensor, scales: torch.Tensor,
           means: torch.Tensor) -> tuple[bytes, np.ndarray, torch.Tensor]:
    """Code `values` (any shape) → (bytes, int32 host symbols, dequantised values symbols + means
    on the model's device)."""
    symbols = torch.round(values - means).clamp_(-MAX_SYMBOL, MAX_SYMBOL)
    host = to_coder(symbols)
    indexes = to_coder(gc.build_indexes(scales))
    data = RansEncoder().encode_with_indexes(host.tolist(), indexes.tolist(), *_tables(gc))
    return data, host, symbols.to(means.dtype) + means


def decode(gc: GaussianConditional, data: bytes, scales: torch.Tensor,
           means: torch.Tensor) -> tuple[np.ndarray, torch.Tensor]:
    """Inverse of `encode`: (bytes, scales, means) → (int32 host symbols, dequantised values on
    the means' device)."""
    indexes = to_coder(gc.build_indexes(scales))
    out = RansDecoder().decode_with_indexes(data, indexes.tolist(), *_tables(gc))
    host = np.asarray(out, dtype=np.int32)
    return host, from_coder(host, means) + means


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
    return gc.likelihood_lower_bound(gaussian_likelihood(gc, values + noise, scales, means))
