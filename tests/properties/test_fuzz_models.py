"""Hostile-input fuzzing of the model, estimation, simulation, practice and schedule APIs (issue 12's classes applied to
the code of issues 10 and 11).

Every call either returns a sane result (checked against an independent computation where there is one) or raises
``TypeError``/``ValueError`` with a message -- never another exception type (``OverflowError``, ``MemoryError``,
``AttributeError``, ``IndexError``, ``ZeroDivisionError``, ``RecursionError``, numpy's ``UFuncTypeError`` ...), a hang
or silent garbage. Each bug these fuzzers found has an explicit regression test below them.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import warnings
from fractions import Fraction
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdmsched.models import estimate as E
from mdmsched.models.interface import MAX_SCORE, ProbabilityModel, check_scores
from mdmsched.schedule import BlockSchedule, Schedule
from mdmsched.schedules import practice
from mdmsched.solve import min_steps

simulate_module = importlib.import_module("mdmsched.samplers.simulate")  # the package re-exports a function of this name
simulate = simulate_module.simulate
expected_kl = simulate_module.expected_kl

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Integers near every guard: 0, 1, negative, int64/uint64 limits, far beyond any memory.
HOSTILE_INTS: list[Any] = [0, 1, 2, 3, 7, -1, -2**63, 2**24 + 1, 2**62, 2**62 + 1, 2**63 - 1, 2**63, 2**64, 10**12]
#: Everything that is not a Python/numpy integer but might be passed as one.
NOT_INTS: list[Any] = [2.7, 3.0, float("nan"), float("inf"), 1e308, 5e-324, True, np.bool_(False), "3", None, [3],
                       np.float32(2.0), 3 + 0j, Fraction(3, 1)]
NUMPY_INTS: list[Any] = [np.int8(3), np.int64(5), np.uint64(2**64 - 1), np.uint8(1), np.int32(-4)]


def hostile_ints() -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(HOSTILE_INTS + NUMPY_INTS + NOT_INTS), st.integers(-3, 12))


def outcome(f: Callable[[], Any]) -> Any:
    """``f()``, or the ``TypeError``/``ValueError`` it raised (any other exception fails the test, naming itself)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return f()
        except (TypeError, ValueError) as err:
            bad_numpy = type(err).__module__.startswith("numpy")  # e.g. UFuncTypeError: numpy's message, not ours
            if bad_numpy:
                pytest.fail(f"numpy's own {type(err).__name__} leaked: {err}")
            if not str(err):
                pytest.fail("an error needs a message")
            return err


def is_int(value: Any, low: int, high: int) -> bool:
    """True for a genuine integer (not bool) in ``[low, high]``: an input the API must accept."""
    return (isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
            and low <= int(value) <= high)


def check_schedule(s: Schedule, n: int) -> None:
    """Independent invariants of a schedule: positive sizes summing to n, passes >= 0 whose non-zero entries are sizes."""
    sizes = [int(x) for x in s.sizes]
    passes = [int(x) for x in s.passes]
    assert all(x >= 1 for x in sizes) and sum(sizes) == n == s.n
    assert all(p >= 0 for p in passes) and [p for p in passes if p] == sizes
    assert list(s.breakpoints) == [sum(sizes[:j]) for j in range(len(sizes) + 1)]


# ---- practice rules: integer arguments --------------------------------------------------------------------------------

RULES: dict[str, Callable[..., Schedule]] = {
    "equal": practice.equal, "diffusers_uniform": practice.diffusers_uniform, "cosine": practice.cosine,
    "maskgit_uniform": lambda n, k: practice.maskgit(n, k, "uniform"), "dream": practice.dream, "dllm": practice.dllm,
    "dllm_cosine": lambda n, k: practice.dllm(n, k, "cosine"),
}


@FAST
@given(rule=st.sampled_from(sorted(RULES)), n=hostile_ints(), k=hostile_ints())
def test_practice_rules_take_only_sane_integers(rule: str, n: Any, k: Any) -> None:
    result = outcome(lambda: RULES[rule](n, k))
    if isinstance(result, Schedule):
        check_schedule(result, int(n))
        assert result.passes.size == int(k) or rule in ("dllm", "dllm_cosine", "dream")
    if is_int(n, 1, 2**40) and is_int(k, 1, 64):
        assert isinstance(result, Schedule), f"valid ({n}, {k}) refused: {result}"


@FAST
@given(g=hostile_ints(), b=hostile_ints(), s=hostile_ints(), fast=st.booleans())
def test_llada_block_rules_take_only_sane_integers(g: Any, b: Any, s: Any, fast: bool) -> None:
    rule = practice.fastdllm_blocks if fast else practice.llada_blocks
    result = outcome(lambda: rule(g, b, s))
    if isinstance(result, BlockSchedule):
        assert result.n == int(g) and all(x.n == int(b) for x in result.blocks)


@FAST
@given(method=st.one_of(st.sampled_from(["cosine", "uniform", "pow1", "pow2", "pow3", "pow20", "pow200", "pow0",
                                         "pow-1", "pow\u00b2", "pow\u0663", "log", "exp", "", "COSINE", "pow1e3"]),
                        st.text(max_size=6), st.sampled_from([None, 3, b"cosine", ["cosine"]])),
       n=st.integers(1, 200), k=st.integers(1, 200))
def test_maskgit_methods(method: Any, n: int, k: int) -> None:
    result = outcome(lambda: practice.maskgit(n, k, method))
    if isinstance(result, Schedule):
        check_schedule(result, n)
        assert result.passes.size == k
    if method in ("cosine", "uniform", "pow1", "pow2", "pow3", "log", "exp"):
        assert isinstance(result, Schedule)


# ---- Schedule / BlockSchedule --------------------------------------------------------------------------------------

HOSTILE_SIZES: list[Any] = [[1, 2], [3], [0, 3], [-1, 4], [1.5, 1.5], [2.0, 1.0], [], [[1, 2]], "12", None, 5, [True, True],
                            np.array([2**64 - 1, 5], dtype=np.uint64), np.array([2**63], dtype=np.uint64),
                            [2**62, 2**62, 2**62], [2**63 - 1, 1], np.array([1, 2], dtype=np.int8),
                            np.array([3, 1, 2])[::2], np.asfortranarray(np.array([[1, 2]]))[0], [np.nan, 1],
                            np.array([1, 2], dtype=np.float32), [10**30]]
HOSTILE_REALS: list[Any] = [None, 0.0, 1.5, -2.0, float("nan"), float("inf"), -float("inf"), 1e308, 5e-324, "0.5", True,
                            np.float32(0.25), np.float64(2.0), np.int64(3), [1.0], 1 + 1j, Fraction(1, 3),
                            np.array(0.5), np.array([0.5])]


@FAST
@given(sizes=st.sampled_from(HOSTILE_SIZES), error=st.sampled_from(HOSTILE_REALS),
       bound=st.sampled_from(HOSTILE_REALS), name=st.sampled_from(["x", "", None, 3, b"x"]))
