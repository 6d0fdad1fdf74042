"""Brute force for SPEC §5.2, written without the package's loops: a sampler's exact output law by recursion over
every state, its exact KL, and the teacher-forced formula walked state by state in plain Python.

A *chooser* maps ``(probs at the state (n, q), candidates (n,) bool, step, block)`` to the revealed set (a bool
array), or, for a randomised rule, to a list of ``(probability, revealed set)``. ``package_chooser(rule)`` asks a
:mod:`mdmsched.samplers` rule, fed with scores computed here (max, top-1 minus top-2, entropy) from the probabilities.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mdmsched.models import StateScores

Chooser = Callable[[NDArray[np.float64], NDArray[np.bool_], int, int], Any]


def state_scores(probs: NDArray[np.float64]) -> StateScores:
    """Scores of one state (``probs`` (n, q)) as a 1-row StateScores, from a plain sort."""
    ordered = np.sort(probs, axis=1)[:, ::-1]
    second = ordered[:, 1] if probs.shape[1] > 1 else np.zeros(probs.shape[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.where(probs > 0, probs * np.log(probs), 0.0).sum(axis=1)
    return StateScores(ordered[None, :, 0].copy(), (ordered[:, 0] - second)[None, :], ent[None, :])


def package_chooser(rule: Any) -> Chooser:
    """A deterministic package rule as a chooser (its rng is never drawn from)."""
    def choose(probs: NDArray[np.float64], candidates: NDArray[np.bool_], step: int, block: int) -> NDArray[np.bool_]:
        out = rule.select(state_scores(probs), candidates[None, :], np.array([step]), block,
                          np.random.default_rng(12345))
        return np.asarray(out[0])
    return choose


def uniform_subsets(counts: list[list[int]]) -> Chooser:
    """Random positions with per-block counts: every subset of the count's size, equally likely."""
    def choose(probs: NDArray[np.float64], candidates: NDArray[np.bool_], step: int, block: int) -> list[Any]:
        cand = np.flatnonzero(candidates)
        size = min(counts[block][min(step, len(counts[block]) - 1)], cand.size)
        subsets = list(itertools.combinations(cand.tolist(), size))
        out = []
        for subset in subsets:
            chosen = np.zeros(candidates.size, dtype=bool)
            chosen[list(subset)] = True
            out.append((1.0 / len(subsets), chosen))
        return out
    return choose


def _options(chooser: Chooser, probs: NDArray[np.float64], candidates: NDArray[np.bool_], step: int,
             block: int) -> list[tuple[float, NDArray[np.bool_]]]:
    out = chooser(probs, candidates, step, block)
    return out if isinstance(out, list) else [(1.0, np.asarray(out))]


class Walk:
    """The sampler of ``model`` (a predictor ``(tokens, mask) -> probs``) with ``chooser`` over ``n`` positions of
    alphabet ``q``; ``prompt`` positions are revealed from the row, the rest cut into blocks of ``block``."""

    def __init__(self, model: Any, n: int, q: int, chooser: Chooser, *, block: int | None = None,
                 prompt: tuple[int, ...] = (), eos: int | None = None) -> None:
        self.model, self.n, self.q, self.chooser, self.eos = model, n, q, chooser, eos
        self.generated = [i for i in range(n) if i not in prompt]
        size = len(self.generated) if block is None else block
        self.block_of = {i: k // size for k, i in enumerate(self.generated)}
        self.blocks = -(-len(self.generated) // size)

    def probs(self, state: tuple[int | None, ...]) -> NDArray[np.float64]:
        tokens = np.array([[0 if v is None else v for v in state]])
        mask = np.array([[v is None for v in state]])
        return np.asarray(self.model(tokens, mask))[0]

    def tail_after_eos(self, state: tuple[int | None, ...]) -> list[int]:
        """Generated positions still masked after the first generated position holding EOS (none without ``eos``)."""
        if self.eos is None:
            return []
        holding = [k for k, i in enumerate(self.generated) if state[i] == self.eos]
        if not holding:
            return []
        return [i for i in self.generated[holding[0] + 1:] if state[i] is None]

    def _candidates(self, state: tuple[int | None, ...], block: int) -> NDArray[np.bool_]:
        return np.array([state[i] is None and self.block_of.get(i, -1) == block for i in range(self.n)])

    def output_law(self, start: tuple[int | None, ...]) -> dict[tuple[int, ...], float]:
        """Exact law of the sampler's output from the state ``start`` (prompt filled, the rest None)."""
        law: dict[tuple[int, ...], float] = {}

        def recurse(state: tuple[int | None, ...], block: int, step: int, weight: float) -> None:
            while block < self.blocks and not self._candidates(state, block).any():
                block, step = block + 1, 0
            if block == self.blocks:
                key = tuple(int(v) for v in state)  # type: ignore[arg-type]
                law[key] = law.get(key, 0.0) + weight
                return
            probs = self.probs(state)
            for p_choice, chosen in _options(self.chooser, probs, self._candidates(state, block), step, block):
                where = np.flatnonzero(chosen).tolist()
                for values in itertools.product(range(self.q), repeat=len(where)):
                    p = p_choice * math.prod(float(probs[i, v]) for i, v in zip(where, values))
                    if p == 0.0:
                        continue
                    new = list(state)
                    for i, v in zip(where, values):
                        new[i] = v
                    for i in self.tail_after_eos(tuple(new)):
                        new[i] = self.eos  # filled with probability 1, no forward pass
                    recurse(tuple(new), block, step + 1, weight * p)

        recurse(start, 0, 0, 1.0)
        return law

    def teacher_nll(self, x: tuple[int, ...]) -> tuple[float, float]:
        """``E_omega`` of the teacher-forced ``sum -log q(x_i | x_R(i))`` and of the NFE, walking the true row."""
        def recurse(state: tuple[int | None, ...], block: int, step: int) -> tuple[float, float]:
            while block < self.blocks and not self._candidates(state, block).any():
                block, step = block + 1, 0
            if block == self.blocks:
                return 0.0, 0.0
            probs = self.probs(state)
            total, nfe = 0.0, 0.0
            for p_choice, chosen in _options(self.chooser, probs, self._candidates(state, block), step, block):
                where = np.flatnonzero(chosen).tolist()
                cost = sum(-math.log(float(probs[i, x[i]])) for i in where)
                new = tuple(x[i] if i in where else v for i, v in enumerate(state))
                tail = self.tail_after_eos(new)
                if any(x[i] != self.eos for i in tail):  # the sampler pads with EOS: this row has probability 0
                    return math.inf, math.inf
                new = tuple(x[i] if i in tail else v for i, v in enumerate(new))  # -log 1 = 0 each
                rest, rest_nfe = recurse(new, block, step + 1)
                total += p_choice * (cost + rest)
                nfe += p_choice * (1.0 + rest_nfe)
            return total, nfe

        start = tuple(None if i in self.block_of else x[i] for i in range(self.n))
        return recurse(start, 0, 0)


def exact_kl(p: NDArray[np.float64], walk: Walk) -> float:
    """``E_prompt KL(mu(. | prompt) || nu(. | prompt))`` (nats) of the walk's sampler against the dense law ``p``."""
    prompt = [i for i in range(walk.n) if i not in walk.block_of]
    total = 0.0
    for c in itertools.product(range(walk.q), repeat=len(prompt)):
        start = tuple(None if i in walk.block_of else c[prompt.index(i)] for i in range(walk.n))
        nu = walk.output_law(start)
        for x in itertools.product(range(walk.q), repeat=walk.n):
            if p[x] > 0 and all(x[i] == c[k] for k, i in enumerate(prompt)):
                total += p[x] * math.log(p[x] / sum_prompt(p, prompt, c) / nu.get(x, 0.0))
    return total


def sum_prompt(p: NDArray[np.float64], prompt: list[int], c: tuple[int, ...]) -> float:
    """``mu(x_prompt = c)``."""
    index = tuple(c[prompt.index(i)] if i in prompt else slice(None) for i in range(p.ndim))
    return float(p[index].sum())


def conditional_entropy(p: NDArray[np.float64], prompt: list[int]) -> float:
    """``H(X_generated | X_prompt)`` in nats."""
    h = -float(np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)))
    if not prompt:
        return h
    others = tuple(i for i in range(p.ndim) if i not in prompt)
    marginal = p.sum(axis=others)
    return h + float(np.sum(np.where(marginal > 0, marginal * np.log(np.where(marginal > 0, marginal, 1.0)), 0.0)))


