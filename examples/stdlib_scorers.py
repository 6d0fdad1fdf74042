"""Scorers of the standard-library infilling task: plain functions ``(prompt_row, output_row, reference) -> float``
in ``[0, 1]``. Standard library and NumPy only: this module never imports torch or the model (a test checks), so a
score cannot depend on anything but the three rows.

Rows are byte ids (``0..255``) of one length ``n``; in ``prompt_row`` the span to restore is :data:`MASK_ID` (256).
``output_row`` is the sampler's completed row, ``reference`` the true row.

* :func:`exact_span` -- 1 when every masked byte equals the reference's, else 0.
* :func:`span_byte_accuracy` -- the fraction of masked bytes restored correctly.
* :func:`line_tokenizes` -- 1 when the restored *line* (from the newline before the span to the newline after it,
  both found in the prompt's revealed context) decodes as UTF-8 and Python's :mod:`tokenize` reads it without error
  or ``ERRORTOKEN``. The task only picks lines whose reference passes this check.
"""

from __future__ import annotations

import io
import tokenize

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["MASK_ID", "SCORERS", "exact_span", "line_bounds", "line_tokenizes", "span_byte_accuracy", "tokenizes"]

MASK_ID = 256
_NEWLINE = 10


def _rows(prompt_row: ArrayLike, output_row: ArrayLike,
          reference: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """The three rows as 1-D int64 arrays of one length, and the span mask (prompt == MASK_ID, at least one)."""
    p, o, r = (np.asarray(a) for a in (prompt_row, output_row, reference))
    for name, a in (("prompt_row", p), ("output_row", o), ("reference", r)):
        if a.dtype.kind not in "iu":
            raise TypeError(f"{name} must be an integer array, got dtype {a.dtype}")
        if a.ndim != 1 or a.shape != p.shape:
            raise ValueError(f"{name} must be 1-D of the prompt's length {p.shape}, got shape {a.shape}")
    span = p == MASK_ID
    if not span.any():
        raise ValueError("prompt_row must mask at least one position (MASK_ID = 256)")
    return p.astype(np.int64), o.astype(np.int64), r.astype(np.int64), span


def exact_span(prompt_row: ArrayLike, output_row: ArrayLike, reference: ArrayLike) -> float:
    """1.0 when the output equals the reference at every masked position, else 0.0."""
    _, out, ref, span = _rows(prompt_row, output_row, reference)
    return float(np.array_equal(out[span], ref[span]))


def span_byte_accuracy(prompt_row: ArrayLike, output_row: ArrayLike, reference: ArrayLike) -> float:
    """Fraction of masked positions where the output equals the reference."""
    _, out, ref, span = _rows(prompt_row, output_row, reference)
    return float((out[span] == ref[span]).mean())


def line_bounds(prompt_row: ArrayLike) -> tuple[int, int]:
    """``(start, stop)`` of the line holding the masked span: ``start`` just after the last revealed newline before
    the span (0 if none), ``stop`` at the first revealed newline after it (the row's end if none). Only the prompt
    is read, so the bounds cannot move with what a sampler writes."""
    p = np.asarray(prompt_row)
    where = np.flatnonzero(p == MASK_ID)
    if where.size == 0:
        raise ValueError("prompt_row must mask at least one position (MASK_ID = 256)")
    before = np.flatnonzero(p[:where[0]] == _NEWLINE)
    after = np.flatnonzero(p[where[-1] + 1:] == _NEWLINE)
    start = int(before[-1]) + 1 if before.size else 0
    stop = int(where[-1]) + 1 + int(after[0]) if after.size else p.size
    return start, stop


def tokenizes(line: bytes) -> bool:
    """Whether ``line`` is UTF-8 and :func:`tokenize.generate_tokens` reads it (plus a newline) to the end with no
    exception and no ``ERRORTOKEN`` (Python 3.11's tokenizer reports e.g. an unclosed quote that way; 3.12's raises)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if "\n" in text or "\r" in text:
        return False  # a restored line that breaks into several is not the one line the task asked for
    try:
        for token in tokenize.generate_tokens(io.StringIO(text + "\n").readline):
            if token.type == tokenize.ERRORTOKEN:
                return False
    except (tokenize.TokenError, SyntaxError):  # IndentationError is a SyntaxError
        return False
    return True


def line_tokenizes(prompt_row: ArrayLike, output_row: ArrayLike, reference: ArrayLike) -> float:
    """1.0 when the restored line (:func:`line_bounds` of the prompt, bytes of the output) passes :func:`tokenizes`."""
    prompt, out, _, _ = _rows(prompt_row, output_row, reference)
    start, stop = line_bounds(prompt)
    segment = out[start:stop]
    if (segment > 255).any() or (segment < 0).any():
        return 0.0  # an output that still holds a mask id (or any non-byte) is no line
    return float(tokenizes(segment.astype(np.uint8).tobytes()))


#: The task's metrics by name, in report order.
SCORERS = {"exact": exact_span, "tokenizes": line_tokenizes, "byte_accuracy": span_byte_accuracy}
