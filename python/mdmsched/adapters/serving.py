"""Serving tables, one home: build, validate, save and load the ``mdmsched table`` JSON (format ``mdmsched-table/1``).

A table holds, per length ``n``, optimal schedules by block length (``"full"`` = one block of ``n``) and step budget
``k`` -- ``num_transfer_tokens[b][i]``, the tokens to commit at step ``i`` of block ``b`` -- and, optionally, closed-loop
policies (SPEC §5.4): ``count[revealed][passes_left - 1]``, the tokens to commit when ``revealed`` of ``n`` positions
are revealed and ``passes_left`` forward passes remain (0 where no plan exists: ``passes_left > n - revealed``),
one per length (``policies``) or, from ``mdmsched table --policy``, one per block next to every schedule
(``block_policies[n][B or "full"][k]``).

Reading needs only the standard library (``json``, ``os``): this module imports no mdmsched, numpy or torch at import
time, so a server can copy or import it and do no mdmsched work per request. :func:`build_table` (what ``mdmsched
table`` runs) imports the solver when called. Build offline::

    mdmsched table curve.npy --lengths 256,512 --steps 16,32,64 --block-lengths 32 --out table.json

then per request ``ScheduleTable.load("table.json").counts(n=256, steps=32, block_length=32)``, or
:meth:`ScheduleTable.commit` for the one number a decoder step needs. Every lookup is O(1) dict reads plus the size of
its answer; loading validates the whole file once (O(file size)) and refuses files over ``max_bytes`` before reading
more than that.
"""

from __future__ import annotations

import json
import operator
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["FORMAT", "MAX_TABLE_BYTES", "Policy", "ScheduleTable", "TableMiss", "build_table", "policy_entry",
           "save_table", "validate_table"]

FORMAT = "mdmsched-table/1"
#: Largest table file :meth:`ScheduleTable.load` reads (64 MiB): a longer file, or a device such as ``/dev/zero``,
#: is refused after reading at most this many bytes.
MAX_TABLE_BYTES = 64 * 2**20


class TableMiss(KeyError):
    """A lookup the table does not hold (a ``KeyError``); the message says what is tabulated."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def _integer(value: Any, name: str) -> int:
    """An int or numpy integer (anything ``operator.index`` takes, bools refused) as a Python int."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}") from None


def _flag(value: Any, name: str) -> bool:
    """A bool option (numpy bools too); ``"yes"`` or ``2`` are a ``TypeError``. (Standard library only: the serving
    path imports no NumPy, so this is ``_validation.as_flag``'s rule by name, not by import.)"""
    if type(value).__name__ not in ("bool", "bool_"):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def _read_at_most(f: Any, size: int, chunk: int = 1 << 20) -> bytes:
    """Up to ``size`` bytes of ``f`` in 1 MiB reads: ``f.read(size)`` would allocate ``size`` bytes up front, and a
    generous ``max_bytes`` is no promise that the file is large."""
    parts: list[bytes] = []
    left = size
    while left > 0:
        part = f.read(min(chunk, left))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _in_range(value: Any, name: str, low: int, high: int) -> int:
    """An integer in ``low..high`` (``TypeError`` for a non-integer, ``ValueError`` naming the range otherwise)."""
    out = _integer(value, name)
    if not low <= out <= high:
        raise ValueError(f"{name} must be in {low}..{high}, got {out}")
    return out


def _malformed(where: str, what: str) -> ValueError:
    return ValueError(f"malformed mdmsched table: {where}: {what}")


def _int_key(key: str, where: str) -> int:
    if not (isinstance(key, str) and key.isascii() and key.isdigit() and key[0] != "0"):
        raise _malformed(where, f"key {key!r} is not a positive integer")
    return int(key)


def _int_list(value: Any, where: str, *, minimum: int) -> list[int]:
    if not isinstance(value, list) or not all(type(v) is int and v >= minimum for v in value):
        raise _malformed(where, f"expected a list of integers >= {minimum}")
    return value


