"""Peer-exact schedules the field added in 2025 (SPEC §6): ASS's doubling steps and OpenDLM's mask-ratio shapes.

Re-exported by :mod:`mdmsched.schedules.practice` (``mdmsched.practice.ass``, ``.ass_blocks``, ``.flexible``); each
function names its peer, file and commit. ``tests/data/ass_schedules.json`` and ``tests/data/flexible_schedules.json``
hold the peers' own outputs (``tests/data/make_*.py`` ran their code), and ``tests/schedules/test_practice_field.py`` checks
every case. O(k) each.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .._schedule import BlockSchedule, Schedule
from .._validation import as_choice, as_count, as_real

#: The shapes of OpenDLM's ``FlexibleUnmaskingScheduler`` (its ``schedule_type``).
FLEXIBLE_SHAPES = ("linear", "cosine", "square", "cubic", "exponential", "sqrt", "log")
#: Most passes a rule here builds (as :data:`mdmsched.schedules.practice.MAX_COUNT`: no run makes more model calls).
_MAX_PASSES = 2**24


def _peer(passes: list[int] | NDArray[np.int64], name: str) -> Schedule:
    counts = np.asarray(passes, dtype=np.int64)
    return Schedule(counts[counts > 0], name=name, passes=counts)


# ---- ASS ---------------------------------------------------------------------------------------------------------


def ass_exponent(n: int) -> int:
    """ASS's ``S = int(torch.log2(torch.tensor(n, dtype=torch.float32)))``: ``floor(log2 n)``, except that the float32
    log2 rounds up to the next integer just below a power of two (``n = 2^21 - 1`` gives 21; from ``2^21 - 1`` on
    for ``2^m - 1``), where ASS's ``ass_generate`` then fails for every ``steps``. O(1)."""
    n = as_count(n, "n", 1, 2**62)
    return int(np.float32(np.log2(np.float64(np.float32(n)))))  # float32 in, log2 correctly rounded to float32


def _ass_counts(n: int, k: int) -> NDArray[np.int64]:
    counts = np.left_shift(np.int64(1), np.arange(k, dtype=np.int64))
    counts[-1] = n - (2 ** (k - 1) - 1)  # the last step takes the rest
    return counts


def ass(n: int, k: int | None = None) -> Schedule:
    """ASS, the ascending step-size schedule: step ``i`` reveals ``2^i`` tokens, the last step the rest:
    ``[1, 2, 4, ..., 2^(k-2), n - 2^(k-1) + 1]``.

    Peer: yjyddq/EOSER-ASS-RL ``eval/generate.py`` @ 0908838, ``get_num_transfer_tokens_ass`` for one block of ``n``
    (what ``ass_generate`` runs, whatever its ``block_num``: :func:`ass_blocks`). ``k`` defaults to ASS's own
    ``S`` (:func:`ass_exponent`, ``floor(log2 n)``), the only ``steps`` ``ass_generate`` can run; a smaller ``k``
    gives the function's counts (``ass_generate`` itself fails there, indexing a pass past ``steps``). Needs
    ``2^k <= n`` (``ass_generate``'s assert), else ``ValueError``. O(k).
    """
    n = as_count(n, "n", 1, 2**62)
    if k is None:
        k = ass_exponent(n)
        if 2**k > n:
            raise ValueError(f"ASS's own code fails at n = {n}: its float32 log2 rounds up to S = {k} > log2 n; "
                             f"pass k <= {n.bit_length() - 1} for get_num_transfer_tokens_ass's counts")
    k = as_count(k, "k", 1, 62)
    if 2**k > n:
        raise ValueError(f"k must satisfy 2**k <= n (ASS asserts gen_length >= 2**steps), got k = {k}, n = {n}")
    return _peer(_ass_counts(n, k), f"ASS (k={k})")


def ass_blocks(gen_length: int, steps: int | None = None, block_num: int = 1) -> BlockSchedule:
    """ASS's ``ass_generate(steps, gen_length, block_num)``: its passes, grouped into its blocks.

    Peer: yjyddq/EOSER-ASS-RL ``eval/generate.py`` @ 0908838, ``ass_generate`` (defaults ``steps=7``,
    ``gen_length=128``, ``block_num=4``). With ``S`` = :func:`ass_exponent`: the last block has ``2^(S-1) + 1 +
    (n - 2^S)`` positions and one pass, the ``block_num - 2`` blocks before it ``2^(S-2), 2^(S-3), ...`` and one
    pass each, the first block the rest with passes ``1, 2, 4, ...``; the passes are those of :func:`ass` for every
    ``block_num``, only the blocks (which positions a confidence rule may pick) differ. ``steps`` defaults to ``S``
    and must equal it, ``1 <= block_num <= steps`` (elsewhere ASS's asserts or indexing fail: ``ValueError``). O(S).
    """
    n = as_count(gen_length, "gen_length", 1, 2**62)
    exponent = ass_exponent(n)
    steps = exponent if steps is None else as_count(steps, "steps", 1, 62)
    block_num = as_count(block_num, "block_num", 1, 62)
    if 2**steps > n:
        raise ValueError(f"steps must satisfy 2**steps <= gen_length (ASS's assert), got steps = {steps}, "
                         f"gen_length = {n}" + (f" (ASS's float32 log2 gives S = {exponent} here)"
                                                if 2**exponent > n else ""))
    if steps != exponent:
        raise ValueError(f"steps must be ASS's S = int(log2(float32(gen_length))) = {exponent} (ass_generate runs "
                         f"passes 0..S-1 of a steps-long count list), got {steps}")
    if block_num > steps:
        raise ValueError(f"block_num must be <= steps (ASS's assert), got {block_num} > {steps}")
    passes = _ass_counts(n, steps)
    if block_num == 1:
        groups = [passes]
    else:
        first = steps - block_num + 1  # passes 0..first-1 form the first block, then one pass per block
        groups = [passes[:first], *[passes[i:i + 1] for i in range(first, steps)]]
    blocks = tuple(_peer(g, f"ASS block {b}") for b, g in enumerate(groups))
    return BlockSchedule(blocks, name=f"ASS generate (steps={steps}, block_num={block_num})")


