"""The hostile-input case table of issue 28: one small valid baseline call per public callable, and that call with ONE
argument replaced by a hostile value, each labelled with the outcome the README's contract promises.

Outcomes: ``"ok"`` (a legitimately accepted value: numpy ints, lists for arrays, read-only or strided views),
``"TypeError"`` (a wrong kind), ``"ValueError"`` (a wrong value), ``"HostileError"`` (the caller's own object raised:
its error must propagate unchanged), or several joined by ``|`` (e.g. a missing file: ``FileNotFoundError`` is fine).
``ALLOWED`` lists the cases where the package's answer differs from the label on purpose, each with its reason.

``build_cases()`` is deterministic: ``benchmarks/probe_hostile.py`` rebuilds it in a worker process and runs cases by
index, so a segfault is attributed to one case.
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

OK, T, V, H = "ok", "TypeError", "ValueError", "HostileError"


class HostileError(Exception):
    """Raised by the probe's own hostile objects (a model, a progress callable, an ``__array__``): the package must
    let it propagate unchanged, never turn it into a crash or swallow it."""


@dataclass(frozen=True)
class Case:
    api: str  # public name, e.g. "mdmsched.optimal_schedule"
    floor: str  # ground, schedules, curves, models, samplers, adapters, top
    arg: str  # the mutated argument ("baseline" for the unmutated call)
    label: str  # the hostile value's label
    expected: str  # "ok", "TypeError", "ValueError", "HostileError" or several joined by "|"
    run: Callable[[], Any]
    check: Callable[[Any], str | None] | None = None  # a wrong-answer message, or None when the answer is plausible

    @property
    def key(self) -> str:
        return f"{self.api}[{self.arg}={self.label}]"


# ---- hostile objects -----------------------------------------------------------------------------------------------

class RaisingIndex:
    """An integer-looking object whose ``__index__``/``__int__`` raise."""

    def __index__(self) -> int:
        raise HostileError("__index__")

    __int__ = __index__

    def __float__(self) -> float:
        raise HostileError("__float__")


class RaisingArray:
    """An array-like whose ``__array__`` raises (the caller's bug: must propagate)."""

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise HostileError("__array__")


class RaisingLen:
    """A sequence whose ``__len__`` raises: numpy takes it for an opaque object."""

    def __len__(self) -> int:
        raise HostileError("__len__")

    def __getitem__(self, i: int) -> int:
        return 1


def recursive_list() -> list[Any]:
    out: list[Any] = [1]
    out.append(out)
    return out


def readonly(arr: Any) -> np.ndarray:
    out = np.array(arr)
    out.flags.writeable = False
    return out


def strided(arr: Any) -> np.ndarray:
    """The same values as a non-contiguous view (every other entry of a doubled array, along the last axis)."""
    a = np.asarray(arr)
    big = np.repeat(a, 2, axis=-1) if a.ndim else a
    return big[..., ::2] if a.ndim else a


# ---- mutation sets by argument kind -------------------------------------------------------------------------------
# Each is a list of (label, factory(base) -> value, expected). ``base`` is the baseline value of the argument.

Mut = tuple[str, Callable[[Any], Any], str]


def _const(value: Any) -> Callable[[Any], Any]:
    return lambda base: value


def int_mutations(minimum: int = 1, *, none_ok: bool = False, big: str = V, example: int | None = None) -> list[Mut]:
    """An integer argument ``>= minimum`` (``big``: the expectation for 2**63, 2**70 and 10**12; ``example``: a valid
    value for the numpy-scalar cases when the baseline leaves the argument at its default)."""
    good = max(minimum, 1) + 1 if example is None else example

    def val(b: Any) -> int:
        return good if b is None else b
    muts: list[Mut] = [
        ("None", _const(None), OK if none_ok else T), ("str", _const("3"), T), ("bytes", _const(b"3"), T),
        ("bool", _const(True), T), ("np.bool_", _const(np.True_), T), ("float_integral", lambda b: float(val(b)), T),
        ("float_frac", _const(2.5), T), ("complex", _const(2 + 0j), T), ("nan", _const(math.nan), T),
        ("inf", _const(math.inf), T), ("-inf", _const(-math.inf), T), ("1e308", _const(1e308), T),
        ("minus_one", _const(-1), V), ("2**63", _const(2**63), big), ("2**70", _const(2**70), big),
        ("10**12", _const(10**12), big), ("-2**70", _const(-(2**70)), V),
        ("np.int64", lambda b: np.int64(val(b)), OK), ("np.uint64", lambda b: np.uint64(val(b)), OK),
        ("np.int8", lambda b: np.int8(val(b)), OK), ("np.float64", lambda b: np.float64(val(b)), T),
        ("index_raises", _const(RaisingIndex()), "TypeError|HostileError"), ("list", lambda b: [val(b)], T), ("array1", lambda b: np.array([val(b)]), T),
        ("object", _const(object()), T),
    ]
    if minimum >= 1:
        muts.append(("zero", _const(0), V))
    return muts


def real_mutations(*, low: float | None = 0.0, low_open: bool = False, high: float | None = None,
                   high_open: bool = False, none_ok: bool = False, huge: str = OK,
                   example: float | None = None) -> list[Mut]:
    """A finite real argument in ``[low, high]`` (open ends with ``*_open``); ``huge`` labels 1e308; ``example`` is a
    valid value for the numpy-scalar cases when the baseline leaves the argument at its default."""
    if example is None:
        example = (low + high) / 2 if low is not None and high is not None else (0.5 if low is None else low + 0.5)

    def val(b: Any) -> float:
        return example if b is None else b
    muts: list[Mut] = [
        ("None", _const(None), OK if none_ok else T), ("str", _const("0.5"), T), ("bytes", _const(b"0.5"), T),
        ("bool", _const(True), T), ("complex", _const(0.5 + 0j), T), ("nan", _const(math.nan), V),
        ("inf", _const(math.inf), V), ("-inf", _const(-math.inf), V), ("np.float32", lambda b: np.float32(val(b)), OK),
        ("np.float64", lambda b: np.float64(val(b)), OK), ("list", lambda b: [val(b)], T), ("object", _const(object()), T),
        ("float_raises", _const(RaisingIndex()), "TypeError|HostileError"),
    ]
    if high is None:
        muts.append(("1e308", _const(1e308), huge))
    if low is not None:
        muts.append(("below_low", _const(low - 1.0), V))
        muts.append(("at_low", _const(low), V if low_open else OK))
    if high is not None:
        muts.append(("above_high", _const(high + 1.0), V))
        muts.append(("at_high", _const(high), V if high_open else OK))
    return muts


def relabel(muts: list[Mut], **expected: str) -> list[Mut]:
    """``muts`` with the expectations of some labels replaced (``relabel(m, **{"10**12": OK})``): a value this
    argument legitimately accepts or refuses differently from the kind's default, said where the API is listed."""
    unknown = set(expected) - {label for label, _, _ in muts}
    assert not unknown, f"relabel: no such labels {unknown}"
    return [(label, factory, expected.get(label, old)) for label, factory, old in muts]


def choice_mutations(none_ok: bool = False) -> list[Mut]:
    return [("None", _const(None), OK if none_ok else T), ("int", _const(3), T), ("bytes", _const(b"x"), T),
            ("unknown", _const("no-such-choice"), V), ("empty", _const(""), V), ("list", _const(["x"]), T)]


def flag_mutations() -> list[Mut]:
    return [("str", _const("yes"), T), ("int2", _const(2), T), ("np.bool_", _const(np.True_), OK),
            ("list", _const([True]), T)]


def _array_kinds(base: Any, *, numeric: str = OK) -> list[Mut]:
    """Mutations every numeric-array argument shares (dtype kinds, layouts, hostile containers)."""
    return [
        ("None", _const(None), T), ("str", _const("abc"), T), ("bytes", _const(b"abc"), T), ("int_scalar", _const(3), V),
        ("object_dtype", lambda b: np.asarray(b).astype(object), T), ("str_dtype", lambda b: np.asarray(b).astype(str), T),
        ("complex_dtype", lambda b: np.asarray(b).astype(complex), T),
        ("datetime_dtype", lambda b: np.asarray(b).astype(np.int64).astype("datetime64[s]"), T),
        ("empty", lambda b: np.zeros((0,) * max(1, np.ndim(b)), dtype=np.asarray(b).dtype if b is not None else float), V), ("list", lambda b: np.asarray(b).tolist(), numeric),
        ("readonly", readonly, numeric), ("strided", strided, numeric), ("array_raises", _const(RaisingArray()), "HostileError|TypeError"),
        ("len_raises", _const(RaisingLen()), T), ("recursive_list", _const(recursive_list()), V),
        ("ragged", _const([[0.0, 1.0], [2.0]]), V),
    ]


def curve_mutations() -> list[Mut]:
    """An information curve ``Z`` (finite, 1-D, Z_1 = 0, non-decreasing)."""
    return [*_array_kinds(None),
            ("bool_dtype", lambda b: np.asarray(b) > 0, T), ("float32", lambda b: np.asarray(b, np.float32), OK),
            ("nan", lambda b: _put(b, -1, math.nan), V), ("inf", lambda b: _put(b, -1, math.inf), V),
            ("2d", lambda b: np.asarray(b)[None, :], V), ("decreasing", lambda b: np.asarray(b)[::-1].copy(), V),
            ("z1_nonzero", lambda b: np.asarray(b) + 1.0, V), ("negative", lambda b: -np.asarray(b), V),
            ("huge_values", lambda b: np.asarray(b) * 1e300, OK), ("int_dtype", lambda b: np.arange(len(b)), OK),
            ("uint64_dtype", lambda b: np.arange(len(b), dtype=np.uint64), OK)]


def sizes_mutations(n: int) -> list[Mut]:
    """Step sizes summing to ``n``."""
    return [*_array_kinds(None),
            ("bool_dtype", _const(np.ones(n, bool)), T), ("float_integral", lambda b: np.asarray(b, float), OK),
            ("float_frac", lambda b: np.asarray(b, float) + 0.5, T), ("nan", lambda b: _put(np.asarray(b, float), 0, math.nan), T),
            ("zero_size", lambda b: np.r_[0, b], V), ("negative", lambda b: np.r_[-1, n + 1], V),
            ("wrong_sum", lambda b: np.r_[b, 1], V), ("2d", lambda b: np.asarray(b)[None, :], V),
            ("uint64_small", lambda b: np.asarray(b, np.uint64), OK), ("uint64_huge", lambda b: np.r_[np.uint64(2**64 - 1)], V),
            ("int8", lambda b: np.asarray(b, np.int8), OK), ("2**63_list", _const([2**63, 1]), V),
            ("2**70_list", _const([2**70, 1]), V)]


def tokens_mutations(minimum_rows: int = 2) -> list[Mut]:
    """Integer token rows ``N x length``."""
    muts = [*_array_kinds(None),
            ("float_dtype", lambda b: np.asarray(b, float), T), ("bool_dtype", lambda b: np.asarray(b) > 0, T),
            ("1d", lambda b: np.asarray(b)[0], V), ("3d", lambda b: np.asarray(b)[None], V),
            ("no_columns", lambda b: np.asarray(b)[:, :0], V),
            ("uint64_small", lambda b: np.asarray(b, np.uint64), OK), ("int32", lambda b: np.asarray(b, np.int32), OK),
            ("uint64_huge", lambda b: np.asarray(b, np.uint64) + np.uint64(2**63), V),
            ("negative_id", lambda b: _put(np.asarray(b), (0, 0), -1), V),
            ("huge_id", lambda b: _put(np.asarray(b), (0, 0), 2**62), V)]
    if minimum_rows >= 2:
        muts.append(("one_row", lambda b: np.asarray(b)[:1], V))
    return muts


def region_mutations(length: int) -> list[Mut]:
    """A bool mask of generated positions (shape ``(length,)``)."""
    return [("int_dtype", _const(np.ones(length, int)), T), ("float_dtype", _const(np.ones(length)), T),
            ("str", _const("all"), T), ("wrong_length", _const(np.ones(length + 1, bool)), V),
            ("no_position", _const(np.zeros(length, bool)), V), ("3d", _const(np.ones((1, 1, length), bool)), V),
            ("list_of_bools", _const([True] * length), OK), ("readonly", lambda b: readonly(np.ones(length, bool)), OK),
            ("array_raises", _const(RaisingArray()), "HostileError|TypeError"), ("object_dtype", _const(np.ones(length, object)), T)]


def prob_mutations() -> list[Mut]:
    """A dense probability tensor (finite, >= 0, sums to 1)."""
    return [*_array_kinds(None),
            ("bool_dtype", lambda b: np.asarray(b) > 0, T), ("float32", lambda b: np.asarray(b, np.float32), OK),
            ("nan", lambda b: _put(np.asarray(b, float), (0,) * np.ndim(b), math.nan), V),
            ("inf", lambda b: _put(np.asarray(b, float), (0,) * np.ndim(b), math.inf), V),
            ("negative", _negate_first, V), ("unnormalised", lambda b: np.asarray(b) * 2, V),
            ("zero_d", _const(np.float64(1.0)), V), ("too_many_axes", _const(np.ones((1,) * 40)), V),
            ("huge_broadcast", _const(np.broadcast_to(np.float64(2.0**-40), (2,) * 40)), V)]


def transition_mutations() -> list[Mut]:
    """A row-stochastic square matrix."""
    return [*_array_kinds(None),
            ("bool_dtype", lambda b: np.asarray(b) > 0, T), ("nan", lambda b: _put(np.asarray(b, float), (0, 0), math.nan), V),
            ("negative", _negate_first, V), ("rows_sum_2", lambda b: np.asarray(b) * 2, V),
            ("non_square", _const(np.full((2, 3), 1 / 3)), V), ("1d", _const(np.array([0.5, 0.5])), V),
            ("float32", lambda b: np.asarray(b, np.float32), OK)]


def _put(arr: Any, index: Any, value: Any) -> np.ndarray:
    out = np.array(arr, dtype=float) if not isinstance(value, (int, np.integer)) else np.array(arr)
    out[index] = value
    return out


def _negate_first(arr: Any) -> np.ndarray:
    out = np.array(arr, dtype=float)
    flat = out.reshape(-1)
    flat[1] += flat[0] + 0.25
    flat[0] = -0.25
    return out


def rng_mutations() -> list[Mut]:
    return [("None", _const(None), T), ("int", _const(0), T), ("str", _const("rng"), T),
            ("random_state", _const(np.random.RandomState(0)), T), ("generator", _const(np.random.default_rng(1)), OK)]


def progress_mutations() -> list[Mut]:
    def raises(*args: Any) -> None:
        raise HostileError("progress")

    return [("str", _const("yes"), T), ("int", _const(5), T), ("raises", _const(raises), H),
            ("returns_garbage", _const(lambda *a: "garbage"), OK), ("false", _const(False), OK)]


def executor_mutations() -> list[Mut]:
    return [("int", _const(5), T), ("str", _const("pool"), T), ("function", _const(print), T)]


def seed_mutations() -> list[Mut]:
    return [m for m in int_mutations(0, none_ok=True, big=OK) if m[0] not in ("zero",)]


def rule_mutations() -> list[Mut]:
    return [("None", _const(None), T), ("str", _const("threshold"), T), ("int", _const(5), T),
            ("function", _const(lambda *a: None), T)]


# ---- hostile models --------------------------------------------------------------------------------------------------

VOCAB = 2


def uniform_predict(tokens: Any, mask: Any) -> np.ndarray:
    """``q(x_i = v) = 1/VOCAB`` at every position: a valid predictor."""
    return np.full((*np.shape(tokens), VOCAB), 1.0 / VOCAB)


def skewed_predict(tokens: Any, mask: Any) -> np.ndarray:
    """A position-dependent valid predictor (so confidences differ between positions)."""
    shape = np.shape(tokens)
    p1 = 0.2 + 0.6 * (np.arange(shape[-1]) % 3) / 2
    out = np.empty((*shape, VOCAB))
    out[..., 1] = p1
    out[..., 0] = 1 - p1
    return out


def model_mutations() -> list[Mut]:
    """Hostile predictors (the model argument of estimates and samplers)."""

    def raising(tokens: Any, mask: Any) -> Any:
        raise HostileError("model")

    def wrong_shape(tokens: Any, mask: Any) -> Any:
        return np.full((1, 1, VOCAB), 0.5)

    def nan_probs(tokens: Any, mask: Any) -> Any:
        out = uniform_predict(tokens, mask)
        out[..., 0] = math.nan
        return out

    def negative(tokens: Any, mask: Any) -> Any:
        out = uniform_predict(tokens, mask)
        out[..., 0], out[..., 1] = -0.5, 1.5
        return out

    def unnormalised(tokens: Any, mask: Any) -> Any:
        return uniform_predict(tokens, mask) * 3

    def str_dtype(tokens: Any, mask: Any) -> Any:
        return uniform_predict(tokens, mask).astype(str)

    def returns_none(tokens: Any, mask: Any) -> Any:
        return None

    def mutates(tokens: Any, mask: Any) -> Any:
        out = uniform_predict(tokens, mask)
        tokens[...] = 99
        mask[...] = False
        return out

    calls = [0]

    def vocab_changes(tokens: Any, mask: Any) -> Any:
        calls[0] += 1
        vocab = VOCAB + calls[0] % 2
        return np.full((*np.shape(tokens), vocab), 1.0 / vocab)

    def one_hot_zero(tokens: Any, mask: Any) -> Any:
        out = np.zeros((*np.shape(tokens), VOCAB))
        out[..., 0] = 1.0  # the true token 1 gets probability 0: an infinite -log q
        return out

    return [("None", _const(None), T), ("int", _const(5), T), ("str", _const("model"), T),
            ("raises", _const(raising), H), ("wrong_shape", _const(wrong_shape), V), ("nan", _const(nan_probs), V),
            ("negative", _const(negative), V), ("unnormalised", _const(unnormalised), V), ("str_dtype", _const(str_dtype), T),
            ("returns_none", _const(returns_none), T), ("mutates_input", _const(mutates), OK),
            ("vocab_changes", lambda b: vocab_changes, "ok|ValueError"), ("zero_prob_truth", _const(one_hot_zero), "ok|ValueError")]


# ---- case construction ---------------------------------------------------------------------------------------------

CASES: list[Case] = []

#: The keyword arguments of the call that just ran (the answer checks read the ``n`` the case passed).
LAST_CALL: dict[str, Any] = {}


def api(name: str, floor: str, fn: Callable[..., Any], make: Callable[[], dict[str, Any]],
        muts: dict[str, list[Mut]], *, check: Callable[[Any], str | None] | None = None,
        extra: list[tuple[str, str, Callable[[], Any], str]] = ()) -> None:
    """Register ``fn(**make())`` as the baseline and one case per (argument, mutation); ``extra`` adds hand-written
    cases ``(arg, label, thunk, expected)``."""
    def baseline() -> Any:
        kwargs = make()
        LAST_CALL.clear()
        LAST_CALL.update(kwargs)
        return fn(**kwargs)

    CASES.append(Case(name, floor, "baseline", "valid", OK, baseline, check))
    for arg, mutations in muts.items():
        for label, factory, expected in mutations:
            def run(arg: str = arg, factory: Callable[[Any], Any] = factory) -> Any:
                kwargs = make()
                kwargs[arg] = factory(kwargs.get(arg))
                LAST_CALL.clear()
                LAST_CALL.update(kwargs)
                return fn(**kwargs)

            CASES.append(Case(name, floor, arg, label, expected, run, check))
    for arg, label, thunk, expected in extra:
        CASES.append(Case(name, floor, arg, label, expected, thunk, check))


# ---- answer checks ---------------------------------------------------------------------------------------------------

def nats(value: Any) -> str | None:
    """A finite number of nats >= 0 (float, or an array of them)."""
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)):
        return f"non-finite nats {arr.ravel()[:4]}"
    if np.any(arr < 0):
        return f"negative nats {arr.ravel()[:4]}"
    return None


