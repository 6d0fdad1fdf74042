"""``TorchModel.score_states`` and ``mdmsched.torch.generate(rule=)``: the torch loop runs every rule, and its paths,
counts and NFE are those of the NumPy loop for the same model."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_models import MarkovMDM, TinyTransformer

from mdmsched.models import ProbabilityModel
from mdmsched.samplers import (
    EntropyBounded,
    Factor,
    FloorThreshold,
    RandomOrder,
    Threshold,
    TopK,
    evaluate_sampler,
    run_rule,
)
from mdmsched.torch import TorchModel, generate

P = np.array([[0.8, 0.15, 0.05], [0.2, 0.6, 0.2], [0.25, 0.25, 0.5]])
N, PROMPT, BLOCK = 11, 2, 3  # 9 generated positions in blocks of 3


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models: torch's thread pool only adds synchronisation (several-fold slower on a shared 2-core box)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def models() -> tuple[TorchModel, ProbabilityModel]:
    module = MarkovMDM(P, N, perturb=0.4, seed=3)  # inconsistent, no exact ties between positions
    torch_model = TorchModel(module, module.mask_id, vocab=3)

    def predict(tokens, mask):  # the same logits, softmaxed in float64 on the host: the NumPy path
        x = torch.from_numpy(np.where(mask, module.mask_id, tokens))
        with torch.no_grad():
            return torch.softmax(module(x)[..., :3].double(), -1).numpy()

    return torch_model, ProbabilityModel(predict)


RULES = [TopK([1, 2]), TopK([2, 1], "margin"), TopK([1, 1, 1], "neg_entropy"), Threshold(0.5), Factor(1.0),
         EntropyBounded(0.5), FloorThreshold([1, 1, 1], 0.5), RandomOrder([2, 1]), TopK([1, 2], temperature=0.5)]


def test_score_states_match_the_numpy_reduction(models) -> None:
    torch_model, numpy_model = models
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 3, (6, N))
    mask = rng.random((6, N)) < 0.6
    a = torch_model.score_states(tokens, mask, nll=True)
    b = numpy_model.score_states(tokens, mask, nll=True)
    for field in ("max_prob", "margin", "entropy", "nll"):
        assert np.allclose(getattr(a, field)[mask], getattr(b, field)[mask], rtol=1e-12, atol=1e-13), field
    drawn = torch_model.score_states(tokens, mask, nll=False, rng=np.random.default_rng(1))
    assert drawn.nll is None and drawn.draws is not None and set(np.unique(drawn.draws[mask])) <= {0, 1, 2}


def test_score_states_of_a_float32_transformer_are_valid_and_chunking_free() -> None:
    module = TinyTransformer(vocab=7, hf_style=True)
    tokens = np.random.default_rng(2).integers(0, 6, (3, 16))
    mask = np.random.default_rng(3).random((3, 16)) < 0.5
    whole = TorchModel(module, 6, vocab=6).score_states(tokens, mask, rng=np.random.default_rng(4))
    pieces = TorchModel(module, 6, vocab=6, chunk_size=5).score_states(tokens, mask, rng=np.random.default_rng(4))
    for field in ("max_prob", "margin", "entropy", "nll", "draws"):
        assert np.array_equal(getattr(whole, field), getattr(pieces, field)), field
    assert (whole.max_prob[mask] > 1 / 6 - 1e-6).all() and (whole.margin[mask] <= whole.max_prob[mask]).all()
    assert (whole.entropy[mask] <= np.log(6) + 1e-5).all()


@pytest.mark.parametrize("rule", RULES, ids=repr)
def test_torch_generate_runs_every_rule_and_matches_the_numpy_loop(models, rule) -> None:
    torch_model, numpy_model = models
    rows = np.random.default_rng(5).integers(0, 3, (8, N))
    region = np.arange(N) >= PROMPT
    out = generate(torch_model, rows, PROMPT, None, BLOCK, rng=np.random.default_rng(6), rule=rule)
    assert (out.tokens[:, :PROMPT] == rows[:, :PROMPT]).all() and set(np.unique(out.tokens)) <= {0, 1, 2}
    assert (out.counts.sum(axis=1) == N - PROMPT).all() and np.array_equal((out.counts > 0).sum(axis=1), out.nfe)
    if rule.randomised:
        return
    # Teacher forcing the generated rows with the NumPy model retraces every step: same NFE and counts, row by row.
    free = np.flatnonzero(region)[None, :]
    again = run_rule(numpy_model, out.tokens, free, BLOCK, rule, teacher=True, rng=np.random.default_rng(0))
    assert np.array_equal(again.nfe, out.nfe) and np.array_equal(again.counts, out.counts)
    # And the torch teacher mode is evaluate_sampler on the NumPy model: same NFE, same NLL.
    forced = generate(torch_model, out.tokens, PROMPT, None, BLOCK, rng=np.random.default_rng(0), rule=rule,
                      teacher=out.tokens)
    est = evaluate_sampler(numpy_model, out.tokens, rule, region=region, block_length=BLOCK)
    assert np.array_equal(forced.nfe, est.nfe_rows)
    assert forced.nll is not None and np.allclose(forced.nll, est.nll_rows, rtol=1e-12, atol=1e-12)


def test_generate_with_a_rule_checks_its_arguments(models) -> None:
    torch_model, _ = models
    rows = np.zeros((2, N), dtype=np.int64)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="num_transfer_tokens"):
        generate(torch_model, rows, PROMPT, np.array([[3]]), BLOCK, rng=rng, rule=Threshold())
    with pytest.raises(TypeError, match="rule"):
        generate(torch_model, rows, PROMPT, None, BLOCK, rng=rng, rule=[1, 2])
    with pytest.raises(ValueError, match="num_transfer_tokens"):
        generate(torch_model, rows, PROMPT, None, BLOCK, rng=rng)
    with pytest.raises(ValueError, match="block_length"):
        generate(torch_model, rows, PROMPT, None, 0, rng=rng, rule=Threshold())
    with pytest.raises(ValueError, match="schedule"):
        generate(torch_model, rows, PROMPT, None, BLOCK, rng=rng, rule=TopK([2, 2]))
    with pytest.raises(TypeError, match="rng"):
        generate(torch_model, rows, PROMPT, None, BLOCK, rng=0, rule=Threshold())


def test_uniform_draws_match_the_numpy_inverse_cdf_and_evaluate_task_is_batch_free(models) -> None:
    """``score_states(uniforms=)``: TorchModel draws the inverse CDF at the given uniforms exactly as the NumPy path
    (away from CDF boundaries), so evaluate_task on a torch model is bit-identical across batch sizes."""
    from mdmsched.samplers import evaluate_task

    torch_model, numpy_model = models
    rng = np.random.default_rng(5)
    tokens = rng.integers(0, 3, (6, N))
    mask = rng.random((6, N)) < 0.6
    u = rng.random((6, N))
    a = torch_model.score_states(tokens, mask, nll=False, uniforms=u)
    b = numpy_model.score_states(tokens, mask, nll=False, uniforms=u)
    np.testing.assert_array_equal(a.draws[mask], b.draws[mask])
    c = torch_model.score_states(tokens, mask, nll=False, uniforms=1 - u + 0.0)
    assert (c.draws[mask] != a.draws[mask]).any()  # the draws follow the uniforms
    with pytest.raises(ValueError, match="uniforms"):
        torch_model.score_states(tokens, mask, nll=False, uniforms=u + 1.0)
    prompts = rng.integers(0, 3, (5, N))
    region = np.arange(N) >= 1
    runs = [evaluate_task(torch_model, prompts, Threshold(0.5), "exact", references=list(prompts), region=region,
                          samples_per_prompt=3, seed=2, batch_size=size) for size in (1, 4, 15)]
    for other in runs[1:]:
        np.testing.assert_array_equal(other.outputs, runs[0].outputs)
        np.testing.assert_array_equal(other.nfe_rows, runs[0].nfe_rows)
