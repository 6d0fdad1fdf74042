"""Hostile-input cases (issue 28) for the lower floors: the solver, closed-loop policies, schedule types, schedules,
practice rules, curves, distributions and the file formats. See ``hostile_cases.py`` for the outcomes."""

from __future__ import annotations

import numpy as np
from hostile_cases import (
    OK,
    T,
    V,
    api,
    choice_mutations,
    curve_mutations,
    finite,
    flag_mutations,
    int_mutations,
    json_text_mutations,
    nats,
    path_mutations,
    prob_mutations,
    progress_mutations,
    real_mutations,
    relabel,
    schedule_of,
    seed_mutations,
    sizes_mutations,
    tmpfile,
    transition_mutations,
)

import mdmsched
from mdmsched import distributions as D
from mdmsched import io as IO
from mdmsched import practice as P
from mdmsched import schedules as S

Z4 = [0.0, 0.5, 0.8, 1.0]
P2 = [[0.9, 0.1], [0.2, 0.8]]


def z() -> np.ndarray:
    return np.array(Z4)


def g_high() -> np.ndarray:
    return np.array([1.0, 0.6, 0.3, 0.1])


def dense() -> np.ndarray:
    return D.markov_chain(np.array(P2), 3)


def _solver() -> None:
    method = {"method": choice_mutations()}
    api("mdmsched.optimal_schedule", "ground", mdmsched.optimal_schedule, lambda: {"z": z(), "k": 2},
        {"z": curve_mutations(), "k": int_mutations(), **method,
         "confidence": real_mutations(low=0.0, low_open=True, high=1.0, high_open=True)}, check=schedule_of(4))
    api("mdmsched.schedule_error", "ground", mdmsched.schedule_error, lambda: {"z": z(), "sizes": [2, 2]},
        {"z": curve_mutations(), "sizes": sizes_mutations(4)}, check=nats)
    api("mdmsched.error_frontier", "ground", mdmsched.error_frontier, lambda: {"z": z(), "k_max": 3},
        {"z": curve_mutations(), "k_max": int_mutations(none_ok=True), **method}, check=nats)
    api("mdmsched.min_steps", "ground", mdmsched.min_steps, lambda: {"z": z(), "eps": 0.1},
        # a confidence with a plain curve is a TypeError ("needs a CurveEstimate") whatever its value
        {"z": curve_mutations(), "eps": real_mutations(), **method,
         "confidence": [(label, f, OK if label == "None" else "TypeError|ValueError")
                        for label, f, _ in real_mutations(low=0.0, low_open=True, high=1.0, high_open=True, none_ok=True)]},
        check=schedule_of(4))
    api("mdmsched.optimal_block_split", "ground", mdmsched.optimal_block_split,
        lambda: {"curves": [z(), z()], "total_steps": 4},
        {"curves": [("None", lambda b: None, T), ("str", lambda b: "zz", T), ("empty", lambda b: [], V),
                    ("one_bad", lambda b: [z(), z()[::-1]], V), ("nan_curve", lambda b: [z(), [0.0, np.nan]], V),
                    ("complex_curve", lambda b: [z(), z() + 0j], T), ("2d_array", np.array, OK),
                    ("generator", lambda b: (c for c in b), OK)],
         "total_steps": int_mutations(), **method})
    # g_low * 1e300 rises above g_high: refused (a band needs g_low <= g_high)
    bands = {"g_high": curve_mutations_level(), "g_low": relabel(curve_mutations_level(), huge_values=V)}
    mdm = mdmsched.solve
    api("solve.certified_schedule", "ground", mdm.certified_schedule, lambda: {"g_high": g_high(), "g_low": g_high() - 0.05, "k": 2},
        {**bands, "k": int_mutations(), **method}, check=schedule_of(4))
    api("solve.certified_error", "ground", mdm.certified_error, lambda: {"g_high": g_high(), "g_low": g_high() - 0.05, "sizes": [2, 2]},
        {**bands, "sizes": sizes_mutations(4)}, check=nats)
    api("solve.certified_frontier", "ground", mdm.certified_frontier, lambda: {"g_high": g_high(), "g_low": g_high() - 0.05, "k_max": 3},
        {**bands, "k_max": int_mutations(none_ok=True)}, check=nats)
    api("solve.certified_min_steps", "ground", mdm.certified_min_steps, lambda: {"g_high": g_high(), "g_low": g_high() - 0.05, "eps": 0.5},
        {**bands, "eps": real_mutations()}, check=schedule_of(4))
    api("mdmsched.closed_loop_policy", "ground", mdmsched.closed_loop_policy, lambda: {"z": z(), "k": 2},
        {"z": curve_mutations(), "k": int_mutations(), "reference": flag_mutations()})
    pol = mdmsched.closed_loop_policy(z(), 3)
    api("ClosedLoopPolicy.count", "ground", pol.count, lambda: {"revealed": 0, "passes_left": 2},
        {"revealed": int_mutations(0), "passes_left": int_mutations()})
    api("ClosedLoopPolicy.error", "ground", pol.error, lambda: {"revealed": 1, "passes_left": 2},
        {"revealed": int_mutations(0), "passes_left": int_mutations()}, check=nats)
    api("ClosedLoopPolicy.schedule", "ground", pol.schedule, lambda: {"revealed": 0, "passes_left": 3},
        {"revealed": int_mutations(0), "passes_left": int_mutations(none_ok=True)}, check=schedule_of(4))
    api("ClosedLoopPolicy.step_counts", "ground", pol.step_counts,
        lambda: {"masked": np.array([4, 2]), "spent": np.array([0, 1])},
        # spent beyond k is documented (every masked position); a length-1 spent broadcasts
        {"masked": counts_mutations(), "spent": relabel(counts_mutations(), too_big=OK, wrong_length=OK)})
    api("mdmsched.block_policies", "ground", mdmsched.closed_loop.block_policies,
        lambda: {"curves": [z(), z()], "budgets": [2, 2]},
        {"curves": [("None", lambda b: None, T), ("str", lambda b: "zz", T), ("one_bad", lambda b: [z(), -z()], V)],
         "budgets": [*sizes_like_budgets()]})


