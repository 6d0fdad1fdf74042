"""Fuzzing every public function and the raw extension with hostile arrays: each call returns a sane result or
raises ValueError/TypeError with a message -- never a crash, a hang, or another exception type."""

from __future__ import annotations

import contextlib
import io
import json
import math
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mdmsched
from mdmsched import _core, cli
from mdmsched import schedules as S
from mdmsched.curves import families as D

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
        arr = np.broadcast_to(arr, (2, *arr.shape))[0]
    elif layout == "fortran":
        arr = np.asfortranarray(arr)
    return arr


def _call(function, *args, valid=False, **kwargs):
    """``function(*args, **kwargs)``, or None when it refuses with a TypeError/ValueError that has a message. With
    ``valid=True`` (the inputs are valid by the rules in SPEC §7, judged by the test) a refusal fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return function(*args, **kwargs)
        except ALLOWED as exc:
            if not str(exc):
                pytest.fail(f"{function.__name__} raised {type(exc).__name__} without a message")
            if valid:
                pytest.fail(f"{function.__name__} refused valid input: {type(exc).__name__}: {exc}")
            return None


def _is_curve(z) -> bool:
    """A valid curve by SPEC §7, judged here from the values alone: real, 1-D, non-empty, finite, Z_1 = 0, non-decreasing."""
    if z is None or isinstance(z, (str, bytes, float)):
        return False
    arr = np.asarray(z)
    if arr.dtype.kind not in "iuf" or arr.ndim != 1 or arr.size == 0 or not np.isfinite(arr).all():
        return False
    return bool(arr[0] == 0 and (np.diff(arr.astype(np.float64)) >= 0).all())


def _is_steps(k, n: int) -> bool:
    return isinstance(k, int) and not isinstance(k, bool) and 1 <= k <= n


FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(z=hostile_arrays(), k=st.sampled_from([-1, 0, 1, 2, 3, 5, 2**40, 2.5, None]), sizes=hostile_arrays())
def test_solver_api_survives(z, k, sizes):
    curve = _is_curve(z)
    solvable = curve and _is_steps(k, np.asarray(z).size)
    for method in ("auto", "naive", "hull", "lagrangian"):
        sched = _call(mdmsched.optimal_schedule, z, k, method=method, valid=solvable)
        if sched is not None:
            assert sched.sizes.sum() == sched.n and (sched.sizes >= 1).all() and sched.error >= 0
            assert abs(mdmsched.schedule_error(z, sched) - sched.error) <= 1e-9 * max(1.0, sched.error)
    front = _call(mdmsched.error_frontier, z, k, valid=solvable)
    if front is not None:
        assert np.all(np.isfinite(front))
    _call(mdmsched.schedule_error, z, sizes)
    _call(mdmsched.min_steps, z, 0.1, valid=curve)
    _call(mdmsched.project_monotone, z, valid=curve)
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
    for build in (S.equal, S.cosine, S.cosine_squared, S.geometric_growth):
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


# ---- issue 12: dataclass constructors, argument types, size guards, extreme values, corrupt CLI files ---------

INTEGER_LIKE = st.one_of(
    st.integers(-3, 12),
    st.sampled_from([np.int8(3), np.int32(4), np.int64(5), np.uint16(2), np.uint64(3)]),
)
NOT_INTEGERS = st.sampled_from([2.7, 3.0, np.float32(3.0), np.float64(2.5), "3", b"3", None, True, np.bool_(True),
                                 1 + 0j, [3], np.array([3])])


@FUZZ
@given(outcomes=hostile_arrays(), probs=hostile_arrays())
def test_direct_distribution_construction_cannot_bypass_validation(outcomes, probs):
    dist = _call(mdmsched.Distribution, outcomes, probs)
    if dist is not None:  # whatever got through is a valid distribution
        assert dist.outcomes.dtype == np.int64 and dist.outcomes.ndim == 2 and dist.outcomes.shape[0] >= 1
        assert dist.probs.dtype == np.float64 and dist.probs.shape == (dist.outcomes.shape[0],)
        assert np.isfinite(dist.probs).all() and (dist.probs >= 0).all() and abs(dist.probs.sum() - 1) < 1e-12
        assert np.array_equal(dist.outcomes, np.asarray(outcomes))  # never truncated or wrapped
        assert np.isfinite(mdmsched.total_correlation(dist))
    sched = _call(mdmsched.Schedule, outcomes)
    if sched is not None:
        assert (sched.sizes >= 1).all() and sched.n == int(np.asarray(outcomes).sum())


def _int_arguments():
    """(name, call(value)) for integer arguments across the public API."""
    z = np.linspace(0, 1, 12) ** 2
    exact = mdmsched.ExactPredictor(np.full((2, 2, 2), 0.125))
    data = np.zeros((4, 3), dtype=np.int64)
    return [
        ("k", lambda v: mdmsched.optimal_schedule(z, v)),
        ("k_max", lambda v: mdmsched.error_frontier(z, v)),
        ("n", lambda v: S.equal(v, 2)),
        ("k", lambda v: S.cosine(12, v)),
        ("n", lambda v: mdmsched.MarkovPredictor(np.array([[0.9, 0.1], [0.2, 0.8]]), v)),
        ("num_samples", lambda v: mdmsched.simulate(exact, [1, 1, 1], v, seed=0)),
        ("batch_size", lambda v: mdmsched.simulate(exact, [1, 1, 1], 3, seed=0, batch_size=v)),
        ("batch_size", lambda v: mdmsched.expected_kl(exact, None, [3], 4, seed=0, batch_size=v)),
        ("reps", lambda v: mdmsched.estimate_curve(exact, data, reps=v, seed=0)),
        ("threads", lambda v: mdmsched.subset_entropies(np.full((2, 2), 0.25), threads=v)),
        ("subsets_per_size", lambda v: mdmsched.estimate_average_entropies(np.full((2, 2), 0.25), subsets_per_size=v)),
        ("n", lambda v: D.uniform(v, 2)),
        ("q", lambda v: D.uniform(2, v)),
        ("n", lambda v: D.markov_curve(np.array([[0.9, 0.1], [0.2, 0.8]]), v)),
    ]


@FUZZ
@given(value=st.one_of(INTEGER_LIKE, NOT_INTEGERS), which=st.integers(0, 13))
def test_integer_arguments_are_integers(value, which):
    name, call = _int_arguments()[which]
    integral = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if value is None and name in ("k_max", "threads"):  # documented defaults
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            call(value)
        except TypeError as exc:
            if integral:
                pytest.fail(f"{name}={value!r} refused: {exc}")
            return
        except ValueError as exc:
            if not integral:
                pytest.fail(f"{name}={value!r} ({type(value).__name__}) must be a TypeError, got ValueError: {exc}")
            return
    assert integral, f"{name}={value!r} ({type(value).__name__}) was accepted (truncated?)"


@FUZZ
@given(value=st.sampled_from([2, 2.0, np.float32(2), np.float64(10), np.int64(3), np.e, "2", b"2", True, None, 1.0, 0.5,
                              -2, np.nan, np.inf, [2]]))
def test_base_arguments_are_real_numbers(value):
    p = np.full((2, 2), 0.25)
    real = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    for function in (mdmsched.information_curve, mdmsched.total_correlation, mdmsched.subset_entropies):
        try:
            function(p, base=value)
        except TypeError:
            assert not real and value is not None
            continue
        except ValueError:
            assert real and not (math.isfinite(float(value)) and float(value) > 1)
            continue
        assert value is None or (real and float(value) > 1 and math.isfinite(float(value)))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(n=st.integers(31, 64), q=st.sampled_from([1, 2, 3]), keep=st.booleans(), exchangeable=st.booleans())
def test_size_guards_refuse_before_allocating(n, q, keep, exchangeable):
    """Broadcast views just beyond the lattice (n > 30) and memory guards, and dense constructions just beyond
    2^26 cells: a ValueError in well under a second (or a cheap result for q = 1), never numpy's MemoryError."""
    start = time.perf_counter()
    if 8 * q**n < 2**62:  # numpy itself cannot describe larger arrays
        p = np.broadcast_to(np.float64(1.0 / q**n), (q,) * n) if n <= 32 or q == 1 else np.broadcast_to(1.0, (q,) * n)
        function = mdmsched.subset_entropies if keep else mdmsched.average_entropies
        kwargs = {"exchangeable": True} if exchangeable and not keep else {}
        try:
            out = function(p, **kwargs)
        except ValueError as exc:
            if not str(exc):
                pytest.fail(f"{function.__name__} raised ValueError without a message")
        else:
            assert q == 1 and exchangeable and np.isfinite(out).all()
    cells_n = {1: 70, 2: 27 + n % 5, 3: 17 + n % 5}[q]  # 2^27+, 3^17+ > 2^26 cells; 1^70: more than 62 axes
    too_dense = r"dense tensor (would have more than 62 axes|has more than \d+ cells)"
    with pytest.raises(ValueError, match=too_dense):
        D.uniform(cells_n, q)
    with pytest.raises(ValueError, match=too_dense):
        D.uniform(10**9 + n, q)
    assert time.perf_counter() - start < 2.0


