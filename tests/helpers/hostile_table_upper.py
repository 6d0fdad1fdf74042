"""Hostile-input cases (issue 28) for the upper floors: models and estimates, samplers, adapters, compare/plot and the
command line. See ``hostile_cases.py`` for the outcomes."""

from __future__ import annotations

import numpy as np
from hostile_cases import (
    CASES,
    OK,
    Case,
    T,
    V,
    api,
    choice_mutations,
    cli_case,
    curve_mutations,
    executor_mutations,
    finite,
    flag_mutations,
    has_torch,
    int_mutations,
    model_mutations,
    nats,
    path_mutations,
    progress_mutations,
    real_mutations,
    region_mutations,
    relabel,
    rng_mutations,
    rule_mutations,
    schedule_of,
    seed_mutations,
    sizes_mutations,
    skewed_predict,
    tmpfile,
    tokens_mutations,
)
from hostile_table_ground import dense, z

import mdmsched
from mdmsched import models as M
from mdmsched import samplers as Sm
from mdmsched.adapters import sampler_args as SA
from mdmsched.adapters import serving as SV
from mdmsched.adapters import sglang as SG

UNIT = {"low": 0.0, "low_open": True, "high": 1.0, "high_open": True}


def data() -> np.ndarray:
    return np.array([[0, 1, 1, 0], [1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0]])


def model() -> mdmsched.ProbabilityModel:
    return mdmsched.ProbabilityModel(skewed_predict)


def _models() -> None:
    common = {"model": model_mutations(), "data": tokens_mutations()}
    api("mdmsched.estimate_curve", "models", mdmsched.estimate_curve, lambda: {"model": skewed_predict, "data": data(), "seed": 0},
        {**common, "target": choice_mutations(), "region": region_mutations(4), "grid": counts_grid_mutations(),
         "reps": int_mutations(big=V), "batch_size": int_mutations(none_ok=True, big=OK), "seed": seed_mutations(),
         "executor": executor_mutations(), "shards": int_mutations(none_ok=True, big=OK), "estimator": choice_mutations(),
         "progress": progress_mutations()}, check=lambda e: finite(e.Z))
    api("mdmsched.estimate_block_curves", "models", mdmsched.estimate_block_curves,
        lambda: {"model": skewed_predict, "data": data(), "block_length": 2, "seed": 0},
        {**common, "block_length": int_mutations(big=OK), "reps": int_mutations(big=V)})  # longer than the row: one block
    api("models.plan_estimate", "models", M.plan_estimate, lambda: {"data_shape": (4, 4), "seed": 0},
        {"data_shape": shape_mutations(), "reps": int_mutations(big=V), "batch_size": int_mutations(none_ok=True, big=OK),
         "grid": counts_grid_mutations(), "region": region_mutations(4), "target": choice_mutations()})
    api("models.plan_block_estimate", "models", M.plan_block_estimate, lambda: {"data_shape": (4, 4), "block_length": 2},
        {"data_shape": shape_mutations(), "block_length": int_mutations(big=OK)})
    plan = M.plan_estimate((4, 4), seed=0)
    api("models.run_shard", "models", M.run_shard, lambda: {"model": skewed_predict, "data": data(), "plan": plan},
        {**common, "plan": [("None", lambda b: None, T), ("str", lambda b: "plan", T)],
         "batches": [("str", lambda b: "0:1", T), ("out_of_range", lambda b: range(5, 900), V), ("list", lambda b: [0], T),
                     ("empty", lambda b: range(0), "ok|ValueError"), ("step2", lambda b: range(0, 4, 2), V)]})
    shard = M.run_shard(skewed_predict, data(), plan)
    api("models.merge_shards", "models", M.merge_shards, lambda: {"plan": plan, "results": [shard]},
        {"plan": [("None", lambda b: None, T), ("str", lambda b: "plan", T)],
         "results": [("None", lambda b: None, T), ("empty", lambda b: [], V), ("duplicate", lambda b: [shard, shard], V),
                     ("str", lambda b: ["x"], T)],
         "total_seconds": real_mutations(huge=OK)}, check=lambda e: finite(e.Z))
    api("mdmsched.ProbabilityModel", "models", mdmsched.ProbabilityModel, lambda: {"predict": skewed_predict},
        {"predict": [("None", lambda b: None, T), ("int", lambda b: 5, T), ("str", lambda b: "f", T)],
         "vocab_size": int_mutations(none_ok=True, big=V), "check_rows": int_mutations(big=OK)})
    mask = np.array([[True, False, True, False]] * 4)
    api("ProbabilityModel.score", "models", lambda **kw: model().score(**kw),
        lambda: {"tokens": data(), "mask": mask.copy(), "target": "cross_entropy"},
        {"tokens": tokens_mutations(minimum_rows=1), "mask": mask_mutations(mask), "target": choice_mutations()}, check=nats)
    api("ProbabilityModel.sample", "models", lambda **kw: model().sample(**kw),
        lambda: {"tokens": data(), "mask": mask.copy(), "rng": np.random.default_rng(0)},
        # (0, 0) is a masked position: its id is a placeholder the sample overwrites, whatever it is
        {"tokens": relabel(tokens_mutations(minimum_rows=1), huge_id=OK, negative_id=OK), "mask": mask_mutations(mask),
         "rng": rng_mutations()})
    api("ProbabilityModel.score_states", "models", lambda **kw: model().score_states(**kw),
        lambda: {"tokens": data(), "mask": mask.copy(), "nll": True},
        {"tokens": tokens_mutations(minimum_rows=1), "mask": mask_mutations(mask), "nll": flag_mutations(),
         "rng": [("int", lambda b: 3, T)], "uniforms": [("str", lambda b: "u", T), ("wrong_shape", lambda b: np.zeros(3), V)],
         "where": [("int", lambda b: np.ones((4, 4), int), T), ("wrong_shape", lambda b: np.ones(3, bool), V)]})
    api("mdmsched.ExactPredictor", "models", mdmsched.ExactPredictor, lambda: {"p": dense()}, {"p": _prob_muts()})
    api("mdmsched.MarkovPredictor", "models", mdmsched.MarkovPredictor, lambda: {"transition": np.array([[0.9, 0.1], [0.2, 0.8]]), "n": 3},
        {"transition": _transition_muts(), "n": int_mutations()})
    api("models.check_scores", "models", M.check_scores, lambda: {"values": np.ones((2, 3)), "mask": np.ones((2, 3), bool)},
        {"values": [("nan", lambda b: np.full((3, 3), np.nan), V), ("negative", lambda b: -np.ones((2, 3)), V),
                    ("wrong_shape", lambda b: np.ones((3, 2)), V), ("str", lambda b: np.full((2, 3), "a"), T),
                    ("None", lambda b: None, T), ("list", lambda b: np.ones((2, 3)).tolist(), OK),
                    ("complex", lambda b: np.ones((2, 3)) + 0j, T), ("float32", lambda b: np.ones((2, 3), np.float32), OK)],
         "mask": [("int", lambda b: np.ones((2, 3), int), T), ("wrong_shape", lambda b: np.ones((2, 2), bool), V)]}, check=nats)
    api("models.as_where", "models", mdmsched.models.interface.as_where, lambda: {"where": np.ones((2, 3), bool), "shape": (2, 3)},
        {"where": [("int", lambda b: np.ones((2, 3), int), T), ("wrong_shape", lambda b: np.ones((3, 2), bool), V),
                   ("str", lambda b: "all", T), ("list", lambda b: np.ones((2, 3), bool).tolist(), OK),
                   ("array_raises", lambda b: __import__("hostile_cases").RaisingArray(), "HostileError")]})
    _curve_estimate()


