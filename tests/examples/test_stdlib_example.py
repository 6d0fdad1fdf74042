"""The standard-library example (examples/stdlib_*.py, issue 24 item 4): the by-file split, the corpus reader, the
task items and JSONL, the scorers on hand-made rows, the scorers' independence from the model, the acceptance
check's computation on a hand-made model, and (``--full``) the whole pipeline at a reduced size."""

from __future__ import annotations

import ast
import hashlib
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mdmsched.io

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))

import stdlib_data
import stdlib_scorers as sc
import stdlib_task

M = sc.MASK_ID


def _bucket(path: str) -> int:
    """The split rule written independently: hex digest, first 16 hex digits, mod 100."""
    return int(hashlib.sha256(path.encode()).hexdigest()[:16], 16) % 100


def test_split_matches_the_rule_and_is_deterministic():
    paths = [f"pkg{i % 7}/mod_{i}.py" for i in range(400)] + ["json/decoder.py", "asyncio/tasks.py", "os.py"]
    for path in paths:
        b = _bucket(path)
        expected = "train" if b < 80 else "validation" if b < 90 else "test"
        assert stdlib_data.split_of(path) == expected == stdlib_data.split_of(path)
    counts = {s: sum(stdlib_data.split_of(p) == s for p in paths) for s in stdlib_data.SPLITS}
    assert counts["train"] > counts["validation"] > 0 and counts["test"] > 0  # about 80/10/10 over 403 paths
    with pytest.raises(TypeError, match="relative_path"):
        stdlib_data.split_of(Path("os.py"))  # type: ignore[arg-type]


def _fake_stdlib(root: Path) -> dict[str, bytes]:
    """A tiny tree: kept files and every kind of excluded one."""
    kept = {"a.py": b"x = 1\n", "pkg/b.py": b"def f():\n    return 2\n", "pkg/sub/c.py": b"import os\n"}
    dropped = ["test/x.py", "pkg/tests/y.py", "site-packages/z/w.py", "idlelib/idle_test/t.py", "test_foo.py",
               "pkg/test_bar.py", "notes.txt"]
    for rel, blob in kept.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(blob)
    for rel in dropped:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"y = 0\n")
    return kept


def test_corpus_files_exclude_tests_and_third_party(tmp_path):
    kept = _fake_stdlib(tmp_path)
    assert stdlib_data.corpus_files(tmp_path) == sorted(kept)


def test_corpus_is_split_by_file_disjointly_and_bytes_round_trip(tmp_path):
    kept = _fake_stdlib(tmp_path)
    corpus = stdlib_data.load_corpus(tmp_path)
    seen = [f for s in stdlib_data.SPLITS for f in corpus.files[s]]
    assert sorted(seen) == sorted(kept)  # every file once: disjoint and complete
    for s in stdlib_data.SPLITS:
        for i, rel in enumerate(corpus.files[s]):
            assert stdlib_data.split_of(rel) == s
            assert corpus.file_bytes(s, i) == kept[rel]
        assert corpus.data[s].size == sum(len(kept[r]) for r in corpus.files[s])
    assert corpus.summary()["total_bytes"] == sum(map(len, kept.values()))


def test_the_real_stdlib_split_is_disjoint_by_file():
    files = stdlib_data.corpus_files()
    assert len(files) > 300 and len(set(files)) == len(files)
    assert not any(f.startswith(("test/", "site-packages")) or "/tests/" in f for f in files)
    by_split = {s: {f for f in files if stdlib_data.split_of(f) == s} for s in stdlib_data.SPLITS}
    assert sum(map(len, by_split.values())) == len(files) and all(by_split.values())


