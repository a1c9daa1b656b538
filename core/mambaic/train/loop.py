"""The training loop: one variable-rate model, λ drawn per batch, resumable at any point.

Each step draws a continuous quality q ∈ [1, 5] and trains on λ(q) = the log-linear
interpolation of the paper's five λ, so every quality in between is trained, not only the five
levels. Progress goes to a tqdm bar and a CSV log; checkpoints are written atomically every
`save_every` steps and at the end (also on Ctrl-C), so a run can always resume.

A new run warms its learning rate up linearly: Adam's first steps move every weight by about lr
whatever its gradient, which at 5e-4 wrecked trained weights in one step (27.9 → 13.1 dB). A step
whose loss or gradient is not finite is skipped, never applied; a run of them stops training with
the last good weights saved. What is validated and exported is the weight average (`averaging`).
"""

from __future__ import annotations

import csv
import inspect
import json
import math
import os
import random
import signal
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import IO

import torch
from tqdm import tqdm

from mambaic.atomic import atomic_write
from mambaic.card import ModelCard, TrainingStage, ValidationPoint, VariableRate
from mambaic.models import MambaIC, build_model
from mambaic.models.gain import QUALITY_MAX, QUALITY_MIN, lambda_for_quality
from mambaic.models.loss import rate_distortion_loss
from mambaic.psnr import psnr_from_mse
from mambaic.train.averaging import PREFIX as EMA_PREFIX
from mambaic.train.averaging import WeightAverage
from mambaic.train.checkpoint import (
    load_checkpoint,
    read_checkpoint_config,
    read_tensors,
    save_checkpoint,
)
from mambaic.train.config import TrainConfig
from mambaic.train.data import PatchSampler, describe_data
from mambaic.train.validate import validate, validation_crops
from mambaic.weights import load_model, save_weights, with_config

#: Consecutive non-finite steps after which training stops instead of skipping on.
MAX_BAD_STEPS = 25


class DivergedError(RuntimeError):
    """Training produced only non-finite losses or gradients for MAX_BAD_STEPS steps."""


#: The fraction of the peak learning rate the cosine decay ends at.
LR_FLOOR = 0.1


def decay_start(decay_from: float, steps: int) -> int:
    """The step where the cosine decay begins, shared by `lr_at` and `describe_lr`."""
    return int(decay_from * steps)


def draw_quality(rng: random.Random, tilt: float = 0.0) -> float:
    """A training quality in [QUALITY_MIN, QUALITY_MAX] with a density that rises linearly from
    1 - tilt at the lowest quality to 1 + tilt at the highest (tilt 0: uniform).

    Tilting spends more steps on the high-rate objectives, the ones that reward the transforms
    for keeping fine texture; the low qualities are still drawn, only less often.
    """
    if not 0.0 <= tilt < 1.0:
        raise ValueError(f"quality tilt must be in [0, 1), got {tilt}")
    u = rng.random()
    # Inverse of the CDF F(s) = s + tilt·(s² − s) on s ∈ [0, 1].
    s = u if tilt == 0 else (-(1 - tilt) + math.sqrt((1 - tilt) ** 2 + 4 * tilt * u)) / (2 * tilt)
    return QUALITY_MIN + (QUALITY_MAX - QUALITY_MIN) * min(max(s, 0.0), 1.0)


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up over the first `warmup` steps, flat, then cosine decay to lr/10."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    start = decay_start(cfg.decay_from, cfg.steps)
    if step < start:
        return cfg.lr
    t = min(1.0, (step - start) / max(1, cfg.steps - start))
    return cfg.lr * (LR_FLOOR + (1 - LR_FLOOR) * 0.5 * (1 + math.cos(math.pi * t)))


def describe_lr(cfg: TrainConfig, ended_at: int) -> str:
    """`lr_at`'s schedule in words for the model card: a stage's lr alone does not say whether
    it ended on a decay, which is worth ~1 dB at q5 here, so it also says where the stage
    stopped (`ended_at` steps done) and the last lr used. Steps are those of the last launch."""
    plan = (f"linear warm-up over {cfg.warmup} steps, {cfg.lr:g} until step "
            f"{decay_start(cfg.decay_from, cfg.steps)}, then cosine decay to {cfg.lr * LR_FLOOR:g} "
            f"planned at step {cfg.steps}")
    if ended_at >= cfg.steps:
        return plan + " (reached)"
    return plan + f" (stopped after {ended_at} steps, last lr {lr_at(max(0, ended_at - 1), cfg):.2g})"