def teacher_formula(p: NDArray[np.float64], walk: Walk) -> float:
    """``E_x E_omega [sum -log q] - H(X_gen | X_prompt)``: SPEC §5.2's right-hand side."""
    prompt = [i for i in range(walk.n) if i not in walk.block_of]
    total = sum(p[x] * walk.teacher_nll(x)[0] for x in itertools.product(range(walk.q), repeat=walk.n) if p[x] > 0)
    return total - conditional_entropy(p, prompt)


def closed_loop_floor_threshold(table: NDArray[np.int32], budget: int, block_length: int, tau: float) -> Chooser:
    """Closed-loop floor + threshold written out: revealed = block length - masked candidates, passes left = budget -
    step; floor = table[revealed, passes left] (all the rest once no pass is left); reveal max(floor, #(max prob >
    tau)) positions by max probability, ties to the lower position. ``tau > 1``: the closed-loop top-k."""
    def choose(probs: NDArray[np.float64], candidates: NDArray[np.bool_], step: int, block: int) -> NDArray[np.bool_]:
        cand = [int(i) for i in np.flatnonzero(candidates)]
        left = budget - step
        floor = int(table[block_length - len(cand), left]) if left > 0 else len(cand)
        confident = sum(1 for i in cand if probs[i].max() > tau)
        size = min(max(floor, confident, 1), len(cand))
        order = sorted(cand, key=lambda i: (-float(probs[i].max()), i))
        chosen = np.zeros(candidates.size, dtype=bool)
        chosen[order[:size]] = True
        return chosen
    return choose


def plackett_luce(counts: list[int], temperature: float) -> Chooser:
    """Dream's ``alg_temp`` top-k by max probability: ``count`` positions drawn one after another without replacement,
    each with probability ``softmax(max_prob / temperature)`` over the ones left; subset probabilities summed over
    the orders that give them."""
    def choose(probs: NDArray[np.float64], candidates: NDArray[np.bool_], step: int, block: int) -> list[Any]:
        cand = np.flatnonzero(candidates).tolist()
        size = min(counts[min(step, len(counts) - 1)], len(cand))
        weight = {i: math.exp(float(probs[i].max()) / temperature) for i in cand}
        subsets: dict[tuple[int, ...], float] = {}
        for order in itertools.permutations(cand, size):
            left, p = sum(weight.values()), 1.0
            for i in order:
                p *= weight[i] / left
                left -= weight[i]
            key = tuple(sorted(order))
            subsets[key] = subsets.get(key, 0.0) + p
        out = []
        for key, p in subsets.items():
            chosen = np.zeros(candidates.size, dtype=bool)
            chosen[list(key)] = True
            out.append((p, chosen))
        return out
    return choose
