"""Widen trained weights' half-resolution stage without changing what they decode.

Usage: python scripts/widen_weights.py SOURCE DEST --width 96

SOURCE is a weights file (e.g. a run's fp32 export); DEST gets the widened model in fp32 with
SOURCE's card, its training entry noting the widening, ready for `mambaic train --init-weights
DEST`. The copy is checked to decode a random image as SOURCE does (train/widen.py).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from mambaic.train.widen import widen_half_resolution
from mambaic.weights import load_model, save_weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("dest")
    parser.add_argument("--width", type=int, required=True, help="new half-resolution width")
    args = parser.parse_args()
    model, info = load_model(args.source)
    if info.card.training is None:  # widening is for trained weights: build a wider config instead
        parser.error(f"{args.source}: its model card records no training stage to note the widening on")
    before = model.cfg.widths[0]
    wide = widen_half_resolution(model.float(), args.width)
    training = replace(info.card.training, widened=f"half-resolution width {before} -> {args.width} after "
                                                   "this stage, function-preserving (scripts/widen_weights.py)")
    sha = save_weights(wide, args.dest, replace(info.card, training=training))
    print(f"{args.dest}: widths {wide.cfg.widths}, "
          f"{sum(p.numel() for p in wide.parameters()):,} parameters, sha256 {sha[:12]}")


if __name__ == "__main__":
    main()