def curve_mutations_level() -> list:
    """A level curve g (non-increasing): the curve mutations with the monotone direction flipped."""
    out = []
    for label, factory, expected in curve_mutations():
        if label == "decreasing":
            out.append(("increasing", lambda b: np.asarray(b)[::-1].copy(), V))
        elif label in ("z1_nonzero", "int_dtype", "uint64_dtype", "negative"):
            continue
        else:
            out.append((label, factory, expected))
    return out


def counts_mutations() -> list:
    return [("None", lambda b: None, T), ("str", lambda b: "ab", T), ("float_frac", lambda b: np.asarray(b) + 0.5, T),
            ("negative", lambda b: np.asarray(b) - 10, V), ("too_big", lambda b: np.asarray(b) + 10**6, V),
            ("bool_dtype", lambda b: np.asarray(b) > 0, T), ("complex", lambda b: np.asarray(b) + 0j, T),
            ("uint64", lambda b: np.asarray(b, np.uint64), OK), ("list", list, OK),
            ("wrong_length", lambda b: np.asarray(b)[:1], V), ("2**63", lambda b: np.array([2**63, 1], np.uint64), V)]


def sizes_like_budgets() -> list:
    return [("None", lambda b: None, T), ("int", lambda b: 3, T), ("float_frac", lambda b: [1.5, 2], T),
            ("zero", lambda b: [0, 2], V), ("too_many", lambda b: [9, 2], V), ("wrong_length", lambda b: [2], V),
            ("str", lambda b: "22", T), ("uint64", lambda b: np.array(b, np.uint64), OK), ("2**70", lambda b: [2**70, 1], V)]


