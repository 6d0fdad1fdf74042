"""diffusers ``LLaDA2Pipeline`` + :class:`PlannedBlockScheduler` end to end (issue 18.1): the real pipeline with a
tiny randomly initialised transformers model on CPU; model calls counted by a forward hook and commits per call read
from the pipeline's own ``transfer_index`` (its step callback), independently of the scheduler's trace."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
diffusers = pytest.importorskip("diffusers")

from transformers import LlamaConfig, LlamaForCausalLM

import mdmsched
from mdmsched.adapters import block_layout
from mdmsched.adapters.diffusers import PlannedBlockScheduler
from mdmsched.schedule import BlockSchedule, Schedule
from mdmsched.schedules import practice

VOCAB, MASK = 40, 39


def _model(confident: bool = False) -> Any:
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=VOCAB, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512)
    model = LlamaForCausalLM(cfg).eval()
    if confident:  # near-one-hot predictions: every token is above any threshold < 1
        with torch.no_grad():
            model.lm_head.weight.mul_(1e4)
    return model


class Run:
    """One pipeline run: model calls and the pipeline's committed tokens per call and row."""

    def __init__(self, scheduler: PlannedBlockScheduler, ids: Any, confident: bool = False, model: Any = None,
                 **kwargs: Any) -> None:
        model = _model(confident) if model is None else model
        self.calls = 0

        def count(*_: Any) -> None:
            self.calls += 1

        model.register_forward_hook(count)
        pipe = diffusers.LLaDA2Pipeline(model=model, scheduler=scheduler, tokenizer=None)
        pipe.set_progress_bar_config(disable=True)
        self.commits: list[list[int]] = []

        def callback(_pipe: Any, _step: int, _t: int, tensors: dict[str, Any]) -> dict[str, Any]:
            self.commits.append(tensors["transfer_index"].sum(dim=-1).tolist())
            return {}

        out = pipe(input_ids=ids, mask_token_id=MASK, output_type="seq", callback_on_step_end=callback,
                   callback_on_step_end_tensor_inputs=["transfer_index"], **kwargs)
        self.sequences = out.sequences


def _ids(batch: int, prompt: int) -> Any:
    return torch.randint(0, MASK, (batch, prompt), generator=torch.Generator().manual_seed(prompt))


def _uneven_plan(lengths: list[int], total_steps: int) -> BlockSchedule:
    """mdmsched's optimal split of ``total_steps`` over blocks of ``lengths`` (a block's curve: a Markov-like
    curve rising with its length, so longer blocks get more steps), each block solved optimally."""
    curves = [np.concatenate(([0.0], np.cumsum(np.linspace(0.1, 1.0, m - 1) ** 2))) for m in lengths]
    budgets = mdmsched.optimal_block_split(curves, total_steps)
    return BlockSchedule(tuple(mdmsched.optimal_schedule(z, k) for z, k in zip(curves, budgets)))


@pytest.mark.parametrize(("prompt", "gen", "block", "steps"), [(5, 24, 8, 9), (3, 13, 16, 5), (11, 40, 8, 15)])
def test_exact_counts_and_calls_per_block(prompt: int, gen: int, block: int, steps: int) -> None:
    lengths = block_layout(prompt, gen, block)
    plan = _uneven_plan(lengths, steps)
    assert len({b.k for b in plan.blocks}) > 1 or len(lengths) == 1  # budgets really differ per block
    scheduler = PlannedBlockScheduler(plan, block_length=block)
    run = Run(scheduler, _ids(2, prompt), **scheduler.call_kwargs(prompt_length=prompt, gen_length=gen))
    flat = [int(p) for p in plan.passes]
    assert run.calls == len(flat) == steps
    assert run.commits == [[p, p] for p in flat]
    assert scheduler.calls == [b.k for b in plan.blocks] and scheduler.complete
    assert run.sequences.shape == (2, gen) and not bool((run.sequences == MASK).any())


def test_a_schedule_runs_in_every_block_zero_passes_included() -> None:
    plan = practice.llada_blocks(24, 8, 30).blocks[0]  # 10 passes over 8 positions: two commit nothing
    assert 0 in plan.passes.tolist()
    scheduler = PlannedBlockScheduler(plan)
    run = Run(scheduler, _ids(3, 16), **scheduler.call_kwargs(prompt_length=16, gen_length=16))
    assert run.calls == 2 * len(plan.passes)
    assert run.commits == [[int(p)] * 3 for p in plan.passes] * 2
    assert not bool((run.sequences == MASK).any())


