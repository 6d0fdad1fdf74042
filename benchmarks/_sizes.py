"""Benchmark input sizes: small by default (each benchmark runs once as a test of its answer), full with ``--full``.

``benchmarks/conftest.py`` sets :data:`FULL` from the command line before the benchmark modules are imported.
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")

#: True under ``pytest --full`` (the sizes BENCHMARKS.md reports).
FULL = False


def size(small: T, full: T) -> T:
    """``full`` under ``--full``, else ``small``."""
    return full if FULL else small