def test_schedule_constructor(sizes: Any, error: Any, bound: Any, name: Any) -> None:
    result = outcome(lambda: Schedule(sizes, error=error, bound=bound, name=name))
    if isinstance(result, Schedule):
        raw = [int(x) for x in np.asarray(sizes).ravel()]
        check_schedule(result, sum(raw))
        assert result.sizes.tolist() == raw
        for value in (result.error, result.bound):
            assert value is None or (type(value) is float and not math.isnan(value))
        text = outcome(result.to_json)
        if isinstance(text, str):
            json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
            assert Schedule.from_json(text) == result
        else:
            assert math.isinf(result.error or 0.0) or math.isinf(result.bound or 0.0)


def _json_containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=3)


json_values = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True) |
                           st.text(max_size=4), _json_containers, max_leaves=12)
json_sizes = st.one_of(st.lists(st.integers(-2, 2**64), min_size=0, max_size=5), json_values)


@FAST
@given(data=st.fixed_dictionaries({}, optional={"sizes": json_sizes, "passes": json_sizes, "error": json_values,
                                                "bound": json_values, "name": json_values, "n": json_values,
                                                "k": json_values}),
       cut=st.integers(0, 200), junk=st.sampled_from(["", "]", "{", "\x00", "NaN", "[" * 5000, "\ud800"]))
def test_schedule_from_json_hostile(data: dict[str, Any], cut: int, junk: str) -> None:
    text = json.dumps(data)
    for candidate in (data, text, text.encode(), text[:cut] + junk, (text[:cut] + junk).encode("utf-8", "replace")):
        result = outcome(lambda candidate=candidate: Schedule.from_json(candidate))
        if isinstance(result, Schedule):
            check_schedule(result, result.n)
            assert json.loads(result.to_json())["sizes"] == result.tolist()
        block = outcome(lambda candidate=candidate: BlockSchedule.from_json({"blocks": [candidate, candidate]}))
        assert isinstance(block, (BlockSchedule, TypeError, ValueError))


@FAST
@given(batch=st.one_of(st.sampled_from([b for b in HOSTILE_INTS + NUMPY_INTS + NOT_INTS if not (type(b) is int and b == 2**24 + 1)]),
                       st.integers(-3, 12)), sizes=st.lists(st.integers(1, 4), min_size=1, max_size=4))
def test_transfer_tables_refuse_huge_batches(batch: Any, sizes: list[int]) -> None:
    s = Schedule(sizes)
    for table in (outcome(lambda: s.num_transfer_tokens(batch)),
                  outcome(lambda: BlockSchedule((s, s)).num_transfer_tokens(batch))):
        if isinstance(table, np.ndarray):  # (BlockSchedule: batch=None means no batch axis)
            assert is_int(batch, 1, 2**20) or (batch is None and table.ndim == 2)
            assert table.dtype == np.int64 and (table.reshape(-1, len(sizes)) == sizes).all()
        elif is_int(batch, 1, 2**20):
            pytest.fail(f"valid batch {batch} refused: {table}")


@FAST
@given(t=st.sampled_from([0.0, 0.5, 1.0, -0.1, 1.1, float("nan"), "0.5", None, [0.0, 1.0], np.float32(0.5), True, 1j,
                          np.array([[0.25]]), np.int64(1)]))
def test_mask_ratio_function_inputs(t: Any) -> None:
    r = Schedule([1, 2, 3]).mask_ratio_function()
    result = outcome(lambda: r(t))
    if not isinstance(result, Exception):
        values = np.asarray(result, dtype=np.float64)
        assert ((values >= 0) & (values <= 1)).all()


# ---- models: predictors that return garbage --------------------------------------------------------------------------

def _probs(kind: str, shape: tuple[int, int], q: int) -> Any:
    base = np.full((*shape, q), 1.0 / q)
    table: dict[str, Callable[[], Any]] = {
        "ok": lambda: base, "float32_ninth": lambda: np.full((*shape, q), 1.0 / q, dtype=np.float32),
        "float16": lambda: base.astype(np.float16), "fortran": lambda: np.asfortranarray(base),
        "strided": lambda: np.repeat(base, 2, axis=2)[..., ::2], "broadcast": lambda: np.broadcast_to(base[:1], base.shape),
        "onehot_int": lambda: np.eye(q, dtype=np.int64)[np.zeros(shape, dtype=np.int64)],
        "list": base.tolist, "ragged": lambda: [[1.0], [1.0, 2.0]], "none": lambda: None,
        "string": lambda: "probabilities", "complex": lambda: base + 0j, "object": lambda: base.astype(object),
        "bool": lambda: base > 0, "nan": lambda: np.full(base.shape, np.nan), "negative": lambda: base - 1.0,
        "unnormalised": lambda: base * 0.5, "dbl_max": lambda: np.full(base.shape, 1.7e308),
        "denormal": lambda: np.where(np.arange(q) == 0, 1.0, 5e-324) * np.ones(base.shape),
        "wrong_shape": lambda: base[:, :-1] if shape[1] > 1 else base[None], "q0": lambda: base[..., :0],
        "transposed": lambda: base.transpose(1, 0, 2), "scalar": lambda: 0.5,
    }
    return table[kind]()


PROB_KINDS = ["ok", "float32_ninth", "float16", "fortran", "strided", "broadcast", "onehot_int", "list", "ragged",
              "none", "string", "complex", "object", "bool", "nan", "negative", "unnormalised", "dbl_max", "denormal",
              "wrong_shape", "q0", "transposed", "scalar"]
VALID_PROBS = {"ok", "float32_ninth", "float16", "fortran", "strided", "broadcast", "onehot_int", "list", "denormal"}


def _reference(p: NDArray, tokens: NDArray, mask: NDArray, target: str) -> NDArray:
    """Per-position scores by plain Python arithmetic on float64 values: -log p(true), or -sum p log p."""
    out = np.zeros(mask.shape)
    for b, i in zip(*np.nonzero(mask)):
        row = [float(v) for v in p[b, i]]
        if target == "cross_entropy":  # a true token of probability 0 costs +inf nats (check_scores refuses it later)
            out[b, i] = -math.log(row[tokens[b, i]]) if row[tokens[b, i]] > 0 else math.inf
        else:
            out[b, i] = -math.fsum(v * math.log(v) for v in row if v > 0)
    return out


NDArray = np.ndarray


@FAST
@given(kind=st.sampled_from(PROB_KINDS), batch=st.integers(1, 3), n=st.integers(1, 4), q=st.integers(1, 9),
       target=st.sampled_from(["cross_entropy", "entropy"]), seed=st.integers(0, 2**32 - 1))
def test_probability_model_garbage(kind: str, batch: int, n: int, q: int, target: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, q, size=(batch, n))
    mask = rng.random((batch, n)) < 0.7
    model = ProbabilityModel(lambda t, m: _probs(kind, t.shape, q))
    result = outcome(lambda: model.score(tokens, mask, target))
    if kind in VALID_PROBS:
        assert isinstance(result, np.ndarray), f"valid {kind} probabilities refused: {result}"
    if isinstance(result, np.ndarray):
        assert result.shape == (batch, n) and result.dtype == np.float64 and not np.isnan(result).any()
        assert (result >= 0).all() and (result[~mask] == 0).all()
        assert np.isfinite(result).all() or (kind == "onehot_int" and target == "cross_entropy")
        p = np.asarray(_probs(kind, (batch, n), q))
        tol = 1e-12 if p.dtype in (np.float64, np.int64) else (1e-6 if p.dtype == np.float32 else 3e-3)
        np.testing.assert_allclose(result, _reference(p, tokens, mask, target), rtol=tol, atol=tol)
    drawn = outcome(lambda: model.sample(tokens, mask, rng))
    if isinstance(drawn, np.ndarray):
        assert drawn.shape == (batch, n) and (drawn[~mask] == tokens[~mask]).all()
        assert ((drawn >= 0) & (drawn < q)).all()
    if kind in VALID_PROBS:
        assert isinstance(drawn, np.ndarray)


