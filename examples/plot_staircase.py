"""The information curve and the optimal staircase (the paper's Figure 1).

The expected KL error of a k-step unmasking schedule is the area between the information curve ``Z`` and its
left-Riemann staircase: each step reveals a block of positions and pays ``Z`` at the block's left end for all of
them. Here ``Z`` is the exact curve of the demo distribution (16 binary tokens: an Ising chain mixed with a parity
code, enumerated in C++), and the staircase is the optimal 5-step schedule next to the equal split.
"""

import matplotlib.pyplot as plt

import mdmsched
from mdmsched.plot import plot_curve

Z = mdmsched.example_curve("demo")
k = 5
best = mdmsched.optimal_schedule(Z, k)
equal = mdmsched.schedules.equal(Z.size, k)

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
plot_curve(Z, best, ax=left)
left.set_title(f"optimal {k} steps: sizes {best.tolist()}")
plot_curve(Z, equal, ax=right)
right.set_title(f"equal split: sizes {equal.tolist()}")
fig.tight_layout()
fig.savefig("staircase.png", dpi=110)

print(f"n = {Z.size}, Z_n = {Z[-1]:.4f} nats")
print(f"optimal {k}-step schedule {best.tolist()}: expected KL {best.error:.4f} nats")
print(f"equal split {equal.tolist()}: expected KL {mdmsched.schedule_error(Z, equal):.4f} nats")
