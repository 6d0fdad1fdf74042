"""A HuggingFace-style MDM loaded through the ``trust_remote_code`` path, scored and scheduled by mdmsched (CPU, seconds,
no downloads).

LLaDA and Dream ship their modelling code with the weights (``trust_remote_code=True``). With the real checkpoint::

    model = AutoModel.from_pretrained("GSAI-ML/LLaDA-8B-Instruct", trust_remote_code=True, dtype=torch.bfloat16)

This example takes the same code path offline: it writes a tiny "remote code" repository (a config class and a model
class, as such repositories do) to a temporary folder, builds the model from its config with
``AutoModel.from_config(config, trust_remote_code=True)`` (random weights: nothing is downloaded) and then does what a
user does with the real one: wrap it in ``TorchModel`` (keyword inputs through ``hf_forward``, LLaDA's mask id 126336
inside its 126,464-token vocabulary, bf16 logits, training mode handled), estimate its masked cross-entropy curve,
solve for the optimal schedule and hand it to a LLaDA-style loop.

Run: ``python examples/hf_remote_code_model.py`` (needs torch and transformers).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

CONFIG_CODE = '''
from transformers import PretrainedConfig


class TinyMDMConfig(PretrainedConfig):
    model_type = "tiny_mdm"

    def __init__(self, vocab_size=126464, hidden_size=8, mask_token_id=126336, **kwargs):
        self.vocab_size, self.hidden_size, self.mask_token_id = vocab_size, hidden_size, mask_token_id
        super().__init__(**kwargs)
'''

MODEL_CODE = '''
import torch
from transformers import PreTrainedModel
from transformers.modeling_outputs import MaskedLMOutput

from .configuration_tiny_mdm import TinyMDMConfig


class TinyMDM(PreTrainedModel):
    """Bidirectional toy MDM: embeddings, one attention layer, dropout, a bf16 head over the whole vocabulary."""

    config_class = TinyMDMConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = torch.nn.Embedding(config.vocab_size, config.hidden_size)
        self.attn = torch.nn.MultiheadAttention(config.hidden_size, 2, batch_first=True)
        self.drop = torch.nn.Dropout(0.3)
        self.head = torch.nn.Linear(config.hidden_size, config.vocab_size).to(torch.bfloat16)
        self.post_init()

    def forward(self, input_ids, attention_mask=None):
        h = self.embed(input_ids)
        pad = None if attention_mask is None else attention_mask == 0
        h = h + self.attn(h, h, h, key_padding_mask=pad, need_weights=False)[0]
        return MaskedLMOutput(logits=self.head(self.drop(h).to(torch.bfloat16)))
'''


def write_remote_repository(folder: Path) -> None:
    """The files a ``trust_remote_code`` repository holds: config.json with an ``auto_map``, and the code."""
    (folder / "configuration_tiny_mdm.py").write_text(CONFIG_CODE, encoding="utf-8")
    (folder / "modeling_tiny_mdm.py").write_text(MODEL_CODE, encoding="utf-8")
    config = {"model_type": "tiny_mdm", "vocab_size": 126464, "hidden_size": 8, "mask_token_id": 126336,
              "auto_map": {"AutoConfig": "configuration_tiny_mdm.TinyMDMConfig",
                           "AutoModel": "modeling_tiny_mdm.TinyMDM"}}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")


def main(rows: int = 16, length: int = 12, steps: int = 4) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="mdmsched-remote-code-"))
    os.environ.setdefault("HF_MODULES_CACHE", str(work / "modules"))  # where transformers copies remote code
    import numpy as np
    import torch
    from transformers import AutoConfig, AutoModel

    import mdmsched
    from mdmsched.adapters import hf_forward, transfer_tokens
    from mdmsched.models.torch import TorchModel

    repo = work / "repo"
    repo.mkdir()
    write_remote_repository(repo)
    config = AutoConfig.from_pretrained(repo, trust_remote_code=True)
    torch.manual_seed(0)
    model = AutoModel.from_config(config, trust_remote_code=True)  # random weights, in training mode
    print(f"{type(model).__name__} from remote code; training mode: {model.training}; vocab {config.vocab_size}")

    scorer = TorchModel(model, mask_id=config.mask_token_id, forward=hf_forward(model))  # evaluates in eval mode
    data = np.random.default_rng(0).integers(0, 1000, (rows, length))  # yours: tokenised validation rows
    est = mdmsched.estimate_curve(scorer, data, batch_size=8, seed=0)
    schedule = mdmsched.optimal_schedule(est, steps)
    print(f"estimated curve over {length} positions; optimal {steps}-step schedule {schedule.tolist()}")
    print(f"model still in training mode afterwards: {model.training}")

    get_num_transfer_tokens = transfer_tokens(schedule)  # the one line a LLaDA-style generate() changes
    table = get_num_transfer_tokens(torch.ones((2, length), dtype=torch.bool), steps)
    print("get_num_transfer_tokens ->", table.tolist())
    return {"schedule": schedule.tolist(), "table": table.tolist(), "training": model.training}


if __name__ == "__main__":
    main()
