"""A float32 cosine that does not depend on which torch (or libm) is installed, for the dllm rule.

dllm evaluates ``alpha(t) = 1 - cos(pi/2 (1 - t))`` with ``torch.cos`` on a float32 tensor, and a few of its counts
(e.g. ``n = k = 1024``, pass 734) flip when ``cos`` moves by one float32 ulp. torch's float32 ``cos`` is not one
function: x86 wheels built with MKL call MKL's vector cosine, other builds call SLEEF's ``cosf_u10``, and the correctly
rounded value differs from either in about 5% of arguments. :func:`cos32` fixes one of them for every machine: the
published SLEEF ``u10`` method for ``|x| < 125`` (Cody-Waite reduction by ``pi/2`` in three float32 parts, a degree-7
odd minimax polynomial for ``sin`` evaluated in double-float arithmetic with fused multiply-adds), written here with
NumPy. It reproduces every ``dllm_cosine`` count of the peers' fixture; it is faithfully rounded (within one float32
ulp of ``cos x``).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["COS32_RANGE", "cos32"]

_F32 = np.float32
#: Arguments must satisfy ``|x| < COS32_RANGE`` (the range of the three-part reduction).
COS32_RANGE = 125.0
# pi/2 split into three float32 parts (pi = A + B + C; each part has trailing zero bits, so q * part is exact).
_HALF_PI_PARTS = (_F32(3.1414794921875 * 0.5), _F32(0.00011315941810607910156 * 0.5),
                  _F32(1.9841872589410058936e-09 * 0.5))
# sin(r) = r (1 + r^2 (C3 + r^2 (C5 + r^2 C7))) on |r| <= pi/4 (SLEEF's u10 minimax coefficients).
_C3, _C5, _C7, _C9 = (_F32(-0.166666597127914428710938), _F32(0.00833307858556509017944336),
                      _F32(-0.0001981069071916863322258), _F32(2.6083159809786593541503e-06))


def _f32(x: ArrayLike) -> NDArray[np.float32]:
    return np.asarray(x, dtype=_F32)


def _fma(a: ArrayLike, b: ArrayLike, c: ArrayLike) -> NDArray[np.float32]:
    """``a * b + c`` rounded once to float32: a float32 product is exact in float64 (48 bits), so only the sum rounds
    (twice, to 53 then 24 bits; that differs from one rounding only on exact float32 half-way cases)."""
    return _f32(np.asarray(a, dtype=np.float64) * np.asarray(b, dtype=np.float64) + np.asarray(c, dtype=np.float64))


def _add(hi: NDArray[np.float32], lo: NDArray[np.float32], y: NDArray[np.float32]) -> tuple[NDArray[np.float32],
                                                                                            NDArray[np.float32]]:
    """Double-float ``(hi + lo) + y`` without the assumption ``|hi| >= |y|`` (Knuth's two-sum on ``hi + y``)."""
    s = _f32(hi + y)
    v = _f32(s - hi)
    return s, _f32(_f32(_f32(hi - _f32(s - v)) + _f32(y - v)) + lo)


def cos32(x: ArrayLike) -> NDArray[np.float32]:
    """float32 ``cos x`` for float32 ``x`` with ``|x| < 125`` (``ValueError`` otherwise), identical on every platform.
    O(len(x))."""
    d = _f32(x)
    if d.size and not bool(np.all(np.abs(d) < COS32_RANGE)):
        raise ValueError(f"cos32 needs finite |x| < {COS32_RANGE}, got {d[~(np.abs(d) < COS32_RANGE)].ravel()[0]!r}")
    # cos x = -sin(x - q pi/2) for the odd q nearest to 2x/pi; (hi, lo) holds r = x - q pi/2 in double-float.
    q = _fma(np.rint(_fma(d, _F32(1 / math.pi), _F32(-0.5))), _F32(2), _F32(1))
    hi, lo = d, np.zeros_like(d)
    for part in _HALF_PI_PARTS:
        hi, lo = _add(hi, lo, _f32(q * -part))
    # r^2 in double-float, then the polynomial: p = 1 + r^2 (C3 + r^2 (C5 + r^2 (C7 + r^2 C9))).
    sq_hi = _f32(hi * hi)
    sq_lo = _fma(_f32(hi + hi), lo, _fma(hi, hi, -sq_hi))
    u = _fma(_fma(_C9, sq_hi, _C7), sq_hi, _C5)
    b = _f32(u * sq_hi)
    inner_hi = _f32(_C3 + b)
    inner_lo = _f32(_f32(_C3 - inner_hi) + b)
    prod_hi = _f32(inner_hi * sq_hi)
    prod_lo = _fma(inner_hi, sq_lo, _fma(inner_lo, sq_hi, _fma(inner_hi, sq_hi, -prod_hi)))
    p_hi = _f32(_F32(1) + prod_hi)
    p_lo = _f32(_f32(_f32(_F32(1) - p_hi) + prod_hi) + prod_lo)
    sine = _fma(hi, p_hi, _fma(lo, p_hi, _f32(hi * p_lo)))
    return _f32(np.where((q.astype(np.int64) & 2) == 0, -sine, sine))
