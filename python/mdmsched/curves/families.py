"""Example distributions with known structure (SPEC §5-6), as dense tensors or sparse :class:`Distribution` s, with
their exact information curves in closed form where one exists (nats)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

import mdmsched._core as _core  # noqa: PLR0402  a plain import of the extension module, not of the package face

from .._validation import (
    as_count,
    as_real,
    as_real_array,
    as_seed,
    as_tolerance,
    check_cells,
    probability_tolerance,
    require_memory,
)
from .distribution import Distribution, as_dense
from .hygiene import curve_from_entropies

#: Dense tensors above this many cells are refused (use the sparse constructions or closed forms instead).
MAX_DENSE_CELLS = 2**26


def _check_cells(shape: Iterable[int]) -> None:
    """Refuse dense tensors above MAX_DENSE_CELLS; stops at the first axis over the limit (pass a lazy shape)."""
    check_cells(shape, MAX_DENSE_CELLS, "a dense tensor")


#: Most coordinates of a dense tensor (one axis each; numpy allows 64). The axis count handed to the cell check is
#: capped one above it: ``itertools.repeat(q, 2**63)`` is an OverflowError, and one axis too many is already refused.
MAX_AXES = 62

#: Largest field size q: trial division up to sqrt(q) stays instant, and no code listed here comes near it.
MAX_FIELD = 2**31


def _is_prime(q: int) -> bool:
    if q > MAX_FIELD:
        raise ValueError(f"q must be a prime <= 2**31, got {q}")
    return q >= 2 and all(q % d for d in range(2, math.isqrt(q) + 1))


def product(marginals: Sequence[ArrayLike]) -> NDArray[np.float64]:
    """Independent coordinates with the given marginals: ``Z == 0`` (one step is exact)."""
    factors = [as_dense(m, f"marginals[{i}]") for i, m in enumerate(marginals)]
    if not factors or any(f.ndim != 1 for f in factors):
        raise ValueError("marginals must be a non-empty list of 1-D probability vectors")
    _check_cells([f.size for f in factors])
    out = factors[0]
    for f in factors[1:]:
        out = np.multiply.outer(out, f)
    return np.asarray(out, dtype=np.float64)


def uniform(n: int, q: int) -> NDArray[np.float64]:
    """Uniform over ``Sigma^n``, ``|Sigma| = q``: ``Z == 0``."""
    n, q = as_count(n, "n"), as_count(q, "q")
    _check_cells(itertools.repeat(q, min(n, MAX_AXES + 1)))
    return np.full((q,) * n, float(q) ** -n)


def mds_curve(n: int, d: int, q: int) -> NDArray[np.float64]:
    """Exact ``Z`` of the uniform law on an ``[n, d]`` MDS code over ``F_q``: ``H(X_S) = min(|S|, d) log q``, so
    ``Z_i = log q * 1[i > d]``; ``TC = (n - d) log q`` and ``DTC = d log q`` (0 when d = n)."""
    n, d, q = as_count(n, "n"), as_count(d, "d"), as_count(q, "q", 2)
    if d > n:
        raise ValueError(f"dimension d must be <= n = {n}, got {d}")
    require_memory(8 * n, f"a curve of n = {n} entries")  # before the length-n array, not a MemoryError after
    out = np.zeros(n)
    out[d:] = math.log(q)
    return out


def reed_solomon(n: int, d: int, q: int) -> Distribution:
    """Uniform over a Reed-Solomon code ``[n, d]`` over the prime field ``F_q`` (``q > n``): the evaluations of all
    polynomials of degree < d at the points 1..n. An MDS code; its curve is :func:`mds_curve`."""
    n, d, q = as_count(n, "n"), as_count(d, "d"), as_count(q, "q", 2)
    if not _is_prime(q) or q <= n:
        raise ValueError(f"q must be a prime larger than n = {n}, got {q}")
    if d > n:
        raise ValueError(f"dimension d must be <= n = {n}, got {d}")
    if d * math.log2(q) > 22:  # compared in logs: q**d for a huge d would never finish
        raise ValueError(f"the code has q^d = {q}^{d} codewords, too many to list (limit 2^22)")
    coefficients = np.array(list(itertools.product(range(q), repeat=d)), dtype=np.int64)  # (q^d, d)
    powers = np.array([[pow(x, j, q) for x in range(1, n + 1)] for j in range(d)], dtype=np.int64)  # (d, n)
    words = (coefficients @ powers) % q
    return Distribution.from_support(words, np.full(words.shape[0], 1.0 / words.shape[0]))


def parity_code(n: int, q: int = 2) -> NDArray[np.float64]:
    """Uniform over words with ``x_1 + ... + x_n = 0 mod q`` (single parity check): an ``[n, n-1]`` MDS code, so
    ``Z = mds_curve(n, n - 1, q)`` (all dependence appears at the last token)."""
    n, q = as_count(n, "n", 2), as_count(q, "q", 2)
    _check_cells(itertools.repeat(q, min(n, MAX_AXES + 1)))
    grids = np.indices((q,) * n).sum(axis=0)
    p = (grids % q == 0).astype(np.float64)
    return np.asarray(p / p.sum(), dtype=np.float64)


def _rank_mod_q(matrix: NDArray[np.int64], q: int) -> int:
    """Rank over the prime field F_q by Gaussian elimination."""
    a = matrix.copy() % q
    rank = 0
    rows, cols = a.shape
    for c in range(cols):
        pivot = next((r for r in range(rank, rows) if a[r, c]), None)
        if pivot is None:
            continue
        a[[rank, pivot]] = a[[pivot, rank]]
        a[rank] = (a[rank] * pow(int(a[rank, c]), q - 2, q)) % q
        for r in range(rows):
            if r != rank and a[r, c]:
                a[r] = (a[r] - a[r, c] * a[rank]) % q
        rank += 1
        if rank == rows:
            break
    return rank


def random_linear_code(n: int, d: int, q: int, seed: int | None = None) -> tuple[Distribution, NDArray[np.int64]]:
    """Uniform over the code spanned by a random ``d x n`` generator matrix over ``F_q`` (q prime).

    Returns the distribution and the generator ``G``; entropies follow from ranks, ``H(X_S) = rank(G_S) log q``
    (see :func:`linear_code_average_entropies`).
    """
    n, d, q = as_count(n, "n"), as_count(d, "d"), as_count(q, "q", 2)
    if not _is_prime(q):
        raise ValueError(f"q must be prime, got {q}")
    if d * math.log2(q) > 22:  # compared in logs: q**d for a huge d would never finish
        raise ValueError(f"the code has q^d = {q}^{d} messages, too many to list (limit 2^22)")
    require_memory(8 * (q**d + d) * n, f"the {q}^{d} codewords of length n = {n}")
    g = np.random.default_rng(as_seed(seed)).integers(0, q, size=(d, n))
    messages = np.array(list(itertools.product(range(q), repeat=d)), dtype=np.int64)
    words = np.unique((messages @ g) % q, axis=0)  # a rank-deficient G repeats codewords
    return Distribution.from_support(words, np.full(words.shape[0], 1.0 / words.shape[0])), g


def linear_code_average_entropies(generator: ArrayLike, q: int) -> NDArray[np.float64]:
    """``e_m`` of the uniform law on the code generated by ``G`` over ``F_q``: the mean of ``rank(G_S) log q``.
    O(2^n) rank computations (no enumeration of codewords)."""
    q = as_count(q, "q", 2)
    if not _is_prime(q):
        raise ValueError(f"q must be prime (ranks are over the field F_q), got {q}")
    g = np.asarray(generator)
    if g.dtype.kind not in "iu":
        raise TypeError(f"generator must be an integer matrix, got dtype {g.dtype}")
    if g.ndim != 2 or 0 in g.shape:
        raise ValueError(f"generator must be a non-empty 2-D matrix (d x n, d, n >= 1), got shape {g.shape}")
    g = (g % q).astype(np.int64)  # reduce first: a uint64 entry >= 2**63 would wrap negative in int64
    n = g.shape[1]
    if n > 20:
        raise ValueError(f"n = {n} is too large for the exact subset average (limit 20)")
    sums = np.zeros(n + 1)
    for mask in range(1, 2**n):
        cols = [i for i in range(n) if (mask >> i) & 1]
        sums[len(cols)] += _rank_mod_q(g[:, cols], q)
    counts = np.array([math.comb(n, m) for m in range(n + 1)], dtype=np.float64)
    return np.asarray(sums / counts * math.log(q), dtype=np.float64)


# ---- Markov chains ------------------------------------------------------------------------------------------


def _transition(transition: ArrayLike) -> NDArray[np.float64]:
    matrix = as_real_array(transition, "transition", ndim=2)
    if matrix.shape[0] != matrix.shape[1] or matrix.shape[0] == 0:
        raise ValueError(f"P must be a non-empty square matrix, got shape {matrix.shape}")
    if (matrix < 0).any():
        raise ValueError("P must have non-negative entries")
    sums = matrix.sum(axis=1)
    tol = probability_tolerance(np.asarray(transition).dtype, matrix.shape[0])
    if not np.all(np.abs(sums - 1.0) <= tol):
        bad = int(np.argmax(np.abs(sums - 1.0)))
        raise ValueError(f"every row of P must sum to 1, but row {bad} sums to {float(sums[bad])!r}")
    return np.asarray(matrix / matrix.sum(axis=1, keepdims=True), dtype=np.float64)


def stationary_distribution(transition: ArrayLike) -> NDArray[np.float64]:
    """The stationary law ``pi = pi P`` of transition matrix ``P`` (unique for an irreducible chain)."""
    matrix = _transition(transition)
    q = matrix.shape[0]
    system = np.vstack([matrix.T - np.eye(q), np.ones((1, q))])
    rhs = np.zeros(q + 1)
    rhs[-1] = 1.0
    pi, *_ = np.linalg.lstsq(system, rhs, rcond=None)
    pi = np.clip(pi, 0.0, None)
    return np.asarray(pi / pi.sum(), dtype=np.float64)


def _row_entropies(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(matrix > 0, -matrix * np.log(matrix), 0.0)
    return np.asarray(terms.sum(axis=-1), dtype=np.float64)


def _gap_deltas(matrix: NDArray[np.float64], pi: NDArray[np.float64], h_pi: float, limit: int) -> NDArray[np.float64]:
    """``delta(g) = pi . H(rows of P^g) - H(pi)`` for ``g = 1, 2, ...`` until ``P^g`` has mixed (as in the exact loop
    of :func:`markov_curve`) or ``g = limit``. Powers come in batches (``P^1..P^B`` by doubling, then ``P^{jB} P^i``),
    so the Python overhead is O(log B + G/B), the arithmetic O(q^3 G)."""
    q = matrix.shape[0]
    batch = max(1, min(limit, 2**14 // (q * q)))
    powers = matrix[None, :, :].copy()
    while powers.shape[0] < batch:
        powers = np.concatenate((powers, powers @ powers[-1]))  # P^(L+1..2L) = P^(1..L) P^L
    powers = powers[:batch]
    out: list[NDArray[np.float64]] = []
    done = 0
    block = powers
    while done < limit:
        block = block[: limit - done]
        mixed = np.abs(block - pi).reshape(block.shape[0], -1).max(axis=1) < 1e-9
        stop = int(np.argmax(mixed)) if mixed.any() else block.shape[0]
        out.append(_row_entropies(block[:stop]) @ pi - h_pi)
        if stop < block.shape[0]:
            break
        done += block.shape[0]
        block = block[-1] @ powers  # P^(done + 1 .. done + B)
    return np.concatenate(out) if out else np.zeros(0)


def markov_chain(transition: ArrayLike, n: int) -> NDArray[np.float64]:
    """Dense law of ``X_1..X_n`` for the stationary Markov chain with transition matrix ``P`` (``transition``)."""
    matrix = _transition(transition)
    n = as_count(n, "n")
    _check_cells(itertools.repeat(matrix.shape[0], min(n, MAX_AXES + 1)))
    out = stationary_distribution(matrix)
    for _ in range(n - 1):
        out = out[..., :, None] * matrix  # p(x_1..x_t, x_{t+1}) = p(x_1..x_t) P[x_t, x_{t+1}]
    return np.asarray(out, dtype=np.float64)


def markov_curve(transition: ArrayLike, n: int, *, tol: float = 1e-12) -> NDArray[np.float64]:
    """Exact ``Z`` (nats) of the stationary Markov chain with transition ``P``, at any ``n``, without enumeration.

    For ``S = {i_1 < ... < i_m}``, ``H(X_S) = H(pi) + sum_t c(i_{t+1} - i_t)`` with ``c(g) = H(X_{1+g} | X_1)``.
    A uniformly random m-subset has, in expectation, ``r(g, m) = (n - g) C(n-g-1, m-2) / C(n, m)`` consecutive
    pairs at gap ``g``, and ``r(g+1, m) = r(g, m) (n-g-m+1)/(n-g)`` with ``r(1, m) = m(m-1)/n``. Writing
    ``c(g) = H(pi) + delta(g)``, ``e_m = m H(pi) + sum_g delta(g) r(g, m)``, and ``delta(g)`` vanishes to machine
    precision once ``P^g`` has mixed (gap ``G``).

    ``tol > 0`` (default ``1e-12``): the weight of gap ``g`` decays like ``(1 - g/n)^(m-1)``, so each ``m``'s sum is
    cut (in C++) once its tail is provably below ``tol/2 * max|delta|``; every ``Z_i`` is then within
    ``tol * max_g |delta(g)| = tol * I(X_1; X_2) <= tol * Z_n`` of the untruncated sum (plus rounding). Time
    O(q^3 G + n log n log(1/tol)) whatever the chain, O(n + G q^2) memory. ``tol = 0``: the exact O(q^3 G + n G)
    sum over every gap (the reference the truncated sum is tested against).
    """
    matrix = _transition(transition)
    n = as_count(n, "n")
    tol = as_tolerance(tol, "tol")
    require_memory(48 * (n + 1), "the O(n) work arrays")
    pi = stationary_distribution(matrix)
    h_pi = float(-np.sum(pi[pi > 0] * np.log(pi[pi > 0])))
    m = np.arange(n + 1, dtype=np.float64)
    e = m * h_pi
    if tol > 0:
        e += _core.markov_gap_sums(_gap_deltas(matrix, pi, h_pi, n - 1), n, tol)
    else:
        ratio = m * (m - 1) / n  # r(1, m); r(g, 0) = r(g, 1) = 0 as they must be
        power = matrix.copy()
        for g in range(1, n):
            # Mixed: pi-weighted row entropies differ from H(pi) only to second order in the rows' deviation from pi
            # (first-order terms cancel because pi P^g = pi), so a deviation below 1e-9 leaves delta below ~1e-18.
            if np.abs(power - pi).max() < 1e-9:
                break
            delta = float(pi @ _row_entropies(power)) - h_pi
            e += delta * ratio
            ratio = ratio * np.clip(n - g - m + 1, 0, None) / (n - g)
            power = power @ matrix
    return np.asarray(np.maximum.accumulate(curve_from_entropies(e)), dtype=np.float64)


def ising_chain(coupling: float, field: float = 0.0) -> NDArray[np.float64]:
    """Transition matrix of the bulk 1-D Ising chain (spins -1, +1) with nearest-neighbour ``coupling`` J and
    ``field`` h: the stationary Markov chain with ``P_ab = T_ab v_b / (lambda v_a)`` for the transfer matrix
    ``T_ab = exp(J s_a s_b + h (s_a + s_b) / 2)`` and its top eigenpair ``(lambda, v)``. Use with
    :func:`markov_curve` / :func:`markov_chain`."""
    j, h = as_real(coupling, "coupling"), as_real(field, "field")
    spins = np.array([-1.0, 1.0])
    exponent = j * np.outer(spins, spins) + h * (spins[:, None] + spins[None, :]) / 2
    t = np.exp(exponent - exponent.max())  # P is invariant to scaling T; this keeps exp finite for |J|, |h| ~ 1e3+
    # Closed form for the symmetric 2x2 T = [[a, b], [b, c]]: lambda = (a+c)/2 + hypot(d, b) with d = (a-c)/2, and
    # P_12 = b v_2 / (lambda v_1) = (lambda - a) / lambda, P_21 = (lambda - c) / lambda, each difference written
    # without cancellation. Finite for every finite J, h (a decoupled chain, b -> 0, becomes deterministic).
    a, b, c = float(t[0, 0]), float(t[0, 1]), float(t[1, 1])
    d = (a - c) / 2
    root = math.hypot(d, b)
    lam = (a + c) / 2 + root
    above_a = root - d if d <= 0 else b * b / (root + d)
    above_c = root + d if d >= 0 else b * b / (root - d)
    return np.array([[a / lam, above_a / lam], [above_c / lam, c / lam]], dtype=np.float64)


def mixture(components: Sequence[ArrayLike], weights: ArrayLike) -> NDArray[np.float64]:
    """Dense mixture ``sum_i w_i p_i`` of same-shape dense distributions."""
    tensors = [as_dense(c, f"components[{i}]") for i, c in enumerate(components)]
    w = as_dense(weights, "weights")
    if w.ndim != 1 or w.size != len(tensors) or not tensors:
        raise ValueError("weights must be a probability vector with one entry per component")
    if len({t.shape for t in tensors}) != 1:
        raise ValueError("all components must have the same shape")
    return np.asarray(sum(wi * t for wi, t in zip(w, tensors)), dtype=np.float64)


__all__ = [
    "ising_chain",
    "linear_code_average_entropies",
    "markov_chain",
    "markov_curve",
    "mds_curve",
    "mixture",
    "parity_code",
    "product",
    "random_linear_code",
    "reed_solomon",
    "stationary_distribution",
    "uniform",
]