EXTREME = st.sampled_from([0.0, 5e-324, 1e-310, 2.2250738585072014e-308, 1e-300, 1e-12, 1.0, 1e12, 1e300, 1e307,
                           8.98846567431158e307, 1.7976931348623157e308])


@FUZZ
@given(steps=st.lists(EXTREME, min_size=0, max_size=12), k=st.integers(1, 13), eps=EXTREME)
def test_solver_near_dbl_max_and_denormals(steps, k, eps):
    """Curves whose values sit near DBL_MAX or in the denormals: finite, non-negative answers or a clear
    ValueError -- never inf, NaN, a negative error or OverflowError."""
    with np.errstate(over="ignore"):
        z = np.concatenate(([0.0], np.cumsum(steps)))
    if not np.isfinite(z).all():
        z = np.concatenate(([0.0], np.sort(np.asarray(steps, dtype=np.float64))))
    # A valid curve whose every error is representable (n * Z_n < DBL_MAX bounds every step cost and opt_1 = TC) must be
    # answered, not refused: the test sees wrong refusals too (issue 27.6).
    representable = bool(z.size * np.longdouble(z[-1]) < np.finfo(np.float64).max)
    sched = _call(mdmsched.optimal_schedule, z, min(k, z.size), valid=representable)
    if sched is not None:
        assert sched.error is not None and 0 <= sched.error < math.inf
    front = _call(mdmsched.error_frontier, z, valid=representable)
    if front is not None:
        assert np.isfinite(front).all() and (front >= 0).all() and (np.diff(front) <= 1e-12 * front[0]).all()
    best = _call(mdmsched.min_steps, z, eps, valid=representable)
    if best is not None:
        assert best.error is not None and 0 <= best.error <= eps * (1 + 1e-15)
    projected = _call(mdmsched.project_monotone, z[::-1], valid=True)  # any finite array projects
    if projected is not None:
        assert np.isfinite(projected).all() and (np.diff(projected) >= 0).all()
    err = _call(mdmsched.schedule_error, z, [z.size], valid=representable)
    if err is not None:
        assert 0 <= err < math.inf


