"""Train (or keep training) a variable-rate MambaIC model on a folder of photos.

One model covers every quality q in [1, 5]: each batch draws q and trains on the matching lambda.
Checkpoints land in OUT/checkpoint.safetensors every --save-every steps and on Ctrl-C; run the
same command again to resume (--resume auto is the default). At the end fp32 and fp16 weights and
a model card are exported to OUT/. Photos are any images under DATA_DIR (the README says how to
gather a set); keep evaluation images out of it.

examples:
  mambaic train data/photos/train --out runs/lite --steps 20000 --val-dir data/photos/val
  mambaic train data/photos/train --init-weights resources/weights/mambaic-lite.safetensors
  torchrun --nproc-per-node 4 -m mambaic train data/ --device cuda --amp
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from mambaic.train.config import TrainConfig

HELP = "train or fine-tune a variable-rate model (resumable)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """One option per `TrainConfig` field that has CLI metadata: its default, help and settings
    come from the dataclass, so they are stated once (``data`` is the positional DATA_DIR)."""
    for f in dataclasses.fields(TrainConfig):
        if "cli" not in f.metadata:
            continue  # API-only (aux_lr, clip)
        kwargs: dict[str, Any] = {"help": f.metadata["help"], **f.metadata["cli"]}
        if f.default is dataclasses.MISSING:
            p.add_argument(f.name, **kwargs)
            continue
        if f.name in _FROM_FLAG:
            pass  # choices come from the metadata; `config_from_args` maps the word to the value
        elif isinstance(f.default, bool):
            kwargs["action"] = "store_true"
        elif isinstance(f.default, tuple):  # scales, the only tuple field
            kwargs.update(type=_scales, default=f.default)
        elif isinstance(f.default, (int, float)):
            kwargs.update(type=type(f.default), default=f.default)
        elif f.default is not None:
            kwargs["default"] = f.default
        p.add_argument("--" + f.name.replace("_", "-"), **kwargs)


#: Fields whose flag takes a word that `run` maps to the field's value.
_FROM_FLAG: dict[str, dict[str | None, Any]] = {"chroma_filter": {None: None, "on": True, "off": False}}


def _scales(text: str) -> tuple[float, ...]:
    """argparse type: comma-separated factors in (0, 1]."""
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = ()
    if not values or not all(0 < v <= 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected factors in (0, 1] separated by commas, got {text!r}")
    return values


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The validated config of a parsed command line; a bad value is a usage error naming its flag."""
    from mambaic.cli.common import UsageError
    from mambaic.train.config import TrainConfigError

    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig) if "cli" in f.metadata}
    for name, words in _FROM_FLAG.items():
        values[name] = words[values[name]]
    try:
        return TrainConfig(**values)
    except TrainConfigError as exc:
        raise UsageError(f"--{exc.name.replace('_', '-')} {exc.problem}") from exc


def run(args: argparse.Namespace) -> int:
    from mambaic.train.loop import train

    path = train(config_from_args(args))
    print(f"weights: {path}")
    return 0