def _schedule_types() -> None:
    Sch, BS = mdmsched.Schedule, mdmsched.BlockSchedule
    api("mdmsched.Schedule", "ground", Sch, lambda: {"sizes": [1, 3], "error": 0.1, "name": "s", "bound": 0.2, "passes": [1, 3]},
        {"sizes": sizes_mutations(4), "error": relabel(real_mutations(none_ok=True, huge=OK), inf=OK),
         "bound": relabel(real_mutations(none_ok=True), inf=OK),  # +inf: an error that overflowed, documented
         "name": [("None", lambda b: None, T), ("int", lambda b: 3, T),
                                                          ("bytes", lambda b: b"s", T)],
         "passes": [("float_frac", lambda b: [1.5, 2.5], T), ("wrong_sum", lambda b: [1, 2], V), ("str", lambda b: "13", T),
                    ("with_zero", lambda b: [0, 1, 3], OK), ("negative", lambda b: [-1, 2, 3], V)]},
        check=schedule_of(4))
    good = Sch([1, 3]).to_json()
    api("Schedule.from_json", "ground", Sch.from_json, lambda: {"text": good}, {"text": json_text_mutations()},
        check=schedule_of(4))
    bgood = BS((Sch([1, 1]), Sch([2]))).to_json()
    api("BlockSchedule.from_json", "ground", BS.from_json, lambda: {"text": bgood}, {"text": json_text_mutations()})
    api("Schedule.from_breakpoints", "ground", Sch.from_breakpoints, lambda: {"breakpoints": [0, 1, 4]},
        {"breakpoints": [("None", lambda b: None, T), ("str", lambda b: "014", T), ("decreasing", lambda b: [4, 1, 0], V),
                         ("float_frac", lambda b: [0, 1.5, 4], T), ("empty", lambda b: [], V),
                         ("uint64", lambda b: np.array(b, np.uint64), OK), ("2**70", lambda b: [0, 2**70], V)]})
    s = Sch([1, 3])
    api("Schedule.num_transfer_tokens", "ground", s.num_transfer_tokens, lambda: {"batch": 2},
        {"batch": int_mutations()})
    b = BS((Sch([1, 1]), Sch([2])))
    api("BlockSchedule.num_transfer_tokens", "ground", b.num_transfer_tokens, lambda: {"batch": 2},
        {"batch": int_mutations(none_ok=True)})
    api("mdmsched.BlockSchedule", "ground", BS, lambda: {"blocks": (Sch([1, 1]), Sch([2]))},
        {"blocks": [("None", lambda b: None, T), ("lists", lambda b: [[1, 2]], T), ("empty", lambda b: (), V),
                    ("str", lambda b: "ab", T)],
         "name": [("int", lambda b: 3, T)]})