SCORE_KINDS: dict[str, Callable[[tuple[int, int]], Any]] = {
    "ok": np.ones, "float32": lambda s: np.ones(s, np.float32), "int": lambda s: np.ones(s, np.int64),
    "list": lambda s: np.ones(s).tolist(), "nan": lambda s: np.full(s, np.nan), "inf": lambda s: np.full(s, np.inf),
    "negative": lambda s: -np.ones(s), "tiny_negative": lambda s: np.full(s, -1e-12), "huge": lambda s: np.full(s, 1e308),
    "above_max": lambda s: np.full(s, MAX_SCORE * 10), "shape": lambda s: np.ones((*s[::-1], 1)), "none": lambda s: None,
    "string": lambda s: "x", "bool": lambda s: np.ones(s, bool), "complex": lambda s: np.ones(s) + 0j,
    "ragged": lambda s: [[1.0], [1.0, 2.0]], "denormal": lambda s: np.full(s, 5e-324),
}


@FAST
@given(kind=st.sampled_from(sorted(SCORE_KINDS)), batch=st.integers(0, 3), n=st.integers(1, 4),
       mask_kind=st.sampled_from(["bool", "int", "list", "fortran"]))
def test_check_scores_garbage(kind: str, batch: int, n: int, mask_kind: str) -> None:
    mask = np.ones((batch, n), dtype=bool)
    given_mask: Any = {"bool": mask, "int": mask.astype(int), "list": mask.tolist(),
                       "fortran": np.asfortranarray(mask)}[mask_kind]
    result = outcome(lambda: check_scores(SCORE_KINDS[kind]((batch, n)), given_mask))
    if isinstance(result, np.ndarray):
        assert result.shape == (batch, n) and np.isfinite(result).all() and (result >= 0).all()
        assert (result <= MAX_SCORE).all()
    valid = kind in ("ok", "float32", "int", "tiny_negative", "denormal") and mask_kind in ("bool", "list", "fortran")
    if valid and (batch or mask_kind != "list"):  # [] is a float array of shape (0,): ambiguous
        assert isinstance(result, np.ndarray), f"valid scores refused: {result}"


# ---- estimation: sizes and arguments ---------------------------------------------------------------------------------

def uniform_predictor(q: int = 2) -> Callable[[NDArray, NDArray], NDArray]:
    return lambda t, m: np.full((*t.shape, q), 1.0 / q)


@SLOW
@given(reps=hostile_ints(), batch_size=hostile_ints(), seed=st.sampled_from([None, 0, 7, -1, 2.5, "1", 2**80]),
       stream=st.sampled_from([0, 1, -1, 2.0]), grid=st.sampled_from([None, [0], [1.0], [2.5], [-1], [99], [],
                                                                        [[1]], "1", [True], [np.nan]]))
def test_plan_estimate_arguments(reps: Any, batch_size: Any, seed: Any, stream: Any, grid: Any) -> None:
    plan = outcome(lambda: E.plan_estimate((3, 4), reps=reps, batch_size=batch_size, seed=seed, stream=stream,
                                           grid=grid))
    if isinstance(plan, E.EstimatePlan):
        assert plan.reps >= 1 and plan.jobs_per_batch >= 1 and plan.seed >= 0 and plan.stream >= 0
        assert plan.grid[0] == 0 and plan.grid[-1] == 3 and (np.diff(plan.grid) > 0).all()
        if int(plan.reps) <= 4:
            result = E.run_shard(uniform_predictor(), np.zeros((3, 4), dtype=np.int64), plan)
            assert np.allclose(result.values, math.log(2))
    valid_grid = grid is None or (isinstance(grid, list) and grid in ([0], [1.0]) and type(grid[0]) is not bool)
    if is_int(reps, 1, 7) and is_int(batch_size, 1, 2**24) and valid_grid and stream in (0, 1) \
            and (seed is None or is_int(seed, 0, 2**80)):
        assert isinstance(plan, E.EstimatePlan), f"valid arguments refused: {plan}"


@SLOW
@given(shape=st.sampled_from([(2, 1), (2, 3), (1, 3), (3, 0), (10**12, 4), (2, 10**12), (2.0, 3), (2, 3, 4), "23",
                              None, (np.int64(2), np.uint8(3)), (True, 3)]))
def test_plan_estimate_shapes(shape: Any) -> None:
    plan = outcome(lambda: E.plan_estimate(shape))
    if isinstance(plan, E.EstimatePlan):
        assert plan.rows >= 2 and plan.n >= 1 and plan.rows * plan.n <= 100


@SLOW
@given(data=st.sampled_from(["ok", "float", "bool", "one_row", "3d", "uint64", "fortran", "strided", "list", "empty"]),
       target=st.sampled_from(["cross_entropy", "entropy", "xx", None]), block=st.sampled_from([None, 1, 2, 0, 2.0]))
def test_estimate_curve_data(data: str, target: Any, block: Any) -> None:
    base = np.arange(12).reshape(3, 4) % 2
    rows: Any = {"ok": base, "float": base.astype(float), "bool": base > 0, "one_row": base[:1], "3d": base[..., None],
                 "uint64": base.astype(np.uint64), "fortran": np.asfortranarray(base),
                 "strided": np.repeat(base, 2, axis=1)[:, ::2], "list": base.tolist(), "empty": base[:, :0]}[data]
    if block is None:
        est = outcome(lambda: E.estimate_curve(uniform_predictor(), rows, target=target, seed=1))
    else:
        est = outcome(lambda: E.estimate_block_curves(uniform_predictor(), rows, block_length=block, target=target,
                                                      seed=1))
    if data in ("ok", "uint64", "fortran", "strided", "list") and target in ("cross_entropy", "entropy") \
            and (block is None or is_int(block, 1, 2)):
        assert not isinstance(est, Exception), f"valid data refused: {est}"
    if isinstance(est, (E.CurveEstimate, E.BlockCurveEstimate)):
        curves = [est] if isinstance(est, E.CurveEstimate) else list(est.curves)
        for c in curves:  # a uniform predictor: h_m = log 2 at every m, so Z = 0 exactly
            np.testing.assert_allclose(c.h, math.log(2), rtol=1e-15)
            assert np.abs(c.Z).max() <= 1e-15


# ---- simulate / expected_kl ------------------------------------------------------------------------------------------

@SLOW
@given(num=hostile_ints(), batch=hostile_ints(), seed=st.sampled_from([None, 0, -1, 2.5, "x", np.int64(3)]),
       schedule=st.sampled_from([[1, 1], [2], [[1], [1]], [1], [3], [1.0, 1.0], "ab", [], None,
                                 np.array([2**64 - 1, 3], dtype=np.uint64), Schedule([2])]))
