"""The ``mambaic eval`` driver: every codec, every image, every quality, in one run.

Running mambaic and the classic codecs together on the same decoded pixels, the same machine and
the same day is what makes the BD-rates meaningful; nothing is cached between runs, so a report
always describes the code that produced it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from tqdm import tqdm

from mambaic.eval import bdrate, classic, curves, machine
from mambaic.eval.report import EvalRun
from mambaic.eval.sweep import Measurement, SweptCodec, measure

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".ppm", ".webp")
MAMBAIC = "mambaic"


def load_images(folder: Path, limit: int | None = None) -> list[tuple[str, np.ndarray]]:
    """The images of ``folder`` (sorted by name, first ``limit``) as uint8 RGB arrays."""
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if limit is not None:
        paths = paths[:limit]
    if not paths:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
    images = []
    for path in paths:
        with Image.open(path) as im:
            images.append((path.name, np.asarray(ImageOps.exif_transpose(im).convert("RGB"))))
    return images


def codec_names() -> list[str]:
    """Every name ``--codecs`` accepts."""
    available, missing = classic.all_codecs()
    return [MAMBAIC, *available, *missing]


def _contenders(
    names: Sequence[str] | None,
    qualities: Sequence[float] | None,
    weights: str | None,
    device: str,
    refine_steps: int,
) -> tuple[list[SweptCodec], dict[str, str], str, str | None]:
    wanted = list(names) if names is not None else None
    with_mambaic = wanted is None or MAMBAIC in wanted
    classic_names = None if wanted is None else [n for n in wanted if n != MAMBAIC]
    chosen, missing = classic.select(classic_names)
    model, sha256 = "not run (excluded by --codecs)", None
    if with_mambaic:
        from mambaic.eval import learned  # imports the model stack only when it is needed

        ours, model, sha256 = learned.mambaic_codec(weights, device, qualities, refine_steps)
        chosen.insert(0, ours)
    return chosen, missing, model, sha256


def _warm_up(codec: SweptCodec, rgb: np.ndarray) -> None:
    """One untimed round trip, so one-off costs (JIT compilation, lazy tables, library loading)
    are not billed to whichever image happens to be coded first."""
    codec.decode(codec.encode(rgb, codec.sweep[0]))


def run_eval(
    folder: Path,
    *,
    codecs: Sequence[str] | None = None,
    qualities: Sequence[float] | None = None,
    limit: int | None = None,
    weights: str | None = None,
    device: str = "cpu",
    show_progress: bool = True,
    refine_steps: int = 0,
) -> EvalRun:
    """Measure the chosen codecs on the images of ``folder`` and compute their BD-rates.

    ``qualities`` applies to mambaic (default: the model's paper qualities); each classic codec
    sweeps its own quality range. ``codecs`` defaults to mambaic plus every available classic one.
    ``refine_steps`` is passed to mambaic's encoder (latent refinement; 0 = off).
    """
    self_test = bdrate.self_test()  # refuse to report BD-rates from broken arithmetic
    images = load_images(folder, limit)
    contenders, missing, model, sha256 = _contenders(codecs, qualities, weights, device, refine_steps)
    total = len(images) * sum(len(c.sweep) for c in contenders)
    measurements: list[Measurement] = []
    with tqdm(total=total, unit="code", disable=not show_progress) as bar:
        for codec in contenders:
            bar.set_description(codec.name)
            _warm_up(codec, images[0][1])
            for image_name, rgb in images:
                for quality in codec.sweep:
                    measurements.append(measure(codec, image_name, rgb, quality))
                    bar.update()
    curve_list = [curves.aggregate(measurements, c) for c in contenders]
    test = next((c for c in curve_list if c.codec == MAMBAIC), None)
    anchors = [c for c in curve_list if c.codec != MAMBAIC]
    return EvalRun(
        dataset=str(folder),
        images=[name for name, _ in images],
        machine=machine.describe(device),
        date=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        test_codec=test.codec if test else None,
        model=model,
        measurements=measurements,
        curves=curve_list,
        bd_rows=curves.bd_table(test, anchors) if test else [],
        bd_self_test=self_test,
        missing=missing,
        weights_sha256=sha256,
    )
