"""A progress bar on stderr for long native walks (or the caller's own callback)."""

from __future__ import annotations

import sys
from typing import Callable


def progress_callback(progress: bool | Callable[[float], object],
                      label: str = "enumerating marginals") -> Callable[[float], object] | None:
    """The callable a long job reports ``fraction`` in [0, 1] to: the caller's, a stderr bar saying ``label``, or none."""
    if callable(progress):
        return progress
    if not progress:
        return None

    def bar(fraction: float) -> None:
        filled = int(40 * fraction)
        sys.stderr.write(f"\rmdmsched: {label} [{'#' * filled}{'.' * (40 - filled)}] {fraction:6.1%}")
        sys.stderr.flush()

    return bar
