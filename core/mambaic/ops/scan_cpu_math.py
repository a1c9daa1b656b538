"""Vectorisable float32 math for the numba scan kernels, and the decorator they compile with.

LLVM turns loops over these functions into SIMD code; libm's ``expf`` would be a scalar call
per element (it was the bottleneck of a naive kernel). Constants are float32 so that nothing is
promoted to float64 by accident; `_exp` alone uses float64 on purpose. The names keep their
underscore: they are the kernels' internals, shared by the ``scan_cpu_*`` modules only.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import intrinsic


def _jit(**options):
    """`njit(cache=True, fastmath=True)`, or without the on-disk cache where none can be written."""
    def decorate(fn):
        try:
            return njit(cache=True, fastmath=True, error_model="numpy", **options)(fn)
        except Exception:  # no writable cache location: compile on each run instead
            return njit(cache=False, fastmath=True, error_model="numpy", **options)(fn)
    return decorate


@intrinsic
def _i32_bits_as_f32(typingctx, x):
    """Reinterpret an int32's bits as a float32 (an LLVM bitcast, free and vectorisable)."""
    sig = types.float32(types.int32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float32))

    return sig, codegen


_F = np.float32
_ZERO = _F(0.0)
_ONE = _F(1.0)
_TWO = _F(2.0)
_LOG2E = _F(1.0 / math.log(2.0))
_EXP2_LO = _F(-126.0)   # below this 2**x underflows to a denormal: clamp (result ≈ 1e-38)
_EXP2_HI = _F(127.0)    # above this it overflows: clamp (only reachable with A·delta > 0)
_LOG2E_64 = 1.0 / math.log(2.0)
_EXP2_LO_64 = -126.0
_EXP2_HI_64 = 127.0
# 2**f on [-1/2, 1/2]: degree-6 near-minimax polynomial, relative error 1e-7 in float32.
_P0 = _F(1.000000000553675)
_P1 = _F(0.6931472057144819)
_P2 = _F(0.24022646892303579)
_P3 = _F(0.055503288251920455)
_P4 = _F(0.009618488967098198)
_P5 = _F(0.001339991212421732)
_P6 = _F(0.00015345761197534311)
_I127 = np.int32(127)
_I23 = np.int32(23)
# log1p(v) = 2·atanh(s), s = v / (2 + v) ∈ [0, 1/3] for v ∈ [0, 1]: odd series in s.
_L3 = _F(1.0 / 3.0)
_L5 = _F(1.0 / 5.0)
_L7 = _F(1.0 / 7.0)
_L9 = _F(1.0 / 9.0)
_L11 = _F(1.0 / 11.0)
_L13 = _F(1.0 / 13.0)
_L15 = _F(1.0 / 15.0)


@njit(fastmath=True, error_model="numpy")
def _pow2(k, f):
    """2**(k + f) for an integral float32 k in [-126, 127] and f in [-1/2, 1/2]."""
    p = _P6
    p = p * f + _P5
    p = p * f + _P4
    p = p * f + _P3
    p = p * f + _P2
    p = p * f + _P1
    p = p * f + _P0
    return p * _i32_bits_as_f32((np.int32(k) + _I127) << _I23)


@njit(fastmath=True, error_model="numpy")
def _exp2(x):
    """2**x for float32 x, clamped to [2**-126, 2**127]: round, polynomial, exponent bits."""
    x = min(max(x, _EXP2_LO), _EXP2_HI)
    k = np.rint(x)
    return _pow2(k, x - k)


@njit(fastmath=True, error_model="numpy")
def _exp(x):
    """e**x for float32 x, ~1e-7 relative: x·log2(e) is formed in float64, since its float32
    rounding alone would cost |x|·1e-7 relative (4e-6 at x = -87). For dA = exp(delta·A) the
    kernels use `_exp2` on delta·(A·log2 e): there the float32 product delta·A is already as
    inexact, in torch's float32 reference too."""
    y = min(max(np.float64(x) * _LOG2E_64, _EXP2_LO_64), _EXP2_HI_64)
    k = np.rint(y)
    return _pow2(np.float32(k), np.float32(y - k))


@njit(fastmath=True, error_model="numpy")
def _log1p_unit(v):
    """log(1 + v) for v in [0, 1], accurate to ~1e-7 relative even for tiny v."""
    s = v / (_TWO + v)
    s2 = s * s
    p = _L15
    p = p * s2 + _L13
    p = p * s2 + _L11
    p = p * s2 + _L9
    p = p * s2 + _L7
    p = p * s2 + _L5
    p = p * s2 + _L3
    p = p * s2 + _ONE
    return _TWO * s * p


@njit(fastmath=True, error_model="numpy")
def _softplus(x):
    """log(1 + e**x) = max(x, 0) + log1p(e**-|x|), finite for every x."""
    return max(x, _ZERO) + _log1p_unit(_exp(-abs(x)))


@njit(fastmath=True, error_model="numpy")
def _softplus_and_slope(x):
    """(softplus(x), softplus'(x) = sigmoid(x)), sharing the one e**-|x| both need; the pair
    is what the backward pass uses, the value alone the same as `_softplus`'s."""
    e = _exp(-abs(x))
    q = _ONE / (_ONE + e)
    return max(x, _ZERO) + _log1p_unit(e), (q if x >= _ZERO else e * q)


@njit(fastmath=True, error_model="numpy")
def _sigmoid(x):
    return _ONE / (_ONE + _exp(-x))