def _check_entry(entry: Any, n: int, block: int | None, k: int, where: str) -> None:
    if not isinstance(entry, dict):
        raise _malformed(where, "expected an object")
    if entry.get("k") != k or type(entry.get("k")) is not int:
        raise _malformed(where, f"'k' must be {k}, the key it is stored under")
    rows = entry.get("num_transfer_tokens")
    if not isinstance(rows, list) or not rows:
        raise _malformed(where, "'num_transfer_tokens' must be a non-empty list of lists")
    size = n if block is None else block
    lengths = [min(size, n - start) for start in range(0, n, size)]
    if len(rows) != len(lengths):
        raise _malformed(where, f"{len(rows)} blocks in num_transfer_tokens, a length of {n} in blocks of {size} has "
                                f"{len(lengths)}")
    steps = 0
    for b, (row, length) in enumerate(zip(rows, lengths)):
        _int_list(row, f"{where}.num_transfer_tokens[{b}]", minimum=0)
        if sum(row) != length:
            raise _malformed(where, f"block {b} commits {sum(row)} tokens, its length is {length}")
        steps += sum(1 for c in row if c)
    if steps != k:
        raise _malformed(where, f"{steps} non-empty steps, expected k = {k}")


def _check_policy(entry: Any, n: int, where: str) -> None:
    if not isinstance(entry, dict):
        raise _malformed(where, "expected an object")
    k = entry.get("k")
    if type(k) is not int or not 1 <= k <= n:
        raise _malformed(where, f"'k' must be an integer in 1..{n}")
    count = entry.get("count")
    if not isinstance(count, list) or len(count) != n:
        raise _malformed(where, f"'count' must be a list of {n} rows (revealed = 0..{n - 1})")
    for revealed, row in enumerate(count):
        _int_list(row, f"{where}.count[{revealed}]", minimum=0)
        if len(row) != k:
            raise _malformed(where, f"count[{revealed}] has {len(row)} entries, expected k = {k}")
        left = n - revealed
        for j, c in enumerate(row, start=1):
            feasible = j <= left
            low = left if j == 1 else 1  # the last pass reveals every masked position
            if (not low <= c <= left - j + 1) if feasible else c != 0:
                raise _malformed(where, f"count[{revealed}][{j - 1}] = {c}: with {left} masked and {j} passes left "
                                        + (f"it must be in {low}..{left - j + 1}" if feasible else "it must be 0"))


def validate_table(table: Any) -> dict[str, Any]:
    """Check a decoded table's whole structure; return it. One ``ValueError`` (``malformed mdmsched table: <where>:
    <what>``) for anything wrong: wrong format tag, non-integer keys, a block that does not commit its length, a
    step count other than ``k``, a policy count outside ``1..(masked - passes_left + 1)``. O(size of the table)."""
    if not isinstance(table, dict) or table.get("format") != FORMAT:
        raise ValueError(f"not an mdmsched table: expected a JSON object with format {FORMAT!r}")
    for n, block, k, entry, where in _nested(table.get("schedules"), "schedules", "entry"):
        _check_entry(entry, n, block, k, where)
    policies = table.get("policies", {})
    if not isinstance(policies, dict):
        raise _malformed("policies", "expected an object {n: {k, count}}")
    for n_key, entry in policies.items():
        _check_policy(entry, _int_key(n_key, "policies"), f"policies.{n_key}")
    _check_block_policies(table.get("block_policies", {}))
    return table


def _block_lengths(n: int, block: int | None) -> list[int]:
    """The blocks' lengths of a row of ``n`` in blocks of ``block`` (``None``: one block of ``n``)."""
    if block is None or block >= n:
        return [n]
    return [min(block, n - start) for start in range(0, n, block)]


def _check_block_policies(by_length: Any) -> None:
    """``block_policies[n][B or "full"][k]``: one policy per block, block ``b`` of its length with its share of ``k``
    (the shares add up to ``k``)."""
    for n, block, k, entries, where in _nested(by_length, "block_policies", "[policy per block]"):
        lengths = _block_lengths(n, block)
        if not isinstance(entries, list) or len(entries) != len(lengths):
            raise _malformed(where, f"expected a list of {len(lengths)} policies (one per block)")
        for b, (entry, length) in enumerate(zip(entries, lengths)):
            _check_policy(entry, length, f"{where}[{b}]")
        if sum(entry["k"] for entry in entries) != k:
            raise _malformed(where, f"the blocks' budgets add up to {sum(e['k'] for e in entries)}, not k = {k}")


