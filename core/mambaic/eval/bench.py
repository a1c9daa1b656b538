"""The ``mambaic bench`` driver: mambaic's latency per stage, side by side with its peers.

Everything runs in one process on one image so the numbers share a machine state: mambaic through
its public codec (end to end, image in, ``.mic`` bytes out, and back), the classic codecs from a
uint8 array to bytes and back, and CompressAI's learned peers from a tensor to strings and back.
Model loading is excluded everywhere; each latency is the median of N runs after warm-up.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from tqdm import tqdm

from mambaic.codec.effort import describe_steps
from mambaic.eval import classic, machine, peers
from mambaic.eval.stages import StageClock
from mambaic.eval.timing import Timed, measure_call

# Each classic codec at its library's default quality (what a user gets without choosing).
CLASSIC_BENCH_QUALITY: dict[str, float] = {"jpeg420": 75, "webp": 80, "avif": 75, "jxl": 90}

# The MambaIC paper's latency for its full model on Kodak (768x512), on an NVIDIA A100.
PAPER_ANCHOR_MS = {"encode": 60.73, "decode": 39.42}


@dataclass(frozen=True)
class BenchRow:
    """One codec's median encode and decode latency and the memory each needed."""

    name: str
    label: str
    kind: str  # "mambaic", "classic" or "learned peer"
    setting: str
    device: str
    encode: Timed
    decode: Timed
    num_bytes: int | None  # None where the rate means nothing (untrained peers)


@dataclass
class BenchRun:
    """Everything one ``mambaic bench`` run measured."""

    width: int
    height: int
    image: str
    device: str
    repeats: int
    warmup: int
    machine: dict[str, object]
    date: str
    model: str
    rows: list[BenchRow] = field(default_factory=list)
    encode_stages: dict[str, float] = field(default_factory=dict)
    decode_stages: dict[str, float] = field(default_factory=dict)


