"""Latency and peak-memory measurement that is fair across codecs and devices.

Latency is the median of N timed runs after warm-up runs (first calls pay for lazy allocation,
kernel selection and caches), with CUDA synchronised before every clock read so asynchronous
launches are not mistaken for finished work. Peak memory is the extra resident memory a call needs
on top of what was resident before it (weights already loaded): on Linux the kernel's high-water
mark (VmHWM) is reset before each call through ``/proc/self/clear_refs``; on CUDA it is
``torch.cuda.max_memory_allocated`` after resetting the peak statistics.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import torch

T = TypeVar("T")

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def synchronize(device: str) -> None:
    """Wait for queued GPU work so that a clock read means what it says."""
    if device.startswith("cuda"):
        torch.cuda.synchronize(torch.device(device))


def _status_kib(field: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_cpu_peak() -> bool:
    try:
        _CLEAR_REFS.write_text("5")  # "5" resets the peak RSS (VmHWM) of this process
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class Timed:
    """Median latency over the timed runs, extra peak memory, and the last run's result."""

    median_s: float
    runs_s: tuple[float, ...]
    peak_extra_mib: float | None  # None where the platform cannot measure it
    result: object


def measure_call(fn: Callable[[], T], device: str, repeats: int, warmup: int) -> Timed:
    """Run ``fn`` ``warmup`` times untimed, then ``repeats`` times timed.

    Peak memory is taken during the first timed run (resetting and reading the high-water mark
    costs microseconds), so slow codecs are not run an extra time just to measure memory.
    """
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    result: object = None
    for _ in range(warmup):
        result = fn()
    peak: float | None = None
    runs = []
    for index in range(repeats):
        watch = _PeakWatch(device) if index == 0 else None
        synchronize(device)
        start = time.perf_counter()
        result = fn()
        synchronize(device)
        runs.append(time.perf_counter() - start)
        if watch is not None:
            peak = watch.extra_mib()
    return Timed(statistics.median(runs), tuple(runs), peak, result)


class _PeakWatch:
    """Extra memory at the peak of whatever runs between construction and ``extra_mib``."""

    def __init__(self, device: str) -> None:
        self._device = device
        if device.startswith("cuda"):
            synchronize(device)
            self._before = torch.cuda.memory_allocated(torch.device(device)) / 2**20
            torch.cuda.reset_peak_memory_stats(torch.device(device))
            self._usable = True
        else:
            rss = _status_kib("VmRSS")
            self._before = (rss or 0) / 1024
            self._usable = rss is not None and _reset_cpu_peak()

    def extra_mib(self) -> float | None:
        if not self._usable:
            return None
        if self._device.startswith("cuda"):
            peak = torch.cuda.max_memory_allocated(torch.device(self._device)) / 2**20
        else:
            kib = _status_kib("VmHWM")
            if kib is None:
                return None
            peak = kib / 1024
        return max(0.0, peak - self._before)