def _nested(section: Any, name: str, leaf: str) -> Iterator[tuple[int, int | None, int, Any, str]]:
    """The leaves of ``section[n][B or "full"][k]`` as ``(n, block, k, leaf, where)``: the one walk the schedules and the
    block policies share, refusing (``ValueError`` naming the place) anything that is not that nesting."""
    if not isinstance(section, dict):
        raise _malformed(name, f"expected an object {{n: {{block length: {{k: {leaf}}}}}}}")
    for n_key, by_block in section.items():
        n = _int_key(n_key, name)
        if not isinstance(by_block, dict):
            raise _malformed(f"{name}.{n_key}", f"expected an object {{block length: {{k: {leaf}}}}}")
        for b_key, by_steps in by_block.items():
            block = None if b_key == "full" else _int_key(b_key, f"{name}.{n_key}")
            if not isinstance(by_steps, dict):
                raise _malformed(f"{name}.{n_key}.{b_key}", f"expected an object {{k: {leaf}}}")
            for k_key, value in by_steps.items():
                yield n, block, _int_key(k_key, f"{name}.{n_key}.{b_key}"), value, f"{name}.{n_key}.{b_key}.{k_key}"


class Policy:
    """A closed-loop policy read from a table: :meth:`count` is ``c*(revealed, passes_left)`` (SPEC §5.4)."""

    def __init__(self, n: int, k: int, count: list[list[int]]) -> None:
        n, k = _in_range(n, "n", 1, 2**62), _in_range(k, "k", 1, 2**62)
        if not isinstance(count, list) or len(count) != n:
            raise (TypeError if not isinstance(count, list) else ValueError)(
                f"count must be a list of n = {n} rows (one per revealed count), got {type(count).__name__}")
        for revealed, row in enumerate(count):
            _int_list(row, f"count[{revealed}]", minimum=0)
            if len(row) != k:
                raise ValueError(f"count[{revealed}] must have k = {k} entries (one per passes_left), got {len(row)}")
        self.n, self.k, self.table = n, k, count

    def count(self, revealed: int, passes_left: int) -> int:
        """Tokens to commit with ``revealed`` of ``n`` revealed and ``passes_left`` passes left (0 when
        ``passes_left`` exceeds the masked count). ``ValueError`` outside ``0 <= revealed < n``,
        ``1 <= passes_left <= k``. O(1)."""
        revealed = _in_range(revealed, "revealed", 0, self.n - 1)
        passes_left = _in_range(passes_left, "passes_left", 1, self.k)
        return self.table[revealed][passes_left - 1]

    def __repr__(self) -> str:
        return f"Policy(n={self.n}, k={self.k})"


