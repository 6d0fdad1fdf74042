"""Offline fixtures for the lm-eval plug-in and the Dream shift: a character tokenizer, tiny keyword-forward MDMs built
from random weights (no hub), and a local JSONL generation task. Import only after ``pytest.importorskip("torch")``."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch

#: Token ids: bytes 0..255; the mask token is 256 (inside the logits: TorchModel gives it probability 0).
MASK_ID = 256
VOCAB = 257


class CharTokenizer:
    """One token per character (its code point, < 256); nothing special to skip."""

    name_or_path = "char-tokenizer"

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        del add_special_tokens
        ids = [ord(c) for c in text]
        assert max(ids, default=0) < 256, "the fixture tokenizer takes Latin-1 text only"
        return ids

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        del skip_special_tokens
        return "".join(chr(i) for i in ids)


class ChatCharTokenizer(CharTokenizer):
    """:class:`CharTokenizer` with a chat template: ``<u>message</u><a>`` (the generation prompt is ``<a>``)."""

    name_or_path = "chat-char-tokenizer"
    chat_template = "<u>{content}</u>"

    def apply_chat_template(self, messages: list[dict[str, str]], tokenize: bool = False,
                            add_generation_prompt: bool = True) -> str:
        assert not tokenize
        text = "".join(f"<{m['role'][0]}>{m['content']}</{m['role'][0]}>" for m in messages)
        return text + ("<a>" if add_generation_prompt else "")


class TinyMDM(torch.nn.Module):
    """A random bidirectional transformer over the byte vocabulary, called with keywords as HF models are
    (``input_ids=``, ``attention_mask=``). ``favour`` characters get a logit bonus so that an answer "1" followed by a
    newline is likely (about 1 in 4) and "0" rare: the task's accuracy is then neither 0 nor 1. ``model_type``: the config's (``"Dream"`` for the shift
    tests)."""

    def __init__(self, seed: int = 0, favour: str = "1\n", bonus: float = 8.0, model_type: str = "tiny") -> None:
        super().__init__()
        torch.manual_seed(seed)
        width = 16
        self.config = SimpleNamespace(model_type=model_type)
        self.embed = torch.nn.Embedding(VOCAB, width)
        self.position = torch.nn.Embedding(64, width)
        self.layer = torch.nn.TransformerEncoderLayer(width, 2, 32, dropout=0.0, batch_first=True)
        self.head = torch.nn.Linear(width, VOCAB)
        bias = torch.zeros(VOCAB)
        bias[[ord(c) for c in favour]] = bonus
        self.register_buffer("bias", bias)

    def forward(self, input_ids: torch.Tensor, attention_mask: Any = None) -> Any:
        del attention_mask
        places = torch.arange(input_ids.shape[1], device=input_ids.device)
        hidden = self.layer(self.embed(input_ids) + self.position(places))
        return SimpleNamespace(logits=self.head(hidden) + self.bias)


class ContextOnlyMDM(torch.nn.Module):
    """Logits ``W[x_0, i]`` at position ``i``: a function of the first token and the position only, so the
    continuation's tokens are independent given the context and the ELBO equals the exact log-likelihood
    ``sum_i log softmax(W[x_0, i])[x_i]`` (the mask column excluded)."""

    def __init__(self, seed: int = 0, length: int = 16) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.weights = torch.nn.Parameter(torch.randn(VOCAB, length, VOCAB, generator=gen, dtype=torch.float64))
        self.config = SimpleNamespace(model_type="tiny")

    def forward(self, input_ids: torch.Tensor, attention_mask: Any = None) -> Any:
        del attention_mask
        first = input_ids[:, 0]
        return SimpleNamespace(logits=self.weights[first][:, : input_ids.shape[1]])


def write_task(folder: Path, rows: list[dict[str, str]], name: str = "mdmsched_tiny") -> Path:
    """A local generation task: ``question`` -> ``answer``, stop at a newline, accuracy by exact match of the stripped
    output (a task-local ``process_results``; nothing from a hub)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"{name}.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (folder / "utils.py").write_text(
        "def process_results(doc, results):\n"
        "    return {'acc': float(results[0].strip() == doc['answer'])}\n", encoding="utf-8")
    (folder / f"{name}.yaml").write_text(
        f"task: {name}\n"
        "dataset_path: json\n"
        "dataset_kwargs:\n"
        "  data_files:\n"
        f"    test: {json.dumps(str(data.resolve()))}\n"
        "test_split: test\n"
        "output_type: generate_until\n"
        'doc_to_text: "{{question}}"\n'
        'doc_to_target: "{{answer}}"\n'
        "generation_kwargs:\n"
        '  until: ["\\n"]\n'
        "process_results: !function utils.process_results\n"
        "metric_list:\n"
        "  - metric: acc\n"
        "    aggregation: mean\n"
        "    higher_is_better: true\n", encoding="utf-8")
    return folder


def write_choice_task(folder: Path, rows: list[dict[str, Any]], name: str = "mdmsched_choice") -> Path:
    """A local multiple-choice task (``question``, ``choices``, ``label``): lm-eval scores every choice with the
    model's ``loglikelihood`` and takes the largest (metric ``acc``, built in)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"{name}.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (folder / f"{name}.yaml").write_text(
        f"task: {name}\n"
        "dataset_path: json\n"
        "dataset_kwargs:\n"
        "  data_files:\n"
        f"    test: {json.dumps(str(data.resolve()))}\n"
        "test_split: test\n"
        "output_type: multiple_choice\n"
        'doc_to_text: "{{question}}"\n'
        'doc_to_choice: "{{choices}}"\n'
        'doc_to_target: "{{label}}"\n'
        "metric_list:\n"
        "  - metric: acc\n"
        "    aggregation: mean\n"
        "    higher_is_better: true\n", encoding="utf-8")
    return folder
