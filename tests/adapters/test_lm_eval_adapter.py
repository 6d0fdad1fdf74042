"""The lm-eval plug-in end to end, offline: lm-eval's own ``simple_evaluate`` on a local JSONL task with a tiny
config-built model and a character tokenizer gives the accuracy, outputs and forward passes of
``mdmsched.samplers.evaluate_task`` on the same prompts, seeds and rule; bad model_args are one ValueError; the
loglikelihood is the ELBO (exact where the continuation's tokens are independent given the context)."""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
lm_eval = pytest.importorskip("lm_eval")

from lm_eval.api.instance import Instance
from lm_eval.api.registry import get_model
from lm_eval.tasks import TaskManager
from lm_eval_fixtures import (
    MASK_ID,
    CharTokenizer,
    ChatCharTokenizer,
    ContextOnlyMDM,
    TinyMDM,
    write_choice_task,
    write_task,
)

import mdmsched.adapters.lm_eval as plugin
from mdmsched.models.torch import TorchModel
from mdmsched.samplers.rules import EntropyBounded, FloorThreshold, RandomOrder, Threshold, TopK
from mdmsched.samplers.task import evaluate_task

PROMPTS = 24
GEN_LENGTH = 4


@pytest.fixture(scope="module")
def task_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")  # a local JSON file: nothing may come from a hub
    rows = [{"question": f"Q: {i:02d}\nA:", "answer": str(i % 2)} for i in range(PROMPTS)]
    return write_task(tmp_path_factory.mktemp("lm_eval_task"), rows)


@pytest.fixture(scope="module")
def tasks(task_folder: Path) -> TaskManager:
    """The local task only (lm-eval's built-in task index is not read: it costs seconds per TaskManager)."""
    return TaskManager(include_path=str(task_folder), include_defaults=False)


def _run(tasks: TaskManager, model: Any, **args: Any) -> dict[str, Any]:
    out: dict[str, Any] = lm_eval.simple_evaluate(
        model="mdmsched", model_args={"model": model, "tokenizer": CharTokenizer(), "mask_id": MASK_ID,
                                      "gen_length": GEN_LENGTH, **args},
        tasks=["mdmsched_tiny"], task_manager=tasks, log_samples=True)
    return out


def _reference(model: Any, rule: Any, block_length: int | None, seed: int, chat: bool = False) -> Any:
    """The same prompts through evaluate_task: the score decodes the generated tokens, cuts at the first newline and
    compares the stripped text with the answer (what the task's process_results does to lm-eval's output). ``chat``:
    the prompts in the fixture tokenizer's chat template."""
    tok = ChatCharTokenizer()
    texts = [f"Q: {i:02d}\nA:" for i in range(PROMPTS)]
    if chat:
        texts = [tok.apply_chat_template([{"role": "user", "content": t}]) for t in texts]
    contexts = [tok.encode(t) for t in texts]
    width = len(contexts[0])
    prompts = np.zeros((PROMPTS, width + GEN_LENGTH), dtype=np.int64)
    prompts[:, :width] = contexts
    region = np.arange(width + GEN_LENGTH) >= width

    def score(prompt: Any, output: Any, reference: str) -> float:
        del prompt
        text = tok.decode(output[width:].tolist()).split("\n", 1)[0]
        return float(text.strip() == reference)

    scorer = TorchModel(model, MASK_ID)  # TinyMDM takes input_ids as its first argument: no hf_forward needed
    est = evaluate_task(scorer, prompts, rule, score, references=[str(i % 2) for i in range(PROMPTS)], region=region,
                        block_length=block_length, seed=seed, batch_size=5)
    texts = [tok.decode(row[width:].tolist()).split("\n", 1)[0] for row in est.outputs]
    return est, texts


CASES = [
    ({"rule": "top_k", "steps": 4, "block_length": 2}, TopK([[1, 1], [1, 1]]), 2),
    ({"rule": "threshold:0.5"}, Threshold(0.5), None),
    ({"rule": "random", "steps": 2}, RandomOrder([2, 2]), None),
    ({"rule": "entropy_bounded:0.5", "block_length": 2}, EntropyBounded(0.5), 2),
]


