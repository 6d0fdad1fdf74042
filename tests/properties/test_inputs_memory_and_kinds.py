"""Issue 28 items 11-12 (Python side): memory checked before the first array of a caller's size, and the README's
rule for exception kinds (a wrong kind of value is a TypeError, a wrong value a ValueError) where the probes found swaps.
Each test failed before its fix."""

from __future__ import annotations

import numpy as np
import pytest

import mdmsched
from mdmsched.models.interface import ProbabilityModel, check_scores
from mdmsched.samplers import RandomOrder, plan_sampler, sample_with_rule

CHAIN = mdmsched.MarkovPredictor(np.array([[0.9, 0.1], [0.2, 0.8]]), 4)


@pytest.mark.parametrize("length", [5 * 10**8, 10**12])
def test_plan_sampler_refuses_before_allocating(length: int) -> None:
    with pytest.raises(ValueError, match="GiB"):  # was: 3.9 GiB allocated first (5e8), MemoryError (1e12)
        plan_sampler((2, length))


def test_sample_with_rule_refuses_a_huge_length_before_allocating() -> None:
    with pytest.raises(ValueError, match="the samples"):  # was: numpy's MemoryError
        sample_with_rule(CHAIN, RandomOrder([1]), 2, n=10**12)


@pytest.mark.parametrize("dtype", [bool, complex, object, "U1", "datetime64[D]"])
def test_check_scores_calls_a_wrong_kind_of_output_a_type_error(dtype: object) -> None:
    mask = np.ones((2, 3), dtype=bool)
    with pytest.raises(TypeError, match=r"model\.score returned dtype"):
        check_scores(np.zeros((2, 3)).astype(dtype), mask)


@pytest.mark.parametrize("prompts", [np.zeros((1, 2)), "ab"])
def test_simulate_prompts_of_a_wrong_kind(prompts: object) -> None:
    with pytest.raises(TypeError, match="prompts must be integer"):
        mdmsched.simulate(np.full((2, 2), 0.25), [1, 1], 3, prompts=prompts)


def test_schedule_values_of_the_right_kind_but_wrong_value() -> None:
    with pytest.raises(ValueError, match="at least one block"):
        mdmsched.BlockSchedule(())
    with pytest.raises(ValueError, match="within int64"):
        mdmsched.Schedule.from_json(f'{{"sizes": [{2**70}]}}')


def test_a_predictor_whose_vocabulary_changes_is_refused() -> None:
    calls = []

    def predict(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
        calls.append(1)
        q = 2 if len(calls) == 1 else 3
        return np.full((*tokens.shape, q), 1.0 / q)

    model = ProbabilityModel(predict)
    tokens, mask = np.zeros((1, 4), dtype=np.int64), np.ones((1, 4), dtype=bool)
    model.score(tokens, mask)
    with pytest.raises(ValueError, match="vocab_size = 2"):
        model.score(tokens, mask)
    with pytest.raises(ValueError, match="vocab_size = 5"):
        ProbabilityModel(lambda t, m: np.full((*t.shape, 2), 0.5), vocab_size=5).score(tokens, mask)


def test_meta_device_logits_are_a_value_error() -> None:
    torch = pytest.importorskip("torch")
    from mdmsched.models.torch import TorchModel

    class Meta(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.zeros(x.shape[0], x.shape[1], 3, device="meta")

    model = TorchModel(Meta(), 3, vocab=3)
    with pytest.raises(ValueError, match="meta"):  # was: torch's RuntimeError from .item()
        model.score(np.zeros((1, 4), dtype=np.int64), np.ones((1, 4), dtype=bool))


def test_transfer_tokens_refuses_a_huge_step_count_before_allocating() -> None:
    torch = pytest.importorskip("torch")
    from mdmsched.adapters.llada import transfer_tokens

    table = transfer_tokens(mdmsched.Schedule([2, 2]))
    with pytest.raises(ValueError, match="GiB"):  # was: torch's RuntimeError
        table(torch.ones((1, 4), dtype=torch.bool), 10**12)
