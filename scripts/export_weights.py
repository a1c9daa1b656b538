"""Export trained weights as the shipped ones (fp16 safetensors + model card JSON).

Usage: python scripts/export_weights.py SOURCE [DEST] [--history CARD] [--chroma-filter on|off]
       (DEST defaults to resources/weights/)

SOURCE is a run folder (its checkpoint.safetensors, train_config.json and val.csv are read) or a
weights file such as the fp32 file joined from a GPU call's parts (its own card is kept, and a
val.csv beside it is read). The card records steps, wall time, hardware, the stages behind
`--init-weights`, and the latest validation rows (real bytes).

`--history CARD` (the card of the weights shipped so far, resources/weights/model_card.json)
takes the earlier stages' text from that card, where it was written with more care than the
weights files record (older runs stored only a folder path as their data), and notes which
shipped weights the last of them became: the card then needs no editing by hand.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import torch

from mambaic.card import ModelCard, TrainingStage, VariableRate
from mambaic.models import MambaIC, build_model
from mambaic.train.averaging import PREFIX as EMA_PREFIX
from mambaic.train.averaging import WeightAverage
from mambaic.train.checkpoint import load_checkpoint, read_checkpoint_config, read_tensors
from mambaic.train.loop import TrainConfig, latest_validation, model_card
from mambaic.weights import DEFAULT_WEIGHTS_NAME, load_model, save_weights, with_config

#: The train_config.json fields that fix the lr schedule (runs before 11-27 lack some of them).
SCHEDULE_FIELDS = ("warmup", "lr", "decay_from", "steps")


def from_run(run: Path) -> tuple[MambaIC, ModelCard]:
    ckpt = run / "checkpoint.safetensors"
    model = build_model(read_checkpoint_config(ckpt))
    main_p = [p for n, p in model.named_parameters() if not n.endswith("quantiles")]
    aux_p = [p for n, p in model.named_parameters() if n.endswith("quantiles")]
    progress = load_checkpoint(ckpt, model, torch.optim.Adam(main_p), torch.optim.Adam(aux_p))
    config = run / "train_config.json"
    recorded = json.loads(config.read_text()) if config.exists() else {}
    cfg = (TrainConfig.from_record(config, out=str(run)) if config.exists()
           else TrainConfig(data="", out=str(run)))
    averaged = read_tensors(ckpt, EMA_PREFIX)
    if averaged:  # training validates and exports the weight average: ship the same
        ema = WeightAverage(model, cfg.ema or 0.999)
        ema.load_state_tensors(averaged)
        model = ema.averaged(model)
    hardware = "CPU, 2 cores (shared with other work)" if cfg.device == "cpu" else cfg.device
    card = model_card(model, cfg, progress, recorded.get("world_size", 1), bool(averaged), hardware,
                      schedule_known=all(k in recorded for k in SCHEDULE_FIELDS))
    training = replace(card.training, data=card.training.data + " (evaluation images never used)")
    return model, replace(card, training=training)


def from_weights(path: Path) -> tuple[MambaIC, ModelCard]:
    model, info = load_model(path)
    card = info.card
    rate = card.variable_rate or VariableRate(quality_range=(1, 5), lambdas=tuple(model.cfg.lambdas))
    return model, replace(card, sha256=None, variable_rate=rate,
                          validation=latest_validation(path.parent / "val.csv"))


def _same_stage(a: TrainingStage, b: TrainingStage) -> bool:
    return a.steps == b.steps and a.wall_seconds == b.wall_seconds


def with_history(card: ModelCard, shipped: ModelCard) -> ModelCard:
    """`card` with its earlier stages read from the shipped card `shipped` where they match
    (same steps and wall time); each keeps the SHA-256 it ended at. The shipped card's own last
    stage, when it is one of them, gets a `shipped_as` note naming the shipped file."""
    stages = []
    for stage in card.earlier_training or ():
        match = next((s for s in shipped.stages if _same_stage(s, stage)), None)
        if match is None:
            stages.append(stage)
            continue
        # The shipped text wins, field by field; notes only one of them has are kept.
        merged = TrainingStage.from_dict({**stage.to_dict(), **match.to_dict(),
                                          "ended_at_sha256": stage.ended_at_sha256})
        if match is shipped.training and shipped.sha256:
            merged = replace(merged, shipped_as=f"the {shipped.training_steps}-step weights (sha256 "
                                                f"{shipped.sha256[:12]}...), exported from the same checkpoint in fp16")
        stages.append(merged)
    return replace(card, earlier_training=tuple(stages)) if stages else card


def main() -> int:
    parser = argparse.ArgumentParser(description="Export trained weights as the shipped ones.")
    parser.add_argument("source", type=Path, help="run folder or weights file")
    parser.add_argument("dest", type=Path, nargs="?", default=Path("resources/weights"))
    parser.add_argument("--history", type=Path, metavar="CARD",
                        help="model card of the weights shipped so far")
    parser.add_argument("--chroma-filter", choices=("on", "off"),
                        help="switch the fixed chroma low-pass after g_s (default: as trained)")
    args = parser.parse_args()
    source, dest = args.source, args.dest
    model, card = from_run(source) if source.is_dir() else from_weights(source)
    if args.chroma_filter is not None:
        model = with_config(model, chroma_filter=args.chroma_filter == "on")
        card = replace(card, chroma_filter=model.cfg.chroma_filter)
    if args.history is not None:
        card = with_history(card, ModelCard.read(args.history))
    model.eval()
    model.update(force=True)
    path = dest / DEFAULT_WEIGHTS_NAME
    sha = save_weights(model, path, card, half=True)
    replace(card, sha256=sha).write(dest / "model_card.json")
    steps = card.training_steps
    print(f"{path}: {steps} steps in all, sha256 {sha[:16]}…, {path.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