class ScheduleTable:
    """A loaded ``mdmsched table``: optimal schedules by length ``n``, block length (``None`` = one block of ``n``)
    and step budget ``k``, and closed-loop policies by ``n``. Lookups are dict reads, O(1) plus the answer."""

    def __init__(self, table: dict[str, Any]) -> None:
        self.table = validate_table(table)
        self.schedules: dict[str, dict[str, dict[str, Any]]] = table["schedules"]
        self.policies: dict[str, dict[str, Any]] = table.get("policies", {})
        self.block_policies: dict[str, dict[str, dict[str, list[dict[str, Any]]]]] = table.get("block_policies", {})

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, max_bytes: int = MAX_TABLE_BYTES) -> ScheduleTable:
        """Read a table written by :func:`save_table` / ``mdmsched table --out FILE``. Reads at most ``max_bytes``
        (``ValueError`` beyond: a huge file or a device is never read to the end); a file that is not UTF-8 JSON
        or not a well-formed table is one ``ValueError``."""
        limit = _in_range(max_bytes, "max_bytes", 1, 2**62)
        if Path(path).is_dir():
            raise ValueError(f"{os.fspath(path)} is a directory, not a table file")
        with Path(path).open("rb") as f:
            raw = _read_at_most(f, limit + 1)
        if len(raw) > limit:
            raise ValueError(f"{os.fspath(path)} is larger than max_bytes = {limit}: not read (a table is JSON of a "
                             "few MiB at most; raise max_bytes if yours is larger)")
        try:
            decoded = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError) as exc:  # JSONDecodeError / UnicodeDecodeError are ValueErrors
            raise ValueError(f"{os.fspath(path)} is not a JSON table: {type(exc).__name__}: "
                             f"{str(exc)[:200] or 'nested too deeply'}") from None
        return cls(decoded)

    @property
    def lengths(self) -> list[int]:
        """The tabulated lengths ``n``, ascending."""
        return sorted(map(int, self.schedules))

    def _length_key(self, n: int, block_length: int | None, nearest: bool) -> tuple[str, bool]:
        n = _in_range(n, "n", 1, 2**62)
        if str(n) in self.schedules:
            return str(n), False
        if nearest and block_length is None and self.schedules:
            fits = [m for m in self.lengths if "full" in self.schedules[str(m)]]
            if fits:
                return str(min(fits, key=lambda m: (abs(m - n), m))), True
        hint = "; nearest=True rescales the nearest tabulated length (one block of n only)" if block_length is None \
            else ""
        raise TableMiss(f"no schedules for n = {n}; the table has n in {self.lengths}{hint}")

    def entry(self, n: int, steps: int, block_length: int | None = None, *, at_most: bool = False,
              nearest: bool = False) -> dict[str, Any]:
        """The entry ``{k, error, sizes, blocks, num_transfer_tokens}`` for length ``n``, block length and ``steps``.

        ``at_most=True``: the largest tabulated budget ``k <= steps`` (a server's budget). ``nearest=True`` (one
        block of ``n`` only): for an untabulated ``n``, the nearest tabulated length's schedule with its breakpoints
        rescaled to ``n`` (revealed fractions kept, every step >= 1; ``rescaled_from`` says which length) -- the
        fit ``mdmsched table --fit interp`` uses, not an optimum for ``n``. ``TableMiss`` (a ``KeyError``) names what
        is tabulated when nothing fits."""
        at_most, nearest = _flag(at_most, "at_most"), _flag(nearest, "nearest")
        steps = _in_range(steps, "steps", 1, 2**62)
        if block_length is not None:
            block_length = _in_range(block_length, "block_length", 1, 2**62)
        key, rescale = self._length_key(n, block_length, nearest)
        by_block = self.schedules[key]
        b_key = "full" if block_length is None else str(block_length)
        by_steps = by_block.get(b_key)
        if by_steps is None:
            raise TableMiss(f"no schedules for n = {key}, block length {b_key}; the table has {sorted(by_block)}")
        found: dict[str, Any] | None = by_steps.get(str(steps))
        if found is None and at_most:
            fitting = [int(k) for k in by_steps if int(k) <= steps]
            found = by_steps[str(max(fitting))] if fitting else None
        if found is None:
            raise TableMiss(f"no schedule with k = {steps} for n = {key}, block length {b_key}; the table has k in "
                            f"{sorted(map(int, by_steps))}" + ("" if at_most else " (at_most=True takes the largest "
                                                                                   "k <= steps)"))
        return _rescaled(found, int(key), n) if rescale else found

    def counts(self, n: int, steps: int, block_length: int | None = None, *, at_most: bool = False,
               nearest: bool = False) -> list[list[int]]:
        """Tokens to commit per block and step: ``counts[b][i]`` (zero-padded to the widest block), the table a
        LLaDA-style loop or a decoder plug-in indexes."""
        entry = self.entry(n, steps, block_length, at_most=at_most, nearest=nearest)
        return [list(row) for row in entry["num_transfer_tokens"]]

    def commit(self, n: int, steps: int, block_length: int | None, block: int, step: int, *,
               at_most: bool = False, nearest: bool = False) -> int:
        """What one decoder step commits: step ``step`` (``>= 0``; 0 past the block's last step) of block ``block``
        (``0 <= block < number of blocks``, else ``ValueError``: no negative indexing into another block)."""
        rows = self.entry(n, steps, block_length, at_most=at_most, nearest=nearest)["num_transfer_tokens"]
        block = _in_range(block, "block", 0, len(rows) - 1)
        step = _in_range(step, "step", 0, 2**62)
        row = rows[block]
        return int(row[step]) if step < len(row) else 0

    def policy(self, n: int, steps: int | None = None, block_length: int | None = None, block: int = 0) -> Policy:
        """The closed-loop policy stored for length ``n`` (``TableMiss`` naming what the table has).

        Without ``steps``: the one policy :func:`build_table` was given for ``n`` (``policies=``). With ``steps``: the
        policy ``mdmsched table --policy`` stored next to the schedule for ``(n, block_length, steps)``, of block
        ``block`` (its length, its share of the ``steps``; ``None`` = one block of ``n``). O(1)."""
        n = _in_range(n, "n", 1, 2**62)
        if steps is not None:
            return self._block_policy(n, _in_range(steps, "steps", 1, 2**62), block_length, block)
        entry = self.policies.get(str(n))
        if entry is None:
            raise TableMiss(f"no closed-loop policy for n = {n}; the table has policies for n in "
                            f"{sorted(map(int, self.policies))}")
        return Policy(n, entry["k"], entry["count"])

    def _block_policy(self, n: int, steps: int, block_length: int | None, block: int) -> Policy:
        if block_length is not None:
            block_length = _in_range(block_length, "block_length", 1, 2**62)
        b_key = "full" if block_length is None else str(block_length)
        by_steps = self.block_policies.get(str(n), {}).get(b_key)
        if by_steps is None or str(steps) not in by_steps:
            have = sorted((int(m), b, int(k)) for m, by_b in self.block_policies.items() for b, ks in by_b.items()
                          for k in ks)
            raise TableMiss(f"no closed-loop policy for n = {n}, block length {b_key}, k = {steps}; the table has "
                            f"(n, block length, k) in {have} (build with mdmsched table --policy)")
        entries = by_steps[str(steps)]
        block = _in_range(block, "block", 0, len(entries) - 1)
        entry = entries[block]
        return Policy(len(entry["count"]), entry["k"], entry["count"])


