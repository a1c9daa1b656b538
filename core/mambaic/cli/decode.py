"""Decompress .mic files to images.

Each input may be a .mic file, a folder (its .mic files) or a quoted glob. Output goes next to each
input as NAME.png, or into the folder given with -o, or to the file given with -o when there is one
input; the output's extension picks the format (.png, .webp, .tif, .bmp, .jpg…). Decoding needs
the weights the file was made with: a file from other weights is refused, naming the weights it
needs. Existing outputs are kept unless --force. -o - writes the image to standard output, as PNG
(one input; the summary line goes to stderr); so does a FIFO or device without an extension.

A file is only as big as its header says: a few kilobytes can declare a 64-megapixel image, which
takes a CPU many minutes and gigabytes to decode. Images above --max-pixels are refused before any
work, and those above 16 Mpx are decoded with a warning.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from mambaic.cli.common import (
    EXIT_FAILURE,
    add_batch_options,
    add_model_options,
    gather_batch,
    is_stdout,
    read_mic,
    report_warning,
    run_batch,
)
from mambaic.atomic import writes_through
from mambaic.codec.limits import LARGE_IMAGE_PIXELS, MAX_PIXELS
from mambaic.errors import DecodeLimitError, ImageInputError

HELP = "decompress .mic files to images"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="IN.mic", help=".mic files, folders or globs")
    parser.add_argument("-o", "--output", metavar="OUT",
                        help="output image (one input) or folder; default NAME.png next to "
                             "the input; - for standard output (PNG)")
    parser.add_argument("--max-pixels", type=_pixel_count, default=MAX_PIXELS, metavar="N",
                        help="refuse files declaring more than N pixels (width × height), before "
                             f"decoding anything; default and most {MAX_PIXELS:,}")
    add_model_options(parser)
    add_batch_options(parser)


def run(args: argparse.Namespace) -> int:
    files, had_problems = gather_batch(args, frozenset({".mic"}))
    if not files:
        return EXIT_FAILURE

    from mambaic.codec.codec import CodecConfig, load_codec
    from mambaic.codec.mic_format import read_header

    codec = load_codec(args.weights, args.device, CodecConfig(max_pixels=args.max_pixels))

    def code_one(source: Path, target: Path, update) -> tuple[bytes, str]:
        image_format = _format_for(target)
        data = read_mic(source)
        header = read_header(data)
        pixels = header.width * header.height
        if pixels > args.max_pixels:
            raise DecodeLimitError(f"refusing to decode a {header.width}x{header.height} image "
                                   f"({pixels:,} pixels); --max-pixels is {args.max_pixels:,}")
        if pixels > LARGE_IMAGE_PIXELS:
            report_warning(source, f"{header.width}x{header.height} is {pixels / 1e6:.1f} Mpx; "
                                   "decoding it takes minutes on a CPU")
        result = codec.decompress_report(data, progress=update)
        image = result.image
        return (_encode(image, image_format), f"{image.width}x{image.height} {image.mode}  "
                f"{result.info.bpp:.4f} bpp  {result.seconds:.2f} s")

    return run_batch(files, args, ".png", had_problems, code_one)


def _pixel_count(text: str) -> int:
    """argparse type for --max-pixels: 1 to the format's own limit."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= MAX_PIXELS:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_PIXELS:,} (the format's limit)")
    return value


def _format_for(target: Path) -> str:
    """The image format for ``target``'s extension; PNG for standard output and for a FIFO or
    device without one (``-o /dev/stdout``)."""
    from PIL import Image

    if is_stdout(target) or (not target.suffix and writes_through(target)):
        return "PNG"

    Image.init()
    image_format = Image.registered_extensions().get(target.suffix.lower())
    if image_format is None or image_format not in Image.SAVE:
        raise ImageInputError(f"{target}: cannot tell which image format to write from the "
                              f"extension {target.suffix or '(none)'!r}")
    return image_format


def _encode(image, image_format: str) -> bytes:
    buffer = io.BytesIO()
    try:
        image.save(buffer, format=image_format)
    except (OSError, ValueError, KeyError) as exc:
        raise ImageInputError(f"cannot write a {image.mode} image as {image_format}: {exc}") from exc
    return buffer.getvalue()