def _prob_muts() -> list:
    from hostile_cases import prob_mutations

    return [m for m in prob_mutations() if m[0] not in ("too_many_axes",)]


def _transition_muts() -> list:
    from hostile_cases import transition_mutations

    return transition_mutations()


def shape_mutations() -> list:
    return [("None", lambda b: None, T), ("str", lambda b: "4x4", T), ("float", lambda b: (4.0, 4.0), T),
            ("negative", lambda b: (-4, 4), V), ("one_row", lambda b: (1, 4), V), ("huge", lambda b: (10**12, 10**12), V),
            ("three", lambda b: (4, 4, 4), V), ("np_ints", lambda b: (np.int64(4), np.int64(4)), OK),
            ("2**70", lambda b: (2**70, 4), V)]


def counts_grid_mutations() -> list:
    return [("str", lambda b: "012", T), ("float_frac", lambda b: [0.5, 1.5], T), ("negative", lambda b: [-1, 0], V),
            ("too_big", lambda b: [0, 99], V), ("empty", lambda b: [], V), ("unsorted", lambda b: [2, 0, 1], "ok|ValueError"),
            ("uint64", lambda b: np.array([0, 1, 2], np.uint64), OK), ("2d", lambda b: np.zeros((2, 2), int), V),
            ("nan", lambda b: [0.0, np.nan], T)]


def mask_mutations(mask: np.ndarray) -> list:
    return [("int_dtype", lambda b: mask.astype(int), T), ("wrong_shape", lambda b: mask[:, :2].copy(), V),
            ("None", lambda b: None, T), ("str", lambda b: "mask", T), ("readonly", lambda b: __import__("hostile_cases").readonly(mask), OK)]


def _curve_estimate() -> None:
    est = mdmsched.estimate_curve(skewed_predict, data(), seed=0)
    sched = {"schedule": sizes_mutations(4)}
    conf = {"confidence": real_mutations(**UNIT)}
    api("CurveEstimate.schedule_error", "models", est.schedule_error, lambda: {"schedule": [2, 2]},
        {**sched, **conf, "entropy": real_mutations(none_ok=True, huge=OK), "simultaneous": flag_mutations(),
         "calibration": choice_mutations()}, check=lambda e: finite(e.value))  # KL minus a too-large entropy < 0
    api("CurveEstimate.compare", "models", est.compare, lambda: {"first": [2, 2], "second": [1, 3]},
        {"first": sizes_mutations(4), "second": sizes_mutations(4), **conf, "holdout": [("str", lambda b: "half", "TypeError|ValueError")]},
        check=lambda e: finite(e.value))
    api("CurveEstimate.optimal_schedule", "models", est.optimal_schedule, lambda: {"k": 2},
        {"k": int_mutations(), "objective": choice_mutations(), **conf, "method": choice_mutations()}, check=schedule_of(4))
    api("CurveEstimate.min_steps", "models", est.min_steps, lambda: {"eps": 0.5},
        {"eps": real_mutations(), **conf, "calibration": choice_mutations()}, check=schedule_of(4))
    api("CurveEstimate.rows_for", "models", est.rows_for, lambda: {"stderr": 0.1, "schedule": [2, 2]},
        {"stderr": real_mutations(low=0.0, low_open=True, huge=OK), **sched})
    api("CurveEstimate.certified_schedule", "models", est.certified_schedule, lambda: {"k": 2},
        {"k": int_mutations(), **conf, "calibration": choice_mutations()}, check=schedule_of(4))
    api("CurveEstimate.certified_frontier", "models", est.certified_frontier, lambda: {"k_max": 3},
        {"k_max": int_mutations(none_ok=True), **conf, "calibration": choice_mutations()}, check=nats)
    _ramp_band()
    api("CurveEstimate.subset", "models", est.subset, lambda: {"rows": [0, 1, 2]},
        {"rows": [("str", lambda b: "012", T), ("out_of_range", lambda b: [0, 9], V), ("one", lambda b: [0], V),
                  ("float_frac", lambda b: [0.5, 1.5], T), ("negative", lambda b: [-1, 0], V),
                  ("bool_mask", lambda b: np.array([True, True, False, True]), T), ("empty", lambda b: [], T)]})  # [] is float
    api("CurveEstimate.is_flat", "models", est.is_flat, lambda: {"confidence": 0.95}, conf)
    blocks = mdmsched.estimate_block_curves(skewed_predict, data(), block_length=2, seed=0)
    api("BlockCurveEstimate.optimal_split", "models", blocks.optimal_split, lambda: {"total_steps": 3},
        {"total_steps": int_mutations(), "objective": choice_mutations(), **conf})