@pytest.mark.parametrize(("args", "rule", "block_length"), CASES, ids=[c[0]["rule"] for c in CASES])
def test_simple_evaluate_matches_evaluate_task(tasks: TaskManager, args: dict[str, Any], rule: Any,
                                               block_length: int | None, caplog: pytest.LogCaptureFixture) -> None:
    model = TinyMDM(seed=1)
    with caplog.at_level(logging.INFO, logger="lm_eval.mdmsched"):
        results = _run(tasks, model, seed=7, batch_size=3, **args)
    est, texts = _reference(model, rule, block_length, seed=7)
    accuracy = results["results"]["mdmsched_tiny"]["acc,none"]
    samples = sorted(results["samples"]["mdmsched_tiny"], key=lambda s: s["doc_id"])
    assert [s["filtered_resps"][0] for s in samples] == texts
    assert accuracy == est.accuracy
    info = results["config"]["mdmsched"]
    assert info["nfe_per_request"] == est.nfe_rows.tolist()
    assert info["mean_nfe"] == pytest.approx(est.nfe, rel=1e-12)
    assert f"mdmsched: {PROMPTS} requests, mean NFE {est.nfe:.3f}" in caplog.text  # and logged
    assert all(1 <= v <= GEN_LENGTH for v in info["nfe_per_request"])
    assert 0.0 < accuracy < 1.0  # the fixture is informative: neither always right nor always wrong
    if args["rule"] == "top_k":
        assert info["mean_nfe"] == 4.0  # four passes of one token


def test_schedule_file_and_floor_threshold(tasks: TaskManager, tmp_path: Path) -> None:
    """schedule= takes `mdmsched solve --json` output; with floor_threshold the schedule's counts are the floor."""
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"command": "solve", "source": "test", "n": 4, "tc": 0.0,
                                "schedule": {"name": "s", "n": 4, "k": 2, "sizes": [1, 3], "breakpoints": [1, 4],
                                             "error": 0.0}}))
    model = TinyMDM(seed=2)
    results = _run(tasks, model, rule="floor_threshold:0.3", schedule=str(plan), seed=3)
    est, texts = _reference(model, FloorThreshold([1, 3], 0.3), None, seed=3)
    samples = sorted(results["samples"]["mdmsched_tiny"], key=lambda s: s["doc_id"])
    assert [s["filtered_resps"][0] for s in samples] == texts
    assert results["results"]["mdmsched_tiny"]["acc,none"] == est.accuracy


def test_chat_template(tasks: TaskManager) -> None:
    """--apply_chat_template: the context is the tokenizer's chat template of the question (lm-eval calls the
    plug-in's apply_chat_template), and outputs equal evaluate_task's on the templated prompts."""
    model = TinyMDM(seed=1)
    results = lm_eval.simple_evaluate(
        model="mdmsched", model_args={"model": model, "tokenizer": ChatCharTokenizer(), "mask_id": MASK_ID,
                                      "gen_length": GEN_LENGTH, "rule": "threshold:0.5", "seed": 2},
        tasks=["mdmsched_tiny"], task_manager=tasks, log_samples=True, apply_chat_template=True)
    est, texts = _reference(model, Threshold(0.5), None, seed=2, chat=True)
    samples = sorted(results["samples"]["mdmsched_tiny"], key=lambda s: s["doc_id"])
    assert str(samples[0]["arguments"][0][0]).startswith("<u>Q: 00")
    assert [s["filtered_resps"][0] for s in samples] == texts
    assert results["results"]["mdmsched_tiny"]["acc,none"] == est.accuracy