def _split_parameters(model: MambaIC) -> tuple[list, list]:
    main, aux = [], []
    for name, p in model.named_parameters():
        (aux if name.endswith("quantiles") else main).append(p)
    return main, aux


def _adam(params: list, lr: float) -> torch.optim.Adam:
    """Adam as one fused kernel where this torch and device have it: the lite model's optimiser
    step falls from 46 to 11 ms on the CPU, about 5 % of a training step."""
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(params, lr=lr)


def _use_fused_kernel(*opts: torch.optim.Adam) -> None:
    for opt in opts:
        fused = bool(opt.defaults.get("fused"))
        for group in opt.param_groups:
            group["fused"], group["foreach"] = fused, None if fused else group.get("foreach")


def _distributed() -> tuple[int, int]:
    """(rank, world size); initialises torch.distributed when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    return int(os.environ.get("RANK", "0")), world


@dataclass
class _Run:
    """What `_set_up` builds and the steps, validation, checkpoints and export share."""

    cfg: TrainConfig
    rank: int
    world: int
    device: str
    model: MambaIC
    net: torch.nn.Module  # `model`, wrapped for DDP when world > 1
    main_params: list
    opt: torch.optim.Adam
    aux_opt: torch.optim.Adam
    ema: WeightAverage | None  # rank 0 only
    progress: dict  # step, wall, seed, earlier (stage dicts), ema_updates: saved in every checkpoint
    sampler: PatchSampler
    rng: random.Random  # draws each step's quality

    @property
    def lead(self) -> bool:
        """Rank 0 alone logs, validates, checkpoints and exports."""
        return self.rank == 0

    @property
    def out(self) -> Path:
        return Path(self.cfg.out)


@dataclass
class _StepOutcome:
    """One optimisation step's numbers, for the log."""

    quality: float
    lam: float
    losses: dict[str, torch.Tensor]
    aux: torch.Tensor
    finite: bool  # False: the step was skipped, the main weights left as they were


class _Clock:
    """Wall time of a run across its launches: `wall0` seconds from earlier launches plus the
    time since this one's loop began; also the seconds each step took."""

    def __init__(self, wall0: float) -> None:
        self.wall0 = wall0
        self.begin = self.last = time.time()

    def tick(self) -> tuple[float, float]:
        """(seconds since the last tick, run wall time now)."""
        now = time.time()
        dt, self.last = now - self.last, now
        return dt, self.wall0 + now - self.begin

    def wall(self) -> float:
        return self.wall0 + time.time() - self.begin


def train(cfg: TrainConfig) -> Path:
    """Run (or resume) training; returns the path of the exported weights."""
    run = _set_up(cfg)
    log = _open_log(run.out) if run.lead else None
    if run.lead:
        atomic_write(run.out / "train_config.json",
                     json.dumps({**asdict(cfg), "world_size": run.world}, indent=2).encode(), overwrite=True)
    try:
        _run_steps(run, log)
    finally:
        if log:
            log.close()
    result = export(_for_coding(run.model, run.ema), run.out, run.progress, cfg, run.world) if run.lead else run.out
    if run.world > 1:
        torch.distributed.destroy_process_group()
    return result


def _set_up(cfg: TrainConfig) -> _Run:
    """Device, model, optimisers, weight average and patch sampler, fresh or from the checkpoint.

    The order of the seeded draws (model init, then sampler, then quality rng) is part of a
    run's numbers: keep it.
    """
    rank, world = _distributed()
    device = cfg.device
    if device == "cuda" and world > 1:
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
        torch.cuda.set_device(device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    Path(cfg.out).mkdir(parents=True, exist_ok=True)
    resume = cfg.resume_path()

    torch.manual_seed(cfg.seed + rank)
    model, earlier = _initial_model(cfg, resume)
    model.to(device).train()
    main_params, aux_params = _split_parameters(model)
    opt = _adam(main_params, cfg.lr)
    aux_opt = _adam(aux_params, cfg.aux_lr)
    progress = {"step": 0, "wall": 0.0, "seed": cfg.seed}
    if earlier is not None:
        progress["earlier"] = [stage.to_dict() for stage in earlier]  # JSON in the checkpoint
    if resume is not None:
        progress = load_checkpoint(resume, model, opt, aux_opt)
        _use_fused_kernel(opt, aux_opt)  # the saved groups carry the flags of the run that saved them
        model.to(device)
    ema = None
    if rank == 0 and cfg.ema:
        ema = WeightAverage(model, cfg.ema, updates=int(progress.get("ema_updates", 0)))
        if resume is not None and not ema.load_state_tensors(read_tensors(resume, EMA_PREFIX)):
            tqdm.write("checkpoint has no weight average: starting it from the current weights")
    seed = cfg.seed + rank + 1000 * int(progress["step"])  # a resumed run draws fresh batches
    sampler = (PatchSampler.from_npy(cfg.patches_npy, cfg.patch, seed, cfg.detail_draws) if cfg.patches_npy
               else PatchSampler.from_folder(cfg.data, cfg.patch, cfg.max_side, seed,
                                             scales=cfg.scales, detail_draws=cfg.detail_draws))
    if cfg.val_dir:
        validation_crops(cfg.val_dir)  # fail now, not at the first validation hours later
    rng = random.Random(seed)
    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=True,
                                                        **_no_forward_buffer_sync())
    return _Run(cfg, rank, world, device, model, net, main_params, opt, aux_opt, ema, progress, sampler, rng)