def _step_cost_matrix() -> np.ndarray:
    cost = np.array([[np.inf, 0.0, 0.2, 0.5, 0.9], [np.inf, np.inf, 0.0, 0.2, 0.5], [np.inf, np.inf, np.inf, 0.0, 0.2],
                     [np.inf, np.inf, np.inf, np.inf, 0.0], [np.inf] * 5])
    return cost


def _ramp_band() -> None:
    """The ramp band's solvers and its step bounds (:mod:`mdmsched.models.step_costs`, :mod:`mdmsched.models.ramps`),
    and an estimate large enough for the ramps (100 rows, 6 grid points)."""
    from mdmsched.models import ramps as R
    from mdmsched.models import step_costs as SC

    cost = {"cost": [("None", lambda b: None, T), ("str", lambda b: "cost", T), ("complex", lambda b: b.astype(complex), T),
                     ("nan", lambda b: np.where(np.isinf(b), np.nan, b), V), ("-inf", lambda b: -b, V),
                     ("1d", lambda b: b[0], V), ("not_square", lambda b: b[:3], V), ("one_by_one", lambda b: b[:1, :1], V),
                     ("int_dtype", lambda b: np.triu(np.ones((5, 5), dtype=int), 2), OK), ("object", lambda b: b.astype(object), T)]}
    api("step_costs.best_schedule", "models", SC.best_schedule, lambda: {"cost": _step_cost_matrix(), "k": 2},
        {**cost, "k": int_mutations(big=V)}, check=schedule_of(4))
    api("step_costs.fewest_steps", "models", SC.fewest_steps, lambda: {"cost": _step_cost_matrix(), "eps": 0.3},
        {**cost, "eps": real_mutations()}, check=schedule_of(4))
    api("step_costs.cost_frontier", "models", SC.cost_frontier, lambda: {"cost": _step_cost_matrix(), "k_max": 3},
        {**cost, "k_max": int_mutations(big=V)}, check=nats)
    api("step_costs.schedule_cost", "models", SC.schedule_cost, lambda: {"cost": _step_cost_matrix(), "sizes": [2, 2]},
        {**cost, "sizes": sizes_mutations(4)}, check=nats)
    samples = np.cumsum(-np.random.default_rng(0).exponential(size=(6, 100)), axis=0)
    api("ramps.step_bounds", "models", R.step_bounds,
        lambda: {"samples": samples.copy(), "grid": np.arange(6), "n": 6, "confidence": 0.95, "sides": "upper"},
        {"samples": [("None", lambda b: None, T), ("str", lambda b: "x", T), ("nan", lambda b: np.where(b < -3, np.nan, b), V),
                     ("1d", lambda b: b[0], V), ("one_row", lambda b: b[:, :1], V), ("wrong_grid_size", lambda b: b[:4], V)],
         "grid": [("decreasing", lambda b: b[::-1].copy(), V), ("float_frac", lambda b: b + 0.5, T),
                  ("past_n", lambda b: b + 5, V), ("None", lambda b: None, T)],
         "n": int_mutations(big=V), "confidence": real_mutations(**UNIT), "sides": choice_mutations(),
         "bootstrap": flag_mutations()})
    rng = np.random.default_rng(1)
    rows = np.where(rng.random((100, 6)) < 0.8, 0, 1)
    big = mdmsched.estimate_curve(skewed_predict, rows, seed=0)
    api("CurveEstimate.certified_schedule/ramps", "models", big.certified_schedule, lambda: {"k": 3},
        {"k": int_mutations(), "confidence": real_mutations(**UNIT), "calibration": choice_mutations()},
        check=schedule_of(6))


def rules() -> None:
    # n is unknown until a rule runs: a schedule summing to another n is refused then, not here
    sched = {"schedule": relabel(sizes_mutations(4), wrong_sum=OK)}
    api("mdmsched.RandomOrder", "samplers", mdmsched.RandomOrder, lambda: {"schedule": [2, 2]}, sched)
    api("mdmsched.TopK", "samplers", mdmsched.TopK, lambda: {"schedule": [2, 2], "score": "max_prob"},
        {**sched, "score": choice_mutations(), "temperature": real_mutations(low=0.0, low_open=True, none_ok=True)})
    api("mdmsched.Threshold", "samplers", mdmsched.Threshold, lambda: {"tau": 0.9}, {"tau": real_mutations(low=0.0, high=1.0)})
    api("samplers.Factor", "samplers", Sm.Factor, lambda: {"f": 1.0}, {"f": real_mutations(low=0.0, low_open=True)})
    api("mdmsched.EntropyBounded", "samplers", mdmsched.EntropyBounded, lambda: {"gamma": 0.1},
        {"gamma": real_mutations(low=0.0)})
    api("mdmsched.FloorThreshold", "samplers", mdmsched.FloorThreshold, lambda: {"schedule": [2, 2], "tau": 0.9},
        {**sched, "tau": relabel(real_mutations(low=0.0, high=1.0), above_high=OK)})  # tau > 1: the floor alone
    api("samplers.EarlyCommit", "samplers", Sm.EarlyCommit, lambda: {"base": mdmsched.Threshold(0.9), "threshold": 5.0, "gap": "logit"},
        {"base": relabel(rule_mutations(), int=V), "threshold": real_mutations(low=0.0), "gap": choice_mutations()})


