"""Measure mambaic like a codec paper, against the classic codecs, on a folder of images.

For every image and quality: bpp from the real file bytes, PSNR (RGB, peak 255), MS-SSIM, encode
and decode time; curves are the mean over images per quality (CompressAI's convention). In the
same run the classic codecs sweep their own quality ranges (JPEG 4:2:0 and 4:4:4, WebP, AVIF,
JPEG XL, and HEVC intra 4:4:4 when ffmpeg with libx265 is installed), and mambaic's Bjøntegaard
delta rate against each is computed. Published Kodak curves (VTM, BPG, ELIC, TCM, MambaIC) are
overlaid in the plot, labelled as published, not measured.

Writes into --out: eval.md (tables, BD-rates, where mambaic loses), rd_curves.png,
per_image.csv and json/<codec>.json in CompressAI's results layout. Nothing is cached.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mambaic.cli.common import EXIT_OK, add_effort_options, add_model_options, effort_steps

HELP = "rate-distortion evaluation against JPEG, WebP, AVIF, JPEG XL and HEVC"


def quality_arg(text: str) -> float:
    """argparse type: a mambaic quality, 1 to 5."""
    value = float(text)
    if not 1.0 <= value <= 5.0:
        raise argparse.ArgumentTypeError(f"quality {text} is outside 1-5")
    return value


def _codec_list(text: str) -> list[str]:
    from mambaic.eval.evaluate import codec_names

    names = [n.strip() for n in text.split(",") if n.strip()]
    known = codec_names()
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown codec(s) {', '.join(unknown) or '(none given)'}; choose from "
            + ", ".join(known)
        )
    return names


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folders", metavar="DIR", type=Path, nargs="+",
                        help="folder(s) of test images; with several, each set gets its own report "
                        "in OUT/<folder name>/ and OUT/sets.md puts their BD-rates side by side")
    parser.add_argument(
        "--qualities",
        nargs="+",
        type=quality_arg,
        metavar="Q",
        help="mambaic qualities (1-5; default: the model's paper qualities "
        "1 2 3 4 5); classic codecs sweep their own ranges",
    )
    parser.add_argument(
        "--codecs",
        type=_codec_list,
        metavar="A,B,...",
        help="which codecs to run (default: all available): mambaic, jpeg420, "
        "jpeg444, webp, avif, jxl, hevc444",
    )
    parser.add_argument(
        "--limit", type=_positive, metavar="N", help="use only the first N images (sorted by name)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("eval-results"),
        metavar="DIR",
        help="output folder (default: ./eval-results)",
    )
    add_effort_options(parser, "encode mambaic with STEPS steps of latent refinement instead "
                       "of an effort level")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_model_options(parser)


def set_names(folders: list[Path]) -> list[str]:
    """A distinct sub-folder name per image set: its folder name, numbered where two clash."""
    names: list[str] = []
    for folder in folders:
        base = folder.resolve().name or "images"
        name, n = base, 2
        while name in names:
            name, n = f"{base}-{n}", n + 1
        names.append(name)
    return names


def run(args: argparse.Namespace) -> int:
    from mambaic.eval import evaluate, report

    several = len(args.folders) > 1
    runs = []
    for folder, name in zip(args.folders, set_names(args.folders)):
        result = evaluate.run_eval(
            folder,
            codecs=args.codecs,
            qualities=args.qualities,
            limit=args.limit,
            weights=str(args.weights) if args.weights else None,
            device=args.device,
            show_progress=not args.quiet,
            refine_steps=effort_steps(args),
        )
        out = args.out / name if several else args.out
        written = report.write_all(result, out)
        runs.append((name, result))
        prefix = f"[{name}] " if several else ""
        for row in result.bd_rows:
            psnr = "n/a" if row.psnr_rate is None else f"{row.psnr_rate:+.2f} %"
            ssim = "n/a" if row.ms_ssim_rate is None else f"{row.ms_ssim_rate:+.2f} %"
            print(f"{prefix}BD-rate vs {row.anchor}: {psnr} (PSNR), {ssim} (MS-SSIM)")
        for codec, reason in result.missing.items():
            print(f"{prefix}skipped {codec}: {reason}")
        print(f"{prefix}wrote {len(written)} files to {out} (report: {out / 'eval.md'})")
    if several:
        print(f"side by side: {report.write_sets_summary(runs, args.out / 'sets.md')}")
    return EXIT_OK
