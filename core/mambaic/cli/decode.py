"""Decompress .mic files to images.

Each input may be a .mic file, a folder (its .mic files) or a quoted glob. Output goes next to each
input as NAME.png, or into the folder given with -o, or to the file given with -o when there is one
input; the output's extension picks the format (.png, .webp, .tif, .bmp, .jpg…). Decoding needs
the weights the file was made with: a file from other weights is refused, naming the weights it
needs. Existing outputs are kept unless --force.
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
    read_mic,
    run_batch,
)
from mambaic.errors import ImageInputError

HELP = "decompress .mic files to images"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="IN.mic", help=".mic files, folders or globs")
    parser.add_argument("-o", "--output", metavar="OUT",
                        help="output image (one input) or folder; default NAME.png next to "
                             "the input")
    add_model_options(parser)
    add_batch_options(parser)


def run(args: argparse.Namespace) -> int:
    files, had_problems = gather_batch(args, frozenset({".mic"}))
    if not files:
        return EXIT_FAILURE

    from mambaic.codec.codec import load_codec

    codec = load_codec(args.weights, args.device)

    def code_one(source: Path, target: Path, update) -> tuple[bytes, str]:
        image_format = _format_for(target)
        result = codec.decompress_report(read_mic(source), progress=update)
        image = result.image
        return (_encode(image, image_format), f"{image.width}x{image.height} {image.mode}  "
                f"{result.info.bpp:.4f} bpp  {result.seconds:.2f} s")

    return run_batch(files, args, ".png", had_problems, code_one)


def _format_for(target: Path) -> str:
    from PIL import Image

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
