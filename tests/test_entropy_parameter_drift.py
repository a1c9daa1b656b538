"""How robust decoding is to entropy parameters that differ by float noise, as they do between
a CPU and a GPU (docs/mic-format.md, "Decoding across devices"). These tests measure the
current design: decoding must be deterministic on one machine whatever the thread count, and
parameters a few ulps off must give either the same symbols (then pixels off by at most a few
levels) or a DecodeMismatchError from the symbol CRCs, never silently different symbols."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mambaic.errors import DecodeMismatchError
from mambaic.models.context import SliceParameters
from mic_testing import sample_image


def _nudge(t: torch.Tensor, ulps: int, generator: torch.Generator) -> torch.Tensor:
    """``t`` moved by ``ulps`` units in the last place, each element up or down at random."""
    up = torch.rand(t.shape, generator=generator) < 0.5
    out = t.clone()
    for _ in range(ulps):
        out = torch.where(up, torch.nextafter(out, torch.tensor(np.inf)),
                          torch.nextafter(out, torch.tensor(-np.inf)))
    return out


@pytest.fixture
def threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_coding_is_identical_across_thread_counts(codec, threads):
    image = sample_image(130, 70)
    results = []
    for n in (1, 2):
        torch.set_num_threads(n)
        data = codec.compress(image, 3.0)
        results.append((data, codec.decompress(data).tobytes()))
    assert results[0] == results[1]


@pytest.mark.parametrize("ulps", [1, 4])
def test_parameters_a_few_ulps_off_decode_the_same_symbols_or_are_caught(codec, monkeypatch, ulps):
    image = sample_image(130, 70)
    files = [codec.compress(image, q) for q in (1.0, 3.0, 5.0)]
    exact = [np.asarray(codec.decompress(f), dtype=int) for f in files]
    generator = torch.Generator().manual_seed(ulps)
    forward = SliceParameters.forward

    def drifted(self, known, anchors):
        mean, scale = forward(self, known, anchors)
        return _nudge(mean, ulps, generator), _nudge(scale, ulps, generator)

    monkeypatch.setattr(SliceParameters, "forward", drifted)
    outcome = {"identical": 0, "pixels differ": 0, "caught by CRC": 0}
    for _ in range(3):
        for data, reference in zip(files, exact):
            try:
                decoded = np.asarray(codec.decompress(data), dtype=int)
            except DecodeMismatchError:
                outcome["caught by CRC"] += 1
                continue
            diff = np.abs(decoded - reference).max()
            assert diff <= 3, f"same symbols yet pixels {diff} levels off"
            outcome["identical" if diff == 0 else "pixels differ"] += 1
    print(f"{ulps} ulp drift in (mean, scale), 9 decodes: {outcome}")  # the measurement (-s)