def _schedules() -> None:
    # n = 10**12 is a fine length: a schedule stores k sizes, never n entries
    n, k = {"n": relabel(int_mutations(), **{"10**12": OK})}, {"k": int_mutations()}
    chk = schedule_of("n")
    for name, fn in [("equal", S.equal), ("cosine", S.cosine), ("cosine_squared", S.cosine_squared)]:
        api(f"schedules.{name}", "schedules", fn, lambda: {"n": 8, "k": 3}, {**n, **k}, check=chk)
    api("schedules.geometric_growth", "schedules", S.geometric_growth, lambda: {"n": 8, "k": 3},
        {**n, "k": int_mutations(none_ok=True)}, check=chk)  # k=None: growth ratio 2
    api("schedules.geometric_growth/ratio", "schedules", S.geometric_growth, lambda: {"n": 8, "ratio": 2.0},
        {"ratio": real_mutations(low=1.0, low_open=True, none_ok=True)}, check=chk)
    api("schedules.dus", "schedules", S.dus, lambda: {"block_length": 8}, {"block_length": int_mutations()}, check=chk)
    big_n = {"n": int_mutations()}  # these build length-n arrays: 10**12 is refused before allocating
    api("schedules.budget_schedule", "schedules", S.budget_schedule, lambda: {"n": 8, "budget": 12, "kind": "tc"},
        {**big_n, "budget": int_mutations(big=OK), "kind": choice_mutations()}, check=chk)  # a budget beyond n: n steps
    for name, fn, key in [("tc_schedule", S.tc_schedule, "tc"), ("dtc_schedule", S.dtc_schedule, "dtc"),
                          ("austin_schedule", S.austin_schedule, "dtc")]:
        api(f"schedules.{name}", "schedules", fn, lambda key=key: {"n": 8, key: 1.0, "eps": 0.1},
            {**(n if name == "austin_schedule" else big_n), key: real_mutations(huge=OK if name == "austin_schedule" else V),
             "eps": real_mutations(low=0.0, low_open=True)}, check=chk)
    api("schedules.continuum_schedule", "schedules", S.continuum_schedule, lambda: {"z": z(), "k": 2},
        {"z": curve_mutations(), **k}, check=schedule_of(4))
    api("schedules.li_cai_bound", "schedules", S.li_cai_bound, lambda: {"z": z(), "sizes": [2, 2]},
        {"z": curve_mutations(), "sizes": sizes_mutations(4)}, check=nats)
    api("schedules.exact_k_breakpoints", "schedules", S.exact_k_breakpoints, lambda: {"n": 8, "k": 3, "targets": [2.0, 5.0]},
        {**n, **k, "targets": [("None", lambda b: None, T), ("str", lambda b: "ab", T), ("nan", lambda b: [np.nan, 5.0], T),
                               ("wrong_length", lambda b: [1.0], V), ("complex", lambda b: np.array(b) + 0j, T),
                               ("inf", lambda b: [2.0, np.inf], T), ("float32", lambda b: np.array(b, np.float32), OK)]})
    api("schedules.from_mask_fractions", "schedules", S.from_mask_fractions, lambda: {"n": 8, "fractions": [0.5, 0.0]},
        {**n, "fractions": [("None", lambda b: None, T), ("str", lambda b: "ab", T), ("nan", lambda b: [np.nan, 0.0], V),
                            ("increasing", lambda b: [0.5, 0.9], V), ("above_one", lambda b: [1.5, 0.0], V),
                            ("complex", lambda b: np.array(b) + 0j, T), ("empty", lambda b: [], V)],
         "name": [("int", lambda b: 3, T)]}, check=chk)
    api("schedules.blockwise", "schedules", S.blockwise, lambda: {"n": 8, "block_length": 4, "steps_per_block": 2},
        # a block longer than n is one block; steps beyond a block's length are clamped to one token per pass
        {**big_n, "block_length": int_mutations(big=OK), "steps_per_block": relabel(int_mutations(big=OK), list=V, array1=V, **{"None": V})})  # a list: one count per block
    api("schedules.blockwise/total", "schedules", S.blockwise, lambda: {"n": 8, "block_length": 4, "total_steps": 4},
        {"total_steps": relabel(int_mutations(), **{"None": V}),  # None: neither steps_per_block nor total_steps
         "curves": [("str", lambda b: "z", T), ("bad", lambda b: [-z(), z()], V)]})