def _samplers() -> None:
    rule = mdmsched.Threshold(0.7)
    common = {"model": model_mutations(), "data": tokens_mutations()}
    blk = {"block_length": int_mutations(none_ok=True, big=OK)}  # a block longer than the row is one block
    api("mdmsched.evaluate_sampler", "samplers", mdmsched.evaluate_sampler, lambda: {"model": skewed_predict, "data": data(), "rule": rule},
        {**common, "rule": rule_mutations(), **blk, "seed": [m for m in seed_mutations() if m[0] != "None"],
         "region": region_mutations(4), "batch_size": int_mutations(big=OK), "executor": executor_mutations(),
         "progress": progress_mutations(), "eos_id": relabel(int_mutations(0, none_ok=True), **{"10**12": OK}), "pad_after_eos": flag_mutations()},
        check=lambda e: nats(e.nll))
    api("mdmsched.compare_samplers", "samplers", mdmsched.compare_samplers,
        lambda: {"model": skewed_predict, "data": data(), "first": rule, "second": mdmsched.TopK([2, 2])},
        {**common, "first": rule_mutations(), "second": rule_mutations(), "confidence": real_mutations(**UNIT),
         "interval": choice_mutations()}, check=lambda c: finite(c.value))
    api("mdmsched.sample_with_rule", "samplers", mdmsched.sample_with_rule,
        lambda: {"model": skewed_predict, "rule": rule, "num_samples": 3, "n": 4, "seed": 0},
        {"model": model_mutations(), "rule": rule_mutations(), "num_samples": int_mutations(big=V), "n": relabel(int_mutations(big=V), **{"None": V}),  # no n and no prompts
         "seed": seed_mutations(), "batch_size": int_mutations(big=OK), "block_length": int_mutations(none_ok=True, big=OK)})
    law = dense()[..., None].repeat(1, -1)[..., 0]
    api("mdmsched.simulate", "samplers", mdmsched.simulate, lambda: {"model": law, "schedule": [1, 2], "num_samples": 3, "seed": 0},
        {"model": _prob_model_muts(), "schedule": sizes_mutations(3), "num_samples": int_mutations(big=V),
         "seed": seed_mutations(), "batch_size": int_mutations(big=OK)})
    api("mdmsched.simulate/region", "samplers", mdmsched.simulate,
        lambda: {"model": law, "schedule": [1, 1], "num_samples": 3, "seed": 0, "prompts": np.zeros((1, 3), int),
                 "region": np.array([False, True, True])},
        # the all-True masks generate 3 positions: the schedule's 2 steps of 1 then miss one (ValueError)
        {"region": relabel(region_mutations(3), list_of_bools=V, readonly=V),
         "prompts": [("float", lambda b: np.zeros((1, 3)), T), ("wrong_length", lambda b: np.zeros((1, 2), int), V),
                     ("negative", lambda b: -np.ones((1, 3), int), V), ("out_of_alphabet", lambda b: np.full((1, 3), 5), V)]})
    api("mdmsched.expected_kl", "samplers", mdmsched.expected_kl,
        lambda: {"law": law, "model": None, "schedule": [1, 2], "num_samples": 4, "seed": 0},
        {"law": _prob_model_muts(), "schedule": sizes_mutations(3), "num_samples": int_mutations(minimum=2, big=V),
         "seed": seed_mutations(), "batch_size": int_mutations(big=OK)}, check=lambda e: finite(e.mean))
    api("samplers.empirical_kl", "samplers", Sm.empirical_kl,
        lambda: {"samples": np.array([[0, 1, 0], [1, 1, 0]]), "p": law},
        {"samples": tokens_mutations(minimum_rows=1), "p": relabel(_prob_model_muts()[3:], int_scalar=V, zero_d=V), "pseudocount": real_mutations(low=0.0, low_open=True)},
        check=finite)
    api("samplers.generate_with_rule", "samplers", Sm.generate_with_rule,
        lambda: {"model": model(), "rows": data(), "region": 2, "block_length": None, "rule": rule, "rng": np.random.default_rng(0)},
        {"model": model_mutations()[:3], "rows": relabel(tokens_mutations(minimum_rows=1), huge_id=OK), "region": int_mutations(0, big=V),
         "block_length": int_mutations(none_ok=True, big=OK), "rule": rule_mutations(), "rng": rng_mutations()})
    api("samplers.generate", "samplers", Sm.generate,
        lambda: {"model": model(), "rows": data(), "region": 2, "num_transfer_tokens": np.array([[1, 1]]),
                 "block_length": 2, "rng": np.random.default_rng(0)},
        {"rows": relabel(tokens_mutations(minimum_rows=1), huge_id=OK), "region": int_mutations(0, big=V),
         "num_transfer_tokens": [("str", lambda b: "22", T), ("float_frac", lambda b: np.full((1, 2), 1.5), T),
                                 ("negative", lambda b: np.array([[-1, 3]]), V), ("wrong_sum", lambda b: np.array([[2, 1]]), V),
                                 ("wrong_rows", lambda b: np.array([[1, 1]] * 3), V), ("1d", lambda b: np.array([1, 1]), "ok|ValueError"),
                                 ("per_row", lambda b: np.array([[[1, 1]] * 4]), OK), ("uint64", lambda b: np.array([[1, 1]], np.uint64), OK)],
         "rng": rng_mutations()})
    api("mdmsched.sampler_map", "samplers", mdmsched.sampler_map,
        lambda: {"model": skewed_predict, "data": data(), "families": ["threshold"], "frontier": False},
        {"data": tokens_mutations()[:12], "families": [("int", lambda b: 3, T), ("unknown", lambda b: ["nope"], V),
                                                       ("empty", lambda b: [], V), ("bytes", lambda b: b"x", T)],
         "batch_size": int_mutations(big=OK)})
    api("samplers.calibrate", "samplers", Sm.calibrate,
        lambda: {"model": skewed_predict, "data": data(), "family": "threshold", "budget": 3.0, "iterations": 3},
        {"family": choice_mutations(), "budget": real_mutations(low=0.0),  # budget 0: the fastest rule is the closest
         "iterations": int_mutations(big=V), "low": real_mutations(none_ok=True, huge=V),
         "kl": real_mutations(low=0.0, low_open=True, none_ok=True)})
    vals = np.array([0.1, 0.5, 0.3, 0.9, 0.2])
    api("samplers.mean_interval", "samplers", Sm.mean_interval, lambda: {"values": vals, "seed": 0},
        {"values": value_mutations(), "offset": real_mutations(low=None, huge=OK), "confidence": real_mutations(**UNIT),
         "method": choice_mutations(), "seed": int_mutations(0, big=OK)}, check=lambda i: finite([i.value, i.lower, i.upper]))
    api("samplers.accuracy_interval", "samplers", Sm.accuracy_interval,
        lambda: {"values": np.array([1.0, 0.0, 1.0, 1.0]), "samples_per_prompt": 1},
        {"values": [m for m in value_mutations() if m[0] != "heavy_but_finite"] + [("above_one", lambda b: b + 1, V)],
         "samples_per_prompt": int_mutations(big=V), "confidence": real_mutations(**UNIT)},
        check=finite)
    api("samplers.rows_for_stderr", "samplers", Sm.rows_for_stderr, lambda: {"values": vals, "stderr": 0.1},
        {"values": value_mutations(), "stderr": real_mutations(low=0.0, low_open=True, huge=OK)})
    api("samplers.rows_to_detect", "samplers", Sm.rows_to_detect, lambda: {"differences": vals - 0.4, "gain": 0.1},
        {"differences": value_mutations(), "gain": real_mutations(low=0.0, low_open=True, huge=OK),
         "power": real_mutations(**UNIT), "confidence": real_mutations(**UNIT)})
    api("samplers.optimal_counts", "samplers", Sm.optimal_counts,
        lambda: {"table": np.array([[0.0, 0.1, 0.3], [0.0, 0.0, 0.2], [0.0, 0.0, 0.0]]), "steps": 2},
        {"table": [("str", lambda b: "t", T), ("nan", lambda b: np.full((3, 3), np.nan), V), ("1d", lambda b: np.zeros(3), V),
                   ("complex", lambda b: np.asarray(b) + 0j, T), ("empty", lambda b: np.zeros((0, 0)), V),
                   ("negative", lambda b: -np.ones((3, 3)), "ok|ValueError"), ("object", lambda b: np.asarray(b, object), T),
                   ("not_square", lambda b: np.zeros((2, 3)), V), ("bool", lambda b: np.ones((3, 3), bool), T)],
         "steps": int_mutations(big=V)})
    api("samplers.plan_sampler", "samplers", Sm.plan_sampler, lambda: {"data_shape": (4, 4)},
        {"data_shape": shape_mutations(), "block_length": int_mutations(none_ok=True, big=OK), "seed": seed_mutations()[1:],
         "batch_size": int_mutations(big=OK), "eos_id": relabel(int_mutations(0, none_ok=True), **{"10**12": OK}), "pad_after_eos": flag_mutations()})
    api("samplers.plan_task", "samplers", Sm.plan_task, lambda: {"prompts_shape": (4, 4)},
        {"prompts_shape": shape_mutations()[:6], "samples_per_prompt": int_mutations(big=V)})
    api("samplers.evaluate_sweep", "samplers", Sm.evaluate_sweep,
        lambda: {"model": skewed_predict, "data": data(), "rules": [rule, mdmsched.TopK([2, 2])]},
        {"model": model_mutations(), "rules": [("None", lambda b: None, T), ("str", lambda b: "threshold", T),
                                                ("empty", lambda b: [], V), ("with_str", lambda b: [rule, "x"], T)],
         "cache_bytes": int_mutations(0, none_ok=True, big=V)})  # a cache larger than the memory available
    api("samplers.plan_sweep", "samplers", Sm.plan_sweep,
        lambda: {"data_shape": (4, 4), "rules": [rule, mdmsched.TopK([2, 2])]},
        {"data_shape": shape_mutations(), "rules": [("None", lambda b: None, T), ("empty", lambda b: [], V),
                                                    ("with_str", lambda b: [rule, "x"], T), ("rule_alone", lambda b: rule, T)],
         "plan": [("str", lambda b: "plan", T)], "block_length": int_mutations(none_ok=True, big=OK)})
    api("samplers.StateCache", "samplers", Sm.StateCache, lambda: {"model": model()},
        {"cache_bytes": int_mutations(0, none_ok=True, big=V), "model": [("None", lambda b: None, T), ("int", lambda b: 5, T)]})
    api("samplers.confidence_cost_tables", "samplers", Sm.confidence_cost_tables, lambda: {"model": skewed_predict, "data": data()},
        {"model": model_mutations(), "data": tokens_mutations(), "score": choice_mutations()})
    api("samplers.default_family", "samplers", Sm.default_family, lambda: {"name": "threshold", "block_lengths": [4]},
        {"name": choice_mutations(), "block_lengths": [("str", lambda b: "4", T), ("zero", lambda b: [0], V),
                                                      ("empty", lambda b: [], V), ("float_frac", lambda b: [2.5], T)],
         "values": [("str", lambda b: "0.5", T), ("nan", lambda b: [np.nan], V), ("empty", lambda b: [], V)]})
    api("samplers.closed_loop_family", "samplers", Sm.closed_loop_family, lambda: {"name": Sm.CLOSED_LOOP_NAMES[0], "curves": [z()]},
        {"name": choice_mutations(), "curves": [("None", lambda b: None, T), ("str", lambda b: "z", T), ("bad", lambda b: [-z()], V)],
         "tau": relabel(real_mutations(low=0.0, high=1.0), above_high=OK)})  # as FloorThreshold's tau
    est = mdmsched.evaluate_sampler(skewed_predict, data(), rule)
    api("SamplerEstimate.kl", "samplers", est.kl, lambda: {"entropy": 0.5},
        {"entropy": real_mutations(), "confidence": real_mutations(**UNIT), "interval": choice_mutations()})
    api("SamplerEstimate.rows_for", "samplers", est.rows_for, lambda: {"stderr": 0.1},
        {"stderr": real_mutations(low=0.0, low_open=True, huge=OK)})
    _tasks(rule)


