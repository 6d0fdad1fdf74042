"""The map with both axes (issue 24.2): accuracy columns equal separate evaluate_task calls, Kendall's tau of the KL
and accuracy rankings within NFE budgets against hand-computed values, the plain accuracy-TPF area, the CLI's --task
file, and the two-panel plot."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from mdmsched.cli import main
from mdmsched.samplers import Task, default_family, evaluate_task, sampler_map
from mdmsched.samplers.agreement import accuracy_tpf_area, kendall_tau_b, rank_agreement
from mdmsched.samplers.demo_model import markov_example


def test_kendall_tau_b_hand_example() -> None:
    # pairs of (x, y): (1,3)-(2,1) discordant, (1,3)-(3,2) discordant, (2,1)-(3,2) concordant: (1 - 2) / 3
    assert kendall_tau_b([1, 2, 3], [3, 1, 2]) == pytest.approx(-1 / 3, abs=1e-15)
    # ties: x = [1, 1, 2], y = [1, 2, 3]: C = 2, D = 0, x-untied pairs 2, y-untied 3 -> 2 / sqrt(6)
    assert kendall_tau_b([1, 1, 2], [1, 2, 3]) == pytest.approx(2 / math.sqrt(6), abs=1e-15)
    assert math.isnan(kendall_tau_b([1, 1], [1, 2]))


def test_rank_agreement_hand_example() -> None:
    # budget [1, 2): rows 0-2 with nll 1, 2, 3 and accuracy 0.9, 0.5, 0.7 -> pairs (0,1) agree, (0,2) agree,
    # (1,2) disagree: tau = 1/3 over 3 pairs; budget [2, 4): rows 3-4, nll 1, 2, accuracy 0.8, 0.6 -> tau = 1 over 1.
    # pooled = (3 * 1/3 + 1 * 1) / 4 = 0.5. Per-row data: constant rows so the bootstrap cannot move the means.
    nll = np.repeat(np.array([[1.0], [2.0], [3.0], [1.0], [2.0]]), 6, axis=1)
    acc = np.repeat(np.array([[0.9], [0.5], [0.7], [0.8], [0.6]]), 5, axis=1)
    out = rank_agreement([1.0, 1.2, 1.9, 2.5, 3.0], nll, acc, budgets=[1, 2, 4], resamples=50)
    assert out.tau == pytest.approx(0.5, abs=1e-15)
    assert [b.count for b in out.per_budget] == [3, 2] and [b.weight for b in out.per_budget] == [3, 1]
    assert out.per_budget[0].tau == pytest.approx(1 / 3, abs=1e-15) and out.per_budget[1].tau == 1.0
    assert out.lower == out.upper == pytest.approx(0.5, abs=1e-15)
    assert "tau = 0.500" in str(out) and "agrees with" in str(out)
    # Noisy per-row data: the interval widens around the point value and holds it.
    rng = np.random.default_rng(0)
    noisy = rank_agreement([1.0, 1.2, 1.9, 2.5, 3.0], nll + rng.normal(0, 2, nll.shape),
                           (rng.random((5, 40)) < acc[:, :1]).astype(float), budgets=[1, 2, 4], resamples=200)
    assert noisy.lower < noisy.tau < noisy.upper and noisy.upper - noisy.lower > 0.2
    with pytest.raises(ValueError, match="budgets"):
        rank_agreement([1.0, 2.0], nll[:2], acc[:2], budgets=[2, 1])
    with pytest.raises(ValueError, match="one row per sampler"):
        rank_agreement([1.0, 2.0], nll, acc[:2])


def test_accuracy_tpf_area_is_the_trapezoid() -> None:
    # points (1, 0.2), (2, 0.6), (4, 0.4), given unsorted: 0.4 + 1.0 = 1.4
    assert accuracy_tpf_area([4, 1, 2], [0.4, 0.2, 0.6]) == pytest.approx(1.4, abs=1e-15)
    assert accuracy_tpf_area([3], [0.5]) == 0.0


def _task(n: int = 12) -> tuple[object, Task]:
    example = markov_example(n, 60, seed=1)
    prompts = markov_example(n, 30, seed=2).rows
    region = np.arange(n) >= n // 2
    return example, Task(prompts, "exact", references=list(prompts), region=region, samples_per_prompt=2)


def test_map_accuracy_columns_equal_separate_evaluate_task_calls() -> None:
    example, task = _task()
    smap = sampler_map(example.model, example.rows, ["top_k", "threshold"], seed=3, frontier=False, task=task,
                       block_length=3, batch_size=5, region=task.region)
    assert smap.has_task and len(smap.rows) > 4
    assert all(row.task is not None for row in smap.rows)
    # separate calls with the rules rebuilt from the families
    lengths = [3, 3]
    rules = [default_family(name, lengths).rule(v, lengths) for name in ["top_k", "threshold"]
             for v in default_family(name, lengths).values]
    assert [repr(r) for r in rules] == [row.rule for row in smap.rows]
    for rule, row in zip(rules, smap.rows):
        alone = evaluate_task(example.model, task.prompts, rule, "exact", references=task.references,
                              region=task.region, block_length=3, seed=3, samples_per_prompt=2, batch_size=5)
        assert (row.accuracy, row.lower, row.upper, row.task_nfe) == (alone.accuracy, alone.lower, alone.upper,
                                                                      alone.nfe)
        np.testing.assert_array_equal(row.task.values, alone.values)  # type: ignore[union-attr]
    agree = smap.kl_predicts_accuracy(resamples=100)
    assert -1 <= agree.tau <= 1 and "at equal forward passes, on this task the KL ranking" in str(agree)
    areas = smap.accuracy_tpf_area()
    assert set(areas) == {"top_k", "threshold"}
    payload = json.loads(smap.to_json())
    assert {"accuracy", "lower", "upper", "task_nfe"} <= payload["rows"][0].keys()
    assert payload["kl_predicts_accuracy"]["summary"].startswith("at equal forward passes")
    with pytest.raises(ValueError, match="generates 6 positions"):
        sampler_map(example.model, example.rows, ["top_k"], frontier=False, task=task)
    no_task = sampler_map(example.model, example.rows, ["top_k"], frontier=False)
    assert not no_task.has_task and "accuracy" not in no_task.rows[0].to_dict()
    with pytest.raises(ValueError, match="no task"):
        no_task.kl_predicts_accuracy()
    with pytest.raises(TypeError, match="task"):
        sampler_map(example.model, example.rows, ["top_k"], frontier=False, task="file.jsonl")  # type: ignore[arg-type]


def _write_task(path: Path, rows: np.ndarray, start: int, stop: int) -> None:
    path.write_text("".join(json.dumps({"prompt": row, "reference": row, "region": [start, stop], "file": "x"}) + "\n"
                            for row in rows.tolist()))


def test_cli_map_task(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = markov_example(8, 10, seed=4).rows
    good = tmp_path / "task.jsonl"
    _write_task(good, rows, 4, 8)
    code = main(["map", "--task", str(good), "--families", "top_k,threshold", "--rows", "30", "--samples", "2",
                 "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["n"] == 4 and "kl_predicts_accuracy" in out and "accuracy" in out["rows"][0]
    assert out["kl_direction"].startswith("KL(data || sampler)")
    code = main(["map", "--task", str(good), "--families", "top_k,threshold", "--rows", "30"])
    text = capsys.readouterr().out
    assert code == 0 and "at equal forward passes" in text and "accuracy" in text
    bad_lines = ['{"prompt": [0, 1], "reference": [0, 1]}', "not json", ('{"prompt": [0, 1, 2], "reference": [0], '
                 '"region": [2, 9]}'), '{"prompt": [0, -1], "reference": [0, 1], "region": [0, 1]}']
    for k, line in enumerate(bad_lines):
        bad = tmp_path / f"bad{k}.jsonl"
        bad.write_text(line + "\n" + line + "\n")
        assert main(["map", "--task", str(bad), "--rows", "30"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "line 1" in err, err
    assert main(["map", "--task", str(good), "--n", "9", "--rows", "30"]) == 2
    assert "--n 9 differs" in capsys.readouterr().err
    assert main(["map", "--task", str(tmp_path / "missing.jsonl")]) == 2


def test_plot_has_two_panels_with_a_task(tmp_path: object) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib as mpl

    mpl.use("Agg")
    from mdmsched.plot import accuracy_frontier, plot_sampler_map

    example, task = _task()
    smap = sampler_map(example.model, example.rows, ["top_k", "threshold"], frontier=False, task=task,
                       region=task.region)
    ax = plot_sampler_map(smap)
    assert len(ax.figure.axes) == 2 and ax.figure.axes[1].get_xlabel().startswith("tokens per forward")
    x, y = accuracy_frontier([1, 2, 3, 4], [0.5, 0.7, 0.6, 0.1])
    assert x.tolist() == [4, 3, 2] and y.tolist() == [0.1, 0.6, 0.7]


@pytest.mark.parametrize(("start", "stop"), [(0, 5), (2, 5), (0, 3), (1, 4), (2, 3)])
def test_markov_region_entropy_against_the_dense_law(start: int, stop: int) -> None:
    from sampler_reference import conditional_entropy

    from mdmsched.curves.families import stationary_distribution
    from mdmsched.samplers.demo_model import STICKY_CHAIN, markov_region_entropy

    n, pi = 5, stationary_distribution(STICKY_CHAIN)
    p = np.zeros((3,) * n)
    for x in np.ndindex(*p.shape):
        p[x] = pi[x[0]] * np.prod([STICKY_CHAIN[a, b] for a, b in zip(x[:-1], x[1:])])
    prompt = [i for i in range(n) if not start <= i < stop]
    assert markov_region_entropy(STICKY_CHAIN, n, start, stop) == pytest.approx(conditional_entropy(p, prompt),
                                                                                 abs=1e-12)
