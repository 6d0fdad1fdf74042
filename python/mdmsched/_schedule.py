"""The schedule type: ``k`` steps of sizes ``s_j >= 1`` summing to ``n`` (SPEC §1)."""

from __future__ import annotations

import json
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_count, as_int_array, as_nats_label, as_sizes, integral_array, require_memory

#: Largest ``n`` a schedule may cover: its breakpoints ``N_j`` are int64.
MAX_POSITIONS = 2**63 - 1

#: MaskGIT clips its mask ratio to ``[1e-6, 1]`` in float32 before ``floor(n r)``.
MASKGIT_MIN_RATIO = np.float32(1e-6)


@dataclass(frozen=True, eq=False)
class Schedule:
    """An unmasking schedule: ``k`` steps revealing ``sizes[j] >= 1`` positions each, ``sum(sizes) = n``.

    ``error`` is ``err(Z, s)`` in nats when the schedule was evaluated on a curve (``None`` otherwise); ``name`` says
    where it came from; ``bound`` is a proven upper bound on its error, where one exists.

    ``passes`` are the counts a sampler runs, one per model call, in order: the non-empty ones are ``sizes`` and a 0
    is a call that reveals nothing (it costs a call and adds no error). It defaults to ``sizes``; the peer-exact
    rules of :mod:`mdmsched.schedules.practice` set it to what the peer runs. Two schedules are equal when their ``sizes``
    and ``passes`` are (name, error and bound are labels, not part of the schedule).
    """

    sizes: NDArray[np.int64]
    error: float | None = None
    name: str = "schedule"
    bound: float | None = None
    passes: NDArray[np.int64] = None  # type: ignore[assignment]  # None -> sizes
    _breakpoints: NDArray[np.int64] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        sizes = as_sizes(self.sizes).copy()
        if int(sizes.max()) > MAX_POSITIONS // sizes.size:  # the int64 cumulative sum could wrap: add Python ints
            total = sum(map(int, sizes))
            if total > MAX_POSITIONS:
                raise ValueError(f"sizes must sum to at most 2**63 - 1 (int64 breakpoints), got {total}")
        sizes.setflags(write=False)
        breakpoints = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        breakpoints.setflags(write=False)
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "_breakpoints", breakpoints)
        object.__setattr__(self, "passes", sizes if self.passes is None else _as_passes(self.passes, sizes))
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a string, got {type(self.name).__name__} {self.name!r}")
        if self.error is not None:
            object.__setattr__(self, "error", as_nats_label(self.error, "error"))
        if self.bound is not None:
            object.__setattr__(self, "bound", as_nats_label(self.bound, "bound"))

    @classmethod
    def from_breakpoints(cls, breakpoints: ArrayLike, **kwargs: Any) -> Schedule:
        """Schedule from ``N_0 = 0 < N_1 < ... < N_k = n``."""
        bp = as_int_array(breakpoints, "breakpoints")
        if bp.ndim != 1 or bp.size < 2 or bp[0] != 0:
            raise ValueError(f"breakpoints must be 1-D, start at 0 and have at least 2 entries, got {bp!r}")
        return cls(np.diff(bp), **kwargs)

    @property
    def breakpoints(self) -> NDArray[np.int64]:
        """``N_0 = 0, N_1, ..., N_k = n``: positions revealed after each step."""
        return self._breakpoints

    @property
    def k(self) -> int:
        """Number of steps (model calls)."""
        return int(self.sizes.size)

    @property
    def n(self) -> int:
        """Sequence length."""
        return int(self._breakpoints[-1])

    def tolist(self) -> list[int]:
        """Step sizes as plain ints, ready to paste into a sampler config."""
        return [int(s) for s in self.sizes]

    # ---- forms that samplers take (issue 11) ----

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict: ``sizes``, ``passes``, ``name``, ``error``, ``bound`` (``n``, ``k`` for reading)."""
        return {"name": self.name, "n": self.n, "k": self.k, "sizes": self.tolist(),
                "passes": [int(p) for p in self.passes], "error": self.error, "bound": self.bound}

    def to_json(self) -> str:
        """The schedule as a JSON object (see :meth:`to_dict`); ``Schedule.from_json(s.to_json()) == s`` and the
        floats ``error``/``bound`` round-trip bit for bit. Strict JSON: an infinite ``error``/``bound`` raises
        ``ValueError``."""
        return _dump_json(self.to_dict())

    @classmethod
    def from_json(cls, text: str | bytes | dict[str, Any]) -> Schedule:
        """Inverse of :meth:`to_json` (also takes the decoded dict). ``n``/``k``, when present, are checked."""
        data = _load_json(text) if isinstance(text, (str, bytes, bytearray)) else text
        if not isinstance(data, dict):
            raise TypeError(f"a schedule's JSON must be an object, got {type(data).__name__}")
        if "sizes" not in data:
            raise ValueError("a schedule's JSON must have the key 'sizes'")
        passes: Any = data.get("passes")  # absent: the sizes (the constructor's default), never an error about it
        if passes is not None:
            passes = _json_array(passes, "passes")
        out = cls(_json_array(data["sizes"], "sizes"), error=data.get("error"), name=data.get("name", "schedule"),
                  bound=data.get("bound"), passes=passes)
        _check_json_counts(data, out, "schedule")
        return out

    def num_transfer_tokens(self, batch: int = 1) -> NDArray[np.int64]:
        """LLaDA's ``get_num_transfer_tokens`` table: int64 array ``(batch, len(passes))``, row ``b`` = ``passes``
        (the tokens to commit at each model call; zeros included). O(batch * passes)."""
        rows = as_count(batch, "batch")
        require_memory(8 * rows * self.passes.size, f"a (batch={rows}, {self.passes.size}) transfer table")
        return np.tile(self.passes, (rows, 1))

    def mask_ratio_function(self) -> MaskRatioFunction:
        """A MaskGIT mask-ratio function ``r(t)``, ``t`` in [0, 1], for ``num_iter = k`` (see
        :class:`MaskRatioFunction`): MaskGIT's rule ``mask_len = max(1, min(unknown - 1, floor(n r(t))))`` (float32,
        ``r`` clipped to [1e-6, 1]) at ``t = j / k`` keeps exactly ``n - N_j`` masked, so it reproduces ``sizes``.
        MaskGIT always reveals at least one token while two remain, so zeros in ``passes`` cannot be expressed:
        the function reproduces ``sizes``. Needs ``n < 2**22`` (float32 resolution) and every ratio at or above
        MaskGIT's clip, ``(M_j + 1/2) / n >= 1e-6`` for every ``M_j`` still masked after step ``j < k`` (always
        true for ``n <= 10**6``; for larger ``n`` a schedule that leaves fewer than about ``10**-6 n`` masked before
        its last step cannot be expressed, unless that count is MaskGIT's own ``floor(n 1e-6)``, and is refused with
        ``ValueError``). O(k)."""
        if self.n >= 2**22:
            raise ValueError(f"a float32 mask ratio cannot resolve n = {self.n} >= 2**22 positions")
        masked = self.n - self._breakpoints[1:-1]
        ratios = ((masked.astype(np.float64) + 0.5) / self.n).astype(np.float32)
        # Below the clip MaskGIT keeps floor(float32(n * 1e-6)) masked: fine only where that is M_j itself.
        at_clip = int(np.floor(np.float32(self.n) * MASKGIT_MIN_RATIO))
        clipped = np.flatnonzero((ratios < MASKGIT_MIN_RATIO) & (masked != at_clip))
        if clipped.size:
            j = int(clipped[0])
            raise ValueError(f"MaskGIT clips mask ratios at 1e-6: after step {j + 1} of this schedule {int(masked[j])} "
                             f"of n = {self.n} positions stay masked (ratio {float(ratios[j]):.3g}), which its "
                             f"rule cannot express (below the clip it keeps {at_clip}); it needs (M_j + 1/2) / n >= "
                             "1e-6 at every step")
        return MaskRatioFunction(self.n, self.k, ratios)

    def dllm_alpha_grid(self) -> NDArray[np.float64]:
        """dllm's alpha on the grid ``t_i = i / k``, ``i = 0..k``: ``alpha_i = 1 - M_{k-i} / n`` with ``M_j = n - N_j``
        still masked after step ``j`` (``alpha_0 = 1``, ``alpha_k = 0``). dllm's deterministic rule
        ``round(M * (1 - (1 - alpha(s)) / (1 - alpha(t))))`` (float32 ratio, round half to even) with this grid gives
        ``sizes`` exactly (its passes with 0 are dropped by dllm itself). Needs ``n < 2**20``."""
        if self.n >= 2**20:
            raise ValueError(f"a float32 alpha grid cannot resolve n = {self.n} >= 2**20 positions")
        masked = (self.n - self._breakpoints)[::-1]
        return 1.0 - masked.astype(np.float64) / self.n

    def __len__(self) -> int:
        return self.k

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schedule):
            return NotImplemented
        return bool(np.array_equal(self.sizes, other.sizes)) and bool(np.array_equal(self.passes, other.passes))

    def __hash__(self) -> int:
        return hash((tuple(self.tolist()), tuple(int(p) for p in self.passes)))

    def __repr__(self) -> str:
        sizes = self.tolist()
        shown = ", ".join(map(str, sizes)) if len(sizes) <= 16 else ", ".join(map(str, sizes[:12])) + ", ..."
        parts = [f"name={self.name!r}", f"k={self.k}", f"n={self.n}", f"sizes=[{shown}]"]
        if self.error is not None:
            parts.append(f"error={self.error:.6g}")
        if self.bound is not None:
            parts.append(f"bound={self.bound:.6g}")
        if self.passes.size != self.sizes.size:
            parts.append(f"passes={self.passes.size}")
        return f"Schedule({', '.join(parts)})"

    @classmethod
    def _trusted(cls, sizes: NDArray[np.int64], breakpoints: NDArray[np.int64], error: float | None,
                 name: str) -> Schedule:
        """Schedule from the C++ core's already-checked output, skipping ``__post_init__``'s re-validation. O(1).

        Private: ``sizes`` (int64, >= 1) and ``breakpoints`` (``N_0 = 0 .. N_k = n``, their prefix sums) must be
        consistent and owned by the caller; both are frozen in place. Every dataclass field is set here, with the
        values the validated constructor would give (tests compare the two).
        """
        sizes.setflags(write=False)
        breakpoints.setflags(write=False)
        self = object.__new__(cls)
        state = self.__dict__  # a frozen dataclass without slots: filling its __dict__ is what __init__ would do
        state.update(_TRUSTED_DEFAULTS or _trusted_defaults(cls))
        state["sizes"], state["passes"], state["_breakpoints"], state["name"] = sizes, sizes, breakpoints, name
        state["error"] = None if error is None else float(error)
        return self

@dataclass(frozen=True)
class MaskRatioFunction:
    """MaskGIT-style mask ratio ``r(t)``: the fraction of the ``n`` positions still masked after the step at time
    ``t = j / num_iter`` (``r(0) = 1``, ``r(1) = 0``). Between grid points it holds the value of the nearest grid
    point ``j = round(t num_iter)``; at the grid it is the float32 ``(M_j + 1/2) / n``, so ``floor(n r)`` in float32
    is ``M_j`` with a margin of half a token."""

    n: int
    num_iter: int
    ratios: NDArray[np.float32]  # r(j / num_iter) for j = 1..num_iter-1

    def __post_init__(self) -> None:
        n = as_count(self.n, "n", 1, MAX_POSITIONS)
        steps = as_count(self.num_iter, "num_iter", 1, n)
        raw = np.asarray(self.ratios)
        if raw.dtype.kind not in "iuf":
            raise TypeError(f"ratios must be real mask ratios, got dtype {raw.dtype}")
        if raw.shape != (steps - 1,):
            raise ValueError(f"ratios must be the num_iter - 1 = {steps - 1} inner ratios, got shape {raw.shape}")
        ratios = raw.astype(np.float32)
        if not np.all((ratios >= 0) & (ratios <= 1)):  # NaN fails both comparisons
            raise ValueError("ratios must be fractions in [0, 1] (the share of positions still masked)")
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "num_iter", steps)
        object.__setattr__(self, "ratios", ratios)

    def __call__(self, t: float | ArrayLike) -> Any:
        raw = np.asarray(t)
        if raw.dtype.kind not in "iuf":
            raise TypeError(f"t must be a real number or an array of them, got {type(t).__name__} {t!r}")
        arr = raw.astype(np.float64)
        if not np.all((arr >= 0) & (arr <= 1)):
            raise ValueError(f"t must lie in [0, 1], got {t!r}")
        grid = np.concatenate(([np.float32(1)], self.ratios, [np.float32(0)])).astype(np.float32)
        out = grid[np.rint(arr * self.num_iter).astype(np.int64)]
        return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class BlockSchedule:
    """Semi-autoregressive schedule: ``blocks[b]`` schedules block ``b``'s own positions, blocks run left to right.

    ``sizes``/``passes`` are the concatenations, ``k`` the total number of steps, ``error`` the sum of the blocks'
    errors when every block has one (``None`` otherwise; block errors add because each block's curve is conditioned on
    the blocks before it).
    """

    blocks: tuple[Schedule, ...]
    name: str = "blockwise"
    #: What to do with this split, in words ("" when nobody compared it): a split chosen on data against LLaDA's equal
    #: split says "keep your equal split" unless it is significantly better (``optimal_split``).
    verdict: str = ""
    #: True / False: the paired comparison with LLaDA's equal split showed / did not show this split better; ``None``:
    #: not compared.
    beats_equal_split: bool | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.verdict, str):
            raise TypeError(f"verdict must be a string, got {type(self.verdict).__name__}")
        if self.beats_equal_split is not None and not isinstance(self.beats_equal_split, bool):
            raise TypeError(f"beats_equal_split must be a bool or None, got {type(self.beats_equal_split).__name__}")
        if isinstance(self.blocks, (str, bytes)) or not hasattr(self.blocks, "__iter__"):
            raise TypeError(f"blocks must be a non-empty sequence of Schedule, got {type(self.blocks).__name__}")
        blocks = tuple(self.blocks)
        if not all(isinstance(b, Schedule) for b in blocks):
            raise TypeError("blocks must be a non-empty sequence of Schedule")
        if not blocks:
            raise ValueError("blocks must be a non-empty sequence of Schedule (a block schedule has at least one block)")
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a string, got {type(self.name).__name__} {self.name!r}")
        object.__setattr__(self, "blocks", blocks)

    @property
    def sizes(self) -> NDArray[np.int64]:
        """All non-empty steps, block after block."""
        return np.concatenate([b.sizes for b in self.blocks])

    @property
    def passes(self) -> NDArray[np.int64]:
        """All model calls' counts (zeros included), block after block."""
        return np.concatenate([b.passes for b in self.blocks])

    @property
    def n(self) -> int:
        """Total number of positions."""
        return sum(b.n for b in self.blocks)

    @property
    def k(self) -> int:
        """Total number of non-empty steps."""
        return sum(b.k for b in self.blocks)

    @property
    def block_lengths(self) -> list[int]:
        """Positions in each block."""
        return [b.n for b in self.blocks]

    @property
    def error(self) -> float | None:
        """Sum of the blocks' errors (nats) when all are known, else ``None``."""
        errors = [b.error for b in self.blocks]
        return None if any(e is None for e in errors) else float(sum(e for e in errors if e is not None))

    @property
    def breakpoints(self) -> NDArray[np.int64]:
        """``N_0 = 0, ..., N_k = n`` of the flat schedule."""
        return np.concatenate(([0], np.cumsum(self.sizes))).astype(np.int64)

    def tolist(self) -> list[int]:
        """Flat step sizes (``[b.tolist() for b in blocks]`` gives them per block)."""
        return [int(s) for s in self.sizes]

    def __len__(self) -> int:
        return self.k

    def flat(self) -> Schedule:
        """The concatenation as one :class:`Schedule` (passes kept)."""
        return Schedule(self.sizes, error=self.error, name=self.name, passes=self.passes)

    def num_transfer_tokens(self, batch: int | None = None) -> NDArray[np.int64]:
        """The table a LLaDA-style block loop indexes as ``table[block, step]``: int64 ``(num_blocks, max_steps)``,
        each row the block's ``passes`` padded with zeros; with ``batch=B``: ``(num_blocks, B, max_steps)``, so
        ``table[block]`` is that block's ``get_num_transfer_tokens`` output."""
        width = max(b.passes.size for b in self.blocks)
        table = np.zeros((len(self.blocks), width), dtype=np.int64)
        for i, b in enumerate(self.blocks):
            table[i, : b.passes.size] = b.passes
        if batch is None:
            return table
        rows = as_count(batch, "batch")
        require_memory(8 * rows * table.size, f"a (blocks={table.shape[0]}, batch={rows}, {width}) transfer table")
        return np.repeat(table[:, None, :], rows, axis=1)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict: ``name``, ``n``, ``k``, ``error``, ``blocks`` (each a :meth:`Schedule.to_dict`)."""
        out = {"name": self.name, "n": self.n, "k": self.k, "error": self.error,
               "blocks": [b.to_dict() for b in self.blocks]}
        if self.verdict or self.beats_equal_split is not None:
            out.update(verdict=self.verdict, beats_equal_split=self.beats_equal_split)
        return out

    def to_json(self) -> str:
        """JSON of :meth:`to_dict`; ``BlockSchedule.from_json(b.to_json()) == b``."""
        return _dump_json(self.to_dict())

    @classmethod
    def from_json(cls, text: str | bytes | dict[str, Any]) -> BlockSchedule:
        """Inverse of :meth:`to_json` (also takes the decoded dict)."""
        data = _load_json(text) if isinstance(text, (str, bytes, bytearray)) else text
        if not isinstance(data, dict) or not isinstance(data.get("blocks"), list):
            raise TypeError("a block schedule's JSON must be an object with a list 'blocks'")
        out = cls(tuple(Schedule.from_json(b) for b in data["blocks"]), name=data.get("name", "blockwise"),
                  verdict=data.get("verdict", ""), beats_equal_split=data.get("beats_equal_split"))
        _check_json_counts(data, out, "block schedule")
        stated = data.get("error")
        if stated is not None and (out.error is None or as_nats_label(stated, "error") != out.error):
            raise ValueError(f"block schedule JSON says error = {stated!r} but its blocks' errors sum to {out.error!r}")
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BlockSchedule):
            return NotImplemented
        return self.blocks == other.blocks

    def __hash__(self) -> int:
        return hash(self.blocks)

    def __repr__(self) -> str:
        parts = [f"name={self.name!r}", f"blocks={len(self.blocks)}", f"k={self.k}", f"n={self.n}",
                 f"block_lengths={self.block_lengths if len(self.blocks) <= 8 else '...'}"]
        if self.error is not None:
            parts.append(f"error={self.error:.6g}")
        if self.verdict:
            parts.append(f"verdict={self.verdict!r}")
        return f"BlockSchedule({', '.join(parts)})"


def _json_array(value: Any, name: str) -> NDArray[Any]:
    """A JSON list of counts as an array: a nested or ragged list, or integers past int64 (``2**70``: JSON has no
    limit), is a ``ValueError`` naming ``name``, not numpy's."""
    if isinstance(value, list) and any(isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**63 - 1
                                       for v in value):
        raise ValueError(f"schedule JSON's {name} must be integers within int64 (|x| <= 2**63 - 1)")
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as err:
        raise ValueError(f"schedule JSON's {name} must be a flat list of integers: {err}") from None