def test_the_parent_scheduler_spends_an_extra_call_which_the_plan_does_not() -> None:
    """The defect the adapter removes: diffusers' own scheduler runs one more forward in a block with fewer steps
    than num_inference_steps (reproduced here so the test fails if diffusers changes under the pin)."""
    plan = BlockSchedule((Schedule([4, 4]), Schedule([2, 2, 2, 2])))
    parent = diffusers.BlockRefinementScheduler(block_length=8)
    parent_run = Run(parent, _ids(1, 8), gen_length=16, block_length=8, num_inference_steps=4, threshold=2.0,
                     editing_threshold=None)
    assert parent_run.calls == 8  # 4 + 4: its equal split, whatever a user wanted
    planned = PlannedBlockScheduler(plan)
    run = Run(planned, _ids(1, 8), **planned.call_kwargs(prompt_length=8))
    assert run.calls == 6 and run.commits == [[4], [4], [2], [2], [2], [2]]


def test_floor_mode_commits_at_least_the_counts_and_stops_when_revealed() -> None:
    plan = BlockSchedule((Schedule([1, 1, 1, 1, 4]),) + (Schedule([2, 2, 2, 2]),) * 2)
    scheduler = PlannedBlockScheduler(plan, threshold=0.5)
    run = Run(scheduler, _ids(2, 8), confident=True, **scheduler.call_kwargs(prompt_length=8))
    assert run.calls == 3  # a confident model reveals each block in its first call
    assert run.commits == [[8, 8]] * 3
    assert not bool((run.sequences == MASK).any())
    # an unconfident model (random weights: probabilities ~ 1/40) gets exactly the floor
    scheduler = PlannedBlockScheduler(plan, threshold=0.99)
    run = Run(scheduler, _ids(2, 8), **scheduler.call_kwargs(prompt_length=8))
    assert run.commits == [[int(p)] * 2 for p in plan.passes] and run.calls == len(plan.passes)


def test_floor_mode_each_call_commits_at_least_its_count() -> None:
    plan = BlockSchedule((Schedule([3, 5]), Schedule([1, 2, 5]), Schedule([6, 2])))
    scheduler = PlannedBlockScheduler(plan, threshold=0.0)  # threshold 0: every masked token is above it
    run = Run(scheduler, _ids(2, 8), **scheduler.call_kwargs(prompt_length=8))
    assert run.calls == 3 and run.commits == [[8, 8]] * 3
    assert not bool((run.sequences == MASK).any())


def test_pipeline_arguments_that_contradict_the_plan_are_refused() -> None:
    plan = BlockSchedule((Schedule([3, 5]), Schedule([1, 2, 5])))
    ids = _ids(1, 8)
    good = PlannedBlockScheduler(plan).call_kwargs(prompt_length=8)
    assert good == {"gen_length": 16, "block_length": 8, "num_inference_steps": 3, "threshold": 2.0,
                    "editing_threshold": None}
    cases = [({"threshold": 0.7}, "threshold=0.7"), ({"editing_threshold": 0.5}, "editing_threshold"),
             ({"num_inference_steps": 10}, "num_inference_steps=10"), ({"num_inference_steps": 2}, "num_inference"),
             ({"block_length": 4}, "block_length=4"), ({"gen_length": 24}, "block 3")]
    for change, message in cases:
        with pytest.raises(ValueError, match=message):
            Run(PlannedBlockScheduler(plan), ids, **{**good, **change})
    short = PlannedBlockScheduler(plan)
    Run(short, ids, **{**good, "gen_length": 8})  # one block fewer: only visible after the run
    assert short.calls == [2] and not short.complete
    full = PlannedBlockScheduler(plan)
    Run(full, ids, **{**good, "gen_length": 12})  # the second block's tail is filled and dropped: the plan runs
    assert full.calls == [2, 3] and full.complete
    with pytest.raises(ValueError, match="threshold"):  # the pipeline's defaults: refused, not silently ignored
        Run(PlannedBlockScheduler(plan), ids, gen_length=16, block_length=8, num_inference_steps=3)
    with pytest.raises(ValueError, match="block 0 of the pipeline has 5 masked"):  # prompt 11: 5 masks in block 1
        Run(PlannedBlockScheduler(plan), _ids(1, 11), **good)
    with pytest.raises(ValueError, match=r"threshold=0\.5, but this scheduler was built for floor mode"):
        Run(PlannedBlockScheduler(plan, threshold=0.9), ids, **{**good, "threshold": 0.5})


