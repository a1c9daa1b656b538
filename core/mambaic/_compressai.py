"""Import CompressAI without torchvision.

CompressAI's ``__init__`` imports ``torchvision.transforms`` only to fill a registry we never use.
On CPU machines the only torchvision wheel that matches torch 2.13.0 is a CUDA build whose import
raises, so when the real module cannot be imported we register an empty stand-in first. Every
module of ours imports CompressAI through here.
"""

from __future__ import annotations

import sys
import types


def _ensure_torchvision_transforms() -> None:
    try:
        import torchvision.transforms  # noqa: F401
        return
    except Exception:  # missing, or a CUDA build that fails to register its ops on CPU torch
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
    tv = types.ModuleType("torchvision")
    tv.__path__ = []  # mark as a package so submodule imports resolve to our stand-ins
    transforms = types.ModuleType("torchvision.transforms")
    tv.transforms = transforms
    sys.modules["torchvision"] = tv
    sys.modules["torchvision.transforms"] = transforms


_ensure_torchvision_transforms()

import compressai  # noqa: E402
from compressai.ans import RansDecoder, RansEncoder  # noqa: E402
from compressai.entropy_models import EntropyBottleneck, GaussianConditional  # noqa: E402

__all__ = ["compressai", "EntropyBottleneck", "GaussianConditional", "RansEncoder", "RansDecoder"]