def _check_json_counts(data: dict[str, Any], out: Schedule | BlockSchedule, what: str) -> None:
    """``n``/``k`` stated in a JSON object must be what its sizes give (they are read-only summaries)."""
    for key in ("n", "k"):
        if key in data and data[key] != getattr(out, key):
            raise ValueError(f"{what} JSON says {key} = {data[key]!r} but its sizes give {getattr(out, key)}")


def _dump_json(data: dict[str, Any]) -> str:
    """``json.dumps`` of strict JSON: an infinite error or bound is refused with ``ValueError`` (not ``Infinity``)."""
    try:
        return json.dumps(data, allow_nan=False)
    except ValueError:
        raise ValueError(f"schedule {data.get('name')!r} has an infinite error or bound, which strict JSON cannot "
                         "hold") from None


def _load_json(text: str | bytes | bytearray) -> Any:
    """``json.loads`` whose every failure (syntax, encoding, nesting too deep to decode) is one ``ValueError``."""
    def refuse(constant: str) -> Any:
        raise ValueError(f"schedule JSON must be strict JSON, got the constant {constant}")

    try:
        return json.loads(text, parse_constant=refuse)
    except RecursionError:
        raise ValueError("schedule JSON is nested too deeply") from None
    except ValueError as err:  # JSONDecodeError and UnicodeDecodeError
        raise ValueError(f"schedule JSON is not valid JSON: {err}") from None


