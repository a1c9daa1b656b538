"""Training-step throughput: a mambaic config against CompressAI's mbt2018-mean on the same batch.

Training throughput decides the quality that can be shipped, so issue #5 sets a target: a `lite`
step no slower than 1.5x mbt2018-mean's. A step here is what `mambaic train` does per batch:
forward, rate-distortion loss, backward, optimiser step. The two models alternate, so a load that
comes and goes hits both alike, and the median of the timed steps is reported. mbt2018-mean is
CompressAI's quality-3 size (N=128, M=192), the smaller of its two.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from mambaic.eval import machine
from mambaic.models import ModelConfig, build_model, get_config
from mambaic.models.loss import rate_distortion_loss

TARGET_RATIO = 1.5
REFERENCE = "mbt2018_mean (CompressAI, quality 3: N=128, M=192)"


@dataclass
class TrainBenchRun:
    config: str  # e.g. "lite" or "lite with depths=0,0,1,1"
    parameters: int
    batch: int
    patch: int
    steps: int
    seconds_per_step: float
    reference_seconds_per_step: float
    machine: dict[str, object]

    @property
    def ratio(self) -> float:
        return self.seconds_per_step / self.reference_seconds_per_step


def with_overrides(cfg: ModelConfig, overrides: Sequence[str]) -> ModelConfig:
    """Apply FIELD=VALUE overrides (tuples comma-separated), to price a variant before training it."""
    for item in overrides:
        name, sep, text = item.partition("=")
        if not sep or name not in {f.name for f in dataclasses.fields(cfg)}:
            raise ValueError(f"--set wants FIELD=VALUE with a ModelConfig field, got {item!r}")
        current = getattr(cfg, name)
        try:
            value = _parse_like(current, text)
        except ValueError:
            kind = (f"{len(current)} comma-separated {type(current[0]).__name__} values"
                    if isinstance(current, tuple) else f"a {type(current).__name__}")
            raise ValueError(f"--set {item!r}: {name} wants {kind}") from None
        cfg = dataclasses.replace(cfg, **{name: value})
    return cfg


def _parse_like(current: object, text: str) -> object:
    """`text` read as a value of `current`'s type (ValueError when it is not one)."""
    if isinstance(current, tuple):
        value = tuple(type(current[0])(v) for v in text.split(","))
        if len(value) != len(current):
            raise ValueError(text)
        return value
    if isinstance(current, bool):
        if text.lower() not in ("true", "false", "1", "0"):
            raise ValueError(text)
        return text.lower() in ("true", "1")
    return type(current)(text)


def _step(model: torch.nn.Module, x: torch.Tensor, quality: float | None) -> Callable[[], float]:
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step() -> float:
        start = time.perf_counter()
        out = model(x) if quality is None else model(x, quality)
        loss = rate_distortion_loss(out, x, 0.013)["loss"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return time.perf_counter() - start

    return step


def run_train_bench(config: str = "lite", overrides: Sequence[str] = (), batch: int = 8,
                    patch: int = 128, steps: int = 5, warmup: int = 2) -> TrainBenchRun:
    """Median seconds per training step of `config` and of mbt2018-mean, alternating."""
    import mambaic._compressai  # noqa: F401  (torchvision shim)
    from compressai.zoo import mbt2018_mean

    cfg = with_overrides(get_config(config), overrides)
    where = machine.describe("cpu")  # before the run: its load average is the one that matters
    torch.manual_seed(0)
    x = torch.rand(batch, 3, patch, patch)
    ours = build_model(cfg).train()
    contenders = {"ours": _step(ours, x, 3.0),
                  "reference": _step(mbt2018_mean(quality=3, pretrained=False).train(), x, None)}
    for fn in contenders.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {k: [] for k in contenders}
    for _ in range(steps):
        for name, fn in contenders.items():
            times[name].append(fn())
    label = config + (f" with {' '.join(overrides)}" if overrides else "")
    return TrainBenchRun(
        config=label, parameters=sum(p.numel() for p in ours.parameters()), batch=batch, patch=patch,
        steps=steps, seconds_per_step=statistics.median(times["ours"]),
        reference_seconds_per_step=statistics.median(times["reference"]), machine=where)


def to_markdown(run: TrainBenchRun) -> str:
    verdict = "met" if run.ratio <= TARGET_RATIO else "not met"
    return "\n".join([
        f"# Training step: {run.config} vs mbt2018-mean",
        "",
        f"Batch {run.batch} of {run.patch}x{run.patch}, forward + loss + backward + Adam, "
        f"median of {run.steps} steps after warm-up, the two models alternating.",
        f"Machine: {machine.one_line(run.machine)}.",
        "",
        "| model | parameters | s/step |",
        "| --- | --- | --- |",
        f"| mambaic {run.config} | {run.parameters / 1e6:.2f} M | {run.seconds_per_step:.3f} |",
        f"| {REFERENCE} | | {run.reference_seconds_per_step:.3f} |",
        "",
        f"Ratio {run.ratio:.2f} (target <= {TARGET_RATIO}: {verdict}).",
        "",
    ])


def to_json(run: TrainBenchRun) -> dict[str, object]:
    return {**dataclasses.asdict(run), "ratio": run.ratio, "target_ratio": TARGET_RATIO,
            "reference": REFERENCE}