def value_mutations() -> list:
    return [("None", lambda b: None, T), ("str", lambda b: "abc", T), ("nan", lambda b: np.r_[b[:-1], np.nan], V),
            ("inf", lambda b: np.r_[b[:-1], np.inf], V), ("one", lambda b: b[:1], V), ("empty", lambda b: b[:0], V),
            ("complex", lambda b: b + 0j, T), ("2d", lambda b: b[None, :], "ok|ValueError"), ("list", lambda b: b.tolist(), OK),
            ("object", lambda b: b.astype(object), T), ("bool", lambda b: b > 0.3, T), ("heavy_tail", lambda b: np.r_[b, 1e200], V),
            ("heavy_but_finite", lambda b: np.r_[b, 1e12], OK)]


def _prob_model_muts() -> list:
    """A law (dense tensor) or a model: a scalar is neither (TypeError)."""
    from hostile_cases import prob_mutations

    return relabel([m for m in prob_mutations() if m[0] not in ("too_many_axes", "huge_broadcast")], int_scalar=T, zero_d=T)


def _tasks(rule: object) -> None:
    prompts = np.array([[0, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]])
    refs = [np.array([0, 1, 1, 0]), np.array([1, 1, 0, 1]), np.array([0, 0, 1, 1])]
    region = np.array([False, False, True, True])
    api("mdmsched.evaluate_task", "samplers", mdmsched.evaluate_task,
        lambda: {"model": skewed_predict, "prompts": prompts.copy(), "rule": rule, "score": "exact", "references": refs,
                 "region": region, "decode": lambda t: "".join(map(str, t))},
        {"model": model_mutations(), "prompts": tokens_mutations(minimum_rows=1)[:14], "rule": rule_mutations(),
         "score": [("int", lambda b: 3, T), ("unknown", lambda b: "nope", V), ("raises", lambda b: _raising_scorer, "HostileError"),
                   ("returns_nan", lambda b: (lambda p, o, r: float("nan")), V), ("returns_str", lambda b: (lambda p, o, r: "yes"), "TypeError|ValueError"),
                   ("returns_two", lambda b: (lambda p, o, r: 2.0), V), ("wrong_arity", lambda b: (lambda o: 1.0), T)],
         "references": [("wrong_length", lambda b: b[:1], V), ("int", lambda b: 3, T), ("str", lambda b: ["1", "0", "1"], T),
                        ("float_rows", lambda b: [r + 0.5 for r in b], T)],
         "samples_per_prompt": int_mutations(big=V), "confidence": real_mutations(**UNIT)},
        check=lambda e: finite([e.accuracy, e.lower, e.upper]))


