"""One validation layer (issue 21): each rule is one helper in ``_validation`` and every entry point answers a
mistake the same way (the kind of error, the argument named)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

import mdmsched
from mdmsched import _core, _validation
from mdmsched import schedules as S
from mdmsched.curves import families as D
from mdmsched.models import estimate as E
from mdmsched.schedules import practice as P

PACKAGE = Path(mdmsched.__file__).parent
EXACT = mdmsched.ExactPredictor(np.full((2, 2, 2), 0.125))
DATA = np.zeros((4, 3), dtype=np.int64)
CHAIN = np.array([[0.9, 0.1], [0.2, 0.8]])


def _sources() -> dict[str, str]:
    return {str(p.relative_to(PACKAGE)): p.read_text() for p in PACKAGE.rglob("*.py")}


def test_no_hand_rolled_range_checks():
    """`as_count` is the only place that says "must be >= " (every count, size, batch and seed goes through it)."""
    found = [f"{name}:{i + 1}" for name, text in _sources().items() if name != "_validation.py"
             for i, line in enumerate(text.splitlines()) if re.search(r'raise ValueError\(f?"[^"]* must be >= ', line)]
    assert not found, found


# (argument, call with the value, smallest valid value): each site of the former hand-rolled checks.
COUNTS = [
    ("block_length", lambda v: S.blockwise(8, v, steps_per_block=2), 1),
    ("steps_per_block", lambda v: S.blockwise(8, 4, steps_per_block=v), 1),
    ("n", lambda v: P.equal(v, 1), 1),
    ("n", lambda v: S.cosine_squared(v, 1), 1),
    ("subsets_per_size", lambda v: mdmsched.estimate_average_entropies(np.full((2, 2), 0.25), subsets_per_size=v), 2),
    ("batch", lambda v: mdmsched.Schedule([1, 2]).num_transfer_tokens(v), 1),
    ("batch", lambda v: P.llada_blocks(8, 4, 4).num_transfer_tokens(batch=v), 1),
    ("points", lambda v: E.default_grid(10, v), 2),
    ("shards", lambda v: E.plan_estimate((3, 4), seed=0).shards(v), 1),
    ("reps", lambda v: E.plan_estimate((3, 4), reps=v, seed=0), 1),
    ("batch_size", lambda v: E.plan_estimate((3, 4), batch_size=v, seed=0), 1),
    ("seed", lambda v: E.plan_estimate((3, 4), seed=v), 0),
    ("stream", lambda v: E.plan_estimate((3, 4), seed=0, stream=v), 0),
    ("block_length", lambda v: mdmsched.estimate_block_curves(EXACT, DATA, block_length=v, seed=0), 1),
    ("seed", lambda v: mdmsched.simulate(EXACT, [1, 1, 1], 2, seed=v), 0),
    ("vocab_size", lambda v: mdmsched.ProbabilityModel(lambda t, m: None, vocab_size=v), 1),
    ("check_rows", lambda v: mdmsched.ProbabilityModel(lambda t, m: None, check_rows=v), 1),
]


@pytest.mark.parametrize(("name", "call", "minimum"), COUNTS, ids=[f"{c[0]}-{i}" for i, c in enumerate(COUNTS)])
def test_counts_share_one_rule(name, call, minimum):
    call(minimum)  # the smallest valid value is accepted
    with pytest.raises(ValueError, match=f"{name} must be >= {minimum}"):
        call(minimum - 1)
    with pytest.raises(TypeError, match=name):
        call(True)
    with pytest.raises(TypeError, match=name):
        call(float(minimum))


def test_torch_counts_share_the_rule():
    pytest.importorskip("torch")
    from mdmsched.models.torch import TorchModel, _vocab_range

    with pytest.raises(ValueError, match="vocab must be >= 1"):
        _vocab_range(0)
    with pytest.raises(ValueError, match="chunk_size must be >= 1"):
        TorchModel(lambda x: x, 0, chunk_size=0)


SEEDED = {
    "simulate": lambda s: mdmsched.simulate(EXACT, [1, 1, 1], 2, seed=s),
    "expected_kl": lambda s: mdmsched.expected_kl(EXACT, None, [3], 2, seed=s),
    "plan_estimate": lambda s: E.plan_estimate((3, 4), seed=s),
    "estimate_average_entropies": lambda s: mdmsched.estimate_average_entropies(np.full((2, 2), 0.25), seed=s),
    "random_linear_code": lambda s: D.random_linear_code(4, 2, 2, seed=s),
}


@pytest.mark.parametrize("function", sorted(SEEDED))
def test_seed_is_one_rule(function):
    call = SEEDED[function]
    call(None)
    call(3)
    call(np.int64(3))
    for bad in (True, np.bool_(False), 2.0, "1"):
        with pytest.raises(TypeError, match="seed"):
            call(bad)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        call(-1)
    generator = np.random.default_rng(0)
    if function == "plan_estimate":  # the plan records its seed for every shard: a generator cannot be recorded
        with pytest.raises(TypeError, match="seed"):
            call(generator)
    else:
        call(generator)


def _region_calls(region):
    prompts = np.zeros((2, 3), dtype=np.int64)
    calls = {
        "estimate_curve": lambda: mdmsched.estimate_curve(EXACT, DATA, region=region, seed=0),
        "simulate": lambda: mdmsched.simulate(EXACT, [2], 2, prompts=prompts, region=region, seed=0),
        "expected_kl": lambda: mdmsched.expected_kl(EXACT, None, [2], 2, region=region, seed=0),
    }
    try:
        import torch  # noqa: F401
    except ImportError:
        return calls
    from mdmsched.samplers.generate import generate

    class Sampler:
        def sample(self, tokens, mask, rng):
            return np.zeros_like(tokens)

    calls["generate"] = lambda: generate(Sampler(), prompts, region, np.array([[1], [1]]), 1, rng=np.random.default_rng(0))
    return calls


@pytest.mark.parametrize(("region", "kind", "fragment"), [
    (np.array([0, 0, 1]), TypeError, "boolean array"),  # 0/1 integers are not a mask
    (np.array([0.0, 1.0, 1.0]), TypeError, "boolean array"),
    (np.array([True, False]), ValueError, "shape"),
    (np.zeros(3, dtype=bool), ValueError, "no generated position"),
])
def test_region_is_one_rule(region, kind, fragment):
    for name, call in _region_calls(region).items():
        with pytest.raises(kind, match=fragment):
            call()
        assert name  # every entry point raised the same kind with the same words


def test_region_mistake_is_the_same_error_in_estimate_and_simulate():
    good = np.array([False, True, True])
    assert all(call() is not None for call in _region_calls(good).values())


def _off_by(q: int, factor: float) -> np.ndarray:
    """``q`` probabilities whose sum misses 1 by ``factor`` times the float64 tolerance for ``q`` values."""
    p = np.full(q, 1.0 / q)
    p[0] += factor * _validation.probability_tolerance(np.dtype(np.float64), q)
    return p


@pytest.mark.parametrize("q", [2, 4, 64])
def test_sums_to_one_is_one_tolerance(q):
    """Dense laws, transition rows, predictor rows and the raw core accept half the tolerance and refuse twice it."""
    inside, outside = _off_by(q, 0.5), _off_by(q, 2.0)
    transition = lambda row: np.vstack([row] + [np.full(q, 1.0 / q)] * (q - 1))
    outcomes = np.arange(q, dtype=np.int64)[:, None]
    tokens, mask = np.zeros((1, 1), dtype=np.int64), np.ones((1, 1), dtype=bool)
    checks = {
        "dense": mdmsched.information_curve,
        "transition": lambda row: D.stationary_distribution(transition(row)),
        "predictor": lambda row: mdmsched.ProbabilityModel(lambda t, m: row[None, None, :]).score(tokens, mask,
                                                                                                 "entropy"),
        "raw core": lambda row: _core.sparse_marginal_entropies(outcomes, row),
    }
    for name, check in checks.items():
        check(inside)
        with pytest.raises(ValueError, match="sum"):
            check(outside)
        assert name


@pytest.mark.parametrize("call", [
    lambda z: _core.solve(z, 2, "auto"),
    lambda z: _core.schedule_error(z, np.array([2, 1])),
    lambda z: _core.error_frontier(z, 2, "hull"),
    lambda z: _core.min_steps(z, 0.1),
])
def test_raw_core_refuses_a_curve_whose_first_value_is_not_zero(call):
    with pytest.raises(ValueError, match="Z_1 must be 0"):
        call(np.array([0.5, 1.0, 2.0]))
    call(np.array([0.0, 1.0, 2.0]))


def test_one_curve_from_entropies():
    """``Z_i = e_1 - (e_i - e_{i-1})`` is written once (curves/hygiene.py); reference.py keeps its own as the oracle."""
    sites = [name for name, text in _sources().items() if re.search(r"\[1\] - np\.diff\(", text)]
    assert sorted(sites) == sorted(["curves/hygiene.py", "reference.py"]), sites
    z = D.markov_curve(CHAIN, 9)
    np.testing.assert_allclose(z, mdmsched.reference.information_curve(D.markov_chain(CHAIN, 9)), atol=1e-12)
    assert z[0] == 0.0 and math.isfinite(z[-1])


def test_executor_is_checked_before_any_work():
    """One rule for ``executor=`` in both sharding mechanisms (the lattice walk and curve estimation)."""
    p = np.random.default_rng(0).dirichlet(np.ones(8)).reshape(2, 2, 2)  # not exchangeable: the lattice walk
    with pytest.raises(TypeError, match=r"executor must be a concurrent\.futures\.Executor"):
        mdmsched.average_entropies(p, executor=4)  # was an AttributeError deep inside the walk
    with pytest.raises(TypeError, match=r"executor must be a concurrent\.futures\.Executor"):
        mdmsched.estimate_curve(EXACT, DATA, seed=0, executor="pool")


def test_both_sampler_loops_check_samples_alike():
    class Negative:
        def score(self, t, m, target="cross_entropy"):
            return np.zeros(t.shape)

        def sample(self, t, m, rng):
            return np.full(t.shape, -3)

    with pytest.raises(ValueError, match="negative token ids at masked positions"):
        mdmsched.simulate(Negative(), [2], 2, n=2, seed=0)
    try:
        from mdmsched.samplers.generate import generate
    except ImportError:
        return
    with pytest.raises(ValueError, match="negative token ids at masked positions"):
        generate(Negative(), np.zeros((1, 2), dtype=np.int64), 0, np.array([[2]]), 2, rng=np.random.default_rng(0))
