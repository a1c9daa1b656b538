"""The effort levels' table for docs/results/effort.md, from measured eval and bench runs.

Usage: python scripts/effort_table.py RUNS   (RUNS holds e0 … e3 from `mambaic eval DIR DIR
       --effort E --out RUNS/eE` and bench-e1 … bench-e3 from `mambaic bench --effort E --out`)

Per effort level and eval set: BD-rate (PSNR) against effort 0 and against the classic codecs
measured in RUNS/e0, and mean encode time per image from the eval's own timings; per level from
the bench runs: 768x512 encode and decode time and peak memory. Nothing is typed in by hand.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mambaic.codec.effort import EFFORT_STEPS
from mambaic.eval import bdrate


def _curve(path: Path) -> dict:
    return json.loads(path.read_text())["results"]


def _bd(anchor: dict, test: dict) -> str:
    try:
        return f"{bdrate.bd_rate(anchor['bpp'], anchor['psnr-rgb'], test['bpp'], test['psnr-rgb']):+.1f} %"
    except bdrate.NoOverlapError:
        return "no overlap"


def _bench_row(level: int, row: dict) -> str:
    peak = row["encode_peak_extra_mib"]
    return (f"| {level} | {row['encode_ms_median']:.0f} | {row['decode_ms_median']:.0f} | "
            f"{'n/a' if peak is None else f'{peak:.0f}'} | {row['bytes']:,} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path)
    args = parser.parse_args()
    sets = sorted(p.name for p in (args.runs / "e0").iterdir() if (p / "json").is_dir())
    classic = sorted(p.stem for p in (args.runs / "e0" / sets[0] / "json").glob("*.json")
                     if p.stem not in ("mambaic", "bd-rate"))
    head = ["effort", "steps", "set", "vs effort 0", *[f"vs {c}" for c in classic],
            "top q PSNR (dB)", "encode s/image"]
    print("| " + " | ".join(head) + " |\n|" + " --- |" * len(head))
    for level, steps in enumerate(EFFORT_STEPS):
        for name in sets:
            path = args.runs / f"e{level}" / name / "json" / "mambaic.json"
            if not path.exists():
                continue
            test = _curve(path)
            base = _curve(args.runs / "e0" / name / "json" / "mambaic.json")
            cells = [str(level), str(steps), name, _bd(base, test) if level else "0"]
            cells += [_bd(_curve(args.runs / "e0" / name / "json" / f"{c}.json"), test) for c in classic]
            times = test["encoding_time"]
            cells += [f"{test['psnr-rgb'][-1]:.2f}", f"{sum(times) / len(times):.2f}"]
            print("| " + " | ".join(cells) + " |")
    print()
    print("| effort | 768x512 encode (ms) | decode (ms) | encode peak (MiB) | bytes (q 3) |\n"
          "| --- | --- | --- | --- | --- |")
    for level in range(1, len(EFFORT_STEPS)):
        bench = args.runs / f"bench-e{level}" / "bench-cpu.json"
        if not bench.exists():
            continue
        rows = {r["name"]: r for r in json.loads(bench.read_text())["rows"]}
        if level == 1:
            plain = rows["mambaic"]
            print(_bench_row(0, plain))
        print(_bench_row(level, rows["mambaic-refined"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
