"""Splitting one mambaic encode or decode into the time each stage of the pipeline took.

Two clocks are combined, each used for what it can see:
- the progress events the model sends at stage boundaries (analysis, hyper, slice k of K,
  synthesis: `mambaic.progress.ProgressEvent`) timestamp the stages as the model defines them;
- forward hooks on the networks (g_a, h_a, h_s, g_s, and each slice's parameter network and
  latent-residual predictor) time the neural-network part of a stage.
What a slice's window contains beyond its networks is rANS coding (plus indexing), and the hyper
stage beyond h_a/h_s is the z entropy bottleneck, so entropy coding is measured as the remainder
rather than by patching the coder. On CUDA every clock read is preceded by a synchronisation,
which costs a little speed but makes the split honest.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable

from torch import nn

from mambaic.eval.timing import synchronize
from mambaic.models.latent_stage import ANALYSIS, HYPER, SLICE, SYNTHESIS
from mambaic.progress import ProgressEvent

#: A stage window: the stage's name and, for a slice, its 1-based index (tiles are summed).
_Window = tuple[str, int | None]
_AFTER_LAST: _Window = ("after last stage", None)


class StageClock:
    """Hooks a model once; ``start``/``progress``/``finish`` bracket each timed call."""

    def __init__(self, model: nn.Module, device: str) -> None:
        self._device = device
        self._network_s: dict[str, float] = defaultdict(float)
        self._marks: list[tuple[_Window, float]] = []
        self._t0 = 0.0
        self._t_end = 0.0
        networks = {"g_a": model.g_a, "h_a": model.h_a, "h_s": model.h_s, "g_s": model.g_s}
        for k, module in enumerate(model.latent.params):
            networks[f"context {k + 1}"] = module
        for k, module in enumerate(model.latent.lrp):
            networks[f"lrp {k + 1}"] = module
        self._handles = []
        for name, module in networks.items():
            self._handles.append(module.register_forward_pre_hook(self._enter(name)))
            self._handles.append(module.register_forward_hook(self._leave(name)))
        self._open: dict[str, float] = {}

    def _now(self) -> float:
        synchronize(self._device)
        return time.perf_counter()

    def _enter(self, name: str) -> Callable[..., None]:
        def hook(*_: object) -> None:
            self._open[name] = self._now()

        return hook

    def _leave(self, name: str) -> Callable[..., None]:
        def hook(*_: object) -> None:
            self._network_s[name] += self._now() - self._open.pop(name)

        return hook

    def remove(self) -> None:
        """Detach the hooks (the model runs at full speed again)."""
        for handle in self._handles:
            handle.remove()

    def start(self) -> None:
        self._network_s.clear()
        self._marks.clear()
        self._t0 = self._now()

    def progress(self, event: ProgressEvent) -> None:
        """The codec's progress callback: remember when each stage ended."""
        self._marks.append(((event.stage, event.index), self._now()))

    def finish(self) -> None:
        self._t_end = self._now()

    def _windows(self) -> dict[_Window, float]:
        """Wall time between consecutive stage marks, keyed by the stage that ended."""
        windows: dict[_Window, float] = {}
        previous = self._t0
        for stage, when in self._marks:
            windows[stage] = windows.get(stage, 0.0) + when - previous
            previous = when
        windows[_AFTER_LAST] = self._t_end - previous
        return windows

    def _slices(self, windows: dict[_Window, float]) -> tuple[dict[str, float], float]:
        """Per-slice context-model time, and total rANS time of all slices."""
        context, coding = {}, 0.0
        for (stage, k), seconds in windows.items():
            if stage == SLICE:
                nets = self._network_s[f"context {k}"] + self._network_s[f"lrp {k}"]
                context[f"context model, slice {k}"] = nets
                coding += seconds - nets
        return context, coding

    def encode_split(self) -> dict[str, float]:
        """Seconds per stage of the last ``Codec.compress`` call."""
        w = self._windows()
        hyper_nets = self._network_s["h_a"] + self._network_s["h_s"]
        context, y_coding = self._slices(w)
        return {
            "analysis (g_a; incl. image to tensor)": w.get((ANALYSIS, None), 0.0),
            "hyper networks (h_a, h_s)": hyper_nets,
            **context,
            "entropy coding (z and all y slices)": w.get((HYPER, None), 0.0) - hyper_nets + y_coding,
            "container (.mic writing)": w[_AFTER_LAST],
        }

    def decode_split(self) -> dict[str, float]:
        """Seconds per stage of the last ``Codec.decompress`` call."""
        w = self._windows()
        context, y_coding = self._slices(w)
        h_s = self._network_s["h_s"]
        g_s = self._network_s["g_s"]
        return {
            "hyper network (h_s)": h_s,
            **context,
            "entropy decoding (z and all y slices; incl. parsing)": w.get((HYPER, None), 0.0)
            - h_s
            + y_coding,
            "synthesis (g_s)": g_s,
            "other (gain, to uint8 image)": w.get((SYNTHESIS, None), 0.0) - g_s + w[_AFTER_LAST],
        }
