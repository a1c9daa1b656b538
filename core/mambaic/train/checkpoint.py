"""Resumable training checkpoints in safetensors (no pickle): model, both optimisers, progress.

Optimiser states are flattened into named tensors; their hyper-parameter groups and the training
position travel as JSON metadata. Writes are atomic so an interrupted save never destroys the
previous checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, safe_open, save

from mambaic.atomic import atomic_write
from mambaic.models import MambaIC, ModelConfig
from mambaic.weights import load_state

TAG = "mambaic-checkpoint"


def _flatten_optimizer(prefix: str, opt: torch.optim.Optimizer, out: dict) -> dict:
    sd = opt.state_dict()
    for idx, state in sd["state"].items():
        for name, value in state.items():
            t = value if torch.is_tensor(value) else torch.tensor(value)
            out[f"{prefix}.{idx}.{name}"] = t.detach().cpu().contiguous()
    return {"param_groups": sd["param_groups"]}


def _restore_optimizer(prefix: str, opt: torch.optim.Optimizer, tensors: dict, groups: dict) -> None:
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith(prefix + "."):
            _, idx, name = key.split(".", 2)
            state.setdefault(int(idx), {})[name] = value
    opt.load_state_dict({"state": state, "param_groups": groups["param_groups"]})


def save_checkpoint(path: str | Path, model: MambaIC, opt: torch.optim.Optimizer,
                    aux_opt: torch.optim.Optimizer, progress: dict,
                    extra: dict[str, torch.Tensor] | None = None) -> None:
    """`extra`: more named tensors (the weight average), read back by `read_tensors`."""
    path = Path(path)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tensors.update(extra or {})
    meta = {"format": TAG, "config": json.dumps(model.cfg.to_dict()), "progress": json.dumps(progress),
            "opt": json.dumps(_flatten_optimizer("opt", opt, tensors)),
            "aux_opt": json.dumps(_flatten_optimizer("aux_opt", aux_opt, tensors))}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, save(tensors, metadata=meta), overwrite=True)


def read_checkpoint_config(path: str | Path) -> ModelConfig:
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    if meta.get("format") != TAG:
        raise ValueError(f"{path}: not a mambaic training checkpoint")
    return ModelConfig.from_dict(json.loads(meta["config"]))


def read_tensors(path: str | Path, prefix: str) -> dict[str, torch.Tensor]:
    """The checkpoint's tensors whose names start with `prefix` (e.g. the weight average)."""
    with safe_open(str(path), framework="pt") as f:
        return {k: f.get_tensor(k) for k in f.keys() if k.startswith(prefix)}


def load_checkpoint(path: str | Path, model: MambaIC, opt: torch.optim.Optimizer,
                    aux_opt: torch.optim.Optimizer) -> dict:
    """Restore everything in place; returns the saved progress dict (step, rng, …)."""
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    tensors = load_file(str(path))
    model_state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    load_state(model, model_state)
    _restore_optimizer("opt", opt, tensors, json.loads(meta["opt"]))
    _restore_optimizer("aux_opt", aux_opt, tensors, json.loads(meta["aux_opt"]))
    return json.loads(meta["progress"])