def _practice() -> None:
    n, k = {"n": relabel(int_mutations(), **{"10**12": OK})}, {"k": int_mutations()}
    chk = schedule_of("n")
    for name, fn in [("diffusers_uniform", P.diffusers_uniform), ("equal", P.equal), ("cosine", P.cosine)]:
        api(f"practice.{name}", "schedules", fn, lambda: {"n": 8, "k": 3}, {**n, **k}, check=chk)
    api("practice.dllm", "schedules", P.dllm, lambda: {"n": 8, "k": 3, "alpha": "linear"},
        {**n, **k, "alpha": choice_mutations()}, check=chk)
    api("practice.dream", "schedules", P.dream, lambda: {"n": 8, "k": 3, "eps": 0.001},
        {**n, **k, "eps": real_mutations(low=0.0, high=1.0, high_open=True)}, check=chk)
    api("practice.maskgit", "schedules", P.maskgit, lambda: {"n": 8, "k": 3, "method": "cosine"},
        {**n, **k, "method": choice_mutations()}, check=chk)
    api("practice.maskgit_ratios", "schedules", P.maskgit_ratios, lambda: {"n": 8, "k": 3}, {**n, **k})
    api("practice.maskgit_counts", "schedules", P.maskgit_counts,  # MaskGIT clips ratios to [1e-6, 1] itself
        lambda: {"n": 8, "ratios": P.maskgit_ratios(8, 3)},
        {**n, "ratios": relabel(ratio_mutations(), empty=OK, above_one=OK, negative=OK)})
    api("practice.dllm_counts", "schedules", P.dllm_counts,
        lambda: {"n": 8, "alpha_grid": np.array([1.0, 0.5, 0.0], np.float32)}, {**n, "alpha_grid": ratio_mutations()})
    api("practice.ass", "schedules", P.ass, lambda: {"n": 8, "k": 3}, {**n, "k": int_mutations(none_ok=True)}, check=chk)
    api("practice.ass_exponent", "schedules", P.ass_exponent, lambda: {"n": 8}, n)
    api("practice.ass_blocks", "schedules", P.ass_blocks, lambda: {"gen_length": 8, "steps": 3, "block_num": 1},
        {"gen_length": int_mutations(), "steps": int_mutations(none_ok=True), "block_num": int_mutations()})
    for name, fn in [("llada_blocks", P.llada_blocks), ("fastdllm_blocks", P.fastdllm_blocks)]:
        api(f"practice.{name}", "schedules", fn, lambda: {"gen_length": 8, "block_length": 4, "steps": 4},
            {"gen_length": int_mutations(), "block_length": int_mutations(), "steps": int_mutations()})
    api("practice.flexible", "schedules", P.flexible, lambda: {"n": 8, "k": 3, "shape": "linear", "exp_k": 5.0, "log_a": 9.0},
        {**n, **k, "shape": choice_mutations(), "exp_k": relabel(real_mutations(low=0.0, low_open=True), below_low=OK),  # documented: any non-zero exp_k
         "log_a": real_mutations(low=0.0, low_open=True)}, check=chk)


def ratio_mutations() -> list:
    return [("None", lambda b: None, T), ("str", lambda b: "ab", T), ("nan", lambda b: np.r_[np.float32(np.nan), b[1:]], V),
            ("complex", lambda b: np.asarray(b) + 0j, T), ("empty", lambda b: np.zeros(0, np.float32), V),
            ("2d", lambda b: np.asarray(b)[None], V), ("above_one", lambda b: np.asarray(b) + np.float32(2), V),
            ("negative", lambda b: np.asarray(b) - np.float32(2), V), ("float64", lambda b: np.asarray(b, float), "ok|TypeError"),
            ("list", lambda b: np.asarray(b).tolist(), "ok|TypeError")]


