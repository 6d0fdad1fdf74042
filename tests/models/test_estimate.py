"""Curves estimated from a model's predictions (SPEC §5, last item) against exact curves."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mdmsched
from mdmsched import reference
from mdmsched.distributions import markov_chain, markov_curve


@pytest.mark.parametrize("seed", range(4))
def test_exact_predictor_curve_within_four_standard_errors(seed):
    rng = np.random.default_rng(seed)
    q, n = 2 + seed % 2, 7 if seed % 2 else 8
    p = rng.dirichlet(np.full(q**n, 0.3)).reshape((q,) * n)
    model = mdmsched.ExactPredictor(p)
    data = model.sample(300, rng)
    est = mdmsched.estimate_curve(model, data, reps=2, batch_size=128, seed=seed)
    exact = reference.information_curve(p)
    assert est.Z.shape == (n,) and est.grid.tolist() == list(range(n))
    assert (np.abs(est.Z_raw - exact) <= 4 * est.stderr + 1e-12).all()
    assert est.Z[0] == 0 and (np.diff(est.Z) >= 0).all()
    assert est.model_calls == int(np.ceil(n * 300 * 2 / 128))


def test_markov_predictor_equals_exact_predictor():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    n = 6
    fast, slow = mdmsched.MarkovPredictor(p, n), mdmsched.ExactPredictor(markov_chain(p, n))
    rng = np.random.default_rng(0)
    tokens, mask = rng.integers(0, 3, (200, n)), rng.random((200, n)) < 0.6
    np.testing.assert_allclose(fast(tokens, mask)[mask], slow(tokens, mask)[mask], atol=1e-12)
    x = fast.sample(20, rng)
    np.testing.assert_allclose(fast.log_prob(x), slow.log_prob(x), atol=1e-12)


def test_markov_estimate_on_a_grid_at_n512():
    p = np.array([[0.9, 0.1], [0.2, 0.8]])
    model = mdmsched.MarkovPredictor(p, 512)
    rng = np.random.default_rng(1)
    est = mdmsched.estimate_curve(model, model.sample(200, rng), seed=2)
    exact = markov_curve(p, 512)
    assert est.grid.size == 32 and est.model_calls == int(np.ceil(32 * 200 / 256))
    on_grid = est.grid[1:]
    z_grid = exact[on_grid]  # Z at i = m + 1 is h_0 - h_m
    assert (np.abs(est.Z_raw[on_grid] - z_grid) <= 4 * est.stderr[on_grid] + 1e-12).all()


class _Broken:
    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __call__(self, tokens, mask):
        b, n = tokens.shape
        probs = np.full((b, n, 2), 0.5)
        if self.kind == "shape":
            return probs[:, :-1]
        if self.kind == "nan":
            probs[0, 0, 0] = np.nan
        if self.kind == "negative":
            probs[0, 0] = [-0.5, 1.5]
        if self.kind == "unnormalised":
            probs *= 1.1
        return probs


@pytest.mark.parametrize(
    ("kind", "fragment"),
    [("shape", "shape"), ("nan", "NaN"), ("negative", "negative"), ("unnormalised", "unnormalised")],
)
def test_bad_predictors_raise_clear_errors(kind, fragment):
    data = np.zeros((4, 5), dtype=int)
    with pytest.raises(ValueError, match=fragment):
        mdmsched.estimate_curve(_Broken(kind), data)
    with pytest.raises(ValueError, match=fragment):
        mdmsched.simulate(_Broken(kind), [5], 3)


def test_bad_estimate_arguments():
    model = mdmsched.ExactPredictor(np.full((2, 2), 0.25))
    with pytest.raises(TypeError, match="integer"):
        mdmsched.estimate_curve(model, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="N >= 2"):
        mdmsched.estimate_curve(model, np.zeros((1, 2), dtype=int))
    with pytest.raises(ValueError, match="grid"):
        mdmsched.estimate_curve(model, np.zeros((4, 2), dtype=int), grid=[5])


# ---- learned models: the cross-entropy identity (SPEC §5.1) -------------------------------------------------------------

from learned import InconsistentModel, cross_entropy_curve, ordered_partition_kl


@pytest.mark.parametrize(("n", "q", "sizes"), [(3, 2, [2, 1]), (4, 2, [1, 3]), (4, 3, [2, 2]), (3, 3, [3])])
def test_cross_entropy_identity_by_brute_force(n, q, sizes):
    # E_S KL(mu || nu_q^S) over every ordered partition = sum_j s_j g_{N_{j-1}} - H(mu), for inconsistent q.
    rng = np.random.default_rng(n * 10 + q)
    p = rng.dirichlet(np.full(q**n, 0.7)).reshape((q,) * n)
    model = InconsistentModel(n, q, seed=n + q)
    g = cross_entropy_curve(p, model)
    entropy = float(-(p * np.log(p)).sum())
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    identity = float(np.dot(sizes, g[starts]) - entropy)
    assert ordered_partition_kl(p, model, sizes) == pytest.approx(identity, abs=1e-12)
    # and through the curve: err(Z^g, s) + sum(g) - H(mu)
    z_g = g[0] - g
    assert mdmsched.schedule_error(mdmsched.project_monotone(z_g), sizes) + g.sum() - entropy == pytest.approx(
        identity, abs=1e-12) or not np.all(np.diff(g) <= 1e-12)


@pytest.mark.filterwarnings("ignore::mdmsched.models.curve_estimate.NonMonotoneWarning")  # inconsistent q: g may rise
def test_expected_kl_of_a_learned_model_matches_the_identity():
    n, q, sizes = 4, 2, [1, 2, 1]
    rng = np.random.default_rng(5)
    p = rng.dirichlet(np.full(q**n, 0.7)).reshape((q,) * n)
    model = InconsistentModel(n, q, seed=3)
    truth = ordered_partition_kl(p, model, sizes)
    result = mdmsched.expected_kl(p, model, sizes, 40_000, seed=1)
    assert abs(result.mean - truth) <= 4 * result.stderr
    assert result.values.shape == (40_000,)
    # the curve estimate of the same model, with H(mu) supplied, gives the absolute KL within its error bar
    target = mdmsched.ExactPredictor(p)
    data = target.sample(3000, rng)
    est = mdmsched.estimate_curve(model, data, seed=2)
    bound = est.schedule_error(sizes, entropy=float(-(p * np.log(p)).sum()))
    assert bound.absolute and abs(bound.value - truth) <= 4 * bound.stderr
    assert bound.lower <= truth <= bound.upper


# ---- error bars: coverage on exact models -------------------------------------------------------------------------------


@pytest.mark.parametrize("grid", [None, [0, 3, 7, 11]], ids=["full-grid", "coarse-grid"])
@pytest.mark.parametrize("target", ["cross_entropy", "entropy"])
def test_upper_bound_covers_the_truth(grid, target):
    p = np.array([[0.85, 0.15], [0.3, 0.7]])
    n = 12
    model = mdmsched.MarkovPredictor(p, n)
    exact = markov_curve(p, n)
    schedules = [[4, 4, 4], [1, 2, 3, 6], [6, 6]]
    truths = [mdmsched.schedule_error(exact, s) for s in schedules]
    data_rng = np.random.default_rng(99)
    covered = np.zeros(len(schedules))
    two_sided = np.zeros(len(schedules))
    runs = 200
    for seed in range(runs):
        data = model.sample(40, data_rng)
        est = mdmsched.estimate_curve(model, data, grid=grid, target=target, seed=seed)
        for i, (s, truth) in enumerate(zip(schedules, truths)):
            bound = est.schedule_error(s, confidence=0.95, simultaneous=False)  # fixed in advance: per-schedule
            covered[i] += truth <= bound.upper
            two_sided[i] += abs(bound.value - truth) <= 1.96 * bound.stderr
    assert (covered / runs >= 0.93).all(), covered / runs
    if grid is None:  # on a full grid the point estimate is unbiased: the two-sided interval covers too
        assert (two_sided / runs >= 0.92).all(), two_sided / runs


def test_paired_comparison_covers_the_true_difference():
    p = np.array([[0.9, 0.1], [0.2, 0.8]])
    n = 10
    model = mdmsched.MarkovPredictor(p, n)
    exact = markov_curve(p, n)
    first, second = [5, 5], [2, 3, 5]
    truth = mdmsched.schedule_error(exact, first) - mdmsched.schedule_error(exact, second)
    data_rng = np.random.default_rng(3)
    hits = 0
    for seed in range(200):
        est = mdmsched.estimate_curve(model, model.sample(30, data_rng), seed=seed)
        diff = est.compare(first, second, simultaneous=False)
        assert diff.interval_confidence == pytest.approx(0.90)  # two one-sided 95% bounds: a 90% interval
        hits += diff.lower <= truth <= diff.upper
    assert hits / 200 >= 0.88


def test_z_bracket_and_stderr_cover_interpolation():
    # With a coarse grid the bracket [Z_low, Z_high] contains the exact curve up to noise; the old stderr did not.
    p = np.array([[0.9, 0.1], [0.2, 0.8]])
    n = 64
    model = mdmsched.MarkovPredictor(p, n)
    exact = markov_curve(p, n)
    est = mdmsched.estimate_curve(model, model.sample(600, np.random.default_rng(0)), grid=[0, 8, 32, 63], seed=1)
    slack = 4 * est.stderr + 1e-12
    assert ((exact >= est.Z_low - slack) & (exact <= est.Z_high + slack)).all()
    assert (est.Z_low <= est.Z_high + 1e-12).all()


def test_min_steps_with_confidence():
    p = np.array([[0.9, 0.1], [0.2, 0.8]])
    n = 24
    model = mdmsched.MarkovPredictor(p, n)
    est = mdmsched.estimate_curve(model, model.sample(300, np.random.default_rng(0)), seed=1)
    eps = 0.3
    best = est.min_steps(eps, confidence=0.95, holdout=None)  # the band's answer
    assert best.bound is not None and best.bound <= eps
    frontier = est.certified_frontier(best.k)  # certified error of the best k-step schedule, k = 1..best.k
    assert frontier[-1] <= eps and (best.k == 1 or frontier[-2] > eps)  # the fewest certified steps
    # the certified bound of the schedule equals its simultaneous upper bound (one band, one worst case)
    assert est.schedule_error(best).upper == pytest.approx(best.bound, abs=1e-9)
    assert best.k >= mdmsched.min_steps(est, eps).k  # the bound is more demanding than the point estimate
    assert mdmsched.min_steps(est, eps, confidence=0.95).k == best.k  # 300 < HOLDOUT_MIN_ROWS: the band alone
    held = est.min_steps(eps, confidence=0.95, holdout=0.5)  # half held out, fixed-sequence test
    assert "held-out" in held.name and held.bound <= eps and held.k >= mdmsched.min_steps(est, eps).k
    with pytest.raises(TypeError, match="CurveEstimate"):
        mdmsched.min_steps(est.Z, eps, confidence=0.95)


def test_estimates_go_where_curves_go():
    p = np.array([[0.9, 0.1], [0.2, 0.8]])
    model = mdmsched.MarkovPredictor(p, 12)
    est = mdmsched.estimate_curve(model, model.sample(50, np.random.default_rng(0)), seed=1)
    assert mdmsched.optimal_schedule(est, 3) == mdmsched.optimal_schedule(est.Z, 3)
    assert mdmsched.compare(est, 3).optimal_error == mdmsched.compare(est.Z, 3).optimal_error
    assert est.target == "cross_entropy"


# ---- prompts and blocks ------------------------------------------------------------------------------------------------


def test_prompt_region_matches_the_conditional_curve():
    # Markov chain, prompt = first 4 positions always revealed: the answer's curve is that of the chain given x_4,
    # computed here by brute force with ExactPredictor on the conditional tensor averaged over prompts.
    p = np.array([[0.8, 0.2], [0.3, 0.7]])
    length, prompt = 9, 4
    joint = markov_chain(p, length)
    model = mdmsched.ExactPredictor(joint)
    region = np.arange(length) >= prompt
    rng = np.random.default_rng(0)
    data = model.sample(2000, rng)
    est = mdmsched.estimate_curve(model, data, region=region, seed=3)
    assert est.n == length - prompt
    # exact prompt-averaged curve: average over prompt values of the conditional law's curve
    marginal = joint.sum(axis=tuple(range(prompt, length)))
    exact = np.zeros(length - prompt)
    for c in np.ndindex(*marginal.shape):
        if marginal[c] > 0:
            exact += marginal[c] * reference.information_curve(joint[c] / marginal[c])
    assert (np.abs(est.Z_raw - exact) <= 4 * est.stderr + 1e-12).all()
    ragged = np.ones((2000, length), dtype=bool)
    ragged[0, 0] = False
    with pytest.raises(ValueError, match="same number of generated positions"):
        mdmsched.estimate_curve(model, data, region=ragged)


def test_block_curves_sum_to_the_blockwise_error():
    p = np.array([[0.85, 0.15], [0.25, 0.75]])
    length, prompt, block = 10, 2, 4
    target = mdmsched.MarkovPredictor(p, length)
    region = np.arange(length) >= prompt
    rng = np.random.default_rng(0)
    curves = mdmsched.estimate_block_curves(target, target.sample(3000, rng), block_length=block, region=region,
                                            seed=4)
    assert curves.block_lengths == [4, 4]
    per_block = [[2, 2], [1, 1, 2]]
    predicted = curves.schedule_error(per_block)
    # exact: E_S KL of the blockwise sampler against the chain, by Monte Carlo with the true conditionals
    measured = mdmsched.expected_kl(target, None, per_block, 20_000, region=region, seed=5)
    assert abs(predicted.value - measured.mean) <= 4 * math.hypot(predicted.stderr, measured.stderr)
    split = curves.optimal_split(5, objective="estimate")
    assert isinstance(split, mdmsched.BlockSchedule) and split.k == 5 and split.block_lengths == [4, 4]
    table = split.num_transfer_tokens()
    assert table.shape[0] == 2 and table.sum(axis=1).tolist() == [4, 4]
    # the split minimises the estimated sum of block errors over every way of giving 5 steps to 2 blocks
    best = split.error  # sum of the blocks' optimal errors on their projected curves
    for k0 in range(1, 5):
        other = [mdmsched.optimal_schedule(c.Z, k) for c, k in zip(curves.curves, (k0, 5 - k0))]
        assert best <= sum(mdmsched.schedule_error(c.Z, s) for c, s in zip(curves.curves, other)) + 1e-9


# ---- plan -> run anywhere -> merge -------------------------------------------------------------------------------------


def _markov_setup():
    p = np.array([[0.9, 0.1], [0.2, 0.8]])
    model = mdmsched.MarkovPredictor(p, 20)
    return model, model.sample(60, np.random.default_rng(0))


def test_sharded_runs_are_bit_identical():
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    model, data = _markov_setup()
    single = mdmsched.estimate_curve(model, data, grid=[0, 5, 10, 19], reps=2, batch_size=16, seed=7)
    with ThreadPoolExecutor(2) as pool:
        threaded = mdmsched.estimate_curve(model, data, grid=[0, 5, 10, 19], reps=2, batch_size=16, seed=7,
                                           executor=pool, shards=5)
    with ProcessPoolExecutor(2) as pool:
        processes = mdmsched.estimate_curve(model, data, grid=[0, 5, 10, 19], reps=2, batch_size=16, seed=7,
                                            executor=pool, shards=3)
    other_batching = mdmsched.estimate_curve(model, data, grid=[0, 5, 10, 19], reps=2, batch_size=6, seed=7)
    for est in (threaded, processes, other_batching):
        np.testing.assert_array_equal(est.samples, single.samples)
        np.testing.assert_array_equal(est.Z, single.Z)
        np.testing.assert_array_equal(est.stderr, single.stderr)
    # the documented manual path: plan, run shards anywhere, merge
    plan = mdmsched.models.plan_estimate(data.shape, grid=[0, 5, 10, 19], reps=2, batch_size=16, seed=7)
    parts = [mdmsched.models.run_shard(model, data, plan, shard) for shard in plan.shards(4)]
    merged = mdmsched.models.merge_shards(plan, parts[::-1])
    np.testing.assert_array_equal(merged.Z, single.Z)
    with pytest.raises(ValueError, match="exactly once"):
        mdmsched.models.merge_shards(plan, parts[:-1])


def test_dask_local_cluster_is_bit_identical():
    distributed = pytest.importorskip("distributed")
    model, data = _markov_setup()
    single = mdmsched.estimate_curve(model, data, batch_size=64, seed=11)
    with (  # dashboard on any free port: two runs on one machine must not collide on 8787
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        distributed.Client(cluster) as client,
    ):
        sharded = mdmsched.estimate_curve(model, data, batch_size=64, seed=11, executor=client.get_executor(), shards=4)
    np.testing.assert_array_equal(sharded.samples, single.samples)
    np.testing.assert_array_equal(sharded.Z, single.Z)


def test_bad_new_arguments():
    model, data = _markov_setup()
    with pytest.raises(ValueError, match="target"):
        mdmsched.estimate_curve(model, data, target="perplexity")
    with pytest.raises(TypeError, match="region"):
        mdmsched.estimate_curve(model, data, region=np.ones(20))
    with pytest.raises(ValueError, match="region"):
        mdmsched.estimate_curve(model, data, region=np.ones(19, dtype=bool))
    with pytest.raises(TypeError, match="grid"):
        mdmsched.estimate_curve(model, data, grid=[1.7])
    with pytest.raises(TypeError, match="executor"):
        mdmsched.estimate_curve(model, data, executor=object())
    with pytest.raises(ValueError, match="batch_size"):
        mdmsched.estimate_curve(model, data, batch_size=0)
    est = mdmsched.estimate_curve(model, data, seed=0)
    with pytest.raises(ValueError, match="confidence"):
        est.schedule_error([20], confidence=1.5)
    with pytest.raises(TypeError, match="confidence"):
        est.schedule_error([20], confidence="0.95")
    with pytest.raises(ValueError, match="entropy"):
        est.schedule_error([20], entropy=-1.0)
    with pytest.raises(TypeError, match="entropy"):
        est.schedule_error([20], entropy=True)
    with pytest.raises(ValueError, match="sum"):
        est.schedule_error([3, 3])


def test_per_row_region_equals_shared_region_when_rows_agree():
    model, data = _markov_setup()
    region = np.arange(20) >= 5
    shared = mdmsched.estimate_curve(model, data, region=region, seed=2)
    per_row = mdmsched.estimate_curve(model, data, region=np.tile(region, (data.shape[0], 1)), seed=2)
    np.testing.assert_array_equal(shared.samples, per_row.samples)
    blocks_shared = mdmsched.estimate_block_curves(model, data, block_length=6, region=region, seed=2)
    blocks_rows = mdmsched.estimate_block_curves(model, data, block_length=6,
                                                 region=np.tile(region, (data.shape[0], 1)), seed=2)
    for a, b in zip(blocks_shared.curves, blocks_rows.curves):
        np.testing.assert_array_equal(a.samples, b.samples)


# ---- cost up front, progress, defaults (issue 20) -------------------------------------------------------------------------


def test_plan_reports_its_forward_passes_before_running(capsys):
    model, data = _markov_setup()
    plan = mdmsched.models.plan_estimate(data.shape, grid=[0, 5, 10, 19], reps=2, batch_size=16, seed=7)
    assert plan.model_calls == math.ceil(4 * 60 / 8)  # 8 jobs (16 model rows) per call
    assert f"{plan.model_calls} model calls" in plan.cost()
    seen = []
    est = mdmsched.estimate_curve(model, data, grid=[0, 5, 10, 19], reps=2, batch_size=16, seed=7,
                                  progress=lambda done, total: seen.append((done, total)))
    assert est.model_calls == plan.model_calls and seen[-1] == (plan.model_calls, plan.model_calls)
    mdmsched.estimate_curve(model, data, grid=[0, 19], seed=7, progress=True)
    err = capsys.readouterr().err
    assert "model calls (forward passes)" in err and "ETA" in err
    blocks = mdmsched.models.plan_block_estimate(data.shape, block_length=8, seed=7, batch_size=16)
    curves = mdmsched.estimate_block_curves(model, data, block_length=8, seed=7, batch_size=16)
    assert sum(p.model_calls for p in blocks) == sum(c.model_calls for c in curves.curves)
    with pytest.raises(TypeError, match="progress"):
        mdmsched.estimate_curve(model, data, progress="yes")


def test_block_estimate_reports_one_bar_over_all_blocks(capsys):
    # issue 28.13: the bar restarted per block, without "block i/B" and without an overall ETA
    model, data = _markov_setup()
    plans = mdmsched.models.plan_block_estimate(data.shape, block_length=8, seed=7, batch_size=16)
    calls = sum(p.model_calls for p in plans)
    assert len(plans) >= 3
    seen = []
    mdmsched.estimate_block_curves(model, data, block_length=8, seed=7, batch_size=16,
                                   progress=lambda done, total: seen.append((done, total)))
    assert [t for _, t in seen] == [calls] * len(seen)  # one total: every block's forward passes
    assert [d for d, _ in seen] == list(range(1, calls + 1))  # one count up, never restarting
    mdmsched.estimate_block_curves(model, data, block_length=8, seed=7, batch_size=16, progress=True)
    err = capsys.readouterr().err
    assert f"{len(plans)} blocks, {calls} model calls" in err
    frames = err.split("\r")[1:]
    assert len(frames) == calls and err.count("\n") == 2  # the cost line and one finished bar
    first_block_end = plans[0].model_calls
    assert f"block 1/{len(plans)}" in frames[0]
    assert f"block 1/{len(plans)} [" in frames[first_block_end - 1] and f"{first_block_end}/{calls}" in frames[first_block_end - 1]
    assert f"block 2/{len(plans)}" in frames[first_block_end]
    assert f"block {len(plans)}/{len(plans)}" in frames[-1] and f"{calls}/{calls}" in frames[-1]
    assert all("ETA" in f for f in frames)


def test_default_batch_fits_llm_logits():
    from mdmsched.models.estimate import default_batch_size, model_vocab

    assert default_batch_size(1024, 126_464) == 4  # 4 x 1024 x 126464 bf16 logits = 0.99 GiB
    assert default_batch_size(1024, 126_464) * 1024 * 126_464 * 2 <= 2**30
    assert default_batch_size(20, 2) == 256 and default_batch_size(10**7, 10**6) == 1
    assert default_batch_size(512) == 2**30 // (2 * 512 * 32_000)
    assert model_vocab(mdmsched.MarkovPredictor(np.eye(3) * 0.5 + 0.5 / 3, 5)) == 3
    assert model_vocab(object()) is None
    plan = mdmsched.models.plan_estimate((4, 1024), seed=0, vocab=126_464)
    assert plan.jobs_per_batch == 4


def test_error_estimate_states_its_level():
    model, data = _markov_setup()
    est = mdmsched.estimate_curve(model, data, seed=0)
    one = est.schedule_error([10, 10])
    assert one.simultaneous and one.interval_confidence == pytest.approx(0.90)
    assert "one-sided 95%" in repr(one) and "90% interval" in repr(one)
    pair = est.compare([10, 10], [5, 15])
    assert pair.simultaneous and pair.interval_confidence == pytest.approx(0.95) and "95% interval" in repr(pair)
    fixed = est.schedule_error([10, 10], simultaneous=False)
    assert not fixed.simultaneous and fixed.upper <= one.upper + 1e-12 and fixed.lower >= one.lower - 1e-12
    with pytest.raises(TypeError, match="simultaneous"):
        est.schedule_error([10, 10], simultaneous="yes")
    with pytest.raises(ValueError, match="calibration"):
        est.schedule_error([10, 10], calibration="magic")
    with pytest.raises(ValueError, match="objective"):
        mdmsched.optimal_schedule(est, 3, objective="best")
    with pytest.raises(TypeError, match="needs a CurveEstimate"):
        mdmsched.optimal_schedule(est.Z, 3, objective="certified")


def test_certified_schedule_is_optimal_for_its_bound():
    # the certified schedule minimises U over every k-step schedule (exhaustive at n = 8), and U >= the per-schedule bound
    import itertools

    p = np.array([[0.85, 0.15], [0.25, 0.75]])
    model = mdmsched.MarkovPredictor(p, 8)
    for grid in (None, [0, 3, 7]):
        est = mdmsched.estimate_curve(model, model.sample(80, np.random.default_rng(1)), grid=grid, seed=2)
        best = mdmsched.optimal_schedule(est, 3, objective="certified")
        bounds = []
        for cuts in itertools.combinations(range(1, 8), 2):
            sizes = np.diff([0, *cuts, 8])
            bounds.append(est.schedule_error(sizes).upper)
        assert best.bound == pytest.approx(min(bounds), abs=1e-9)
        assert best.bound >= est.schedule_error(best, simultaneous=False).upper - 1e-12


def test_holdout_splits_are_validated():
    model, data = _markov_setup()
    est = mdmsched.estimate_curve(model, data, seed=0)
    with pytest.raises(ValueError, match="disjoint"):
        est.min_steps(0.5, holdout=(np.arange(0, 30), np.arange(20, 60)))
    with pytest.raises(ValueError, match="holdout"):
        est.min_steps(0.5, holdout=1.5)
    with pytest.raises(ValueError, match="fewer than two rows"):
        est.min_steps(0.5, holdout=0.01)
    chosen = est.certified_schedule(3, holdout=(np.arange(30), np.arange(30, 60)))
    certify = est.subset(np.arange(30, 60))
    plain = certify.schedule_error(chosen, simultaneous=False)  # full grid: the bracketed error is the estimate
    # the held-out bound is Student-t at the two-sided level (a heavy-tail margin, issue 28.1): 2.045 for 29 dof
    assert chosen.bound == pytest.approx(max(plain.value + 2.0452 * plain.stderr, 0.0), rel=1e-3)
    assert chosen.bound >= plain.upper