def test_simulate_and_expected_kl_arguments(num: Any, batch: Any, seed: Any, schedule: Any) -> None:
    law = np.full((2, 2), 0.25)
    drawn = outcome(lambda: simulate(law, schedule, num, seed=seed, batch_size=batch))
    if isinstance(drawn, np.ndarray):
        assert drawn.shape == (int(num), 2) and ((drawn == 0) | (drawn == 1)).all()
    kl = outcome(lambda: expected_kl(law, None, schedule, num, seed=seed, batch_size=batch))
    if isinstance(kl, simulate_module.KLEstimate):  # independent uniform law: every schedule has error 0
        assert kl.values.shape == (int(num),) and np.allclose(kl.values, 0.0, atol=1e-12)
    if is_int(num, 2, 7) and is_int(batch, 1, 2**24) and isinstance(schedule, list) and len(schedule) in (1, 2) \
            and schedule not in ([1], [3], [1.0, 1.0]) \
            and (seed is None or is_int(seed, 0, 10)):
        assert isinstance(drawn, np.ndarray) and isinstance(kl, simulate_module.KLEstimate)


# ---- min_steps(confidence=) ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def estimate() -> E.CurveEstimate:
    return E.estimate_curve(uniform_predictor(), np.zeros((3, 4), dtype=np.int64), seed=0)


@pytest.mark.parametrize("confidence", [0.9, np.float32(0.9), Fraction(1, 2), 0, 1, -0.5, 1.5, float("nan"), True,
                                        "0.9", None, [0.9]])
@pytest.mark.parametrize("eps", [0.1, 0.0, -1.0, float("nan"), float("inf"), "0.1", None])
def test_min_steps_confidence_arguments(estimate: E.CurveEstimate, confidence: Any, eps: Any) -> None:
    result = outcome(lambda: min_steps(estimate, eps, confidence=confidence))
    if isinstance(result, Schedule):
        check_schedule(result, 4)
        assert confidence is None or (result.bound is not None and result.bound <= max(float(eps), 0.0) + 1e-12)
    valid_c = not isinstance(confidence, (bool, str, list)) and confidence is not None and 0 < float(confidence) < 1
    if valid_c and eps in (0.1, 0.0):
        assert isinstance(result, Schedule)


# ---- regression tests, one per bug found ------------------------------------------------------------------------------

def test_schedule_refuses_wrapping_sizes() -> None:
    with pytest.raises(ValueError, match="sizes must be <= 2"):
        Schedule(np.array([2**63], dtype=np.uint64))  # was a schedule with n = -2**63
    with pytest.raises(ValueError, match="sizes must sum to at most"):
        Schedule([2**62, 2**62, 2**62])  # int64 breakpoints wrapped to a negative n
    with pytest.raises(ValueError, match="passes must be"):
        Schedule([3], passes=np.array([2**64 - 1, 3], dtype=np.uint64))  # a pass of -1 slipped through
    with pytest.raises(ValueError, match="sizes must be <= 2"):
        E.estimate_curve(uniform_predictor(), np.zeros((2, 4), dtype=np.int64), seed=0).schedule_error(
            np.array([2**64 - 1, 5], dtype=np.uint64))  # as_sizes read [-1, 5], summing to n = 4


def test_schedule_labels_are_finite_reals_and_strings() -> None:
    with pytest.raises(TypeError, match="error must be a real number"):
        Schedule([1, 2], error="0.5")  # was silently float("0.5")
    with pytest.raises(ValueError, match="error must be a number"):
        Schedule([1, 2], error=float("nan"))  # to_json then printed NaN (not JSON)
    with pytest.raises(ValueError, match="strict JSON"):
        Schedule.from_json('{"sizes": [1, 2], "error": NaN}')
    with pytest.raises(ValueError, match="strict JSON"):
        Schedule([1, 2], bound=float("inf")).to_json()  # printed Infinity
    with pytest.raises(ValueError, match="strict JSON"):
        BlockSchedule((Schedule([1], error=float("inf")),)).to_json()
    with pytest.raises(TypeError, match="name must be a string"):
        Schedule.from_json('{"sizes": [1], "name": {"a": 1}}')
    with pytest.raises(TypeError, match="bound must be a real number"):
        Schedule.from_json('{"sizes": [1], "bound": [1]}')
    assert Schedule([1, 2], error=np.float32(0.5), bound=np.array(1.0)).bound == 1.0


def test_from_json_hostile_text_is_one_value_error() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        Schedule.from_json("[" * 100000)  # was RecursionError
    with pytest.raises(ValueError, match="nested too deeply"):
        BlockSchedule.from_json('{"blocks": ' + "[" * 100000 + "]" * 100000 + "}")
    with pytest.raises(ValueError, match="not valid JSON"):
        Schedule.from_json(b"\xff\xfe")
    with pytest.raises(ValueError, match="passes must be a non-empty"):
        Schedule.from_json('{"sizes": [1], "passes": []}')  # was TypeError about float64
    with pytest.raises(TypeError, match="blocks must be a non-empty sequence"):
        BlockSchedule(5)  # type: ignore[arg-type]


def test_transfer_tables_check_memory_first() -> None:
    with pytest.raises(ValueError, match="transfer table would need"):
        Schedule([1, 2]).num_transfer_tokens(10**12)  # was MemoryError
    with pytest.raises(ValueError, match="transfer table would need"):
        BlockSchedule((Schedule([1, 2]),)).num_transfer_tokens(10**12)


def test_mask_ratio_function_refuses_strings() -> None:
    with pytest.raises(TypeError, match="t must be a real number"):
        Schedule([1, 2]).mask_ratio_function()("0.5")  # was silently 0.5


def test_practice_rules_refuse_int64_overflow() -> None:
    with pytest.raises(ValueError, match="n must be >= 1 and <= 4611686018427387904"):
        practice.equal(2**64, 1)  # was OverflowError
    with pytest.raises(ValueError, match="gen_length must be >= 1 and <= 4611686018427387904"):
        practice.llada_blocks(2**64, 2**64, 1)
    with pytest.raises(ValueError, match="n must be >= 1 and <= 4611686018427387904"):
        practice.maskgit(2**63 - 1, 7)  # float32(n) = 2**63 overflowed int64 counts
    check_schedule(practice.equal(2**62, 3), 2**62)


def test_maskgit_high_powers_are_xla_power_not_garbage() -> None:
    # E >= 4 is XLA's power(t, E), not float32 products (whose j**E overflowed to inf * 0 = NaN): 1 - t**20 in [0, 1]
    check_schedule(practice.maskgit(1000, 999, "pow20"), 1000)
    ratios = practice.maskgit_ratios(1000, 999, "pow20")
    assert np.isfinite(ratios).all() and (np.diff(ratios) <= 0).all()
    check_schedule(practice.maskgit(10, 2, "pow200"), 10)  # k = 2: j**E = 1, (1/2)**E = 0, ratio 1: fine
    assert practice.maskgit(10, 1, "pow99999999").passes.tolist() == [10]  # no loop of 10**8 steps
    with pytest.raises(TypeError, match="method must be a string"):
        practice.maskgit_ratios(10, 3, 5)  # type: ignore[arg-type]  # was AttributeError
    with pytest.raises(ValueError, match="method must be one of"):
        practice.maskgit(10, 3, "pow\u00b2")  # was int()'s "invalid literal"