def _curves() -> None:
    src = {"p": prob_mutations()}
    base = {"base": real_mutations(low=1.0, low_open=True, none_ok=True, huge=OK)}
    threads = {"threads": int_mutations(none_ok=True, big=V)}
    api("mdmsched.information_curve", "curves", mdmsched.information_curve, lambda: {"p": dense()},
        {**src, **base, **threads, "progress": progress_mutations(),
         "exchangeable": relabel(flag_mutations(), **{"np.bool_": V})}, check=finite)  # p is not exchangeable
    api("mdmsched.average_entropies", "curves", mdmsched.average_entropies, lambda: {"p": dense()},
        # shards without executor= is refused whatever the count (ValueError)
        {**src, **base, **threads, "progress": progress_mutations(),
         "shards": relabel(int_mutations(none_ok=True), **{"np.int64": V, "np.uint64": V, "np.int8": V})}, check=nats)
    api("mdmsched.subset_entropies", "curves", mdmsched.subset_entropies, lambda: {"p": dense()},
        {**src, **base, **threads, "progress": progress_mutations()}, check=nats)
    # 40 axes of size 1 need no lattice walk: TC, DTC, sampling and the support form take them
    src_axes = {"p": relabel(prob_mutations(), too_many_axes=OK)}
    api("mdmsched.total_correlation", "curves", mdmsched.total_correlation, lambda: {"p": dense()}, {**src_axes, **base}, check=nats)
    api("mdmsched.dual_total_correlation", "curves", mdmsched.dual_total_correlation, lambda: {"p": dense()},
        {**src_axes, **base}, check=nats)
    api("curves.estimate_average_entropies", "curves", mdmsched.curves.estimate_average_entropies,
        lambda: {"p": dense(), "subsets_per_size": 4, "seed": 0},
        {**src_axes, "subsets_per_size": int_mutations(minimum=2), "seed": seed_mutations(), **base})
    api("mdmsched.project_monotone", "curves", mdmsched.project_monotone, lambda: {"z": z()},
        {"z": [m for m in curve_mutations() if m[0] not in ("decreasing", "z1_nonzero", "negative")]}, check=finite)
    api("curves.curve_from_entropies", "curves", mdmsched.curves.curve_from_entropies,
        lambda: {"e": np.array([0.6, 1.0, 1.3])},
        {"e": [m for m in curve_mutations() if m[0] not in ("decreasing", "z1_nonzero", "negative")]}, check=finite)
    api("curves.fit_curve", "curves", mdmsched.curves.fit_curve, lambda: {"z": z(), "length": 6, "how": "interp"},
        {"z": curve_mutations(), "length": int_mutations(), "how": choice_mutations()}, check=finite)
    api("mdmsched.example_curve", "curves", mdmsched.example_curve, lambda: {"name": min(mdmsched.curves.EXAMPLES)},
        {"name": choice_mutations()})
    Dist = mdmsched.Distribution
    api("Distribution", "curves", Dist, lambda: {"outcomes": np.array([[0, 1], [1, 0]]), "probs": np.array([0.5, 0.5])},
        # outcomes are labels: negative symbols are fine, and duplicate rows merge (their probabilities add)
        {"outcomes": [("float", lambda b: np.asarray(b, float), T), ("1d", lambda b: np.asarray(b)[0], V),
                      ("negative", lambda b: -np.asarray(b) - 1, OK), ("None", lambda b: None, T),
                      ("uint64_huge", lambda b: np.asarray(b, np.uint64) + np.uint64(2**63), V),
                      ("duplicate", lambda b: np.array([[0, 1], [0, 1]]), OK), ("str", lambda b: np.asarray(b).astype(str), T)],
         "probs": [("None", lambda b: None, T), ("nan", lambda b: np.array([np.nan, 0.5]), V),
                   ("unnormalised", lambda b: np.array([0.5, 0.6]), V), ("wrong_length", lambda b: np.array([1.0]), V),
                   ("negative", lambda b: np.array([-0.5, 1.5]), V), ("str", lambda b: np.array(["a", "b"]), T)]})
    api("Distribution.from_samples", "curves", Dist.from_samples, lambda: {"samples": np.array([[0, 1], [1, 0], [0, 1]])},
        {"samples": relabel(_int_matrix_mutations(), negative=OK)})
    api("Distribution.from_dense", "curves", Dist.from_dense, lambda: {"p": dense()}, src_axes)
    api("Distribution.from_support", "curves", Dist.from_support,
        lambda: {"outcomes": np.array([[0, 1], [1, 0]]), "probs": np.array([0.5, 0.5])},
        {"outcomes": relabel(_int_matrix_mutations(), negative=OK), "probs": [("nan", lambda b: np.array([np.nan, 0.5]), V),
                                                        ("complex", lambda b: np.asarray(b) + 0j, T)]})
    E = mdmsched.curves.EntropyEstimate
    api("curves.EntropyEstimate", "curves", lambda **kw: mdmsched.information_curve(E(**kw)),
        lambda: {"e": np.array([0.6, 1.0, 1.3]), "stderr": np.zeros(3), "subsets_per_size": 4},
        {"e": [("str", lambda b: np.array(["a", "b", "c"]), T), ("nan", lambda b: np.array([np.nan, 1.0, 1.3]), V),
               ("None", lambda b: None, T)],
         "stderr": [("negative", lambda b: -np.ones(3), V), ("wrong_length", lambda b: np.zeros(2), V),
                    ("nan", lambda b: np.full(3, np.nan), V)],
         "subsets_per_size": int_mutations(minimum=1, big=OK)})  # a recorded count: never allocated