def _rescaled(entry: dict[str, Any], source: int, n: int) -> dict[str, Any]:
    """``entry`` (one block of ``source``) moved to length ``n``: breakpoints ``round(N_j n / source)``, then pushed
    apart so every step keeps >= 1 token (and the last ends at ``n``); fewer steps when ``k > n``."""
    sizes = [c for c in entry["num_transfer_tokens"][0] if c]
    k = min(len(sizes), n)
    cuts, total = [], 0
    for s in sizes[:-1]:
        total += s
        cuts.append((total * n * 2 + source) // (2 * source))  # round half up, integers only
    cuts = cuts[: k - 1]
    out, low = [], 0
    for j, cut in enumerate(cuts):
        high = n - (k - 1 - j)  # leave one token for each later step
        low = min(max(cut, low + 1), high)
        out.append(low)
    breaks = [0, *out, n]
    steps = [b - a for a, b in zip(breaks, breaks[1:])]
    return {"k": len(steps), "error": None, "sizes": steps, "blocks": [steps], "num_transfer_tokens": [steps],
            "rescaled_from": source}


# ---- building (imports mdmsched when called) ---------------------------------------------------------------------


def _schedule_entry(curve: Any, block: int | None, steps: int, fit: str) -> dict[str, Any] | None:
    from ..curves.hygiene import fit_curve
    from ..schedules import blockwise
    from ..solve import optimal_schedule

    n = curve.size
    if block is None or block >= n:
        if steps > n:
            return None
        sched = optimal_schedule(curve, steps)
        blocks, error = [sched.tolist()], sched.error
    else:
        lengths = [min(block, n - start) for start in range(0, n, block)]
        if not len(lengths) <= steps <= n:
            return None
        plan = blockwise(n, block, total_steps=steps, curves=[fit_curve(curve, m, fit) for m in lengths])
        blocks, error = [b.tolist() for b in plan.blocks], plan.error
    width = max(len(b) for b in blocks)
    return {"k": steps, "error": error, "sizes": [s for b in blocks for s in b], "blocks": blocks,
            "num_transfer_tokens": [b + [0] * (width - len(b)) for b in blocks]}


def policy_entry(policy: Any, n: int | None = None) -> dict[str, Any]:
    """A closed-loop policy as a table entry ``{k, count}``: ``policy`` is an object with a ``.table`` array (as
    ``mdmsched.closed_loop_policy(Z, k)`` returns, ``(n + 1, k + 1)``) or the int array itself, ``count[revealed, passes_left - 1]`` of shape
    ``(n, k)``. Checked as :func:`validate_table` checks a loaded one. O(n k)."""
    import numpy as np

    raw = getattr(policy, "table", policy)
    arr = np.asarray(raw)
    if arr.dtype.kind not in "iu" or arr.ndim != 2:
        raise TypeError(f"policy must be an (n, k) integer array or have one as .table, got {arr.dtype} {arr.shape}")
    if arr.shape == (getattr(policy, "n", -1) + 1, getattr(policy, "k", -1) + 1):
        # a ClosedLoopPolicy's table[N, j] has the row N = n and the column j = 0 (no step), and answers states with
        # more passes than masked positions; a table holds 0 there (no plan uses them)
        n_rows, k_cols = arr.shape[0] - 1, arr.shape[1] - 1
        arr = np.where(np.arange(1, k_cols + 1)[None, :] <= n_rows - np.arange(n_rows)[:, None], arr[:-1, 1:], 0)
    if n is not None and arr.shape[0] != _in_range(n, "n", 1, 2**62):
        raise ValueError(f"policy has {arr.shape[0]} rows (revealed = 0..n-1), expected n = {n}")
    entry = {"k": int(arr.shape[1]), "count": arr.astype(np.int64).tolist()}
    _check_policy(entry, int(arr.shape[0]), "policy")
    return entry


def build_table(curves: Mapping[int, Any], steps: Iterable[int], block_lengths: Sequence[int | None] = (None,), *,
                fit: str = "interp", policies: Mapping[int, Any] | None = None,
                closed_loop: bool = False) -> dict[str, Any]:
    """The ``mdmsched-table/1`` object for per-length curves ``curves[n]`` (each a curve of length ``n``): the
    optimal schedule for every (n, block length, k) (``None`` = one block of ``n``; blocks split ``k`` optimally,
    each block's curve fitted from ``curves[n]`` by ``fit``), infeasible ones (``k > n``, fewer steps than
    blocks) listed under ``skipped``; ``policies[n]`` (optional) a closed-loop policy per length
    (:func:`policy_entry`). ``closed_loop=True`` (``mdmsched table --policy``): next to every schedule, under
    ``block_policies[n][B or "full"][k]``, the closed-loop policy of each block (SPEC §5.4: the block's curve, as
    fitted for the schedule, and the block's steps in that schedule). O(lengths x block lengths x budgets x solver),
    plus O(k n log n) per policy."""
    from .._validation import as_choice, as_count, as_curve

    fit = as_choice(fit, "fit", ("interp", "truncate"))
    if isinstance(steps, (str, bytes)):
        raise TypeError(f"steps must be integers (step budgets k), got {type(steps).__name__}")
    budgets = sorted({as_count(k, "steps") for k in steps})
    if not budgets:
        raise ValueError("steps must name at least one step budget k")
    closed_loop = _flag(closed_loop, "closed_loop")
    blocks = [None if b is None else as_count(b, "block length") for b in block_lengths]
    schedules: dict[str, dict[str, dict[str, Any]]] = {}
    skipped: list[list[Any]] = []
    for n in sorted(curves):
        curve = as_curve(curves[n], f"curve for length {n}")
        if curve.size != n:
            raise ValueError(f"curve for length {n} has {curve.size} entries")
        by_block = schedules.setdefault(str(n), {})
        for block in blocks:
            key = "full" if block is None else str(block)
            for k in budgets:
                entry = _schedule_entry(curve, block, k, fit)
                if entry is None:
                    skipped.append([n, key, k])
                else:
                    by_block.setdefault(key, {})[str(k)] = entry
    table = {"format": FORMAT, "fit": fit, "units": "nats", "lengths": sorted(curves), "steps": budgets,
             "block_lengths": [b for b in blocks if b is not None], "skipped": skipped, "schedules": schedules}
    if policies:
        table["policies"] = {str(n): policy_entry(p, n) for n, p in sorted(policies.items())}
    if closed_loop:
        table["block_policies"] = {n_key: {b_key: {k_key: _policy_entries(curves[int(n_key)], entry["blocks"], fit)
                                                   for k_key, entry in by_steps.items()}
                                           for b_key, by_steps in by_block.items()}
                                   for n_key, by_block in schedules.items()}
    return validate_table(table)


def _policy_entries(curve: Any, blocks: list[list[int]], fit: str) -> list[dict[str, Any]]:
    """One closed-loop policy per block of a stored schedule: the block's curve (the whole curve for one block, else
    fitted to the block's length as :func:`_schedule_entry` fits it) with the block's number of steps."""
    from .._validation import as_curve
    from ..closed_loop import closed_loop_policy
    from ..curves.hygiene import fit_curve

    curve = as_curve(curve)
    out = []
    for sizes in blocks:
        length = sum(sizes)
        block_curve = curve if len(blocks) == 1 else fit_curve(curve, length, fit)
        out.append(policy_entry(closed_loop_policy(block_curve, len(sizes)), length))
    return out


def save_table(table: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Validate ``table`` and write it as strict JSON (no NaN or infinity) to ``path``. O(size)."""
    checked = validate_table(dict(table))
    text = json.dumps(checked, allow_nan=False, separators=(",", ":"))
    Path(path).write_text(text + "\n", encoding="utf-8")
