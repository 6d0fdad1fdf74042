"""Issue 19: every public entry point against the README's contract -- a wrong *kind* of argument raises ``TypeError``,
a right kind with a wrong *value* raises ``ValueError``, and the message names the argument.

One table row per (callable, bad argument); ``test_every_public_name_is_audited`` fails when a public function or class
of ``mdmsched``, ``mdmsched.schedules``, ``mdmsched.practice``, ``mdmsched.distributions`` or ``mdmsched.io`` has no
row (or is not listed among the few exempt names, each with its reason).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pytest

import mdmsched
from mdmsched import distributions as D
from mdmsched import io as IO
from mdmsched import practice as P
from mdmsched import schedules as S
from mdmsched.adapters import sampler_args as SA
from mdmsched.models.interface import as_where
from mdmsched.samplers.eos import as_eos

Z = np.array([0.0, 0.5, 1.0, 1.2])
DENSE = np.full((2, 2), 0.25)
DATA = np.zeros((4, 3), dtype=np.int64)
P2 = np.array([[0.9, 0.1], [0.2, 0.8]])


def _uniform(tokens: Any, mask: Any) -> Any:
    return np.full((*np.shape(tokens), 2), 0.5)


MODEL = mdmsched.ProbabilityModel(_uniform)
PLAN = mdmsched.models.plan_estimate((4, 3), seed=0)


class Case(NamedTuple):
    name: str  # the public name audited
    call: Callable[[], Any]
    error: type[Exception]
    names: str  # substring the message must contain (the argument)


T, V = TypeError, ValueError
CASES = [
    # ---- certified solvers (issue 20, SPEC §5.3) ----
    Case("certified_error", lambda: mdmsched.certified_error("g", [0.0], [1]), T, "g_high"),
    Case("certified_error", lambda: mdmsched.certified_error([1.0, 2.0], [0.5, 0.5], [2]), V, "g_high"),
    Case("certified_schedule", lambda: mdmsched.certified_schedule([1.0, 0.5], [2.0, 0.0], 1), V, "g_low"),
    Case("certified_schedule", lambda: mdmsched.certified_schedule([1.0, 0.5], [1.0, 0.5], 1.5), T, "k"),
    Case("certified_frontier", lambda: mdmsched.certified_frontier([1.0, 0.5], [1.0, 0.5], k_max=0), V, "k_max"),
    Case("certified_frontier", lambda: mdmsched.certified_frontier([1.0, 0.5], [1.0, 0.5], k_max="2"), T, "k_max"),
    Case("certified_min_steps", lambda: mdmsched.certified_min_steps([1.0, 0.5], [1.0, 0.5], -1.0), V, "eps"),
    Case("certified_min_steps", lambda: mdmsched.certified_min_steps([1.0, 0.5], [1.0, 0.5], "1"), T, "eps"),
    Case("plan_block_estimate", lambda: mdmsched.models.plan_block_estimate((4, 6), block_length=0), V, "block_length"),
    Case("plan_block_estimate", lambda: mdmsched.models.plan_block_estimate((4, 6), block_length="2"), T, "block_length"),
    # ---- closed-loop policies (issue 26, SPEC §5.4) ----
    Case("closed_loop_policy", lambda: mdmsched.closed_loop_policy(Z, 5), V, "k"),
    Case("closed_loop_policy", lambda: mdmsched.closed_loop_policy(Z, "2"), T, "k"),
    Case("ClosedLoopPolicy", lambda: mdmsched.ClosedLoopPolicy(np.zeros((3, 3)), np.zeros((3, 3))), T, "table"),
    Case("ClosedLoopPolicy", lambda: mdmsched.ClosedLoopPolicy(np.zeros((3, 3), np.int32), np.zeros((3, 2))), V,
         "errors"),
    Case("block_policies", lambda: mdmsched.block_policies([Z], 3), T, "budgets"),
    Case("block_policies", lambda: mdmsched.block_policies([Z], [1, 2]), V, "budgets"),
    # ---- mdmsched.samplers (issue 17) ----
    Case("RandomOrder", lambda: mdmsched.RandomOrder("12"), T, "schedule"),
    Case("RandomOrder", lambda: mdmsched.RandomOrder([1, 0]), V, "schedule"),
    Case("TopK", lambda: mdmsched.TopK([1, 2], score=3), T, "score"),
    Case("TopK", lambda: mdmsched.TopK([1, 2], score="conf"), V, "score"),
    Case("Threshold", lambda: mdmsched.Threshold("0.9"), T, "tau"),
    Case("Threshold", lambda: mdmsched.Threshold(float("nan")), V, "tau"),
    Case("Factor", lambda: mdmsched.Factor("1"), T, "f"),
    Case("Factor", lambda: mdmsched.Factor(-1.0), V, "f"),
    Case("EntropyBounded", lambda: mdmsched.EntropyBounded("a"), T, "gamma"),
    Case("EarlyCommit", lambda: mdmsched.EarlyCommit([1, 1], threshold="5"), T, "threshold"),
    Case("EarlyCommit", lambda: mdmsched.EarlyCommit([1, 1], gap="ratio"), V, "gap"),
    Case("EntropyBounded", lambda: mdmsched.EntropyBounded(-0.1), V, "gamma"),
    Case("FloorThreshold", lambda: mdmsched.FloorThreshold([1, 2], "x"), T, "tau"),
    Case("FloorThreshold", lambda: mdmsched.FloorThreshold([1, 2], float("nan")), V, "tau"),
    Case("evaluate_task", lambda: mdmsched.evaluate_task(MODEL, DATA, "rule", "exact", references=DATA), T, "rule"),
    Case("evaluate_task", lambda: mdmsched.evaluate_task(MODEL, DATA, mdmsched.Threshold(0.9), "exact",
                                                         references=DATA, samples_per_prompt=0), V, "samples_per_prompt"),
    Case("compare_tasks", lambda: mdmsched.compare_tasks(MODEL, DATA, mdmsched.Threshold(0.9), "rule", "exact",
                                                         references=DATA), T, "rule"),
    Case("compare_tasks", lambda: mdmsched.compare_tasks(MODEL, DATA, mdmsched.Threshold(0.9), mdmsched.Threshold(0.5),
                                                         "exact", references=DATA, seed=-1), V, "seed"),
    Case("sampler_map", lambda: mdmsched.sampler_map(MODEL, DATA, families=3), T, "families"),
    Case("sampler_map", lambda: mdmsched.sampler_map(MODEL, DATA, batch_size=0), V, "batch_size"),
    Case("evaluate_sampler", lambda: mdmsched.evaluate_sampler(MODEL, DATA, "rule"), T, "rule"),
    Case("evaluate_sampler", lambda: mdmsched.evaluate_sampler(MODEL, DATA, mdmsched.Threshold(0.9), block_length=0),
         V, "block_length"),
    Case("evaluate_sampler", lambda: mdmsched.evaluate_sampler(MODEL, DATA, mdmsched.Threshold(0.9), seed=1.5), T,
         "seed"),
    Case("compare_samplers", lambda: mdmsched.compare_samplers(MODEL, DATA, mdmsched.Threshold(0.9), "x"), T, "rule"),
    Case("compare_samplers", lambda: mdmsched.compare_samplers(MODEL, DATA, mdmsched.Threshold(0.9),
                                                               mdmsched.Threshold(0.5), confidence=2.0), V,
         "confidence"),
    Case("sample_with_rule", lambda: mdmsched.sample_with_rule(MODEL, "rule", 3), T, "rule"),
    Case("sample_with_rule", lambda: mdmsched.sample_with_rule(MODEL, mdmsched.Threshold(0.9), -1), V, "num_samples"),
    # ---- mdmsched ----
    Case("Schedule", lambda: mdmsched.Schedule("12"), T, "sizes"),
    Case("Schedule", lambda: mdmsched.Schedule([1, 0]), V, "sizes"),
    Case("Schedule", lambda: mdmsched.Schedule([1, 2], error="1"), T, "error"),
    Case("Schedule", lambda: mdmsched.Schedule([1, 2], error=-5), V, "error"),
    Case("Schedule", lambda: mdmsched.Schedule([1, 2], bound=-1), V, "bound"),
    Case("Schedule", lambda: mdmsched.Schedule([1, 2], name=3), T, "name"),
    Case("Schedule", lambda: mdmsched.Schedule([1, 2], passes=[0.5, 1, 2]), T, "passes"),
    Case("Schedule", lambda: mdmsched.Schedule([1, 2], passes=[2, 1]), V, "passes"),
    Case("Schedule", lambda: mdmsched.Schedule.from_json('{"sizes": [1.5, 2]}'), T, "sizes"),
    Case("Schedule", lambda: mdmsched.Schedule.from_json('{"sizes": [1, 2], "n": 4}'), V, "n"),
    Case("Schedule", lambda: mdmsched.Schedule.from_json("[1, 2]"), T, "object"),
    Case("BlockSchedule", lambda: mdmsched.BlockSchedule([[1, 2]]), T, "blocks"),
    Case("BlockSchedule", lambda: mdmsched.BlockSchedule.from_json('{"blocks": [{"sizes": [1]}], "k": 3}'), V, "k"),
    Case("Distribution", lambda: mdmsched.Distribution(np.zeros((1, 2)), np.ones(1)), T, "outcomes"),
    Case("Distribution", lambda: mdmsched.Distribution(np.zeros((1, 2), int), np.array([0.5])), V, "probs"),
    Case("ExactPredictor", lambda: mdmsched.ExactPredictor(np.full((2, 2), "a")), T, "p"),
    Case("ExactPredictor", lambda: mdmsched.ExactPredictor(np.full((2, 2), 0.3)), V, "p"),
    Case("MarkovPredictor", lambda: mdmsched.MarkovPredictor(P2, 2.5), T, "n"),
    Case("MarkovPredictor", lambda: mdmsched.MarkovPredictor(P2, 0), V, "n"),
    Case("ProbabilityModel", lambda: mdmsched.ProbabilityModel(5), T, "predict"),
    Case("ProbabilityModel", lambda: mdmsched.ProbabilityModel(_uniform, vocab_size=0), V, "vocab_size"),
    Case("ProbabilityModel", lambda: mdmsched.ProbabilityModel(_uniform, check_rows="2"), T, "check_rows"),
    Case("ProbabilityModel", lambda: MODEL.sample(DATA, DATA == 0, None), T, "rng"),  # type: ignore[arg-type]
    Case("ProbabilityModel", lambda: MODEL.score(DATA, DATA == 0, "logits"), V, "target"),  # type: ignore[arg-type]
    Case("ProbabilityModel", lambda: MODEL.score(DATA, DATA, "entropy"), T, "mask"),
    Case("average_entropies", lambda: mdmsched.average_entropies(DENSE, base="2"), T, "base"),
    Case("average_entropies", lambda: mdmsched.average_entropies(DENSE, threads=0), V, "threads"),
    Case("average_entropies", lambda: mdmsched.average_entropies(DENSE, progress="yes"), T, "progress"),
    Case("subset_entropies", lambda: mdmsched.subset_entropies(DENSE, progress=5), T, "progress"),
    Case("subset_entropies", lambda: mdmsched.subset_entropies(DENSE, base=1), V, "base"),
    Case("information_curve", lambda: mdmsched.information_curve(DENSE, threads=1.5), T, "threads"),
    Case("information_curve", lambda: mdmsched.information_curve(-DENSE), V, "p"),
    Case("total_correlation", lambda: mdmsched.total_correlation(np.full((2, 2), None)), T, "p"),
    Case("total_correlation", lambda: mdmsched.total_correlation(DENSE * 2), V, "p"),
    Case("dual_total_correlation", lambda: mdmsched.dual_total_correlation(DENSE, base="e"), T, "base"),
    Case("dual_total_correlation", lambda: mdmsched.dual_total_correlation(np.float64(1.0)), V, "p"),
    Case("estimate_average_entropies", lambda: mdmsched.estimate_average_entropies(DENSE, subsets_per_size=2.0), T,
         "subsets_per_size"),
    Case("estimate_average_entropies", lambda: mdmsched.estimate_average_entropies(DENSE, subsets_per_size=1), V,
         "subsets_per_size"),
    Case("compare", lambda: mdmsched.compare(Z, "2"), T, "k"),
    Case("compare", lambda: mdmsched.compare(Z, 9), V, "k"),
    Case("compare", lambda: mdmsched.compare(Z, 2, schedules=[[2**63, 1]]), V, "sizes"),
    Case("compare", lambda: mdmsched.compare(Z, 2, schedules=[[1.5, 2.5]]), T, "sizes"),
    Case("empirical_kl", lambda: mdmsched.empirical_kl(np.zeros((2, 2)), DENSE), T, "samples"),
    Case("empirical_kl", lambda: mdmsched.empirical_kl(np.full((2, 2), 5), DENSE), V, "samples"),
    Case("empirical_kl", lambda: mdmsched.empirical_kl(np.zeros((2, 2), int), DENSE, pseudocount=0), V, "pseudocount"),
    Case("error_frontier", lambda: mdmsched.error_frontier(Z, 2.0), T, "k_max"),
    Case("error_frontier", lambda: mdmsched.error_frontier(Z, 0), V, "k_max"),
    Case("error_frontier", lambda: mdmsched.error_frontier(Z, 2, method="best"), V, "method"),
    Case("optimal_schedule", lambda: mdmsched.optimal_schedule(Z.astype(complex), 2), T, "Z"),
    Case("optimal_schedule", lambda: mdmsched.optimal_schedule(Z[::-1], 2), V, "Z"),
    Case("min_steps", lambda: mdmsched.min_steps(Z, "0.1"), T, "eps"),
    Case("min_steps", lambda: mdmsched.min_steps(Z, -0.1), V, "eps"),
    Case("schedule_error", lambda: mdmsched.schedule_error(Z, "22"), T, "sizes"),
    Case("schedule_error", lambda: mdmsched.schedule_error(Z, [1, 2]), V, "sizes"),
    Case("optimal_block_split", lambda: mdmsched.optimal_block_split([Z, Z], 2.0), T, "total_steps"),
    Case("optimal_block_split", lambda: mdmsched.optimal_block_split([Z, Z], 1), V, "total_steps"),
    Case("project_monotone", lambda: mdmsched.project_monotone(["a", "b"]), T, "Z"),
    Case("project_monotone", lambda: mdmsched.project_monotone([0.0, np.nan]), V, "Z"),
    Case("example_curve", lambda: mdmsched.example_curve(3), T, "name"),
    Case("example_curve", lambda: mdmsched.example_curve("nope"), V, "name"),
    Case("plan_estimate", lambda: mdmsched.models.plan_estimate((4, 3), reps=1.5), T, "reps"),
    Case("plan_estimate", lambda: mdmsched.models.plan_estimate((4, 3), reps=0), V, "reps"),
    Case("run_shard", lambda: mdmsched.models.run_shard(MODEL, DATA, "plan"), T, "plan"),
    Case("run_shard", lambda: mdmsched.models.run_shard(MODEL, DATA[:3], PLAN), V, "data"),
    Case("merge_shards", lambda: mdmsched.models.merge_shards("plan", []), T, "plan"),
    Case("merge_shards", lambda: mdmsched.models.merge_shards(PLAN, []), V, "shard"),
    Case("estimate_curve", lambda: mdmsched.estimate_curve(MODEL, DATA.astype(float)), T, "data"),
    Case("estimate_curve", lambda: mdmsched.estimate_curve(MODEL, DATA, target="logits"), V, "target"),
    Case("estimate_curve", lambda: mdmsched.estimate_curve(MODEL, DATA.astype(np.uint64) + np.uint64(2**63)), V,
         "data"),
    Case("estimate_block_curves", lambda: mdmsched.estimate_block_curves(MODEL, DATA, block_length="2"), T,
         "block_length"),
    Case("estimate_block_curves", lambda: mdmsched.estimate_block_curves(MODEL, DATA, block_length=0), V,
         "block_length"),
    Case("simulate", lambda: mdmsched.simulate(DENSE, [1, 1], 2.5), T, "num_samples"),
    Case("simulate", lambda: mdmsched.simulate(DENSE, [1, 1], 0), V, "num_samples"),
    Case("simulate", lambda: mdmsched.simulate(DENSE, [1], 2, n=9, prompts=np.zeros((1, 2), int),
                                               region=np.array([False, True])), V, "n"),
    Case("simulate", lambda: mdmsched.simulate(DENSE, [1, 1], 2, prompts=np.full((1, 2), 2**63, np.uint64)), V,
         "prompts"),
    Case("expected_kl", lambda: mdmsched.expected_kl("law", None, [1, 1], 4), T, "law"),
    Case("expected_kl", lambda: mdmsched.expected_kl(DENSE, None, [1, 1], 1), V, "num_samples"),
    Case("EntropyEstimate", lambda: mdmsched.information_curve(
        mdmsched.EntropyEstimate(np.array(["a", "b"]), np.zeros(2), 2)), T, "e"),
    # ---- mdmsched.schedules ----
    Case("austin_schedule", lambda: S.austin_schedule(10, "1", 0.1), T, "dtc"),
    Case("austin_schedule", lambda: S.austin_schedule(2**40, 1.0, 1e-9), V, "steps"),
    Case("blockwise", lambda: S.blockwise(8, "4"), T, "block_length"),
    Case("blockwise", lambda: S.blockwise(8, 0), V, "block_length"),
    Case("budget_schedule", lambda: S.budget_schedule(8, 20.0), T, "budget"),
    Case("budget_schedule", lambda: S.budget_schedule(8, 20, kind="both"), V, "kind"),
    Case("continuum_schedule", lambda: S.continuum_schedule(Z, None), T, "k"),
    Case("continuum_schedule", lambda: S.continuum_schedule(Z, 0), V, "k"),
    Case("cosine", lambda: S.cosine(8, 2.0), T, "k"),
    Case("cosine", lambda: S.cosine(8, 0), V, "k"),
    Case("cosine_squared", lambda: S.cosine_squared("8", 2), T, "n"),
    Case("cosine_squared", lambda: S.cosine_squared(0, 1), V, "n"),
    Case("dtc_schedule", lambda: S.dtc_schedule(8, 1.0, "0.1"), T, "eps"),
    Case("dtc_schedule", lambda: S.dtc_schedule(8, 1.0, 0), V, "eps"),
    Case("tc_schedule", lambda: S.tc_schedule(8, None, 0.1), T, "tc"),
    Case("tc_schedule", lambda: S.tc_schedule(8, -1.0, 0.1), V, "tc"),
    Case("dus", lambda: S.dus(4.0), T, "block_length"),
    Case("dus", lambda: S.dus(0), V, "block_length"),
    Case("equal", lambda: S.equal(8, True), T, "k"),
    Case("equal", lambda: S.equal(8, 0), V, "k"),
    Case("exact_k_breakpoints", lambda: S.exact_k_breakpoints(8, 3, ["a", "b"]), T, "targets"),
    Case("exact_k_breakpoints", lambda: S.exact_k_breakpoints(8, 3, [1]), V, "targets"),
    Case("from_mask_fractions", lambda: S.from_mask_fractions(8, ["a"]), T, "fractions"),
    Case("from_mask_fractions", lambda: S.from_mask_fractions(8, [0.5, 0.9]), V, "fractions"),
    Case("geometric_growth", lambda: S.geometric_growth(8, 2, ratio="2"), T, "ratio"),
    Case("geometric_growth", lambda: S.geometric_growth(8, 2, ratio=0.5), V, "ratio"),
    Case("geometric_growth", lambda: S.geometric_growth(8, ratio="2"), T, "ratio"),
    Case("geometric_growth", lambda: S.geometric_growth(8, ratio=1.0), V, "ratio"),
    Case("li_cai_bound", lambda: S.li_cai_bound(Z, "13"), T, "sizes"),
    Case("li_cai_bound", lambda: S.li_cai_bound(Z, np.array([2**64 - 1, 5], dtype=np.uint64)), V, "sizes"),
    # ---- mdmsched.practice ----
    Case("diffusers_uniform", lambda: P.diffusers_uniform(8, 2.0), T, "k"),
    Case("diffusers_uniform", lambda: P.diffusers_uniform(8, 0), V, "k"),
    Case("dllm", lambda: P.dllm(8, 2, alpha=1), T, "alpha"),
    Case("dllm", lambda: P.dllm(8, 2, alpha="quartic"), V, "alpha"),
    Case("dllm_counts", lambda: P.dllm_counts(8, np.array(["a"])), T, "alpha_grid"),
    Case("dllm_counts", lambda: P.dllm_counts(8, np.array([0.5, 0.0], np.float32)), V, "alpha"),
    Case("dream", lambda: P.dream(8, 2, eps="0.1"), T, "eps"),
    Case("dream", lambda: P.dream(8, 2, eps=2.0), V, "eps"),
    Case("fastdllm_blocks", lambda: P.fastdllm_blocks(8, 4, 2.0), T, "steps"),
    Case("fastdllm_blocks", lambda: P.fastdllm_blocks(8, 3, 2), V, "block_length"),
    Case("llada_blocks", lambda: P.llada_blocks("8", 4, 2), T, "gen_length"),
    Case("llada_blocks", lambda: P.llada_blocks(8, 4, 3), V, "steps"),
    Case("maskgit", lambda: P.maskgit(8, 2, method=1), T, "method"),
    Case("maskgit", lambda: P.maskgit(8, 2, method="spline"), V, "method"),
    Case("maskgit_counts", lambda: P.maskgit_counts(8, np.array(["a"])), T, "ratios"),
    Case("maskgit_counts", lambda: P.maskgit_counts(8, np.array([np.nan], np.float32)), V, "ratios"),
    Case("maskgit_ratios", lambda: P.maskgit_ratios(8, "2"), T, "k"),
    Case("maskgit_ratios", lambda: P.maskgit_ratios(8, 0), V, "k"),
    Case("ass", lambda: P.ass(8, "2"), T, "k"),
    Case("ass", lambda: P.ass(8, 4), V, "k"),
    Case("ass_blocks", lambda: P.ass_blocks(128, 7, "2"), T, "block_num"),
    Case("ass_blocks", lambda: P.ass_blocks(128, 7, 8), V, "block_num"),
    Case("ass_exponent", lambda: P.ass_exponent(2.0), T, "n"),
    Case("ass_exponent", lambda: P.ass_exponent(0), V, "n"),
    Case("flexible", lambda: P.flexible(8, 2, shape=1), T, "shape"),
    Case("flexible", lambda: P.flexible(8, 2, exp_k=0.0, shape="exponential"), V, "exp_k"),
    # ---- mdmsched.distributions ----
    Case("ising_chain", lambda: D.ising_chain("1"), T, "coupling"),
    Case("ising_chain", lambda: D.ising_chain(np.inf), V, "coupling"),
    Case("linear_code_average_entropies", lambda: D.linear_code_average_entropies(np.zeros((1, 2)), 3), T,
         "generator"),
    Case("linear_code_average_entropies", lambda: D.linear_code_average_entropies(np.zeros((1, 0), int), 3), V,
         "generator"),
    Case("markov_chain", lambda: D.markov_chain(P2, 2.0), T, "n"),
    Case("markov_chain", lambda: D.markov_chain(-P2, 2), V, "P"),
    Case("markov_curve", lambda: D.markov_curve(P2, 4, tol="0"), T, "tol"),
    Case("markov_curve", lambda: D.markov_curve(P2, 0), V, "n"),
    Case("mds_curve", lambda: D.mds_curve(8, 2, "3"), T, "q"),
    Case("mds_curve", lambda: D.mds_curve(2**40, 1, 2), V, "n"),
    Case("mixture", lambda: D.mixture([DENSE], ["a"]), T, "weights"),
    Case("mixture", lambda: D.mixture([DENSE], [0.5]), V, "weights"),
    Case("parity_code", lambda: D.parity_code(4, 2.0), T, "q"),
    Case("parity_code", lambda: D.parity_code(1), V, "n"),
    Case("product", lambda: D.product([["a", "b"]]), T, "marginals"),
    Case("product", lambda: D.product([[0.5, 0.6]]), V, "marginals"),
    Case("random_linear_code", lambda: D.random_linear_code(4, 2, 3, seed="s"), T, "seed"),
    Case("random_linear_code", lambda: D.random_linear_code(4, 0, 3), V, "d"),
    Case("reed_solomon", lambda: D.reed_solomon(4, 2, 5.0), T, "q"),
    Case("reed_solomon", lambda: D.reed_solomon(4, 2, 4), V, "q"),
    Case("stationary_distribution", lambda: D.stationary_distribution("P"), T, "transition"),
    Case("stationary_distribution", lambda: D.stationary_distribution(np.ones((2, 3)) / 3), V, "P"),
    Case("uniform", lambda: D.uniform(2, "2"), T, "q"),
    Case("uniform", lambda: D.uniform(0, 2), V, "n"),
    # ---- checks the samplers and adapters share (issue 28) ----
    Case("as_where", lambda: as_where(np.ones((2, 3), int), (2, 3)), T, "where"),
    Case("as_where", lambda: as_where(np.ones((3, 2), bool), (2, 3)), V, "where"),
    Case("as_eos", lambda: as_eos(1.5, True), T, "eos_id"),
    Case("as_eos", lambda: as_eos(-1, True), V, "eos_id"),
    Case("as_eos", lambda: as_eos(2**63, True), V, "eos_id"),
    Case("as_eos", lambda: as_eos(1, "yes"), T, "pad_after_eos"),
    Case("arg_count", lambda: SA.arg_count(2.5, "steps"), T, "steps"),
    Case("arg_count", lambda: SA.arg_count("-1", "steps"), V, "steps"),
    Case("arg_count", lambda: SA.arg_count("9" * 400, "steps"), V, "steps"),
    Case("sampler_from_args", lambda: SA.sampler_from_args("top_k", gen_length=None), T, "gen_length"),
    Case("sampler_from_args", lambda: SA.sampler_from_args("threshold:nan", gen_length=8), V, "threshold"),
    Case("sampler_from_args", lambda: SA.sampler_from_args("nope", gen_length=8), V, "rule"),
    Case("sampler_from_args", lambda: SA.sampler_from_args("top_k", gen_length=8, steps=4, schedule="/dev/zero"), V,
         "schedule"),
    # ---- mdmsched.io ----
    Case("load_curve", lambda: IO.load_curve(3), T, "path"),
    Case("load_curve", lambda: IO.load_curve("/nonexistent/z.npy"), V, "z.npy"),
    Case("load_curve_family", lambda: IO.load_curve_family(None), T, "path"),  # type: ignore[arg-type]
    Case("load_curve_family", lambda: IO.load_curve_family("/nonexistent/f.npz"), V, "f.npz"),
    Case("load_distribution", lambda: IO.load_distribution(b"p.npy"), T, "path"),  # type: ignore[arg-type]
    Case("load_distribution", lambda: IO.load_distribution("/nonexistent/p.npy"), V, "p.npy"),
    Case("save_curve", lambda: IO.save_curve(Z, 5), T, "path"),  # type: ignore[arg-type]
    Case("save_curve", lambda: IO.save_curve(Z[::-1], "/tmp/never-written-19.json"), V, "Z"),
    Case("strict_json", lambda: IO.strict_json({"a": object()}), T, "object"),
    Case("load_task_jsonl", lambda: IO.load_task_jsonl(None), T, "path"),  # type: ignore[arg-type]
    Case("load_task_jsonl", lambda: IO.load_task_jsonl("/nonexistent/t.jsonl"), V, "t.jsonl"),
]

#: Public names that take no caller input of their own, with the reason.
EXEMPT = {
    "MaskedModel": "a Protocol (no constructor; isinstance checks only)",
    "Predictor": "a Protocol (no constructor)",
    "FileFormatError": "an exception class",
    "FlatCurveWarning": "a warning class",
    "NonMonotoneWarning": "a warning class",
    "ComparisonTable": "a result record built by compare()",
    "CurveEstimate": "a result record built by estimate_curve()/merge_shards()",
    "BlockCurveEstimate": "a result record built by estimate_block_curves()",
    "ErrorEstimate": "a result record built by CurveEstimate.schedule_error()",
    "KLEstimate": "a result record built by expected_kl()",
    "Rule": "an abstract base class (its subclasses are audited)",
    "SamplerEstimate": "a result record built by evaluate_sampler()",
    "SamplerComparison": "a result record built by compare_samplers()",
}


def _public_callables() -> set[str]:
    names = set()
    for module in (mdmsched, S, P, D, IO):
        names |= {name for name in module.__all__ if callable(getattr(module, name))}
    return names


def test_every_public_name_is_audited() -> None:
    audited = {case.name for case in CASES}
    missing = _public_callables() - audited - set(EXEMPT)
    assert not missing, f"public names without a TypeError/ValueError row: {sorted(missing)}"
    assert not set(EXEMPT) & audited


@pytest.mark.parametrize("case", CASES, ids=[f"{c.name}-{i}" for i, c in enumerate(CASES)])
def test_wrong_kind_is_type_error_wrong_value_is_value_error(case: Case) -> None:
    with pytest.raises(Exception) as info:  # noqa: PT011 -- the exact type is asserted below, with the message
        case.call()
    raised = info.value
    assert type(raised) is case.error or (isinstance(raised, case.error) and type(raised).__module__.startswith(
        "mdmsched")), f"{case.name}: expected {case.error.__name__}, got {type(raised).__name__}: {raised}"
    assert case.names.lower() in str(raised).lower(), f"{case.name}: message does not name {case.names!r}: {raised}"
