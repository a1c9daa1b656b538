"""Writers for an evaluation run: CompressAI-layout JSON, per-image CSV, Markdown and an RD plot.

The JSON files follow CompressAI's ``results/image/<dataset>/*.json`` layout (``name``,
``description``, ``meta``, ``results`` with ``bpp``/``psnr-rgb``/``ms-ssim-rgb``/timing lists), so
``compressai.utils.plot`` or any script written for those files can overlay our curves with the
published ones. The Markdown is written for people: BD-rates first, then where mambaic loses,
then every curve, then what the published references are and why they are not comparable.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mambaic.eval import machine, published
from mambaic.eval.curves import BdRow, Curve
from mambaic.eval.metrics import ms_ssim_db
from mambaic.eval.sweep import Measurement

RD_PLOT_MAX_BPP = 1.6  # the plot shows the 0.1-1.5 bpp range all curves are swept over


@dataclass
class EvalRun:
    """Everything one ``mambaic eval`` run produced, ready to be written out."""

    dataset: str  # directory the images came from
    images: list[str]
    machine: dict[str, object]
    date: str
    test_codec: str | None  # the codec BD-rates are computed for (mambaic), if it was run
    model: str  # description of the mambaic model/weights, or why it was not run
    measurements: list[Measurement]
    curves: list[Curve]
    bd_rows: list[BdRow]
    bd_self_test: float
    missing: dict[str, str] = field(default_factory=dict)
    weights_sha256: str | None = None  # of the mambaic weights measured, so results name them


def _fmt(value: float | None, digits: int = 2, suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}{suffix}"


def _signed_pct(value: float | None) -> str:
    return "n/a (no overlap)" if value is None else f"{value:+.2f} %"


def curve_json(curve: Curve, run: EvalRun) -> dict[str, object]:
    """One curve in CompressAI's results layout (NaN, which JSON lacks, becomes null)."""

    def clean(values: Sequence[float]) -> list[float | None]:
        return [None if math.isnan(v) else v for v in values]

    return {
        "name": curve.label,
        "description": curve.settings,
        "meta": {
            "source": "measured by mambaic eval",
            "dataset": run.dataset,
            "images": curve.images,
            "date": run.date,
            "machine": machine.one_line(run.machine),
            **({"weights_sha256": run.weights_sha256}
               if curve.codec == run.test_codec and run.weights_sha256 else {}),
        },
        "results": {
            "quality": list(curve.quality),
            "bpp": clean(curve.bpp),
            "psnr-rgb": clean(curve.psnr),
            "ms-ssim-rgb": clean(curve.ms_ssim),
            "encoding_time": clean(curve.encode_s),
            "decoding_time": clean(curve.decode_s),
        },
    }


def write_json(run: EvalRun, out: Path) -> list[Path]:
    """``out/json/<codec>.json`` per measured curve plus ``out/json/bd-rate.json``."""
    folder = out / "json"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for curve in run.curves:
        path = folder / f"{curve.codec}.json"
        path.write_text(json.dumps(curve_json(curve, run), indent=2) + "\n")
        paths.append(path)
    bd = {
        "test": run.test_codec,
        "method": "Bjontegaard delta rate, PCHIP in log-rate over the overlapping quality range",
        "self_test_10pct_fewer_bits": run.bd_self_test,
        "anchors": [
            {
                "anchor": row.anchor,
                "bd_rate_psnr_pct": row.psnr_rate,
                "bd_rate_ms_ssim_pct": row.ms_ssim_rate,
                "psnr_overlap_db": row.psnr_range,
            }
            for row in run.bd_rows
        ],
    }
    path = folder / "bd-rate.json"
    path.write_text(json.dumps(bd, indent=2) + "\n")
    return [*paths, path]


CSV_COLUMNS = (
    "codec", "image", "quality", "width", "height", "bytes", "bpp",
    "psnr_rgb", "ms_ssim_rgb", "encode_s", "decode_s",
)  # fmt: skip


