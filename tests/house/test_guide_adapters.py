"""The guide's adapters page (docs/guide/adapters.md, "Plug it into your sampler") runs as pasted: one section per stack."""

from __future__ import annotations

import contextlib
import io
import re
import runpy
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "guide" / "adapters.md"


def _snippets() -> dict[str, str]:
    section = PAGE.read_text(encoding="utf-8")
    out = {}
    for part in section.split("\n## ")[1:]:
        title = part.splitlines()[0].strip()
        blocks = re.findall(r"```python\n(.*?)```", part, re.DOTALL)
        assert len(blocks) == 1, title
        out[title] = blocks[0]
    return out


def test_one_section_per_stack() -> None:
    assert list(_snippets()) == ["diffusers", "LLaDA-style generate", "Dream / MDLM", "serving"]


def _run(title: str, tmp_path: Path) -> str:
    """The snippet as a script in ``tmp_path`` (the serving one writes table.json there), run in this process."""
    script = tmp_path / "snippet.py"
    script.write_text(_snippets()[title], encoding="utf-8")
    buffer = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(buffer):
        patch.chdir(tmp_path)
        runpy.run_path(str(script), run_name="readme")
    return buffer.getvalue()


def test_diffusers_snippet(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("diffusers")
    out = _run("diffusers", tmp_path)
    budgets, calls = ([int(v) for v in group.split(",")] for group in re.findall(r"\[([^\]]*)\]", out))
    assert budgets == calls and sum(calls) == 16
    code = _snippets()["diffusers"]
    glue = code[code.index("scheduler = PlannedBlockScheduler"):].splitlines()[:3]
    assert len(glue) == 3 and glue[-1].startswith("out = pipe(")  # the user's glue is three lines


def test_llada_snippet(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    out = _run("LLaDA-style generate", tmp_path)
    assert "[16, 16,  0,  0,  0,  0]" in out


def test_dream_snippet(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    assert _run("Dream / MDLM", tmp_path).startswith("True ")


def test_serving_snippet(tmp_path: Path) -> None:
    out = _run("serving", tmp_path)
    assert (tmp_path / "table.json").is_file() and out.startswith("[")
