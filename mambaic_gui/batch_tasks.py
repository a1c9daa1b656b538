"""The worker's part of a batch: code one file to its `.mic` and measure it (no Qt).

One job per file, so the scheduler can run the window's own encodes between two files and a
cancel stops the batch at the next slice of the file being coded.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from mambaic.atomic import atomic_write
from mambaic.codec.image_io import load_image
from mambaic.errors import Cancelled
from mambaic_gui.batch_plan import FileOutcome
from mambaic_gui.jobs import CancelCheck, JobBody, Progress
from mambaic_gui.tasks import encode_share, phase, require_codec


def encode_file(source: Path, output: Path, quality: float, effort: int) -> JobBody:
    """Encode `source` at `quality`/`effort`, decode those bytes, score them against the source,
    then write them atomically to `output` (never over an existing file).

    The file is written last, after the decode check: a cancel at any point leaves no `.mic`
    behind, and a `.mic` on disk always has its row of numbers.
    """

    def run(codec: Any, progress: Progress, cancel: CancelCheck) -> FileOutcome:
        from mambaic.eval import metrics

        codec = require_codec(codec)
        start = time.perf_counter()
        # Read once: the coded pixels and the scored ones are the same even if the file changes.
        loaded = load_image(source, codec.config.max_pixels)  # no image: fails before any work
        split = encode_share(codec, effort)
        encoded = codec.compress_report(loaded, quality, cancel=cancel, effort=effort,
                                        progress=phase(progress, 0.0, split, "encoding"))
        decoded = codec.decompress_report(encoded.data, cancel=cancel,
                                          progress=phase(progress, split, 1.0 - split, "decoding"))
        psnr = metrics.psnr(loaded.rgb, np.asarray(decoded.image.convert("RGB")))
        if cancel():
            raise Cancelled("cancelled before the file was written")
        written = atomic_write(output, encoded.data, overwrite=False, protect=[source])
        return FileOutcome(output=written, num_bytes=len(encoded.data), bpp=decoded.info.bpp,
                           psnr=psnr, seconds=time.perf_counter() - start)

    return run
