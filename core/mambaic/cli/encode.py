"""Compress images to .mic files.

Each input may be an image file, a folder (its images) or a quoted glob such as "shots/*.jpg".
Output goes next to each input as NAME.mic, or into the folder given with -o, or to the file given
with -o when there is one input. Existing outputs are kept unless --force; an input is never
overwritten. Grayscale, palette, 16-bit, CMYK and transparent images are accepted (alpha is kept
losslessly); EXIF orientation is applied. One line per file: input → output, size, bpp, time.
-o - writes the .mic file to standard output (one input; the summary line goes to stderr).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mambaic.cli.common import (
    EXIT_FAILURE,
    UsageError,
    add_batch_options,
    add_model_options,
    gather_batch,
    image_suffixes,
    run_batch,
    step_count,
)
from mambaic.codec.limits import MAX_TILE_SIZE

HELP = "compress images to .mic files"


def _quality(text: str) -> float:
    from mambaic.models.gain import QUALITY_MAX, QUALITY_MIN

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not QUALITY_MIN <= value <= QUALITY_MAX:
        raise argparse.ArgumentTypeError(f"must be between {QUALITY_MIN:g} and {QUALITY_MAX:g}")
    return value


def _metadata_item(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _tile_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 0 < value <= MAX_TILE_SIZE or value % 64:
        raise argparse.ArgumentTypeError(f"must be a multiple of 64 from 64 to {MAX_TILE_SIZE} "
                                         "(the largest tile a decoder accepts)")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="IN", help="image files, folders or globs")
    parser.add_argument("-q", "--quality", type=_quality, default=3.0,
                        help="quality from 1 (smallest) to 5 (best); fractions allowed; "
                             "default 3")
    parser.add_argument("-o", "--output", metavar="OUT",
                        help="output file (one input), folder, or - for standard output")
    parser.add_argument("-m", "--meta", type=_metadata_item, action="append", default=[],
                        metavar="KEY=VALUE", help="store a metadata entry in the file (repeatable)")
    parser.add_argument("--tile", type=_tile_size, default=None, metavar="PX",
                        help="code images larger than PX×PX in tiles of that size, bounding "
                             "memory (default 2048)")
    parser.add_argument("--refine", type=step_count, default=0, metavar="STEPS",
                        help="fit the latents to each image with STEPS gradient steps before "
                             "coding: smaller files at the same quality, each step costing about "
                             "a decode's time; 10 is a good value (default 0: off)")
    add_model_options(parser)
    add_batch_options(parser)


def run(args: argparse.Namespace) -> int:
    from mambaic.codec.mic_format import validate_metadata

    try:  # before the inputs and the model: a bad -m costs milliseconds
        metadata = validate_metadata(dict(args.meta))
    except ValueError as exc:
        raise UsageError(f"-m: {exc}") from None
    files, had_problems = gather_batch(args, image_suffixes())
    if not files:
        return EXIT_FAILURE

    from mambaic.codec.codec import CodecConfig, load_codec

    config = CodecConfig(tile_size=args.tile) if args.tile else None
    codec = load_codec(args.weights, args.device, config)

    def code_one(source: Path, _target: Path, update) -> tuple[bytes, str]:
        result = codec.compress_report(source, args.quality, progress=update,
                                       metadata=metadata, refine_steps=args.refine)
        info = result.info
        notes = f"  [{'; '.join(result.image.notes)}]" if result.image.notes else ""
        return result.data, (f"{info.total_bytes:,} bytes  {info.bpp:.4f} bpp  "
                             f"{result.seconds:.2f} s{notes}")

    return run_batch(files, args, ".mic", had_problems, code_one)

