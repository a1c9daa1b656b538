"""Export a training checkpoint as the shipped weights (fp16 safetensors + model card).

Usage: python scripts/export_weights.py RUN_DIR [DEST]   (DEST defaults to resources/weights/)
The card records the run's steps, wall time and hardware from the checkpoint, and the latest
validation rows (real bytes) from RUN_DIR/val.csv when present.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import torch

from mambaic.models import build_model
from mambaic.train.checkpoint import load_checkpoint, read_checkpoint_config
from mambaic.train.loop import lineage
from mambaic.weights import DEFAULT_WEIGHTS_NAME, save_weights


def main() -> int:
    run = Path(sys.argv[1])
    dest = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("resources/weights")
    ckpt = run / "checkpoint.safetensors"
    model = build_model(read_checkpoint_config(ckpt))
    main_p = [p for n, p in model.named_parameters() if not n.endswith("quantiles")]
    aux_p = [p for n, p in model.named_parameters() if n.endswith("quantiles")]
    progress = load_checkpoint(ckpt, model, torch.optim.Adam(main_p), torch.optim.Adam(aux_p))
    model.eval()
    model.update(force=True)
    train_cfg = json.loads((run / "train_config.json").read_text()) if (run / "train_config.json").exists() else {}
    val = []
    if (run / "val.csv").exists():
        rows = list(csv.DictReader(open(run / "val.csv")))
        last = max((int(r["step"]) for r in rows), default=None)
        val = [r for r in rows if int(r["step"]) == last]
    card = {
        "model": model.cfg.name,
        "parameters": sum(p.numel() for p in model.parameters()),
        "variable_rate": {"quality_range": [1, 5], "lambdas": list(model.cfg.lambdas)},
        "training": {"steps": progress["step"], "wall_seconds": round(progress["wall"], 1),
                     "batch_size": train_cfg.get("batch_size"), "patch": train_cfg.get("patch"),
                     "lr": train_cfg.get("lr"), "device": train_cfg.get("device"),
                     "hardware": "CPU, 2 cores (shared with other work)" if train_cfg.get("device") == "cpu"
                     else train_cfg.get("device"),
                     "data": "87 photos from Debian/PyPI packages (gather_photos.sh train set), "
                             "4 held out for validation; eval images never used"},
        **lineage(progress),
        "validation_payload_bpp_psnr": val,
    }
    path = dest / DEFAULT_WEIGHTS_NAME
    sha = save_weights(model, path, card, half=True)
    (dest / "model_card.json").write_text(json.dumps({**card, "sha256": sha}, indent=2) + "\n")
    print(f"{path}: step {progress['step']}, sha256 {sha[:16]}…, {path.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
