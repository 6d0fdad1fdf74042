"""The information curve of a known law (SPEC §2, §5).

* :mod:`~mdmsched.curves.distribution` -- :class:`~mdmsched.Distribution` (sparse support or samples) and dense checks.
* :mod:`~mdmsched.curves.exact` -- marginal entropies by lattice walks (C++, threaded, shardable), TC and DTC.
* :mod:`~mdmsched.curves.sampled` -- Monte Carlo average entropies with standard errors for large ``n``.
* :mod:`~mdmsched.curves.hygiene` -- curve from entropies, projection onto valid curves, fitting to another length.
* :mod:`~mdmsched.curves.families` -- laws with closed-form or exact curves (codes, Markov, Ising, mixtures); also
  importable as ``mdmsched.distributions``.
* :mod:`~mdmsched.curves.examples` -- the built-in example curves.
"""

from __future__ import annotations

from . import families
from .distribution import Distribution
from .exact import average_entropies, dual_total_correlation, information_curve, subset_entropies, total_correlation
from .examples import EXAMPLES, example_curve
from .hygiene import curve_from_entropies, fit_curve, project_monotone
from .sampled import EntropyEstimate, estimate_average_entropies

__all__ = [
    "EXAMPLES",
    "Distribution",
    "EntropyEstimate",
    "average_entropies",
    "curve_from_entropies",
    "dual_total_correlation",
    "estimate_average_entropies",
    "example_curve",
    "families",
    "fit_curve",
    "information_curve",
    "project_monotone",
    "subset_entropies",
    "total_correlation",
]