def test_call_kwargs_and_constructor_errors() -> None:
    plan = BlockSchedule((Schedule([2, 3]), Schedule([8])))
    scheduler = PlannedBlockScheduler(plan)
    assert scheduler.call_kwargs(prompt_length=3)["gen_length"] == 13
    assert scheduler.call_kwargs(prompt_length=11)["gen_length"] == 13  # 11 + 13 = 24: three blocks of 8 from 0
    assert scheduler.call_kwargs(prompt_length=3, gen_length=10)["gen_length"] == 10  # the tail is filled, dropped
    with pytest.raises(ValueError, match="prompt_length=0"):
        scheduler.call_kwargs(prompt_length=0)
    with pytest.raises(ValueError, match="use a BlockSchedule"):
        PlannedBlockScheduler(Schedule([4, 4])).call_kwargs(prompt_length=3, gen_length=16)
    with pytest.raises(TypeError, match="plan must be a mdmsched Schedule"):
        PlannedBlockScheduler([4, 4])
    with pytest.raises(ValueError, match="only the first may be shorter"):
        PlannedBlockScheduler(BlockSchedule((Schedule([8]), Schedule([4]))))
    with pytest.raises(ValueError, match="block_length must be its n = 8"):
        PlannedBlockScheduler(Schedule([4, 4]), block_length=16)
    with pytest.raises(ValueError, match="must lie in"):
        PlannedBlockScheduler(plan, threshold=1.5)
    with pytest.raises(TypeError, match="prompt_length"):
        scheduler.call_kwargs(prompt_length=2.0)


class Spy(diffusers.BlockRefinementScheduler):  # type: ignore[misc]
    """diffusers' own scheduler, recording the masked positions of each block at its first call."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.seen: list[int] = []

    def step(self, model_output: Any, timestep: Any, sample: Any, **kw: Any) -> Any:
        if int(timestep) == 0:
            self.seen.append(int((sample == MASK).sum()))
        return super().step(model_output, timestep, sample, **kw)


def test_block_layout_matches_the_pipeline() -> None:
    """block_layout against the masks the real pipeline holds at each block's first call (plain BlockRefinement
    scheduler, random prompt and generation lengths)."""
    rng = np.random.default_rng(1)
    for _ in range(4):
        prompt, gen, block = int(rng.integers(0, 20)), int(rng.integers(1, 30)), int(rng.integers(1, 9))
        spy = Spy(block_length=block)
        Run(spy, _ids(1, prompt) if prompt else torch.zeros((1, 0), dtype=torch.long),
            gen_length=gen, block_length=block, num_inference_steps=1, threshold=2.0, editing_threshold=None)
        assert spy.seen == block_layout(prompt, gen, block), (prompt, gen, block)


def _peaked_model(scale: float) -> Any:
    """The tiny random model with sharpened predictions: some tokens clear a 0.9 threshold, others not."""
    model = _model()
    with torch.no_grad():
        model.lm_head.weight.mul_(scale)
    return model


def test_closed_loop_floor_is_replanned_per_row_from_the_state_reached() -> None:
    z = np.concatenate(([0.0], np.cumsum(np.linspace(0.1, 1.0, 15) ** 2)))
    policy = mdmsched.closed_loop_policy(z, 6)
    plan = policy.schedule().sizes.tolist()
    scheduler = PlannedBlockScheduler(policy, threshold=0.9)
    ids = _ids(4, 16)
    run = Run(scheduler, ids, model=_peaked_model(600.0), **scheduler.call_kwargs(prompt_length=16, gen_length=16))
    commits = np.array(run.commits)  # (calls, rows)
    assert run.calls <= policy.k and (commits.sum(axis=0) == 16).all()
    masked = 16 - np.vstack([np.zeros((1, 4), dtype=int), np.cumsum(commits, axis=0)[:-1]])
    lowered = False
    for j in range(commits.shape[0]):
        floors = np.minimum(policy.step_counts(masked[j], j), masked[j])
        assert (commits[j] >= floors).all(), (j, commits[j], floors)  # at least the re-planned floor
        # Below the open-loop plan's count (and below what is left): only a re-planned floor does that.
        lowered |= bool(((commits[j] < np.minimum(plan[j], masked[j])) & (masked[j] > 0)).any())
    assert lowered, commits.tolist()
    assert len({tuple(c) for c in commits.T.tolist()}) > 1  # rows took different paths: the grouped step ran
    # Each row alone (batch of 1, temperature 0) gives the same tokens and commits: grouping keeps rows apart.
    for r in range(4):
        alone = PlannedBlockScheduler(policy, threshold=0.9)
        one = Run(alone, ids[r:r + 1], model=_peaked_model(600.0),
                  **alone.call_kwargs(prompt_length=16, gen_length=16))
        assert torch.equal(one.sequences[0], run.sequences[r])
        assert [c[0] for c in one.commits] == [int(c) for c in commits[:len(one.commits), r]]
