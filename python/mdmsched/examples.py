"""Built-in example curves for the CLI and the README (closed forms: no enumeration needed)."""

from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.typing import NDArray


def saturating_curve(n: int = 256, scale: float = 32.0, height: float = 0.5) -> NDArray[np.float64]:
    """``Z_i = height * (1 - exp(-(i-1)/scale))``: dependence that builds up, then saturates (nats)."""
    i = np.arange(n, dtype=np.float64)
    return height * (1.0 - np.exp(-i / scale))


def code_curve(n: int = 64, d: int = 16, q: int = 257) -> NDArray[np.float64]:
    """Uniform over an ``[n, d]`` MDS code over ``F_q``: ``Z_i = log q * 1[i > d]`` (SPEC §6 hardness example)."""
    i = np.arange(1, n + 1)
    return np.where(i > d, np.log(q), 0.0)


def late_ramp_curve(n: int = 256) -> NDArray[np.float64]:
    """A convex ramp ``Z_i = ((i-1)/(n-1))^3 * 0.7``: most dependence appears late in generation."""
    x = np.arange(n, dtype=np.float64) / max(n - 1, 1)
    return 0.7 * x**3


EXAMPLES: dict[str, Callable[[], NDArray[np.float64]]] = {
    "saturating": saturating_curve,
    "code": code_curve,
    "late-ramp": late_ramp_curve,
}


def example_curve(name: str) -> NDArray[np.float64]:
    """The built-in example curve called ``name`` (one of ``EXAMPLES``)."""
    try:
        return EXAMPLES[name]()
    except KeyError:
        raise ValueError(f"unknown example {name!r}; choose one of {sorted(EXAMPLES)}") from None
