"""KLASS (shkim0116/KLASS ``src/model/llada_klass.py`` @ ad87ecb, ``stable_confident_decode`` with ``alg='klass'``)
and SPEC §5.2: its rule reads the model's outputs at PAST states (the KL between consecutive passes' conditionals,
``kl_history_length`` passes long), so it is outside the class as SPEC words it ("only the revealed tokens, the
outputs at that state and independent randomness"). This brute force checks that the exact identity still holds:
past states are functions of the revealed values (each pass's choice is a function of what was revealed before it),
so for a given output ``x`` the whole path, hence ``-log nu(x)``, is the teacher-forced path of ``x``.

The rule, written here from the peer (temperature 0, one block, LLaDA's equal counts): at each pass ``p_t = q(. |
state)``; ``KL_t = sum p_t (log(p_t + 1e-12) - log(p_{t-1} + 1e-12))`` (``p_{-1} = 0``: the first KL is large), kept in
a history of the last ``h`` passes (zeros at start, checked from pass ``h - 1`` on); reveal every masked position with
all ``h`` KLs ``< kappa`` and max probability ``> conf``; if none, the top ``count_t`` by max probability.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from learned import InconsistentModel
from sampler_reference import conditional_entropy

EPS = 1e-12


def _klass_choice(probs, history, prev, masked, step, h, kappa, conf, counts):
    """One KLASS pass: (chosen positions, new KL history, this pass's probs)."""
    kl = (probs * (np.log(probs + EPS) - np.log(prev + EPS))).sum(axis=1)
    history = np.concatenate([history[:, 1:], kl[:, None]], axis=1)
    top = probs.max(axis=1)
    stable = (history < kappa).all(axis=1) if step >= h - 1 else np.zeros(len(top), bool)
    ready = stable & (top > conf) & masked
    if ready.any():
        return ready, history, probs, True
    order = sorted(np.flatnonzero(masked).tolist(), key=lambda i: (-top[i], i))
    chosen = np.zeros(len(top), bool)
    chosen[order[: counts[min(step, len(counts) - 1)]]] = True
    return chosen, history, probs, False


class _Drifting:
    """Inconsistent conditionals that move a little from state to state (KLs near kappa): a per-position base mixed
    with :class:`InconsistentModel`'s state-dependent table."""

    def __init__(self, n, q, seed, weight):
        self.q, self.weight = q, weight
        self.base = np.random.default_rng(seed + 1000).dirichlet(np.full(q, 0.5), size=n)
        self.noise = InconsistentModel(n, q, seed=seed)

    def __call__(self, tokens, mask):
        return (1 - self.weight) * self.base[None] + self.weight * self.noise(tokens, mask)


def _probs(model, state):
    tokens = np.array([[0 if v is None else v for v in state]])
    return np.asarray(model(tokens, np.array([[v is None for v in state]])))[0]


def _output_law(model, n, q, rule):
    law, branches = {}, {True: 0, False: 0}

    def recurse(state, history, prev, step, weight):
        masked = np.array([v is None for v in state])
        if not masked.any():
            law[state] = law.get(state, 0.0) + weight
            return
        probs = _probs(model, state)
        chosen, history2, prev2, stable = _klass_choice(probs, history, prev, masked, step, **rule)
        branches[stable] += 1
        where = np.flatnonzero(chosen).tolist()
        for values in itertools.product(range(q), repeat=len(where)):
            p = math.prod(float(probs[i, v]) for i, v in zip(where, values))
            new = list(state)
            for i, v in zip(where, values):
                new[i] = v
            recurse(tuple(new), history2, prev2, step + 1, weight * p)

    recurse((None,) * n, np.zeros((n, rule["h"])), np.zeros((n, q)), 0, 1.0)
    return law, branches


def _teacher_nll(model, x, rule):
    n, q = len(x), model.q
    state, history, prev, step, total = (None,) * n, np.zeros((n, rule["h"])), np.zeros((n, q)), 0, 0.0
    while any(v is None for v in state):
        probs = _probs(model, state)
        chosen, history, prev, _ = _klass_choice(probs, history, prev, np.array([v is None for v in state]), step,
                                                 **rule)
        total += sum(-math.log(float(probs[i, x[i]])) for i in np.flatnonzero(chosen))
        state = tuple(x[i] if chosen[i] else v for i, v in enumerate(state))
        step += 1
    return total


@pytest.mark.parametrize(("n", "q", "rule"), [
    (4, 3, {"h": 1, "kappa": 0.3, "conf": 0.4, "counts": [1, 1, 1, 1]}),
    (4, 2, {"h": 2, "kappa": 0.2, "conf": 0.6, "counts": [1, 1, 1, 1]}),
    (5, 2, {"h": 2, "kappa": 0.5, "conf": 0.5, "counts": [2, 1, 1, 1]}),
])
def test_klass_keeps_the_exact_identity(n: int, q: int, rule: dict) -> None:
    for seed in range(3):
        rng = np.random.default_rng(seed)
        p = rng.dirichlet(np.full(q**n, 0.7)).reshape((q,) * n)
        model = _Drifting(n, q, 50 + seed, weight=0.3)
        law, branches = _output_law(model, n, q, rule)
        assert abs(sum(law.values()) - 1.0) < 1e-12
        kl = sum(p[x] * math.log(p[x] / law[x]) for x in itertools.product(range(q), repeat=n) if p[x] > 0)
        formula = sum(p[x] * _teacher_nll(model, x, rule) for x in itertools.product(range(q), repeat=n)
                      if p[x] > 0) - conditional_entropy(p, [])
        assert kl > 1e-3
        assert abs(kl - formula) <= 1e-12 * max(1.0, kl), (seed, kl, formula)
        assert branches[True] > 0 and branches[False] > 0, branches  # the KL-stable reveal ran, and the fallback
