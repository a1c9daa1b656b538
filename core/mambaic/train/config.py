"""What a training run is asked to do, checked once, in one place.

`TrainConfig` is the single home of every training setting's default, its command-line flag and
help text (`field` metadata, read by `mambaic.cli.train`) and its validation (`__post_init__`), so
the API and the CLI can no longer drift apart. A run records its config as train_config.json;
`TrainConfig.from_record` reads that back, including records of older runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from mambaic.errors import MambaICError


class TrainConfigError(MambaICError, ValueError):
    """A training setting is out of range; `name` is the field (its flag is ``--name`` with dashes)."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name} {problem}")
        self.name, self.problem = name, problem


def _opt(default: Any, help: str | None = None, **cli: Any) -> Any:
    """A field with a command-line flag: its help and any further argparse settings (`metavar`,
    `choices`). A field made without it (plain `field`) is API-only: recorded, never parsed."""
    return field(default=default, metadata={"help": help, "cli": cli})


@dataclass
class TrainConfig:
    """One training run's settings. Field order is the order of ``mambaic train --help``."""

    data: str = field(metadata={"help": "folder of training photos (searched recursively)",
                                "cli": {"metavar": "DATA_DIR"}})
    out: str = _opt("runs/lite", "run folder: checkpoint, logs, exported weights")
    model: str = _opt("lite", "model config name: lite, paper or tiny")
    steps: int = _opt(100_000, "total optimisation steps")
    batch_size: int = _opt(8)
    patch: int = _opt(256, "square crop size (a multiple of 64)")
    max_side: int = _opt(768, "down-scale photos so the short side is at most this (hides JPEG artefacts)")
    scales: tuple[float, ...] = _opt(
        (1.0,), "also train on copies of each photo down-scaled by these factors "
                "(e.g. 1,0.75,0.5: denser detail); default 1", metavar="S,S,...")
    detail_draws: int = _opt(
        1, "make each patch the most detailed (largest luma gradient) of K random crops; "
           "counters smooth sources such as wallpapers (default 1: uniform crops)", metavar="K")
    quality_tilt: float = _opt(
        0.0, "draw high qualities more often: density 1-T at q=1 rising to 1+T at q=5 "
             "(0 <= T < 1; default 0: uniform)", metavar="T")
    lr: float = _opt(1e-4)
    aux_lr: float = 1e-3  # API only, like clip
    decay_from: float = _opt(0.8, "fraction of --steps after which the learning rate falls to lr/10")
    warmup: int = _opt(500, "steps of linear learning-rate warm-up at the start of a run (default 500)")
    ema: float = _opt(0.999, "decay of the weight average that is validated and exported (0: off)")
    clip: float = 1.0  # gradient-norm clip of the main optimiser; API only
    seed: int = _opt(0)
    device: str = _opt("cpu", "cpu or cuda")
    amp: bool = _opt(False, "bfloat16 autocast on CUDA")
    threads: int = _opt(0, "torch CPU threads (0: default)")
    save_every: int = _opt(200)
    val_every: int = _opt(1000)
    val_dir: str | None = _opt(None, "held-out photos for validation with real bytes")
    # "auto" (the default of the API and the CLI alike): out/checkpoint.safetensors if present,
    # so running the same command or call again continues the run; None: always start afresh.
    resume: str | None = _opt("auto", "checkpoint to resume from; 'auto' = OUT/checkpoint.safetensors if present")
    init_weights: str | None = _opt(None, "start a new run from these weights (e.g. the shipped ones)")
    chroma_filter: bool | None = _opt(
        None, "switch the fixed chroma low-pass after g_s for this run (models/chroma.py); "
              "default: as the starting weights have it", choices=("on", "off"))
    patches_npy: str | None = _opt(None, "train on a pre-cut patch set (N,H,W,3 uint8 .npy) instead")

    def __post_init__(self) -> None:
        self.scales = tuple(float(s) for s in self.scales)  # a JSON record holds a list
        _check(self.patch > 0 and self.patch % 64 == 0, "patch", f"must be a multiple of 64, got {self.patch}")
        _check(self.steps >= 0, "steps", f"must be 0 or more, got {self.steps}")
        _check(self.batch_size >= 1, "batch_size", f"must be 1 or more, got {self.batch_size}")
        _check(bool(self.scales) and all(0 < s <= 1 for s in self.scales), "scales",
               f"must be factors in (0, 1], got {self.scales}")
        _check(self.detail_draws >= 1, "detail_draws", f"must be 1 or more, got {self.detail_draws}")
        _check(0 <= self.quality_tilt < 1, "quality_tilt", f"must be in [0, 1), got {self.quality_tilt}")
        _check(self.lr > 0, "lr", f"must be positive, got {self.lr}")
        _check(self.aux_lr > 0, "aux_lr", f"must be positive, got {self.aux_lr}")
        _check(0 <= self.decay_from <= 1, "decay_from", f"must be a fraction in [0, 1], got {self.decay_from}")
        _check(self.warmup >= 0, "warmup", f"must be 0 or more steps, got {self.warmup}")
        _check(self.ema == 0 or 0 < self.ema < 1, "ema",
               f"must be 0 (off) or a decay between 0 and 1, got {self.ema}")
        _check(self.clip > 0, "clip", f"must be positive, got {self.clip}")
        _check(self.threads >= 0, "threads", f"must be 0 (torch default) or more, got {self.threads}")
        _check(self.save_every >= 1, "save_every", f"must be 1 or more steps, got {self.save_every}")
        _check(self.val_every >= 1, "val_every", f"must be 1 or more steps, got {self.val_every}")

    def resume_path(self) -> Path | None:
        """The checkpoint this run continues from, or None for a fresh start."""
        if self.resume == "auto":
            path = Path(self.out) / "checkpoint.safetensors"
            return path if path.exists() else None
        return None if self.resume is None else Path(self.resume)

    @classmethod
    def from_record(cls, path: str | Path, **overrides: Any) -> TrainConfig:
        """The config a run recorded in its train_config.json (validated), with `overrides`.

        Keys this version does not know (``world_size``, fields of other versions) are ignored;
        fields an older record lacks take today's defaults.
        """
        recorded = json.loads(Path(path).read_text())
        known = {f.name for f in fields(cls)}
        return cls(**{"data": "", **{k: v for k, v in recorded.items() if k in known}, **overrides})


def _check(ok: bool, name: str, problem: str) -> None:
    if not ok:
        raise TrainConfigError(name, problem)
