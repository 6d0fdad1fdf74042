"""Hostile-input cases (issue 28) for the rest of the public surface: constructors of the types a user may build
(``ClosedLoopPolicy``, ``MaskRatioFunction``, ``Policy``, ``ScheduleTable``, ``PlanConfig``), methods of returned
records (``SamplerComparison.rows_to_detect``, ``SamplerMap.verdict``/``best``/``family``), ``compare``'s
``default_schedules``, the plots, ``is_dream`` and, with torch installed, ``TorchModel``."""

from __future__ import annotations

import copy
import importlib.util

import numpy as np
from hostile_cases import (
    OK,
    T,
    V,
    api,
    choice_mutations,
    curve_mutations,
    flag_mutations,
    has_torch,
    int_mutations,
    real_mutations,
    relabel,
    sizes_mutations,
    skewed_predict,
    tokens_mutations,
)
from hostile_table_ground import z

import mdmsched
from mdmsched.adapters import serving as SV
from mdmsched.adapters import sglang as SG
from mdmsched.adapters.hf import is_dream
from mdmsched.schedule import MaskRatioFunction

UNIT = {"low": 0.0, "low_open": True, "high": 1.0, "high_open": True}


def _types() -> None:
    pol = mdmsched.closed_loop_policy(z(), 2)
    api("mdmsched.ClosedLoopPolicy", "ground", mdmsched.ClosedLoopPolicy,
        lambda: {"table": pol._table.copy(), "errors": pol._errors.copy()},
        {"table": [("None", lambda b: None, T), ("float", lambda b: b.astype(float), T), ("1d", lambda b: b[0], V),
                   ("negative", lambda b: b - 5, V), ("too_big", lambda b: b + 100, V), ("empty", lambda b: b[:0], V),
                   ("int64", lambda b: b.astype(np.int64), "ok|TypeError"), ("str", lambda b: "table", T)],
         "errors": [("nan", lambda b: np.full(b.shape, np.nan), V), ("negative", lambda b: b - 1.0, V),
                    ("wrong_shape", lambda b: b[:, :1], V), ("str", lambda b: b.astype(str), T), ("None", lambda b: None, T)]})
    ratios = mdmsched.practice.maskgit_ratios(8, 3)
    api("schedule.MaskRatioFunction", "ground", MaskRatioFunction, lambda: {"n": 8, "num_iter": 3, "ratios": ratios.copy()},
        {"n": relabel(int_mutations(), **{"10**12": OK}), "num_iter": int_mutations(),  # k fractions, never n entries
         "ratios": [("None", lambda b: None, T), ("str", lambda b: np.array(["a"]), T), ("nan", lambda b: np.full(b.shape, np.nan, np.float32), V),
                    ("wrong_length", lambda b: b[:1], V), ("2d", lambda b: b[None], V), ("float64", lambda b: b.astype(float), "ok|TypeError")]})
    table = SV.build_table({4: z()}, [2], closed_loop=True)
    api("serving.ScheduleTable", "adapters", SV.ScheduleTable, lambda: {"table": copy.deepcopy(table)},
        {"table": [("None", lambda b: None, V), ("list", lambda b: [], V), ("empty", lambda b: {}, V),
                   ("bad_counts", _corrupt, V), ("str", lambda b: "table", V)]})
    tab = SV.ScheduleTable(copy.deepcopy(table))
    # policies are stored per (n, steps): no steps, or an untabulated one, is a TableMiss; one block here (block 0)
    api("ScheduleTable.policy", "adapters", tab.policy, lambda: {"n": 4, "steps": 2},
        {"n": relabel(int_mutations(big=V), **{"10**12": "TableMiss"}),
         "steps": relabel(int_mutations(none_ok=True, big=V), **{"None": "TableMiss", "10**12": "TableMiss"}),
         "block": int_mutations(0, big=V, example=0)})
    policy = tab.policy(4, 2)
    api("Policy.count", "adapters", policy.count, lambda: {"revealed": 0, "passes_left": 2},
        {"revealed": int_mutations(0, big=V), "passes_left": int_mutations(big=V)})
    api("serving.Policy", "adapters", SV.Policy, lambda: {"n": policy.n, "k": policy.k, "count": copy.deepcopy(policy.table)},
        {"n": int_mutations(big=V), "k": int_mutations(big=V),
         "count": [("None", lambda b: None, T), ("str", lambda b: "c", T), ("empty", lambda b: [], V),
                   ("negative", lambda b: [[-1] * len(r) for r in b], V), ("ragged", lambda b: [b[0][:1]], V)]})
    yaml_only = {"np.int64": T, "np.uint64": T, "np.int8": T}
    api("sglang.PlanConfig", "adapters", SG.PlanConfig, lambda: {"table": "t.json", "steps": 2},
        {"table": [("None", lambda b: None, T), ("int", lambda b: 3, T), ("empty", lambda b: "", V)],
         # a YAML config mirror: plain Python values only (numpy scalars do not survive to_yaml)
         "steps": relabel(int_mutations(big=V), **yaml_only, **{"10**12": OK}),
         "tau": relabel(real_mutations(low=0.0, none_ok=True, huge=OK), **{"np.float32": T}),
         "policy": relabel(flag_mutations(), **{"np.bool_": T}), "at_most": relabel(flag_mutations(), **{"np.bool_": T}),
         "nearest": relabel(flag_mutations(), **{"np.bool_": T}),
         "block_size": relabel(int_mutations(none_ok=True, big=V), **yaml_only, **{"10**12": OK}),
         "log": [("int", lambda b: 3, T)]})
    api("sglang.PlanConfig.from_mapping", "adapters", SG.PlanConfig.from_mapping,
        lambda: {"mapping": {"table": "t.json", "steps": 2}},
        {"mapping": [("None", lambda b: None, "TypeError|ValueError"), ("list", lambda b: [1], T),
                     ("unknown_key", lambda b: {**b, "nope": 1}, V), ("missing", lambda b: {"steps": 2}, V),
                     ("bad_steps", lambda b: {**b, "steps": "two"}, T), ("bool_steps", lambda b: {**b, "steps": True}, T)]})