def _int_matrix_mutations() -> list:
    return [("None", lambda b: None, T), ("float_frac", lambda b: np.asarray(b) + 0.5, T), ("1d", lambda b: np.asarray(b)[0], V),
            ("negative", lambda b: -np.asarray(b) - 1, V), ("empty", lambda b: np.zeros((0, 2), int), V),
            ("uint64_small", lambda b: np.asarray(b, np.uint64), OK), ("bool", lambda b: np.asarray(b) > 0, T),
            ("str", lambda b: np.asarray(b).astype(str), T), ("complex", lambda b: np.asarray(b) + 0j, T),
            ("uint64_huge", lambda b: np.asarray(b, np.uint64) + np.uint64(2**63), V)]


def _distributions() -> None:
    n = {"n": int_mutations()}
    api("distributions.uniform", "curves", D.uniform, lambda: {"n": 3, "q": 2}, {**n, "q": int_mutations()})
    api("distributions.parity_code", "curves", D.parity_code, lambda: {"n": 3, "q": 2}, {**n, "q": int_mutations()})
    api("distributions.markov_chain", "curves", D.markov_chain, lambda: {"transition": np.array(P2), "n": 3},
        {"transition": transition_mutations(), **n})
    api("distributions.markov_curve", "curves", D.markov_curve, lambda: {"transition": np.array(P2), "n": 5, "tol": 1e-12},
        {"transition": transition_mutations(), **n, "tol": real_mutations(low=0.0)}, check=finite)
    api("distributions.stationary_distribution", "curves", D.stationary_distribution, lambda: {"transition": np.array(P2)},
        {"transition": transition_mutations()}, check=nats)
    api("distributions.ising_chain", "curves", D.ising_chain, lambda: {"coupling": 0.5, "field": 0.1},
        {"coupling": real_mutations(low=None), "field": real_mutations(low=None)})
    api("distributions.mds_curve", "curves", D.mds_curve, lambda: {"n": 6, "d": 2, "q": 3},
        {**n, "d": int_mutations(), "q": int_mutations(big=OK)}, check=finite)  # a formula in log q: any q
    api("distributions.reed_solomon", "curves", D.reed_solomon, lambda: {"n": 3, "d": 2, "q": 5},
        {**n, "d": int_mutations(), "q": int_mutations()})
    api("distributions.random_linear_code", "curves", D.random_linear_code, lambda: {"n": 4, "d": 2, "q": 2, "seed": 0},
        {**n, "d": int_mutations(), "q": int_mutations(), "seed": seed_mutations()})
    api("distributions.linear_code_average_entropies", "curves", D.linear_code_average_entropies,
        lambda: {"generator": np.array([[1, 0, 1], [0, 1, 1]]), "q": 2},  # entries are taken mod q: any integer
        {"generator": relabel(_int_matrix_mutations(), negative=OK, uint64_huge=OK), "q": int_mutations()}, check=nats)
    api("distributions.product", "curves", D.product, lambda: {"marginals": [[0.5, 0.5], [0.3, 0.7]]},
        {"marginals": [("None", lambda b: None, T), ("str", lambda b: "ab", T), ("empty", lambda b: [], V),
                       ("nan", lambda b: [[np.nan, 0.5]], V), ("unnormalised", lambda b: [[0.5, 0.6]], V),
                       ("str_entries", lambda b: [["a", "b"]], T), ("2d_entry", lambda b: [[[0.5, 0.5]]], V),
                       ("too_many", lambda b: [[0.5, 0.5]] * 40, V)]})
    api("distributions.mixture", "curves", D.mixture, lambda: {"components": [dense(), dense()], "weights": [0.5, 0.5]},
        {"components": [("None", lambda b: None, T), ("empty", lambda b: [], V), ("shape_mismatch", lambda b: [dense(), np.full(2, 0.5)], V),
                        ("nan", lambda b: [dense(), dense() * np.nan], V)],
         "weights": [("None", lambda b: None, T), ("str", lambda b: ["a", "b"], T), ("unnormalised", lambda b: [0.5, 0.6], V),
                     ("wrong_length", lambda b: [1.0], V), ("negative", lambda b: [-0.5, 1.5], V), ("nan", lambda b: [np.nan, 0.5], V)]})


