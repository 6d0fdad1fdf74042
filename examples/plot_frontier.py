"""The error frontier: the best expected KL for every step budget.

``error_frontier(Z, k_max)`` computes ``opt_k`` for ``k = 1..k_max`` in one sweep; ``plot_frontier`` draws it with
the error of the equal split and of MaskGIT's cosine schedule at each ``k``. ``min_steps`` answers the inverse
question: the fewest model calls whose optimal schedule stays under an error budget.
"""

import matplotlib.pyplot as plt

import mdmsched
from mdmsched.plot import plot_frontier

Z = mdmsched.example_curve("markov")  # a sticky 3-state Markov chain, n = 256, exact curve
fig, ax = plt.subplots(figsize=(7, 4))
plot_frontier(Z, 64, ax=ax)
fig.tight_layout()
fig.savefig("frontier.png", dpi=110)

frontier = mdmsched.error_frontier(Z, 64)
for k in (4, 8, 16, 32, 64):
    print(f"k = {k:2d}: opt_k = {frontier[k - 1]:.4f} nats")
fewest = mdmsched.min_steps(Z, eps=1.0)
print(f"fewest steps with expected KL <= 1 nat: {fewest.k} (error {fewest.error:.4f} nats)")
