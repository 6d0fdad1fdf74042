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
    from .families import mds_curve

    return mds_curve(n, d, q)


def late_ramp_curve(n: int = 256) -> NDArray[np.float64]:
    """A convex ramp ``Z_i = ((i-1)/(n-1))^3 * 0.7``: most dependence appears late in generation."""
    x = np.arange(n, dtype=np.float64) / max(n - 1, 1)
    return 0.7 * x**3


def demo_distribution(n: int = 16) -> NDArray[np.float64]:
    """The demo's binary distribution over ``{0,1}^n``: 70% a bulk Ising chain (coupling 0.9, field 0.2; local
    dependence that saturates) and 30% the uniform law on the even-parity words (one global constraint)."""
    from .families import ising_chain, markov_chain, mixture, parity_code

    return mixture([markov_chain(ising_chain(0.9, 0.2), n), parity_code(n, 2)], [0.7, 0.3])


def demo_curve() -> NDArray[np.float64]:
    """``Z`` of :func:`demo_distribution` (n = 16), by the C++ lattice walk."""
    from .exact import information_curve

    return information_curve(demo_distribution())


def markov_example_curve(n: int = 256) -> NDArray[np.float64]:
    """Exact ``Z`` of a sticky 3-state Markov chain at length ``n`` (closed form, no enumeration)."""
    from .families import markov_curve

    p = np.array([[0.95, 0.04, 0.01], [0.05, 0.9, 0.05], [0.02, 0.08, 0.9]])
    return markov_curve(p, n)


EXAMPLES: dict[str, Callable[[], NDArray[np.float64]]] = {
    "saturating": saturating_curve,
    "code": code_curve,
    "late-ramp": late_ramp_curve,
    "markov": markov_example_curve,
    "demo": demo_curve,
}


def example_curve(name: str) -> NDArray[np.float64]:
    """The built-in example curve called ``name`` (one of ``EXAMPLES``)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, one of {sorted(EXAMPLES)}; got {type(name).__name__} {name!r}")
    try:
        return EXAMPLES[name]()
    except KeyError:
        raise ValueError(f"unknown example name {name!r}; choose one of {sorted(EXAMPLES)}") from None


__all__ = ["EXAMPLES", "demo_curve", "demo_distribution", "example_curve"]