def _io() -> None:
    zpath = tmpfile("z.json", "[0.0, 0.5, 0.8, 1.0]")
    npy = tmpfile("p.npy", b"")
    np.save(npy, dense())
    fam = tmpfile("fam.npz", b"")
    np.savez(fam, **{"4": z()})
    task = tmpfile("task.jsonl", '{"prompt": [0, 1, 0], "reference": [0, 1, 1], "region": [2, 3]}\n'
                                '{"prompt": [1, 1, 0], "reference": [1, 1, 0], "region": [2, 3]}\n')
    api("io.load_curve", "top", IO.load_curve, lambda: {"path": zpath}, {"path": path_mutations(".json")}, check=finite)
    api("io.load_distribution", "top", IO.load_distribution, lambda: {"path": npy}, {"path": path_mutations(".npy")})
    api("io.load_curve_family", "top", IO.load_curve_family, lambda: {"path": fam}, {"path": path_mutations(".npz")})
    api("io.load_task_jsonl", "top", IO.load_task_jsonl, lambda: {"path": task},
        {"path": path_mutations(".jsonl"), "samples_per_prompt": int_mutations(), "score": choice_mutations()})
    out = tmpfile("out.json", "")
    api("io.save_curve", "top", IO.save_curve, lambda: {"z": z(), "path": out},
        {"z": curve_mutations(), "path": [("None", lambda b: None, T), ("int", lambda b: 3, T),
                                          ("directory", lambda b: "/", "ValueError|IsADirectoryError|PermissionError")]})
    api("io.strict_json", "top", IO.strict_json, lambda: {"payload": {"a": [1, 2.5]}},
        {"payload": [("nan", lambda b: {"a": float("nan")}, OK),  # documented: non-finite -> null, listed in notes ("object", lambda b: {"a": object()}, T),
                     ("recursive", lambda b: _recursive_dict(), V), ("np_float", lambda b: {"a": np.float64(1.0)}, OK)]})
    # malformed content for the curve loader
    for label, content, expected in [("json_str", '"abc"', V), ("json_obj", '{"a": 1}', V), ("json_nan", "[0, NaN]", V),
                                     ("json_strings", '["a", "b"]', T + "|" + V), ("json_nested", "[[0, 1], [2]]", V),
                                     ("json_bools", "[false, true]", T + "|" + V), ("json_huge_int", "[0, 1" + "0" * 400 + "]", V)]:
        path = tmpfile(f"bad_{label}.json", content)
        CASES_EXTRA.append(("io.load_curve", "top", "content", label, lambda path=path: IO.load_curve(path), expected))


def _recursive_dict() -> dict:
    out: dict = {}
    out["self"] = out
    return out


CASES_EXTRA: list = []


def register() -> None:
    from hostile_cases import CASES, Case

    _solver()
    _schedule_types()
    _schedules()
    _practice()
    _curves()
    _distributions()
    _io()
    for api_name, floor, arg, label, thunk, expected in CASES_EXTRA:
        CASES.append(Case(api_name, floor, arg, label, expected, thunk, finite))
