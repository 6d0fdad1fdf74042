"""Serving lookup: the ``mdmsched table`` JSON as the counts of an SGLang ``DllmAlgorithm`` / dInfer decoder.

Reference implementation in plain Python: this module imports only the standard library (``json``, ``pathlib``; no mdmsched,
numpy or torch), so a server can copy it, or import it, and do no mdmsched work at request time. Build the table offline::

    mdmsched table curve.npy --lengths 256,512 --steps 16,32,64 --block-lengths 32 --out table.json

then, per request, ``ScheduleTable.load("table.json").counts(n=256, steps=32, block_length=32)`` gives the tokens
to commit at each step of each block (``counts[b][i]``: step ``i`` of block ``b``, zero-padded), and
:meth:`ScheduleTable.commit` the one number a decoder step needs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["ScheduleTable"]

FORMAT = "mdmsched-table/1"


class ScheduleTable:
    """A loaded ``mdmsched table`` (format ``mdmsched-table/1``): optimal schedules by length ``n``, block length
    (``None`` = one block of ``n``) and step budget ``k``. Lookups are dict reads, O(1) plus the size of the answer."""

    def __init__(self, table: dict[str, Any]) -> None:
        if not isinstance(table, dict) or table.get("format") != FORMAT:
            raise ValueError(f"not an mdmsched table: expected a JSON object with format {FORMAT!r}")
        self.table = table
        self.schedules: dict[str, dict[str, dict[str, Any]]] = table["schedules"]

    @classmethod
    def load(cls, path: str | Path) -> ScheduleTable:
        """Read a table written by ``mdmsched table --out FILE`` (or its ``--json`` stdout)."""
        with Path(path).open(encoding="utf-8") as f:
            return cls(json.load(f))

    def entry(self, n: int, steps: int, block_length: int | None = None, *, at_most: bool = False) -> dict[str, Any]:
        """The table's entry ``{k, error, sizes, blocks, num_transfer_tokens}`` for length ``n``, block length
        ``block_length`` and ``steps`` steps; with ``at_most=True`` the largest tabulated budget ``k <= steps`` (a
        server's budget rather than an exact one). ``KeyError`` names what is missing."""
        by_block = self.schedules.get(str(n))
        if by_block is None:
            raise KeyError(f"no schedules for n = {n}; the table has n in {sorted(map(int, self.schedules))}")
        key = "full" if block_length is None else str(block_length)
        by_steps = by_block.get(key)
        if by_steps is None:
            raise KeyError(f"no schedules for n = {n}, block length {key}; the table has {sorted(by_block)}")
        if str(steps) in by_steps:
            found: dict[str, Any] = by_steps[str(steps)]
            return found
        fitting = [int(k) for k in by_steps if int(k) <= steps]
        if not at_most or not fitting:
            raise KeyError(f"no schedule with k = {steps} for n = {n}, block length {key}; the table has k in "
                           f"{sorted(map(int, by_steps))}")
        best: dict[str, Any] = by_steps[str(max(fitting))]
        return best

    def counts(self, n: int, steps: int, block_length: int | None = None, *,
               at_most: bool = False) -> list[list[int]]:
        """Tokens to commit per block and step: ``counts[b][i]`` (zero-padded to the widest block), the table a
        LLaDA-style loop or a decoder plug-in indexes."""
        return [list(row) for row in self.entry(n, steps, block_length, at_most=at_most)["num_transfer_tokens"]]

    def commit(self, n: int, steps: int, block_length: int | None, block: int, step: int, *,
               at_most: bool = False) -> int:
        """What one decoder step commits: step ``step`` of block ``block`` (0 past the block's last step)."""
        row = self.entry(n, steps, block_length, at_most=at_most)["num_transfer_tokens"][block]
        return int(row[step]) if step < len(row) else 0
