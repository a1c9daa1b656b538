"""Put the RD table of a `mambaic eval` run into the shipped model card.

Usage: python scripts/card_add_eval.py [RESULTS_DIR] [WEIGHTS_DIR] [--key KEY]
       (defaults: docs/results, resources/weights and rd_eval)

The card beside the weights (model_card.json) gets KEY: the dataset, date and machine, mambaic's
settings (an eval with `--refine` says so), the bpp / PSNR / MS-SSIM per quality averaged over the
images, and the BD-rate against each anchor. A refined eval goes under its own key, e.g.
`rd_eval_refine_10`, beside the plain one.
It refuses when the eval measured other weights than those the card describes (SHA-256), so a
card never shows numbers of a different file. The card inside the .safetensors file is left as
is: changing it would change the weights' hash that every .mic file records.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mambaic.card import ModelCard


def rd_eval(results: Path) -> tuple[dict, str | None]:
    ours = json.loads((results / "json" / "mambaic.json").read_text())
    bd = json.loads((results / "json" / "bd-rate.json").read_text())
    r = ours["results"]
    points = [{"quality": q, "bpp": round(b, 4), "psnr_db": round(p, 3), "ms_ssim": round(m, 5)}
              for q, b, p, m in zip(r["quality"], r["bpp"], r["psnr-rgb"], r["ms-ssim-rgb"])]
    table = {
        "source": "mambaic eval (real .mic bytes, decoded pixels)",
        "settings": ours.get("description"),
        "dataset": ours["meta"]["dataset"], "images": ours["meta"]["images"],
        "date": ours["meta"]["date"], "machine": ours["meta"]["machine"],
        "points": points,
        "bd_rate_pct_psnr": {a["anchor"]: None if a["bd_rate_psnr_pct"] is None else round(a["bd_rate_psnr_pct"], 1)
                             for a in bd["anchors"]},
        "bd_rate_note": "positive = more bits than the anchor at equal PSNR; null = the curves "
                        "share no PSNR range",
    }
    return table, ours["meta"].get("weights_sha256")


def main() -> int:
    parser = argparse.ArgumentParser(description="Put a mambaic eval's RD table into the model card.")
    parser.add_argument("results", type=Path, nargs="?", default=Path("docs/results"))
    parser.add_argument("weights", type=Path, nargs="?", default=Path("resources/weights"))
    parser.add_argument("--key", default="rd_eval", help="card field to write (default rd_eval)")
    args = parser.parse_args()
    results, key = args.results, args.key
    card_path = args.weights / "model_card.json"
    card = ModelCard.read(card_path)
    table, measured = rd_eval(results)
    if measured != card.sha256:
        print(f"refused: the eval measured weights {str(measured)[:12]}…, the card describes "
              f"{str(card.sha256)[:12]}… — re-run `mambaic eval` first", file=sys.stderr)
        return 1
    # Parsed again with the new table, so a known KEY (rd_eval, rd_eval_texture) is checked as an
    # RD evaluation and any other one is kept as it is, after the keys already there.
    ModelCard.from_dict({**card.to_dict(), key: table}).write(card_path)
    print(f"{card_path}: {key} from {table['date']} ({len(table['points'])} points)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
