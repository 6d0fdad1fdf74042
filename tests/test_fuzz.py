"""Fuzzing every public function and the raw extension with hostile arrays: each call returns a sane result or
raises ValueError/TypeError with a message -- never a crash, a hang, or another exception type."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mdmsched
from mdmsched import _core
from mdmsched import distributions as D
from mdmsched import schedules as S

ALLOWED = (ValueError, TypeError)
VALUES = [0.0, 1.0, 0.5, 0.25, -1.0, np.nan, np.inf, -np.inf, 1e308, 1e-320, 3.0, 2.0]


@st.composite
def hostile_arrays(draw: st.DrawFn) -> object:
    kind = draw(st.sampled_from(["float64", "float32", "int64", "int8", "uint8", "bool", "complex", "object",
                                 "strings", "list", "scalar", "none"]))
    ndim = draw(st.integers(0, 3))
    shape = tuple(draw(st.lists(st.integers(0, 5), min_size=ndim, max_size=ndim)))
    size = int(np.prod(shape)) if shape else 1
    values = np.array(draw(st.lists(st.sampled_from(VALUES), min_size=size, max_size=size)), dtype=float)
    if draw(st.booleans()) and size:  # a valid-looking curve or distribution now and then
        values = np.sort(np.abs(np.nan_to_num(values, posinf=1.0, neginf=0.0) % 7))
        values = values - values.flat[0] if draw(st.booleans()) else values / max(values.sum(), 1e-300)
    arr = values.reshape(shape)
    if kind == "float32":
        with np.errstate(over="ignore"):
            arr = arr.astype(np.float32)
    elif kind in ("int64", "int8", "uint8"):
        with np.errstate(invalid="ignore", over="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = np.nan_to_num(arr, nan=0, posinf=1, neginf=-1).astype(kind)
    elif kind == "bool":
        arr = arr > 0.3
    elif kind == "complex":
        arr = arr + 1j
    elif kind == "object":
        arr = arr.astype(object)
    elif kind == "strings":
        arr = arr.astype(str)
    elif kind == "list":
        return arr.tolist()
    elif kind == "scalar":
        return draw(st.sampled_from(VALUES))
    elif kind == "none":
        return None
    layout = draw(st.sampled_from(["plain", "reversed", "strided", "broadcast", "fortran"]))
    if arr.ndim and layout == "reversed":
        arr = arr[::-1]
    elif arr.ndim and layout == "strided":
        arr = np.repeat(arr, 2, axis=0)[::2]
    elif arr.ndim and layout == "broadcast":
        arr = np.broadcast_to(arr, (2,) + arr.shape)[0]
    elif layout == "fortran":
        arr = np.asfortranarray(arr)
    return arr


def _call(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return function(*args, **kwargs)
        except ALLOWED as exc:
            assert str(exc), f"{function.__name__} raised {type(exc).__name__} without a message"
            return None


FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(z=hostile_arrays(), k=st.sampled_from([-1, 0, 1, 2, 3, 5, 2**40, 2.5, None]), sizes=hostile_arrays())
def test_solver_api_survives(z, k, sizes):
    for method in ("auto", "naive", "hull", "lagrangian"):
        sched = _call(mdmsched.optimal_schedule, z, k, method=method)
        if sched is not None:
            assert sched.sizes.sum() == sched.n and (sched.sizes >= 1).all() and sched.error >= 0
            assert abs(mdmsched.schedule_error(z, sched) - sched.error) <= 1e-9 * max(1.0, sched.error)
    front = _call(mdmsched.error_frontier, z, k)
    if front is not None:
        assert np.all(np.isfinite(front))
    _call(mdmsched.schedule_error, z, sizes)
    _call(mdmsched.min_steps, z, 0.1)
    _call(mdmsched.project_monotone, z)
    _call(S.continuum_schedule, z, k)
    _call(S.li_cai_bound, z, sizes)
    _call(mdmsched.compare, z, k)
    _call(mdmsched.Schedule, sizes)


@FUZZ
@given(p=hostile_arrays(), rows=hostile_arrays(), threads=st.sampled_from([None, 1, 2, 0, -1, 1.5]))
def test_entropy_api_survives(p, rows, threads):
    for function in (mdmsched.subset_entropies, mdmsched.average_entropies, mdmsched.information_curve):
        out = _call(function, p, threads=threads)
        if out is not None:
            assert np.all(np.isfinite(out))
    _call(mdmsched.total_correlation, p)
    _call(mdmsched.dual_total_correlation, p)
    _call(mdmsched.Distribution.from_support, rows, p)
    _call(mdmsched.Distribution.from_samples, rows)
    _call(mdmsched.estimate_average_entropies, p, subsets_per_size=3, seed=0)
    _call(D.markov_curve, p, 5)
    _call(D.markov_chain, p, 3)


@FUZZ
@given(a=hostile_arrays(), b=hostile_arrays(), c=hostile_arrays(), k=st.integers(-3, 2**33),
       keep=st.booleans(), threads=st.integers(-2, 5000))
def test_raw_extension_never_crashes(a, b, c, k, keep, threads):
    _call(_core.schedule_error, a, b)
    _call(_core.solve, a, k, "auto")
    _call(_core.solve, a, k, "bogus")
    _call(_core.error_frontier, a, k, "hull")
    if np.asarray(a, dtype=object).ndim <= 3:
        _call(_core.dense_lattice, a, keep, threads)
        _call(_core.dense_marginal_entropies, a)
        _call(_core.dense_prefix_entropies, a)
    _call(_core.sparse_lattice, a, b, keep, threads)
    _call(_core.sparse_subset_entropies, a, b, c)
    _call(_core.sparse_marginal_entropies, a, b)
    _call(_core.solve_memory_bytes, k, k, "naive")
    _call(_core.min_steps, a, 0.1)
    _call(_core.min_steps, a, -float(k))


ODD = st.sampled_from([-5, 0, 1, 2, 3, 7, 10**12, 2.5, float("nan"), float("inf"), None, "3", True])


@FUZZ
@given(n=ODD, k=ODD, x=ODD, eps=ODD, fractions=hostile_arrays())
def test_schedule_constructors_survive(n, k, x, eps, fractions):
    small = isinstance(n, int) and not isinstance(n, bool) and n <= 10**6
    for build in (S.equal, S.cosine, S.cosine_squared, S.geometric):
        sched = _call(build, n, k) if small or not isinstance(n, int) else None
        if sched is not None:
            assert sched.sizes.sum() == n and (sched.sizes >= 1).all()
    if small:
        for build in (S.tc_schedule, S.dtc_schedule, S.austin_schedule):
            sched = _call(build, n, x, eps)
            if sched is not None:
                assert sched.sizes.sum() == n and (sched.sizes >= 1).all()
        _call(S.budget_schedule, n, k)
        _call(S.from_mask_fractions, n, fractions)
        _call(S.blockwise, n, k, total_steps=x)


@FUZZ
@given(data=hostile_arrays(), schedule=hostile_arrays(), count=ODD)
def test_model_tools_survive(data, schedule, count):
    model = mdmsched.ExactPredictor(np.full((2, 2, 2), 0.125))
    est = _call(mdmsched.estimate_curve, model, data, seed=0)
    if est is not None:
        assert est.Z[0] == 0 and np.all(np.isfinite(est.Z))
    samples = _call(mdmsched.simulate, model, schedule, count if count is not True else 1, seed=0)
    if samples is not None:
        assert samples.ndim == 2 and samples.shape[1] == 3
    _call(mdmsched.expected_kl, model, schedule, 10, seed=0)
    _call(mdmsched.empirical_kl, data, np.full((2, 2, 2), 0.125))
