"""SPEC §5.2 by brute force: for random dense laws and random *inconsistent* model conditionals, the exact KL of every
rule's output law (built by recursion over all states) equals the teacher-forced formula, and evaluate_sampler
computes that formula; randomised rules equal the average over their randomness; a rule scoring the sampled token
breaks the identity."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from learned import InconsistentModel
from sampler_reference import (
    Walk,
    conditional_entropy,
    exact_kl,
    package_chooser,
    plackett_luce,
    teacher_formula,
    uniform_subsets,
)

from mdmsched.samplers import (
    EarlyCommit,
    EntropyBounded,
    Factor,
    FloorThreshold,
    RandomOrder,
    Threshold,
    TopK,
    evaluate_sampler,
)


def _law(n: int, q: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.full(q**n, 0.7)).reshape((q,) * n)


def _all_rows(n: int, q: int) -> np.ndarray:
    return np.array(list(itertools.product(range(q), repeat=n)), dtype=np.int64)


# (n, q, prompt, block_length, rule): generated positions are those outside the prompt, cut into blocks.
CASES = [
    (4, 3, (), None, TopK([2, 1, 1])),
    (4, 3, (), None, TopK([1, 3], "margin")),
    (4, 3, (), None, TopK([1, 1, 2], "neg_entropy")),
    (4, 3, (), None, Threshold(0.45)),
    (4, 3, (), None, Factor(1.0)),
    (4, 3, (), None, Factor(2.5)),
    (4, 3, (), None, EntropyBounded(0.6)),
    (4, 3, (), None, FloorThreshold([1, 1, 1, 1], 0.4)),
    (5, 2, (0,), 2, TopK([[1, 1], [2]])),
    (5, 2, (0,), 2, FloorThreshold([1, 1], 0.6)),
    (5, 2, (0,), 2, EntropyBounded(0.4)),
    (5, 2, (0,), 2, Threshold(0.6)),
    (5, 2, (2,), 3, Factor(1.0)),
    (4, 3, (), None, EarlyCommit([1, 1, 1, 1], threshold=0.4)),
    (4, 3, (), None, EarlyCommit(TopK([2, 1, 1], "margin"), threshold=0.3, gap="prob")),
    (5, 2, (0,), 2, EarlyCommit([[1, 1], [1, 1]], threshold=1.0)),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_exact_kl_equals_teacher_forced_formula_and_evaluate_sampler(case: int) -> None:
    n, q, prompt, block, rule = CASES[case]
    for seed in range(2):
        p = _law(n, q, 100 * case + seed)
        model = InconsistentModel(n, q, seed=7 * case + seed)
        walk = Walk(model, n, q, package_chooser(rule), block=block, prompt=prompt)
        kl = exact_kl(p, walk)
        formula = teacher_formula(p, walk)
        assert kl > 1e-3  # an inconsistent model is far from the law: the identity is not 0 = 0
        assert abs(kl - formula) <= 1e-12 * max(1.0, abs(kl)), (rule, kl, formula)
        # The package's teacher-forced loop on every sequence, weighted by mu, is the same number.
        rows = _all_rows(n, q)
        region = np.array([i not in prompt for i in range(n)])
        est = evaluate_sampler(model, rows, rule, region=region, block_length=block, batch_size=17)
        weights = p[tuple(rows.T)]
        value = float(weights @ est.nll_rows) - conditional_entropy(p, list(prompt))
        assert abs(value - kl) <= 1e-12 * max(1.0, abs(kl)), (rule, value, kl)
        reference_nfe = sum(p[tuple(x)] * walk.teacher_nll(tuple(x))[1] for x in rows.tolist())
        assert abs(float(weights @ est.nfe_rows) - reference_nfe) <= 1e-12


def test_random_order_kl_is_the_average_over_orders() -> None:
    n, q, sizes = 4, 2, [2, 1, 1]
    p = _law(n, q, 5)
    model = InconsistentModel(n, q, seed=11)
    kls, formulas, laws = [], [], []
    for order in itertools.permutations(range(n)):
        def fixed(probs, candidates, step, block, order=order):  # the rule for one omega: this order's next s_j
            start = sum(sizes[:step])
            chosen = np.zeros(n, dtype=bool)
            chosen[list(order[start:start + sizes[step]])] = True
            return chosen
        walk = Walk(model, n, q, fixed)
        kls.append(exact_kl(p, walk))
        formulas.append(teacher_formula(p, walk))
        laws.append(walk.output_law((None,) * n))
    assert np.allclose(kls, formulas, rtol=0, atol=1e-12)  # the identity holds for every fixed omega
    average = float(np.mean(kls))
    # Fresh uniform subsets per step (the package's RandomOrder law) give the same E_omega by an independent recursion.
    fresh = teacher_formula(p, Walk(model, n, q, uniform_subsets([sizes])))
    assert abs(fresh - average) <= 1e-12
    # KL of the averaged law is smaller (convexity): the formula is about E_omega KL, not KL of E_omega nu.
    mixed = {x: float(np.mean([law.get(x, 0.0) for law in laws])) for x in itertools.product(range(q), repeat=n)}
    kl_mixed = sum(p[x] * math.log(p[x] / mixed[x]) for x in mixed if p[x] > 0)
    assert kl_mixed < average - 1e-6
    # The package's RandomOrder, on every sequence repeated 200 times with per-row randomness, agrees within 4 se.
    reps = 200
    rows = np.repeat(_all_rows(n, q), reps, axis=0)
    est = evaluate_sampler(model, rows, RandomOrder(sizes), seed=3, batch_size=1024)
    w = p[tuple(rows.T)] / reps
    value = float(w @ est.nll_rows) - conditional_entropy(p, [])
    per_x = est.nll_rows.reshape(-1, reps)
    se = math.sqrt(float((p.ravel() ** 2) @ (per_x.var(axis=1, ddof=1) / reps)))
    assert abs(value - average) <= 4 * se, (value, average, se)


def test_randomised_top_k_averages_its_softmax_draws() -> None:
    """TopK with a temperature (Dream's alg_temp): evaluate_sampler's mean over per-row randomness matches the exact
    E_x E_omega of the teacher-forced sum, computed from the Plackett-Luce subset law by recursion."""
    n, q, sizes, temperature = 4, 2, [2, 1, 1], 0.3
    p = _law(n, q, 9)
    model = InconsistentModel(n, q, seed=13)
    exact = teacher_formula(p, Walk(model, n, q, plackett_luce(sizes, temperature)))
    deterministic = teacher_formula(p, Walk(model, n, q, package_chooser(TopK(sizes))))
    reps = 600
    rows = np.repeat(_all_rows(n, q), reps, axis=0)
    est = evaluate_sampler(model, rows, TopK(sizes, temperature=temperature), seed=4, batch_size=1024)
    value = float((p[tuple(rows.T)] / reps) @ est.nll_rows) - conditional_entropy(p, [])
    per_x = est.nll_rows.reshape(-1, reps)
    se = math.sqrt(float((p.ravel() ** 2) @ (per_x.var(axis=1, ddof=1) / reps)))
    assert abs(value - exact) <= 4 * se, (value, exact, se)
    assert abs(exact - deterministic) > 5 * se  # the randomness matters (measured 0.175 nats): not the argmax rule


def _sampled_token_law(model: InconsistentModel, n: int, q: int, tau: float) -> dict:
    """Exact output law of the sampled-token rule: enumerate the joint draw of every candidate, then the choice."""
    out: dict = {}

    def recurse(state: list, weight: float) -> None:
        masked = [i for i in range(n) if state[i] is None]
        if not masked:
            out[tuple(state)] = out.get(tuple(state), 0.0) + weight
            return
        probs = model(np.array([[0 if v is None else v for v in state]]), np.array([[v is None for v in state]]))[0]
        for y in itertools.product(range(q), repeat=len(masked)):
            conf = [float(probs[i, v]) for i, v in zip(masked, y)]
            keep = [k for k, c in enumerate(conf) if c >= tau] or [int(np.argmax(conf))]
            new = list(state)
            for k in keep:
                new[masked[k]] = y[k]
            recurse(new, weight * math.prod(conf))

    recurse([None] * n, 1.0)
    return out


def _sampled_token_teacher(model: InconsistentModel, x: tuple, n: int, tau: float) -> float:
    """The same rule run on the true tokens (confidence of the true token): the teacher-forced sum."""
    state, total = [None] * n, 0.0
    while any(v is None for v in state):
        masked = [i for i in range(n) if state[i] is None]
        probs = model(np.array([[0 if v is None else v for v in state]]), np.array([[v is None for v in state]]))[0]
        conf = [float(probs[i, x[i]]) for i in masked]
        keep = [k for k, c in enumerate(conf) if c >= tau] or [int(np.argmax(conf))]
        total += sum(-math.log(conf[k]) for k in keep)
        for k in keep:
            state[masked[k]] = x[masked[k]]
    return total


def test_scoring_the_sampled_token_breaks_the_identity() -> None:
    """Outside the class (SPEC §5.2): reveal the draws whose own probability q(y_i) is >= tau (at least the most
    likely draw). Its choice depends on the values committed, and the brute force finds the formula wrong."""
    n, q, tau = 3, 3, 0.4
    worst = 0.0
    for seed in range(3):
        p = _law(n, q, 40 + seed)
        model = InconsistentModel(n, q, seed=50 + seed)
        nu = _sampled_token_law(model, n, q, tau)
        cells = list(itertools.product(range(q), repeat=n))
        kl = sum(p[x] * math.log(p[x] / nu[x]) for x in cells if p[x] > 0)
        formula = sum(p[x] * _sampled_token_teacher(model, x, n, tau) for x in cells) - conditional_entropy(p, [])
        worst = max(worst, abs(kl - formula))
    assert worst > 1e-3, f"the sampled-token rule should break the identity (largest gap {worst:.3g})"