def _raising_scorer(prompt: object, output: object, reference: object) -> float:
    from hostile_cases import HostileError

    raise HostileError("scorer")


def _adapters() -> None:
    from mdmsched import adapters as A

    api("adapters.block_layout", "adapters", A.block_layout, lambda: {"prompt_length": 2, "gen_length": 8, "block_length": 4},
        # 10**12 is a fine prompt or block (a few blocks); beyond 2**62 positions is refused
        {"prompt_length": relabel(int_mutations(0, big=V), **{"10**12": OK}), "gen_length": int_mutations(big=V),
         "block_length": relabel(int_mutations(big=V), **{"10**12": OK})})
    plan = mdmsched.BlockSchedule((mdmsched.Schedule([2, 2]), mdmsched.Schedule([4])))
    # a plan is a Schedule or BlockSchedule object: any other container is the wrong kind
    plan_muts = [("None", lambda b: None, T), ("str", lambda b: "plan", T), ("int", lambda b: 3, T),
                 ("list_of_lists", lambda b: [[2, 2], [4]], T), ("empty", lambda b: [], T),
                 ("negative", lambda b: [[-1, 5]], T), ("array", lambda b: np.array([2, 2]), T)]
    api("adapters.plan_blocks", "adapters", A.plan_blocks, lambda: {"plan": plan}, {"plan": plan_muts, "name": [("int", lambda b: 3, T)]})
    for name, fn in [("ddpm_time_grid", A.ddpm_time_grid), ("dream_time_grid", A.dream_time_grid)]:
        api(f"adapters.{name}", "adapters", fn, lambda: {"schedule": mdmsched.Schedule([2, 2]), "eps": 1e-3},
            {"schedule": [*plan_muts[:-1], ("block_schedule", lambda b: plan, T), ("sizes_list", lambda b: [2, 2], T)],
             "eps": real_mutations(low=0.0, high=1.0, high_open=True)}, check=finite)
    api("adapters.hf_forward", "adapters", A.hf_forward, lambda: {"module": lambda **kw: None, "shift": "none"},
        {"module": [("None", lambda b: None, T), ("int", lambda b: 3, T)], "shift": choice_mutations(none_ok=True),  # None: no shift unless the config is Dream's
         "attention_mask": flag_mutations()})
    # the plan is checked when the drop-in is made (no torch needed); the call itself below, with torch
    api("adapters.transfer_tokens/plan", "adapters", A.transfer_tokens, lambda: {"plan": mdmsched.Schedule([1, 2])},
        {"plan": plan_muts})
    api("adapters.block_transfer_tokens", "adapters", A.block_transfer_tokens, lambda: {"plan": plan}, {"plan": plan_muts})
    if has_torch():
        import torch

        mask = torch.zeros((2, 4), dtype=torch.bool)
        mask[:, 1:] = True
        api("adapters.transfer_tokens", "adapters", lambda **kw: A.transfer_tokens(kw.pop("plan"))(**kw),
            lambda: {"plan": mdmsched.Schedule([1, 2]), "mask_index": mask.clone(), "steps": 2},
            {"plan": plan_muts, "steps": int_mutations(big=V),
             "mask_index": [("None", lambda b: None, T), ("int_tensor", lambda b: b.long(), T), ("numpy", lambda b: b.numpy(), "ok|TypeError"),
                            ("wrong_count", lambda b: torch.ones((2, 4), dtype=torch.bool), V)]})
    # serving tables
    table = SV.build_table({4: z()}, [2], block_lengths=(None, 2))
    path = tmpfile("table.json", SV.__dict__["json"].dumps(table) if "json" in SV.__dict__ else __import__("json").dumps(table))
    api("serving.build_table", "adapters", SV.build_table, lambda: {"curves": {4: z()}, "steps": [2]},
        {"curves": [("None", lambda b: None, T), ("list", lambda b: [z()], T), ("bad_key", lambda b: {"4": z()}, "TypeError|ValueError"),
                    ("bad_curve", lambda b: {4: -z()}, V), ("zero_key", lambda b: {0: z()}, V), ("nan", lambda b: {4: [0.0, np.nan]}, V)],
         "steps": [("None", lambda b: None, T), ("str", lambda b: "2", T), ("zero", lambda b: [0], V), ("float", lambda b: [2.5], T),
                   ("empty", lambda b: [], V), ("2**70", lambda b: [2**70], OK)],  # k > n: skipped, documented
         "block_lengths": [("zero", lambda b: [0], V), ("str", lambda b: "4", T)], "fit": choice_mutations(),
         "closed_loop": flag_mutations()})
    api("serving.validate_table", "adapters", SV.validate_table, lambda: {"table": __import__("copy").deepcopy(table)},
        # documented: anything that is not a well-formed table is one ValueError (a JSON list decodes fine)
        {"table": [("None", lambda b: None, V), ("list", lambda b: [], V), ("empty", lambda b: {}, V),
                   ("wrong_format", lambda b: {**b, "format": "x"}, V), ("deep", lambda b: _deep_dict(), V)]})
    api("ScheduleTable.load", "adapters", SV.ScheduleTable.load, lambda: {"path": path}, {"path": path_mutations(".json"),
                                                                                         "max_bytes": [m for m in relabel(int_mutations(big=OK, example=2**20), **{"2**63": V, "2**70": V}) if m[0] != "np.int8"]})
    tab = SV.ScheduleTable.load(path)
    api("ScheduleTable.counts", "adapters", tab.counts, lambda: {"n": 4, "steps": 2},
        {"n": relabel(int_mutations(big=V), **{"10**12": "TableMiss"}), "steps": relabel(int_mutations(big=V), **{"10**12": "TableMiss"}),
         "block_length": relabel(int_mutations(none_ok=True, big=V), **{"10**12": "TableMiss"}),
         "at_most": flag_mutations(), "nearest": flag_mutations()})  # an integer in range but not tabulated: TableMiss
    api("ScheduleTable.commit", "adapters", tab.commit,
        lambda: {"n": 4, "steps": 2, "block_length": None, "block": 0, "step": 0},
        {"n": relabel(int_mutations(big=V), **{"10**12": "TableMiss"}), "steps": relabel(int_mutations(big=V), **{"10**12": "TableMiss"}),
         "block": int_mutations(0, big=V), "step": relabel(int_mutations(0, big=V, example=1), **{"10**12": OK})})  # past the end: 0
    api("serving.save_table", "adapters", SV.save_table, lambda: {"table": table, "path": tmpfile("saved.json", "")},
        {"table": [("None", lambda b: None, T), ("empty", lambda b: {}, V)],
         "path": [("None", lambda b: None, T), ("directory", lambda b: "/", "ValueError|IsADirectoryError|PermissionError")]})
    api("serving.policy_entry", "adapters", SV.policy_entry, lambda: {"policy": mdmsched.closed_loop_policy(z(), 2)},
        {"policy": [("None", lambda b: None, T), ("str", lambda b: "p", T)], "n": int_mutations(none_ok=True, big=V, example=4)})
    # sampler_args
    api("sampler_args.arg_count", "adapters", SA.arg_count, lambda: {"value": "4", "name": "steps"},
        {"value": [("float_str", lambda b: "2.5", V), ("neg", lambda b: "-1", V), ("huge", lambda b: "9" * 400, V),
                   ("None", lambda b: None, "TypeError|ValueError"), ("float", lambda b: 2.5, "TypeError|ValueError"),
                   ("bool", lambda b: True, "TypeError|ValueError"), ("int", lambda b: 4, OK), ("nan_str", lambda b: "nan", V)]})
    api("sampler_args.sampler_from_args", "adapters", SA.sampler_from_args,
        lambda: {"rule": "top_k", "gen_length": 8, "block_length": 4, "steps": 4},
        {"rule": [("unknown", lambda b: "nope", V), ("int", lambda b: 3, "TypeError|ValueError"), ("bad_param", lambda b: "threshold:abc", V),
                  ("nan_param", lambda b: "threshold:nan", V), ("neg_param", lambda b: "threshold:-1", V)],
         "gen_length": relabel(int_mutations(big=V), str=V), "block_length": [("neg", lambda b: -1, V), ("str_bad", lambda b: "x", V), ("float", lambda b: 2.5, "TypeError|ValueError")],
         "steps": [("zero", lambda b: 0, V), ("str_bad", lambda b: "x", V), ("huge", lambda b: 2**70, V)],
         "schedule": [("missing", lambda b: "/nonexistent/s.json", "ValueError|FileNotFoundError"), ("dev_zero", lambda b: "/dev/zero", V)],
         "table": [("missing", lambda b: "/nonexistent/t.json", "ValueError|FileNotFoundError"), ("dev_zero", lambda b: "/dev/zero", V)]})
    # sglang decision functions
    api("sglang.commit_mask", "adapters", SG.commit_mask,
        lambda: {"confidence": np.array([[0.9, 0.2, 0.5]]), "masked": np.array([[True, True, False]]), "counts": np.array([1]), "tau": None},
        {"confidence": [("nan", lambda b: np.array([[np.nan, 0.2, 0.5]]), V), ("str", lambda b: np.array([["a", "b", "c"]]), T),
                        ("wrong_shape", lambda b: np.array([0.9, 0.2]), V)],
         "masked": [("int", lambda b: np.array([[1, 1, 0]]), T), ("wrong_shape", lambda b: np.array([[True]]), V)],
         "counts": [("negative", lambda b: np.array([-1]), OK),  # documented clamp to 1..masked ("float_frac", lambda b: np.array([0.5]), T),
                    ("too_many", lambda b: np.array([5]), "ok|ValueError"), ("wrong_length", lambda b: np.array([1, 1]), V)],
         "tau": relabel(real_mutations(low=0.0, high=1.0, none_ok=True), above_high=OK)})  # above 1: floor only
    cfg = SG.PlanConfig(table=path, steps=2)
    api("sglang.PlanConfig.from_yaml", "adapters", SG.PlanConfig.from_yaml, lambda: {"text": cfg.to_yaml()},
        {"text": [("None", lambda b: None, T), ("int", lambda b: 3, T), ("garbage", lambda b: ": : :", V),
                  ("missing_key", lambda b: "steps: 2", V), ("bad_steps", lambda b: b.replace("steps: 2", "steps: -2"), V),
                  ("str_steps", lambda b: b.replace("steps: 2", "steps: two"), "TypeError|ValueError")]})
    api("sglang.planned_count", "adapters", SG.planned_count,
        lambda: {"table": tab, "config": cfg, "masked_at_start": 4, "masked_now": 4, "passes_done": 0},
        # an untabulated length takes the nearest one (config.nearest); passes past the plan commit the rest
        {"masked_at_start": relabel(int_mutations(big=V), **{"10**12": OK}), "masked_now": int_mutations(0, big=V),
         "passes_done": relabel(int_mutations(0, big=V), **{"10**12": OK}),
         "table": [("None", lambda b: None, T)], "config": [("None", lambda b: None, T)]})
    from mdmsched.samplers import eos

    api("samplers.as_eos", "samplers", eos.as_eos, lambda: {"eos_id": 1, "pad_after_eos": True},
        {"eos_id": relabel(int_mutations(0, none_ok=True), **{"10**12": OK}), "pad_after_eos": flag_mutations()})


