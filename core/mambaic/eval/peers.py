"""CompressAI's learned codecs as speed peers: ``mbt2018_mean`` and ``cheng2020_anchor``.

They bracket mambaic architecturally: mbt2018-mean is a plain mean-scale hyperprior (no context
model, fully parallel), cheng2020-anchor adds a serial autoregressive context model whose decoder
visits every latent position in turn. Weights are untrained (``pretrained=False``; nothing can be
downloaded here). The network cost does not depend on the weights, which is most of the time; the
rANS coder sees near-zero latents, so its share is somewhat lighter than with trained weights
(for cheng2020-anchor the per-position context network dominates anyway). Rates and quality from
untrained weights are meaningless and are not reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from mambaic._compressai import compressai  # noqa: F401  (installs the torchvision shim first)

PAD_MULTIPLE = 64  # both architectures downsample by 64 overall (g_a x16, h_a x4)


@dataclass(frozen=True)
class Peer:
    """A CompressAI zoo architecture at one quality index, ready to time."""

    name: str
    label: str
    quality: int
    note: str


PEERS: tuple[Peer, ...] = (
    Peer("mbt2018_mean", "CompressAI mbt2018-mean", 5,
         "quality 5 (N=192, M=320, M like the MambaIC paper); hyperprior, no context model"),
    Peer("cheng2020_anchor", "CompressAI cheng2020-anchor", 4,
         "quality 4 (N=192); serial autoregressive context model"),
)  # fmt: skip


def build(peer: Peer, device: str) -> torch.nn.Module:
    """The untrained model with its entropy tables built (``compress`` needs ``update`` first)."""
    from compressai import zoo

    model = getattr(zoo, peer.name)(quality=peer.quality, pretrained=False)
    model = model.to(device).eval()
    model.update(force=True)
    return model


def pad(x: torch.Tensor) -> torch.Tensor:
    """Replicate-pad a (1, 3, H, W) tensor to multiples of 64, as mambaic does."""
    h, w = x.shape[-2:]
    ph, pw = -h % PAD_MULTIPLE, -w % PAD_MULTIPLE
    return F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x


def coders(
    model: torch.nn.Module, x: torch.Tensor
) -> tuple[Callable[[], dict], Callable[[dict], torch.Tensor]]:
    """Encode and decode closures over one padded input (tensor in, tensor out)."""
    padded = pad(x)

    @torch.no_grad()
    def encode() -> dict:
        return model.compress(padded)

    @torch.no_grad()
    def decode(coded: dict) -> torch.Tensor:
        return model.decompress(coded["strings"], coded["shape"])["x_hat"]

    return encode, decode


def coded_bytes(coded: dict) -> int:
    """Total bytes of all strings a CompressAI ``compress`` returned."""
    return sum(len(s) for group in coded["strings"] for s in group)
