"""Dream's shifted logits (issue 28.3): Dream keeps its autoregressive head, so the logits at position i predict token
i + 1 and Dream's sampler moves them one position right. ``hf_forward(shift="dream")`` does the same; the package's
loop on such a forward reproduces a rewrite of Dream's own ``maskgit_plus`` loop (temperature 0) on a tiny config-built
model, and a Dream model without a chosen shift is refused."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lm_eval_fixtures import MASK_ID, CharTokenizer, TinyMDM

from mdmsched.adapters import hf_forward
from mdmsched.models.state_scores import StateScores
from mdmsched.models.torch import TorchModel
from mdmsched.samplers.generate import generate_with_rule
from mdmsched.samplers.rules import TopK


def dream_loop(module: Any, prompt: torch.Tensor, gen_length: int, steps: int,
               eps: float = 1e-3) -> tuple[torch.Tensor, list[int]]:
    """Dream's ``_sample`` with ``alg="maskgit_plus"``, temperature 0 and no ``alg_temp``, rewritten from its formulas
    (HKUNLP/Dream ``generation_utils.py``): logits shifted right by one; confidence = max probability, candidate =
    argmax; step i reveals the ``int(m (1 - s/t))`` most confident masked positions (all of them at the last step) on
    ``t, s`` from ``linspace(1, eps, steps + 1)``, ``m`` the masked count per row. The mask token's logit is removed
    (as mdmsched's TorchModel does). Returns the rows and the counts revealed per step."""
    x = torch.cat([prompt, torch.full((prompt.shape[0], gen_length), MASK_ID)], dim=1)
    times = torch.linspace(1, eps, steps + 1)
    counts = []
    for i in range(steps):
        masked = x == MASK_ID
        logits = module(input_ids=x).logits
        logits = torch.cat([logits[:, :1], logits[:, :-1]], dim=1)
        logits[..., MASK_ID] = -torch.inf
        confidence, best = torch.softmax(logits.double(), dim=-1).max(dim=-1)
        per_row = masked.sum() / masked.shape[0]
        k = int(per_row * (1 - times[i + 1] / times[i])) if i < steps - 1 else int(per_row)
        counts.append(k)
        if k > 0:
            ranked = torch.where(masked, confidence, -torch.inf)
            chosen = torch.topk(ranked, k, dim=-1).indices
            x = x.scatter(1, chosen, best.gather(1, chosen))
    return x, counts


class ArgmaxDraws:
    """A TorchModel whose draws are the argmax of the same forward (Dream at temperature 0): the loop's choice of
    positions comes from the TorchModel's scores, the committed tokens from ``forward``."""

    def __init__(self, scorer: TorchModel, forward: Any) -> None:
        self.scorer, self.forward = scorer, forward

    def score_states(self, tokens: Any, mask: Any, *, nll: bool = True, rng: Any = None,
                     uniforms: Any = None) -> StateScores:
        out = self.scorer.score_states(tokens, mask, nll=nll)
        if rng is None and uniforms is None:
            return out
        with torch.no_grad():
            logits = self.forward(torch.from_numpy(np.where(mask, MASK_ID, tokens)))
        logits = (logits.logits if hasattr(logits, "logits") else logits).clone()
        logits[..., MASK_ID] = -torch.inf
        draws = np.where(mask, logits.argmax(dim=-1).numpy(), 0).astype(np.int64)
        return StateScores(out.max_prob, out.margin, out.entropy, out.nll, draws)


def _mdmsched_run(module: Any, prompt: torch.Tensor, gen_length: int, counts: list[int], shift: str) -> np.ndarray:
    forward = hf_forward(module, attention_mask=False, shift=shift)
    model = ArgmaxDraws(TorchModel(module, MASK_ID, forward=forward), forward)
    rows = np.concatenate([prompt.numpy(), np.zeros((prompt.shape[0], gen_length), dtype=np.int64)], axis=1)
    run = generate_with_rule(model, rows, prompt.shape[1], None, TopK([c for c in counts if c > 0]),
                             rng=np.random.default_rng(0))
    return run.tokens


@pytest.mark.parametrize(("gen_length", "steps"), [(8, 4), (12, 5), (6, 6)])
def test_shifted_forward_reproduces_dreams_loop(gen_length: int, steps: int) -> None:
    module = TinyMDM(seed=gen_length, favour="", bonus=0.0, model_type="Dream").eval()
    prompt = torch.tensor([CharTokenizer().encode(text) for text in ("Hello", "Dream", "shift")])
    with torch.no_grad():
        expected, counts = dream_loop(module, prompt, gen_length, steps)
    got = _mdmsched_run(module, prompt, gen_length, counts, "dream")
    np.testing.assert_array_equal(got, expected.numpy())
    # the same loop reading the logits unshifted generates something else: the test sees the shift
    assert not np.array_equal(_mdmsched_run(module, prompt, gen_length, counts, "none"), expected.numpy())


class NextTokenHead(torch.nn.Module):
    """An autoregressive-style head: the logits at position i are ``W[i + 1]`` (they predict token i + 1)."""

    def __init__(self, length: int, vocab: int) -> None:
        super().__init__()
        self.weights = torch.nn.Parameter(torch.randn(length + 1, vocab, dtype=torch.float64))

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.weights[1: input_ids.shape[1] + 1].expand(input_ids.shape[0], -1, -1)


def test_dream_shift_scores_each_token_with_its_own_prediction() -> None:
    torch.manual_seed(0)
    head = NextTokenHead(6, 5)
    scorer = TorchModel(head, 4, forward=hf_forward(head, attention_mask=False, shift="dream"))
    tokens = np.array([[0, 1, 2, 3, 0, 1]])
    mask = np.array([[False, True, True, False, True, True]])
    got = scorer.score(tokens, mask, "cross_entropy")
    logp = torch.log_softmax(head.weights.detach()[:, :4], dim=-1)  # the mask column 4 removed
    for j in np.flatnonzero(mask[0]):
        assert got[0, j] == pytest.approx(-float(logp[j, tokens[0, j]]), rel=1e-12)  # W[j] predicts token j


def test_a_dream_model_must_choose_its_shift() -> None:
    dream = TinyMDM(model_type="Dream")
    with pytest.raises(ValueError, match="shift='dream'"):
        hf_forward(dream)
    with pytest.raises(ValueError, match="shift='dream'"):
        TorchModel(dream, MASK_ID)
    with pytest.warns(UserWarning, match="Dream"):
        TorchModel(dream, MASK_ID, forward=lambda x: dream(input_ids=x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TorchModel(dream, MASK_ID, forward=hf_forward(dream, shift="dream"))
        TorchModel(dream, MASK_ID, forward=hf_forward(dream, shift="none"))  # a knowing choice is not refused
        TorchModel(TinyMDM(), MASK_ID)  # not Dream: nothing to choose
    assert hf_forward(dream, shift="dream").shift == "dream"  # type: ignore[attr-defined]
    assert hf_forward(TinyMDM()).shift == "none"  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="shift"):
        hf_forward(dream, shift="left")
    with pytest.raises(TypeError, match="shift"):
        hf_forward(dream, shift=1)  # type: ignore[arg-type]


def test_the_lm_eval_adapter_uses_the_same_switch() -> None:
    plugin = pytest.importorskip("mdmsched.adapters.lm_eval")
    dream = TinyMDM(model_type="Dream")
    with pytest.raises(ValueError, match="shift"):
        plugin.MdmschedLM(model=dream, tokenizer=CharTokenizer(), mask_id=MASK_ID, gen_length=4, rule="threshold")
    lm = plugin.MdmschedLM(model=dream, tokenizer=CharTokenizer(), mask_id=MASK_ID, gen_length=4, rule="threshold",
                           shift="dream")
    assert lm.get_model_info()["mdmsched"]["shift"] == "dream"
    assert lm.scorer._forward.shift == "dream"


def test_dream_needs_its_first_position_revealed() -> None:
    dream = TinyMDM(model_type="Dream")
    scorer = TorchModel(dream, MASK_ID, forward=hf_forward(dream, shift="dream"))
    tokens = np.array([[72, 105, 33]])
    with pytest.raises(ValueError, match="position 0 revealed"):
        scorer.score(tokens, np.array([[True, True, False]]), "cross_entropy")
    assert scorer.score(tokens, np.array([[False, True, True]]), "cross_entropy")[0, 0] == 0.0
    plain = TorchModel(dream, MASK_ID, forward=hf_forward(dream, shift="none"))
    plain.score(tokens, np.array([[True, True, False]]), "cross_entropy")  # unshifted logits: position 0 is fine
