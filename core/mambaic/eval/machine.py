"""A short description of the machine and software a measurement ran on.

Timings and even bit-exactness depend on the CPU, thread count and library versions, so every
report names them; a number without its machine cannot be compared with anything.
"""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path

import torch

_THREAD_ENV = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
_PACKAGES = ("torch", "compressai", "numpy", "pillow", "pillow-jxl-plugin", "pytorch-msssim")


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe(device: str = "cpu") -> dict[str, object]:
    """CPU model, core and thread counts, load, OS, accelerator and key package versions.

    The load average is recorded because a busy machine (e.g. a training run beside the
    benchmark) slows every codec, and a reader must be able to see that it was busy; the
    threading environment because OpenMP's spin-waiting changes CPU timings severalfold on a
    busy machine.
    """
    info: dict[str, object] = {
        "cpu": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "device": device,
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "thread_env": {name: os.environ[name] for name in _THREAD_ENV if name in os.environ},
        "packages": {name: _version(name) for name in _PACKAGES},
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


def one_line(info: dict[str, object]) -> str:
    """The description as a single sentence for report headers."""
    where = info.get("gpu") or info["cpu"]
    load = info.get("load_average_1min")
    busy = f", 1-min load average {load:.1f} at start" if load is not None else ""
    env = " ".join(f"{k}={v}" for k, v in dict(info.get("thread_env") or {}).items())
    return (
        f"{where}, {info['logical_cores']} logical cores, torch {info['packages']['torch']} "
        f"with {info['torch_threads']} threads{' (' + env + ')' if env else ''}, {info['os']}, "
        f"Python {info['python']}{busy}"
    )