def _initial_model(cfg: TrainConfig, resume: Path | None) -> tuple[MambaIC, tuple[TrainingStage, ...] | None]:
    """The network a run starts from and, for one started from `init_weights`, the earlier
    training stages behind those weights (None otherwise). A resumed run gets the checkpoint's
    architecture here; its weights are loaded with the optimisers."""
    if resume is not None:
        return build_model(read_checkpoint_config(resume)), None
    earlier = None
    if cfg.init_weights:
        model, init_info = load_model(cfg.init_weights)
        earlier = earlier_training(init_info.card, init_info.sha256)
    else:
        model = build_model(cfg.model)
    if cfg.chroma_filter is not None:
        model = with_config(model, chroma_filter=cfg.chroma_filter)
    return model, earlier


def _open_log(out: Path) -> IO[str]:
    """The run's log.csv, appended to across launches; the header goes in once."""
    path = out / "log.csv"
    new = not path.exists()
    log = open(path, "a", newline="")
    if new:
        csv.writer(log).writerow(["step", "quality", "lambda", "loss", "bpp", "psnr", "aux", "lr",
                                  "sec_per_step", "wall_s"])
    return log


def _run_steps(run: _Run, log: IO[str] | None) -> None:
    """Step until `cfg.steps` or a stop request, checkpointing and validating on schedule; the
    last checkpoint is written however the loop ends (Ctrl-C, SIGTERM, divergence)."""
    cfg = run.cfg
    step = int(run.progress["step"])
    bar = tqdm(total=cfg.steps, initial=step, disable=not run.lead, dynamic_ncols=True, desc="train")
    stop = _StopRequest()
    clock = _Clock(float(run.progress["wall"]))
    bad_steps = 0
    try:
        while step < cfg.steps and not _agreed_stop(stop.requested, run.world, run.device):
            outcome = _optimisation_step(run, step)
            step += 1
            bad_steps = 0 if outcome.finite else bad_steps + 1
            dt, wall = clock.tick()
            if run.lead:
                _report_step(run, outcome, step, bar, log, dt, wall)
            if step % cfg.save_every == 0:
                if log:
                    log.flush()
                _checkpoint(run, step, clock)
            if run.lead and cfg.val_dir and step % cfg.val_every == 0:
                _validate_and_log(_for_coding(run.model, run.ema), cfg, run.out, step)
            if bad_steps >= MAX_BAD_STEPS:
                raise DivergedError(f"{bad_steps} consecutive steps with non-finite loss or gradients "
                                    f"at step {step}: training diverged; the last good weights are "
                                    "in the checkpoint. Resume with a lower --lr.")
    except KeyboardInterrupt:
        if run.lead:
            tqdm.write("interrupted: saving checkpoint")
    finally:
        stop.restore()
        _checkpoint(run, step, clock)
        bar.close()


