"""The models of issue 25.2's measurements, as fast per-position loss functions with exact truths.

* ``markov``: the exact conditionals of the 2-state chain ``[[0.9, 0.1], [0.2, 0.8]]`` (n = 64); truth ``markov_curve``.
* ``rare``: i.i.d. tokens, a rare symbol (3%) at model probability 1e-6 with nothing revealed, rising to 3% (n = 6);
  the loss depends only on how many positions are revealed; truth in closed form.
* ``context``: the chain's exact conditionals at n = 16 except that token 1 at 24% of positions (~8% of tokens) gets
  probability 1e-5 while its left neighbour is masked (``holes="always"``: whatever the context); truth exact by
  counting, for each position ``i``, the revealed sets by their nearest revealed neighbours ``L < i < R``.

* ``parity``: the exact conditionals of a parity-mixture (n = 10): half a single parity check (uniform over even-weight
  words), half the 2-state chain; truth from the dense law's average subset entropies (``g_m = e_{m+1} - e_m``).

``losses(x, mask)`` is the model's ``-log q(x_i | x_revealed)`` at masked positions, 0 elsewhere (rows x n, nats).
"""

from __future__ import annotations

from functools import cache
from math import comb

import numpy as np

import mdmsched
from mdmsched.distributions import markov_curve

P = np.array([[0.9, 0.1], [0.2, 0.8]])
HOLE = 1e-5


@cache
def _ways(n: int, free: int, fixed: int) -> np.ndarray:
    """P(the nearest revealed neighbours are the given L, R | i masked, |T| = m), m = 0..n-1."""
    ways = np.array([comb(free, m - fixed) if m >= fixed else 0 for m in range(n)], float)
    return ways / np.array([comb(n - 1, m) for m in range(n)], float)


