"""CompressAI as mambaic uses it: imported without torchvision, its private calls kept here.

CompressAI's ``__init__`` imports ``torchvision.transforms`` only to fill a registry we never use;
`mambaic._runtime.install_torchvision_standin` (documented there) makes that import succeed on
machines where torchvision is missing or broken. Every module of ours imports CompressAI through
here, so the stand-in is always in place first.

Three things we need have no public name in CompressAI: the entropy bottleneck's medians and the
likelihoods of both entropy models at values we choose (encoder-side refinement takes the rate of
noisy latents from a seeded generator). They are the only private calls in the core, wrapped
below and checked once at import, so a CompressAI that renamed them fails here with the supported
version range instead of deep inside an encode.
"""

from __future__ import annotations

from mambaic._runtime import install_torchvision_standin

install_torchvision_standin()

import compressai  # noqa: E402
import torch  # noqa: E402
from compressai.ans import RansDecoder, RansEncoder  # noqa: E402
from compressai.entropy_models import EntropyBottleneck, GaussianConditional  # noqa: E402
from compressai.models.base import CompressionModel, get_scale_table  # noqa: E402
from compressai.ops import quantize_ste  # noqa: E402

#: The CompressAI releases whose private API below we have checked (scripts/setup.sh pins 1.2.8).
SUPPORTED_VERSIONS = ">=1.2.8,<1.3"

_PRIVATE_API = ((EntropyBottleneck, "_get_medians"), (EntropyBottleneck, "_likelihood"),
                (GaussianConditional, "_likelihood"))


def _check_private_api() -> None:
    missing = [f"{owner.__name__}.{name}" for owner, name in _PRIVATE_API if not hasattr(owner, name)]
    if missing:
        raise ImportError(f"mambaic needs CompressAI {SUPPORTED_VERSIONS}; the installed "
                          f"{getattr(compressai, '__version__', '(unknown version)')} lacks "
                          f"{', '.join(missing)}")


_check_private_api()


def bottleneck_medians(eb: EntropyBottleneck) -> torch.Tensor:
    """The per-channel medians the bottleneck quantises z around, shaped (1, C, 1, 1)."""
    return eb._get_medians().reshape(1, -1, 1, 1)


def bottleneck_likelihood(eb: EntropyBottleneck, values: torch.Tensor) -> torch.Tensor:
    """Likelihood of ``values`` (C, 1, N: channels first, as the bottleneck expects) under the
    factorised prior, before the lower bound."""
    likelihood, _, _ = eb._likelihood(values)
    return likelihood


def gaussian_likelihood(gc: GaussianConditional, values: torch.Tensor, scales: torch.Tensor,
                        means: torch.Tensor) -> torch.Tensor:
    """Likelihood of ``values`` under N(means, scales) quantised to unit bins, before the bound."""
    return gc._likelihood(values, scales, means)


__all__ = ["compressai", "CompressionModel", "EntropyBottleneck", "GaussianConditional", "RansEncoder", "RansDecoder",
           "SUPPORTED_VERSIONS", "bottleneck_likelihood", "bottleneck_medians", "gaussian_likelihood",
           "get_scale_table", "quantize_ste"]
