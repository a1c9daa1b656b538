"""Import CompressAI without torchvision.

CompressAI's ``__init__`` imports ``torchvision.transforms`` only to fill a registry we never use;
`mambaic._runtime.install_torchvision_standin` (documented there) makes that import succeed on
machines where torchvision is missing or broken. Every module of ours imports CompressAI through
here, so the stand-in is always in place first.
"""

from __future__ import annotations

from mambaic._runtime import install_torchvision_standin

install_torchvision_standin()

import compressai  # noqa: E402
from compressai.ans import RansDecoder, RansEncoder  # noqa: E402
from compressai.entropy_models import EntropyBottleneck, GaussianConditional  # noqa: E402

__all__ = ["compressai", "EntropyBottleneck", "GaussianConditional", "RansEncoder", "RansDecoder"]
