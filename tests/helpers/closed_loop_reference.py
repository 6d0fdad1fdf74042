"""The closed-loop policy of SPEC §5.4 by the plain backward DP (test helper, independent of the package's solvers)."""

from __future__ import annotations

import numpy as np


def bellman_policy(z, k):
    """``(count, value)``: ``count[N, j-1]`` an optimal first step from ``N`` revealed with ``j`` passes left (0 where
    ``j > n - N``), ``value[j, N]`` its optimal error; step cost ``c(a, b) = sum_{i=a+1}^{b} (Z_i - Z_{a+1})``.
    O(k n^2) with O(n) per cost: small n only."""
    z = np.asarray(z, dtype=np.float64)
    n = z.size
    value = np.full((k + 1, n + 1), np.inf)
    value[0, n] = 0.0
    count = np.zeros((n, k), dtype=np.int64)
    for j in range(1, k + 1):
        for start in range(n - 1, -1, -1):
            if j > n - start:
                continue
            options = [float((z[start:start + c] - z[start]).sum()) + value[j - 1, start + c]
                       for c in range(1, n - start - j + 2)]
            best = int(np.argmin(options))
            value[j, start], count[start, j - 1] = options[best], best + 1
    return count, value
