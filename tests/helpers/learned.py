"""A learned-like model for tests: arbitrary, mutually inconsistent conditionals ``q(x_i | x_T)`` (SPEC §5.1).

Every (position, revealed pattern) gets its own random distribution from a fixed table, so no joint law has these
conditionals. Brute-force helpers enumerate sequences, revealed sets and ordered partitions exactly.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.typing import NDArray


class InconsistentModel:
    """``predict(tokens, mask) -> probs (B, n, q)`` with ``q(. | i, revealed tokens)`` drawn once per key."""

    def __init__(self, n: int, q: int, seed: int = 0, concentration: float = 1.0) -> None:
        self.n, self.q = n, q
        rng = np.random.default_rng(seed)
        self.table = rng.dirichlet(np.full(q, concentration), size=(n, (q + 1) ** n))

    def _keys(self, tokens: NDArray[np.int64], mask: NDArray[np.bool_]) -> NDArray[np.int64]:
        code = np.where(mask, self.q, tokens)  # q stands for "masked"
        return (code * (self.q + 1) ** np.arange(self.n)).sum(axis=1)

    def __call__(self, tokens: NDArray[np.int64], mask: NDArray[np.bool_]) -> NDArray[np.float64]:
        keys = self._keys(np.asarray(tokens), np.asarray(mask))
        return self.table[np.arange(self.n)[None, :], keys[:, None]]

    def conditional(self, x: tuple[int, ...], revealed: frozenset[int], i: int) -> float:
        tokens = np.array([x])
        mask = np.array([[j not in revealed for j in range(self.n)]])
        return float(self(tokens, mask)[0, i, x[i]])


def cross_entropy_curve(p: NDArray[np.float64], model: InconsistentModel) -> NDArray[np.float64]:
    """Brute force ``g_m = E_x E_{|T|=m} E_{i not in T} [-log q(x_i | x_T)]``, m = 0..n-1."""
    n = p.ndim
    g = np.zeros(n)
    outcomes = [x for x in itertools.product(*(range(d) for d in p.shape)) if p[x] > 0]
    for m in range(n):
        subsets = list(itertools.combinations(range(n), m))
        total = 0.0
        for x in outcomes:
            acc = 0.0
            for t in subsets:
                rest = [i for i in range(n) if i not in t]
                acc += np.mean([-math.log(model.conditional(x, frozenset(t), i)) for i in rest])
            total += p[x] * acc / len(subsets)
        g[m] = total
    return g


def ordered_partition_kl(p: NDArray[np.float64], model: InconsistentModel, sizes: list[int]) -> float:
    """Brute force ``E_S KL(mu || nu_q^S)`` over every ordered partition of positions with these step sizes."""
    n = p.ndim
    outcomes = list(itertools.product(*(range(d) for d in p.shape)))
    kls = []
    for perm in itertools.permutations(range(n)):
        steps, start = [], 0
        for s in sizes:
            steps.append(tuple(sorted(perm[start:start + s])))
            start += s
        if any(list(perm[a:a + len(st)]) != sorted(perm[a:a + len(st)]) for a, st in
               zip(np.cumsum([0, *sizes[:-1]]), steps)):
            continue  # one representative per ordered partition (positions within a step in increasing order)
        kl = 0.0
        for x in outcomes:
            if p[x] == 0:
                continue
            log_nu, revealed = 0.0, frozenset()
            for step in steps:
                log_nu += sum(math.log(model.conditional(x, revealed, i)) for i in step)
                revealed = revealed | frozenset(step)
            kl += p[x] * (math.log(p[x]) - log_nu)
        kls.append(kl)
    return float(np.mean(kls))


class RareSymbol:
    """Heavy tails with an exact curve: i.i.d. tokens; the model gives a rare symbol (3% of the data) probability 1e-6
    with nothing revealed, rising geometrically to 3% with everything revealed (per-token losses up to 13.8 nats)."""

    mu = np.array([0.6, 0.37, 0.03])

    def __init__(self, n: int) -> None:
        t = np.arange(n) / (n - 1)
        rare = np.exp((1 - t) * math.log(1e-6) + t * math.log(0.03))
        self.n, self.q = n, np.stack(((1 - rare) * 0.6 / 0.97, (1 - rare) * 0.37 / 0.97, rare), axis=1)

    def curve(self) -> np.ndarray:
        g = -(np.log(self.q) * self.mu).sum(axis=1)
        return g[0] - g

    def sample(self, rows: int, rng: np.random.Generator) -> np.ndarray:
        return rng.choice(3, size=(rows, self.n), p=self.mu)

    def score(self, tokens, mask, target="cross_entropy"):  # type: ignore[no-untyped-def]
        return -np.log(self.q[(~mask).sum(axis=1)[:, None], tokens])