# ---- OpenDLM FlexibleUnmaskingScheduler ------------------------------------------------------------------------


def _flexible_ratios(k: int, shape: str, exp_k: float, log_a: float) -> NDArray[np.float64]:
    """``gamma(t / k)``, ``t = 0..k``, in float64 with the peer's operations (numpy ufuncs for cos, exp, log, sqrt;
    Python's ``**`` for the powers, as the peer's scalars do)."""
    r = np.arange(k + 1, dtype=np.float64) / k
    if shape == "linear":
        return 1 - r
    if shape == "cosine":
        return np.asarray(np.cos((np.pi / 2) * r), dtype=np.float64)
    if shape in ("square", "cubic"):
        power = 2 if shape == "square" else 3
        return np.asarray([(1 - x) ** power for x in r.tolist()])
    if shape == "exponential":
        floor = np.exp(-exp_k)
        return np.asarray((np.exp(-exp_k * r) - floor) / (1 - floor), dtype=np.float64)
    if shape == "sqrt":
        return np.asarray(np.sqrt(1 - r), dtype=np.float64)
    return np.asarray(1 - np.log(1 + log_a * r) / np.log(1 + log_a), dtype=np.float64)  # log


def flexible(n: int, k: int, shape: str = "linear", *, exp_k: float = 5.0, log_a: float = 9.0) -> Schedule:
    """OpenDLM's ``FlexibleUnmaskingScheduler(gen_length=n, timesteps=k, schedule_type=shape)``: its
    ``transfer_nums``, passes of 0 included (``k > n``).

    Peer: Jianguo99/OpenDLM ``opendlm/sampler/scheduler/flexible.py`` @ a4088d1 (defaults ``schedule_type='linear'``,
    ``exp_k=5``, ``log_a=9``). Mask ratio ``gamma(r)``, ``r = t / k``: linear ``1 - r``; cosine ``cos(pi r / 2)``;
    square ``(1 - r)^2``; cubic ``(1 - r)^3``; exponential ``(e^(-a r) - e^(-a)) / (1 - e^(-a))`` with ``a = exp_k``;
    sqrt ``sqrt(1 - r)``; log ``1 - log(1 + b r) / log(1 + b)`` with ``b = log_a``. ``gamma(1)`` is set to 0, still
    masked after step ``t`` is ``round(gamma(t / k) n)`` (float64, half to even) and step ``t`` reveals
    ``max(0, m_(t-1) - m_t)``. ``exp_k`` must be finite and non-zero, ``log_a`` finite, ``> -1`` and non-zero (the
    peer divides by 0 or takes the log of a non-positive number otherwise). O(k).
    """
    n = as_count(n, "n", 1, 2**53)  # round(gamma n) is exact in float64 below 2^53
    k = as_count(k, "k", 1, _MAX_PASSES)
    shape = as_choice(shape, "shape", FLEXIBLE_SHAPES)
    exp_k, log_a = as_real(exp_k, "exp_k"), as_real(log_a, "log_a")
    if exp_k == 0:
        raise ValueError("exp_k must be non-zero (the exponential shape divides by 1 - exp(-exp_k))")
    if not (log_a > -1 and log_a != 0):
        raise ValueError(f"log_a must be > -1 and non-zero (the log shape divides by log(1 + log_a)), got {log_a!r}")
    ratios = _flexible_ratios(k, shape, exp_k, log_a)
    ratios[-1] = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        masked = np.rint(ratios * n)
    if not np.isfinite(masked).all():
        raise ValueError(f"shape {shape!r} gave a non-finite mask ratio for these parameters")
    counts = np.maximum(0, -np.diff(masked.astype(np.int64)))
    extra = {"exponential": f", exp_k={exp_k:g}", "log": f", log_a={log_a:g}"}.get(shape, "")
    return _peer(counts, f"OpenDLM {shape}{extra} (k={k})")


__all__ = ["FLEXIBLE_SHAPES", "ass", "ass_blocks", "ass_exponent", "flexible"]
