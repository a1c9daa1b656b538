"""The measuring steps of scripts/device_check.sh, one subcommand each, every one writing its
result as JSON into OUT/steps/ so the shell script can go on when a step fails and the report
still says what happened.

Subcommands: photos (a tiny training set for the rehearsal), scan, latency, crossdevice, report.
Each takes --dry-run: the same code at tiny sizes on the CPU, so the script is rehearsed here.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from mambaic.codec.codec import load_codec
from mambaic.errors import DecodeMismatchError
from mambaic.models import build_model
from mambaic.models.mambaic import MambaIC
from mambaic.ops.selective_scan import auto_backend, available_backends, selective_scan
from mambaic.resources import resource_dir
from mambaic.weights import load_model, save_weights

#: The paper's latency on an A100 at 768x512 (Table of MambaIC, ms): encode, decode.
PAPER_A100_MS = {"encode": 60.73, "decode": 39.42}
STEPS = ("install", "cuda_tests", "scan", "latency", "crossdevice", "train")


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _sample(width: int, height: int) -> Image.Image:
    with Image.open(resource_dir("samples") / "astronaut.png") as im:
        return im.convert("RGB").resize((width, height), Image.LANCZOS)


def _write(out: Path, name: str, result: dict) -> None:
    (out / "steps").mkdir(parents=True, exist_ok=True)
    (out / "steps" / f"{name}.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


def photos(out: Path) -> None:
    """train/ and val/ folders of a few small textured PNGs, for the training rehearsal."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:96, 0:128]
    for role, count in (("train", 3), ("val", 1)):
        folder = out / role
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            base = np.stack([np.sin(xx / (7 + i)), np.cos(yy / (5 + i)), np.sin((xx + yy) / 11)], -1)
            img = (127 + 90 * base + rng.normal(0, 8, base.shape)).clip(0, 255).astype(np.uint8)
            Image.fromarray(img).save(folder / f"p{i}.png")


def _scan_inputs(dim: int, length: int, state: int, device: str) -> dict:
    """Inputs shaped like one SS2D call (4 paths of `dim // 4` channels, grouped B and C)."""
    g = torch.Generator().manual_seed(0)

    def r(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=g)

    return {k: v.to(device) for k, v in dict(
        u=r(1, dim, length), delta=r(1, dim, length) * 0.5, A=-torch.rand(dim, state, generator=g) - 0.5,
        B=r(1, 4, state, length), C=r(1, 4, state, length), D=r(dim),
        delta_bias=r(dim) * 0.1).items()}


def scan(out: Path, device: str, dry: bool) -> None:
    """Which scan `auto` uses on `device`, whether each backend agrees with the reference, and
    how long each takes on the shape of the lite model's widest SS2D call at 768x512."""
    small = _scan_inputs(16, 200, 4, device)
    ref = selective_scan(**small, delta_softplus=True, backend="reference")
    dim, length, state = (16, 256, 4) if dry else (4 * 96, 192 * 128, 8)  # 4 paths x 96, 1/4 res
    big = _scan_inputs(dim, length, state, device)
    result: dict = {"device": device, "auto": auto_backend(device), "backends": {}}
    candidates = ("cuda", "chunked") if device.startswith("cuda") else ("numba", "chunked")
    for name in [b for b in available_backends() if b in candidates]:
        entry: dict = {}
        try:
            y = selective_scan(**small, delta_softplus=True, backend=name)
            entry["max_rel_err"] = float(((y - ref).abs().max() / ref.abs().max()).item())
            selective_scan(**big, delta_softplus=True, backend=name)  # warm-up / compilation
            times = []
            for _ in range(3):
                _sync(device)
                t0 = time.perf_counter()
                selective_scan(**big, delta_softplus=True, backend=name)
                _sync(device)
                times.append(1e3 * (time.perf_counter() - t0))
            entry["ms"] = statistics.median(times)
        except Exception as exc:  # a backend failing here is a result to report, not a crash
            entry["error"] = f"{type(exc).__name__}: {exc}"[:300]
        result["backends"][name] = entry
    result["shape"] = {"dim": dim, "L": length, "N": state}
    _write(out, "scan", result)


def _model(name: str, device: str) -> MambaIC:
    """Shipped weights where they exist (lite), else seed-0 random ones of that size."""
    if name == "lite":
        return load_model(None, device)[0]
    torch.manual_seed(0)
    model = build_model(name).to(device).eval()
    model.update(force=True)
    return model


def latency(out: Path, device: str, dry: bool) -> None:
    """Median encode/decode ms (3 runs after a warm-up) at 768x512, q=3, against the paper's A100."""
    names, (width, height) = (("tiny",), (128, 64)) if dry else (("lite", "paper"), (768, 512))
    rgb = np.asarray(_sample(width, height))
    x = torch.from_numpy(rgb.copy()).permute(2, 0, 1)[None].float().div(255).to(device)
    result: dict = {"device": device, "size": f"{width}x{height}", "paper_a100_ms": PAPER_A100_MS,
                    "models": {}}
    for name in names:
        model = _model(name, device)
        with torch.no_grad():
            model.decompress(model.compress(x, 3.0), 3.0)  # warm-up
            enc, dec = [], []
            for _ in range(3):
                _sync(device)
                t0 = time.perf_counter()
                streams = model.compress(x, 3.0)
                _sync(device)
                t1 = time.perf_counter()
                model.decompress(streams, 3.0)
                _sync(device)
                enc.append(1e3 * (t1 - t0))
                dec.append(1e3 * (time.perf_counter() - t1))
        result["models"][name] = {"encode_ms": statistics.median(enc), "decode_ms": statistics.median(dec),
                                  "bpp": 8 * streams.payload_bytes / (width * height),
                                  "weights": "shipped" if name == "lite" else "random (seed 0)"}
        del model
    _write(out, "latency", result)