def _as_passes(passes: Any, sizes: NDArray[np.int64]) -> NDArray[np.int64]:
    """Per-call counts: non-negative integers whose non-zero entries are ``sizes``, in order."""
    arr = np.asarray(passes)
    if arr.size == 0:
        raise ValueError("passes must be a non-empty 1-D sequence of counts whose non-zero entries are sizes")
    arr = integral_array(arr, "passes")  # the sizes' rule: integral floats accepted, uint64 wrap refused
    if arr.ndim != 1 or (arr < 0).any():
        raise ValueError(f"passes must be a 1-D sequence of counts 0 <= p <= 2**63 - 1, got {passes!r}")
    out = np.ascontiguousarray(arr, dtype=np.int64)
    if not np.array_equal(out[out > 0], sizes):
        raise ValueError("the non-zero passes must be the schedule's sizes, in order")
    out.setflags(write=False)
    return out


_TRUSTED_SET = ("sizes", "passes", "_breakpoints", "name", "error")
_TRUSTED_DEFAULTS: dict[str, Any] = {}


def _trusted_defaults(cls: type) -> dict[str, Any]:
    """Declared defaults of the Schedule fields that ``Schedule._trusted`` does not set (computed once)."""
    for f in fields(cls):  # any field added later takes its declared default
        if f.name in _TRUSTED_SET:
            continue
        if f.default is not MISSING:
            _TRUSTED_DEFAULTS[f.name] = f.default
        elif f.default_factory is not MISSING:
            raise TypeError(f"Schedule field {f.name!r} has a default factory; Schedule._trusted must set it")
        else:
            raise TypeError(f"Schedule field {f.name!r} has no default; Schedule._trusted must set it")
    return _TRUSTED_DEFAULTS


__all__ = ["MASKGIT_MIN_RATIO", "MAX_POSITIONS", "BlockSchedule", "MaskRatioFunction", "Schedule"]