def _deep_dict() -> dict:
    out: dict = {}
    cur = out
    for _ in range(5000):
        cur["a"] = {}
        cur = cur["a"]
    return out


def _top() -> None:
    api("mdmsched.compare", "top", mdmsched.compare, lambda: {"z": z(), "k": 2},
        {"z": curve_mutations(), "k": int_mutations(big=V),
         "schedules": [("str", lambda b: "12", T), ("bad_sizes", lambda b: [[1, 1]], V), ("float_frac", lambda b: [[1.5, 2.5]], T),
                       ("empty_list", lambda b: [], OK), ("nested_str", lambda b: [["a"]], T)]})
    from mdmsched import plot

    api("plot.staircase", "top", plot.staircase, lambda: {"z": z(), "sizes": [2, 2]}, {"z": curve_mutations(), "sizes": sizes_mutations(4)})
    api("plot.accuracy_frontier", "top", plot.accuracy_frontier,
        lambda: {"tokens_per_forward": np.array([1.0, 2.0, 3.0]), "accuracy": np.array([0.9, 0.8, 0.5])},
        {"tokens_per_forward": value_mutations()[:9], "accuracy": [("above_one", lambda b: np.array([1.5, 0.8, 0.5]), V),
                                                                   ("nan", lambda b: np.array([np.nan, 0.8, 0.5]), V),
                                                                   ("wrong_length", lambda b: np.array([0.5]), V)]})
    zp = tmpfile("cli_z.json", "[0.0, 0.5, 0.8, 1.0]")
    bad = tmpfile("cli_bad.json", "[0.0, NaN]")
    argvs = [
        (["solve", zp, "--steps", "2"], OK), (["solve", zp, "--steps", "0"], V), (["solve", zp, "--steps", "-1"], V),
        (["solve", zp, "--steps", "x"], V), (["solve", zp, "--steps", str(2**70)], V), (["solve", zp, "--eps", "nan"], V),
        (["solve", zp, "--eps", "-1"], V), (["solve", zp, "--eps", "inf"], V), (["solve", bad, "--steps", "2"], V),
        (["solve", "/dev/zero", "--steps", "2"], V), (["solve", "/", "--steps", "2"], V), (["solve", "/nonexistent.json"], V),
        (["solve", zp, "--method", "best"], V), (["frontier", zp, "--k-max", "0"], V), (["frontier", zp, "--k-max", "3"], OK),
        (["frontier", zp, "--k-max", str(10**12)], "ok|ValueError"), (["compare", zp, "--steps", "9"], V),
        (["compare", zp, "--steps", "2"], OK), (["table", zp, "--lengths", "4", "--steps", "2"], OK),
        (["table", zp, "--lengths", "0", "--steps", "2"], V), (["table", zp, "--lengths", "4", "--steps", "a,b"], V),
        (["table", zp, "--lengths", str(2**70), "--steps", "2"], V), (["table", zp, "--lengths", "4", "--steps", "-2"], V),
        (["table", zp, "--lengths", "4", "--steps", "2", "--block-lengths", "0"], V), (["curve", "/dev/zero"], V),
        (["curve", "/nonexistent.npy"], V), (["map", "--n", "0"], V), (["map", "--rows", "1"], V), (["map", "--n", str(2**70)], V),
        (["map", "--families", "nope", "--n", "4", "--rows", "4"], V), (["map", "--taus", "nan", "--n", "4", "--rows", "4"], V),
        (["map", "--budget", "-1", "--n", "4", "--rows", "4"], V), (["map", "--seed", "-1", "--n", "4", "--rows", "4"], V),
        (["nope"], V), ([], OK), (["solve", "--example", "nope"], V),
    ]
    for i, (argv, expected) in enumerate(argvs):
        CASES.append(Case("cli", "top", "argv", f"{i}:{' '.join(argv)[:60]}", expected, cli_case(argv)))


def register() -> None:
    _models()
    rules()
    _samplers()
    _adapters()
    _top()
