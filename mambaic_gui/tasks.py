"""The work the worker thread does, as plain functions over the `mambaic` library (no Qt).

Each public function returns a job body `run(codec, progress, cancel)` for `JobScheduler.submit`.
Everything that needs torch is imported inside the bodies, so the window appears before the
(slow) torch import, which then happens on the worker thread.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Any

import numpy as np

from mambaic.atomic import atomic_write
from mambaic.codec.effort import DEFAULT_EFFORT, EFFORT_STEPS
from mambaic.codec.image_io import load_image, to_pil
from mambaic.codec.mic_format import MAGIC
from mambaic.errors import Cancelled, ImageInputError, WeightsError
from mambaic.progress import Progress as CoreProgress
from mambaic.progress import ProgressEvent, ProgressScale
from mambaic_gui.document import (
    CodecResult,
    Document,
    EqualSizeComparison,
    FitResult,
    ModelSummary,
    RatePoint,
)
from mambaic_gui.jobs import CancelCheck, JobBody, Progress
from mambaic_gui.pixels import ErrorHeatmap, build_pyramid

#: The classic codecs of the RD chart: key in `mambaic.eval.classic` → legend label.
CLASSIC_CODECS = {"jpeg420": "JPEG", "webp": "WebP", "avif": "AVIF"}

#: Largest image, in pixels, whose RD chart is computed in the background: one 2048² tile. Above
#: it the sweep (five mambaic encodes and decodes plus three classic codecs) keeps the CPU busy
#: for many minutes on a 24-megapixel photo, competing with what the user asked for.
RD_MAX_PIXELS = 2048 * 2048


def rd_too_heavy(original: np.ndarray) -> bool:
    """Whether the background RD sweep should be skipped for this image (see `RD_MAX_PIXELS`)."""
    return original.shape[0] * original.shape[1] > RD_MAX_PIXELS


#: The codecs "View ▸ Compare With" offers at the size of the current `.mic`: key → menu name.
EQUAL_SIZE_CODECS = {"jpeg420": "JPEG", "webp": "WebP", "avif": "AVIF", "jxl": "JPEG XL"}


def require_codec(codec: Any) -> Any:
    """The loaded codec, or the error every coding job gives when none is loaded yet."""
    if codec is None:
        raise WeightsError("no model is loaded; choose weights with Model ▸ Load Weights…")
    return codec


#: The units of a job's bar that runs several core calls (`phase`).
PHASE_SCALE = 1000


def phase(progress: Progress, start: float, width: float, label: str) -> CoreProgress:
    """The core progress callback of one phase of a job: its events land on [start, start + width]
    of a shared 0…1000 scale, so one bar covers all phases (each phase's width is its share of
    the job's stages), and the status text is the event's, after ``label``."""
    return ProgressScale(as_job_progress(progress), PHASE_SCALE, start=PHASE_SCALE * start,
                         width=PHASE_SCALE * width, label=label)


def as_job_progress(progress: Progress) -> CoreProgress:
    """The core progress callback that reports each event to the job as (done, total, text)."""

    def report(event: ProgressEvent) -> None:
        progress(event.done, event.total, event.text)

    return report


def load_model(weights: str | None, device: str) -> JobBody:
    """Load weights onto `device`; the worker keeps the codec, the GUI gets a `ModelSummary`."""

    def run(_old: Any, progress: Progress, cancel: CancelCheck) -> tuple[Any, ModelSummary]:
        import torch

        from mambaic import load_codec

        progress(0, 1, "loading model")
        codec = load_codec(weights, device=device)
        info = codec.weights
        summary = ModelSummary(
            name=info.name, device=str(codec.device),
            quality_range=tuple(float(q) for q in codec.quality_range),
            paper_qualities=tuple(float(q) for q in codec.paper_qualities),
            card=info.card, weights_path=str(info.path), weights_sha256=info.sha256,
            cuda_available=torch.cuda.is_available())
        progress(1, 1, "model loaded")
        return codec, summary

    return run


def open_file(path: Path) -> JobBody:
    """Read an image or `.mic` file; a `.mic` file is decoded in the same job."""

    def run(codec: Any, progress: Progress, cancel: CancelCheck) -> tuple[Document, CodecResult | None]:
        data = path.read_bytes()
        return _open(path.name, path, data, codec, progress, cancel)

    return run


def open_data(name: str, data: bytes) -> JobBody:
    """Like `open_file` for bytes without a file (pasted or dropped image data)."""

    def run(codec: Any, progress: Progress, cancel: CancelCheck) -> tuple[Document, CodecResult | None]:
        return _open(name, None, data, codec, progress, cancel)

    return run


def _open(name: str, path: Path | None, data: bytes, codec: Any, progress: Progress,
          cancel: CancelCheck) -> tuple[Document, CodecResult | None]:
    if data.startswith(MAGIC):
        document = Document(name=name, path=path, original=None, source=None, mic=data)
        return document, _decode(require_codec(codec), data, as_job_progress(progress), cancel)
    loaded = load_image(data)
    document = Document(name=name, path=path, original=loaded.rgb, source=path or data,
                        original_view=build_pyramid(loaded.rgb), notes=loaded.info.notes)
    return document, None


def attach_original(path: Path, result: CodecResult) -> JobBody:
    """Pair a decoded `.mic` with its original image: the metrics that need it, and a document
    that can be re-encoded at other qualities."""

    def run(_codec: Any, progress: Progress, cancel: CancelCheck) -> tuple[Document, CodecResult]:
        loaded = load_image(path)
        if loaded.rgb.shape != result.decoded.shape:
            height, width = result.decoded.shape[:2]
            raise ImageInputError(f"{path.name} is {loaded.info.width} × {loaded.info.height} "
                                  f"pixels; the .mic file holds {width} × {height}")
        document = Document(name=path.name, path=path, original=loaded.rgb, source=path,
                            original_view=build_pyramid(loaded.rgb), notes=loaded.info.notes)
        return document, _compared(loaded.rgb, result)

    return run


def encode_share(codec: Any, effort: int) -> float:
    """The encode's share of an encode-then-decode job's progress bar: each phase gets its share
    of the stages the core reports, and at effort > 0 the encode (refinement steps, two codings,
    the comparison) is most of the job."""
    encode_stages = codec.model.compress_stages(EFFORT_STEPS[effort])
    decode_stages = codec.model.decompress_stages()
    return encode_stages / (encode_stages + decode_stages)


def encode(document: Document, quality: float, effort: int = DEFAULT_EFFORT) -> JobBody:
    """Compress the document at `quality` and `effort`, decode it back, and score it against the
    original."""

    def run(codec: Any, progress: Progress, cancel: CancelCheck) -> CodecResult:
        codec = require_codec(codec)
        split = encode_share(codec, effort)
        label = f"encoding q {quality:.2f}" + (f" at effort {effort}" if effort else "")
        encoded = codec.compress_report(document.source, quality, cancel=cancel,
                                        progress=phase(progress, 0.0, split, label),
                                        effort=effort)
        result = _decode(codec, encoded.data,
                         phase(progress, split, 1.0 - split, f"decoding q {quality:.2f}"), cancel)
        result = dataclasses.replace(result, encode_seconds=encoded.seconds, effort=effort,
                                     refine_steps=encoded.refine_steps,
                                     refined_tiles=encoded.refined_tiles)
        return result if document.original is None else _compared(document.original, result)

    return run


def _decode(codec: Any, mic: bytes, progress: CoreProgress, cancel: CancelCheck) -> CodecResult:
    decoded = codec.decompress_report(mic, progress=progress, cancel=cancel)
    image = decoded.image
    alpha = np.asarray(image.getchannel("A")) if "A" in image.getbands() else None
    rgb = np.asarray(image.convert("RGB"))
    return CodecResult(quality=decoded.info.quality, mic=mic, info=decoded.info, decoded=rgb,
                       decoded_view=build_pyramid(rgb), alpha=alpha,
                       decode_seconds=decoded.seconds, device=str(codec.device))


def _compared(original: np.ndarray, result: CodecResult) -> CodecResult:
    """`result` with the scores and the error heatmap that need the original."""
    from mambaic.eval import metrics

    decoded = result.decoded
    return dataclasses.replace(result, psnr=metrics.psnr(original, decoded),
                               ms_ssim=metrics.ms_ssim(original, decoded),
                               errors=ErrorHeatmap.of(original, decoded))


def classic_points(key: str, original: np.ndarray) -> JobBody:
    """Sweep one classic codec over its quality settings on this image (for the RD chart)."""

    def run(_codec: Any, progress: Progress, cancel: CancelCheck) -> list[RatePoint]:
        from mambaic.eval import classic
        from mambaic.eval.sweep import measure

        codecs, _missing = classic.select([key])
        if not codecs:
            return []
        swept = codecs[0]
        points = []
        for i, quality in enumerate(swept.sweep):
            if cancel():
                raise Cancelled()
            m = measure(swept, "image", original, quality)
            points.append(RatePoint(CLASSIC_CODECS[key], float(quality), m.bpp, m.psnr, m.ms_ssim))
            progress(i + 1, len(swept.sweep), f"{CLASSIC_CODECS[key]} q={quality:g}")
        return points

    return run


def export_png(result: CodecResult, path: Path, protect: list[Path]) -> JobBody:
    """Write the decoded image as PNG in the mode it was coded in (grey stays grey, alpha kept)."""

    def run(_codec: Any, progress: Progress, cancel: CancelCheck) -> Path:
        buffer = io.BytesIO()
        to_pil(result.decoded, result.info.mode, result.alpha).save(buffer, "PNG")
        return atomic_write(path, buffer.getvalue(), overwrite=True, protect=protect)

    return run


def equal_size_choices() -> dict[str, str | None]:
    """Each codec of `EQUAL_SIZE_CODECS` → None when this machine can run it, else the reason."""
    from mambaic.eval import classic

    available, missing = classic.all_codecs()
    return {key: None if key in available else missing.get(key, "not available on this machine")
            for key in EQUAL_SIZE_CODECS}


def equal_size(key: str, document: Document, max_bytes: int) -> JobBody:
    """Code the document's original with classic codec `key` at no more than `max_bytes`."""

    def run(_codec: Any, progress: Progress, cancel: CancelCheck) -> EqualSizeComparison:
        from mambaic.eval import classic
        from mambaic.eval.equal_size import classic_at_size, quality_range

        original = document.original
        if original is None:
            raise ImageInputError("comparing at the same size needs the original image")
        codecs, missing = classic.select([key])
        if not codecs:
            raise ImageInputError(f"{EQUAL_SIZE_CODECS.get(key, key)} is not available: "
                                  f"{missing.get(key, 'unknown codec')}")
        swept = codecs[0]
        found = classic_at_size(swept, original, max_bytes, cancel=cancel, progress=progress)
        if cancel():
            raise Cancelled()
        return EqualSizeComparison(
            key=key, label=found.label, data=found.data, num_bytes=found.num_bytes,
            quality=found.quality, quality_range=quality_range(swept), target_bytes=found.target_bytes, fits=found.fits,
            psnr=found.psnr, ms_ssim=found.ms_ssim, width=int(original.shape[1]),
            height=int(original.shape[0]), decoded_view=build_pyramid(found.decoded),
            document_token=document.token)

    return run


def parse_target(text: str) -> tuple[int | None, float | None]:
    """"50KB", "20000", "64 KiB" → (bytes, None); "0.5 bpp" → (None, 0.5). ValueError (with a
    message for the user) for anything else."""
    from mambaic.codec.target import parse_bpp, parse_size

    stripped = text.strip()
    if stripped.lower().endswith("bpp"):
        return None, parse_bpp(stripped[:-3].strip())
    return parse_size(stripped), None


def fit_to_size(document: Document, max_bytes: int | None, max_bpp: float | None,
                effort: int = DEFAULT_EFFORT) -> JobBody:
    """The largest `.mic` of the document within the budget (`encode_to_target`), decoded and
    scored like any encode; a budget below the smallest file is an outcome, not a failure."""

    def run(codec: Any, progress: Progress, cancel: CancelCheck) -> FitResult:
        from mambaic.codec.target import TargetTooSmallError, encode_to_target

        codec = require_codec(codec)
        try:
            found = encode_to_target(codec, document.source, max_bytes, max_bpp=max_bpp,
                                     progress=phase(progress, 0.0, 0.9, "fitting to size"),
                                     cancel=cancel, refine_steps=EFFORT_STEPS[effort])
        except TargetTooSmallError as exc:
            return FitResult(result=None, target_bytes=max_bytes, max_bpp=max_bpp, capped=False,
                             reached=False, encodes=2, smallest_bytes=exc.smallest_bytes,
                             message=str(exc))
        encoded = found.result
        result = _decode(codec, encoded.data, phase(progress, 0.9, 0.1, "decoding"), cancel)
        result = dataclasses.replace(result, encode_seconds=found.seconds, effort=effort,
                                     refine_steps=encoded.refine_steps,
                                     refined_tiles=encoded.refined_tiles)
        if document.original is not None:
            result = _compared(document.original, result)
        return FitResult(result=result, target_bytes=found.target_bytes, max_bpp=max_bpp,
                         capped=found.capped, reached=found.reached, encodes=found.encodes)

    return run
