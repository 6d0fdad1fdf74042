"""The infilling task on held-out standard-library files: restore a masked span of a real source line (no torch).

An item is a row of ``n`` bytes of one test-split file: context before, a source line, context after, with a
contiguous span of ``span`` bytes inside the line's non-indentation text set to :data:`MASK_ID`. The span sits at the
same place in every row (positions ``(n - span) // 2`` onwards), so one ``region`` of length ``n`` serves every item
and every sampler entry point (``sample_with_rule``, ``evaluate_sampler``, ``sampler_map``, ``calibrate``).

Lines qualify when they are ``20..60`` bytes long (without the newline), hold at least one letter and one of
``=().[]:,``, are not comments, tokenize on their own (``stdlib_scorers.tokenizes``) and have ``n`` bytes of their
file on either side. Items are drawn without replacement from all qualifying lines of the split with
``numpy.random.default_rng(seed)``; the span's start is then uniform over the places that keep the span inside the
line's text and the whole line inside the row (so the scorers see all of it).

JSONL (:func:`write_jsonl` / :func:`read_jsonl`), one object per item::

    {"prompt": [n ints, 256 = masked], "reference": [n ints], "region": [start, stop],
     "file": "relative/path.py", "line": 1-based line number}

``region`` is the half-open span ``prompt[start:stop]`` (all 256); ``reference`` is the true row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from stdlib_data import MASK_ID, Corpus
from stdlib_scorers import tokenizes

__all__ = ["TaskItems", "candidate_lines", "make_items", "read_jsonl", "write_jsonl"]

_CODE_CHARS = frozenset(b"=().[]:,")


@dataclass(frozen=True)
class TaskItems:
    """``prompts`` (B x n int64, span = MASK_ID), ``references`` (B x n int64), ``spans`` (B x 2: start, stop; the
    same in every row), ``region`` (n bools, True on the span: what the samplers generate), ``files`` / ``lines``
    (provenance)."""

    prompts: NDArray[np.int64] = field(repr=False)
    references: NDArray[np.int64] = field(repr=False)
    spans: NDArray[np.int64] = field(repr=False)
    files: tuple[str, ...] = field(repr=False)
    lines: tuple[int, ...] = field(repr=False)

    @property
    def region(self) -> NDArray[np.bool_]:
        """True at the masked positions (one layout shared by every row)."""
        out: NDArray[np.bool_] = self.prompts[0] == MASK_ID
        return out

    def __len__(self) -> int:
        return int(self.prompts.shape[0])

    def __repr__(self) -> str:
        return f"TaskItems({len(self)} rows of {self.prompts.shape[1]} bytes, span {self.spans[0, 1] - self.spans[0, 0]})"


def _qualifies(line: bytes, span: int) -> bool:
    text = line.lstrip(b" \t")
    return (20 <= len(line) <= 60 and len(text) >= span and not text.startswith(b"#")
            and any(chr(c).isalpha() for c in text if c < 128) and any(c in _CODE_CHARS for c in text)
            and tokenizes(line))


def _span_starts(offset: int, length: int, indent: int, n: int, span: int) -> tuple[int, int]:
    """Inclusive range of file offsets where the span may start: inside the line's text, and with the row (the span
    at position ``(n - span) // 2``) holding the whole line, so the scorers see all of it."""
    at = (n - span) // 2
    return max(offset + indent, offset + length - n + at), min(offset + length - span, offset + at)


def candidate_lines(corpus: Corpus, split: str, n: int, span: int) -> list[tuple[int, int, int, int, int]]:
    """Every qualifying line as ``(file index, line number, byte offset in the file, length, indent width)``."""
    out = []
    for index in range(len(corpus.files[split])):
        blob = corpus.file_bytes(split, index)
        offset = 0
        for number, line in enumerate(blob.split(b"\n"), start=1):
            indent = len(line) - len(line.lstrip(b" \t"))
            lo, hi = _span_starts(offset, len(line), indent, n, span)
            if _qualifies(line, span) and lo <= hi and offset - n >= 0 and offset + len(line) + n <= len(blob):
                out.append((index, number, offset, len(line), indent))
            offset += len(line) + 1
    return out


def make_items(corpus: Corpus, count: int, *, n: int = 128, span: int = 8, split: str = "test",
               seed: int = 0) -> TaskItems:
    """``count`` task items from ``split`` (see the module docstring). O(split bytes) to find the lines."""
    if not 1 <= span <= 20:
        raise ValueError(f"span must be in 1..20 (the shortest line is 20 bytes), got {span}")
    candidates = candidate_lines(corpus, split, n, span)
    if count > len(candidates):
        raise ValueError(f"count must be at most the {len(candidates)} qualifying lines, got {count}")
    rng = np.random.default_rng(seed)
    picks = np.sort(rng.choice(len(candidates), size=count, replace=False))
    prompts, references, spans, files, lines = [], [], [], [], []
    for pick in picks:
        index, number, offset, length, indent = candidates[pick]
        blob = corpus.file_bytes(split, index)
        lo, hi = _span_starts(offset, length, indent, n, span)
        at = int(rng.integers(lo, hi + 1))  # span start in the file
        start = (n - span) // 2
        row = np.frombuffer(blob[at - start:at - start + n], dtype=np.uint8).astype(np.int64)
        prompt = row.copy()
        prompt[start:start + span] = MASK_ID
        prompts.append(prompt)
        references.append(row)
        spans.append((start, start + span))
        files.append(corpus.files[split][index])
        lines.append(number)
    return TaskItems(np.array(prompts), np.array(references), np.array(spans, dtype=np.int64), tuple(files),
                     tuple(lines))


def write_jsonl(items: TaskItems, path: str | Path) -> None:
    """One JSON object per item (format in the module docstring)."""
    with Path(path).open("w") as f:
        f.writelines(json.dumps({"prompt": items.prompts[k].tolist(), "reference": items.references[k].tolist(),
                                "region": items.spans[k].tolist(), "file": items.files[k],
                                "line": items.lines[k]}) + "\n" for k in range(len(items)))


def read_jsonl(path: str | Path) -> TaskItems:
    """The items written by :func:`write_jsonl`."""
    records: list[dict[str, Any]] = [json.loads(line) for line in Path(path).read_text().splitlines() if line]
    return TaskItems(np.array([r["prompt"] for r in records], dtype=np.int64),
                     np.array([r["reference"] for r in records], dtype=np.int64),
                     np.array([r["region"] for r in records], dtype=np.int64),
                     tuple(r["file"] for r in records), tuple(r["line"] for r in records))