class Model:
    name: str
    n: int

    def sample(self, rows: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def losses(self, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def levels(self) -> np.ndarray:
        """Exact ``g_m``, m = 0..n-1 (nats)."""
        raise NotImplementedError

    def score(self, tokens, mask, target="cross_entropy"):  # type: ignore[no-untyped-def]  # the package's protocol
        return self.losses(np.asarray(tokens), np.asarray(mask))


class Markov(Model):
    def __init__(self, n: int = 64) -> None:
        self.name, self.n = f"markov n={n}", n
        self.base = mdmsched.MarkovPredictor(P, n)

    def sample(self, rows, rng):  # type: ignore[no-untyped-def]
        return self.base.sample(rows, rng)

    def losses(self, x, mask):  # type: ignore[no-untyped-def]
        p = np.take_along_axis(self.base(x, mask), x[..., None], axis=2)[..., 0]
        return np.where(mask, -np.log(p), 0.0)

    def levels(self):  # type: ignore[no-untyped-def]
        z = markov_curve(P, self.n)  # g = h for exact conditionals: Z_i = g_0 - g_{i-1}
        h0 = float(-(self.base.pi * np.log(self.base.pi)).sum())
        return h0 - z


class Rare(Model):
    mu = np.array([0.6, 0.37, 0.03])

    def __init__(self, n: int = 6) -> None:
        self.name, self.n = f"rare symbol n={n}", n
        t = np.arange(n) / (n - 1)
        rare = np.exp((1 - t) * np.log(1e-6) + t * np.log(0.03))
        self.q = np.stack(((1 - rare) * 0.6 / 0.97, (1 - rare) * 0.37 / 0.97, rare), axis=1)

    def sample(self, rows, rng):  # type: ignore[no-untyped-def]
        return rng.choice(3, size=(rows, self.n), p=self.mu)

    def losses(self, x, mask):  # type: ignore[no-untyped-def]
        return np.where(mask, -np.log(self.q[(~mask).sum(axis=1)[:, None], x]), 0.0)

    def levels(self):  # type: ignore[no-untyped-def]
        return -(np.log(self.q) * self.mu).sum(axis=1)

    def row_levels(self, x: np.ndarray) -> np.ndarray:
        """Exact ``g_m(x)`` per row: the loss depends only on how many positions are revealed."""
        return -np.log(self.q[:, x]).mean(axis=2).T


class Context(Model):
    def __init__(self, n: int = 16, holes: str = "context") -> None:
        self.name, self.n, self.holes = f"context holes n={n}" if holes == "context" else f"holes n={n}", n, holes
        self.base = mdmsched.MarkovPredictor(P, n)
        self.hole_pos = np.random.default_rng(0).random(n) < 0.24  # as benchmarks/measure_control_variate.py

    def sample(self, rows, rng):  # type: ignore[no-untyped-def]
        return self.base.sample(rows, rng)

    def losses(self, x, mask):  # type: ignore[no-untyped-def]
        p = np.take_along_axis(self.base(x, mask), x[..., None], axis=2)[..., 0]
        hole = self.hole_pos[None, :] & (x == 1)
        if self.holes == "context":  # only while the left neighbour is masked (position 0: always)
            hole &= np.concatenate((np.ones((x.shape[0], 1), bool), mask[:, :-1]), axis=1)
        return np.where(mask, -np.log(np.where(hole, HOLE, p)), 0.0)

    def row_levels(self, x: np.ndarray) -> np.ndarray:
        """Exact ``g_m(x)`` per data row (rows x n): the average over revealed sets only (``E[level | x]``)."""
        n, pw, pi = self.n, self.base.powers, self.base.pi
        out = np.zeros((x.shape[0], n))
        for i in range(n):
            for left in range(-1, i):
                for right in range(i + 1, n + 1):
                    fixed = (left >= 0) + (right < n)
                    free = (max(left, 0)) + (n - 1 - right if right < n else 0)
                    ways = _ways(n, free, fixed)
                    if not ways.any():
                        continue
                    lf = pw[i - left, x[:, left], :] if left >= 0 else np.broadcast_to(pi, (x.shape[0], 2))
                    rf = pw[right - i, :, x[:, right]] if right < n else np.ones((x.shape[0], 2))
                    cond = lf * rf
                    p = cond[np.arange(x.shape[0]), x[:, i]] / cond.sum(axis=1)
                    hole = self.hole_pos[i] & (x[:, i] == 1)
                    if self.holes == "context":
                        hole &= left != i - 1
                    loss = -np.log(np.where(hole, HOLE, p))
                    # g_m(x) = (1/(n-m)) E_T sum_{i not in T} loss_i = (1/n) sum_i E[loss_i | i masked]
                    out += loss[:, None] * ways[None, :] / n
        return out

    def levels(self):  # type: ignore[no-untyped-def]
        """Exact: every sequence (2^n) weighted by its probability."""
        grid = np.array(np.meshgrid(*[[0, 1]] * self.n, indexing="ij")).reshape(self.n, -1).T
        prob = np.exp(self.base.log_prob(grid))
        return prob @ self.row_levels(grid)


class ParityMixture(Model):
    def __init__(self, n: int = 10) -> None:
        from mdmsched.distributions import markov_chain, mixture, parity_code
        from mdmsched.models.exact import ExactPredictor

        self.name, self.n = f"parity-mixture n={n}", n
        self.p = mixture([parity_code(n), markov_chain(P, n)], [0.5, 0.5])
        self.base = ExactPredictor(self.p)

    def sample(self, rows, rng):  # type: ignore[no-untyped-def]
        return self.base.sample(rows, rng)

    def losses(self, x, mask):  # type: ignore[no-untyped-def]
        p = np.take_along_axis(self.base(x, mask), x[..., None], axis=2)[..., 0]
        return np.where(mask, -np.log(p), 0.0)

    def levels(self):  # type: ignore[no-untyped-def]
        e = mdmsched.average_entropies(self.p)  # e_m = mean H(X_S) over |S| = m; g_m = e_{m+1} - e_m
        return np.diff(e)


MODELS = {"markov": Markov, "rare": Rare, "context": Context,
          "holes": lambda: Context(holes="always"), "parity": ParityMixture}