def test_peer_count_functions_validate_their_inputs() -> None:
    with pytest.raises(ValueError, match="n must be >= 1"):
        practice.maskgit_counts(0, np.array([0.5], np.float32))  # gave a count of -1
    with pytest.raises(ValueError, match="ratios must not be NaN"):
        practice.maskgit_counts(10, np.array([np.nan], np.float32))
    # a user's infinite ratio is refused (issue 28); MaskGIT's own log schedule at n = 1 (log2(1) = 0 divides) still
    # clips its infinite ratios inside maskgit(), as jnp.clip does
    with pytest.raises(ValueError, match="ratios must be finite"):
        practice.maskgit_counts(10, np.array([0.5, np.inf], np.float32))
    assert practice.maskgit(1, 3, "log").passes.tolist() == [0, 0, 1]
    with pytest.raises(ValueError, match="k must be >= 1"):
        practice.maskgit_ratios(10, 0)
    with pytest.raises(ValueError, match="alpha = 1 at t = 0"):
        practice.dllm_counts(10, np.zeros(4, np.float32))  # revealed nothing of n = 10
    with pytest.raises(ValueError, match="alpha_grid must be < 1"):
        practice.dllm_counts(10, np.ones(3, np.float32))  # 0 / 0
    with pytest.raises(ValueError, match="n must be >= 1"):
        practice.dllm_counts(-5, np.array([1, 0.5, 0], np.float32))
    with pytest.raises(TypeError, match="alpha must be"):
        practice.dllm(10, 3, 5)  # type: ignore[arg-type]


def test_estimate_guards_run_before_allocating() -> None:
    with pytest.raises(ValueError, match="generated positions would need"):
        E.plan_estimate((2, 10**12))  # was MemoryError in np.arange
    with pytest.raises(ValueError, match="one model call's batch"):
        E.plan_estimate((2, 3), reps=10**12)  # run_shard allocated (10**12, n)
    with pytest.raises(ValueError, match="stream must be >= 0"):
        E.plan_estimate((2, 3), stream=-1)  # failed later inside SeedSequence
    with pytest.raises(TypeError, match="hidden must be a boolean array"):
        E.plan_estimate((2, 3), hidden="abc")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="data_shape must be a pair"):
        E.plan_estimate(5)  # type: ignore[arg-type]


def test_shards_are_checked_against_the_plan() -> None:
    rows = np.zeros((2, 3), dtype=np.int64)
    plan = E.plan_estimate((2, 3), seed=1)
    result = E.run_shard(uniform_predictor(), rows, plan)
    with pytest.raises(TypeError, match="batches must be a range"):
        E.run_shard(uniform_predictor(), rows, plan, [0])  # type: ignore[arg-type]  # was AttributeError
    with pytest.raises(TypeError, match="plan must be an EstimatePlan"):
        E.run_shard(uniform_predictor(), rows, "plan")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="results must be ShardResults"):
        E.merge_shards(plan, ["x"])  # type: ignore[list-item]
    import dataclasses

    with pytest.raises(ValueError, match=r"within 0\.\.1"):
        E.merge_shards(plan, [dataclasses.replace(result, batches=range(5))])  # was silently accepted
    with pytest.raises(ValueError, match="hold 6 values"):
        E.merge_shards(plan, [dataclasses.replace(result, values=np.zeros(100))])
    with pytest.raises(ValueError, match="non-finite"):
        E.merge_shards(plan, [dataclasses.replace(result, values=np.full((6, 2), np.nan))])
    np.testing.assert_allclose(E.merge_shards(plan, [result]).h, math.log(2), rtol=1e-15)


def test_shards_from_another_plan_are_refused() -> None:
    # issue 19: merge_shards placed values run under another grid / seed / estimator without a word
    import dataclasses

    rows = np.zeros((2, 3), dtype=np.int64)
    plan = E.plan_estimate((2, 3), seed=1)
    result = E.run_shard(uniform_predictor(), rows, plan)
    for other in (E.plan_estimate((2, 3), seed=2), E.plan_estimate((2, 3), seed=1, target="entropy"),
                  E.plan_estimate((2, 3), seed=1, grid=[0, 2]), E.plan_estimate((2, 3), seed=1, reps=2),
                  E.plan_estimate((2, 3), seed=1, region=np.array([True, True, False])),
                  E.plan_estimate((2, 3), seed=1, estimator="independent")):
        with pytest.raises(ValueError, match="another plan"):
            E.merge_shards(other, [result])
    with pytest.raises(ValueError, match="model_calls"):
        E.merge_shards(plan, [dataclasses.replace(result, model_calls=-1)])
    with pytest.raises(ValueError, match="model_seconds"):
        E.merge_shards(plan, [dataclasses.replace(result, model_seconds=float("nan"))])
    with pytest.raises(ValueError, match="model_seconds"):
        E.merge_shards(plan, [dataclasses.replace(result, model_seconds=-1.0)])
    with pytest.raises(ValueError, match="another plan"):
        E.merge_shards(plan, [dataclasses.replace(result, plan="0" * 32)])


def test_hand_built_plans_are_validated() -> None:
    import dataclasses

    plan = E.plan_estimate((4, 5), seed=1)
    with pytest.raises(ValueError, match="free must hold positions"):
        dataclasses.replace(plan, free=np.array([[0, 1, 2, 3, 7]]))  # was an IndexError inside run_shard
    with pytest.raises(ValueError, match="grid must be increasing from 0 to n - 1"):
        dataclasses.replace(plan, grid=np.array([0, 2]))  # no n - 1: the brackets need it
    with pytest.raises(ValueError, match="lists a position twice"):
        dataclasses.replace(plan, free=np.array([[0, 1, 1, 3, 4]]))
    with pytest.raises(ValueError, match="estimator"):
        dataclasses.replace(plan, estimator="paired")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="reps >= 1"):
        dataclasses.replace(plan, reps=0)


def test_shards_argument_is_checked_without_an_executor() -> None:
    rows = np.zeros((2, 3), dtype=np.int64)
    with pytest.raises(TypeError, match="shards must be an integer"):
        E.estimate_curve(uniform_predictor(), rows, shards=1.5)  # type: ignore[arg-type]  # was silently ignored
    with pytest.raises(ValueError, match="shards must be >= 1"):
        E.estimate_curve(uniform_predictor(), rows, shards=0)


def test_min_steps_at_eps_zero_at_n3000() -> None:
    # issue 19: min_steps(est, 0, confidence=) scanned k = 1..n with a solve each (7 s at n = 3000); now one
    # zero-cost cover (timed in benchmarks/bench_estimate.py)
    from mdmsched.models.exact import MarkovPredictor

    n = 3000
    model = MarkovPredictor(np.array([[0.9, 0.1], [0.2, 0.8]]), n)
    est = E.estimate_curve(model, model.sample(4, np.random.default_rng(0)), grid=[0, 1000, 2000, n - 1], seed=0)
    best = min_steps(est, 0.0, confidence=0.95)
    assert best.bound == 0.0 and best.n == n
    assert est.schedule_error(best).upper <= 1e-9  # zero certified error: every step covers a flat stretch of the band