def _run_cli(argv):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()) as out:
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code
    return code, err.getvalue(), out.getvalue()


@FUZZ
@given(payload=st.binary(max_size=300), cut=st.floats(0, 1), kind=st.sampled_from(["npy", "npz", "json", "csv"]),
       command=st.sampled_from(["solve", "frontier", "compare", "curve"]))
def test_cli_survives_corrupt_files(payload, cut, kind, command):
    """Random bytes, or a valid file truncated at a random point: exit 0 (valid JSON) or 2 with one line on
    stderr; never a traceback."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input.{kind}"
        good = io.BytesIO()
        if kind == "npy":
            np.save(good, np.array([0.0, 0.5, 1.0]) if command != "curve" else np.full((2, 2), 0.25))
        elif kind == "npz":
            np.savez(good, outcomes=np.array([[0, 1], [1, 0]]), probs=np.array([0.5, 0.5]))
        else:
            good.write(b"[0, 0.5, 1.0]" if kind == "json" else b"0,1\n1,0\n")
        data = good.getvalue()
        with path.open("wb") as handle:
            handle.write(data[: int(cut * len(data))] if payload[:1] in (b"", b"\x00") else payload)
        code, err, out = _run_cli([command, str(path), "--json"])
    assert code in (0, 2), (code, err)
    if code == 2:
        assert len(err.strip().splitlines()) == 1 and err.startswith("mdmsched: error: "), err
    else:
        json.loads(out, parse_constant=lambda token: (_ for _ in ()).throw(AssertionError(token)))


# ---- issue 19: valid inputs must be accepted, invalid ones refused ---------------------------------------------------

def _verdict(function, valid, *args, **kwargs):
    """``_call``, judged against an independent oracle: ``valid=True`` inputs must be accepted (a refusal is a bug),
    ``valid=False`` inputs refused with a clean TypeError/ValueError (silent acceptance is a bug); ``None``: no oracle."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = function(*args, **kwargs)
        except ALLOWED as exc:
            refusal: Exception | None = exc
        else:
            refusal = None
    if refusal is None:
        assert valid is not False, f"invalid input accepted by {function.__name__}"
        return result
    assert str(refusal) and not type(refusal).__module__.startswith("numpy"), repr(refusal)
    assert valid is not True, f"valid input refused by {function.__name__}: {type(refusal).__name__}: {refusal}"
    return None


