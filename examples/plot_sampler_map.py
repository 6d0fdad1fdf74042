"""Which sampler, at which speed? The KL-vs-NFE map of a sticky Markov chain.

Every sampler family (random positions with LLaDA's equal split, top-k by confidence, floor + threshold, Fast-dLLM's
threshold and factor, the entropy bound) is scored by teacher forcing on 150 rows of the chain with its exact
conditionals as the model (``MarkovPredictor``), next to the optimal random-order frontier ``opt_K(Z^g)`` of the same
model and rows (dashed). ``H(mu)`` of a stationary chain is known, so the y axis is the absolute expected KL.
"""

import matplotlib.pyplot as plt
import numpy as np

from mdmsched.curves.families import stationary_distribution
from mdmsched.models import MarkovPredictor
from mdmsched.plot import plot_sampler_map
from mdmsched.samplers import calibrate, sampler_map

P = np.array([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.1, 0.1, 0.8]])
n = 32
pi = stationary_distribution(P)
entropy = float(-(pi * np.log(pi)).sum() - (n - 1) * (pi[:, None] * P * np.log(P)).sum())  # H(mu), nats

model = MarkovPredictor(P, n)
rows = model.sample(150, np.random.default_rng(0))
result = sampler_map(model, rows, entropy=entropy, seed=0)

fig, ax = plt.subplots(figsize=(7, 4))
plot_sampler_map(result, ax=ax)
fig.tight_layout()
fig.savefig("sampler_map.png", dpi=110)

for budget in (4, 8, 16):
    best = result.best(budget)
    print(f"NFE <= {budget:2d}: best {best.family} ({best.parameter} = {best.value:g}): NFE {best.nfe:.2f}, "
          f"KL {best.kl:.3f} +- {best.stderr:.3f} nats")
tuned = calibrate(model, rows, "threshold", 8.0)
print(f"threshold with mean NFE closest to 8: tau = {tuned.value:.4f} (NFE {tuned.nfe:.2f})")