@FAST
@given(n=hostile_ints(), points=hostile_ints())
def test_default_grid(n: Any, points: Any) -> None:
    grid = outcome(lambda: E.default_grid(n, points))
    if isinstance(grid, np.ndarray):  # both ends, strictly increasing, at most `points` values
        assert grid[0] == 0 and grid[-1] == int(n) - 1 and (np.diff(grid) > 0).all() and grid.size <= int(points)
    if is_int(n, 1, 2**62) and is_int(points, 2, 2**20):
        assert isinstance(grid, np.ndarray), f"valid ({n}, {points}) refused: {grid}"
    if is_int(n, -2**70, 0) or is_int(points, -2**70, 1):
        assert isinstance(grid, (TypeError, ValueError))  # were empty grids or a grid without n - 1


def test_default_grid_beyond_float64_precision() -> None:
    assert E.default_grid(2**62, 2).tolist() == [0, 2**62 - 1]  # linspace gave [0, 2**62]: m = n is off the grid
    assert E.default_grid(2**62, 3).tolist() == [0, 2**61, 2**62 - 1]  # (2**62 - 1) / 2 rounds half to even
    assert E.default_grid(2**53 + 1, 3).tolist() == [0, 2**52, 2**53]
    assert E.default_grid(100, 4).tolist() == [0, 33, 66, 99]
    with pytest.raises(ValueError, match="grid of 1000000000000 revealed counts"):
        E.default_grid(2**62, 10**12)  # was MemoryError


def test_block_grid_is_validated_before_clipping() -> None:
    rows = np.zeros((2, 6), dtype=np.int64)
    with pytest.raises(ValueError, match="grid must hold revealed counts"):
        E.estimate_block_curves(uniform_predictor(), rows, block_length=3, grid=[-5])  # was clipped to 0
    with pytest.raises(TypeError, match="grid must hold integers"):
        E.estimate_block_curves(uniform_predictor(), rows, block_length=3, grid=["a"])  # was numpy's UFuncTypeError
    est = E.estimate_block_curves(uniform_predictor(), rows, block_length=3, grid=[0, 99], seed=0)
    assert [c.grid.tolist() for c in est.curves] == [[0, 2], [0, 2]]


def test_huge_scores_are_refused_not_inf() -> None:
    class Huge:
        def score(self, t: NDArray, m: NDArray, target: str = "cross_entropy") -> NDArray:
            return np.full(t.shape, 1e308)

    with pytest.raises(ValueError, match="above 1e\\+100"):
        E.estimate_curve(Huge(), np.zeros((2, 3), dtype=np.int64))  # was "Z must be finite, but Z[0] = nan"
    with pytest.raises(ValueError, match="above 1e\\+100"):
        expected_kl(np.full((2, 2), 0.25), Huge(), [2], 4, seed=0)  # was KLEstimate(mean=inf, stderr=nan)


def test_model_output_errors_name_the_model() -> None:
    with pytest.raises(ValueError, match="predictor returned list that is not an array"):
        E.estimate_curve(lambda t, m: [[1], [1, 2]], np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(TypeError, match="mask must be a bool array"):
        check_scores(np.zeros((2, 3)), np.ones((2, 3), dtype=int))  # int masks were read as bool
    assert check_scores(np.zeros((0, 3)), np.ones((0, 3), dtype=bool)).shape == (0, 3)  # was a numpy reduction error
    onehot = ProbabilityModel(lambda t, m: np.eye(2, dtype=np.int64)[t])
    assert (onehot.score(np.zeros((1, 2), np.int64), np.ones((1, 2), bool), "entropy") == 0).all()  # UFuncTypeError


def test_simulate_guards_and_seeds() -> None:
    law = np.full((2, 2), 0.25)

    class Law:
        n = 10**12

        def __call__(self, t: NDArray, m: NDArray) -> None: ...
        def sample(self, b: int, rng: Any) -> None: ...
        def log_prob(self, x: NDArray) -> None: ...
        def log_marginal(self, x: NDArray, p: NDArray) -> None: ...

    with pytest.raises(ValueError, match="would need"):
        expected_kl(Law(), None, [10**12], 2)  # was MemoryError in np.arange
    with pytest.raises(ValueError, match="would need"):
        simulate(law, [10**12], 1, n=10**12)  # was MemoryError
    for seed, kind in ((-1, ValueError), ("x", TypeError), (2.7, TypeError)):
        with pytest.raises(kind, match="seed must be"):  # were numpy's SeedSequence messages
            simulate(law, [1, 1], 3, seed=seed)
        with pytest.raises(kind, match="seed must be"):
            expected_kl(law, None, [1, 1], 3, seed=seed)

    class Negative:
        def score(self, t: NDArray, m: NDArray, target: str = "cross_entropy") -> NDArray:
            return np.zeros(t.shape)

        def sample(self, t: NDArray, m: NDArray, rng: Any) -> NDArray:
            return np.full(t.shape, -3)

    with pytest.raises(ValueError, match="negative token ids"):
        simulate(Negative(), [1, 1], 2, n=2)  # were written into the samples

    class ScoreOnly:
        def score(self, t: NDArray, m: NDArray, target: str = "cross_entropy") -> NDArray:
            return np.zeros(t.shape)

    with pytest.raises(TypeError, match="model must be able to draw tokens"):
        simulate(ScoreOnly(), [2], 2, n=2)  # was AttributeError at the first step
    assert simulate(law, [1, 1], 2, seed=np.random.default_rng(0)).shape == (2, 2)


def test_empirical_kl_pseudocount_and_dense_law_length() -> None:
    law = np.full((2, 2), 0.25)
    samples = np.zeros((3, 2), dtype=np.int64)
    for bad, kind in ((-1.0, ValueError), (float("nan"), ValueError), (0, ValueError), ("1", TypeError)):
        with pytest.raises(kind, match="pseudocount must be"):  # were nan, nan, inf and numpy's UFuncTypeError
            simulate_module.empirical_kl(samples, law, pseudocount=bad)
    # (3 + 0.5) / (3 + 2) at x = 00 and 0.5 / 5 elsewhere, against 1/4 each: computed by hand
    expected = 0.25 * (math.log(0.25 / 0.7) + 3 * math.log(0.25 / 0.1))
    assert simulate_module.empirical_kl(samples, law) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="cover 3 positions, but 2 are generated"):
        simulate(law, [[1], [2]], 2)  # the length came from the schedule and the law refused a 3-token batch


def test_valid_edge_inputs_are_accepted() -> None:
    rows = np.zeros((2, 1), dtype=np.int64)  # n = 1
    assert E.estimate_curve(uniform_predictor(9), rows, batch_size=1, seed=0).Z.tolist() == [0.0]
    ninth = ProbabilityModel(lambda t, m: np.full((*t.shape, 9), 1 / 9, dtype=np.float32))
    est = E.estimate_curve(ninth, np.arange(6).reshape(2, 3), batch_size=1, seed=0)
    np.testing.assert_allclose(est.h, -math.log(np.float32(1 / 9)), rtol=1e-7)
    assert est.schedule_error([1, 1, 1], confidence=Fraction(1, 2)).value == pytest.approx(0.0, abs=1e-12)  # k = n
    kl = expected_kl(np.full((3, 3), 1 / 9), None, [1, 1], 2, batch_size=1, seed=0)
    assert np.allclose(kl.values, 0.0, atol=1e-12)
    check_schedule(practice.equal(1, 1), 1)
    check_schedule(practice.equal(5, 9), 5)  # k > n: LLaDA runs passes of 0
    assert Schedule([1]).num_transfer_tokens(1).tolist() == [[1]]


