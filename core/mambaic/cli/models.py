"""List the model configurations with their size and cost.

Parameters are counted from the built network; MACs per pixel from a real forward pass on a
256x256 image (torch's FLOP counter for convolutions, linear layers and attention, plus the
selective scan counted analytically); fp16 size is the weight file size to expect.
"""

from __future__ import annotations

import argparse

HELP = "list model configurations with parameters and MACs per pixel"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="*", help="configs to measure (default: all)")


def run(args: argparse.Namespace) -> int:
    from mambaic.cli.common import UsageError
    from mambaic.models import CONFIGS
    from mambaic.models.complexity import measure

    names = args.names or list(CONFIGS)
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        raise UsageError(f"unknown config(s): {', '.join(unknown)}; known: {', '.join(CONFIGS)}")
    print(f"{'config':8} {'params':>12} {'kMACs/pixel':>12} {'fp16 MB':>8}  N    M    K")
    for n in names:
        c = measure(CONFIGS[n])
        cfg = CONFIGS[n]
        print(f"{n:8} {c.parameters:>12,} {c.macs_per_pixel / 1e3:>12.1f} {c.weights_mb_fp16:>8.1f}  "
              f"{cfg.N:<4} {cfg.M:<4} {cfg.num_slices}")
    return 0