def write_csv(measurements: Sequence[Measurement], path: Path) -> Path:
    """Every (codec, image, quality) measurement, one row each."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for m in measurements:
            writer.writerow(
                [m.codec, m.image, f"{m.quality:g}", m.width, m.height, m.num_bytes,
                 f"{m.bpp:.5f}", f"{m.psnr:.4f}", f"{m.ms_ssim:.6f}",
                 f"{m.encode_s:.5f}", f"{m.decode_s:.5f}"]
            )  # fmt: skip
    return path


def _label(run: EvalRun, codec: str) -> str:
    return next((c.label for c in run.curves if c.codec == codec), codec)


def _bd_section(run: EvalRun) -> list[str]:
    test = _label(run, run.test_codec) if run.test_codec else None
    lines = ["## BD-rate", ""]
    lines.append(
        f"Self-test: a curve with exactly 10 % fewer bits everywhere scores "
        f"{run.bd_self_test:.3f} % (expected -10.000 %)."
    )
    lines.append("")
    if not run.bd_rows:
        lines += ["No BD-rates: mambaic was not part of this run.", ""]
        return lines
    lines += [
        f"BD-rate of **{test}** against each anchor (negative = {test} needs fewer bits for the "
        "same quality; piecewise-cubic interpolation in log-rate over the overlapping range).",
        "",
        "| anchor | BD-rate (PSNR) | BD-rate (MS-SSIM dB) | PSNR overlap (dB) |",
        "| --- | --- | --- | --- |",
    ]
    for row in run.bd_rows:
        overlap = "none" if row.psnr_range is None else "{:.1f}-{:.1f}".format(*row.psnr_range)
        lines.append(
            f"| {_label(run, row.anchor)} | {_signed_pct(row.psnr_rate)} | "
            f"{_signed_pct(row.ms_ssim_rate)} | {overlap} |"
        )
    lines.append("")
    lines += [f"### Where {test} loses", ""]
    lines += _losses(run) or ["- On BD-rate it loses to none of the measured anchors."]
    lines.append("")
    return lines


def _losses(run: EvalRun) -> list[str]:
    """One line per anchor that beats the test codec on a BD-rate, or cannot be compared."""
    lines = []
    test = next(c for c in run.curves if c.codec == run.test_codec)
    for row in run.bd_rows:
        anchor = _label(run, row.anchor)
        if row.psnr_range is None:
            other = next(c for c in run.curves if c.codec == row.anchor)
            lines.append(f"- {_no_overlap(test, other, anchor)}")
            continue
        for metric, rate in (("PSNR", row.psnr_rate), ("MS-SSIM", row.ms_ssim_rate)):
            if rate is not None and rate > 0:
                lines.append(
                    f"- It needs {rate:.1f} % more bits than {anchor} for the same {metric}."
                )
    return lines


def _no_overlap(test: Curve, anchor: Curve, anchor_label: str) -> str:
    """Say plainly when one curve is worse everywhere; no BD-rate exists without an overlap."""
    best = max(range(len(test.psnr)), key=lambda i: test.psnr[i])
    worst = min(range(len(anchor.psnr)), key=lambda i: anchor.psnr[i])
    ours = f"{test.psnr[best]:.1f} dB at {test.bpp[best]:.3f} bpp"
    theirs = f"{anchor.psnr[worst]:.1f} dB at {anchor.bpp[worst]:.3f} bpp"
    if test.psnr[best] < anchor.psnr[worst] and test.bpp[best] >= anchor.bpp[worst]:
        return (
            f"Worse than {anchor_label} everywhere: our best point ({ours}) has lower PSNR than "
            f"its lowest ({theirs}) at a higher rate. No BD-rate exists without a common range."
        )
    return (
        f"No common PSNR range with {anchor_label} (our best {ours}, its lowest {theirs}), "
        "so no BD-rate."
    )


def _curve_section(curve: Curve) -> list[str]:
    lines = [
        f"### {curve.label}",
        "",
        f"{curve.settings}; mean over {curve.images} images per setting.",
        "",
        "| setting | bpp | PSNR (dB) | MS-SSIM | encode (ms) | decode (ms) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for i, q in enumerate(curve.quality):
        lines.append(
            f"| {q:g} | {curve.bpp[i]:.4f} | {_fmt(curve.psnr[i])} | {_fmt(curve.ms_ssim[i], 4)} "
            f"| {curve.encode_s[i] * 1e3:.1f} | {curve.decode_s[i] * 1e3:.1f} |"
        )
    lines.append("")
    return lines


def _published_section() -> list[str]:
    lines = [
        "## Published reference curves (not measured here)",
        "",
        "Dashed in the plot. These are other people's numbers on the 24-image **Kodak** set, not "
        "on the images above, so they show where the field is, not a like-for-like comparison; "
        "no BD-rate is computed against them.",
        "",
        "| curve | points | source |",
        "| --- | --- | --- |",
    ]
    for curve in published.CURVES:
        note = f" ({curve.note})" if curve.note else ""
        lines.append(f"| {curve.name} | {len(curve.bpp)}{note} | {curve.source} |")
    lines += [
        "",
        f"The MambaIC paper reports {published.MAMBAIC_PAPER_BD_RATE_VS_VTM_KODAK:+.2f} % BD-rate "
        "against VTM on Kodak for its full-size model trained 250 epochs on Flickr30k. Its full RD "
        "curve is published only as a figure, so only the one operating point given in its text "
        "is plotted.",
        "",
    ]
    return lines


def write_markdown(run: EvalRun, path: Path, plot_name: str | None) -> Path:
    """The human-readable report."""
    lines = [
        "# mambaic rate-distortion evaluation",
        "",
        f"- Date: {run.date}",
        f"- Images: {len(run.images)} from `{run.dataset}`: {', '.join(run.images)}",
        f"- Machine: {machine.one_line(run.machine)}",
        f"- mambaic model: {run.model}",
        "- bpp = bytes of the real output file x 8 / original pixels; PSNR on RGB with peak 255; "
        "MS-SSIM on RGB; each point is the mean over images at one setting (CompressAI).",
        "- Times are single-run wall clock per image on this machine (HEVC includes starting two "
        "ffmpeg processes).",
        "",
    ]
    if plot_name:
        lines += [f"![RD curves]({plot_name})", ""]
    lines += _bd_section(run)
    lines += ["## Measured curves", ""]
    for curve in run.curves:
        lines += _curve_section(curve)
    if run.missing:
        lines += ["## Codecs not run", ""]
        lines += [f"- {name}: {reason}" for name, reason in run.missing.items()]
        lines.append("")
    lines += _published_section()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    return path


def plot_rd(run: EvalRun, path: Path) -> Path | None:
    """PSNR and MS-SSIM (dB) against bpp; None (and no file) when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, (ax_psnr, ax_ssim) = plt.subplots(1, 2, figsize=(14, 7.5))
    visible_psnr: list[float] = []
    visible_ssim: list[float] = []
    for curve in run.curves:
        is_test = curve.codec == run.test_codec
        style = {"lw": 2.6, "color": "crimson", "zorder": 5} if is_test else {"lw": 1.3}
        ax_psnr.plot(curve.bpp, curve.psnr, marker="o", ms=4, label=curve.label, **style)
        ax_ssim.plot(curve.bpp, curve.ms_ssim_db, marker="o", ms=4, label=curve.label, **style)
        for b, p, s in zip(curve.bpp, curve.psnr, curve.ms_ssim_db, strict=True):
            if b <= RD_PLOT_MAX_BPP:
                visible_psnr.append(p)
                visible_ssim.append(s)
    colours = ("black", "dimgray", "teal", "olive", "purple")
    for colour, ref in zip(colours, published.CURVES, strict=True):
        label = f"{ref.name} (published, Kodak)"
        single = len(ref.bpp) == 1
        style = {
            "ls": "--",
            "color": colour,
            "lw": 1.0,
            "marker": "*" if single else "x",
            "ms": 12 if single else 5,
        }
        ax_psnr.plot(ref.bpp, ref.psnr_rgb, label=label, **style)
        if ref.ms_ssim_rgb:
            db = [ms_ssim_db(v) for v in ref.ms_ssim_rgb]
            ax_ssim.plot(ref.bpp, db, label=label, **style)
    title = f"{len(run.images)} images from {Path(run.dataset).name}"
    for ax, ylabel, seen in (
        (ax_psnr, "PSNR RGB (dB)", visible_psnr),
        (ax_ssim, "MS-SSIM RGB (dB, -10 log10(1 - MS-SSIM))", visible_ssim),
    ):
        finite = [v for v in seen if math.isfinite(v)]
        if finite:
            ax.set_ylim(min(finite) - 1.0, max(finite) + 1.0)
        ax.set_xlim(0.0, RD_PLOT_MAX_BPP)
        ax.set_xlabel("bits per pixel (from file bytes)")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.set_title(title)
    # One legend below both panels (the PSNR panel has every curve), so no curve is hidden.
    handles, labels = ax_psnr.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(
        f"Solid: measured on {machine.one_line(run.machine)}. "
        "Dashed: published on Kodak, not measured here.",
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_all(run: EvalRun, out: Path) -> list[Path]:
    """Every output of a run under ``out``; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = write_json(run, out)
    written.append(write_csv(run.measurements, out / "per_image.csv"))
    plot = plot_rd(run, out / "rd_curves.png")
    if plot is not None:
        written.append(plot)
    written.append(write_markdown(run, out / "eval.md", plot.name if plot else None))
    return written


def write_sets_summary(runs: Sequence[tuple[str, EvalRun]], path: Path) -> Path:
    """One table over several image sets evaluated in one ``mambaic eval`` call.

    A single set can mislead (the smooth 8-photo set showed mambaic beating WebP while textured
    photos lose clearly), so the BD-rates of every set stand side by side, with each set's
    highest-quality point: the flat top of the curve is what textured photos expose.
    """
    names = [name for name, _ in runs]
    anchors: list[str] = []
    for _, run in runs:
        anchors += [r.anchor for r in run.bd_rows if r.anchor not in anchors]
    lines = ["# mambaic on several image sets", "",
             f"Measured {runs[0][1].date}; each set's full report is in its own folder.", "",
             "## BD-rate of mambaic (PSNR, MS-SSIM in brackets; negative: mambaic needs fewer bits)",
             "", "| anchor | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    for anchor in anchors:
        cells = []
        for _, run in runs:
            row = next((r for r in run.bd_rows if r.anchor == anchor), None)
            cells.append("not run" if row is None else
                         f"{_signed_pct(row.psnr_rate)} ({_signed_pct(row.ms_ssim_rate)})")
        lines.append(f"| {_label(runs[0][1], anchor)} | " + " | ".join(cells) + " |")
    if not anchors:
        lines.append("| (no classic codec was run) |" + " |" * len(names))
    lines += ["", "## Each set", "", "| set | images | mambaic highest quality: bpp | PSNR dB |",
              "| --- | --- | --- | --- |"]
    for name, run in runs:
        test = next((c for c in run.curves if c.codec == run.test_codec), None)
        top = "n/a | n/a" if test is None or not test.quality else (
            f"{_fmt(test.bpp[-1], 3)} (q {test.quality[-1]:g}) | {_fmt(test.psnr[-1])}")
        lines.append(f"| {name} ({run.dataset}) | {len(run.images)} | {top} |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path