# Only the generation tests below need torch: guarded per test, so the rest of this file runs without it.
NEEDS_TORCH = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")


def _uniform() -> Any:
    """A torch module giving uniform logits over 4 symbols (built only where torch is installed)."""
    import torch

    class Uniform(torch.nn.Module):  # type: ignore[misc]
        def forward(self, x: Any) -> Any:
            return torch.zeros((*tuple(x.shape), 4))

    return Uniform()


@NEEDS_TORCH
@FAST
@given(table=st.sampled_from([[[2, 2]], [[4]], [[4, 0]], [[1, 1, 1, 1]], [[2**62, 2**62, 2**62, 2**62 + 4]],
                              np.array([[2**63, 2**63 + 4]], dtype=np.uint64), [[5, -1]], [[2.0, 2.0]], [[3]],
                              [[2], [2]], [2, 2], "22", None]),
       block=st.sampled_from([4, 2, 0, 4.0, -1, 10**12]), teacher=st.booleans())
def test_generate_tables(table: Any, block: Any, teacher: bool) -> None:
    from mdmsched.torch import TorchModel, generate

    model = TorchModel(_uniform(), mask_id=3, vocab=3)
    rows = np.zeros((2, 4), dtype=np.int64)
    rng = np.random.default_rng(0)
    result = outcome(lambda: generate(model, rows, 0, table, block, rng=rng, teacher=rows if teacher else None))
    if not isinstance(result, Exception):
        tokens = result[0] if teacher else result
        assert tokens.shape == (2, 4) and ((tokens >= 0) & (tokens < 3)).all()
        if teacher:
            np.testing.assert_allclose(result[1], 4 * math.log(3), rtol=1e-7)  # float32 logits
    valid = isinstance(table, list) and table in ([[2, 2]], [[4]], [[4, 0]], [[1, 1, 1, 1]]) \
        and isinstance(table[0][0], int) and is_int(block, 4, 10**12)
    if valid:
        assert not isinstance(result, Exception), f"valid table refused: {result}"


@NEEDS_TORCH
def test_generate_regressions() -> None:
    from mdmsched.torch import TorchModel, generate

    model = TorchModel(_uniform(), mask_id=3, vocab=3)
    rows = np.zeros((2, 4), dtype=np.int64)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="got an entry"):
        generate(model, rows, 0, np.array([[2**62, 2**62, 2**62, 2**62 + 4]]), 4, rng=rng)  # OverflowError
    with pytest.raises(ValueError, match="got an entry"):
        generate(model, rows, 0, np.array([[2**63, 2**63 + 4]], dtype=np.uint64), 4, rng=rng)  # ran, wrong reveals
    with pytest.raises(ValueError, match="mask_id must be"):
        TorchModel(_uniform(), mask_id=2**70)  # was OverflowError at the first call
    with pytest.raises(TypeError, match="model must have a sample"):
        generate(None, rows, 0, [[4]], 4, rng=rng)  # type: ignore[arg-type]  # was AttributeError
    with pytest.raises(TypeError, match="model must have a score"):
        generate(None, rows, 0, [[4]], 4, rng=rng, teacher=rows)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="device 'nope' is not usable"):
        TorchModel(_uniform(), mask_id=3, device="nope")  # was torch's RuntimeError

    class Garbage:
        def sample(self, t: NDArray, m: NDArray, rng: Any) -> NDArray:
            return np.full(t.shape, 1.7)

        def score(self, t: NDArray, m: NDArray, target: str = "cross_entropy") -> NDArray:
            return np.full(t.shape, -1.0)

    with pytest.raises(ValueError, match="expected integer token ids"):
        generate(Garbage(), rows, 0, [[4]], 4, rng=rng)  # 1.7 was truncated to token 1
    with pytest.raises(ValueError, match="negative value"):
        generate(Garbage(), rows, 0, [[4]], 4, rng=rng, teacher=rows)  # an nll of -4 nats was returned


# ---- issue 19: valid inputs must be accepted, invalid ones refused ---------------------------------------------------

def verdict(f: Callable[[], Any], valid: bool) -> Any:
    """:func:`outcome` judged against an independent oracle of validity: a *valid* input that is refused is a bug (the
    refusal is shown), and so is an *invalid* input that is accepted; an invalid input must end in a clean
    ``TypeError``/``ValueError`` with a message (never another exception type)."""
    result = outcome(f)
    refused = isinstance(result, (TypeError, ValueError))
    if valid and refused:
        pytest.fail(f"valid input refused: {type(result).__name__}: {result}")
    if not valid and not refused:
        pytest.fail(f"invalid input accepted, returning {type(result).__name__}")
    return result


#: Token arrays for a (2, 3) batch over q = 3 symbols, with position [0, 0] (always masked) carrying the oddity.
TOKEN_KINDS: dict[str, Callable[[NDArray], Any]] = {
    "int64": lambda t: t, "int8": lambda t: t.astype(np.int8), "uint64": lambda t: t.astype(np.uint64),
    "uint64_huge": lambda t: np.where(np.arange(3) == 0, np.uint64(2**63), t.astype(np.uint64)),
    "list": lambda t: t.tolist(), "fortran": np.asfortranarray, "strided": lambda t: np.repeat(t, 2, axis=1)[:, ::2],
    "float": lambda t: t.astype(float), "bool": lambda t: t > 0, "object": lambda t: t.astype(object),
    "negative": lambda t: np.where(np.arange(3) == 0, -1, t), "above_q": lambda t: np.where(np.arange(3) == 0, 3, t),
    "1d": lambda t: t[0], "3d": lambda t: t[..., None], "string": lambda t: "tokens",
}
MASK_KINDS: dict[str, Callable[[NDArray], Any]] = {
    "bool": lambda m: m, "list": lambda m: m.tolist(), "fortran": np.asfortranarray, "int": lambda m: m.astype(int),
    "shape": lambda m: m[:, :2], "none": lambda m: None,
}


