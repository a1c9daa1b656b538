"""Describe .mic files without decoding them.

Prints the header (model, weights hash, quality, size and mode, latent shapes, tiles), the file
size as bits per pixel (8 × file bytes / pixels) and payload-only bpp, and a per-slice table of
anchor and non-anchor bytes. --json prints one JSON object per file instead (JSON Lines).
No weights are needed. A file that cannot be read, or whose report cannot be written, gets one
error line on stderr and the others are still described; the exit status is then 1. Text from
the file (model name, metadata) and file names are shown with non-printable characters escaped.
"""

from __future__ import annotations

import argparse
import json

from mambaic.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    expand_inputs,
    read_mic,
    report_error,
)
from mambaic.codec.info import MicInfo, read_info
from mambaic.text import printable

HELP = "show the header and per-slice sizes of .mic files"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="IN.mic", help=".mic files, folders or globs")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("-r", "--recursive", action="store_true",
                        help="look for files in sub-folders of folder inputs too")


def run(args: argparse.Namespace) -> int:
    files, problems = expand_inputs(args.inputs, frozenset({".mic"}), args.recursive)
    for pattern, problem in problems:
        report_error(pattern, FileNotFoundError(problem), args.debug)
    failed = bool(problems) or not files
    shown = 0
    for path in files:
        try:
            info = read_info(read_mic(path))
            if args.json:
                report = json.dumps({"path": str(path), **info.to_dict()})
            else:
                report = ("\n" if shown else "") + format_info(str(path), info)
            print(report, flush=True)  # flushed here, so a write error is this file's
            shown += 1
        except Exception as exc:  # one bad input (or a failed write) must not stop the batch
            report_error(path, exc, args.debug)
            failed = True
    return EXIT_FAILURE if failed else EXIT_OK


def format_info(name: str, info: MicInfo) -> str:
    """The human-readable report: header fields, then one row per slice; text taken from the
    file or its name is escaped (:func:`~mambaic.text.printable`)."""
    pixels = info.pixels
    tiles = f"{info.tile_count} tile{'s' if info.tile_count > 1 else ''} of ≤{info.tile_size} px"
    alpha = f"{info.alpha_bytes:,} bytes (lossless)" if info.mode in ("RGBA", "LA") else "none"
    lines = [
        printable(name),
        f"  format     .mic version {info.format_version}",
        f"  model      {printable(info.model_name)}  weights sha256 {info.weights_sha256[:16]}…",
        f"  quality    {info.quality:g}",
        f"  image      {info.width}x{info.height} {info.mode} "
        f"(source mode {printable(info.source_mode)})",
        f"  latents    y {info.y_shape[0]}x{info.y_shape[1]}, z {info.z_shape[0]}x{info.z_shape[1]}"
        f"; {tiles}",
        f"  size       {info.total_bytes:,} bytes = {info.bpp:.4f} bpp "
        f"(header {info.header_bytes:,} bytes)",
        f"  payload    {info.payload_bytes:,} bytes = {info.payload_bpp:.4f} bpp",
        f"  alpha      {alpha}",
    ]
    if info.metadata:
        lines.append(f"  metadata   {printable(json.dumps(info.metadata, ensure_ascii=False))}")
    lines.append(f"  {'part':<8}{'anchor':>10}{'non-anchor':>12}{'bytes':>10}{'bpp':>9}{'share':>8}")
    rows = [("z", None, None, info.z_bytes)] + [
        (f"slice {k + 1}", a, n, a + n) for k, (a, n) in enumerate(info.slices)]
    for label, anchor, nonanchor, size in rows:
        share = size / info.payload_bytes if info.payload_bytes else 0.0
        lines.append(f"  {label:<8}{_num(anchor):>10}{_num(nonanchor):>12}{size:>10,}"
                     f"{8 * size / pixels:>9.4f}{share:>8.1%}")
    return "\n".join(lines)


def _num(value: int | None) -> str:
    return "" if value is None else f"{value:,}"
