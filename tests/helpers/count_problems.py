"""Laws where the exact expected teacher-forced NLL of every ``TopK`` count schedule is known (issue 25.4): the truth
for the power and false-win tests of ``optimise_counts`` and for ``benchmarks/measure_counts.py``.

Truth: ``sum_x mu(x) nll(x)`` over all ``q^n`` sequences, ``nll(x)`` the teacher-forced NLL of ``TopK(counts)`` with
the (exact or mismatched) model on row ``x``: the expectation, not an estimate.
"""

from __future__ import annotations

import itertools

import numpy as np

from mdmsched.models import ExactPredictor
from mdmsched.samplers import TopK, evaluate_sampler

STEPS = 3  # passes over n = 6 positions (one block): the equal split is (2, 2, 2)
EQUAL = (2, 2, 2)


def mixed_law(seed: int = 6, concentration: float = 0.3, alpha: float = 0.3) -> np.ndarray:
    """``(1 - alpha) mu + alpha prod_i mu_i`` for ``mu ~ Dirichlet(concentration)`` on ``3^6``: shrinking toward the
    product of its marginals shrinks every schedule's gain (to 0 at ``alpha = 1``)."""
    p = np.random.default_rng(seed).dirichlet(np.full(3 ** 6, concentration)).reshape((3,) * 6)
    product = np.ones(())
    for i in range(6):
        product = np.multiply.outer(product, p.sum(axis=tuple(j for j in range(6) if j != i)))
    return (1 - alpha) * p + alpha * product


def problems() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (data law, model law), ``n = 6``, ``STEPS = 3``:

    * ``gain``: :func:`mixed_law`, exact model; the best split (4, 1, 1) beats (2, 2, 2) by 0.136 nats (per-row
      paired sd 0.64).
    * ``hard``: ``Dirichlet(0.1)`` on ``3^6`` (seed 10), exact model; (3, 2, 1) beats (2, 2, 2) by 0.132 nats (paired
      sd 1.03: heavier tails, half the signal-to-noise).
    * ``null``: a ``2^6`` law with a mismatched model (seed 1021): (2, 2, 2) is truly best, the runner-up (3, 2, 1)
      worse by 0.005 nats (paired sd 0.55), the others by 0.024-0.15. Any win claimed here is false.
    """
    hard = np.random.default_rng(10).dirichlet(np.full(3 ** 6, 0.1)).reshape((3,) * 6)
    rng = np.random.default_rng(1021)
    p = rng.dirichlet(np.full(64, 0.5)).reshape((2,) * 6)
    other = rng.dirichlet(np.full(64, 0.5)).reshape((2,) * 6)
    lam = rng.uniform(0.2, 0.8)
    law = mixed_law()
    return {"gain": (law, law), "hard": (hard, hard), "null": (p, lam * p + (1 - lam) * other)}


def truths(p: np.ndarray, model_law: np.ndarray, steps: int = STEPS) -> dict[tuple[int, ...], float]:
    """Exact expected NLL (nats) of every ``TopK`` count schedule with ``steps`` passes (one block)."""
    n, q = p.ndim, p.shape[0]
    model = ExactPredictor(model_law)
    every = np.array(list(itertools.product(range(q), repeat=n)))
    out = {}
    for cuts in itertools.combinations(range(1, n), steps - 1):
        counts = tuple(int(x) for x in np.diff((0, *cuts, n)))
        out[counts] = float(p.reshape(-1) @ evaluate_sampler(model, every, TopK([list(counts)])).nll_rows)
    return out