def _corrupt(table: dict) -> dict:
    bad = copy.deepcopy(table)
    for by_block in bad["schedules"].values():
        for by_steps in by_block.values():
            for entry in by_steps.values():
                entry["num_transfer_tokens"] = [[-1, 5]]
    return bad


def _records() -> None:
    data = np.array([[0, 1, 1, 0], [1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0], [0, 1, 0, 1], [1, 1, 1, 0]])
    comparison = mdmsched.compare_samplers(skewed_predict, data, mdmsched.Threshold(0.7), mdmsched.TopK([2, 2]))
    api("SamplerComparison.rows_to_detect", "samplers", comparison.rows_to_detect, lambda: {"gain": 0.1},
        {"gain": real_mutations(low=0.0, low_open=True, huge=OK), "power": real_mutations(**UNIT),
         "confidence": real_mutations(**UNIT)})
    smap = mdmsched.sampler_map(skewed_predict, data, families=["threshold", "top_k"], frontier=False)
    api("SamplerMap.verdict", "samplers", smap.verdict, lambda: {"nfe": 3.0},
        {"nfe": real_mutations(low=0.0, low_open=True, huge=OK), "confidence": real_mutations(**UNIT)})
    api("SamplerMap.best", "samplers", smap.best, lambda: {"nfe": 3.0}, {"nfe": real_mutations(low=0.0, low_open=True, huge=OK)})
    api("SamplerMap.family", "samplers", smap.family, lambda: {"name": "threshold"}, {"name": choice_mutations()})


def _top() -> None:
    compare_module = importlib.import_module("mdmsched.compare")  # mdmsched.compare is the function of that name
    api("compare.default_schedules", "top", compare_module.default_schedules, lambda: {"z": z(), "k": 2},
        {"z": curve_mutations(), "k": int_mutations(big=V)})
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    from mdmsched import plot

    def drawn(fn):  # close every figure: hundreds of cases must not pile up figures
        def run(**kwargs):
            try:
                return fn(**kwargs)
            finally:
                plt.close("all")
        return run

    api("plot.plot_curve", "top", drawn(plot.plot_curve), lambda: {"z": z(), "schedule": [2, 2]},
        {"z": curve_mutations(), "schedule": relabel(sizes_mutations(4), **{"None": OK}),
         "ax": [("str", lambda b: "ax", T), ("int", lambda b: 3, T)]})
    api("plot.plot_frontier", "top", drawn(plot.plot_frontier), lambda: {"z": z(), "k_max": 3},
        {"z": curve_mutations(), "k_max": int_mutations(none_ok=True, big=V),
         "baselines": [("str", lambda b: "equal", T), ("not_callable", lambda b: {"x": 3}, T),
                       ("raises", lambda b: {"x": _raise}, "HostileError")]})
    api("adapters.is_dream", "adapters", is_dream, lambda: {"module": lambda **kw: None},
        {"module": [("None", lambda b: None, OK), ("int", lambda b: 3, OK)]})  # anything without a Dream config: False


def _raise(n: int, k: int) -> None:
    from hostile_cases import HostileError

    raise HostileError("baseline")


def _torch() -> None:
    if not has_torch():
        return  # the probe runs without torch: these cases only exist with it
    import torch
    from torch_models import MarkovMDM

    from mdmsched.torch import TorchModel

    module = MarkovMDM(np.array([[0.9, 0.1], [0.2, 0.8]]), 4)
    api("torch.TorchModel", "models", TorchModel, lambda: {"module": module, "mask_id": 2},
        # the mask id is a placeholder token given to the module: any id within int64
        {"module": [("None", lambda b: None, T), ("int", lambda b: 3, T)],
         "mask_id": relabel(int_mutations(0, big=V), **{"10**12": OK}),
         "vocab": [("str", lambda b: "2", T), ("zero", lambda b: 0, V), ("bool", lambda b: True, T),
                   ("slice", lambda b: slice(0, 2), OK), ("bad_slice", lambda b: slice(0, 2, 0), V)],
         "device": [("int", lambda b: 3.5, T), ("unknown", lambda b: "nope", "ValueError|RuntimeError")],
         "chunk_size": int_mutations(none_ok=True, big=OK)})
    scorer = TorchModel(module, 2)
    mask = np.array([[True, False, True, False]] * 4)
    rows = np.array([[0, 1, 1, 0], [1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0]])
    api("TorchModel.score_states", "models", scorer.score_states, lambda: {"tokens": rows.copy(), "mask": mask.copy()},
        {"tokens": relabel(tokens_mutations(minimum_rows=1), huge_id=V), "mask": [
            ("int", lambda b: b.astype(int), T), ("wrong_shape", lambda b: b[:, :2], V), ("None", lambda b: None, T)],
         "nll": flag_mutations()})
    del torch


def register() -> None:
    _types()
    _records()
    _top()
    _torch()