@pytest.mark.full  # lm-eval's command line indexes its thousands of built-in tasks: ~15 s
def test_the_command_line_wrapper_registers_the_model(task_folder: Path, monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    """`python -m mdmsched.adapters.lm_eval_cli run --model mdmsched ...` reaches the plug-in: here a bad rule stops
    it with the plug-in's own error (lm-eval's command line alone has no model 'mdmsched')."""
    from mdmsched.adapters import lm_eval_cli

    monkeypatch.setattr("sys.argv", ["lm_eval", "run", "--model", "mdmsched", "--model_args",
                                     "pretrained=/no/such/model,rule=threshold:1.5", "--tasks", "mdmsched_tiny",
                                     "--include_path", str(task_folder), "--output_path", str(tmp_path)])
    with pytest.raises(ValueError, match=re.escape("rule='threshold:1.5'")):
        lm_eval_cli.main()


def test_registered_beside_the_builtin_models() -> None:
    assert get_model("mdmsched") is plugin.MdmschedLM
    assert get_model("dummy").__name__ == "DummyLM"  # the built-in lazy entries still resolve


@pytest.mark.parametrize(("args", "named"), [
    ("rule=threshold:1.5", "rule='threshold:1.5'"),
    ("rule=greedy", "rule='greedy'"),
    ("rule=top_k,schedule=/no/such/plan.json", "schedule='/no/such/plan.json'"),
    ("rule=top_k,table=/no/such/table.json", "table= needs steps="),
    ("rule=top_k", "needs its counts"),
    ("rule=threshold,steps=8", "steps=8"),
    ("rule=top_k,steps=3,block_length=2", "steps=3"),
    ("rule=top_k,steps=4,gen_length=0", "gen_length=0"),
    ("rule=top_k,steps=4,frobnicate=1", "frobnicate"),
])
def test_bad_model_args_are_one_value_error(args: str, named: str) -> None:
    """Refused before any model is loaded (pretrained= names nothing that exists), as lm-eval builds the model from a
    --model_args string (simple_evaluate's own call, with its additional config)."""
    with pytest.raises(ValueError, match=re.escape(named)):
        get_model("mdmsched").create_from_arg_string(f"pretrained=/no/such/model,gen_length=4,{args}",
                                                     {"batch_size": None, "max_batch_size": None, "device": None})


def test_a_bad_model_arg_stops_simple_evaluate(tasks: TaskManager) -> None:
    with pytest.raises(ValueError, match=re.escape("rule='threshold:1.5'")):
        lm_eval.simple_evaluate(model="mdmsched", model_args="pretrained=/no/such/model,rule=threshold:1.5",
                                tasks=["mdmsched_tiny"], task_manager=tasks)


def test_bad_model_values_name_their_argument() -> None:
    tok = CharTokenizer()
    for kwargs, named in [({"temperature": 0}, "temperature="), ({"dtype": "int8"}, "dtype="),
                          ({"mask_id": -1}, "mask_id="), ({"seed": "x"}, "seed="),
                          ({"masks_per_request": 1}, "masks_per_request=")]:
        with pytest.raises(ValueError, match=named):
            plugin.MdmschedLM(model=TinyMDM(), tokenizer=tok, gen_length=4, rule="threshold",
                              **{"mask_id": MASK_ID, **kwargs})
    with pytest.raises(ValueError, match="tokenizer="):
        plugin.MdmschedLM(model=TinyMDM(), mask_id=MASK_ID, rule="threshold")


def test_cut_at_stops() -> None:
    assert plugin.cut_at_stops("12\n34<end>", ["<end>", "\n"]) == "12"
    assert plugin.cut_at_stops("12<end>3\n", ["\n", "<end>"]) == "12"
    assert plugin.cut_at_stops("1234", "\n") == "1234"
    assert plugin.cut_at_stops("1234", None) == "1234"
    assert plugin.cut_at_stops("1234", ["", "3"]) == "12"


def _exact_log_likelihood(model: ContextOnlyMDM, context: list[int], continuation: list[int]) -> float:
    """sum_i log softmax(W[x_0, i])[x_i] over the continuation, the mask column removed (computed here in float64)."""
    total = 0.0
    for offset, token in enumerate(continuation):
        logits = model.weights[context[0], len(context) + offset].detach().clone()
        logits[MASK_ID] = -np.inf
        total += float(torch.log_softmax(logits, dim=0)[token])
    return total


def test_loglikelihood_is_the_elbo() -> None:
    """Independent continuation tokens: ELBO = log-likelihood exactly; greedy iff every token is the argmax."""
    tok = CharTokenizer()
    model = ContextOnlyMDM(seed=4)
    lm = plugin.MdmschedLM(model=model, tokenizer=tok, mask_id=MASK_ID, gen_length=4, rule="threshold",
                           masks_per_request=3, seed=5)
    context = "ab"
    argmax = [int(torch.argmax(model.weights[ord("a"), 2 + i, :MASK_ID])) for i in range(3)]
    best = "".join(chr(t) for t in argmax)
    requests = [Instance("loglikelihood", {}, (context, cont), i) for i, cont in enumerate(["x", "xyz", best])]
    got = lm.loglikelihood(requests)
    for (value, greedy), req in zip(got, requests):
        cont_ids = tok.encode(req.args[1])
        assert value == pytest.approx(_exact_log_likelihood(model, tok.encode(context), cont_ids), rel=1e-9, abs=1e-9)
        assert greedy == (cont_ids == argmax[: len(cont_ids)])
    assert got[2][1]  # the argmax continuation is greedy
    assert lm.loglikelihood_rows == (1 + 3 + 3) * 3 + 3


def test_loglikelihood_is_a_bound_on_a_dependent_model() -> None:
    """A context-dependent model: the ELBO estimate (many masks) is at most the exact log-likelihood of the
    one-token-per-step random-order sampler, log E_order prod q, computed here by enumerating both orders."""
    tok = CharTokenizer()
    model = TinyMDM(seed=3, favour="")
    lm = plugin.MdmschedLM(model=model, tokenizer=tok, mask_id=MASK_ID, gen_length=4, rule="threshold",
                           masks_per_request=64, seed=1)
    scorer = TorchModel(model, MASK_ID)
    row = np.array([tok.encode("ab" + "cd")], dtype=np.int64)

    def nll(masked: list[int]) -> Any:
        mask = np.zeros(row.shape, dtype=bool)
        mask[0, masked] = True
        return scorer.score(row, mask, "cross_entropy")[0]

    both = nll([2, 3])
    orders = np.array([both[2] + nll([3])[3], both[3] + nll([2])[2]])  # -log q along the orders (2, 3) and (3, 2)
    assert abs(orders[0] - orders[1]) > 1e-3  # the model makes the order matter
    (value, _), = lm.loglikelihood([Instance("loglikelihood", {}, ("ab", "cd"), 0)])
    # each of the 64 masks reports its order's -log q (nested estimator, two positions), so the estimate is a
    # k/64 mixture of the two; its expectation, the ELBO -mean(orders), is below log E_order prod q (Jensen)
    k = (-value - orders[1]) / (orders[0] - orders[1]) * 64
    assert abs(k - round(k)) < 1e-6 and 0 < round(k) < 64
    assert -orders.mean() <= float(np.log(np.mean(np.exp(-orders))))


def test_multiple_choice_through_simple_evaluate(tmp_path: Path) -> None:
    """lm-eval's multiple-choice accuracy from the plug-in's loglikelihood: every logged score is the exact
    log-likelihood (the ELBO is exact for ContextOnlyMDM) and the accuracy is the argmax's."""
    gen = np.random.default_rng(6)
    rows = [{"question": f"{chr(65 + i)}?", "choices": ["".join(gen.choice(list("xyz"), size=int(k)))
                                                          for k in gen.integers(1, 4, size=3)],
             "label": int(gen.integers(0, 3))} for i in range(12)]
    folder = write_choice_task(tmp_path / "choice", rows)
    model = ContextOnlyMDM(seed=7)
    results = lm_eval.simple_evaluate(
        model="mdmsched", model_args={"model": model, "tokenizer": CharTokenizer(), "mask_id": MASK_ID,
                                      "gen_length": 4, "rule": "threshold", "masks_per_request": 2},
        tasks=["mdmsched_choice"], task_manager=TaskManager(include_path=str(folder), include_defaults=False),
        log_samples=True)
    tok = CharTokenizer()
    hits = []
    for sample in sorted(results["samples"]["mdmsched_choice"], key=lambda s: s["doc_id"]):
        exact = []
        for (context, continuation), (value, _) in zip(sample["arguments"], (r[0] for r in sample["resps"])):
            exact.append(_exact_log_likelihood(model, tok.encode(context), tok.encode(continuation)))
            assert float(value) == pytest.approx(exact[-1], rel=1e-9, abs=1e-9)
        hits.append(float(int(np.argmax(exact)) == sample["doc"]["label"]))
    assert results["results"]["mdmsched_choice"]["acc,none"] == pytest.approx(np.mean(hits), abs=1e-12)
    assert 0.0 < np.mean(hits) < 1.0


def test_rolling_is_refused_clearly() -> None:
    lm = plugin.MdmschedLM(model=TinyMDM(), tokenizer=CharTokenizer(), mask_id=MASK_ID, gen_length=4, rule="threshold")
    with pytest.raises(NotImplementedError, match="loglikelihood_rolling"):
        lm.loglikelihood_rolling([Instance("loglikelihood_rolling", {}, ("text",), 0)])


def test_temperature_divides_the_logits() -> None:
    """temperature=T: the plug-in's model scores with logits / T (checked against softmax(logits / T) directly)."""
    model = TinyMDM(seed=5)
    lm = plugin.MdmschedLM(model=model, tokenizer=CharTokenizer(), mask_id=MASK_ID, gen_length=4, rule="threshold",
                           temperature=2.5)
    tokens = np.array([[81, 58, 32, 49, 10]])
    mask = np.array([[False, False, True, True, True]])
    got = lm.scorer.score(tokens, mask, "cross_entropy")
    with torch.no_grad():
        logits = model(input_ids=torch.from_numpy(np.where(mask, MASK_ID, tokens))).logits[0].double() / 2.5
    logits[:, MASK_ID] = -torch.inf
    want = -torch.log_softmax(logits, dim=-1)[torch.arange(5), torch.from_numpy(tokens[0])].numpy()
    np.testing.assert_allclose(got[0, 2:], want[2:], rtol=1e-5)
