"""The one batch-range rule of every ``run_*shard`` (``_shards.as_run_batches``) and the row spans of the row-batched
plans (``RowBatches.row_span``), on the sampler and task shards."""

from __future__ import annotations

import numpy as np
import pytest

from mdmsched.models import MarkovPredictor
from mdmsched.samplers import TopK
from mdmsched.samplers.evaluate import merge_sampler_shards, plan_sampler, run_sampler_shard
from mdmsched.samplers.task import plan_task, run_task_shard

P = np.array([[0.9, 0.1], [0.2, 0.8]])


def _setup(rows: int = 7, n: int = 6, batch_size: int = 3):
    model = MarkovPredictor(P, n)
    data = model.sample(rows, np.random.default_rng(0))
    return model, data, plan_sampler(data.shape, batch_size=batch_size), TopK([2] * (n // 2))


def test_row_spans_are_the_batches_rows_the_last_one_short() -> None:
    for rows, size in ((7, 3), (6, 3), (2, 5), (10, 1)):
        plan = plan_sampler((rows, 4), batch_size=size)
        for start in range(plan.num_batches + 1):
            for stop in range(start, plan.num_batches + 1):
                want = [r for r in range(rows) if start <= r // size < stop]
                assert list(plan.row_span(range(start, stop))) == want, (rows, size, start, stop)


@pytest.mark.parametrize("runner", ["sampler", "task"])
def test_run_shards_take_batches_as_one_rule(runner: str) -> None:
    model, data, plan, rule = _setup()
    if runner == "sampler":
        def run(batches):  # type: ignore[no-untyped-def]
            return run_sampler_shard(model, data, rule, plan, batches)
    else:
        task_plan = plan_task(data.shape, batch_size=3)

        def run(batches):  # type: ignore[no-untyped-def]
            return run_task_shard(model, data, rule, "exact", list(data), None, task_plan, batches)
    assert run(None).batches == range(3)  # None: every batch
    assert len(run(range(1, 1)).nfe) == 0  # empty: nothing to do
    assert run(range(2, 3)).first_row == 6  # the last batch holds one row
    for wrong_kind in ("0:1", [0], 1.0):
        with pytest.raises(TypeError, match="batches must be a range"):
            run(wrong_kind)
    for wrong_value in (range(0, 3, 2), range(2, 5), range(-1, 1), range(2, 1)):
        with pytest.raises(ValueError, match=r"contiguous range within 0\.\.3"):
            run(wrong_value)


def test_a_merge_refuses_an_empty_shard() -> None:
    model, data, plan, rule = _setup()
    whole = run_sampler_shard(model, data, rule, plan)
    empty = run_sampler_shard(model, data, rule, plan, range(1, 1))
    with pytest.raises(ValueError, match="non-empty contiguous range"):
        merge_sampler_shards(plan, [whole, empty], rule)
    assert merge_sampler_shards(plan, [whole], rule).nll_rows.shape == (7,)
