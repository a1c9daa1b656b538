"""Writers for a benchmark run: a Markdown table for people and JSON for scripts.

Every other codec is also given as a ratio to mambaic (their time / mambaic's time), so "0.01x"
reads as "a hundred times faster than mambaic" and ">1x" marks where mambaic is the faster one.
"""

from __future__ import annotations

import json
from pathlib import Path

from mambaic.eval import machine
from mambaic.eval.bench import PAPER_ANCHOR_MS, BenchRow, BenchRun


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f}"


def _mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def _ratio(value: float, reference: float) -> str:
    return f"{value / reference:.3g}x"


def _mambaic_row(run: BenchRun) -> BenchRow:
    return next(r for r in run.rows if r.kind == "mambaic")


def to_markdown(run: BenchRun) -> str:
    """The human-readable report."""
    ours = _mambaic_row(run)
    pixels = run.width * run.height
    lines = [
        f"# mambaic benchmark ({run.device})",
        "",
        f"- Date: {run.date}",
        f"- Machine: {machine.one_line(run.machine)}",
        f"- Image: {run.image}",
        f"- mambaic model: {run.model}",
        f"- Latency: median of {run.repeats} runs after {run.warmup} warm-up run(s); model "
        "loading excluded. Peak memory: extra resident memory (CPU) or allocated memory (CUDA) "
        "during one call, on top of what was resident before it (weights included there).",
        "- mambaic and the classic codecs are timed end to end (image in, file bytes out, and "
        "back to pixels); CompressAI peers from a tensor to rANS strings and back. Classic "
        "codecs always run on the CPU.",
        "",
        "## Latency",
        "",
        "| codec | setting | device | encode (ms) | decode (ms) | encode vs mambaic "
        "| decode vs mambaic | bpp | encode peak (MiB) | decode peak (MiB) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in run.rows:
        bpp = "n/a (untrained)" if row.num_bytes is None else f"{row.num_bytes * 8 / pixels:.3f}"
        lines.append(
            f"| {row.label} | {row.setting} | {row.device} | {_ms(row.encode.median_s)} "
            f"| {_ms(row.decode.median_s)} | {_ratio(row.encode.median_s, ours.encode.median_s)} "
            f"| {_ratio(row.decode.median_s, ours.decode.median_s)} | {bpp} "
            f"| {_mib(row.encode.peak_extra_mib)} | {_mib(row.decode.peak_extra_mib)} |"
        )
    lines += [
        "",
        "## mambaic per stage",
        "",
        "Median over separate runs with per-stage clocks (hooks on the networks, timestamps at "
        "the model's stage boundaries); entropy coding is each stage's time outside its networks. "
        "Medians of parts need not add up exactly to the median total.",
        "",
        "| stage | encode (ms) | decode (ms) |",
        "| --- | --- | --- |",
    ]
    stages = list(dict.fromkeys([*run.encode_stages, *run.decode_stages]))
    for stage in stages:
        enc = run.encode_stages.get(stage)
        dec = run.decode_stages.get(stage)
        lines.append(
            f"| {stage} | {'' if enc is None else _ms(enc)} | {'' if dec is None else _ms(dec)} |"
        )
    lines.append(
        f"| **total (sum of stages)** | {_ms(sum(run.encode_stages.values()))} "
        f"| {_ms(sum(run.decode_stages.values()))} |"
    )
    lines += [
        "",
        "## Reference",
        "",
        f"The MambaIC paper reports {PAPER_ANCHOR_MS['encode']} ms encode and "
        f"{PAPER_ANCHOR_MS['decode']} ms decode for its full model on Kodak-size images on an "
        "NVIDIA A100 GPU. Numbers measured here on another device or with another model size "
        "are not comparable with it.",
        "",
    ]
    return "\n".join(lines)


def to_json(run: BenchRun) -> dict[str, object]:
    """The run as plain data (milliseconds and MiB)."""

    def row(r: BenchRow) -> dict[str, object]:
        return {
            "name": r.name, "label": r.label, "kind": r.kind, "setting": r.setting,
            "device": r.device, "bytes": r.num_bytes,
            "encode_ms_median": r.encode.median_s * 1e3,
            "decode_ms_median": r.decode.median_s * 1e3,
            "encode_ms_runs": [s * 1e3 for s in r.encode.runs_s],
            "decode_ms_runs": [s * 1e3 for s in r.decode.runs_s],
            "encode_peak_extra_mib": r.encode.peak_extra_mib,
            "decode_peak_extra_mib": r.decode.peak_extra_mib,
        }  # fmt: skip

    return {
        "date": run.date, "machine": run.machine, "image": run.image,
        "width": run.width, "height": run.height, "device": run.device,
        "repeats": run.repeats, "warmup": run.warmup, "model": run.model,
        "rows": [row(r) for r in run.rows],
        "mambaic_encode_stages_ms": {k: v * 1e3 for k, v in run.encode_stages.items()},
        "mambaic_decode_stages_ms": {k: v * 1e3 for k, v in run.decode_stages.items()},
        "paper_anchor_a100_ms": PAPER_ANCHOR_MS,
    }  # fmt: skip


def write(run: BenchRun, out: Path, stem: str) -> list[Path]:
    """``out/<stem>.md`` and ``out/<stem>.json``."""
    out.mkdir(parents=True, exist_ok=True)
    md = out / f"{stem}.md"
    md.write_text(to_markdown(run))
    js = out / f"{stem}.json"
    js.write_text(json.dumps(to_json(run), indent=2) + "\n")
    return [md, js]
