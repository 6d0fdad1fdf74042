"""TorchModel guards for the models users load (issues 18.4, 19, 20.5): training mode, absent and meta devices,
checked scores, keyword forwards of HF models built from configs, half-precision logits, LLaDA's and Dream's mask ids
inside large vocabularies."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from mdmsched.adapters import hf_forward
from mdmsched.models.torch import TorchModel


class Dropout(torch.nn.Module):
    """Logits through a heavy dropout: random in training mode, fixed in eval mode."""

    def __init__(self, q: int) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(q + 1, q, _weight=torch.randn(q + 1, q, generator=torch.Generator().manual_seed(0)))
        self.drop = torch.nn.Dropout(0.5)

    def forward(self, x: Any) -> Any:
        return self.drop(self.embed(x)).double()


def _batch(q: int, n: int = 6, rows: int = 3, seed: int = 0) -> tuple[Any, Any]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, q, (rows, n)), rng.random((rows, n)) < 0.5


def test_training_mode_is_switched_off_for_scoring_and_restored() -> None:
    module = Dropout(5).train()
    module.embed.eval()  # a mixed state must come back as it was
    model = TorchModel(module, 5, vocab=5)
    tokens, mask = _batch(5)
    first, second = model.score(tokens, mask), model.score(tokens, mask)
    assert np.array_equal(first, second)
    assert module.training and module.drop.training and not module.embed.training
    expected = TorchModel(Dropout(5).eval(), 5, vocab=5).score(tokens, mask)  # a fresh copy in eval mode
    np.testing.assert_allclose(first, expected, rtol=1e-12)
    assert not np.array_equal(module(torch.from_numpy(np.where(mask, 5, tokens))).detach().numpy(),
                              module(torch.from_numpy(np.where(mask, 5, tokens))).detach().numpy())  # still training


def test_hf_model_built_from_a_config_with_keyword_inputs() -> None:
    transformers = pytest.importorskip("transformers")
    cfg = transformers.BertConfig(vocab_size=30, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                  intermediate_size=32, max_position_embeddings=16, hidden_dropout_prob=0.5)
    torch.manual_seed(0)
    bert = transformers.BertForMaskedLM(cfg)
    assert bert.training  # what users get from a config
    seen: list[Any] = []
    bert.register_forward_pre_hook(lambda _m, args, kwargs: seen.append(sorted(kwargs)), with_kwargs=True)
    model = TorchModel(bert, 29, vocab=29, forward=hf_forward(bert))
    tokens, mask = _batch(29, n=8)
    a, b = model.score(tokens, mask), model.score(tokens, mask)
    assert np.array_equal(a, b) and bert.training
    assert seen == [["attention_mask", "input_ids"]] * 2
    bert.eval()
    x = torch.from_numpy(np.where(mask, 29, tokens))
    logp = torch.log_softmax(bert(input_ids=x).logits[..., :29].double(), dim=-1).detach().numpy()
    want = np.where(mask, -np.take_along_axis(logp, tokens[..., None], axis=-1)[..., 0], 0.0)
    np.testing.assert_allclose(a, want, rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="attention_mask must be a bool"):
        hf_forward(bert, attention_mask=1)  # type: ignore[arg-type]


def test_devices_that_cannot_hold_numbers_are_refused() -> None:
    module = torch.nn.Linear(2, 2)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device 'cuda' is not usable here"):
            TorchModel(module, 0, device="cuda")
    with pytest.raises(ValueError, match="meta"):
        TorchModel(module, 0, device="meta")
    with pytest.raises(ValueError, match="meta"):
        TorchModel(torch.nn.Linear(2, 2, device="meta"), 0)  # the module's own device
    with pytest.raises(ValueError, match="not usable"):
        TorchModel(module, 0, device="nonsense")
    with pytest.raises(TypeError, match="device must be"):
        TorchModel(module, 0, device=1.5)  # type: ignore[arg-type]


def test_scores_pass_the_score_checks() -> None:
    class Huge(torch.nn.Module):
        def forward(self, x: Any) -> Any:  # a finite logit gap of 1e300 nats: not a log-loss
            out = torch.zeros((*x.shape, 3), dtype=torch.float64)
            out[..., 0] = 1e300
            return out

    tokens = np.ones((1, 4), dtype=np.int64)
    with pytest.raises(ValueError, match="nats at a masked position"):
        TorchModel(Huge(), 3, vocab=3).score(tokens, np.ones((1, 4), bool))


@pytest.mark.parametrize(("vocab", "mask_id", "dtype"), [(126464, 126336, torch.bfloat16),  # LLaDA
                                                         (152064, 151666, torch.float16)])  # Dream
def test_large_vocabularies_with_the_mask_inside_and_half_logits(vocab: int, mask_id: int, dtype: Any) -> None:
    gen = torch.Generator().manual_seed(vocab)
    table = torch.randn(8, vocab, generator=gen).to(dtype)

    class Head(torch.nn.Module):
        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            assert attention_mask.shape == input_ids.shape
            return table[input_ids % 8].unsqueeze(0).expand(input_ids.shape[0], -1, -1) if input_ids.ndim == 1 \
                else table[input_ids % 8]

    head = Head()
    model = TorchModel(head, mask_id, forward=hf_forward(head))
    tokens = np.array([[5, 100000, 7, 126000]], dtype=np.int64)
    mask = np.array([[True, False, True, True]])
    got = model.score(tokens, mask)
    x = np.where(mask, mask_id, tokens)
    logits = table[torch.from_numpy(x % 8)].float().double()
    logits[..., mask_id] = -np.inf  # the mask token is not a prediction
    want = -torch.log_softmax(logits, dim=-1).numpy()
    want = np.where(mask, np.take_along_axis(want, tokens[..., None], axis=-1)[..., 0], 0.0)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    with pytest.raises(ValueError, match="mask token id"):
        model.score(np.array([[mask_id, 1, 2, 3]]), mask)


def test_remote_code_example_runs(tmp_path: Any) -> None:
    """examples/hf_remote_code_model.py end to end: the trust_remote_code path offline, a model built from its config
    (training mode), scored in eval mode and left in training mode, its optimal schedule through the LLaDA drop-in."""
    pytest.importorskip("transformers")
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "hf_remote_code_model.py"
    code = f"import json, runpy; print(json.dumps(runpy.run_path({str(path)!r})['main'](rows=8, length=8, steps=3)))"
    env = {**os.environ, "HF_MODULES_CACHE": str(tmp_path / "modules")}
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert sum(result["schedule"]) == 8 and len(result["schedule"]) == 3
    assert result["table"] == [result["schedule"]] * 2 and result["training"] is True
    assert "training mode: True" in out and (tmp_path / "modules").is_dir()