def _optimisation_step(run: _Run, step: int) -> _StepOutcome:
    """One batch at one drawn quality: forward, rate-distortion loss, clipped main update
    (skipped when not finite), weight-average update, then the entropy models' aux update."""
    cfg, model = run.cfg, run.model
    x = run.sampler.batch(cfg.batch_size).to(run.device, non_blocking=True)
    q = draw_quality(run.rng, cfg.quality_tilt)
    lam = lambda_for_quality(q, model.cfg.lambdas)
    for g in run.opt.param_groups:
        g["lr"] = lr_at(step, cfg)
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cfg.amp and run.device.startswith("cuda")):
        result = run.net(x, q)
    result = {"x_hat": result["x_hat"].float(),
              "likelihoods": {k: v.float() for k, v in result["likelihoods"].items()}}
    losses = rate_distortion_loss(result, x, lam)
    run.opt.zero_grad(set_to_none=True)
    losses["loss"].backward()
    grad_norm = torch.nn.utils.clip_grad_norm_(run.main_params, cfg.clip)
    finite = bool(torch.isfinite(losses["loss"]) and torch.isfinite(grad_norm))
    if finite:
        run.opt.step()
        if run.ema:
            run.ema.update(model)
    aux = model.aux_loss()
    run.aux_opt.zero_grad(set_to_none=True)
    aux.backward()
    if torch.isfinite(aux):
        run.aux_opt.step()
    return _StepOutcome(q, lam, losses, aux, finite)


def _report_step(run: _Run, outcome: _StepOutcome, step: int, bar: tqdm, log: IO[str], dt: float,
                 wall: float) -> None:
    """The progress bar and the log.csv row of a finished step (`step` counts it)."""
    q = outcome.quality
    if not outcome.finite:
        tqdm.write(f"step {step}: non-finite loss or gradient (q={q:.2f}), step skipped")
    loss, bpp, mse = (outcome.losses[k].item() for k in ("loss", "bpp", "mse"))
    psnr = psnr_from_mse(mse, peak=1.0)  # the loss's MSE is on [0, 1] pixels
    bar.update(1)
    bar.set_postfix(q=f"{q:.2f}", loss=f"{loss:.3f}", bpp=f"{bpp:.3f}", psnr=f"{psnr:.2f}")
    csv.writer(log).writerow([step, f"{q:.3f}", f"{outcome.lam:.5f}", f"{loss:.5f}", f"{bpp:.5f}",
                              f"{psnr:.3f}", f"{outcome.aux.item():.3f}", f"{lr_at(step, run.cfg):.2e}",
                              f"{dt:.3f}", f"{wall:.1f}"])


def _checkpoint(run: _Run, step: int, clock: _Clock) -> None:
    """Save model, optimisers, weight average and progress (rank 0; atomic)."""
    if not run.lead:
        return
    run.progress.update(step=step, wall=clock.wall())
    if run.ema:
        run.progress["ema_updates"] = run.ema.updates
    save_checkpoint(run.out / "checkpoint.safetensors", run.model, run.opt, run.aux_opt, run.progress,
                    run.ema.state_tensors() if run.ema else None)


def _no_forward_buffer_sync() -> dict:
    """DDP must not sync buffers at each forward: the only buffers are the entropy coder's CDF
    tables, unused in training, and rank 0 re-sizes them when it validates with real bytes (a
    sync then fails with mismatched sizes). torch 2.13 renamed the switch."""
    params = inspect.signature(torch.nn.parallel.DistributedDataParallel.__init__).parameters
    return {"forward_sync_buffers": False} if "forward_sync_buffers" in params else {"broadcast_buffers": False}


def _agreed_stop(requested: bool, world: int, device: str) -> bool:
    """Whether to stop now; under DDP every rank must agree, or the ones still stepping would
    wait forever in the next gradient all-reduce for the ones that left."""
    if world == 1:
        return requested
    flag = torch.tensor([int(requested)], device=device)
    torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
    return bool(flag.item())


