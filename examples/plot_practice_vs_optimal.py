"""Schedules from practice against the optimum.

``mdmsched.compare`` evaluates the schedules samplers use today (LLaDA's equal split, MaskGIT's cosine, the cos^2
bell, geometric growth), the O(n) continuum schedule and the TC/DTC budget constructions on one curve, each by its
exact expected KL. The bar chart shows each schedule's error as a multiple of the optimal 16-step error.
"""

import matplotlib.pyplot as plt
import numpy as np

import mdmsched

Z = mdmsched.example_curve("markov")
k = 16
table = mdmsched.compare(Z, k)
print(table)

rows = [row for row in table.rows if np.isfinite(row.ratio)]
fig, ax = plt.subplots(figsize=(8, 4))
ax.barh([row.name for row in rows], [row.ratio for row in rows], color="tab:blue")
ax.axvline(1.0, color="black", lw=1)
ax.set_xscale("log")
ax.invert_yaxis()
ax.set_xlabel(f"expected KL / optimal {k}-step expected KL")
ax.set_title(f"schedules on a 3-state Markov chain, n = {Z.size}")
fig.tight_layout()
fig.savefig("practice_vs_optimal.png", dpi=110)
