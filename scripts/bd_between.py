"""BD-rate between two measured mambaic curves, e.g. two training runs of one experiment.

Usage: python scripts/bd_between.py ANCHOR.json TEST.json [TEST.json ...]

Each file is a `json/mambaic.json` written by `mambaic eval` (CompressAI's results layout, real
bytes). Prints, per test curve, the BD-rate against the anchor by PSNR and by MS-SSIM (dB), and
the PSNR at the highest quality of each: the controlled experiments in docs/results compare runs
this way, on every eval set.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from mambaic.eval import bdrate
from mambaic.eval.metrics import ms_ssim_db


def _curve(path: Path) -> dict[str, list[float]]:
    return json.loads(path.read_text())["results"]


def _rate(anchor: dict, test: dict, metric: str) -> str:
    def series(c: dict) -> tuple[list[float], list[float]]:
        pairs = [(b, v) for b, v in zip(c["bpp"], c[metric]) if v is not None and math.isfinite(v)]
        if metric == "ms-ssim-rgb":
            pairs = [(b, ms_ssim_db(v)) for b, v in pairs]
        return [b for b, _ in pairs], [v for _, v in pairs]

    try:
        return f"{bdrate.bd_rate(*series(anchor), *series(test)):+.2f} %"
    except bdrate.NoOverlapError:
        return "no overlap"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("anchor", type=Path)
    parser.add_argument("tests", type=Path, nargs="+")
    args = parser.parse_args()
    anchor = _curve(args.anchor)
    print(f"anchor {args.anchor}: top quality {anchor['bpp'][-1]:.4f} bpp, {anchor['psnr-rgb'][-1]:.2f} dB")
    for path in args.tests:
        test = _curve(path)
        print(f"{path}: BD-rate {_rate(anchor, test, 'psnr-rgb')} (PSNR), "
              f"{_rate(anchor, test, 'ms-ssim-rgb')} (MS-SSIM); top quality "
              f"{test['bpp'][-1]:.4f} bpp, {test['psnr-rgb'][-1]:.2f} dB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