def schedule_of(n: int | str | None) -> Callable[[Any], str | None]:
    """Positive sizes summing to ``n`` (an int, or the name of the call's argument that holds it)."""
    def check(s: Any) -> str | None:
        want = LAST_CALL.get(n) if isinstance(n, str) else n
        sizes = np.asarray(s.sizes)
        if sizes.size == 0 or (sizes < 1).any():
            return f"non-positive sizes {sizes}"
        if want is not None and int(sizes.sum()) != int(want):
            return f"sizes sum to {int(sizes.sum())}, not n = {want}"
        if s.error is not None and (math.isnan(s.error) or s.error < 0):
            return f"error {s.error}"
        return None

    return check


def finite(value: Any) -> str | None:
    arr = np.asarray(value, dtype=float)
    return None if np.all(np.isfinite(arr)) else f"non-finite {arr.ravel()[:4]}"


# ---- files for the loaders -------------------------------------------------------------------------------------------

_TMP = tempfile.mkdtemp(prefix="mdmsched-hostile-")


def tmpfile(name: str, content: bytes | str) -> str:
    path = Path(_TMP) / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(path)


def _first_half(path: str) -> bytes:
    data = Path(path).read_bytes()
    return data[: max(1, len(data) // 2)]


def path_mutations(valid_suffix: str) -> list[Mut]:
    """Hostile paths for a loader whose valid files end in ``valid_suffix``."""
    missing = str(Path(_TMP) / ("missing" + valid_suffix))
    return [("None", _const(None), T), ("int", _const(3), T), ("bytes_path", os.fsencode, "ok|TypeError"),
            ("missing", _const(missing), "ValueError|FileNotFoundError"), ("directory", _const(_TMP), V),
            ("dev_zero", _const("/dev/zero"), V), ("empty_file", lambda b: tmpfile("empty" + valid_suffix, b""), V),
            ("truncated", lambda b: tmpfile("trunc" + valid_suffix, _first_half(b)), V),
            ("garbage", lambda b: tmpfile("garbage" + valid_suffix, b"\x00\xff\xfe garbage {[" * 10), V),
            ("deep_json", lambda b: tmpfile("deep" + valid_suffix, "[" * 100000 + "]" * 100000), V)]


def json_text_mutations() -> list[Mut]:
    return [("None", _const(None), T), ("int", _const(3), T), ("truncated", lambda b: b[: len(b) // 2], V),
            ("not_json", _const("{nope"), V), ("deep", _const("[" * 100000 + "]" * 100000), V),
            ("deep_object", _const('{"a":' * 100000 + "1" + "}" * 100000), V), ("list", _const("[1, 2]"), T),
            ("nan_literal", _const('{"sizes": [NaN]}'), V), ("empty", _const(""), V),
            ("wrong_field_type", _const('{"sizes": "12"}'), T), ("bytes", lambda b: b.encode(), OK),
            ("invalid_utf8", _const(b"\xff\xfe{"), V), ("huge_int", _const('{"sizes": [' + "9" * 5000 + "]}"), V)]


def cli_case(argv: list[str]) -> Callable[[], Any]:
    """Run ``mdmsched.cli.main(argv)``: exit 0 returns, exit 2 with one ``mdmsched: error:`` line is a
    ``ValueError``; any other exit code or output shape is a ``RuntimeError`` (a wrong answer to a caller mistake)."""

    def run() -> Any:
        from mdmsched import cli

        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = cli.main(list(argv))
            except SystemExit as exc:  # argparse's own refusal
                code = exc.code if isinstance(exc.code, int) else 1
        lines = err.getvalue().strip().splitlines()
        if code == 0:
            return out.getvalue()
        if (code == 2 and lines and lines[-1].startswith(("mdmsched: error:", "usage:", "mdmsched "))) or \
                (code == 2 and any("error:" in line for line in lines)):
            raise ValueError(lines[-1] if lines else "exit 2")
        raise RuntimeError(f"exit {code}: {err.getvalue()[-300:]}")

    return run


def has_torch() -> bool:
    """Whether torch imports here (the torch-only cases exist only then; the probe runs without it)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def load_all() -> list[Case]:
    """Fill and return :data:`CASES` (the per-floor tables live in ``hostile_table_*.py``)."""
    if not CASES:
        import hostile_table_extra
        import hostile_table_ground
        import hostile_table_upper

        hostile_table_ground.register()
        hostile_table_upper.register()
        hostile_table_extra.register()
    return CASES


#: (api, arg, label) -> why the package's answer legitimately differs from the label.
ALLOWED: dict[tuple[str, str, str], str] = {}

__all__ = ["ALLOWED", "CASES", "Case", "HostileError", "api", "json", "load_all"]