def _dense_validity(p):
    """True: surely a valid dense law; False: surely not; None: too close to a tolerance to call."""
    if p is None or isinstance(p, (float, int, list)):
        arr = np.asarray(p) if isinstance(p, list) else None
        if arr is None or arr.dtype.kind not in "iuf":
            return None if arr is None else False
    else:
        arr = np.asarray(p)
    if arr.dtype.kind not in "iuf" or arr.ndim == 0 or 0 in arr.shape or arr.ndim > 8:
        return False
    values = arr.astype(np.float64)
    if not np.isfinite(values).all() or (values < 0).any():
        return False
    if values.max() > 1.0:  # a probability above 1 (also keeps the exact sum below from overflowing)
        return False
    gap = abs(math.fsum(values.ravel().tolist()) - 1.0)
    return True if gap <= 1e-12 else False if gap > 1e-3 else None


@FUZZ
@given(p=hostile_arrays(), per_size=st.sampled_from([2, 3, 64, 1, 0, 2.0, "3", None]),
       seed=st.sampled_from([None, 0, 5, -1, 1.5, "s", np.int64(2)]))
def test_estimate_average_entropies_valid_accepted(p, per_size, seed):
    validity = _dense_validity(p)
    args_ok = type(per_size) is int and per_size >= 2 and (seed is None or (not isinstance(seed, (float, str))
                                                                             and int(seed) >= 0))
    valid = None if validity is None else (validity and args_ok)
    if validity is False or not args_ok:
        valid = False
    est = _verdict(mdmsched.estimate_average_entropies, valid, p, subsets_per_size=per_size, seed=seed)
    if est is not None:
        probs = np.asarray(p, dtype=np.float64).ravel()
        probs = probs[probs > 0] / probs.sum()
        entropy = -math.fsum((probs * np.log(probs)).tolist())  # the full set's entropy, always enumerated exactly
        assert est.e[0] == 0 and est.stderr[-1] == 0 and abs(est.e[-1] - entropy) <= 1e-9 * max(1.0, entropy)
        curve = mdmsched.information_curve(est)
        assert curve.size == est.e.size - 1 and curve[0] == 0


@FUZZ
@given(values=st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, -1.0, 7.0, 1e300, -1e300, 1e-12]), min_size=0,
                       max_size=6), wrap=st.sampled_from(["list", "bare", "dict", "nested"]))
def test_cli_table_validates_its_source_curve(values, wrap):
    text = {"list": json.dumps(values), "bare": json.dumps(values[0] if values else 5.0),
            "dict": json.dumps({"Z": values}), "nested": json.dumps([values])}[wrap]
    arr = np.asarray(values, dtype=float)
    valid_curve = wrap in ("list", "dict") and arr.size >= 1 and arr[0] == 0 and bool(np.all(np.diff(arr) >= 0))
    scale = max(1.0, float(np.abs(arr).max())) if arr.size else 1.0
    surely_bad = wrap in ("bare", "nested") or arr.size == 0 or abs(arr[0]) > 1e-6 * scale or \
        bool(np.any(np.diff(arr) < -1e-6 * scale))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "z.json"
        path.write_text(text)
        code, err, out = _run_cli(["table", str(path), "--lengths", "3", "--steps", "1,2", "--json"])
    assert code in (0, 2) and (code == 0) != bool(err), (code, err)
    if valid_curve:
        assert code == 0, f"valid curve {values} refused: {err}"
        json.loads(out)
    if surely_bad:
        assert code == 2 and len(err.strip().splitlines()) == 1 and err.startswith("mdmsched: error: "), (values, err)