def crossdevice(out: Path, device: str, dry: bool) -> None:
    """Encode on each device, decode on each, and report symbol (CRC) and pixel mismatches."""
    if dry:
        torch.manual_seed(0)
        weights = Path(tempfile.mkdtemp()) / "tiny.safetensors"
        save_weights(build_model("tiny"), weights)
        image = _sample(128, 64)
    else:
        weights, image = None, _sample(768, 512)
    devices = tuple(dict.fromkeys(("cpu", device)))  # one entry in the rehearsal
    pairs = [(a, b) for a in devices for b in devices if a != b] or [(device, device)]
    codecs = {d: load_codec(weights, d) for d in devices}
    result: dict = {"devices": list(devices), "cases": []}
    for q in (1.0, 3.0, 5.0):
        files = {d: codecs[d].compress(image, q) for d in devices}
        same_device = {d: np.asarray(codecs[d].decompress(files[d])) for d in devices}
        for enc, dec in pairs:
            case = {"quality": q, "encoded_on": enc, "decoded_on": dec,
                    "same_bytes_as_decoder_device": files[enc] == files[dec]}
            try:
                pixels = np.asarray(codecs[dec].decompress(files[enc])).astype(int)
                diff = np.abs(pixels - same_device[enc].astype(int))
                case.update(result="decoded", pixels_differing=int((diff > 0).any(-1).sum()),
                            max_abs_diff=int(diff.max()))
            except DecodeMismatchError as exc:
                case.update(result="symbol CRC mismatch", message=str(exc))
            result["cases"].append(case)
    _write(out, "crossdevice", result)


def _summary(name: str, data: dict) -> str:
    """One line per step for the report: the numbers that matter, not the whole JSON."""
    if name == "scan":
        parts = [f"{k}: " + (f"{v['ms']:.1f} ms, rel err {v['max_rel_err']:.1e}" if "ms" in v
                             else v.get("error", "?")) for k, v in data["backends"].items()]
        return f"auto uses '{data['auto']}' on {data['device']}; " + "; ".join(parts)
    if name == "latency":
        paper = data["paper_a100_ms"]
        parts = [f"{k} enc {v['encode_ms']:.1f} / dec {v['decode_ms']:.1f} ms ({v['weights']})"
                 for k, v in data["models"].items()]
        return (f"{data['size']} on {data['device']}: " + "; ".join(parts)
                + f" (paper, A100: {paper['encode']}/{paper['decode']} ms)")
    if name == "crossdevice":
        bad = [c for c in data["cases"] if c["result"] != "decoded" or c["max_abs_diff"]]
        return (f"{len(data['cases'])} cases, {len(bad)} not pixel-identical: "
                + ("; ".join(f"q{c['quality']:g} {c['encoded_on']}→{c['decoded_on']}: {c['result']}"
                             + (f", {c['pixels_differing']} px differ (max {c['max_abs_diff']})"
                                if c["result"] == "decoded" else "") for c in bad) or "none"))
    if name == "train":
        return (f"trained to step {data['last_step']}, weights in {len(data['weights_parts'])} parts"
                + (f", last validation {data['last_validation'][-1]}" if data["last_validation"] else ""))
    return ""


def _training(out: Path) -> dict | None:
    """What scripts/device_train.sh left in OUT: steps logged, last validation, weight parts."""
    if not (out / "log.csv").exists():
        return None
    rows = list(csv.DictReader(open(out / "log.csv")))
    val = list(csv.DictReader(open(out / "val.csv"))) if (out / "val.csv").exists() else []
    return {"last_step": rows[-1]["step"] if rows else None, "last_validation": val[-3:],
            "weights_parts": sorted(p.name for p in out.glob("mambaic-*-fp32.part-*"))}


def report(out: Path) -> None:
    """OUT/report.md and OUT/report.json: each step's exit status, summary and log tail."""
    steps, lines = {}, ["# Device check", ""]
    for name in STEPS:
        rc_file, log_file = out / "steps" / f"{name}.rc", out / "steps" / f"{name}.log"
        rc = int(rc_file.read_text()) if rc_file.exists() else None
        data_file = out / "steps" / f"{name}.json"
        data = json.loads(data_file.read_text()) if data_file.exists() else None
        if name == "train":
            data = _training(out)
        status = "not run" if rc is None else "ok" if rc == 0 else f"failed (exit {rc})"
        tail = log_file.read_text(errors="replace").splitlines()[-15:] if log_file.exists() else []
        summary = _summary(name, data) if data else ""
        steps[name] = {"status": status, "summary": summary, "result": data, "log_tail": tail}
        lines += [f"## {name}: {status}", "", summary, "", "```", *tail, "```", ""]
    (out / "report.json").write_text(json.dumps(steps, indent=1))
    (out / "report.md").write_text("\n".join(lines))
    print("\n".join(f"{k}: {v['status']}  {v['summary']}" for k, v in steps.items()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("command", choices=("photos", "scan", "latency", "crossdevice", "report"))
    ap.add_argument("out", type=Path)
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args(argv)
    device = "cpu" if args.dry_run else "cuda"
    if args.command == "photos":
        photos(args.out)
    elif args.command == "report":
        report(args.out)
    else:
        {"scan": scan, "latency": latency, "crossdevice": crossdevice}[args.command](
            args.out, device, args.dry_run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
