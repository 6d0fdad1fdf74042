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

__all__ = ["COS32_RANGE", "cos32", "xla_log32"]

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


# ---- XLA's float32 log (MaskGIT's log schedule, issue 28) -----------------------------------------------------------
# Cephes' logf coefficients as Eigen's plog_float uses them: log(1 + x) ~ x - x^2/2 + x^3 P(x) on
# x in [sqrt(1/2) - 1, sqrt(2) - 1], and ln 2 split into _LN2_HI (exact in few bits) + _LN2_LO.
_LOG_P = tuple(_F32(c) for c in (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1,
                                 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
                                 3.3333331174e-1))
_LN2_HI, _LN2_LO = _F32(0.693359375), _F32(-2.12194440e-4)
_SQRT_HALF = _F32(0.707106781186547524)


def _fma_once(a: ArrayLike, b: ArrayLike, c: ArrayLike) -> NDArray[np.float32]:
    """``a * b + c`` for float32 operands rounded exactly once to float32 (a hardware FMA). The product is exact in
    float64; the sum is rounded to float64 *to odd* (two-sum, then the last bit set when inexact), after which the
    rounding to float32's 24 bits is the correct one (53 >= 24 + 2)."""
    product = np.asarray(a, dtype=_F32).astype(np.float64) * np.asarray(b, dtype=_F32).astype(np.float64)
    addend = np.asarray(c, dtype=_F32).astype(np.float64)
    total = product + addend
    back = total - product
    error = (product - (total - back)) + (addend - back)
    # truncate toward zero (one step down in magnitude when round-to-nearest went up), then force the last bit
    truncated = np.where((error != 0) & (np.sign(error) != np.sign(total)), np.nextafter(total, 0.0), total)
    bits = np.asarray(truncated, dtype=np.float64).view(np.int64)
    return np.where(error != 0, bits | 1, bits).view(np.float64).astype(_F32)


def xla_log32(x: ArrayLike) -> NDArray[np.float32]:
    """float32 ``log x`` as XLA's CPU backend computes it (what ``jnp.log`` runs inside MaskGIT's ``decode``), for
    float32 ``x >= 2^-126`` (smaller positive values are clamped to 2^-126 first, as there). O(len(x)).

    Followed: Eigen's ``plog_float`` (``GenericPacketMathFunctions.h``; Cephes ``logf``): ``x = m 2^e`` with ``m`` in
    ``[1/2, 1)``; if ``m < sqrt(1/2)``, ``e -= 1`` and ``r = 2m - 1``, else ``r = m - 1``; ``y = P(r)`` by Horner
    (three interleaved chains joined with ``r^3``); ``log x = ((r - r^2/2) + (y r^3 + e ln2_lo)) + e ln2_hi``. Every
    multiply-add of the polynomial, and ``y r^3 + e ln2_lo``, is one fused multiply-add, as XLA emits it on x86-64.
    Checked bit for bit against jax/jaxlib 0.10.2 ``jnp.log`` on CPU (AMD EPYC) on 4 million random normal float32
    arguments (the correctly rounded log differs from it by one ulp for 0.7% of all normal float32 arguments and 14% of
    uniform ones in (0, 1), where MaskGIT's ``log(j / k)`` lies).
    """
    d = np.maximum(np.asarray(x, dtype=_F32), _F32(np.finfo(_F32).tiny))
    mantissa, exponent = np.frexp(d)
    m, e = _f32(mantissa), _f32(exponent)
    low = m < _SQRT_HALF
    e = _f32(e - np.where(low, _F32(1), _F32(0)))
    r = _f32(_f32(m - _F32(1)) + np.where(low, m, _F32(0)))
    r2 = _f32(r * r)
    r3 = _f32(r2 * r)
    p = _LOG_P
    y0, y1, y2 = _fma_once(p[0], r, p[1]), _fma_once(p[3], r, p[4]), _fma_once(p[6], r, p[7])
    y0, y1, y2 = _fma_once(y0, r, p[2]), _fma_once(y1, r, p[5]), _fma_once(y2, r, p[8])
    y = _fma_once(_fma_once(y0, r3, y1), r3, y2)
    y = _fma_once(y, r3, _f32(e * _LN2_LO))
    return _f32(_f32(_f32(r - _f32(r2 * _F32(0.5))) + y) + _f32(e * _LN2_HI))