@FAST
@given(tokens_kind=st.sampled_from(sorted(TOKEN_KINDS)), mask_kind=st.sampled_from(sorted(MASK_KINDS)),
       target=st.sampled_from(["cross_entropy", "entropy"]), mutate=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_model_inputs_valid_accepted_invalid_refused(tokens_kind: str, mask_kind: str, target: str, mutate: bool,
                                                     seed: int) -> None:
    rng = np.random.default_rng(seed)
    base_tokens = rng.integers(0, 3, size=(2, 3))
    base_mask = rng.random((2, 3)) < 0.5
    base_mask[0, 0] = True

    def predict(tokens: NDArray, mask: NDArray) -> NDArray:
        out = np.full((*tokens.shape, 3), 1.0 / 3)
        if mutate:  # a predictor that writes its inputs in place must not change what the caller sees
            tokens[...] = 99
            mask[...] = False
        return out

    tokens, mask = TOKEN_KINDS[tokens_kind](base_tokens.copy()), MASK_KINDS[mask_kind](base_mask.copy())
    snapshot = (np.array(tokens, dtype=object, copy=True), np.array(mask, dtype=object, copy=True)) \
        if isinstance(tokens, np.ndarray) and isinstance(mask, np.ndarray) else None
    shape_ok = tokens_kind not in ("1d", "3d", "string") and mask_kind not in ("shape", "none")
    kind_ok = tokens_kind not in ("float", "bool", "object", "string", "uint64_huge") and mask_kind != "int"
    # only cross-entropy reads the true token at a masked position: a symbol outside 0..q-1 is invalid there
    value_ok = target == "entropy" or tokens_kind not in ("negative", "above_q")
    model = ProbabilityModel(predict)
    scores = verdict(lambda: model.score(tokens, mask, target), shape_ok and kind_ok and value_ok)
    if isinstance(scores, np.ndarray):  # uniform over 3 symbols: log 3 nats at every masked position, 0 elsewhere
        np.testing.assert_allclose(scores, np.where(base_mask, math.log(3), 0.0), rtol=1e-15)
    drawn = verdict(lambda: model.sample(tokens, mask, rng), shape_ok and kind_ok)
    if isinstance(drawn, np.ndarray):
        assert (drawn[~base_mask] == np.asarray(tokens)[~base_mask]).all() and (drawn[base_mask] < 3).all()
    if snapshot is not None:
        assert np.array_equal(snapshot[0], np.asarray(tokens, dtype=object))
        assert np.array_equal(snapshot[1], np.asarray(mask, dtype=object))


@SLOW
@given(rows=st.integers(2, 5), length=st.integers(1, 4), batch_size=st.integers(1, 7), seed=st.integers(0, 99),
       cuts=st.lists(st.integers(0, 40), max_size=5), order=st.randoms(use_true_random=False),
       spoil=st.sampled_from(["none", "drop", "duplicate", "overlap"]))
def test_shard_partitions_merge_to_the_single_run(rows: int, length: int, batch_size: int, seed: int, cuts: list[int],
                                                  order: Any, spoil: str) -> None:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 2, size=(rows, length))
    plan = E.plan_estimate((rows, length), batch_size=batch_size, seed=seed)
    model = ProbabilityModel(lambda t, m: np.where(t[..., None] == np.arange(2), 0.75, 0.25))  # depends on the data
    whole = E.merge_shards(plan, [E.run_shard(model, data, plan)])
    edges = sorted({0, plan.num_batches, *(c % (plan.num_batches + 1) for c in cuts)})
    pieces = [range(a, b) for a, b in zip(edges[:-1], edges[1:])]
    shards = [E.run_shard(model, data, plan, piece) for piece in pieces]
    if spoil == "drop" and len(shards) > 1:
        shards.pop(order.randrange(len(shards)))
    elif spoil == "duplicate":
        shards.append(shards[order.randrange(len(shards))])
    elif spoil == "overlap" and plan.num_batches > 1:
        shards.append(E.run_shard(model, data, plan, range(1)))
    else:
        spoil = "none"
    order.shuffle(shards)
    merged = verdict(lambda: E.merge_shards(plan, shards), spoil == "none")
    if isinstance(merged, E.CurveEstimate):  # any partition, in any order: bit-identical to the single run
        np.testing.assert_array_equal(merged.h, whole.h)
        np.testing.assert_array_equal(merged.samples, whole.samples)
        assert merged.model_calls == whole.model_calls


@FAST
@given(start=st.integers(-2, 6), stop=st.integers(-2, 6), step=st.sampled_from([1, 2, -1]))
def test_run_shard_batches_valid_accepted_invalid_refused(start: int, stop: int, step: int) -> None:
    plan = E.plan_estimate((3, 2), batch_size=2, seed=0)  # 2 grid points x 3 rows = 6 jobs in 3 batches
    valid = step == 1 and start >= 0 and stop <= plan.num_batches
    result = verdict(lambda: E.run_shard(uniform_predictor(), np.zeros((3, 2), dtype=np.int64), plan,
                                         range(start, stop, step)), valid)
    if isinstance(result, E.ShardResult):
        np.testing.assert_allclose(result.values, math.log(2), rtol=1e-15)


_LABELS = st.one_of(st.none(), st.floats(0, 1e300), st.integers(0, 10**6))


@FAST
@given(sizes=st.lists(st.integers(1, 2**40), min_size=1, max_size=5), zeros=st.lists(st.integers(0, 5), max_size=3),
       as_floats=st.booleans(), error=_LABELS, bound=_LABELS, state_counts=st.booleans(),
       spoil=st.sampled_from(["none", "negative_error", "negative_bound", "nan_error", "n", "k", "half_size",
                              "zero_size", "wrap_size", "string_size", "passes_order", "name"]))
def test_schedule_json_valid_accepted_invalid_refused(sizes: list[int], zeros: list[int], as_floats: bool, error: Any,
                                                       bound: Any, state_counts: bool, spoil: str) -> None:
    passes = list(sizes)
    for at in zeros:  # zero passes anywhere: calls that reveal nothing
        passes.insert(at % (len(passes) + 1), 0)
    data: dict[str, Any] = {"sizes": [float(s) for s in sizes] if as_floats and max(sizes) < 2**53 else sizes,
                            "passes": passes, "error": error, "bound": bound, "name": "fuzz"}
    if state_counts:
        data.update(n=sum(sizes), k=len(sizes))
    spoils: dict[str, Callable[[], None]] = {
        "none": lambda: None, "negative_error": lambda: data.update(error=-1.0),
        "negative_bound": lambda: data.update(bound=-1e-300), "nan_error": lambda: data.update(error=float("nan")),
        "n": lambda: data.update(n=sum(sizes) + 1), "k": lambda: data.update(k=len(sizes) + 1),
        "half_size": lambda: data.update(sizes=[*sizes[:-1], sizes[-1] + 0.5]),
        "zero_size": lambda: data.update(sizes=[*sizes, 0]), "wrap_size": lambda: data.update(sizes=[2**64 - 1, 5]),
        "string_size": lambda: data.update(sizes=[str(s) for s in sizes]),
        "passes_order": lambda: data.update(passes=[*passes, 1]), "name": lambda: data.update(name=5),
    }
    spoils[spoil]()
    text = json.dumps(data) if spoil != "nan_error" else json.dumps(data).replace("NaN", "1e999")
    parsed = verdict(lambda: Schedule.from_json(text if spoil != "nan_error" else data), spoil == "none")
    if isinstance(parsed, Schedule):
        check_schedule(parsed, sum(sizes))
        assert parsed.tolist() == sizes and parsed.passes.tolist() == passes
        assert Schedule.from_json(parsed.to_json()) == parsed
    block = {"blocks": [data, data], "name": "b"}
    if spoil == "none" and state_counts:
        block.update(n=2 * sum(sizes), k=2 * len(sizes))
    if spoil == "none" and error is not None:
        block["error"] = float(error) + float(error)
    verdict(lambda: BlockSchedule.from_json(block), spoil == "none")