def synthetic_image(width: int, height: int) -> np.ndarray:
    """A deterministic photo-like test card (gradients, edges, texture, noise) as uint8 RGB.

    Used when no ``--image`` is given so the benchmark runs from a bare install; the entropy
    coders' speed depends a little on content, so reports say which image was used.
    """
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width] / max(width, height)
    base = np.stack([0.6 * xx + 0.2, 0.5 * yy + 0.3 * xx, 0.7 - 0.4 * yy], axis=-1)
    texture = 0.08 * np.sin(40 * xx + 25 * yy)[..., None]
    blocks = np.zeros_like(base)
    for _ in range(12):
        top, left = rng.integers(0, height), rng.integers(0, width)
        blocks[top : top + height // 6, left : left + width // 6] += rng.uniform(-0.2, 0.2, 3)
    noise = rng.normal(0.0, 0.02, base.shape)
    return (np.clip(base + texture + blocks + noise, 0, 1) * 255).round().astype(np.uint8)


def bench_image(path: Path | None, width: int, height: int) -> tuple[np.ndarray, str]:
    """The image to time on, fitted (scaled and centre-cropped) to width x height."""
    if path is None:
        return synthetic_image(width, height), f"synthetic test card {width}x{height}"
    with Image.open(path) as im:
        fitted = ImageOps.fit(ImageOps.exif_transpose(im).convert("RGB"), (width, height))
    return np.asarray(fitted), f"{path.name} fitted to {width}x{height}"


def _load_mambaic(weights: str | None, untrained: str | None, device: str):
    import mambaic
    from mambaic.codec.codec import Codec
    from mambaic.eval.learned import describe_weights
    from mambaic.models import build_model
    from mambaic.weights import WeightsInfo

    if untrained is None:
        codec = mambaic.load_codec(weights=weights, device=device)
        return codec, describe_weights(codec)
    model = build_model(untrained).to(device).eval()
    model.update(force=True)
    info = WeightsInfo(name=untrained, path=Path("untrained"), sha256="0" * 64, config=model.cfg)
    codec = Codec(model, info, device)
    params = sum(p.numel() for p in model.parameters()) / 1e6
    return codec, f"`{untrained}` config with untrained weights ({params:.2f} M parameters)"


def _median_split(splits: list[dict[str, float]]) -> dict[str, float]:
    return {stage: statistics.median(s[stage] for s in splits) for stage in splits[0]}


def _time_round_trip(run: BenchRun, image: Image.Image, codec, quality: float,
                     refine_steps: int = 0) -> tuple[Timed, Timed, bytes]:
    """Median encode and decode of mambaic end to end, and the bytes it wrote."""
    encode = measure_call(lambda: codec.compress(image, quality, refine_steps=refine_steps),
                          run.device, run.repeats, run.warmup)  # fmt: skip
    data = encode.result
    decode = measure_call(lambda: codec.decompress(data), run.device, run.repeats, run.warmup)
    return encode, decode, data


def _bench_mambaic(run: BenchRun, rgb: np.ndarray, codec, quality: float) -> None:
    image = Image.fromarray(rgb, "RGB")
    encode, decode, data = _time_round_trip(run, image, codec, quality)
    clock = StageClock(codec.model, run.device)  # split on separate runs: totals stay hook-free
    enc_splits, dec_splits = [], []
    try:
        for _ in range(run.repeats):
            clock.start()
            codec.compress(image, quality, progress=clock.progress)
            clock.finish()
            enc_splits.append(clock.encode_split())
            clock.start()
            codec.decompress(data, progress=clock.progress)
            clock.finish()
            dec_splits.append(clock.decode_split())
    finally:
        clock.remove()
    run.encode_stages = _median_split(enc_splits)
    run.decode_stages = _median_split(dec_splits)
    run.rows.append(
        BenchRow("mambaic", f"mambaic ({codec.weights.name})", "mambaic", f"quality {quality:g}",
                 run.device, encode, decode, len(data))
    )  # fmt: skip


def _bench_refined(run: BenchRun, rgb: np.ndarray, codec, quality: float, steps: int) -> None:
    """The same quality encoded with latent refinement: what its smaller file costs in time and
    memory (decoding it costs what any decode does, and is timed again for completeness)."""
    encode, decode, data = _time_round_trip(run, Image.fromarray(rgb, "RGB"), codec, quality, steps)
    run.rows.append(
        BenchRow("mambaic-refined", f"mambaic ({codec.weights.name}), {describe_steps(steps)}",
                 "mambaic", f"quality {quality:g}, {steps} refinement steps", run.device, encode, decode,
                 len(data))
    )  # fmt: skip


def _bench_classic(run: BenchRun, rgb: np.ndarray) -> None:
    available, _ = classic.all_codecs()
    for name, quality in CLASSIC_BENCH_QUALITY.items():
        if name not in available:
            continue
        codec = available[name]
        encode = measure_call(lambda c=codec, q=quality: c.encode(rgb, q), "cpu", run.repeats,
                              run.warmup)  # fmt: skip
        data = encode.result
        decode = measure_call(lambda c=codec, d=data: c.decode(d), "cpu", run.repeats, run.warmup)
        run.rows.append(
            BenchRow(name, codec.label, "classic", f"quality {quality:g} (library default)",
                     "cpu", encode, decode, len(data))
        )  # fmt: skip


def _bench_peers(run: BenchRun, rgb: np.ndarray) -> None:
    x = torch.from_numpy(rgb.copy()).permute(2, 0, 1)[None].float().div(255).to(run.device)
    for peer in peers.PEERS:
        model = peers.build(peer, run.device)
        encode_fn, decode_fn = peers.coders(model, x)
        encode = measure_call(encode_fn, run.device, run.repeats, run.warmup)
        coded = encode.result
        decode = measure_call(lambda f=decode_fn, c=coded: f(c), run.device, run.repeats,
                              run.warmup)  # fmt: skip
        run.rows.append(
            BenchRow(peer.name, peer.label, "learned peer", peer.note, run.device, encode, decode,
                     None)
        )  # fmt: skip
        del model


def run_bench(
    *,
    width: int = 768,
    height: int = 512,
    device: str = "cpu",
    image: Path | None = None,
    repeats: int = 5,
    warmup: int = 1,
    threads: int | None = None,
    quality: float = 3.0,
    weights: str | None = None,
    untrained: str | None = None,
    with_classic: bool = True,
    with_peers: bool = True,
    show_progress: bool = True,
    refine_steps: int = 0,
) -> BenchRun:
    """Time mambaic (per stage), the classic codecs and the learned peers on one image; with
    ``refine_steps``, also mambaic encoding with that much latent refinement."""
    if threads is not None:
        torch.set_num_threads(threads)
    rgb, image_desc = bench_image(image, width, height)
    codec, model_desc = _load_mambaic(weights, untrained, device)
    run = BenchRun(
        width=width, height=height, image=image_desc, device=device, repeats=repeats,
        warmup=warmup, machine=machine.describe(device),
        date=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), model=model_desc,
    )  # fmt: skip
    steps: list[tuple[str, Callable[[], None]]] = [
        ("mambaic", lambda: _bench_mambaic(run, rgb, codec, quality))
    ]
    if refine_steps:
        steps.append(("mambaic, refined", lambda: _bench_refined(run, rgb, codec, quality, refine_steps)))
    if with_classic:
        steps.append(("classic codecs", lambda: _bench_classic(run, rgb)))
    if with_peers:
        steps.append(("CompressAI peers", lambda: _bench_peers(run, rgb)))
    with tqdm(steps, unit="group", disable=not show_progress) as bar:
        for name, step in bar:
            bar.set_description(name)
            step()
    return run