class _StopRequest:
    """SIGTERM (and SIGINT where it is not ignored) ends the run after the current step.

    Background runs started with nohup ignore SIGINT, and a plain kill sends SIGTERM: both must
    still leave a checkpoint and exported weights behind rather than losing the steps since the
    last save.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous = {}
        for sig in (signal.SIGTERM, signal.SIGINT):
            if signal.getsignal(sig) is signal.SIG_IGN:
                continue
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread: leave signals alone
                pass

    def _handle(self, signum, _frame) -> None:
        self.requested = True
        tqdm.write(f"signal {signum}: stopping after this step, saving checkpoint")

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _for_coding(model: MambaIC, ema: WeightAverage | None) -> MambaIC:
    """The network to validate and export: the weight average (a copy), or else the model
    itself, in eval mode with its coder tables rebuilt from the current weights."""
    if ema is not None:
        return ema.averaged(model)
    model.eval()
    model.update(force=True)
    return model


def _validate_and_log(model: MambaIC, cfg: TrainConfig, out: Path, step: int) -> None:
    rows = validate(model, cfg.val_dir)
    model.train()
    path = out / "val.csv"
    new = not path.exists()
    with open(path, "a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(["step", "quality", "payload_bpp", "psnr"])
        for r in rows:
            w.writerow([step, r["quality"], f"{r['bpp']:.4f}", f"{r['psnr']:.3f}"])
    tqdm.write("val " + "  ".join(f"q{r['quality']:g}: {r['bpp']:.3f} bpp {r['psnr']:.2f} dB" for r in rows))


def latest_validation(val_csv: Path) -> tuple[ValidationPoint, ...]:
    """The rows of the last validation step in a run's val.csv (empty when there is none), as
    the file holds them (text)."""
    if not val_csv.exists():
        return ()
    with open(val_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    last = max((int(r["step"]) for r in rows), default=None)
    return tuple(ValidationPoint.from_dict(r, f"{val_csv.name}[{i}]")
                 for i, r in enumerate(rows) if int(r["step"]) == last)


def model_card(model: MambaIC, cfg: TrainConfig, progress: dict, world: int, averaged: bool,
               hardware: str, schedule_known: bool = True) -> ModelCard:
    """The card of weights trained by ``cfg``: what they are, how they were trained and their
    latest validation. The loop's export and scripts/export_weights.py both write this one."""
    earlier, total = lineage(progress)
    stage = TrainingStage(
        steps=progress["step"], wall_seconds=round(progress["wall"], 1), batch_size=cfg.batch_size * world,
        ranks=world, patch=cfg.patch, lr=cfg.lr,
        quality_sampling=(f"density {1 - cfg.quality_tilt:g} at q=1 rising to "
                          f"{1 + cfg.quality_tilt:g} at q=5" if cfg.quality_tilt else "uniform"),
        lr_schedule=describe_lr(cfg, progress["step"]) if schedule_known else None,
        data=describe_data(cfg.data, tuple(cfg.scales), cfg.detail_draws, cfg.val_dir),
        device=cfg.device, hardware=hardware,
        weights=f"exponential moving average, decay {cfg.ema}" if averaged else "last step")
    return ModelCard(
        model=model.cfg.name, parameters=sum(p.numel() for p in model.parameters()),
        variable_rate=VariableRate(quality_range=(QUALITY_MIN, QUALITY_MAX), lambdas=tuple(model.cfg.lambdas)),
        chroma_filter=model.cfg.chroma_filter, training=stage, earlier_training=earlier, total_steps=total,
        validation=latest_validation(Path(cfg.out) / "val.csv"))


def export(model: MambaIC, out: Path, progress: dict, cfg: TrainConfig, world: int = 1) -> Path:
    """fp32 and fp16 safetensors with a model card describing how they were made."""
    model.eval()
    card = model_card(model, cfg, progress, world, averaged=bool(cfg.ema), hardware=_hardware(cfg.device))
    path32 = out / f"mambaic-{model.cfg.name}-fp32.safetensors"
    save_weights(model, path32, card)
    save_weights(model, out / f"mambaic-{model.cfg.name}-fp16.safetensors", card, half=True)
    card.write(out / "model_card.json")
    return path32


def earlier_training(card: ModelCard, sha256: str) -> tuple[TrainingStage, ...]:
    """The runs behind weights a new run starts from (`--init-weights`), oldest first.

    A run restarted from exported weights (e.g. on a lent GPU) must not present its own step
    count as the model's whole history: the card keeps every earlier stage with the weights'
    SHA-256 it ended at.
    """
    last = (replace(card.training, ended_at_sha256=sha256),) if card.training else ()
    return (*(card.earlier_training or ()), *last)


def lineage(progress: dict) -> tuple[tuple[TrainingStage, ...] | None, int | None]:
    """The earlier stages a checkpoint's progress records (as dicts, checkpoints of every
    version alike) and the total step count over them and this run; (None, None) without any."""
    earlier = tuple(TrainingStage.from_dict(stage, f"earlier_training[{i}]")
                    for i, stage in enumerate(progress.get("earlier", [])))
    if not earlier:
        return None, None
    return earlier, int(progress["step"]) + sum(stage.steps for stage in earlier)


def _hardware(device: str) -> str:
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name()
    return f"CPU, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"
