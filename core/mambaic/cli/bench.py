"""Time mambaic per stage, side by side with classic and learned codecs, on one image.

Encode and decode latency are the median of --repeats runs after --warmup runs, with model loading
excluded, split per stage (analysis, hyper networks, each slice's context model, entropy coding,
synthesis), plus peak extra memory and the thread count. In the same run and on the same image:
JPEG, WebP, AVIF and JPEG XL at their library defaults, and CompressAI's mbt2018-mean and
cheng2020-anchor architectures (untrained weights, timing only), reported as ratios to mambaic.

Without --image a synthetic test card is used. Prints the Markdown report; with --out also writes
bench-<device>.md and bench-<device>.json there.

With --train it times a training step instead (forward, loss, backward, Adam) of a model config
against mbt2018-mean on the same batch, the throughput target of training (ratio <= 1.5); --set
prices a config variant before anyone trains it. With --out: bench-train-cpu.md/.json.

examples:
  mambaic bench --image photo.png --repeats 5 --out docs/results/
  mambaic bench --train --threads 2
  mambaic bench --train --set depths=0,0,1,1
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mambaic.cli.common import EXIT_OK, add_effort_options, add_model_options, effort_steps
from mambaic.cli.eval import quality_arg

HELP = "latency per stage and peak memory, against JPEG/WebP/AVIF and CompressAI models"


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 768x512, not {text!r}") from None
    if width < 64 or height < 64:
        raise argparse.ArgumentTypeError("size must be at least 64x64")
    return width, height


def _count(minimum: int):
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return value

    return parse


def _config_names() -> list[str]:
    from mambaic.models.config import CONFIGS

    return list(CONFIGS)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--size",
        type=_size,
        default=(768, 512),
        metavar="WxH",
        help="image size (default: 768x512, Kodak)",
    )
    parser.add_argument(
        "--image",
        type=Path,
        metavar="PATH",
        help="time on this photo (scaled and cropped to --size) instead of a synthetic test card",
    )
    parser.add_argument(
        "--quality", type=quality_arg, default=3.0, help="mambaic quality (default 3)"
    )
    parser.add_argument(
        "--repeats",
        type=_count(1),
        default=5,
        metavar="N",
        help="timed runs per measurement; the median is reported (default 5)",
    )
    parser.add_argument(
        "--warmup", type=_count(0), default=1, metavar="N", help="untimed runs first (default 1)"
    )
    parser.add_argument(
        "--threads", type=_count(1), metavar="N", help="torch CPU threads (default: torch's choice)"
    )
    parser.add_argument(
        "--untrained",
        choices=_config_names(),
        metavar="CONFIG",
        help="time a freshly initialised model of this config (e.g. paper) "
        "instead of loading weights",
    )
    add_effort_options(parser, "also time mambaic encoding with STEPS steps of latent "
                       "refinement (instead of an effort level)")
    parser.add_argument("--no-classic", action="store_true", help="skip JPEG/WebP/AVIF/JPEG XL")
    parser.add_argument("--no-peers", action="store_true", help="skip the CompressAI models")
    parser.add_argument("--out", type=Path, metavar="DIR", help="also write the report here")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    train = parser.add_argument_group("training step (--train)")
    train.add_argument("--train", action="store_true",
                       help="time a training step against mbt2018-mean instead of coding")
    train.add_argument("--config", default="lite", choices=_config_names(),
                       help="model config to time (default lite)")
    train.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                       help="change a config field, tuples comma-separated (repeatable)")
    train.add_argument("--batch", type=_count(1), default=8, help="batch size (default 8)")
    train.add_argument("--patch", type=_count(64), default=128, help="crop size (default 128)")
    add_model_options(parser)


def run(args: argparse.Namespace) -> int:
    if args.train:
        return _run_train(args)
    from mambaic.eval import bench, bench_report

    width, height = args.size
    result = bench.run_bench(
        width=width,
        height=height,
        device=args.device,
        image=args.image,
        repeats=args.repeats,
        warmup=args.warmup,
        threads=args.threads,
        quality=args.quality,
        weights=str(args.weights) if args.weights else None,
        untrained=args.untrained,
        with_classic=not args.no_classic,
        with_peers=not args.no_peers,
        show_progress=not args.quiet,
        refine_steps=effort_steps(args),
    )
    print(bench_report.to_markdown(result))
    if args.out is not None:
        for path in bench_report.write(result, args.out, f"bench-{args.device}"):
            print(f"wrote {path}")
    return EXIT_OK


def _run_train(args: argparse.Namespace) -> int:
    import json

    import torch

    from mambaic.cli.common import UsageError
    from mambaic.atomic import atomic_write
    from mambaic.eval import bench_train

    if args.device != "cpu":
        raise UsageError("--train times the CPU step (the one training here depends on)")
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        result = bench_train.run_train_bench(args.config, args.set, args.batch, args.patch,
                                             steps=args.repeats, warmup=max(args.warmup, 1))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    text = bench_train.to_markdown(result)
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        report = json.dumps(bench_train.to_json(result), indent=2) + "\n"
        for name, data in (("bench-train-cpu.md", text), ("bench-train-cpu.json", report)):
            atomic_write(args.out / name, data.encode(), overwrite=True)
            print(f"wrote {args.out / name}")
    return EXIT_OK
