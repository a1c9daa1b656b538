"""Plot a run's progress: validation (real bytes) and the training loss per quality, by step.

Usage: python scripts/plot_training.py RUN_DIR OUT.png

Left: PSNR and payload bpp on the held-out photos at q = 1, 3, 5 (val.csv, written by `mambaic
train --val-dir`). Right: training PSNR per quality band, averaged over 200-step windows
(log.csv). A flat PSNR across qualities means the synthesis cannot yet turn bits into detail.
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the non-interactive backend)

BANDS = ((1.0, 2.0), (2.0, 3.0), (3.0, 4.0), (4.0, 5.01))
WINDOW = 200


def main() -> int:
    run, out = Path(sys.argv[1]), Path(sys.argv[2])
    val = defaultdict(list)
    for r in csv.DictReader(open(run / "val.csv")):
        val[float(r["quality"])].append((int(r["step"]), float(r["payload_bpp"]), float(r["psnr"])))
    sums: dict[tuple, list[float]] = defaultdict(list)
    for r in csv.DictReader(open(run / "log.csv")):
        q, step = float(r["quality"]), int(r["step"])
        band = next(b for b in BANDS if b[0] <= q < b[1])
        sums[(band, step // WINDOW)].append(float(r["psnr"]))

    fig, (ax_val, ax_train) = plt.subplots(1, 2, figsize=(12, 4.5))
    ax_bpp = ax_val.twinx()
    for q, rows in sorted(val.items()):
        steps, bpp, psnr = zip(*sorted(rows))
        ax_val.plot(steps, psnr, "o-", label=f"PSNR q{q:g}")
        ax_bpp.plot(steps, bpp, "x--", alpha=0.6, label=f"bpp q{q:g}")
    ax_val.set(xlabel="step", ylabel="PSNR (dB)", title="validation, real bytes (held-out photos)")
    ax_bpp.set_ylabel("payload bpp")
    ax_val.legend(loc="upper left", fontsize=8)
    ax_bpp.legend(loc="upper right", fontsize=8)
    for band in BANDS:
        points = sorted((w * WINDOW + WINDOW // 2, sum(v) / len(v)) for (b, w), v in sums.items()
                        if b == band and len(v) >= 10)  # a window just begun would be noise
        if points:
            ax_train.plot(*zip(*points), label=f"q {band[0]:g}-{min(band[1], 5):g}")
    ax_train.set(xlabel="step", ylabel="PSNR (dB)", title=f"training patches, mean over {WINDOW} steps")
    ax_train.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
