"""The chunked parallel scan (the GPU path without mamba-ssm) equals the reference, on CPU."""

from __future__ import annotations

import pytest
import torch

from mambaic.ops.scan_chunked import selective_scan_chunked
from mambaic.ops.scan_reference import selective_scan_reference


@pytest.mark.parametrize("L,groups,chunk", [(1, 1, 16), (7, 4, 4), (65, 1, 16), (333, 4, 64)])
def test_chunked_matches_reference(L, groups, chunk):
    torch.manual_seed(L)
    b, d, n = 2, 8, 5
    shape = (b, groups, n, L) if groups > 1 else (b, n, L)
    args = (torch.randn(b, d, L), torch.randn(b, d, L) * 0.5, -torch.rand(d, n) * 2,
            torch.randn(shape), torch.randn(shape), torch.randn(d), torch.randn(b, d, L), torch.randn(d))
    y_ref = selective_scan_reference(*args, delta_softplus=True)
    y = selective_scan_chunked(*args, delta_softplus=True, chunk=chunk)
    assert float((y - y_ref).abs().max() / y_ref.abs().max()) <= 1e-5


def test_chunked_gradients_match_reference():
    torch.manual_seed(1)
    b, d, n, L = 1, 4, 3, 37
    base = [torch.randn(b, d, L), torch.randn(b, d, L) * 0.5, -torch.rand(d, n),
            torch.randn(b, n, L), torch.randn(b, n, L), torch.randn(d)]
    grads = []
    for fn in (selective_scan_reference, lambda *a, **k: selective_scan_chunked(*a, chunk=8, **k)):
        xs = [t.clone().requires_grad_(True) for t in base]
        fn(*xs, delta_softplus=True).square().sum().backward()
        grads.append([x.grad for x in xs])
    for g_ref, g in zip(*grads):
        assert torch.allclose(g, g_ref, rtol=1e-4, atol=1e-5 * float(g_ref.abs().max()))
