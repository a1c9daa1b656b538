"""Weights on disk: safetensors only (never pickle), with the config and model card inside.

A weights file carries everything a decoder needs to agree with the encoder: the network, its
configuration, and the integer CDF tables of the entropy models. Storing the tables (rather than
rebuilding them from float parameters at load time) means every machine codes with identical
tables. The file's SHA-256 identifies the weights inside every `.mic` file.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save

from mambaic.atomic import atomic_write
from mambaic.card import CardError, ModelCard
from mambaic.errors import WeightsError
from mambaic.models import MambaIC, ModelConfig, build_model
from mambaic.resources import resource_dir

FORMAT_TAG = "mambaic-weights"
FORMAT_VERSION = "1"
DEFAULT_WEIGHTS_NAME = "mambaic-lite.safetensors"
#: Integer CDF tables whose shapes depend on the trained parameters.
_TABLE_SUFFIXES = ("._quantized_cdf", "._offset", "._cdf_length", ".scale_table")


@dataclass
class WeightsInfo:
    """What the app and the container need to know about loaded weights."""

    name: str
    path: Path
    sha256: str
    config: ModelConfig
    card: ModelCard = field(default_factory=ModelCard)


def shipped_weights_dir() -> Path:
    """The shipped weights folder: inside the wheel, or `resources/weights/` of the source tree."""
    return resource_dir("weights")


def default_weights_path() -> Path:
    """$MAMBAIC_WEIGHTS if set, else the shipped lite model."""
    env = os.environ.get("MAMBAIC_WEIGHTS")
    return Path(env) if env else shipped_weights_dir() / DEFAULT_WEIGHTS_NAME


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_weights(model: MambaIC, path: str | Path, card: ModelCard | None = None, half: bool = False) -> str:
    """Write model + config + card atomically; returns the file's SHA-256.

    `half` stores the parameters as fp16 (half the size); they are widened to fp32 on load, so
    a file's identity (its hash) stays the thing that must match between encoder and decoder.
    Buffers stay fp32: they are small constants such as the likelihood bound 1e-9 and the GDN
    pedestal 1.5e-11, which fp16 rounds to zero.
    """
    model.update(force=False)
    path = Path(path)
    params = {name for name, _ in model.named_parameters()}
    tensors = {}
    for k, v in model.state_dict().items():
        v = v.detach().cpu().contiguous()
        if half and k in params:
            v = v.half()
        tensors[k] = v
    meta = {"format": FORMAT_TAG, "format_version": FORMAT_VERSION,
            "config": json.dumps(model.cfg.to_dict()), "card": json.dumps((card or ModelCard()).to_dict())}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, save(tensors, metadata=meta), overwrite=True)
    return file_sha256(path)


def read_metadata(path: Path) -> tuple[ModelConfig, ModelCard]:
    """The configuration and card a weights file carries, checked: the file may come from anyone."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as e:
        raise WeightsError(f"{path}: not a readable safetensors weights file ({e})") from None
    if meta.get("format") != FORMAT_TAG:
        raise WeightsError(f"{path}: not a mambaic weights file (no '{FORMAT_TAG}' metadata)")
    if meta.get("format_version") != FORMAT_VERSION:
        raise WeightsError(f"{path}: weights format version {meta.get('format_version')!r} is not supported")
    try:
        cfg = ModelConfig.from_dict(json.loads(meta["config"]))
    except (KeyError, ValueError, TypeError) as e:
        raise WeightsError(f"{path}: damaged model configuration in metadata ({e})") from None
    try:
        card = ModelCard.from_dict(json.loads(meta.get("card", "{}")))
    except CardError as e:
        raise WeightsError(f"{path}: {e}") from None
    except ValueError as e:
        raise WeightsError(f"{path}: damaged model card in metadata ({e})") from None
    return cfg, card


def load_model(path: str | Path | None = None, device: str = "cpu") -> tuple[MambaIC, WeightsInfo]:
    """Build the model a weights file describes and load it, ready to code (eval mode)."""
    path = Path(path) if path is not None else default_weights_path()
    if not path.is_file():
        raise WeightsError(f"weights not found: {path}")
    cfg, card = read_metadata(path)
    model = build_model(cfg)
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise WeightsError(f"{path}: cannot read tensors ({e})") from None
    _keep_own_constants(model, tensors)
    try:
        load_state(model, {k: v.float() if v.is_floating_point() else v for k, v in tensors.items()})
    except RuntimeError as e:
        raise WeightsError(f"{path}: tensors do not match the '{cfg.name}' configuration ({e})") from None
    model.to(device).eval()
    model.update(force=False)  # no-op when the file carried the tables
    return model, WeightsInfo(name=cfg.name, path=path, sha256=file_sha256(path), config=cfg, card=card)


def _keep_own_constants(model: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    """Files written before buffers were kept in fp32 hold fp16 copies of the architecture's
    constants, some of them rounded to zero (a zero likelihood bound makes training losses
    infinite). Those constants are the model's own, so its values replace the rounded ones."""
    params = {name for name, _ in model.named_parameters()}
    for k, own in model.state_dict().items():
        saved = tensors.get(k)
        if (k not in params and not k.endswith(_TABLE_SUFFIXES) and saved is not None
                and saved.dtype == torch.float16 and saved.shape == own.shape):
            tensors[k] = own.clone()


def load_state(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    """`load_state_dict` (strict) that first adopts the saved shapes of the CDF tables.

    The entropy models size their integer tables from trained parameters, so a fresh model's
    buffers rarely have the saved shapes; everything else must match exactly.
    """
    own = model.state_dict()
    for k, v in state.items():
        if k.endswith(_TABLE_SUFFIXES) and k in own and own[k].shape != v.shape:
            owner, _, name = k.rpartition(".")
            model.get_submodule(owner)._buffers[name] = torch.empty_like(v)
    model.load_state_dict(state)


def with_config(model: MambaIC, **changes) -> MambaIC:
    """The same trained tensors under a changed configuration, for switches that add or remove
    no tensors (``chroma_filter``): a trained model can take them without retraining."""
    rebuilt = build_model(model.cfg.with_(**changes))
    try:
        load_state(rebuilt, model.state_dict())
    except RuntimeError as e:
        raise ValueError(f"configuration change {changes} does not keep the model's tensors ({e})") from None
    return rebuilt.to(next(model.parameters()).device).train(model.training)
