"""Compress images to .mic files.

Each input may be an image file, a folder (its images) or a quoted glob such as "shots/*.jpg".
Output goes next to each input as NAME.mic, or into the folder given with -o, or to the file given
with -o when there is one input. Existing outputs are kept unless --force; an input is never
overwritten. Grayscale, palette, 16-bit, CMYK and transparent images are accepted (alpha is kept
losslessly); EXIF orientation is applied. One line per file: input → output, size, bpp, time.
-o - writes the .mic file to standard output (one input; the summary line goes to stderr).
--target-size 50KB / --target-bpp 0.5 instead of -q: the largest file within the budget, the
quality found by a bracketed search (mambaic.codec.target, at most 8 encodes per image).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mambaic.cli.common import (
    EXIT_FAILURE,
    UsageError,
    add_batch_options,
    add_effort_options,
    add_model_options,
    effort_steps,
    gather_batch,
    image_suffixes,
    run_batch,
)
from mambaic.codec.effort import describe_steps
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
    rate = parser.add_mutually_exclusive_group()
    rate.add_argument("-q", "--quality", type=_quality, default=3.0,
                      help="quality from 1 (smallest) to 5 (best); fractions allowed; "
                           "default 3")
    _add_target_options(rate)
    parser.add_argument("-o", "--output", metavar="OUT",
                        help="output file (one input), folder, or - for standard output")
    parser.add_argument("-m", "--meta", type=_metadata_item, action="append", default=[],
                        metavar="KEY=VALUE", help="store a metadata entry in the file (repeatable)")
    parser.add_argument("--tile", type=_tile_size, default=None, metavar="PX",
                        help="code images larger than PX×PX in tiles of that size, bounding "
                             "memory (default 2048)")
    add_effort_options(parser, "instead of an effort level, fit the latents to each image "
                       "with STEPS gradient steps (each costing about a decode's time)")
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
        if args.target_size is not None or args.target_bpp is not None:
            return _code_to_target(codec, source, args, update, metadata)
        result = codec.compress_report(source, args.quality, progress=update,
                                       metadata=metadata, refine_steps=effort_steps(args))
        info = result.info
        notes = f"  [{'; '.join(result.image.notes)}]" if result.image.notes else ""
        return result.data, (f"{info.total_bytes:,} bytes  {info.bpp:.4f} bpp  "
                             f"{result.seconds:.2f} s{_effort_note(result)}{notes}")

    return run_batch(files, args, ".mic", had_problems, code_one)


def _effort_note(result) -> str:
    """What refinement did, where it ran: tiles where the plain coding was cheaper keep it."""
    if not result.refine_steps:
        return ""
    return (f"  {describe_steps(result.refine_steps)}, refined coding kept in "
            f"{result.refined_tiles}/{result.info.tile_count} tiles")


# ---- --target-size / --target-bpp: the search lives in mambaic.codec.target -----------------

def _parsed(parse):
    def convert(text: str):
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return convert


def _add_target_options(group) -> None:
    from mambaic.codec.target import parse_bpp, parse_size

    group.add_argument("--target-size", type=_parsed(parse_size), metavar="SIZE",
                       help="write the largest file of at most SIZE (20000, 50KB, 64KiB, 1.5MB; "
                            "KB = 1000 bytes, KiB = 1024), searching the quality in up to 8 "
                            "encodes; not with -q")
    group.add_argument("--target-bpp", type=_parsed(parse_bpp), metavar="BPP",
                       help="like --target-size, for a budget in bits per pixel of the whole "
                            "file; not with -q")


def _code_to_target(codec, source: Path, args: argparse.Namespace, update,
                    metadata) -> tuple[bytes, str]:
    from mambaic.cli.common import report_warning
    from mambaic.codec.target import encode_to_target

    found = encode_to_target(codec, source, args.target_size, max_bpp=args.target_bpp,
                             progress=update, metadata=metadata,
                             refine_steps=effort_steps(args))
    info = found.result.info
    if found.capped:
        report_warning(source, f"{info.total_bytes:,} bytes at quality {info.quality:g} is "
                               f"below the target of {found.target_bytes:,} bytes: quality "
                               f"{info.quality:g} is the largest file this model makes")
    elif not found.reached:
        report_warning(source, f"best fit is {info.total_bytes:,} of {found.target_bytes:,} "
                               f"target bytes after {found.encodes} encodes")
    notes = f"  [{'; '.join(found.result.image.notes)}]" if found.result.image.notes else ""
    return found.data, (f"{info.total_bytes:,} bytes  {info.bpp:.4f} bpp  q {info.quality:.3f}  "
                        f"target {found.target_bytes:,} bytes  {found.encodes} encodes  "
                        f"{found.seconds:.2f} s{notes}")
