"""Tests of `mambaic.ops.selective_scan`: every backend against the sequential reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from mambaic.ops import available_backends, selective_scan, selective_scan_reference
from mambaic.ops.scan_cuda import cuda_available

CPU_BACKENDS = [b for b in available_backends() if b != "cuda"]
HAS_NUMBA = "numba" in CPU_BACKENDS
needs_numba = pytest.mark.skipif(not HAS_NUMBA, reason="numba is not importable")
NAMES = ("u", "delta", "A", "B", "C", "D", "z", "delta_bias")


def make_inputs(batch=2, dim=8, N=5, L=33, groups=4, *, D=True, z=True, bias=True,
                softplus=True, dtype=torch.float32, seed=0, device="cpu"):
    """Random scan inputs in realistic ranges. groups=0: B and C ungrouped (batch, N, L).

    Without softplus, delta must stay positive (as softplus makes it in the model): a negative
    step makes exp(delta·A) > 1 and the states overflow float32 over a long sequence."""
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64)

    if softplus:
        delta = rnd(batch, dim, L) - 1.0
    else:
        delta = torch.rand(batch, dim, L, generator=g, dtype=torch.float64) * 0.5
    bc_shape = (batch, groups, N, L) if groups else (batch, N, L)
    args = dict(
        u=rnd(batch, dim, L), delta=delta,
        A=-torch.exp(rnd(dim, N) * 0.5),
        B=rnd(*bc_shape), C=rnd(*bc_shape),
        D=rnd(dim) if D else None,
        z=rnd(batch, dim, L) if z else None,
        delta_bias=rnd(dim) * 0.1 if bias else None,
    )
    return {k: (v.to(dtype=dtype, device=device) if v is not None else None)
            for k, v in args.items()}


def rel_err(x: torch.Tensor, ref: torch.Tensor) -> float:
    """max |x - ref| / max |ref| (both moved to float64 on the CPU)."""
    x = x.detach().double().cpu()
    ref = ref.detach().double().cpu()
    scale = ref.abs().max().item()
    return (x - ref).abs().max().item() / (scale if scale > 0 else 1.0)


def as64(args):
    return {k: (v.detach().double().cpu() if v is not None else None) for k, v in args.items()}


# --------------------------------------------------------------------------------------------
# forward

FWD_CASES = [
    # L, groups, D, z, bias, softplus
    (1, 4, True, True, True, True),
    (7, 0, False, False, False, False),
    (63, 1, True, False, True, True),
    (65, 4, False, True, False, True),
    (129, 0, True, True, True, False),
    (333, 4, True, True, True, True),
    (333, 2, False, False, False, False),
]


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("L,groups,D,z,bias,softplus", FWD_CASES)
def test_forward_matches_reference(backend, L, groups, D, z, bias, softplus):
    args = make_inputs(batch=2, dim=8, N=6, L=L, groups=groups, D=D, z=z, bias=bias,
                       softplus=softplus, seed=L)
    y = selective_scan(**args, delta_softplus=softplus, backend=backend)
    ref = selective_scan_reference(**as64(args), delta_softplus=softplus)
    assert y.shape == args["u"].shape and y.dtype == torch.float32
    assert rel_err(y, ref) <= 1e-5


@needs_numba
def test_numba_model_sized_case():
    """The layout the model uses: 4 scan directions as groups, N = 16, several chunks."""
    args = make_inputs(batch=1, dim=4 * 12, N=16, L=200, groups=4, seed=3)
    y = selective_scan(**args, delta_softplus=True, backend="numba")
    ref = selective_scan_reference(**as64(args), delta_softplus=True)
    assert rel_err(y, ref) <= 1e-5


@needs_numba
@pytest.mark.parametrize("dim,groups", [(2 * 70, 2), (130, 1)])
def test_numba_several_row_blocks(dim, groups):
    """More channels per group than one task takes (`ROWS`): uneven blocks, forward and grads."""
    from mambaic.ops.scan_cpu import ROWS
    assert dim // max(groups, 1) > ROWS
    args = make_inputs(batch=1, dim=dim, N=3, L=70, groups=groups, seed=dim)
    names = [k for k in NAMES if args[k] is not None]
    leaves = {k: args[k].clone().requires_grad_(True) for k in names}
    y = selective_scan(**{**args, **leaves}, delta_softplus=True, backend="numba")
    leaves64 = {k: args[k].double().requires_grad_(True) for k in names}
    ref = selective_scan_reference(**{**as64(args), **leaves64}, delta_softplus=True)
    assert rel_err(y, ref) <= 1e-5
    g = torch.randn(y.shape, generator=torch.Generator().manual_seed(1))
    y.backward(g)
    ref.backward(g.double())
    for k in names:
        assert rel_err(leaves[k].grad, leaves64[k].grad) <= 1e-4, k


@needs_numba
def test_numba_mixed_grouping():
    """B grouped and C shared (or one group broadcast) mean the same thing as both grouped."""
    args = make_inputs(batch=2, dim=8, N=4, L=70, groups=4, seed=5)
    args["C"] = args["C"][:, 0]
    ref = selective_scan_reference(**as64(args), delta_softplus=True)
    assert rel_err(selective_scan(**args, delta_softplus=True, backend="numba"), ref) <= 1e-5
    args["C"] = args["C"][:, None]
    assert rel_err(selective_scan(**args, delta_softplus=True, backend="numba"), ref) <= 1e-5


@needs_numba
def test_numba_non_contiguous_and_dtypes():
    args = make_inputs(batch=2, dim=6, N=3, L=40, groups=2, seed=7)
    ref = selective_scan_reference(**as64(args), delta_softplus=True)
    # non-contiguous views of the same values
    nc = dict(args)
    nc["u"] = args["u"].transpose(1, 2).contiguous().transpose(1, 2)
    nc["B"] = args["B"].transpose(2, 3).contiguous().transpose(2, 3)
    assert not nc["u"].is_contiguous() and not nc["B"].is_contiguous()
    assert rel_err(selective_scan(**nc, delta_softplus=True, backend="numba"), ref) <= 1e-5
    # float64 in → float64 out (computed in float32)
    y64 = selective_scan(**as64(args), delta_softplus=True, backend="numba")
    assert y64.dtype == torch.float64 and rel_err(y64, ref) <= 1e-5
    # bfloat16 in → bfloat16 out
    bf = {k: (v.to(torch.bfloat16) if v is not None else None) for k, v in args.items()}
    ybf = selective_scan(**bf, delta_softplus=True, backend="numba")
    refbf = selective_scan_reference(**as64(bf), delta_softplus=True)
    assert ybf.dtype == torch.bfloat16 and rel_err(ybf, refbf) <= 1e-2


@needs_numba
def test_numba_threads_bit_identical():
    """Rows are independent, so the output does not depend on the thread count (the codec
    relies on encoder and decoder computing identical values)."""
    args = make_inputs(batch=2, dim=16, N=8, L=150, groups=4, seed=11)
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        y1 = selective_scan(**args, delta_softplus=True, backend="numba")
        torch.set_num_threads(max(2, old))
        y2 = selective_scan(**args, delta_softplus=True, backend="numba")
    finally:
        torch.set_num_threads(old)
    assert torch.equal(y1, y2)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_return_last_state(backend):
    args = make_inputs(batch=2, dim=4, N=3, L=70, groups=2, z=False, seed=13)
    with torch.no_grad():
        y, h = selective_scan(**args, delta_softplus=True, backend=backend,
                              return_last_state=True)
    ref, href = selective_scan_reference(**as64(args), delta_softplus=True,
                                         return_last_state=True)
    assert h.shape == (2, 4, 3)
    assert rel_err(y, ref) <= 1e-5 and rel_err(h, href) <= 1e-5


@needs_numba
def test_empty_sequence():
    args = make_inputs(batch=1, dim=4, N=3, L=0, groups=2)
    assert selective_scan(**args, backend="numba").shape == (1, 4, 0)


# --------------------------------------------------------------------------------------------
# the numba kernels' own math

@needs_numba
def test_numba_math_helpers():
    from numba import njit

    from mambaic.ops import scan_cpu

    @njit
    def apply(x, which):
        out = np.empty_like(x)
        for i in range(x.size):
            if which == 0:
                out[i] = scan_cpu._exp(x[i])
            elif which == 1:
                out[i] = scan_cpu._softplus(x[i])
            else:
                out[i] = scan_cpu._sigmoid(x[i])
        return out

    x = np.concatenate([np.linspace(-87, 0, 20001), np.linspace(-30, 30, 20001),
                        [-1e-8, 0.0, 1e-8]]).astype(np.float32)
    x64 = torch.from_numpy(x).double()
    e = torch.from_numpy(apply(x, 0)).double()
    assert ((e - x64.exp()).abs() / x64.exp()).max() < 3e-7
    sp = torch.from_numpy(apply(x, 1)).double()
    assert ((sp - F.softplus(x64)).abs() / F.softplus(x64)).max() < 3e-7
    sg = torch.from_numpy(apply(x, 2)).double()
    assert ((sg - torch.sigmoid(x64)).abs() / torch.sigmoid(x64)).max() < 3e-7


# --------------------------------------------------------------------------------------------
# gradients

def test_reference_gradcheck():
    args = make_inputs(batch=2, dim=4, N=3, L=5, groups=2, dtype=torch.float64, seed=17)
    names = [k for k in NAMES if args[k] is not None]
    for k in names:
        args[k].requires_grad_(True)

    def f(*xs):
        return selective_scan_reference(**dict(zip(names, xs)), delta_softplus=True)

    assert torch.autograd.gradcheck(f, tuple(args[k] for k in names))


GRAD_CASES = [
    # L, groups, D, z, bias, softplus
    (1, 4, True, True, True, True),
    (37, 0, True, False, True, False),
    (64, 4, False, True, False, True),
    (150, 4, True, True, True, True),     # three chunks, the last one partial
    (131, 1, True, False, True, False),
    (200, 2, False, False, False, True),
]


@needs_numba
@pytest.mark.parametrize("L,groups,D,z,bias,softplus", GRAD_CASES)
def test_numba_gradients_match_reference(L, groups, D, z, bias, softplus):
    args = make_inputs(batch=2, dim=8, N=5, L=L, groups=groups, D=D, z=z, bias=bias,
                       softplus=softplus, seed=100 + L)
    names = [k for k in NAMES if args[k] is not None]
    g = torch.Generator().manual_seed(L)
    dout = torch.randn(args["u"].shape, generator=g)

    leaves = {k: args[k].clone().requires_grad_(True) for k in names}
    y = selective_scan(**{**args, **leaves}, delta_softplus=softplus, backend="numba")
    grads = torch.autograd.grad(y, [leaves[k] for k in names], dout)

    leaves64 = {k: args[k].double().requires_grad_(True) for k in names}
    ref = selective_scan_reference(**{**as64(args), **leaves64}, delta_softplus=softplus)
    grads_ref = torch.autograd.grad(ref, [leaves64[k] for k in names], dout.double())

    for k, gr, gref in zip(names, grads, grads_ref):
        assert gr.shape == args[k].shape and gr.dtype == args[k].dtype, k
        assert rel_err(gr, gref) <= 1e-4, (k, rel_err(gr, gref))


@needs_numba
def test_numba_partial_requires_grad():
    """Only some inputs need gradients (e.g. a frozen A): the others get None."""
    args = make_inputs(batch=1, dim=4, N=4, L=70, groups=2, seed=23)
    u = args["u"].clone().requires_grad_(True)
    Bm = args["B"].clone().requires_grad_(True)
    y = selective_scan(**{**args, "u": u, "B": Bm}, delta_softplus=True, backend="numba")
    y.sum().backward()
    args64 = as64(args)
    u64 = args64["u"].clone().requires_grad_(True)
    B64 = args64["B"].clone().requires_grad_(True)
    selective_scan_reference(**{**args64, "u": u64, "B": B64}, delta_softplus=True).sum().backward()
    assert rel_err(u.grad, u64.grad) <= 1e-4 and rel_err(Bm.grad, B64.grad) <= 1e-4


@needs_numba
def test_numba_grad_and_nograd_paths_agree():
    args = make_inputs(batch=2, dim=8, N=4, L=100, groups=4, seed=29)
    with torch.no_grad():
        y0 = selective_scan(**args, delta_softplus=True, backend="numba")
    u = args["u"].clone().requires_grad_(True)
    y1 = selective_scan(**{**args, "u": u}, delta_softplus=True, backend="numba")
    assert torch.equal(y0, y1.detach())


@needs_numba
@settings(max_examples=15, deadline=None)
@given(batch=st.integers(1, 2), groups=st.sampled_from([0, 1, 2]), per_group=st.integers(1, 3),
       N=st.integers(1, 9), L=st.integers(1, 140), softplus=st.booleans(), seed=st.integers(0, 99))
def test_numba_random_shapes(batch, groups, per_group, N, L, softplus, seed):
    dim = max(groups, 1) * per_group
    args = make_inputs(batch=batch, dim=dim, N=N, L=L, groups=groups, softplus=softplus,
                       seed=seed)
    names = [k for k in NAMES if args[k] is not None]
    leaves = {k: args[k].clone().requires_grad_(True) for k in names}
    y = selective_scan(**{**args, **leaves}, delta_softplus=softplus, backend="numba")
    leaves64 = {k: args[k].double().requires_grad_(True) for k in names}
    ref = selective_scan_reference(**{**as64(args), **leaves64}, delta_softplus=softplus)
    assert rel_err(y, ref) <= 1e-5
    y.sum().backward()
    ref.sum().backward()
    for k in names:
        assert rel_err(leaves[k].grad, leaves64[k].grad) <= 1e-4, k


# --------------------------------------------------------------------------------------------
# dispatch and validation

def test_available_backends_and_auto():
    names = available_backends()
    assert names[-1] == "reference"
    assert set(names) <= {"cuda", "numba", "chunked", "reference"}
    args = make_inputs(batch=1, dim=4, N=3, L=9, groups=2)
    y_auto = selective_scan(**args, delta_softplus=True)
    y_best = selective_scan(**args, delta_softplus=True, backend=CPU_BACKENDS[0])
    assert torch.equal(y_auto, y_best)


@pytest.mark.parametrize("change,match", [
    (dict(u=torch.zeros(2, 8)), "u must be"),
    (dict(delta=torch.zeros(2, 8, 10)), "delta"),
    (dict(A=torch.zeros(7, 5)), "A must be"),
    (dict(B=torch.zeros(2, 3, 5, 33), C=torch.zeros(2, 3, 5, 33)), "divisible"),
    (dict(B=torch.zeros(2, 2, 5, 33)), "different group counts"),
    (dict(C=torch.zeros(2, 5, 32)), "C must be"),
    (dict(D=torch.zeros(7)), "D must be"),
    (dict(z=torch.zeros(2, 8, 32)), "z must"),
])
def test_validation(change, match):
    args = {**make_inputs(batch=2, dim=8, N=5, L=33, groups=4), **change}
    with pytest.raises(ValueError, match=match):
        selective_scan(**args)


def test_unknown_and_unavailable_backend():
    args = make_inputs(batch=1, dim=4, N=3, L=9, groups=2)
    with pytest.raises(ValueError, match="unknown backend"):
        selective_scan(**args, backend="fast")
    with pytest.raises(ValueError, match="cuda"):
        selective_scan(**args, backend="cuda")   # CPU tensors


# --------------------------------------------------------------------------------------------
# CUDA

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")


@needs_cuda
def test_reference_runs_on_cuda():
    args = make_inputs(batch=2, dim=8, N=4, L=20, groups=4, device="cuda")
    y = selective_scan(**args, delta_softplus=True, backend="reference")
    ref = selective_scan_reference(**as64(args), delta_softplus=True)
    assert y.is_cuda and rel_err(y, ref) <= 1e-5


@pytest.mark.skipif(not cuda_available(),
                    reason="the cuda backend needs CUDA and mamba-ssm (not installed here)")
@pytest.mark.parametrize("L,groups", [(1, 4), (65, 4), (333, 0), (129, 1)])
def test_cuda_backend_matches_reference(L, groups):
    args = make_inputs(batch=2, dim=8, N=8, L=L, groups=groups, device="cuda", seed=L)
    names = [k for k in NAMES if args[k] is not None]
    leaves = {k: args[k].clone().requires_grad_(True) for k in names}
    y = selective_scan(**{**args, **leaves}, delta_softplus=True, backend="cuda")
    assert "cuda" in available_backends()
    leaves64 = {k: args[k].double().cpu().requires_grad_(True) for k in names}
    ref = selective_scan_reference(**{**as64(args), **leaves64}, delta_softplus=True)
    assert rel_err(y, ref) <= 1e-5
    y.sum().backward()
    ref.sum().backward()
    for k in names:
        assert rel_err(leaves[k].grad, leaves64[k].grad) <= 1e-4, k


def test_math_is_finite_for_extreme_steps():
    """Huge or tiny steps must not produce NaN on any CPU backend."""
    for backend in CPU_BACKENDS:
        args = make_inputs(batch=1, dim=4, N=3, L=50, groups=2, seed=31)
        args["delta"] = args["delta"] * 40.0   # softplus of ±100
        y = selective_scan(**args, delta_softplus=True, backend=backend)
        assert torch.isfinite(y).all(), backend
        assert not math.isnan(y.sum().item())
