"""A sampler from text arguments (``rule=threshold:0.9``, ``schedule=plan.json``, ``table=table.json``, ``steps=64``),
as the lm-eval plug-in (:mod:`mdmsched.adapters.lm_eval`) and other command-line front ends receive them.

Rules (``rule=NAME[:VALUE]``), the package's :mod:`mdmsched.samplers.rules`:

* ``random``: :class:`~mdmsched.samplers.RandomOrder` (uniform positions; the theorem's sampler);
* ``top_k`` / ``top_k:margin`` / ``top_k:neg_entropy``: :class:`~mdmsched.samplers.TopK` (LLaDA ``low_confidence``);
* ``floor_threshold:TAU`` (default 0.95): :class:`~mdmsched.samplers.FloorThreshold`;
* ``threshold:TAU`` (default 0.9), ``entropy_bounded:GAMMA`` (default 0.1, nats), ``factor:F`` (default 1): the rules
  that choose their own counts.

The first three take their per-step counts from exactly one source: ``steps=K`` (LLaDA's equal split,
:func:`mdmsched.schedules.practice.llada_blocks`), ``schedule=FILE`` (``mdmsched solve --json`` output, a
``Schedule.to_json`` or a ``BlockSchedule.to_json`` file) or ``table=FILE`` plus ``steps=K`` (an ``mdmsched table``
file, looked up at ``n = gen_length``, the block length and ``k = K``). A bad value is one ``ValueError`` that names
the argument (a ``TypeError`` for a value of the wrong kind, e.g. a number as ``rule=``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._schedule import BlockSchedule, Schedule
from .._validation import as_count
from ..samplers.loop import block_lengths as split_blocks
from ..samplers.rules import EntropyBounded, Factor, FloorThreshold, RandomOrder, Rule, Threshold, TopK
from ..schedules.practice import llada_blocks
from .serving import ScheduleTable

__all__ = ["COUNTED_RULES", "RULES", "SamplerChoice", "arg_count", "sampler_from_args"]

#: Rules whose per-step counts come from ``steps=``, ``schedule=`` or ``table=``.
COUNTED_RULES = ("random", "top_k", "floor_threshold")
#: The largest schedule or table file read (bytes): schedules and tables are JSON of a few MiB at most.
MAX_FILE_BYTES = 64 * 2**20
#: Every rule name ``rule=`` takes.
RULES = (*COUNTED_RULES, "threshold", "entropy_bounded", "factor")


@dataclass(frozen=True)
class SamplerChoice:
    """A parsed sampler: the ``rule``, the generated canvas's ``block_lengths`` (summing to ``gen_length``) and a
    one-line ``description`` for logs and results."""

    rule: Rule
    block_lengths: list[int]
    description: str


#: Largest count a text argument takes: a sequence length or step count far beyond any model's.
MAX_ARG_COUNT = 2**40


def arg_count(value: Any, name: str, minimum: int = 1) -> int:
    """A count from a text argument (``"64"`` or 64) under the package's one count rule (``as_count``); the
    error names ``name=value``. Bools and floats are ``TypeError``."""
    number = value
    if isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            raise ValueError(f"{name}={value!r} is not an integer") from None
    try:
        return as_count(number, name, minimum, MAX_ARG_COUNT)
    except (TypeError, ValueError) as err:
        raise type(err)(f"{name}={value!r}: {err}") from None


def _positive(value: Any, name: str) -> int | None:
    return None if value is None else arg_count(value, name)


def _read_json(path: Any, name: str) -> Any:
    if not isinstance(path, (str, Path)):
        raise TypeError(f"{name}={path!r} must be a path to a JSON file")
    try:
        with Path(path).open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)  # bounded: a huge file or a device is never read to the end
    except OSError as err:
        raise ValueError(f"{name}={str(path)!r}: cannot read the file ({err.strerror or err})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ValueError(f"{name}={str(path)!r}: larger than {MAX_FILE_BYTES} bytes, not a schedule or table")
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ValueError(f"{name}={str(path)!r}: not valid JSON ({str(err)[:200]})") from None


def _schedule_counts(path: Any, gen_length: int, block_length: int | None) -> tuple[list[Any], list[int]]:
    """Per-block size lists and block lengths from a schedule file (solve --json, Schedule or BlockSchedule JSON)."""
    data = _read_json(path, "schedule")
    where = f"schedule={str(path)!r}"
    if isinstance(data, dict) and data.get("format", "").startswith("mdmsched-table"):
        raise ValueError(f"{where} is an mdmsched table: pass it as table= with steps=")
    try:
        if isinstance(data, dict) and isinstance(data.get("schedule"), dict):  # `mdmsched solve --json`
            data = data["schedule"]
        if isinstance(data, dict) and "blocks" in data:
            blocks = BlockSchedule.from_json(data)
            lengths = list(blocks.block_lengths)
            if blocks.n != gen_length:
                raise ValueError(f"the block schedule covers {blocks.n} positions, gen_length is {gen_length}")
            if block_length is not None and lengths != split_blocks(gen_length, block_length):
                raise ValueError(f"its blocks {lengths} are not gen_length {gen_length} cut into block_length "
                                 f"{block_length} (leave block_length out to use the schedule's blocks)")
            return list(blocks.blocks), lengths
        one = Schedule.from_json(data)
    except (TypeError, ValueError, KeyError) as err:
        raise ValueError(f"{where}: {err}") from None
    lengths = split_blocks(gen_length, block_length)
    if any(length != one.n for length in lengths):
        raise ValueError(f"{where} covers {one.n} positions but the blocks are {lengths} (gen_length {gen_length}, "
                         f"block_length {block_length}); solve for n = block_length or give a BlockSchedule")
    return [one] * len(lengths), lengths


def _table_counts(path: Any, steps: int | None, gen_length: int,
                  block_length: int | None) -> tuple[list[Any], list[int]]:
    if steps is None:
        raise ValueError("table= needs steps= (the step budget k to look up)")
    data = _read_json(path, "table")
    try:
        table = ScheduleTable(data)
        entry = table.entry(gen_length, steps, block_length)
    except (KeyError, ValueError, TypeError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
        raise ValueError(f"table={str(path)!r}: {message}") from None
    blocks = [list(b) for b in entry["blocks"]]
    lengths = split_blocks(gen_length, block_length)
    if [sum(b) for b in blocks] != lengths:
        raise ValueError(f"table={str(path)!r}: its blocks cover {[sum(b) for b in blocks]}, the canvas {lengths}")
    return blocks, lengths


def _parameter(text: str, default: float) -> float:
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None


def sampler_from_args(rule: Any = "top_k", *, gen_length: int, block_length: Any = None, steps: Any = None,
                      schedule: Any = None, table: Any = None) -> SamplerChoice:
    """The sampler that ``rule``, ``steps``, ``schedule`` and ``table`` describe (module doc) for ``gen_length``
    generated positions cut into blocks of ``block_length`` (None: one block). ``ValueError`` naming the argument for
    any bad value (unknown rule, threshold out of range, missing or malformed file, counts that do not fit the blocks).
    O(gen_length) plus reading the file."""
    n = arg_count(gen_length, "gen_length")  # required: None is a TypeError, not an assertion
    length = _positive(block_length, "block_length")
    budget = _positive(steps, "steps")
    if rule is None:
        rule = "top_k"
    if not isinstance(rule, str):
        raise TypeError(f"rule={rule!r} must be one of {', '.join(RULES)} (with ':VALUE' where it takes one)")
    name, _, value = rule.partition(":")
    if name not in RULES:
        raise ValueError(f"rule={rule!r}: unknown rule {name!r}; one of {', '.join(RULES)}")
    if schedule is not None and table is not None:
        raise ValueError("give schedule= or table=, not both")
    if name not in COUNTED_RULES:
        for arg, given in (("steps", steps), ("schedule", schedule), ("table", table)):
            if given is not None:
                raise ValueError(f"{arg}={given!r}: rule {rule!r} chooses its own counts; drop {arg}=")
        lengths = split_blocks(n, length)
        try:
            chosen: Rule
            if name == "threshold":
                chosen = Threshold(_parameter(value, 0.9))
            elif name == "entropy_bounded":
                chosen = EntropyBounded(_parameter(value, 0.1))
            else:
                chosen = Factor(_parameter(value, 1.0))
        except (TypeError, ValueError) as err:
            raise ValueError(f"rule={rule!r}: {err}") from None
        return SamplerChoice(chosen, lengths, f"{chosen!r}, blocks {lengths}")
    if schedule is not None:
        if steps is not None:
            raise ValueError(f"steps={steps!r}: schedule= fixes the steps; drop steps=")
        counts, lengths = _schedule_counts(schedule, n, length)
        source = f"schedule {schedule}"
    elif table is not None:
        counts, lengths = _table_counts(table, budget, n, length)
        source = f"table {table} (k = {budget})"
    elif budget is not None:
        try:
            plan = llada_blocks(n, length or n, budget)
        except ValueError as err:
            raise ValueError(f"steps={steps!r}: {err}") from None
        counts, lengths = list(plan.blocks), list(plan.block_lengths)
        source = f"LLaDA equal split, steps {budget}"
    else:
        raise ValueError(f"rule={rule!r} needs its counts: steps=K, schedule=FILE or table=FILE with steps=K")
    try:
        if name == "random":
            if value:
                raise ValueError("random takes no value")
            chosen = RandomOrder(counts)
        elif name == "top_k":
            chosen = TopK(counts, value or "max_prob")  # type: ignore[arg-type]
        else:
            chosen = FloorThreshold(counts, _parameter(value, 0.95))
        chosen.validate(lengths)
    except (TypeError, ValueError) as err:
        raise ValueError(f"rule={rule!r}: {err}") from None
    return SamplerChoice(chosen, lengths, f"{chosen!r} from {source}, blocks {lengths}")