def _row(text: bytes, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    ref = np.frombuffer(text, dtype=np.uint8).astype(np.int64)
    prompt = ref.copy()
    prompt[start:stop] = M
    return prompt, ref


def _fill(prompt: np.ndarray, fill: bytes) -> np.ndarray:
    out = prompt.copy()
    out[out == M] = np.frombuffer(fill, dtype=np.uint8)
    return out


TEXT = b"def f(a):\n    y = foo(a, 'b')\n    return y\n"
START = TEXT.index(b"foo(a")  # mask "foo(a"
PROMPT, REF = _row(TEXT, START, START + 5)


def test_scorers_on_hand_made_rows():
    assert sc.exact_span(PROMPT, REF, REF) == 1.0 and sc.line_tokenizes(PROMPT, REF, REF) == 1.0
    wrong_ok = _fill(PROMPT, b"bar(b")  # different code that still tokenizes
    assert sc.exact_span(PROMPT, wrong_ok, REF) == 0.0 and sc.line_tokenizes(PROMPT, wrong_ok, REF) == 1.0
    assert sc.span_byte_accuracy(PROMPT, wrong_ok, REF) == pytest.approx(1 / 5)  # only "(" matches
    quote = _fill(PROMPT, b"foo(\"")  # an unclosed string: does not tokenize
    assert sc.line_tokenizes(PROMPT, quote, REF) == 0.0 and sc.span_byte_accuracy(PROMPT, quote, REF) == 0.8
    assert sc.line_tokenizes(PROMPT, _fill(PROMPT, b"foo((a"[:5]), REF) == 0.0  # "foo((" leaves a bracket open
    assert sc.line_tokenizes(PROMPT, _fill(PROMPT, b"fo\no("), REF) == 0.0  # breaks the line in two
    assert sc.line_tokenizes(PROMPT, _fill(PROMPT, b"fo\xffo("), REF) == 0.0  # not UTF-8
    still_masked = PROMPT.copy()
    assert sc.line_tokenizes(PROMPT, still_masked, REF) == 0.0
    for score in (sc.exact_span, sc.line_tokenizes, sc.span_byte_accuracy):
        with pytest.raises(ValueError, match="mask at least one"):
            score(REF, REF, REF)
        with pytest.raises(TypeError, match="output_row"):
            score(PROMPT, REF.astype(float), REF)


def test_line_bounds_come_from_the_prompt():
    start, stop = sc.line_bounds(PROMPT)
    assert TEXT[start:stop] == b"    y = foo(a, 'b')"
    assert sc.line_bounds(_row(b"abc", 1, 2)[0]) == (0, 3)  # no newline on either side: the whole row


def test_scorer_module_imports_neither_torch_nor_the_model():
    tree = ast.parse((EXAMPLES / "stdlib_scorers.py").read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= {"__future__", "io", "tokenize", "numpy"}, imported
    code = (f"import sys; sys.path.insert(0, {str(EXAMPLES)!r}); import stdlib_scorers; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'stdlib_model', 'mdmsched')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def _fake_lines_corpus(tmp_path: Path) -> stdlib_data.Corpus:
    lines = [f"    value_{i} = compute(alpha, beta_{i})" if i % 2 else f"    # old = compute(alpha, gamma_{i})"
             for i in range(60)]  # half the lines are comments holding code characters: never chosen
    blob = ("\n".join(lines) + "\n").encode()
    for name in ("m1.py", "m2.py", "m3.py", "m4.py", "m5.py", "m6.py", "m7.py", "m8.py", "m9.py", "m10.py"):
        (tmp_path / name).write_bytes(blob)
    return stdlib_data.load_corpus(tmp_path)


def test_task_items_mask_a_span_of_a_real_line_and_round_trip_jsonl(tmp_path):
    (tmp_path / "lib").mkdir()
    corpus = _fake_lines_corpus(tmp_path / "lib")
    split = next(s for s in stdlib_data.SPLITS if corpus.files[s])
    items = stdlib_task.make_items(corpus, 20, n=48, span=6, split=split, seed=3)  # rows barely longer than lines
    assert items.prompts.shape == (20, 48) and items.region.sum() == 6
    start = (48 - 6) // 2
    assert np.array_equal(np.flatnonzero(items.region), np.arange(start, start + 6))
    whole = corpus.data[split].tobytes()
    for p, r in zip(items.prompts, items.references):
        assert np.array_equal(p[~items.region], r[~items.region]) and (p[items.region] == M).all()
        text = r.astype(np.uint8).tobytes()
        assert text in whole  # the reference is real file content
        s, e = sc.line_bounds(p)
        line = text[s:e]
        assert re.fullmatch(rb"    value_\d+ = compute\(alpha, beta_\d+\)", line), line  # whole, code, no comment
        assert start - s >= 4  # the span starts in the line's text, after its 4-space indentation
        assert sc.exact_span(p, r, r) == 1.0
    stdlib_task.write_jsonl(items, tmp_path / "task.jsonl")
    back = stdlib_task.read_jsonl(tmp_path / "task.jsonl")
    assert np.array_equal(back.prompts, items.prompts) and np.array_equal(back.references, items.references)
    assert np.array_equal(back.spans, items.spans) and back.files == items.files and back.lines == items.lines
    task = mdmsched.io.load_task_jsonl(str(tmp_path / "task.jsonl"))  # what `mdmsched map --task` reads
    assert np.array_equal(np.asarray(task.prompts), items.prompts)
    assert np.array_equal(np.asarray(task.region).reshape(-1, 48)[0], items.region)
    with pytest.raises(ValueError, match="count"):
        stdlib_task.make_items(corpus, 10**6, n=48, span=6, split=split)


def _mask_fraction_model():
    """Hand-made: q(byte 7) = 1 - 0.9 f with f the fraction of masked positions in the row, the rest spread evenly."""
    torch = pytest.importorskip("torch")

    def forward(x):
        f = (x == M).double().mean(dim=1, keepdim=True)  # (B, 1)
        p7 = 1 - 0.9 * f
        probs = ((1 - p7) / 255).unsqueeze(-1).expand(x.shape[0], x.shape[1], 256).clone()
        probs[:, :, 7] = p7
        return probs.log()

    assert torch.is_tensor(forward(torch.zeros((1, 2), dtype=torch.int64)))
    return forward


def test_acceptance_computation_on_a_hand_made_model():
    net = _mask_fraction_model()
    import stdlib_mdm
    import stdlib_model

    windows = np.full((30, 40), 7, dtype=np.int64)
    for ratio in (0.15, 0.9, 1.0):
        m = max(1, round(ratio * 40))
        want = -math.log(1 - 0.9 * m / 40)
        got = stdlib_model.masked_cross_entropy(net, windows, ratio, seed=0, batch=7)
        assert got == pytest.approx(want, abs=2e-5)  # float32 logits
    low = stdlib_model.masked_cross_entropy(net, windows, 0.15, seed=0)
    high = stdlib_model.masked_cross_entropy(net, windows, 0.9, seed=0)
    passed, gap = stdlib_mdm.acceptance(low, high, 0.5)
    assert gap == pytest.approx(-math.log(1 - 0.9 * 36 / 40) + math.log(1 - 0.9 * 6 / 40), abs=4e-5)
    assert passed == (gap >= 0.5) and passed  # gap = 1.66 nats
    assert stdlib_mdm.acceptance(2.9, 3.2, 0.5) == (False, pytest.approx(0.3))
    with pytest.raises(ValueError, match="ratio"):
        stdlib_model.masked_cross_entropy(net, windows, 0.0, seed=0)


@pytest.mark.full
def test_pipeline_end_to_end_at_a_reduced_size(tmp_path):
    import stdlib_mdm
    import stdlib_task_map

    out = tmp_path / "ckpt"
    trained = stdlib_mdm.main(["--minutes", "0.5", "--eval-rows", "64", "--eval-every", "10", "--no-check",
                               "--out", str(out)])
    assert (out / "model.pt").exists() and (out / "curve.csv").exists() and trained["steps"] >= 1
    assert trained["acceptance"]["gap"] == pytest.approx(trained["acceptance"]["ce_90"] - trained["acceptance"]["ce_15"])
    result = stdlib_task_map.main(["--checkpoint", str(out), "--items", "16", "--calibration-items", "8",
                                   "--budgets", "2", "4", "--jsonl", str(tmp_path / "task.jsonl"),
                                   "--out", str(tmp_path / "task.json")])
    assert len(result["rows"]) == 14 and len(result["paired"]) == 2
    for row in result["rows"]:
        assert 0 <= row["exact"] <= row["byte_accuracy"] + 1e-12 <= 1 + 1e-12 and 0 <= row["tokenizes"] <= 1
        assert math.isfinite(row["nll"]) and row["sample_nfe"] >= 1
    assert len(stdlib_task.read_jsonl(tmp_path / "task.jsonl")) == 16
